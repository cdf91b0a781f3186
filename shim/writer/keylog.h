/* SSLKEYLOGFILE lines, each appended to TAPSHIM_KEYLOG in one write. */
#ifndef TAPSHIM_KEYLOG_H
#define TAPSHIM_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

/* "CLIENT_HANDSHAKE_TRAFFIC_SECRET <64 hex> <up to 128 hex>\n" fits. */
#define KEYLOG_LINE_MAX	512

int	keylog_format(char *, size_t, const char *, const uint8_t *, size_t,
	    const uint8_t *, size_t);
int	keylog_write(const char *, const char *, size_t);

#endif
