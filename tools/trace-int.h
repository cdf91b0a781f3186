/* Reader internals shared by trace-read.c and trace-decode.c. */
#ifndef TAPSHIM_TRACE_INT_H
#define TAPSHIM_TRACE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "trace-read.h"

/* What went wrong, and where in the file. */
struct decode_err {
	size_t	offset;
	char	msg[256];
};

int	decode_conn(const uint8_t *, const uint8_t *, size_t,
	    struct trace_conn *, struct decode_err *);
int	decode_event(const uint8_t *, const uint8_t *, size_t,
	    struct trace_event *, struct trace_conn *, int *,
	    struct decode_err *);

#endif
