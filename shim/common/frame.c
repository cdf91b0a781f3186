/* Building Ethernet, IPv4, IPv6, TCP and UDP frames with real checksums. */

#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <string.h>

#include "frame.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define IP_TTL_DEFAULT	64		/* RFC 1700's recommended TTL */

#if defined(__GNUC__)
/* Two 64-bit lanes: SSE2 on x86-64, NEON on arm64, scalar pairs elsewhere. */
typedef uint64_t frame_v2u64 __attribute__((vector_size(16)));

/*
 * Vector lanes each add 33 bits per step, so they are drained into the
 * scalar sum before they could wrap: every 2^30 bytes, far past any frame.
 */
#define FRAME_SUM_BLOCK	(1024 * 1024 * 1024)

/* a + b with the carry out added back in (end-around, mod 2^64 - 1). */
static uint64_t
frame_add64(uint64_t a, uint64_t b)
{
	a += b;
	return (a + (a < b));
}

/*
 * Sum n bytes (a multiple of 64) 64 at a time: each 16-byte load is two
 * 64-bit lanes whose 32-bit halves are added separately, four loads to a
 * step in independent accumulators so the adds overlap.
 */
static uint64_t
frame_sum_vec(uint64_t sum, const uint8_t *b, size_t n)
{
	const frame_v2u64	 lo32 = { 0xffffffffu, 0xffffffffu };
	frame_v2u64		 v0, v1, v2, v3, a0, a1, a2, a3;
	size_t			 block, i;

	while (n > 0) {
		block = n < FRAME_SUM_BLOCK ? n : FRAME_SUM_BLOCK;
		a0 = a1 = a2 = a3 = lo32 ^ lo32;
		for (i = 0; i < block; i += 64) {
			memcpy(&v0, b + i, 16);	/* unaligned loads */
			memcpy(&v1, b + i + 16, 16);
			memcpy(&v2, b + i + 32, 16);
			memcpy(&v3, b + i + 48, 16);
			a0 += (v0 & lo32) + (v0 >> 32);
			a1 += (v1 & lo32) + (v1 >> 32);
			a2 += (v2 & lo32) + (v2 >> 32);
			a3 += (v3 & lo32) + (v3 >> 32);
		}
		a0 += a1;
		a2 += a3;
		sum = frame_add64(sum, a0[0]);
		sum = frame_add64(sum, a0[1]);
		sum = frame_add64(sum, a2[0]);
		sum = frame_add64(sum, a2[1]);
		b += block;
		n -= block;
	}
	return (sum);
}
#endif

/*
 * Add n bytes to a one's complement sum (RFC 1071). Words are summed in
 * host order, which RFC 1071 section 2(B) shows gives the same folded
 * result as network order once stored back unswapped; any grouping of
 * them (32-bit words, vector lanes) folds to the same 16 bits, since
 * 2^16 - 1 divides 2^32 - 1 and 2^64 - 1. Every call but the last must
 * cover an even number of bytes.
 */
uint64_t
frame_sum(uint64_t sum, const void *p, size_t n)
{
	const uint8_t	*b = p;
	uint64_t	 w64;
	uint32_t	 w32;
	uint16_t	 w16 = 0;

#if defined(__GNUC__)
	if (n >= 64) {
		sum = frame_sum_vec(sum, b, n & ~(size_t)63);
		b += n & ~(size_t)63;
		n &= 63;
	}
#endif
	while (n >= 8) {
		memcpy(&w64, b, 8);
		sum = frame_add64(sum, (w64 & 0xffffffffu) + (w64 >> 32));
		b += 8;
		n -= 8;
	}
	if (n >= 4) {
		memcpy(&w32, b, 4);
		sum = frame_add64(sum, w32);
		b += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w16, b, 2);
		sum = frame_add64(sum, w16);
		b += 2;
		n -= 2;
	}
	if (n == 1) {
		w16 = 0;
		memcpy(&w16, b, 1);	/* padded with a zero byte after it */
		sum = frame_add64(sum, w16);
	}
	return (sum);
}

/* Fold a sum to 16 bits and complement it; store it with memcpy. */
uint16_t
frame_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static void
frame_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
frame_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Write the link and IP headers for an L4 segment of l4len bytes; return
 * their size and set *pseudo to the L4 pseudo-header's sum (RFC 793
 * section 3.1; RFC 8200 section 8.1).
 */
