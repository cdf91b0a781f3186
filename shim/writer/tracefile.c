/* Trace files: created safely, written through a shared mapping, no fd held. */

#include "config.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracefile.h"

/*
 * The lowest number that may still be free. Files are never removed by
 * the shim, so it only grows; another process's files are found by
 * tracefile_probe() and skipped by O_EXCL.
 */
static uint64_t		tracefile_hint[2];	/* [1]: the fallback's */
/* This process may not create files at the prefix: the fallback, then. */
static int			tracefile_alt;

/*
 * Held while the shim has a trace file open (a few calls at most), and
 * by fork: a child never inherits a descriptor of the shim.
 */
static pthread_mutex_t	tracefile_fd_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Bumped in each forked child: a window mapped before the fork is not in
 * the child (MADV_DONTFORK), though the parent's structs are.
 */
static unsigned int	tracefile_gen;

/* Zeros for file systems without fallocate(). */
static const uint8_t	tracefile_zeros[65536];

/* The signals the shim's own file calls could raise in the host. */
#define TRACEFILE_SIGS	((1ULL << (SIGXFSZ - 1)) | (1ULL << (SIGPIPE - 1)))

static size_t
tracefile_page(void)
{
	static size_t	page;

	if (page == 0)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return (page);
}

/*
 * open() and the file calls below are not hooked; libc's wrappers, not
 * raw system calls, so that 32-bit builds get their off_t and struct
 * stat right. Raw close: the shim's own fds never go through its hook.
 */
static int
tracefile_sys_open(const char *path, int flags, mode_t mode)
{
	return (open(path, flags, mode));
}

static void
tracefile_sys_close(int fd)
{
	(void)syscall(SYS_close, fd);
}

/*
 * Block SIGXFSZ and SIGPIPE on this thread around a call that grows or
 * cuts a file (issue 11.1); *pend says which were already pending.
 */
static void
tracefile_sig_block(uint64_t *old, uint64_t *pend)
{
	uint64_t	set = TRACEFILE_SIGS;

	(void)syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, old, sizeof set);
	if (syscall(SYS_rt_sigpending, pend, sizeof *pend) == -1)
		*pend = TRACEFILE_SIGS;
}

/*
 * Consume a signal that became pending only because of our call (never
 * one the program blocked, or one already pending), then unblock.
 */
static void
tracefile_sig_restore(const uint64_t *old, const uint64_t *pend)
{
	struct timespec	zero = { 0, 0 };
	uint64_t	now, one;
	int		sig;

	if (syscall(SYS_rt_sigpending, &now, sizeof now) == 0) {
		for (sig = 1; sig <= 64; sig++) {
			one = 1ULL << (sig - 1);
			if ((TRACEFILE_SIGS & one) == 0 || (now & one) == 0 ||
			    (*pend & one) != 0 || (*old & one) != 0)
				continue;
			(void)syscall(SYS_rt_sigtimedwait, &one, NULL, &zero,
			    sizeof one);
		}
	}
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL,
	    sizeof *old);
}

/* The name of trace file n at the prefix (alt: the fallback) into buf. */
static int
tracefile_name(const struct conf *c, int alt, uint64_t n, char *buf,
    size_t size)
{
	int	len;

	len = snprintf(buf, size, "%s_%llu%s", alt ? c->fallback : c->prefix,
	    (unsigned long long)n, conf_extension(c->format));
	return (len < 0 || (size_t)len >= size ? -1 : 0);
}

/* Write the name of trace file n into buf. */
int
tracefile_path(const struct conf *c, uint64_t n, char *buf, size_t size)
{
	return (tracefile_name(c, 0, n, buf, size));
}

/* Is there a file (or anything) named as trace n? */
static int
tracefile_exists(const struct conf *c, int alt, uint64_t n)
{
	char	path[PATH_MAX + 64];

	if (tracefile_name(c, alt, n, path, sizeof path) == -1)
		return (0);
	return (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT);
}

/*
 * A number from n on with no file yet, in O(log k) probes past k
 * existing ones (issue 11.9): double the step while names exist, then
 * halve the gap. Files are only ever added, so the first gap found is
 * as good as any; O_EXCL settles races.
 */
static uint64_t
tracefile_probe(const struct conf *c, int alt, uint64_t n)
{
	uint64_t	lo, hi, step, mid;

	if (!tracefile_exists(c, alt, n))
		return (n);
	lo = n;
	for (step = 1; step < (1ULL << 40); step *= 2) {
		if (!tracefile_exists(c, alt, n + step))
			break;
		lo = n + step;
	}
	hi = n + step;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tracefile_exists(c, alt, mid))
			lo = mid;
		else
			hi = mid;
	}
	return (hi);
}

