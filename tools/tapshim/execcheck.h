/* Warnings about programs LD_PRELOAD cannot see into, before running them. */
#ifndef TAPSHIM_EXECCHECK_H
#define TAPSHIM_EXECCHECK_H

#include <stddef.h>

int	execcheck_find(const char *, char *, size_t);
void	execcheck_warn(const char *);

#endif
