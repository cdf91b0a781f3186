/* Trace files: created safely, kept at high fds, checked before writing. */
#ifndef TAPSHIM_TRACEFILE_H
#define TAPSHIM_TRACEFILE_H

#include <sys/types.h>
#include <sys/uio.h>

#include <limits.h>
#include <stdint.h>

#include "conf.h"

#define TRACEFILE_ERRBUF_SIZE	(PATH_MAX + 320)

/* A trace file as created: its number, and who it is on disk. */
struct tracefile {
	uint64_t	n;		/* <prefix>_<n><ext>; the trace id */
	int		fd;		/* -1 when not open */
	dev_t		dev;
	ino_t		ino;
};

int	tracefile_create(const struct conf *, struct tracefile *, char *);
int	tracefile_path(const struct conf *, uint64_t, char *, size_t);
int	tracefile_is_ours(const struct tracefile *);
int	tracefile_reopen(const struct conf *, struct tracefile *);
ssize_t	tracefile_writev(struct tracefile *, struct iovec *, int);
void	tracefile_close(struct tracefile *);
int	tracefile_high_fd(int);

#endif