/* Is fd the file the shim created? */
static int
tracefile_check(const struct tracefile *tf, int fd, off_t *size)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return (0);
	if (size != NULL)
		*size = st.st_size;
	return (S_ISREG(st.st_mode) && st.st_dev == tf->dev &&
	    st.st_ino == tf->ino);
}

/* Open the trace file again, by name, if it is still the one created. */
static int
tracefile_reopen(const struct conf *c, const struct tracefile *tf,
    off_t *size)
{
	char	path[PATH_MAX + 64];
	int	fd;

	if (tracefile_name(c, tf->alt, tf->n, path, sizeof path) == -1) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	fd = tracefile_sys_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd == -1) {
		if (errno == ENOENT || errno == ELOOP)
			errno = ESTALE;
		return (-1);
	}
	if (!tracefile_check(tf, fd, size)) {
		tracefile_sys_close(fd);
		errno = ESTALE;
		return (-1);
	}
	return (fd);
}

/*
 * Give the file blocks up to end, so that no store into the mapping can
 * fault for want of space: fallocate(), or zeros where it is not
 * supported. Never past RLIMIT_FSIZE (EFBIG instead of SIGXFSZ).
 */
static int
tracefile_extend(struct tracefile *tf, int fd, off_t end)
{
	struct rlimit	rl;
	uint64_t	old, pend;
	off_t		at;
	ssize_t		w;
	size_t		n;
	int		r, saved;

	if (end <= tf->alloc)
		return (0);
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)end > (uint64_t)rl.rlim_cur) {
		errno = EFBIG;
		return (-1);
	}
	tracefile_sig_block(&old, &pend);
	do {
		r = fallocate(fd, 0, tf->alloc, end - tf->alloc);
	} while (r == -1 && errno == EINTR);
	if (r == -1 && errno == EOPNOTSUPP) {
		for (at = tf->alloc, r = 0; at < end && r == 0; at += w) {
			n = (size_t)(end - at) < sizeof tracefile_zeros ?
			    (size_t)(end - at) : sizeof tracefile_zeros;
			w = pwrite(fd, tracefile_zeros, n, at);
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w <= 0) {
				if (w == 0)
					errno = ENOSPC;
				r = -1;
			}
		}
	}
	saved = errno;
	tracefile_sig_restore(&old, &pend);
	if (r == -1) {
		errno = saved;
		return (-1);
	}
	tf->alloc = end;
	return (0);
}

/*
 * Map a window of fd holding [pos, pos + need): from the page holding
 * pos, at least tf->window long, the file extended to cover it. The old
 * window goes first: never more than one is mapped (if the new one
 * cannot be, the old comes back, or none). MADV_DONTFORK: a forked
 * child has its own traces, never the parent's windows.
 */
static int
tracefile_map(struct tracefile *tf, int fd, off_t pos, size_t need)
{
	struct rlimit	rl;
	size_t		page = tracefile_page(), len;
	off_t		off = pos & ~(off_t)(page - 1), end;
	void		*m;
	int		saved;

	len = ((size_t)(pos - off) + need + page - 1) & ~(page - 1);
	if (len < tf->window)
		len = tf->window;
	end = off + (off_t)len;
	/* Under RLIMIT_FSIZE a smaller window may still hold the record. */
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (uint64_t)end > (uint64_t)rl.rlim_cur &&
	    (uint64_t)rl.rlim_cur >= (uint64_t)pos + need &&
	    (off_t)rl.rlim_cur > tf->alloc) {
		end = (off_t)rl.rlim_cur;
		len = (size_t)(end - off);
	}
	if (tracefile_extend(tf, fd, end) == -1) {
		/* The blocks given already may hold the piece: map those. */
		if (tf->alloc < pos + (off_t)need || tf->alloc <= off)
			return (-1);
		end = tf->alloc;
		len = (size_t)(end - off);
	}
	/* The old window goes first: RSS never holds two. */
	if (tf->map != NULL)
		(void)munmap(tf->map, tf->maplen);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (m == MAP_FAILED) {
		/* Map the old window back, for the trace's end. */
		saved = errno;
		m = tf->map == NULL ? MAP_FAILED : mmap(NULL, tf->maplen,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, tf->mapoff);
		tf->map = m == MAP_FAILED ? NULL : m;
		if (tf->map != NULL)
			(void)madvise(m, tf->maplen, MADV_DONTFORK);
		errno = saved;
		return (-1);
	}
	(void)madvise(m, len, MADV_DONTFORK);
