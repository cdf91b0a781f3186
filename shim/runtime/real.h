/* The real functions behind the hooks: one table, resolved once. */
#ifndef TAPSHIM_REAL_H
#define TAPSHIM_REAL_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <signal.h>
#include <stdio.h>
#include <time.h>

struct real_fns {
	int	(*connect)(int, const struct sockaddr *, socklen_t);
	int	(*accept)(int, struct sockaddr *, socklen_t *);
	int	(*accept4)(int, struct sockaddr *, socklen_t *, int);
	ssize_t	(*read)(int, void *, size_t);
	ssize_t	(*write)(int, const void *, size_t);
	ssize_t	(*readv)(int, const struct iovec *, int);
	ssize_t	(*writev)(int, const struct iovec *, int);
	ssize_t	(*recvfrom)(int, void *, size_t, int, struct sockaddr *,
		    socklen_t *);
	ssize_t	(*recvmsg)(int, struct msghdr *, int);
	ssize_t	(*sendto)(int, const void *, size_t, int,
		    const struct sockaddr *, socklen_t);
	ssize_t	(*sendmsg)(int, const struct msghdr *, int);
	int	(*shutdown)(int, int);
	int	(*getsockopt)(int, int, int, void *, socklen_t *);
	int	(*close)(int);
	int	(*dup)(int);
	int	(*dup2)(int, int);
	int	(*dup3)(int, int, int);
	int	(*fcntl)(int, int, ...);
	int	(*fcntl64)(int, int, ...);
	int	(*recvmmsg)(int, struct mmsghdr *, unsigned int, int,
		    struct timespec *);
	int	(*sendmmsg)(int, struct mmsghdr *, unsigned int, int);
	ssize_t	(*sendfile)(int, int, off_t *, size_t);
	ssize_t	(*sendfile64)(int, int, off64_t *, size_t);
	ssize_t	(*__read_chk)(int, void *, size_t, size_t);
	ssize_t	(*__recv_chk)(int, void *, size_t, size_t, int);
	ssize_t	(*__recvfrom_chk)(int, void *, size_t, size_t, int,
		    struct sockaddr *, socklen_t *);
	int	(*close_range)(unsigned int, unsigned int, int);
	/*
	 * i386's time64 twins (glibc >= 2.34 sends programs built with
	 * _TIME_BITS=64 to them); absent, and never called, elsewhere.
	 */
	ssize_t	(*__recvmsg64)(int, struct msghdr *, int);
	ssize_t	(*__sendmsg64)(int, const struct msghdr *, int);
	int	(*__recvmmsg64)(int, struct mmsghdr *, unsigned int, int,
		    void *);
	int	(*__sendmmsg64)(int, struct mmsghdr *, unsigned int, int);
	int	(*__getsockopt64)(int, int, int, void *, socklen_t *);
	int	(*__fcntl_time64)(int, int, ...);
	void	(*closefrom)(int);
	int	(*open)(const char *, int, ...);
	int	(*open64)(const char *, int, ...);
	int	(*openat)(int, const char *, int, ...);
	int	(*openat64)(int, const char *, int, ...);
	int	(*__open_2)(const char *, int);
	int	(*__open64_2)(const char *, int);
	int	(*__openat_2)(int, const char *, int);
	int	(*__openat64_2)(int, const char *, int);
	int	(*creat)(const char *, mode_t);
	int	(*creat64)(const char *, mode_t);
	int	(*socket)(int, int, int);
	int	(*socketpair)(int, int, int, int *);
	int	(*pipe)(int *);
	int	(*pipe2)(int *, int);
	int	(*epoll_create)(int);
	int	(*epoll_create1)(int);
	int	(*eventfd)(unsigned int, int);
	int	(*signalfd)(int, const sigset_t *, int);
	int	(*timerfd_create)(int, int);
	int	(*inotify_init)(void);
	int	(*inotify_init1)(int);
	int	(*memfd_create)(const char *, unsigned int);
	FILE	*(*fopen)(const char *, const char *);
	FILE	*(*fopen64)(const char *, const char *);
	FILE	*(*freopen)(const char *, const char *, FILE *);
	FILE	*(*freopen64)(const char *, const char *, FILE *);
	FILE	*(*tmpfile)(void);
	FILE	*(*tmpfile64)(void);
	int	(*fclose)(FILE *);
};

extern struct real_fns	real;

void	real_init(void);
int	real_resolving(void);

#endif
