/* tap2pcap --follow: a live capture of traces still being written. */
#ifndef TAPSHIM_TAPFOLLOW_H
#define TAPSHIM_TAPFOLLOW_H

#include "convert.h"

int	tapfollow_run(const struct convert *, unsigned int, char *const *,
	    unsigned int);

#endif
