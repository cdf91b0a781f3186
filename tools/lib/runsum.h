/* The traces one run of the launcher wrote, found and summed up. */
#ifndef TAPSHIM_RUNSUM_H
#define TAPSHIM_RUNSUM_H

#include <sys/types.h>

#include <stddef.h>

#include "runstate.h"

struct runsum_file {
	char		*name;		/* before: the entry; after: a path */
	ino_t		 ino;
	unsigned long	 num;		/* N of PREFIX_N.pb */
};

struct runsum {
	char			*dir;		/* the prefix's directory */
	char			*base;		/* and its last part */
	struct runsum_file	*before;	/* there before the run */
	size_t			 nbefore;
	struct runsum_file	*files;		/* the run's, by number */
	size_t			 nfiles;
	char			**paths;	/* their paths, NULL-ended */
};

int	runsum_begin(struct runsum *, const char *);
int	runsum_end(struct runsum *);
void	runsum_print(const struct runsum *, const char *,
	    const struct runstate *);
void	runsum_free(struct runsum *);

#endif
