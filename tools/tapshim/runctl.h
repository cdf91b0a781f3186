/* The launcher's run: its filter, its limits, and its statistics. */
#ifndef TAPSHIM_RUNCTL_H
#define TAPSHIM_RUNCTL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "collector.h"
#include "runstate.h"
#include "runsum.h"

struct runctl {
	char		dir[PATH_MAX - 8];	/* "" when there is no state */
	char		path[PATH_MAX];
	int64_t		start;		/* CLOCK_REALTIME ns */
	int		have;		/* totals read */
	struct runstate	totals;
	const struct collector_stats *coll;	/* NULL: direct mode */
};

char	*runctl_filter(const char *);
int	 runctl_start(struct runctl *, const struct runstate *, double);
int	 runctl_read(struct runctl *);
void	 runctl_end(struct runctl *);
int	 runctl_stats(const struct runctl *, const char *,
	    const struct runsum *, int);

#endif
