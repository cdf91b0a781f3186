/* The real functions behind the hooks: one table, resolved once. */
#ifndef TAPSHIM_REAL_H
#define TAPSHIM_REAL_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

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
	void	(*closefrom)(int);
};

extern struct real_fns	real;

void	real_init(void);
int	real_resolving(void);

#endif
