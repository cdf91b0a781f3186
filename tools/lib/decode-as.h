/* Telling Wireshark how to decode TLS plaintext on its real ports. */
#ifndef TAPSHIM_DECODE_AS_H
#define TAPSHIM_DECODE_AS_H

#include <stddef.h>
#include <stdint.h>

#include "trace-read.h"

#define DECODEAS_MAX	64

/* Server ports that carried TLS plaintext, and what protocol. */
struct decodeas {
	struct {
		uint16_t	 port;
		int		 h2;	/* ALPN said h2; else HTTP/1 */
	}		 e[DECODEAS_MAX];
	size_t		 n;
};

void		 decodeas_add(struct decodeas *, const struct trace_conn *);
const char	*decodeas_proto(const struct decodeas *, size_t);
int		 decodeas_write(const struct decodeas *, const char *, char *,
		    size_t);

#endif
