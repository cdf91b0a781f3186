/* The shim's own writes, made so that they never signal the host. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostwrite.h"

/* The kernel's sigset_t: 64 signals (rt_sigprocmask(2)). */
#define HOSTWRITE_SIGSETSIZE	8

/* Block SIGPIPE and SIGXFSZ on this thread; the old mask in *old. */
static int
hostwrite_block(sigset_t *set, sigset_t *old)
{
	sigemptyset(set);
	sigaddset(set, SIGPIPE);
	sigaddset(set, SIGXFSZ);
	return ((int)syscall(SYS_rt_sigprocmask, SIG_BLOCK, set, old,
	    HOSTWRITE_SIGSETSIZE));
}

/* Is sig pending now, for this thread or the process? */
static int
hostwrite_pending(int sig)
{
	sigset_t	p;

	sigemptyset(&p);
	if (syscall(SYS_rt_sigpending, &p, HOSTWRITE_SIGSETSIZE) == -1)
		return (0);
	return (sigismember(&p, sig) == 1);
}

/* Take one pending sig off the queue without running its handler. */
static void
hostwrite_consume(int sig)
{
	struct timespec	zero = { 0, 0 };
	sigset_t	one;

	sigemptyset(&one);
	sigaddset(&one, sig);
	(void)syscall(SYS_rt_sigtimedwait, &one, NULL, &zero,
	    HOSTWRITE_SIGSETSIZE);
}

/*
 * Would n more bytes on the regular file fd pass RLIMIT_FSIZE? The
 * kernel would cut the write short (a torn line) or refuse it with
 * SIGXFSZ; we skip it instead.
 */
static int
hostwrite_over_limit(int fd, size_t n)
{
	struct rlimit	rl;
	struct stat	st;

	if (syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return (0);
	if (syscall(SYS_fstat, fd, &st) == -1 || !S_ISREG(st.st_mode))
		return (0);
	return ((uint64_t)st.st_size + n > (uint64_t)rl.rlim_cur);
}

/*
 * writev(2) on the shim's own behalf: a regular file would pass
 * RLIMIT_FSIZE is not written (EFBIG), and SIGPIPE and SIGXFSZ are
 * blocked on this thread around the call, a signal our write raised is
 * consumed before they are unblocked, so the program's handlers and
 * default actions never see them. Raw syscalls: the hooks do not see
 * them. Returns what writev returned (errno set on -1).
 */
ssize_t
hostwrite_writev(int fd, const struct iovec *iov, int cnt)
{
	sigset_t	set, old;
	size_t		n = 0;
	ssize_t		r;
	int		i, pipe0, xfsz0, saved, blocked;

	for (i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	if (hostwrite_over_limit(fd, n)) {
		errno = EFBIG;
		return (-1);
	}
	blocked = hostwrite_block(&set, &old) == 0;
	/* One already pending is the program's: it stays. */
	pipe0 = blocked && hostwrite_pending(SIGPIPE);
	xfsz0 = blocked && hostwrite_pending(SIGXFSZ);
	do
		r = (ssize_t)syscall(SYS_writev, fd, iov, cnt);
	while (r == -1 && errno == EINTR);
	saved = errno;
	if (blocked) {
		if (r == -1 && saved == EPIPE && !pipe0 &&
		    hostwrite_pending(SIGPIPE))
			hostwrite_consume(SIGPIPE);
		if (r == -1 && saved == EFBIG && !xfsz0 &&
		    hostwrite_pending(SIGXFSZ))
			hostwrite_consume(SIGXFSZ);
		(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL,
		    HOSTWRITE_SIGSETSIZE);
	}
	errno = saved;
	return (r);
}

/* hostwrite_writev() of one buffer. */
ssize_t
hostwrite_write(int fd, const void *buf, size_t n)
{
	struct iovec	iov;

	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = n;
	return (hostwrite_writev(fd, &iov, 1));
}

/*
 * Open path to append to, for a file of the shim's own (the key log,
 * TAPSHIM_LOG): never through a symlink (O_NOFOLLOW), never blocking on
 * a FIFO (O_NONBLOCK), close-on-exec, created 0600; refused unless it is
 * a regular file owned by us, and made 0600 if it is wider. Returns the
 * fd (raw syscalls: the hooks do not see it), or -1 with *why set to a
 * static reason. errno is kept.
 */
int
hostwrite_open(const char *path, const char **why)
{
	struct stat	st;
	long		fd;
	int		saved = errno;

	fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		/* ENXIO: a FIFO nobody reads (O_NONBLOCK kept us from waiting). */
		*why = errno == ELOOP ? "is a symbolic link" : errno == ENXIO ?
		    "is not a regular file" : strerror(errno);
		errno = saved;
		return (-1);
	}
	*why = NULL;
	if (syscall(SYS_fstat, (int)fd, &st) == -1)
		*why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		*why = "is not a regular file";
	else if (st.st_uid != (uid_t)syscall(SYS_geteuid))
		*why = "belongs to another user";
	else if ((st.st_mode & 077) != 0 &&
	    syscall(SYS_fchmod, (int)fd, 0600) == -1)
		*why = "cannot be made private (mode 0600)";
	if (*why != NULL) {
		(void)syscall(SYS_close, (int)fd);
		errno = saved;
		return (-1);
	}
	errno = saved;
	return ((int)fd);
}
