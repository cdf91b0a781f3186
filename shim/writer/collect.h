/* Joining the run's collector: a ring of its own, mapped, no fd kept. */
#ifndef TAPSHIM_COLLECT_H
#define TAPSHIM_COLLECT_H

#include <stddef.h>

#include "ring.h"

/* How long a process waits for the collector to answer, at most. */
#define COLLECT_TIMEOUT_MS	2000

struct ring	*collect_attach(const char *, size_t *);
void		 collect_detach(struct ring *, size_t);

#endif
