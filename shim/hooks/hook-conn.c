/* Hooks that begin and end connections: connect, accept, shutdown. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "fdtab.h"
#include "hook.h"
#include "shim.h"

/* Is fd a stream socket of a family the shim traces? */
static int
conn_traceable(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(int), slen = sizeof ss;
	int			type = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM ||
	    getsockname(fd, (struct sockaddr *)&ss, &slen) == -1)
		return (0);
	return (ss.ss_family == AF_INET || ss.ss_family == AF_INET6 ||
	    ss.ss_family == AF_UNIX);
}

/* Did the connection itself fail (not the call: EINTR, EBADF...)? */
static int
connect_failed(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ETIMEDOUT:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ECONNRESET:
	case ENOENT:		/* AF_UNIX: no such socket */
		return (1);
	default:
		return (0);
	}
}

/*
 * connect() again on a socket whose non-blocking connect is under way
 * (Ruby, Perl's IO::Socket with a Timeout, hiredis, ab): 0 or EISCONN
 * says it is done, EALREADY or EINPROGRESS that it still is, a failure
 * that it failed; the first call's trace says so, no second one starts.
 * 1 if fd held such a connect.
 */
static int
connect_again(int fd, int r, int err)
{
	struct conn	*c;
	int		 pending;

	if (!fdtab_is_conn(fdtab_get(fd)) || (c = conn_get(fd)) == NULL)
		return (0);
	if ((pending = !conn_udp(c) && conn_connect_pending(c))) {
		if (r == 0 || err == EISCONN)
			conn_connect_done(c);
		else if (connect_failed(err))
			conn_connect_failed(c, err);
	}
	conn_put(c);
	return (pending);
}

static int
hook_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct conn	*c;
	int		 r, saved, outer;

	outer = shim_enter();
	r = REAL(connect, SYS_connect, fd, sa, len);
	if (!outer) {
		shim_leave();
		return (r);
	}
	saved = errno;
	if (connect_again(fd, r, r == 0 ? 0 : saved))
		;
	/* A non-blocking connect is under way: its SYN is sent (row 17). */
	else if ((r == 0 || saved == EINPROGRESS) && conn_traceable(fd))
		conn_open_timed(fd, ENC_ROLE_CLIENT, sa, len, shim_call_start(),
		    r == -1);
	else if (r == -1 && connect_failed(saved) && conn_traceable(fd))
		conn_failed(fd, sa, len, saved);
	else if (r == 0 && fdtab_is_conn(fdtab_get(fd)) &&
	    (c = conn_get(fd)) != NULL) {
		if (conn_udp(c))
			conn_udp_connect(c, sa, len);
		conn_put(c);
	}
	shim_leave();
	errno = saved;
	return (r);
}

/*
 * TCP Fast Open: sendto or sendmsg with MSG_FASTOPEN on a socket not yet
 * connected is its connect, with the data in the SYN (r bytes sent, or
 * -1 and EINPROGRESS when non-blocking and the SYN is under way).
 */
void
hook_fastopen(int fd, ssize_t r, const struct sockaddr *sa, socklen_t len)
{
	int	saved = errno;

	if (fdtab_is_conn(fdtab_get(fd)))
		connect_again(fd, r >= 0 ? 0 : -1, r >= 0 ? 0 : saved);
	else if ((r >= 0 || saved == EINPROGRESS) && conn_traceable(fd))
		conn_open_timed(fd, ENC_ROLE_CLIENT, sa, len, shim_call_start(),
		    r < 0);
	else if (r < 0 && connect_failed(saved) && conn_traceable(fd))
		conn_failed(fd, sa, len, saved);
	errno = saved;
}

