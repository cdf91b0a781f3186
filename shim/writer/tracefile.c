/* Trace files: created safely, kept at high fds, checked before writing. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tracefile.h"

/* How far below the fd limit trace files are kept. */
#define TRACEFILE_FD_ROOM	64

/*
 * The lowest number that may still be free. Files are never removed by
 * the shim, so it only grows; another process's files are skipped by
 * O_EXCL as they are met.
 */
static uint64_t	tracefile_hint;

/* Raw close: the shim's own fds never go through its close hook. */
static void
tracefile_sys_close(int fd)
{
	(void)syscall(SYS_close, fd);
}

/* Write the name of trace file n into buf. */
int
tracefile_path(const struct conf *c, uint64_t n, char *buf, size_t size)
{
	int	len;

	len = snprintf(buf, size, "%s_%llu%s", c->prefix,
	    (unsigned long long)n, conf_extension(c->format));
	return (len < 0 || (size_t)len >= size ? -1 : 0);
}

/*
 * Move fd as high as the fd limit allows, close-on-exec, so it stays out
 * of the way of programs that expect the lowest free numbers (or close
 * everything above 2). Returns the new fd, or fd itself if it cannot move.
 */
int
tracefile_high_fd(int fd)
{
	struct rlimit	rl;
	long		top = 1024;
	int		nfd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		top = (long)rl.rlim_cur;
	if (top > 65536)
		top = 65536;
	if (top <= 2 * TRACEFILE_FD_ROOM)
		return (fd);
	nfd = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC,
	    top - TRACEFILE_FD_ROOM);
	if (nfd == -1)
		return (fd);
	tracefile_sys_close(fd);
	return (nfd);
}

/*
 * Create <prefix>_<N><ext> with the lowest N free now: O_CREAT|O_EXCL
 * makes concurrent processes and forked children take different numbers,
 * and with O_NOFOLLOW a planted symlink is skipped, never followed. Mode
 * 0600: traces hold what the program said. On failure errbuf says why.
 */
int
tracefile_create(const struct conf *c, struct tracefile *tf, char *errbuf)
{
	char		path[PATH_MAX + 64];
	struct stat	st;
	uint64_t	n = __atomic_load_n(&tracefile_hint, __ATOMIC_RELAXED);
	int		fd;

	for (;; n++) {
		if (tracefile_path(c, n, path, sizeof path) == -1) {
			snprintf(errbuf, TRACEFILE_ERRBUF_SIZE, "%s_%llu: name "
			    "too long", c->prefix, (unsigned long long)n);
			errno = ENAMETOOLONG;
			return (-1);
		}
		/* O_APPEND: a write cut back off leaves no hole behind. */
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1)
			break;
		if (errno != EEXIST) {
			snprintf(errbuf, TRACEFILE_ERRBUF_SIZE, "%s: %s", path,
			    strerror(errno));
			return (-1);
		}
	}
	__atomic_store_n(&tracefile_hint, n + 1, __ATOMIC_RELAXED);
	if (fstat(fd, &st) == -1) {
		snprintf(errbuf, TRACEFILE_ERRBUF_SIZE, "%s: %s", path,
		    strerror(errno));
		tracefile_sys_close(fd);
		return (-1);
	}
	tf->n = n;
	tf->fd = tracefile_high_fd(fd);
	tf->dev = st.st_dev;
	tf->ino = st.st_ino;
	return (0);
}

/* Is fd the file the shim created? If so, *size is its size now. */
static int
tracefile_check(const struct tracefile *tf, off_t *size)
{
	struct stat	st;

	if (tf->fd < 0 || fstat(tf->fd, &st) == -1)
		return (0);
	*size = st.st_size;
	return (S_ISREG(st.st_mode) && st.st_dev == tf->dev &&
	    st.st_ino == tf->ino);
}

/* Is tf->fd still the file the shim created? Programs dup2 over fds. */
int
tracefile_is_ours(const struct tracefile *tf)
{
	off_t	size;

	return (tracefile_check(tf, &size));
}

/* Open the trace file again, by name, if it is still the one created. */
int
tracefile_reopen(const struct conf *c, struct tracefile *tf)
{
	char	path[PATH_MAX + 64];

	if (tracefile_path(c, tf->n, path, sizeof path) == -1)
		return (-1);
	tf->fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (tf->fd == -1)
		return (-1);
	if (!tracefile_is_ours(tf)) {
		tracefile_sys_close(tf->fd);
		tf->fd = -1;
		errno = ESTALE;
		return (-1);
	}
	tf->fd = tracefile_high_fd(tf->fd);
	return (0);
}

/*
 * Write all of iov[0..n) to the trace file, checking first that the fd is
 * still ours; never writes anywhere else. A write that fails part way
 * (disk full) is cut back off, so the file still ends on a whole chunk
 * and stays readable. Returns the bytes written, or -1 (errno set:
 * ESTALE when the fd is no longer the trace file).
 */
ssize_t
tracefile_writev(struct tracefile *tf, struct iovec *iov, int n)
{
	ssize_t	r, total = 0;
	off_t	size;
	int	saved;

	if (!tracefile_check(tf, &size)) {
		errno = ESTALE;
		return (-1);
	}
	while (n > 0) {
		r = (ssize_t)syscall(SYS_writev, tf->fd, iov, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			saved = r == 0 ? ENOSPC : errno;
			if (total > 0)
				(void)syscall(SYS_ftruncate, tf->fd, size);
			errno = saved;
			return (-1);
		}
		total += r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return (total);
}

/* Close the trace file's fd (the file stays). */
void
tracefile_close(struct tracefile *tf)
{
	if (tf->fd >= 0 && tracefile_is_ours(tf))
		tracefile_sys_close(tf->fd);
	tf->fd = -1;
}
