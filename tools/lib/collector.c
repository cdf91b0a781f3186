/* The run's collector: hands each traced process a ring, writes its traces. */

#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "ring.h"

/* Trace files kept open at once; the others are reopened to append. */
#define COLLECTOR_OPEN_MAX	256
/* How far up the parents a client may be from the collector. */
#define COLLECTOR_DEPTH		64

/* One traced process's ring. */
struct area {
	struct ring	*r;
	size_t		 len;
	pid_t		 pid;
	int		 pidfd;		/* -1: watch with kill(pid, 0) */
	int		 dead;		/* no writer can be left */
};

/* A trace file the collector writes: fd -1 when closed for now. */
struct tfile {
	uint64_t	 n;
	int		 fd;
	int		 used;
	int		 ended;
	int		 failed;	/* a write failed: nothing more of it */
};

struct collector {
	char		 prefix[PATH_MAX];
	enum conf_format format;
	uint32_t	 flags;		/* RING_F_* for new rings */
	int		 lfd;		/* listening socket */
	char		 name[64];	/* its abstract name, without the NUL */
	struct area	*areas;
	size_t		 nareas;
	size_t		 capareas;
	struct tfile	*files;		/* open-addressing hash on n */
	size_t		 capfiles;	/* a power of two */
	size_t		 nfiles;
	size_t		 nopen;
	struct collector_stats st;
	char		*errbuf;	/* the current step's */
};

static void	collector_accept(struct collector *);
static int	collector_member(pid_t);
static void	collector_record(void *, enum ring_type, uint64_t,
		    const void *, size_t, int);
static void	collector_retire(struct collector *, size_t);
static struct tfile *collector_file(struct collector *, uint64_t);
static int	collector_grow(struct collector *);
static void	collector_shut(struct collector *, struct tfile *);
static int	collector_write(int, const uint8_t *, size_t);

/*
 * Listen for the run's processes on an abstract AF_UNIX socket (no file:
 * a worker that dropped privileges can still reach it) named for this
 * process; traces go to prefix_N<ext>. flags: RING_F_DROP to have writers
 * drop rather than wait. NULL, with errbuf said, on failure.
 */
struct collector *
collector_open(const char *prefix, enum conf_format format, uint32_t flags,
    char *errbuf)
{
	struct sockaddr_un	 sun;
	struct collector	*c;
	unsigned int		 seed;
	socklen_t		 len;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		snprintf(errbuf, COLLECTOR_ERRBUF_SIZE, "out of memory");
		return (NULL);
	}
	if (strlen(prefix) >= sizeof c->prefix - 32) {
		snprintf(errbuf, COLLECTOR_ERRBUF_SIZE, "%.200s...: too long", prefix);
		free(c);
		return (NULL);
	}
	strcpy(c->prefix, prefix);
	c->format = format;
	c->flags = flags;
	c->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (c->lfd == -1 || collector_grow(c) == -1) {
		snprintf(errbuf, COLLECTOR_ERRBUF_SIZE, "collector: %s",
		    strerror(errno));
		collector_close(c, NULL);
		return (NULL);
	}
	seed = (unsigned int)getpid() ^ (unsigned int)time(NULL) ^
	    (unsigned int)(uintptr_t)c;
	snprintf(c->name, sizeof c->name, "tapshim.%d.%08x", (int)getpid(),
	    (unsigned int)rand_r(&seed));
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, c->name, strlen(c->name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(c->name));
	if (bind(c->lfd, (struct sockaddr *)&sun, len) == -1 ||
	    listen(c->lfd, 128) == -1) {
		snprintf(errbuf, COLLECTOR_ERRBUF_SIZE, "collector @%s: %s",
		    c->name, strerror(errno));
		collector_close(c, NULL);
		return (NULL);
	}
	return (c);
}

/* The name to give the shim (TAPSHIM_COLLECTOR): abstract, no leading @. */
const char *
collector_name(const struct collector *c)
{
	return (c->name);
}

/*
 * Is pid this process or one of its descendants? Only they may have a
 * ring: another user's process connecting to the abstract name is
 * refused.
 */
static int
collector_member(pid_t pid)
{
	char	path[64], buf[512], *p;
	int	depth, fd;
	ssize_t	n;

	for (depth = 0; depth < COLLECTOR_DEPTH && pid > 1; depth++) {
		if (pid == getpid())
			return (1);
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return (0);
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			return (0);
		buf[n] = '\0';
		/* "pid (comm) state ppid ...": comm may hold anything. */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %d", &pid) != 1)
			return (0);
	}
	return (pid == getpid());
}

/*
 * Serve one waiting client: check it belongs to the run, make its ring
 * in a memfd, send the memfd over SCM_RIGHTS and hang up. The process
 * maps it and closes both descriptors: none stays open in the program.
 */
