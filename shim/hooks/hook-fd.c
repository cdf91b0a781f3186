/* Hooks that end or copy fds: close, dup, dup2, dup3, fcntl(F_DUPFD). */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <unistd.h>

#include "conn.h"
#include "fdtab.h"
#include "hook.h"
#include "shim.h"

/*
 * close: the fd's slot is forgotten even when nested (a signal handler
 * closing inside a hook), but a connection is only finished from the
 * outermost hook, where no lock of ours is held by this thread. The slot
 * is read before the real close and cleared after it only if it still
 * holds that: another thread may get the number from open(), socket()
 * or accept() in between, and its new connection is not ours to end.
 */
static int
hook_close(int fd)
{
	struct conn	*was, *held = NULL;
	int		 r, saved, tracing, outer = shim_enter();

	/* Not in a vfork child: the table is the parent's (row 5). */
	tracing = shim_tracing();
	was = !tracing ? NULL : outer ? conn_fd_closing(fd, &held) :
	    fdtab_get(fd);
	r = REAL(close, SYS_close, fd);
	saved = errno;
	if (tracing)
		conn_fd_ended(fd, was, held, outer);
	shim_leave();
	errno = saved;
	return (r);
}

/* After a call made newfd a copy of oldfd. */
static int
fd_copied(int oldfd, int r)
{
	int	saved = errno;

	if (r >= 0 && r != oldfd && shim_tracing())
		conn_fd_dup(oldfd, r);
	errno = saved;
	return (r);
}

static int
hook_dup(int fd)
{
	int	r, outer = shim_enter();

	r = REAL(dup, SYS_dup, fd);
	if (outer)
		fd_copied(fd, r);
	shim_leave();
	return (r);
}

static int
hook_dup3(int oldfd, int newfd, int flags, int is_dup2)
{
	int	r, outer = shim_enter();

	if (is_dup2)
		r = REAL(dup2, SYS_dup2, oldfd, newfd);
	else
		r = REAL(dup3, SYS_dup3, oldfd, newfd, flags);
	if (outer)
		fd_copied(oldfd, r);
	shim_leave();
	return (r);
}

static int
hook_fcntl(int fd, int cmd, void *arg)
{
	int	r, outer = shim_enter();

	r = REAL(fcntl, SYS_fcntl, fd, cmd, arg);
	if (outer && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fd_copied(fd, r);
	shim_leave();
	return (r);
}

/* Connections a range close compares after the call; more: blind. */
#define FD_RANGE_HELD	64

struct fd_range {
	unsigned int	 lo, hi;
	int		 outer, n;
	int		 fd[FD_RANGE_HELD];
	struct conn	*was[FD_RANGE_HELD], *held[FD_RANGE_HELD];
};

/*
 * Before fds lo..hi are closed together (close_range, closefrom): the
 * connections in their slots, held, as close() does for one.
 */
static void
fd_range_closing(struct fd_range *fr, unsigned int lo, unsigned int hi,
    int outer)
{
	unsigned int	fd;

	fr->n = 0;
	fr->outer = outer && shim_tracing();
	fr->lo = lo;
	fr->hi = hi >= FDTAB_MAX_FD ? FDTAB_MAX_FD - 1 : hi;
	if (!fr->outer || lo >= FDTAB_MAX_FD)
		return;
	for (fd = (unsigned int)fdtab_next((int)lo); fd <= fr->hi &&
	    fr->n < FD_RANGE_HELD; fd = (unsigned int)fdtab_next((int)fd + 1)) {
		if (!fdtab_is_conn(fdtab_get((int)fd)))
			continue;
		fr->fd[fr->n] = (int)fd;
		fr->was[fr->n] = conn_fd_closing((int)fd, &fr->held[fr->n]);
		fr->n++;
	}
}

/*
 * After: the held ones are compared and ended; the other slots in the
 * range (past FD_RANGE_HELD connections, or not connections) cleared.
 */
static void
fd_range_closed(struct fd_range *fr, int closed)
{
	unsigned int	fd;
	int		i;

	if (!shim_tracing() || fr->lo >= FDTAB_MAX_FD) {
		fr->n = 0;
		return;
	}
	for (i = 0; i < fr->n; i++)
		conn_fd_ended(fr->fd[i], closed ? fr->was[i] : NULL,
		    fr->held[i], 1);
	if (!closed)
		return;
	for (fd = (unsigned int)fdtab_next((int)fr->lo); fd <= fr->hi;
	    fd = (unsigned int)fdtab_next((int)fd + 1)) {
		for (i = 0; i < fr->n && fr->fd[i] != (int)fd; i++)
			;
		if (i == fr->n)
			conn_fd_ended((int)fd, fdtab_get((int)fd), NULL,
			    fr->outer);
	}
}

/* close_range: CLOSE_RANGE_CLOEXEC only marks fds, it closes nothing. */
static int
hook_close_range(unsigned int lo, unsigned int hi, int flags)
{
	struct fd_range	fr;
	int		r, saved, outer = shim_enter();

	fd_range_closing(&fr, lo, hi, outer && !(flags & CLOSE_RANGE_CLOEXEC));
	r = REAL(close_range, SYS_close_range, lo, hi, flags);
	saved = errno;
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		fd_range_closed(&fr, r == 0);
	shim_leave();
	errno = saved;
	return (r);
}

static void
hook_closefrom(int lo)
{
	struct fd_range	fr;
	int		saved, outer = shim_enter();

	fd_range_closing(&fr, lo < 0 ? FDTAB_MAX_FD : (unsigned int)lo, ~0U,
	    outer);
	if (real.closefrom == NULL && !real_resolving())
		real_init();
	if (real.closefrom != NULL && !real_resolving())
		real.closefrom(lo);
	else
		(void)syscall(SYS_close_range, (unsigned int)lo, ~0U, 0);
	saved = errno;
	fd_range_closed(&fr, lo >= 0);
	shim_leave();
	errno = saved;
}

static int
hook_fcntl64(int fd, int cmd, void *arg, int t64)
{
	int	r, outer = shim_enter();

	r = REAL64(t64, fcntl64, SYS_fcntl, __fcntl_time64, SYS_fcntl, fd, cmd,
	    arg);
	if (outer && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fd_copied(fd, r);
	shim_leave();
	return (r);
}

HOOK int
close(int fd)
{
	return (hook_close(fd));
}

HOOK int
dup(int fd)
{
	return (hook_dup(fd));
}

HOOK int
dup2(int oldfd, int newfd)
{
	return (hook_dup3(oldfd, newfd, 0, 1));
}

HOOK int
dup3(int oldfd, int newfd, int flags)
{
	return (hook_dup3(oldfd, newfd, flags, 0));
}

/* Every fcntl argument fits a pointer on the ABIs glibc supports. */
HOOK int
fcntl(int fd, int cmd, ...)
{
	va_list	ap;
	void	*arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return (hook_fcntl(fd, cmd, arg));
}

HOOK int
fcntl64(int fd, int cmd, ...)
{
	va_list	ap;
	void	*arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return (hook_fcntl64(fd, cmd, arg, 0));
}

HOOK int
close_range(unsigned int lo, unsigned int hi, int flags)
{
	return (hook_close_range(lo, hi, flags));
}

HOOK void
closefrom(int lo)
{
	hook_closefrom(lo);
}

#if defined(__i386__)
/* i386 with _TIME_BITS=64 (and _FILE_OFFSET_BITS=64): fcntl is this. */
HOOK int
__fcntl_time64(int fd, int cmd, ...)
{
	va_list	ap;
	void	*arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return (hook_fcntl64(fd, cmd, arg, 1));
}
#endif