static size_t
frame_ip(uint8_t *b, int link, const struct frame_ep *src,
    const struct frame_ep *dst, uint16_t ipid, uint8_t proto, size_t l4len,
    uint64_t *pseudo)
{
	uint8_t		ph[40];
	size_t		h = 0;
	uint16_t	ck;

	if (link == FRAME_LINK_ETHER) {
		memcpy(b, dst->mac, 6);
		memcpy(b + 6, src->mac, 6);
		frame_put16(b + 12, src->family == AF_INET6 ? ETHERTYPE_IPV6 :
		    ETHERTYPE_IPV4);
		h = 14;
	}
	if (src->family == AF_INET6) {
		frame_put32(b + h, 0x60000000);
		frame_put16(b + h + 4, (uint16_t)l4len);	/* L4 only */
		b[h + 6] = proto;
		b[h + 7] = IP_TTL_DEFAULT;
		memcpy(b + h + 8, src->ip, 16);
		memcpy(b + h + 24, dst->ip, 16);
		memcpy(ph, src->ip, 16);
		memcpy(ph + 16, dst->ip, 16);
		frame_put32(ph + 32, (uint32_t)l4len);
		frame_put32(ph + 36, proto);
		*pseudo = frame_sum(0, ph, 40);
		return (h + 40);
	}
	b[h] = 0x45;			/* version 4, 20-byte header */
	b[h + 1] = 0;
	frame_put16(b + h + 2, (uint16_t)(20 + l4len));
	frame_put16(b + h + 4, ipid);
	frame_put16(b + h + 6, 0x4000);	/* don't fragment */
	b[h + 8] = IP_TTL_DEFAULT;
	b[h + 9] = proto;
	memset(b + h + 10, 0, 2);
	memcpy(b + h + 12, src->ip, 4);
	memcpy(b + h + 16, dst->ip, 4);
	ck = frame_fold(frame_sum(0, b + h, 20));
	memcpy(b + h + 10, &ck, 2);
	memcpy(ph, src->ip, 4);
	memcpy(ph + 4, dst->ip, 4);
	ph[8] = 0;
	ph[9] = proto;
	frame_put16(ph + 10, (uint16_t)l4len);
	*pseudo = frame_sum(0, ph, 12);
	return (h + 20);
}

/*
 * Build a TCP segment's headers into b for caplen captured bytes of a
 * payload len bytes long, which stays where it is: the checksum is summed
 * over it there, and the caller writes it after the headers. Returns the
 * size of the headers. Bytes that were not captured count as zeros in the
 * checksum.
 */
size_t
frame_tcp_head(uint8_t *b, int link, const struct frame_ep *src,
    const struct frame_ep *dst, uint16_t ipid, const struct frame_tcp *t,
    const uint8_t *payload, size_t caplen, size_t len)
{
	uint64_t	sum;
	size_t		h, th = 20 + t->optlen;
	uint16_t	ck;
	uint8_t		*p;

	h = frame_ip(b, link, src, dst, ipid, IPPROTO_TCP, th + len, &sum);
	p = b + h;
	frame_put16(p, src->port);
	frame_put16(p + 2, dst->port);
	frame_put32(p + 4, t->seq);
	frame_put32(p + 8, t->ack);
	p[12] = (uint8_t)((th / 4) << 4);
	p[13] = t->flags;
	frame_put16(p + 14, t->window);
	memset(p + 16, 0, 4);		/* checksum, urgent pointer */
	if (t->optlen > 0)
		memcpy(p + 20, t->opt, t->optlen);
	/* th is a multiple of 4: the payload's sum can follow. */
	sum = frame_sum(sum, p, th);
	if (caplen > 0)
		sum = frame_sum(sum, payload, caplen);
	ck = frame_fold(sum);
	memcpy(p + 16, &ck, 2);
	return (h + th);
}

/*
 * Build a whole TCP segment into b: headers, then the caplen captured
 * bytes. Returns the size of the headers; the frame is that plus caplen
 * bytes here, that plus len on the wire.
 */
size_t
frame_tcp(uint8_t *b, int link, const struct frame_ep *src,
    const struct frame_ep *dst, uint16_t ipid, const struct frame_tcp *t,
    const uint8_t *payload, size_t caplen, size_t len)
{
	size_t	h;

	h = frame_tcp_head(b, link, src, dst, ipid, t, payload, caplen, len);
	if (caplen > 0)
		memcpy(b + h, payload, caplen);
	return (h);
}

/* Build a UDP datagram's headers into b, as frame_tcp_head() does. */
size_t
frame_udp_head(uint8_t *b, int link, const struct frame_ep *src,
    const struct frame_ep *dst, uint16_t ipid, const uint8_t *payload,
    size_t caplen, size_t len)
{
	uint64_t	sum;
	size_t		h;
	uint16_t	ck;
	uint8_t		*p;

	h = frame_ip(b, link, src, dst, ipid, IPPROTO_UDP, 8 + len, &sum);
	p = b + h;
	frame_put16(p, src->port);
	frame_put16(p + 2, dst->port);
	frame_put16(p + 4, (uint16_t)(8 + len));
	memset(p + 6, 0, 2);
	sum = frame_sum(sum, p, 8);
	if (caplen > 0)
		sum = frame_sum(sum, payload, caplen);
	ck = frame_fold(sum);
	if (ck == 0)
		ck = 0xffff;		/* RFC 768: zero means "no checksum" */
	memcpy(p + 6, &ck, 2);
	return (h + 8);
}

/* Build a whole UDP datagram into b, as frame_tcp() does a segment. */
size_t
frame_udp(uint8_t *b, int link, const struct frame_ep *src,
    const struct frame_ep *dst, uint16_t ipid, const uint8_t *payload,
    size_t caplen, size_t len)
{
	size_t	h;

	h = frame_udp_head(b, link, src, dst, ipid, payload, caplen, len);
	if (caplen > 0)
		memcpy(b + h, payload, caplen);
	return (h);
}
