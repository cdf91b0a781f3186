/* Connections being traced: one trace each, shared by dup'ed fds. */

#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "fdtab.h"
#include "shim.h"
#include "tracefile.h"

#define CONN_CHUNK	32		/* connections mapped at a time */

/*
 * Connections live in memory that is never unmapped (type-stable), so a
 * hook that read a slot just before another thread closed the fd can
 * still safely try to take a reference, and then sees it lost the race.
 * interposition-pitfalls.md, row 19.
 */
struct conn {
	pthread_mutex_t	 lock;		/* everything below */
	uint32_t	 refs;		/* fd slots + hooks using it; atomic */
	struct conn	*next;		/* free list */
	struct tracefile tf;
	int		 file;		/* slot in conn_files, or -1 */
	int		 failed;	/* a write failed: the rest is lost */
	int		 reset;		/* the program saw ECONNRESET */
	int		 eof;		/* it read end of file */
	struct enc_conn	 info;		/* fixed once open */
	uint64_t	 kept[2];	/* bytes kept: [0] reads, [1] writes */
	int		 truncated[2];
	uint64_t	 lost;
	int64_t		 last_flush;
	struct enc_buf	 enc;
	uint8_t		 buf[CONN_BUF];
};

static pthread_mutex_t	 conn_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn	*conn_pool;

/* The trace files open now: at most CONN_FILES_MAX, whoever owns them. */
static pthread_mutex_t	 conn_files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn	*conn_files[CONN_FILES_MAX];
static unsigned int	 conn_files_hand;

/*
 * The fd (plus one) of each open trace file, read without a lock by the
 * close and dup2 hooks to protect the shim's fds from the program.
 */
static int		 conn_file_fds[CONN_FILES_MAX];

static int		 conn_said_rx, conn_said_tx, conn_said_write;
static int		 conn_said_create;

/* The connection a slot value points to, without its tag. */
static struct conn *
conn_untag(struct conn *v)
{
	return ((struct conn *)((uintptr_t)v & ~FDTAB_INHERITED));
}

/* Is a slot value a parent's connection, in a forked child? */
static int
conn_tagged(const struct conn *v)
{
	return (((uintptr_t)v & FDTAB_INHERITED) != 0);
}

