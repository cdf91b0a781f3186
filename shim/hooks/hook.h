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

/*
 * The real function, or on i386 (t64 set) its time64 twin, with that
 * twin's system call while real functions resolve.
 */
#if defined(__i386__)
#define REAL64(t64, fn, sys, fn64, sys64, ...)				\
	((t64) ? REAL(fn64, sys64, __VA_ARGS__) : REAL(fn, sys, __VA_ARGS__))
#else
#define REAL64(t64, fn, sys, fn64, sys64, ...)				\
	((void)(t64), REAL(fn, sys, __VA_ARGS__))
#endif

#if defined(__i386__)
/* i386's time64 twins: glibc's headers declare them only for _TIME_BITS=64. */
ssize_t	__recvmsg64(int, struct msghdr *, int);
ssize_t	__sendmsg64(int, const struct msghdr *, int);
int	__recvmmsg64(int, struct mmsghdr *, unsigned int, int, void *);
int	__sendmmsg64(int, struct mmsghdr *, unsigned int, int);
int	__getsockopt64(int, int, int, void *, socklen_t *);
int	__fcntl_time64(int, int, ...);
#endif

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
