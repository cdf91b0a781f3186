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
 * outermost hook, where no lock of ours is held by this thread.
 */
static int
hook_close(int fd)
{
	int	r, saved, outer = shim_enter();

	if (outer && shim_tracing() && conn_file_guard(fd)) {
		shim_leave();
		errno = EBADF;
		return (-1);
	}
	if (outer && shim_tracing())
		conn_fd_closing(fd);	/* the kernel's counts, before */
	r = REAL(close, SYS_close, fd);
	saved = errno;
	/* Not in a vfork child: the table is the parent's (row 5). */
	if (!shim_tracing())
		;
	else if (outer)
		conn_fd_closed(fd);
	else
		(void)fdtab_swap(fd, NULL);
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

	if (outer && oldfd != newfd && shim_tracing())
		conn_file_move(newfd);
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

/* Forget fds lo..hi, closed together (close_range, closefrom). */
static void
fd_range_closed(unsigned int lo, unsigned int hi, int outer)
{
	unsigned int	fd;

	if (!shim_tracing())
		return;
	if (lo >= FDTAB_MAX_FD)
		return;
	if (hi >= FDTAB_MAX_FD)
		hi = FDTAB_MAX_FD - 1;
	for (fd = (unsigned int)fdtab_next((int)lo); fd <= hi;
	    fd = (unsigned int)fdtab_next((int)fd + 1)) {
		if (outer)
			conn_fd_closed((int)fd);
		else
			(void)fdtab_swap((int)fd, NULL);
	}
}

/* close_range: CLOSE_RANGE_CLOEXEC only marks fds, it closes nothing. */
static int
hook_close_range(unsigned int lo, unsigned int hi, int flags)
{
	int	r, saved, outer = shim_enter();

	r = REAL(close_range, SYS_close_range, lo, hi, flags);
	saved = errno;
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		fd_range_closed(lo, hi, outer);
	shim_leave();
	errno = saved;
	return (r);
}

static void
hook_closefrom(int lo)
{
	int	saved, outer = shim_enter();

	if (real.closefrom == NULL && !real_resolving())
		real_init();
	if (real.closefrom != NULL && !real_resolving())
		real.closefrom(lo);
	else
		(void)syscall(SYS_close_range, (unsigned int)lo, ~0U, 0);
	saved = errno;
	if (lo >= 0)
		fd_range_closed((unsigned int)lo, ~0U, outer);
	shim_leave();
	errno = saved;
}

static int
hook_fcntl64(int fd, int cmd, void *arg)
{
	int	r, outer = shim_enter();

	r = REAL(fcntl64, SYS_fcntl, fd, cmd, arg);
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
	return (hook_fcntl64(fd, cmd, arg));
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
