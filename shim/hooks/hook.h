/* What the hook files share: recording helpers around conn.c. */
#ifndef TAPSHIM_HOOK_H
#define TAPSHIM_HOOK_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "encode.h"
#include "real.h"

/* Exported hook symbols; everything else in libtapshim.so is hidden. */
#define HOOK	__attribute__((visibility("default")))

/* The real function, or the raw syscall while symbols are resolved. */
#define REAL(fn, sys, ...)						\
	(real.fn == NULL && !real_resolving() ? real_init() : (void)0,	\
	 real.fn != NULL && !real_resolving() ? real.fn(__VA_ARGS__) :	\
	 (__typeof__(real.fn(__VA_ARGS__)))syscall(sys, __VA_ARGS__))

/* glibc's fortified entry points, declared only under _FORTIFY_SOURCE. */
ssize_t	__read_chk(int, void *, size_t, size_t);
ssize_t	__recv_chk(int, void *, size_t, size_t, int);
ssize_t	__recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *,
	    socklen_t *);

void	hook_data(int, enum enc_kind, const void *, ssize_t, int);
void	hook_iov(int, enum enc_kind, const struct iovec *, size_t, ssize_t,
	    int);
void	hook_eof(int);
void	hook_data_peer(int, enum enc_kind, const void *, ssize_t,
	    const struct sockaddr *, socklen_t);
void	hook_iov_peer(int, enum enc_kind, const struct iovec *, size_t,
	    ssize_t, const struct sockaddr *, socklen_t);
void	hook_eof_peer(int, const struct sockaddr *, socklen_t);
void	hook_error(int, int);
void	hook_fastopen(int, ssize_t, const struct sockaddr *, socklen_t);
void	hook_fds_received(const struct msghdr *);

#endif
