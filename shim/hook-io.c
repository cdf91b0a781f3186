/* Hooks that move data: read, write, recv, send and their variants. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <unistd.h>

#include "conn.h"
#include "hook.h"
#include "shim.h"

/* After a call that read r bytes into buf (or failed, or hit EOF). */
static void
io_read_done(int fd, const void *buf, size_t n, ssize_t r)
{
	if (r > 0)
		hook_data(fd, ENC_READ, buf, r, 0);
	else if (r == 0 && n > 0)
		hook_eof(fd);
	else if (r < 0)
		hook_error(fd, errno);
}

/*
 * recv flags that do not consume stream data: a peek is read again
 * later, and the error queue is not the stream (pitfalls, row 15).
 */
static int
io_not_data(int flags)
{
	return ((flags & (MSG_PEEK | MSG_ERRQUEUE)) != 0);
}

static ssize_t
hook_read(int fd, void *buf, size_t n)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(read, SYS_read, fd, buf, n);
		shim_leave();
		return (r);
	}
	r = REAL(read, SYS_read, fd, buf, n);
	io_read_done(fd, buf, n, r);
	shim_leave();
	return (r);
}

static ssize_t
hook_write(int fd, const void *buf, size_t n)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(write, SYS_write, fd, buf, n);
		shim_leave();
		return (r);
	}
	r = REAL(write, SYS_write, fd, buf, n);
	if (r > 0)
		hook_data(fd, ENC_WRITE, buf, r, 0);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

static ssize_t
hook_readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(readv, SYS_readv, fd, iov, cnt);
		shim_leave();
		return (r);
	}
	r = REAL(readv, SYS_readv, fd, iov, cnt);
	if (r > 0)
		hook_iov(fd, ENC_READ, iov, (size_t)cnt, r, 0);
	else
		io_read_done(fd, NULL, cnt > 0 ? 1 : 0, r);
	shim_leave();
	return (r);
}

static ssize_t
hook_writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(writev, SYS_writev, fd, iov, cnt);
		shim_leave();
		return (r);
	}
	r = REAL(writev, SYS_writev, fd, iov, cnt);
	if (r > 0)
		hook_iov(fd, ENC_WRITE, iov, (size_t)cnt, r, 0);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

static ssize_t
hook_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
    socklen_t *salen)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(recvfrom, SYS_recvfrom, fd, buf, n, flags, sa, salen);
		shim_leave();
		return (r);
	}
	r = REAL(recvfrom, SYS_recvfrom, fd, buf, n, flags, sa, salen);
	if (!io_not_data(flags)) {
		/* TCP MSG_TRUNC discards r bytes: a gap, not data. */
		io_read_done(fd, (flags & MSG_TRUNC) ? NULL : buf, n, r);
	}
	shim_leave();
	return (r);
}

static ssize_t
hook_sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(sendto, SYS_sendto, fd, buf, n, flags, sa, salen);
		shim_leave();
		return (r);
	}
	r = REAL(sendto, SYS_sendto, fd, buf, n, flags, sa, salen);
	/* TCP Fast Open: a connect and the first data at once (row 17). */
	if ((flags & MSG_FASTOPEN) && sa != NULL && r >= 0)
		conn_open(fd, ENC_ROLE_CLIENT, sa, salen);
	if (r > 0)
		hook_data(fd, ENC_WRITE, buf, r, 0);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

static ssize_t
hook_recvmsg(int fd, struct msghdr *m, int flags)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(recvmsg, SYS_recvmsg, fd, m, flags);
		shim_leave();
		return (r);
	}
	r = REAL(recvmsg, SYS_recvmsg, fd, m, flags);
	if (io_not_data(flags))
		;
	else if (r > 0 && !(flags & MSG_TRUNC))
		hook_iov(fd, ENC_READ, m->msg_iov, m->msg_iovlen, r, 0);
	else
		io_read_done(fd, NULL, m->msg_iovlen > 0 ? 1 : 0, r);
	shim_leave();
	return (r);
}

static ssize_t
hook_sendmsg(int fd, const struct msghdr *m, int flags)
{
	ssize_t	r;

	if (!shim_enter()) {
		r = REAL(sendmsg, SYS_sendmsg, fd, m, flags);
		shim_leave();
		return (r);
	}
	r = REAL(sendmsg, SYS_sendmsg, fd, m, flags);
	if ((flags & MSG_FASTOPEN) && m->msg_name != NULL && r >= 0)
		conn_open(fd, ENC_ROLE_CLIENT, m->msg_name, m->msg_namelen);
	if (r > 0)
		hook_iov(fd, ENC_WRITE, m->msg_iov, m->msg_iovlen, r, 0);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

HOOK ssize_t
read(int fd, void *buf, size_t n)
{
	return (hook_read(fd, buf, n));
}

HOOK ssize_t
write(int fd, const void *buf, size_t n)
{
	return (hook_write(fd, buf, n));
}

HOOK ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	return (hook_readv(fd, iov, cnt));
}

HOOK ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	return (hook_writev(fd, iov, cnt));
}

HOOK ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	return (hook_recvfrom(fd, buf, n, flags, NULL, NULL));
}

HOOK ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
    socklen_t *salen)
{
	return (hook_recvfrom(fd, buf, n, flags, sa, salen));
}

HOOK ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	return (hook_recvmsg(fd, m, flags));
}

HOOK ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	return (hook_sendto(fd, buf, n, flags, NULL, 0));
}

HOOK ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	return (hook_sendto(fd, buf, n, flags, sa, salen));
}

HOOK ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	return (hook_sendmsg(fd, m, flags));
}
