/* Joining the run's collector: a ring of its own, mapped, no fd kept. */

#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "collect.h"

/*
 * Ask the collector listening on the abstract AF_UNIX name for a ring:
 * connect, receive a memfd over SCM_RIGHTS, map it, close both. Raw
 * system calls: the hooks never see them, and the two descriptors live
 * only for this call. The mapping is not inherited by fork: a child asks
 * for a ring of its own. NULL (errno kept) when there is no collector or
 * it does not answer in COLLECT_TIMEOUT_MS.
 */
struct ring *
collect_attach(const char *name, size_t *lenp)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { COLLECT_TIMEOUT_MS / 1000,
				    (COLLECT_TIMEOUT_MS % 1000) * 1000 };
	struct msghdr		 m;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	struct stat		 st;
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int))];
	}			 u;
	struct ring		*r = NULL;
	socklen_t		 len;
	size_t			 n = strlen(name);
	char			 ok = 0;
	void			*map;
	long			 fd, mfd = -1;
	int			 got, saved = errno;

	if (n == 0 || n >= sizeof sun.sun_path - 1)
		return (NULL);
	fd = syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	memset(&m, 0, sizeof m);
	iov.iov_base = &ok;
	iov.iov_len = 1;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.b;
	m.msg_controllen = sizeof u.b;
	if (syscall(SYS_setsockopt, (int)fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof tv) != 0 || syscall(SYS_connect, (int)fd, &sun, len) != 0 ||
	    syscall(SYS_recvmsg, (int)fd, &m, MSG_CMSG_CLOEXEC) != 1 || !ok)
		goto out;
	cm = CMSG_FIRSTHDR(&m);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		goto out;
	memcpy(&got, CMSG_DATA(cm), sizeof got);
	mfd = got;
	if (syscall(SYS_fstat, (int)mfd, &st) != 0 || st.st_size <= 0)
		goto out;
	map = (void *)syscall(SYS_mmap, NULL, (size_t)st.st_size, PROT_READ |
	    PROT_WRITE, MAP_SHARED, (int)mfd, 0);
	if (map == MAP_FAILED)
		goto out;
	if (ring_check(map, (size_t)st.st_size) != 0) {
		(void)syscall(SYS_munmap, map, (size_t)st.st_size);
		goto out;
	}
	(void)syscall(SYS_madvise, map, (size_t)st.st_size, MADV_DONTFORK);
	r = map;
	*lenp = (size_t)st.st_size;
out:
	if (mfd >= 0)
		(void)syscall(SYS_close, (int)mfd);
	if (fd >= 0)
		(void)syscall(SYS_close, (int)fd);
	errno = saved;
	return (r);
}

/* Let the ring go (the collector drains what it holds). */
void
collect_detach(struct ring *r, size_t len)
{
	int	saved = errno;

	(void)syscall(SYS_munmap, r, len);
	errno = saved;
}