/* CLOCK_REALTIME in nanoseconds. */
static int64_t
conn_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* Take a connection from the pool, mapping more when it is empty. */
static struct conn *
conn_alloc(void)
{
	struct conn	*c, *chunk;
	size_t		 i;

	pthread_mutex_lock(&conn_pool_lock);
	if (conn_pool == NULL) {
		chunk = mmap(NULL, CONN_CHUNK * sizeof *chunk, PROT_READ |
		    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (chunk != MAP_FAILED) {
			for (i = 0; i < CONN_CHUNK; i++) {
				chunk[i].next = conn_pool;
				conn_pool = &chunk[i];
			}
		}
	}
	if ((c = conn_pool) != NULL)
		conn_pool = c->next;
	pthread_mutex_unlock(&conn_pool_lock);
	return (c);
}

/* Give a finished connection back to the pool. */
static void
conn_free(struct conn *c)
{
	pthread_mutex_lock(&conn_pool_lock);
	c->next = conn_pool;
	conn_pool = c;
	pthread_mutex_unlock(&conn_pool_lock);
}

/*
 * Make sure c's trace file is open, taking one of the CONN_FILES_MAX
 * places, from an idle connection if need be (trylock: never wait on
 * another connection while holding the files lock). c->lock is held.
 */
static int
conn_file(struct conn *c)
{
	struct conn	*v;
	unsigned int	 i, tries;
	int		 slot = -1;

	if (c->file >= 0)
		return (0);
	for (tries = 0; slot < 0 && tries < 1000; tries++) {
		if (tries > 0)
			sched_yield();
		pthread_mutex_lock(&conn_files_lock);
		for (i = 0; i < CONN_FILES_MAX && slot < 0; i++) {
			if (conn_files[i] == NULL)
				slot = (int)i;
		}
		for (i = 0; i < CONN_FILES_MAX && slot < 0; i++) {
			conn_files_hand = (conn_files_hand + 1) %
			    CONN_FILES_MAX;
			v = conn_files[conn_files_hand];
			if (pthread_mutex_trylock(&v->lock) != 0)
				continue;
			__atomic_store_n(&conn_file_fds[conn_files_hand], 0,
			    __ATOMIC_RELEASE);
			tracefile_close(&v->tf);
			v->file = -1;
			pthread_mutex_unlock(&v->lock);
			slot = (int)conn_files_hand;
		}
		if (slot >= 0) {
			conn_files[slot] = c;
			c->file = slot;
		}
		pthread_mutex_unlock(&conn_files_lock);
	}
	if (slot < 0)
		return (-1);
	if (c->tf.fd < 0 && tracefile_reopen(&shim_conf, &c->tf) == -1) {
		pthread_mutex_lock(&conn_files_lock);
		conn_files[c->file] = NULL;
		pthread_mutex_unlock(&conn_files_lock);
		c->file = -1;
		return (-1);
	}
	__atomic_store_n(&conn_file_fds[c->file], c->tf.fd + 1,
	    __ATOMIC_RELEASE);
	return (0);
}

/* Close c's trace file and give up its place. c->lock is held. */
static void
conn_file_release(struct conn *c)
{
	if (c->file >= 0) {
		pthread_mutex_lock(&conn_files_lock);
		__atomic_store_n(&conn_file_fds[c->file], 0, __ATOMIC_RELEASE);
		conn_files[c->file] = NULL;
		pthread_mutex_unlock(&conn_files_lock);
		c->file = -1;
	}
	tracefile_close(&c->tf);
}

/* The connection whose trace file is fd, locked; NULL if none. */
static struct conn *
conn_file_owner(int fd)
{
	struct conn	*v = NULL;
	unsigned int	 i;

	for (i = 0; i < CONN_FILES_MAX; i++) {
		if (__atomic_load_n(&conn_file_fds[i], __ATOMIC_ACQUIRE) ==
		    fd + 1)
			break;
	}
	if (i == CONN_FILES_MAX)
		return (NULL);		/* the common case: not ours */
	pthread_mutex_lock(&conn_files_lock);
	v = conn_files[i];
	pthread_mutex_unlock(&conn_files_lock);
	if (v == NULL)
		return (NULL);
	pthread_mutex_lock(&v->lock);
	if (v->file == (int)i && v->tf.fd == fd && tracefile_is_ours(&v->tf))
		return (v);
	pthread_mutex_unlock(&v->lock);
	return (NULL);
}

/*
 * Is fd one of the shim's trace files? The program never opened it, so
 * its close() must fail with EBADF, as it would without the shim.
 */
int
conn_file_guard(int fd)
{
	struct conn	*v;

	if ((v = conn_file_owner(fd)) == NULL)
		return (0);
	pthread_mutex_unlock(&v->lock);
	return (1);
}

/*
 * The program is about to dup2() or dup3() onto fd: if it is a trace
 * file, move the trace file to another fd first, so neither ever writes
 * into the other's file (pitfalls, row 8).
 */
void
conn_file_move(int fd)
{
	struct conn	*v;
	int		 low, nfd;

	if ((v = conn_file_owner(fd)) == NULL)
		return;
	low = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0);
	if (low >= 0) {
		nfd = tracefile_high_fd(low);
		__atomic_store_n(&conn_file_fds[v->file], nfd + 1,
		    __ATOMIC_RELEASE);
		v->tf.fd = nfd;
		(void)syscall(SYS_close, fd);
	}
	pthread_mutex_unlock(&v->lock);
}

/*
 * Write out what c has gathered. A write that fails ends the trace: what
 * follows is counted as lost, and the shim says so once. c->lock is held.
 */
