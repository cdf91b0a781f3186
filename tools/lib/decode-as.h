/* Telling Wireshark how to decode TLS plaintext on its real ports. */
#ifndef TAPSHIM_DECODE_AS_H
#define TAPSHIM_DECODE_AS_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "trace-read.h"

#define DECODEAS_MAX	64

/* Server ports that carried TLS plaintext, and what protocol. */
struct decodeas {
	struct {
		uint16_t	 port;
		const char	*proto;	/* tshark's name: http, http2, pgsql */
		int		 starttls;	/* the plaintext starts with it */
		/*
		 * One stream's (TAPSHIM_TLS=both: its TLS records are
		 * another stream on the same server port): port is the
		 * client port the capture shows for the plaintext, and
		 * these are the two streams' ends as drawn [client, server].
		 */
		const struct frame_ep	*plain[2];
		const struct frame_ep	*cipher[2];
		const struct trace_info	*pt, *ct;
		const char		*pname, *cname;
	}		 e[DECODEAS_MAX];
	size_t		 n;
};

void		 decodeas_add(struct decodeas *, const struct trace_info *);
void		 decodeas_add_stream(struct decodeas *,
		    const struct trace_info *, const char *,
		    const struct frame_ep *const [2], const struct trace_info *,
		    const char *, const struct frame_ep *const [2]);
void		 decodeas_hint(const struct decodeas *, size_t, int, char *,
		    size_t);
int		 decodeas_starttls(const struct trace_info *);
const char	*decodeas_proto(const struct decodeas *, size_t);
int		 decodeas_write(const struct decodeas *, const char *, char *,
		    size_t);

#endif
