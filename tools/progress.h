/* A progress bar on the terminal for long conversions. */
#ifndef TAPSHIM_PROGRESS_H
#define TAPSHIM_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct progress {
	FILE		*f;		/* NULL: off */
	const char	*prog;
	uint64_t	 total;
	int64_t		 next_ms;	/* when to redraw */
	int		 shown;
};

void	progress_init(struct progress *, FILE *, const char *, uint64_t,
	    int);
void	progress_update(struct progress *, uint64_t);
void	progress_done(struct progress *);

#endif