static void
conn_flush(struct conn *c)
{
	struct iovec	*iov;
	int		 n, ok;

	if (c->enc.pending == 0)
		return;
	n = enc_iov(&c->enc, &iov);
	ok = conn_file(c) == 0 && tracefile_writev(&c->tf, iov, n) != -1;
	if (!ok && errno == ESTALE) {
		/* The program took our fd's number: reopen by name. */
		conn_file_release(c);
		ok = conn_file(c) == 0 &&
		    tracefile_writev(&c->tf, iov, n) != -1;
	}
	if (!ok) {
		shim_say_once(&conn_said_write, "trace %llu: cannot write: %s; "
		    "later data is counted as lost",
		    (unsigned long long)c->tf.n, strerror(errno));
		c->lost += c->enc.pending;
		c->failed = 1;
	}
	enc_reset(&c->enc);
	c->last_flush = conn_now();
}

/* What is known of the socket: addresses, pid, inode. */
static void
conn_describe(struct enc_conn *info, int fd, enum enc_role role,
    const struct sockaddr *peer, socklen_t peerlen)
{
	struct stat	st;

	memset(info, 0, sizeof *info);
	info->role = role;
	info->pid = (uint32_t)getpid();
	info->local_len = sizeof info->local;
	if (getsockname(fd, (struct sockaddr *)&info->local,
	    &info->local_len) == -1)
		info->local_len = 0;
	if (peer != NULL && peerlen <= sizeof info->remote) {
		memcpy(&info->remote, peer, peerlen);
		info->remote_len = peerlen;
	} else {
		info->remote_len = sizeof info->remote;
		if (getpeername(fd, (struct sockaddr *)&info->remote,
		    &info->remote_len) == -1)
			info->remote_len = 0;
	}
	if (fstat(fd, &st) == 0)
		info->inode = st.st_ino;
}

/* Set up a connection and its trace file; NULL if it cannot be. */
static struct conn *
conn_new(const struct enc_conn *info)
{
	struct conn	*c;
	char		 errbuf[TRACEFILE_ERRBUF_SIZE];

	if ((c = conn_alloc()) == NULL)
		return (NULL);
	pthread_mutex_init(&c->lock, NULL);
	c->file = -1;
	c->failed = c->reset = c->eof = 0;
	c->info = *info;
	c->kept[0] = c->kept[1] = 0;
	c->truncated[0] = c->truncated[1] = 0;
	c->lost = 0;
	c->last_flush = conn_now();
	enc_init(&c->enc, c->buf, sizeof c->buf);
	if (tracefile_create(&shim_conf, &c->tf, errbuf) == -1) {
		shim_say_once(&conn_said_create, "%s; connections are not "
		    "traced", errbuf);
		conn_free(c);
		return (NULL);
	}
	if (shim_conf.debug)
		shim_say("pid %u: trace %llu: %s connection", c->info.pid,
		    (unsigned long long)c->tf.n, info->role == ENC_ROLE_CLIENT ?
		    "client" : info->role == ENC_ROLE_SERVER ? "server" :
		    "already open");
	/* The file is open: take a place for it, or close it for now. */
	pthread_mutex_lock(&c->lock);
	if (conn_file(c) == -1)
		tracefile_close(&c->tf);
	(void)enc_conn(&c->enc, shim_conf.format, c->tf.n, &c->info);
	conn_flush(c);
	pthread_mutex_unlock(&c->lock);
	__atomic_store_n(&c->refs, 1, __ATOMIC_RELEASE);
	return (c);
}

/* Put c in fd's slot (which holds its reference); drop what was there. */
static void
conn_install(int fd, struct conn *c)
{
	struct conn	*old = fdtab_swap(fd, c);

	if (fdtab_is_conn(old) && !conn_tagged(old))
		conn_put(old);
}

/*
 * Start tracing the connection on fd, just connected (peer given) or
 * accepted. Returns the connection, or NULL when not traced.
 */
struct conn *
conn_open(int fd, enum enc_role role, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct enc_conn	 info;
	struct conn	*c;

	if (!shim_tracing())
		return (NULL);
	conn_describe(&info, fd, role, peer, peerlen);
	if ((c = conn_new(&info)) == NULL) {
		conn_install(fd, FDTAB_OTHER);
		return (NULL);
	}
	conn_install(fd, c);
	return (c);
}

