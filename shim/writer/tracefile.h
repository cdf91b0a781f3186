/* Trace files: created safely, written through a shared mapping, no fd held. */
#ifndef TAPSHIM_TRACEFILE_H
#define TAPSHIM_TRACEFILE_H

#include <sys/types.h>
#include <sys/uio.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define TRACEFILE_ERRBUF_SIZE	(PATH_MAX + 320)
/*
 * The first window mapped, and the largest (doubling in between): 8 MiB
 * windows, prefaulted, cost a third less than 1 MiB ones per byte traced
 * (fewer munmaps of dirty windows; measured, see the commit).
 */
#define TRACEFILE_WINDOW_MIN	16384
#define TRACEFILE_WINDOW_MAX	8388608
/* The most iovecs tracefile_write() takes. */
#define TRACEFILE_IOV_MAX	16

/*
 * A trace file as created: its number, who it is on disk, and the one
 * window of it mapped now (MAP_SHARED: what is copied there is in the
 * file's page cache at once, and survives the process).
 */
struct tracefile {
	uint64_t	 n;		/* <prefix>_<n><ext>; the trace id */
	dev_t		 dev;
	ino_t		 ino;
	uint8_t		*map;		/* NULL: nothing mapped */
	size_t		 maplen;
	off_t		 mapoff;	/* page aligned */
	off_t		 alloc;		/* the file's size while written */
	size_t		 window;	/* the next window's length */
	unsigned int	 gen;		/* the process's, when mapped */
	int		 alt;		/* made at the fallback prefix */
	/* Collector mode (collect.c): map is the process's own buffer,
	 * mapoff where it starts in the file, sent what the ring has. */
	int		 ring;
	int		 broken;	/* the ring lost some: send no more */
	off_t		 sent;
};

int	tracefile_create(const struct conf *, struct tracefile *, char *);
int	tracefile_path(const struct conf *, uint64_t, char *, size_t);
int	tracefile_grow(const struct conf *, struct tracefile *, off_t,
	    size_t);
int	tracefile_write(const struct conf *, struct tracefile *, off_t,
	    const struct iovec *, int, size_t, size_t);
int	tracefile_finish(const struct conf *, struct tracefile *, off_t,
	    int);
int	tracefile_mapped(const struct tracefile *);
void	tracefile_fork_prepare(void);
void	tracefile_fork_parent(void);
void	tracefile_fork_child(void);

#endif
