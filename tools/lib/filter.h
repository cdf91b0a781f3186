/* Choosing connections with a pcap-filter(7) expression. */
#ifndef TAPSHIM_FILTER_H
#define TAPSHIM_FILTER_H

#include <pcap/pcap.h>

#include "synth.h"

struct filter {
	struct bpf_program	prog;
	int			link;	/* FRAME_LINK_*: what prog expects */
	int			set;
};

int	filter_compile(struct filter *, const char *, int, char *);
int	filter_stream(const struct filter *, const struct synth_stream *);
void	filter_free(struct filter *);

#endif