/*
 * A connect that failed (refused, timed out, unreachable): a trace of its
 * own all the same, holding the error and when, for the capture to show
 * a SYN and its answer. Nothing goes in the fd table.
 */
void
conn_failed(int fd, const struct sockaddr *peer, socklen_t peerlen, int err)
{
	struct enc_conn	 info;
	struct conn	*c;

	if (!shim_tracing())
		return;
	conn_describe(&info, fd, ENC_ROLE_CLIENT, peer, peerlen);
	info.error = strerrorname_np(err);
	if (info.error == NULL)
		info.error = "EIO";
	if ((c = conn_new(&info)) == NULL)
		return;
	if (err == ECONNREFUSED) {
		pthread_mutex_lock(&c->lock);
		c->reset = 1;
		pthread_mutex_unlock(&c->lock);
	}
	conn_put(c);		/* records the closed event */
}

/* Take a reference on the connection in fd's slot, if it still is. */
static struct conn *
conn_ref(int fd, struct conn *c)
{
	uint32_t	r = __atomic_load_n(&c->refs, __ATOMIC_ACQUIRE);

	do {
		if (r == 0)
			return (NULL);	/* being finished */
	} while (!__atomic_compare_exchange_n(&c->refs, &r, r + 1, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	if (fdtab_get(fd) != c) {
		conn_put(c);		/* lost a race with close */
		return (NULL);
	}
	return (c);
}

/*
 * In a forked child, the first use of a socket from the parent: the child
 * gets its own trace of it, which every fd of that socket then shares.
 */
static void
conn_inherit(int fd, struct conn *tagged)
{
	struct conn	*parent = conn_untag(tagged), *c;
	struct enc_conn	 info = parent->info;
	int		 i;

	info.pid = (uint32_t)getpid();
	if ((c = conn_new(&info)) == NULL) {
		fdtab_replace(fd, tagged, FDTAB_OTHER);
		return;
	}
	if (!fdtab_replace(fd, tagged, c)) {
		conn_put(c);		/* another thread got there first */
		return;
	}
	for (i = fdtab_next(0); i < FDTAB_MAX_FD; i = fdtab_next(i + 1)) {
		if (i != fd && fdtab_get(i) == tagged &&
		    fdtab_replace(i, tagged, c))
			__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	}
}

/*
 * An fd the shim has not seen made: not a socket, or a stream socket
 * connected behind its back (inherited, made before the shim started).
 * One fstat(), then the answer is cached in the slot.
 */
static void
conn_classify(int fd)
{
	struct enc_conn	 info;
	struct stat	 st;
	struct conn	*c;
	socklen_t	 len = sizeof(int);
	int		 type = 0;

	if (fstat(fd, &st) == -1)
		return;			/* not open: nothing to cache */
	if (!S_ISSOCK(st.st_mode) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type,
	    &len) == -1 || type != SOCK_STREAM) {
		fdtab_replace(fd, NULL, FDTAB_OTHER);
		return;
	}
	conn_describe(&info, fd, ENC_ROLE_UNKNOWN, NULL, 0);
	if (info.remote_len == 0 || (info.local.ss_family != AF_INET &&
	    info.local.ss_family != AF_INET6 &&
	    info.local.ss_family != AF_UNIX)) {
		fdtab_replace(fd, NULL, FDTAB_OTHER);
		return;
	}
	if ((c = conn_new(&info)) != NULL && !fdtab_replace(fd, NULL, c))
		conn_put(c);
}

/*
 * The connection on fd, referenced (conn_put() when done), or NULL when
 * fd is not traced.
 */
struct conn *
conn_get(int fd)
{
	struct conn	*v = fdtab_get(fd);

	if (v == FDTAB_OTHER || !shim_tracing())
		return (NULL);
	if (v == NULL) {
		conn_classify(fd);
		v = fdtab_get(fd);
	}
	if (fdtab_is_conn(v) && conn_tagged(v)) {
		conn_inherit(fd, v);
		v = fdtab_get(fd);
	}
	if (!fdtab_is_conn(v) || conn_tagged(v))
		return (NULL);
	return (conn_ref(fd, v));
}

/* The last reference is gone: the connection is closed. */
static void
conn_finish(struct conn *c)
{
	struct enc_event	ev;
	int64_t			now = conn_now();

	pthread_mutex_lock(&c->lock);
	if (!c->failed) {
		memset(&ev, 0, sizeof ev);
		ev.kind = ENC_CLOSED;
		ev.sec = now / 1000000000LL;
		ev.nsec = (int32_t)(now % 1000000000LL);
		ev.reset = c->reset;
		if (enc_event(&c->enc, shim_conf.format, c->tf.n, &ev) == -1) {
			conn_flush(c);
			(void)enc_event(&c->enc, shim_conf.format, c->tf.n,
			    &ev);
		}
		if (enc_end(&c->enc, shim_conf.format, c->tf.n,
		    c->truncated[0], c->truncated[1]) == -1) {
			conn_flush(c);
			(void)enc_end(&c->enc, shim_conf.format, c->tf.n,
			    c->truncated[0], c->truncated[1]);
		}
		conn_flush(c);
	}
	conn_file_release(c);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_destroy(&c->lock);
	conn_free(c);
}

/* Drop a reference taken by conn_get() (or an fd's). */
void
conn_put(struct conn *c)
{
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conn_finish(c);
}

/* Which limit applies to a direction, and which "said" flag. */
static uint64_t
conn_limit(enum enc_kind kind, int **said)
{
	*said = kind == ENC_READ ? &conn_said_rx : &conn_said_tx;
	return (kind == ENC_READ ? shim_conf.max_rx : shim_conf.max_tx);
}

/*
 * Record n bytes the program read or wrote (eos: it shut down writing, or
 * read end of file, once). With data NULL, n bytes went by unseen (a
 * MSG_TRUNC discard): only their length is kept. Past a
 * TAPSHIM_MAX_BUFFERED_* limit too (Body.truncated, Body.length), so
 * captures keep their sequence numbers.
 */
void
conn_record(struct conn *c, enum enc_kind kind, const void *data, size_t n,
    int eos)
{
	struct enc_event	 ev;
	uint64_t		 limit, room;
	int64_t			 now = conn_now();
	int			 dir = kind == ENC_READ ? 0 : 1, *said;

	pthread_mutex_lock(&c->lock);
	if (n == 0 && kind == ENC_READ && (c->eof || !eos)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (n == 0 && kind == ENC_READ)
		c->eof = 1;
	if (c->failed) {
		c->lost += n;
		pthread_mutex_unlock(&c->lock);
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.sec = now / 1000000000LL;
	ev.nsec = (int32_t)(now % 1000000000LL);
	ev.data = data;
	ev.caplen = data != NULL ? n : 0;
	ev.len = n;
	ev.end_stream = eos;
	limit = conn_limit(kind, &said);
	room = limit > c->kept[dir] ? limit - c->kept[dir] : 0;
	if (ev.caplen > room) {
		ev.caplen = (size_t)room;
		c->truncated[dir] = 1;
		shim_say_once(said, "trace %llu: %s reached; past it only "
		    "lengths are kept", (unsigned long long)c->tf.n, dir ?
		    "TAPSHIM_MAX_BUFFERED_TX_BYTES" :
		    "TAPSHIM_MAX_BUFFERED_RX_BYTES");
	}
	c->kept[dir] += ev.caplen;
	if (enc_event(&c->enc, shim_conf.format, c->tf.n, &ev) == -1) {
		conn_flush(c);
		if (enc_event(&c->enc, shim_conf.format, c->tf.n, &ev) == -1)
			c->lost += n;
	}
	/* Payload kept by reference must be written before we return. */
	if (c->enc.refs > 0 || c->enc.len > sizeof c->buf / 2 ||
	    now - c->last_flush > CONN_FLUSH_NS)
		conn_flush(c);
	pthread_mutex_unlock(&c->lock);
}

/*
 * A non-blocking connect on c failed (the program read SO_ERROR): the
 * trace gets the error in a connection chunk, which protobuf merges into
 * the first, as long as nothing was sent or received yet.
 */
void
conn_connect_failed(struct conn *c, int err)
{
	struct enc_conn	info;

	pthread_mutex_lock(&c->lock);
	if (!c->failed && c->kept[0] == 0 && c->kept[1] == 0 &&
	    c->info.error == NULL) {
		c->info.error = strerrorname_np(err);
		if (c->info.error == NULL)
			c->info.error = "EIO";
		c->reset = err == ECONNREFUSED;
		memset(&info, 0, sizeof info);
		info.error = c->info.error;
		if (enc_conn(&c->enc, shim_conf.format, c->tf.n, &info) == -1) {
			conn_flush(c);
			(void)enc_conn(&c->enc, shim_conf.format, c->tf.n,
			    &info);
		}
		conn_flush(c);
	}
	pthread_mutex_unlock(&c->lock);
}

/* The program saw ECONNRESET on c: its close is a reset by the peer. */
void
conn_note_reset(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	c->reset = 1;
	pthread_mutex_unlock(&c->lock);
}

/* fd was closed: the connection ends with its last fd. */
void
conn_fd_closed(int fd)
{
	struct conn	*old = fdtab_swap(fd, NULL);

	if (fdtab_is_conn(old) && !conn_tagged(old))
		conn_put(old);
}

/* newfd is now a copy of oldfd (dup, dup2, dup3, F_DUPFD). */
void
conn_fd_dup(int oldfd, int newfd)
{
	struct conn	*v = fdtab_get(oldfd), *c;

	if (fdtab_is_conn(v) && !conn_tagged(v)) {
		if ((c = conn_ref(oldfd, v)) != NULL) {
			conn_install(newfd, c);	/* the ref is newfd's */
			return;
		}
		v = NULL;
	}
	conn_install(newfd, v);
}

/* Write out everything gathered (at exit; other threads may still run). */
void
conn_flush_all(void)
{
	struct conn	*v, *c;
	int		 fd;

	for (fd = fdtab_next(0); fd < FDTAB_MAX_FD; fd = fdtab_next(fd + 1)) {
		v = fdtab_get(fd);
		if (!fdtab_is_conn(v) || conn_tagged(v) ||
		    (c = conn_ref(fd, v)) == NULL)
			continue;
		if (pthread_mutex_trylock(&c->lock) == 0) {
			conn_flush(c);
			pthread_mutex_unlock(&c->lock);
		}
		/* Not conn_put(): a finish now could race the program. */
		__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	}
}

/* Before fork: hold the shim's global locks so the child gets them sane. */
void
conn_fork_prepare(void)
{
	pthread_mutex_lock(&conn_pool_lock);
	pthread_mutex_lock(&conn_files_lock);
}

void
conn_fork_parent(void)
{
	pthread_mutex_unlock(&conn_files_lock);
	pthread_mutex_unlock(&conn_pool_lock);
}

/*
 * In the child: fresh locks, none of the parent's trace files, and the
 * parent's connections tagged, to be traced afresh on first use.
 */
void
conn_fork_child(void)
{
	unsigned int	i;

	pthread_mutex_init(&conn_pool_lock, NULL);
	pthread_mutex_init(&conn_files_lock, NULL);
	for (i = 0; i < CONN_FILES_MAX; i++) {
		/* The program may have dup2()ed over it: close only ours. */
		if (conn_files[i] != NULL)
			tracefile_close(&conn_files[i]->tf);
		conn_files[i] = NULL;
		conn_file_fds[i] = 0;
	}
	fdtab_inherit();
}

/* The trace id (file number) of c. */
uint64_t
conn_id(const struct conn *c)
{
	return (c->tf.n);
}
