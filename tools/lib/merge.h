/* The inputs of a conversion: opened, paired and merged by time. */
#ifndef TAPSHIM_MERGE_H
#define TAPSHIM_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "synth.h"
#include "trace-read.h"

/*
 * Pieces of one socket written by several processes, shown as one
 * stream: the first piece's, its FIN at the group's last event.
 */
struct join {
	struct input	*in;		/* the first piece's input */
	size_t		 trace;		/* and trace */
	size_t		 left;		/* the group's events still to come */
	size_t		 refs;		/* pieces pointing here */
	int		 started;
};

/* One input file: its reader, its streams, and the event it holds next. */
struct input {
	struct trace_file	*tf;
	struct synth_stream	*streams;
	size_t			*left;		/* events still to come, per trace */
	char			*hidden;	/* HIDE_*: not shown, and why */
	struct join		**join;		/* per trace: its group, or NULL */
	uint64_t		(*evlost)[2];	/* per trace: bytes its reads [0]
						   and writes [1] did not keep */
	size_t			 pos;		/* how far in the file */
	size_t			 omitted;	/* STARTTLS events left out */
	struct trace_event	 ev;
	int			 has_ev;
};

/* Why a trace is not shown. */
#define HIDE_FILTER	1	/* the filter expression left it out */
#define HIDE_OTHER_END	2	/* the other end is shown instead */

/* How to merge: shared by every input. */
struct merge {
	const struct filter	*filter;
	int			 quiet;		/* no notices */
	int			 strict;	/* cut files are errors */
	int			 both_ends;	/* -B */
	int			 starttls_omit;	/* --starttls-omit */
	unsigned int		 mapped;	/* streams given addresses */
};

int	merge_open(struct merge *, struct input *, const char *,
	    unsigned int);
int	merge_pair(const struct merge *, struct input *, unsigned int);
int	merge_join(const struct merge *, struct input *, unsigned int);
int	merge_run(const struct merge *, struct input *, unsigned int,
	    struct synth *);
void	merge_close(struct input *);

#endif
