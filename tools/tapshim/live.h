/* tapshim -w: the capture written live, while the program runs. */
#ifndef TAPSHIM_LIVE_H
#define TAPSHIM_LIVE_H

#include <stdint.h>

/* -w's capture and its rotation (-C, -W, -G). */
struct live_opts {
	const char	*out;
	uint64_t	 max_bytes;
	unsigned int	 max_files;
	unsigned int	 seconds;
	int		 quiet;
};

int	live_start(const struct live_opts *, const char *);
int	live_stop(void);
int	live_split(void);

#endif
