/* The shim's own writes, made so that they never signal the host. */
#ifndef TAPSHIM_HOSTWRITE_H
#define TAPSHIM_HOSTWRITE_H

#include <sys/types.h>
#include <sys/uio.h>

ssize_t	hostwrite_writev(int, const struct iovec *, int);
ssize_t	hostwrite_write(int, const void *, size_t);
int	hostwrite_open(const char *, const char **);

#endif
