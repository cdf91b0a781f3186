/* Reader internals shared by trace-read.c and trace-decode.c. */
#ifndef TAPSHIM_TRACE_INT_H
#define TAPSHIM_TRACE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "trace-read.h"
#include "wire.h"

/* What went wrong, and where in the file. */
struct decode_err {
	size_t	offset;
	char	msg[256];
};

int	decode_addr(const uint8_t *, const uint8_t *, size_t,
	    struct trace_addr *, struct decode_err *);
int	decode_fail(struct decode_err *, const uint8_t *, const uint8_t *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
int	decode_conn_ext(const uint8_t *, const uint8_t *,
	    const struct wire_field *, struct trace_conn *,
	    struct decode_err *);
int	decode_event_ext(const uint8_t *, const uint8_t *,
	    const struct wire_field *, struct trace_event *,
	    struct decode_err *);
int	decode_conn(const uint8_t *, const uint8_t *, size_t,
	    struct trace_conn *, struct decode_err *);
int	decode_event(const uint8_t *, const uint8_t *, size_t,
	    struct trace_event *, struct trace_conn *, int *, int,
	    struct decode_err *);

/* decode_event()'s flags. */
#define DECODE_V2ALPHA	0x1	/* Envoy 1.7-1.9's Event: data is bytes */

#endif
