/* Where a run's traces are made when tapshim runs as root (point 10). */
#ifndef TAPSHIM_RUNDIR_H
#define TAPSHIM_RUNDIR_H

#include <limits.h>

struct rundir {
	int	on;
	char	dir[PATH_MAX];		/* the run's own directory */
	char	prefix[PATH_MAX];	/* the shim's prefix inside it */
};

int	rundir_start(struct rundir *, const char *);
void	rundir_finish(struct rundir *, const char *);

#endif