static void
collector_accept(struct collector *c)
{
	struct ucred	 cred;
	struct msghdr	 m;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	struct area	*a, *na;
	union {
		struct cmsghdr	h;
		char		b[CMSG_SPACE(sizeof(int))];
	}		 u;
	socklen_t	 clen = sizeof cred;
	size_t		 i, len = ring_bytes(COLLECTOR_RING_SIZE);
	char		 ok = 1;
	int		 fd, mfd;
	void		*map;

	while ((fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ==
		    -1 || !collector_member(cred.pid)) {
			c->st.refused++;
			close(fd);
			continue;
		}
		if (c->nareas == c->capareas) {
			na = realloc(c->areas, (c->capareas * 2 + 8) *
			    sizeof *na);
			if (na == NULL) {
				close(fd);
				continue;
			}
			c->areas = na;
			c->capareas = c->capareas * 2 + 8;
		}
		mfd = (int)syscall(SYS_memfd_create, "tapshim-ring",
		    MFD_CLOEXEC);
		map = MAP_FAILED;
		if (mfd != -1 && ftruncate(mfd, (off_t)len) == 0)
			map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_SHARED, mfd, 0);
		if (map == MAP_FAILED) {
			if (mfd != -1)
				close(mfd);
			close(fd);
			continue;
		}
		/* An exec'd image asks again: the old image is gone. */
		for (i = 0; i < c->nareas; i++) {
			if (c->areas[i].pid == cred.pid)
				c->areas[i].dead = 1;
		}
		a = &c->areas[c->nareas++];
		a->r = map;
		a->len = len;
		a->pid = cred.pid;
		a->dead = 0;
		a->pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
		ring_init(a->r, COLLECTOR_RING_SIZE, (uint32_t)cred.pid,
		    c->flags);
		memset(&m, 0, sizeof m);
		iov.iov_base = &ok;
		iov.iov_len = 1;
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = u.b;
		m.msg_controllen = sizeof u.b;
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &mfd, sizeof mfd);
		if (sendmsg(fd, &m, MSG_NOSIGNAL) == 1)
			c->st.processes++;
		else
			a->dead = 1;
		close(mfd);
		close(fd);
	}
}

/* Room for twice as many trace files, rehashed. -1 when out of memory. */
static int
collector_grow(struct collector *c)
{
	struct tfile	*old = c->files, *nf;
	size_t		 i, j, ocap = c->capfiles, cap = ocap ? ocap * 2 : 64;

	if ((nf = calloc(cap, sizeof *nf)) == NULL)
		return (-1);
	for (i = 0; i < ocap; i++) {
		if (!old[i].used)
			continue;
		for (j = (size_t)(old[i].n * 0x9e3779b97f4a7c15ULL) & (cap - 1);
		    nf[j].used; j = (j + 1) & (cap - 1))
			;
		nf[j] = old[i];
	}
	free(old);
	c->files = nf;
	c->capfiles = cap;
	return (0);
}

/* Close a trace file's descriptor; it may be reopened to append. */
static void
collector_shut(struct collector *c, struct tfile *t)
{
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
		c->nopen--;
	}
}

/*
 * Trace n's file, open for appending: created 0600 the first time
 * (O_EXCL: never an existing file, never through a symlink), reopened
 * after. NULL, with errbuf said, when it cannot be.
 */
static struct tfile *
collector_file(struct collector *c, uint64_t n)
{
	char		 path[PATH_MAX + 64];
	struct tfile	*t;
	size_t		 i, j;
	int		 flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;

	if (2 * (c->nfiles + 1) > c->capfiles && collector_grow(c) == -1)
		return (NULL);
	for (j = (size_t)(n * 0x9e3779b97f4a7c15ULL) & (c->capfiles - 1);
	    c->files[j].used && c->files[j].n != n;
	    j = (j + 1) & (c->capfiles - 1))
		;
	t = &c->files[j];
	if (t->used && t->fd >= 0)
		return (t);
	if (c->nopen >= COLLECTOR_OPEN_MAX) {
		for (i = 0; i < c->capfiles && c->nopen >= COLLECTOR_OPEN_MAX;
		    i++)
			collector_shut(c, &c->files[i]);
	}
	snprintf(path, sizeof path, "%s_%llu%s", c->prefix,
	    (unsigned long long)n, conf_extension(c->format));
	if (!t->used)
		flags |= O_CREAT | O_EXCL;
	if ((t->fd = open(path, flags, 0600)) == -1) {
		snprintf(c->errbuf, COLLECTOR_ERRBUF_SIZE, "%s: %s", path,
		    strerror(errno));
		return (NULL);
	}
	if (!t->used) {
		t->used = 1;
		t->n = n;
		c->nfiles++;
		c->st.files++;
	}
	c->nopen++;
	return (t);
}

