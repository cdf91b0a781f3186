/* Joining the run's collector: a ring of its own, mapped, no fd kept. */

#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "runstate.h"

/*
 * The process's ring, once asked for (tried): a forked child has none
 * (MADV_DONTFORK) and asks again, an exec'd image starts afresh.
 */
static struct ring	*collect_ring;
static size_t		 collect_len;
static int		 collect_tried;
static pthread_mutex_t	 collect_lock = PTHREAD_MUTEX_INITIALIZER;
/* Bumped in each forked child: the parent's buffers are not in it. */
static unsigned int	 collect_gen;

static int	collect_put(const struct tracefile *, enum ring_type,
		    const void *, size_t);
static int	collect_buffer(struct tracefile *, size_t);

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
	/*
	 * libc's fstat and mmap, not raw calls: a 32-bit process's
	 * SYS_fstat and SYS_mmap are the old ones (struct layouts,
	 * old_mmap's argument block). Neither is hooked.
	 */
	if (fstat((int)mfd, &st) != 0 || st.st_size <= 0)
		goto out;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, (int)mfd, 0);
	if (map == MAP_FAILED)
		goto out;
	if (ring_check(map, (size_t)st.st_size) != 0) {
		(void)munmap(map, (size_t)st.st_size);
		goto out;
	}
	(void)madvise(map, (size_t)st.st_size, MADV_DONTFORK);
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

	(void)munmap(r, len);
	errno = saved;
}

/*
 * Collector mode: make sure this process has its ring, asking the
 * collector named in c once. -1, with errbuf said, when it has none:
 * the caller writes its traces itself (direct mode).
 */
int
collect_join(const struct conf *c, char *errbuf, size_t size)
{
	int	saved = errno, r;

	pthread_mutex_lock(&collect_lock);
	if (!collect_tried) {
		collect_tried = 1;
		collect_ring = collect_attach(c->collector, &collect_len);
		if (collect_ring == NULL)
			snprintf(errbuf, size, "collector @%s: %s", c->collector,
			    strerror(errno != saved ? errno : ECONNREFUSED));
	} else if (collect_ring == NULL)
		snprintf(errbuf, size, "collector @%s: not joined",
		    c->collector);
	r = collect_ring != NULL ? 0 : -1;
	pthread_mutex_unlock(&collect_lock);
	errno = saved;
	return (r);
}

/* Why the ring refused a record: EPIPE, the reader is gone; ENOBUFS. */
static int
collect_err(void)
{
	struct timespec	ts;
	uint64_t	now, beat;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	beat = __atomic_load_n(&collect_ring->beat, __ATOMIC_ACQUIRE);
	if ((collect_ring->flags & RING_F_DROP) != 0 && now - beat <=
	    RING_STALE_NS)
		return (ENOBUFS);
	return (EPIPE);
}

/* One record of trace tf to the ring: -1 with errno when it is refused. */
static int
collect_put(const struct tracefile *tf, enum ring_type type, const void *p,
    size_t len)
{
	if (collect_ring == NULL) {
		errno = EPIPE;
		return (-1);
	}
	if (ring_put(collect_ring, type, tf->n, p, len) == -1) {
		errno = collect_err();
		return (-1);
	}
	return (0);
}

/*
 * Give tf a buffer of at least need bytes (page rounded), empty: the
 * old one goes. MADV_DONTFORK, as direct mode's windows.
 */
static int
collect_buffer(struct tracefile *tf, size_t need)
{
	size_t	page = (size_t)sysconf(_SC_PAGESIZE), len;
	void	*m;

	len = (need + page - 1) & ~(page - 1);
	if (len < TRACEFILE_WINDOW_MIN)
		len = TRACEFILE_WINDOW_MIN;
	if (tf->map != NULL && tf->maplen >= len)
		return (0);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return (-1);
	(void)madvise(m, len, MADV_DONTFORK);
	if (tf->map != NULL)
		(void)munmap(tf->map, tf->maplen);
	tf->map = m;
	tf->maplen = len;
	tf->gen = collect_gen;
	return (0);
}

/*
 * A trace numbered n (the run's counter) whose bytes go through the
 * ring: the collector creates and writes its file. Its pieces are
 * packed into a buffer of the process and pushed after each one.
 */
