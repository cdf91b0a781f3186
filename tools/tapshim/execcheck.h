/* Warnings about programs LD_PRELOAD cannot see into, before running them. */
#ifndef TAPSHIM_EXECCHECK_H
#define TAPSHIM_EXECCHECK_H

#include <stddef.h>

/* execcheck_warn(): preloading would only make ld.so complain. */
#define EXECCHECK_NO_PRELOAD	1

int	execcheck_find(const char *, char *, size_t);
int	execcheck_warn(const char *);

#endif
