/* Building Ethernet, IPv4, IPv6, TCP and UDP frames with real checksums. */
#ifndef TAPSHIM_FRAME_H
#define TAPSHIM_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* TCP flags (RFC 793, section 3.1). */
#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_PSH	0x08
#define TCP_ACK	0x10

#define FRAME_LINK_ETHER	1	/* LINKTYPE_ETHERNET */
#define FRAME_LINK_RAW		2	/* LINKTYPE_RAW: bare IPv4 or IPv6 */

/* Largest headers: Ethernet 14 + IPv6 40 + TCP 60. */
#define FRAME_HEADROOM	114

struct frame_ep {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		ip[16];
	uint16_t	port;
	uint8_t		mac[6];
};

struct frame_tcp {
	uint32_t	 seq;
	uint32_t	 ack;
	uint8_t		 flags;
	uint16_t	 window;
	const uint8_t	*opt;		/* options, a multiple of 4 bytes */
	size_t		 optlen;
};

uint64_t	frame_sum(uint64_t, const void *, size_t);
uint16_t	frame_fold(uint64_t);
size_t		frame_tcp_head(uint8_t *, int, const struct frame_ep *,
		    const struct frame_ep *, uint16_t, const struct frame_tcp *,
		    const uint8_t *, size_t, size_t);
size_t		frame_udp_head(uint8_t *, int, const struct frame_ep *,
		    const struct frame_ep *, uint16_t, const uint8_t *, size_t,
		    size_t);
size_t		frame_tcp(uint8_t *, int, const struct frame_ep *,
		    const struct frame_ep *, uint16_t, const struct frame_tcp *,
		    const uint8_t *, size_t, size_t);
size_t		frame_udp(uint8_t *, int, const struct frame_ep *,
		    const struct frame_ep *, uint16_t, const uint8_t *, size_t,
		    size_t);

#endif