int
collect_create(struct tracefile *tf, uint64_t n, char *errbuf)
{
	int	saved;

	memset(tf, 0, sizeof *tf);
	tf->n = n;
	tf->ring = 1;
	tf->window = TRACEFILE_WINDOW_MIN;
	if (collect_ring == NULL || collect_buffer(tf, 1) == -1) {
		saved = collect_ring == NULL ? EPIPE : errno;
		snprintf(errbuf, TRACEFILE_ERRBUF_SIZE, "trace %llu: %s",
		    (unsigned long long)n, strerror(saved));
		errno = saved;
		return (-1);
	}
	return (0);
}

/*
 * The trace holds pos bytes now: hand the ring what it does not have
 * yet, in records of COLLECT_CHUNK at most (a piece is one record, all
 * or nothing, unless larger), and start the buffer afresh at pos. When
 * the ring refuses (EPIPE: the collector is gone; ENOBUFS: full, with
 * dropping asked) the trace is broken: nothing more of it is sent.
 */
int
collect_push(struct tracefile *tf, off_t pos)
{
	size_t	off, n;

	if (tf->broken != 0) {
		errno = tf->broken;
		return (-1);
	}
	while (tf->sent < pos) {
		off = (size_t)(tf->sent - tf->mapoff);
		n = (size_t)(pos - tf->sent);
		if (n > COLLECT_CHUNK)
			n = COLLECT_CHUNK;
		if (collect_put(tf, RING_DATA, tf->map + off, n) == -1) {
			tf->broken = errno;
			return (-1);
		}
		tf->sent += (off_t)n;
	}
	tf->mapoff = pos;
	return (0);
}

/* Cut what the collector wrote back to len (an exit's end taken over). */
static int
collect_cut(struct tracefile *tf, off_t len)
{
	uint64_t	v = (uint64_t)len;

	if (collect_put(tf, RING_CUT, &v, sizeof v) == -1) {
		tf->broken = errno;
		return (-1);
	}
	tf->sent = len;
	tf->mapoff = len;
	return (0);
}

/*
 * The next piece, from pos, needs need bytes: send what is packed, and
 * give the buffer room for it, starting at pos. -1 with errno when the
 * trace cannot go on.
 */
int
collect_grow(struct tracefile *tf, off_t pos, size_t need)
{
	int	saved = errno;

	if (tf->map != NULL && !collect_mapped(tf)) {
		errno = ESTALE;		/* a parent's trace, in a child */
		return (-1);
	}
	if (tf->broken != 0) {
		errno = tf->broken;
		return (-1);
	}
	if (pos < tf->sent ? collect_cut(tf, pos) == -1 :
	    collect_push(tf, pos) == -1)
		return (-1);
	if (collect_buffer(tf, need) == -1)
		return (-1);
	tf->mapoff = pos;
	errno = saved;
	return (0);
}

/*
 * The trace is complete at len bytes: the ring gets what it lacks (or
 * a cut back to len) and the end. With keep, the buffer stays for more
 * after the end (an exit's: a later destructor's I/O).
 */
int
collect_finish(struct tracefile *tf, off_t len, int keep)
{
	int	r = 0;

	if (!collect_mapped(tf))
		return (0);
	if (tf->broken == 0)
		r = len < tf->sent ? collect_cut(tf, len) :
		    collect_push(tf, len);
	(void)collect_put(tf, RING_END, NULL, 0);
	tf->alloc = len;
	tf->mapoff = len;
	if (!keep) {
		(void)munmap(tf->map, tf->maplen);
		tf->map = NULL;
		tf->maplen = 0;
	}
	return (r);
}

/* Is tf's buffer this process's (not a parent's, not ended)? */
int
collect_mapped(const struct tracefile *tf)
{
	return (tf->map != NULL && tf->gen == collect_gen);
}

/* What a ring's refusal (collect_push's errno) says for the run. */
uint32_t
collect_why(int err)
{
	return (err == ENOBUFS ? RUNSTATE_RING_FULL : RUNSTATE_RING_GONE);
}

/* Around fork: no ring is being joined while the child is made. */
void
collect_fork_prepare(void)
{
	pthread_mutex_lock(&collect_lock);
}

void
collect_fork_parent(void)
{
	pthread_mutex_unlock(&collect_lock);
}

/* In the child: the parent's ring and buffers are not here. */
void
collect_fork_child(void)
{
	pthread_mutex_init(&collect_lock, NULL);
	collect_ring = NULL;
	collect_len = 0;
	collect_tried = 0;
	collect_gen++;
}
