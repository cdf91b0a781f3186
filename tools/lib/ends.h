/* Finding the two ends of one connection among many traces. */
#ifndef TAPSHIM_ENDS_H
#define TAPSHIM_ENDS_H

#include <stddef.h>

#include "trace-read.h"

/* A trace, as ends_pair() sees it; it sets other and drop. */
struct end_ref {
	const struct trace_info	*t;
	unsigned int		 input;		/* for the caller */
	size_t			 trace;		/* for the caller */
	struct end_ref		*other;		/* the other end, if found */
	int			 drop;		/* show the other end only */
	struct end_ref		*lead;		/* ends_join(): the first piece */
};

size_t	ends_pair(struct end_ref *, size_t);
size_t	ends_join(struct end_ref *, size_t);

#endif