#ifdef MADV_POPULATE_WRITE
	/* One call instead of a fault per page (Linux 5.14; else faults). */
	(void)madvise(m, len, MADV_POPULATE_WRITE);
#endif
	tf->map = m;
	tf->maplen = len;
	tf->mapoff = off;
	tf->gen = tracefile_gen;
	if (tf->window < TRACEFILE_WINDOW_MAX)
		tf->window *= 2;
	return (0);
}

/*
 * Create <prefix>_<N><ext> with a free N: O_CREAT|O_EXCL makes
 * concurrent processes and forked children take different numbers, and
 * with O_NOFOLLOW a planted symlink is skipped, never followed. Mode
 * 0600: traces hold what the program said. The first window is mapped
 * and the fd closed at once. On failure errbuf says why.
 */
int
tracefile_create(const struct conf *c, struct tracefile *tf, char *errbuf)
{
	char		path[PATH_MAX + 64];
	struct stat	st;
	uint64_t	n;
	int		fd, saved, alt;

	pthread_mutex_lock(&tracefile_fd_lock);
	alt = tracefile_alt;
	n = tracefile_probe(c, alt, tracefile_hint[alt]);
	for (;; n++) {
		if (tracefile_name(c, alt, n, path, sizeof path) == -1) {
			pthread_mutex_unlock(&tracefile_fd_lock);
			snprintf(errbuf, TRACEFILE_ERRBUF_SIZE, "%s_%llu: name "
			    "too long", alt ? c->fallback : c->prefix,
			    (unsigned long long)n);
			errno = ENAMETOOLONG;
			return (-1);
		}
		fd = tracefile_sys_open(path, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1)
			break;
		/*
		 * A process that may not create files at the prefix (a
		 * worker that dropped privileges) uses the fallback from
		 * now on, if the launcher gave one.
		 */
		if ((errno == EACCES || errno == EPERM) && !alt &&
		    c->fallback[0] != '\0') {
			alt = tracefile_alt = 1;
			n = tracefile_probe(c, alt, tracefile_hint[alt]) - 1;
			continue;
		}
		if (errno != EEXIST) {
			saved = errno;
			pthread_mutex_unlock(&tracefile_fd_lock);
			snprintf(errbuf, TRACEFILE_ERRBUF_SIZE, "%s: %s", path,
			    strerror(saved));
			errno = saved;
			return (-1);
		}
	}
	tracefile_hint[alt] = n + 1;
	memset(tf, 0, sizeof *tf);
	tf->n = n;
	tf->alt = alt;
	tf->window = TRACEFILE_WINDOW_MIN;
	if (fstat(fd, &st) == 0) {
		tf->dev = st.st_dev;
		tf->ino = st.st_ino;
	}
	if (tf->ino == 0 || tracefile_map(tf, fd, 0, 1) == -1) {
		saved = errno;
		/* Ours (O_EXCL, just made): leave no empty file behind. */
		if (tracefile_check(tf, fd, NULL))
			(void)unlink(path);
		tracefile_sys_close(fd);
		pthread_mutex_unlock(&tracefile_fd_lock);
		snprintf(errbuf, TRACEFILE_ERRBUF_SIZE, "%s: %s", path,
		    strerror(saved));
		errno = saved;
		return (-1);
	}
	tracefile_sys_close(fd);
	pthread_mutex_unlock(&tracefile_fd_lock);
	return (0);
}

/*
 * Make [pos, pos + need) of the file mapped (a record never straddles
 * two windows): reopen it by name, check it is still the file created,
 * extend it and map the window. Returns -1 with errno ESTALE (the file
 * was removed or replaced), ENOSPC, EFBIG (RLIMIT_FSIZE) or another.
 */
int
tracefile_grow(const struct conf *c, struct tracefile *tf, off_t pos,
    size_t need)
{
	int	fd, r, saved;

	if (tf->map != NULL && !tracefile_mapped(tf)) {
		errno = ESTALE;		/* a parent's trace, in a child */
		return (-1);
	}
	pthread_mutex_lock(&tracefile_fd_lock);
	if ((fd = tracefile_reopen(c, tf, NULL)) == -1) {
		saved = errno;
		pthread_mutex_unlock(&tracefile_fd_lock);
		errno = saved;
		return (-1);
	}
	r = tracefile_map(tf, fd, pos, need);
	saved = errno;
	tracefile_sys_close(fd);
	pthread_mutex_unlock(&tracefile_fd_lock);
	errno = saved;
	return (r);
}

