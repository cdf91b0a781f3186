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
		const char	*proto;	/* tshark's name: http, http2, pgsql */
		int		 starttls;	/* the plaintext starts with it */
	}		 e[DECODEAS_MAX];
	size_t		 n;
};

void		 decodeas_add(struct decodeas *, const struct trace_info *);
int		 decodeas_starttls(const struct trace_info *);
const char	*decodeas_proto(const struct decodeas *, size_t);
int		 decodeas_write(const struct decodeas *, const char *, char *,
		    size_t);

#endif
