/* The traces one run of the launcher wrote, found and summed up. */
#ifndef TAPSHIM_RUNSUM_H
#define TAPSHIM_RUNSUM_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "runstate.h"

struct runsum_file {
	char		*name;		/* before: the entry; after: a path */
	ino_t		 ino;
	unsigned long	 num;		/* N of PREFIX_N.pb */
};

#define RUNSUM_REASONS	10

/* Totals over the run's traces, from what their whole records hold. */
struct runsum_totals {
	size_t		conns, failed, damaged, truncated;
	size_t		unfinished;	/* files whose writer died */
	size_t		cut;		/* files cut short */
	size_t		died;		/* traces with no close */
	size_t		tracer_cut;	/* traces the shim stopped */
	uint64_t	sent, received;		/* bytes kept */
	uint64_t	lost_sent, lost_received;
	uint64_t	events;
	char		reasons[RUNSUM_REASONS][32];	/* why bytes were lost */
	int		nreasons;
};

struct runsum {
	char			*dir;		/* the prefix's directory */
	char			*base;		/* and its last part */
	struct runsum_file	*before;	/* there before the run */
	size_t			 nbefore;
	struct runsum_file	*files;		/* the run's, by number */
	size_t			 nfiles;
	char			**paths;	/* their paths, NULL-ended */
	struct runsum_totals	  totals;	/* by runsum_sum() */
};

int	runsum_begin(struct runsum *, const char *);
int	runsum_end(struct runsum *);
void	runsum_sum(struct runsum *, const struct runstate *);
void	runsum_print(const struct runsum *, const char *,
	    const struct runstate *);
void	runsum_free(struct runsum *);

#endif