static int
hook_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int	r, saved, outer;

	outer = shim_enter();
	r = REAL(accept4, SYS_accept4, fd, sa, len, flags);
	if (!outer) {
		shim_leave();
		return (r);
	}
	saved = errno;
	if (r >= 0 && conn_traceable(r))
		conn_open_timed(r, ENC_ROLE_SERVER, NULL, 0, shim_call_start(),
		    0);
	else if (r >= 0 && shim_tracing())
		conn_fd_made(r, 0);
	shim_leave();
	errno = saved;
	return (r);
}

static int
hook_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	int	r, saved, outer;

	outer = shim_enter();
#ifdef SYS_accept
	r = REAL(accept, SYS_accept, fd, sa, len);
#else
	/* i386 has no accept system call: accept4 with no flags is it. */
	if (real.accept == NULL && !real_resolving())
		real_init();
	r = real.accept != NULL && !real_resolving() ? real.accept(fd, sa,
	    len) : (int)syscall(SYS_accept4, fd, sa, len, 0);
#endif
	if (!outer) {
		shim_leave();
		return (r);
	}
	saved = errno;
	if (r >= 0 && conn_traceable(r))
		conn_open_timed(r, ENC_ROLE_SERVER, NULL, 0, shim_call_start(),
		    0);
	else if (r >= 0 && shim_tracing())
		conn_fd_made(r, 0);
	shim_leave();
	errno = saved;
	return (r);
}

/*
 * shutdown(SHUT_WR) ends the program's direction: Write.end_stream. A
 * UDP socket has no direction to end: nothing is sent, nothing recorded.
 */
static int
hook_shutdown(int fd, int how)
{
	struct conn	*c;
	int		 r, saved, outer;

	outer = shim_enter();
	r = REAL(shutdown, SYS_shutdown, fd, how);
	if (!outer) {
		shim_leave();
		return (r);
	}
	saved = errno;
	if (r == 0 && (how == SHUT_WR || how == SHUT_RDWR) &&
	    (c = conn_get(fd)) != NULL) {
		if (!conn_udp(c))
			conn_record(c, ENC_WRITE, NULL, 0, 1);
		conn_put(c);
	}
	shim_leave();
	errno = saved;
	return (r);
}

/*
 * getsockopt(SO_ERROR) is how a program learns that its non-blocking
 * connect failed (pitfalls, row 17): the trace then says so.
 */
static int
hook_getsockopt(int fd, int level, int name, void *val, socklen_t *len,
    int t64)
{
	struct conn	*c;
	int		 r, saved, err, outer;

	outer = shim_enter();
	r = REAL64(t64, getsockopt, SYS_getsockopt, __getsockopt64,
	    SYS_getsockopt, fd, level, name, val, len);
	if (!outer) {
		shim_leave();
		return (r);
	}
	saved = errno;
	if (r == 0 && level == SOL_SOCKET && name == SO_ERROR && val != NULL &&
	    len != NULL && *len >= sizeof(int)) {
		memcpy(&err, val, sizeof err);
		/* 0 only matters to a traced connect: no new trace for it. */
		if (((err == 0 && fdtab_is_conn(fdtab_get(fd))) ||
		    connect_failed(err)) && (c = conn_get(fd)) != NULL) {
			if (err == 0)
				conn_connect_done(c);
			else
				conn_connect_failed(c, err);
			conn_put(c);
		}
	}
	shim_leave();
	errno = saved;
	return (r);
}

HOOK int
getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return (hook_getsockopt(fd, level, name, val, len, 0));
}

HOOK int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return (hook_connect(fd, sa, len));
}

HOOK int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return (hook_accept(fd, sa, len));
}

HOOK int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return (hook_accept4(fd, sa, len, flags));
}

HOOK int
shutdown(int fd, int how)
{
	return (hook_shutdown(fd, how));
}

#if defined(__i386__)
/* i386 with _TIME_BITS=64: SO_ERROR is read through this one. */
HOOK int
__getsockopt64(int fd, int level, int name, void *val, socklen_t *len)
{
	return (hook_getsockopt(fd, level, name, val, len, 1));
}
#endif
