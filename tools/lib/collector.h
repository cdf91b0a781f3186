/* The run's collector: hands each traced process a ring, writes its traces. */
#ifndef TAPSHIM_COLLECTOR_H
#define TAPSHIM_COLLECTOR_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define COLLECTOR_ERRBUF_SIZE	(PATH_MAX + 320)
/* A ring per process: big enough for a burst of large writes. */
#define COLLECTOR_RING_SIZE	(8U * 1024 * 1024)

/* What the collector did, for the run's summary. */
struct collector_stats {
	uint64_t	processes;	/* rings handed out */
	uint64_t	refused;	/* clients not of this run */
	uint64_t	records;	/* records written to trace files */
	uint64_t	bytes;
	uint64_t	dropped;	/* records writers gave up on (full) */
	uint64_t	dropped_bytes;
	uint64_t	partial;	/* cut by a writer's death */
	uint64_t	torn_bytes;	/* unreadable after a torn reservation */
	uint64_t	write_errors;	/* bytes not written to trace files */
	uint64_t	files;		/* trace files created */
};

struct collector;

struct collector *collector_open(const char *, enum conf_format, uint32_t,
		    char *);
const char	*collector_name(const struct collector *);
int		 collector_step(struct collector *, int, char *);
size_t		 collector_live(const struct collector *);
void		 collector_close(struct collector *, struct collector_stats *);

#endif
