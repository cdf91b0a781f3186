/* Joining the run's collector: a ring of its own, mapped, no fd kept. */
#ifndef TAPSHIM_COLLECT_H
#define TAPSHIM_COLLECT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ring.h"
#include "tracefile.h"

/* How long a process waits for the collector to answer, at most. */
#define COLLECT_TIMEOUT_MS	2000
/* A piece of a trace goes to the ring in records of at most this. */
#define COLLECT_CHUNK		(1024 * 1024)

struct ring	*collect_attach(const char *, size_t *);
void		 collect_detach(struct ring *, size_t);

/* Collector mode: traces written through the process's ring. */
int		 collect_join(const struct conf *, char *, size_t);
int		 collect_create(struct tracefile *, uint64_t, char *);
int		 collect_push(struct tracefile *, off_t);
int		 collect_grow(struct tracefile *, off_t, size_t);
int		 collect_finish(struct tracefile *, off_t, int);
int		 collect_mapped(const struct tracefile *);
uint32_t	 collect_why(int);
void		 collect_fork_prepare(void);
void		 collect_fork_parent(void);
void		 collect_fork_child(void);

#endif
