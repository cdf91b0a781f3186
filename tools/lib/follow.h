/* Following trace files as they are written: a live capture. */
#ifndef TAPSHIM_FOLLOW_H
#define TAPSHIM_FOLLOW_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"

/* Events wait this long for earlier ones of other connections. */
#define FOLLOW_WINDOW_NS	(100 * 1000 * 1000)
/* How often the programs poll the traces, in milliseconds. */
#define FOLLOW_POLL_MS		50

/* What to write: tap2pcap's and tapshim's options. */
struct follow_conf {
	const char		*out;		/* the capture; - for stdout */
	const struct filter	*filter;	/* NULL: every connection */
	uint64_t		 max_bytes;	/* -C, in bytes; 0: one file */
	unsigned int		 max_files;	/* -W */
	unsigned int		 seconds;	/* -G; 0: none */
	int			 link;		/* FRAME_LINK_* */
	size_t			 mss;
	int			 mss_set;
	int			 both_ends;	/* -B */
	int			 quiet;
	int			 pcapng;	/* 1: pcapng, 0: pcap */
};

struct follow;

struct follow	*follow_open(const struct follow_conf *);
int		 follow_add_file(struct follow *, const char *);
int		 follow_add_prefix(struct follow *, const char *, int);
int		 follow_step(struct follow *, int);
void		 follow_rotate(struct follow *);
int		 follow_close(struct follow *);
int		 follow_run(struct follow *, volatile sig_atomic_t *,
		    volatile sig_atomic_t *);

#endif
