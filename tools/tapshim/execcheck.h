/* Warnings about programs LD_PRELOAD cannot see into, before running them. */
#ifndef TAPSHIM_EXECCHECK_H
#define TAPSHIM_EXECCHECK_H

#include <stddef.h>

/* What execcheck_warn() found the program to be. */
#define EXECCHECK_UNKNOWN	0	/* not ELF, or not readable */
#define EXECCHECK_32		32	/* ELFCLASS32: needs the 32-bit library */
#define EXECCHECK_64		64

int	execcheck_find(const char *, char *, size_t);
int	execcheck_warn(const char *);

#endif