/* One record drained from a ring: append it to its trace's file. */
static void
collector_record(void *arg, enum ring_type type, uint64_t n, const void *p,
    size_t len, int partial)
{
	struct collector	*c = arg;
	struct tfile		*t;
	const uint8_t		*b = p;
	uint64_t		 cut = 0;

	if (partial) {
		c->st.partial++;
		c->st.torn_bytes += len;
		return;
	}
	if ((t = collector_file(c, n)) == NULL) {
		c->st.write_errors += len;
		return;
	}
	if (type == RING_END) {
		t->ended = 1;
		collector_shut(c, t);
		return;
	}
	if (type == RING_CUT) {
		/* An end written at exit, taken over by later bytes. */
		memcpy(&cut, p, len < sizeof cut ? len : sizeof cut);
		if (len != sizeof cut || ftruncate(t->fd, (off_t)cut) == -1) {
			snprintf(c->errbuf, COLLECTOR_ERRBUF_SIZE,
			    "%s_%llu: cannot cut to %llu: %s", c->prefix,
			    (unsigned long long)n, (unsigned long long)cut,
			    strerror(len != sizeof cut ? EINVAL : errno));
			c->st.write_errors++;
		}
		return;
	}
	if (t->failed) {
		c->st.write_errors += len;
		return;
	}
	c->st.records++;
	if (collector_write(t->fd, b, len) == -1) {
		snprintf(c->errbuf, COLLECTOR_ERRBUF_SIZE, "%s_%llu%s: %s; "
		    "the trace ends at its last whole record", c->prefix,
		    (unsigned long long)n, conf_extension(c->format),
		    strerror(errno));
		c->st.write_errors += len;
		t->failed = 1;
		return;
	}
	c->st.bytes += len;
}

/*
 * Append len bytes of b to fd, all or none: a short write (disk full,
 * RLIMIT_FSIZE) is cut off again, so that the file ends at a whole
 * record. The caller ignores SIGXFSZ (EFBIG instead): tapshim(1) does
 * while it collects. -1 with errno on failure.
 */
static int
collector_write(int fd, const uint8_t *b, size_t len)
{
	off_t	end;
	ssize_t	w;
	size_t	done = 0;
	int	err;

	while (done < len) {
		if ((w = write(fd, b + done, len - done)) == -1 &&
		    errno == EINTR)
			continue;
		if (w <= 0) {
			err = w == 0 ? ENOSPC : errno;
			if (done > 0 && (end = lseek(fd, 0, SEEK_END)) != -1)
				(void)ftruncate(fd, end - (off_t)done);
			errno = err;
			return (-1);
		}
		done += (size_t)w;
	}
	return (0);
}

/* Drain a dead process's ring to its end, then let it go. */
static void
collector_retire(struct collector *c, size_t i)
{
	struct area	*a = &c->areas[i];

	(void)ring_drain(a->r, collector_record, c, 1, &c->st.torn_bytes);
	c->st.dropped += a->r->dropped;
	c->st.dropped_bytes += a->r->dropped_bytes;
	munmap(a->r, a->len);
	if (a->pidfd >= 0)
		close(a->pidfd);
	c->areas[i] = c->areas[--c->nareas];
}

/*
 * One pass: wait up to timeout ms for a client or a process's end, serve
 * the clients, drain every ring, retire the rings of the dead. Returns
 * the bytes drained (call again at once while it is not 0), or -1 with
 * errbuf said when a trace could not be written (the pass goes on).
 */
int
collector_step(struct collector *c, int timeout, char *errbuf)
{
	struct pollfd	 pf[1 + 64];
	size_t		 i, n, np = 1;
	uint64_t	 got = 0;

	c->errbuf = errbuf;
	errbuf[0] = '\0';
	pf[0].fd = c->lfd;
	pf[0].events = POLLIN;
	for (i = 0; i < c->nareas && np < sizeof pf / sizeof pf[0]; i++) {
		if (c->areas[i].pidfd >= 0) {
			pf[np].fd = c->areas[i].pidfd;
			pf[np++].events = POLLIN;
		}
	}
	(void)poll(pf, np, timeout);
	collector_accept(c);
	for (i = 0; i < c->nareas; i++) {
		struct area	*a = &c->areas[i];

		if (!a->dead && (a->pidfd >= 0 ? poll(&(struct pollfd){
		    a->pidfd, POLLIN, 0 }, 1, 0) == 1 : kill(a->pid, 0) == -1 &&
		    errno == ESRCH))
			a->dead = 1;
		n = ring_drain(a->r, collector_record, c, 0, NULL);
		got += n;
	}
	for (i = c->nareas; i-- > 0;) {
		if (c->areas[i].dead)
			collector_retire(c, i);
	}
	if (got > INT_MAX)
		got = INT_MAX;
	return (errbuf[0] != '\0' ? -1 : (int)got);
}

/* Processes whose rings are still served. */
size_t
collector_live(const struct collector *c)
{
	return (c->nareas);
}

/*
 * The run is over: drain what every ring holds (a process still running
 * keeps its ring, unread past now), close the files, and give the
 * figures in *st if asked.
 */
void
collector_close(struct collector *c, struct collector_stats *st)
{
	char	errbuf[COLLECTOR_ERRBUF_SIZE];
	size_t	i;

	c->errbuf = errbuf;
	for (i = c->nareas; i-- > 0;) {
		(void)ring_drain(c->areas[i].r, collector_record, c, 0, NULL);
		c->areas[i].dead = 1;
		collector_retire(c, i);
	}
	for (i = 0; i < c->capfiles; i++)
		collector_shut(c, &c->files[i]);
	if (st != NULL)
		*st = c->st;
	if (c->lfd >= 0)
		close(c->lfd);
	free(c->areas);
	free(c->files);
	free(c);
}