/*
 * Write len bytes (iov) at pos with pwritev(), into the file's page
 * cache: once it returns they survive the process as a mapping's stores
 * do, without a mapped page zeroed first and copied over after. The
 * file is given blocks up to pos + len + keep first (some more ahead,
 * as a window would), so that keep bytes stay for the trace's end and
 * the write never grows the file (no SIGXFSZ). The next window mapped
 * starts small again: the pieces between large ones are small. Returns
 * -1 with errno as tracefile_grow(), nothing or part written.
 */
int
tracefile_write(const struct conf *c, struct tracefile *tf, off_t pos,
    const struct iovec *iov, int iovcnt, size_t len, size_t keep)
{
	struct iovec	 v[TRACEFILE_IOV_MAX];
	off_t		 size, end = pos + (off_t)len + (off_t)keep;
	ssize_t		 w;
	size_t		 done;
	int		 fd, i, r = 0, saved = 0;

	if (!tracefile_mapped(tf)) {
		errno = ESTALE;
		return (-1);
	}
	if (iovcnt <= 0 || iovcnt > TRACEFILE_IOV_MAX) {
		errno = EINVAL;
		return (-1);
	}
	memcpy(v, iov, (size_t)iovcnt * sizeof *v);
	pthread_mutex_lock(&tracefile_fd_lock);
	if ((fd = tracefile_reopen(c, tf, &size)) == -1) {
		saved = errno;
		pthread_mutex_unlock(&tracefile_fd_lock);
		errno = saved;
		return (-1);
	}
	/* Cut short by another (not by us): give it its blocks again. */
	if (size < tf->alloc)
		tf->alloc = size;
	if (end > tf->alloc && tracefile_extend(tf, fd, end +
	    TRACEFILE_WINDOW_MAX) == -1 && tracefile_extend(tf, fd, end) == -1)
		r = -1;
	for (i = 0, done = 0; r == 0 && done < len; ) {
		w = pwritev(fd, v + i, iovcnt - i, pos + (off_t)done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			r = -1;
			break;
		}
		done += (size_t)w;
		/* A short write: go on from where it stopped. */
		while (i < iovcnt && (size_t)w >= v[i].iov_len)
			w -= (ssize_t)v[i++].iov_len;
		if (i < iovcnt) {
			v[i].iov_base = (uint8_t *)v[i].iov_base + w;
			v[i].iov_len -= (size_t)w;
		}
	}
	saved = errno;
	tracefile_sys_close(fd);
	pthread_mutex_unlock(&tracefile_fd_lock);
	tf->window = TRACEFILE_WINDOW_MIN;
	errno = saved;
	return (r);
}

/*
 * The trace is complete at len bytes: cut the file's unwritten tail off
 * (if it is still ours) and unmap it; with keep, the window stays
 * mapped (pages past len must not be touched until tracefile_grow()).
 * Returns -1 if the tail stays.
 */
int
tracefile_finish(const struct conf *c, struct tracefile *tf, off_t len,
    int keep)
{
	uint64_t	old, pend;
	int		fd, r = -1, saved = 0;

	if (!tracefile_mapped(tf))
		return (0);
	pthread_mutex_lock(&tracefile_fd_lock);
	if ((fd = tracefile_reopen(c, tf, NULL)) != -1) {
		tracefile_sig_block(&old, &pend);
		r = ftruncate(fd, len);
		saved = errno;
		tracefile_sig_restore(&old, &pend);
		tracefile_sys_close(fd);
		if (r == 0)
			tf->alloc = len;
	} else
		saved = errno;
	pthread_mutex_unlock(&tracefile_fd_lock);
	if (!keep) {
		(void)munmap(tf->map, tf->maplen);
		tf->map = NULL;
		tf->maplen = 0;
	}
	errno = saved;
	return (r);
}

/* Is tf's window mapped in this process (not a parent's, not ended)? */
int
tracefile_mapped(const struct tracefile *tf)
{
	return (tf->map != NULL && tf->gen == tracefile_gen);
}

/* Before fork: no other thread holds a trace file open. */
void
tracefile_fork_prepare(void)
{
	pthread_mutex_lock(&tracefile_fd_lock);
}

void
tracefile_fork_parent(void)
{
	pthread_mutex_unlock(&tracefile_fd_lock);
}

void
tracefile_fork_child(void)
{
	pthread_mutex_init(&tracefile_fd_lock, NULL);
	tracefile_gen++;
}
