/* Connections being traced: one trace each, shared by dup'ed fds. */

#include "config.h"

#include <sys/mman.h>

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "conn-int.h"
#include "fdtab.h"
#include "runstate.h"
#include "scope.h"
#include "shim.h"
#include "tracefile.h"

#define CONN_CHUNK	32		/* connections mapped at a time */
/*
 * Trace bytes an event takes besides its payload, at most: the wrapper,
 * timestamp, duration, thread and a datagram's peer (set aside against
 * the run's --max-total-bytes before it is encoded).
 */
#define CONN_EVENT_MAX	160

static pthread_mutex_t	 conn_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn	*conn_pool;

static int		 conn_said_rx, conn_said_tx;

/* Is a slot value a parent's connection, in a forked child? */
static int
conn_tagged(const struct conn *v)
{
	return (((uintptr_t)v & FDTAB_INHERITED) != 0);
}

/* Take a connection from the pool, mapping more when it is empty. */
struct conn *
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
void
conn_free(struct conn *c)
{
	pthread_mutex_lock(&conn_pool_lock);
	c->next = conn_pool;
	conn_pool = c;
	pthread_mutex_unlock(&conn_pool_lock);
}

/*
 * n payload bytes of direction dir (0 reads, 1 writes) were not kept,
 * for reason (each named once in the trace's stats). c->lock is held.
 */
void
conn_lose(struct conn *c, int dir, uint64_t n, const char *reason)
{
	int	i;

	if (n == 0)
		return;
	c->st.lost[dir] += n;
	for (i = 0; i < c->st.nreasons; i++) {
		if (strcmp(c->st.reasons[i], reason) == 0)
			return;
	}
	if (c->st.nreasons < ENC_REASONS_MAX)
		c->st.reasons[c->st.nreasons++] = reason;
}

/* Put c in fd's slot (which holds its reference); drop what was there. */
void
conn_install(int fd, struct conn *c)
{
	struct conn	*old = fdtab_swap(fd, c);

	if (fdtab_is_conn(old) && !conn_tagged(old))
		conn_put(old);
}

/* Take a reference on the connection in fd's slot, if it still is. */
struct conn *
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
	int64_t	now = shim_now();

	pthread_mutex_lock(&c->lock);
	if (c->connecting != 0 && !c->counting)
		conn_gave_up(c, now);
	conn_settle(c);
	conn_file_end(c, ENC_ENDING_CLOSED, now);
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

	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.data = data;
	ev.caplen = data != NULL ? n : 0;
	ev.len = n;
	ev.end_stream = eos;
	conn_record_event(c, &ev);
}

/*
 * Record a prepared read or write event (a datagram: its peer too), with
 * when, how long the call took and the thread; the limits apply.
 */
void
conn_record_event(struct conn *c, struct enc_event *evp)
{
	struct enc_event	 ev = *evp;
	uint64_t		 limit, room, want, n = ev.len;
	int64_t			 now = shim_now();
	int			 dir = ev.kind == ENC_READ ? 0 : 1, *said, r;

	pthread_mutex_lock(&c->lock);
	if (n == 0 && ev.kind == ENC_READ && !c->info.udp &&
	    (c->eof || !ev.end_stream)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (n == 0 && ev.kind == ENC_READ && !c->info.udp)
		c->eof = 1;
	if (!c->counting && !conn_file_mapped(c)) {
		/* A parent's trace in a forked child (its TLS twin). */
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (c->cut != NULL || c->counting || c->stopped) {
		conn_lose(c, dir, n, c->cut != NULL ? c->cut : scope_reason());
		c->st.events_lost++;
		scope_count(dir, 0, n);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (c->connecting != 0)
		conn_connected(c, now);
	ev.sec = now / 1000000000LL;
	ev.nsec = (int32_t)(now % 1000000000LL);
	ev.tid = shim_tid();
	if (c->info.udp && ev.peer == NULL && c->dpeer_len > 0) {
		ev.peer = (const struct sockaddr *)&c->dpeer;
		ev.peer_len = c->dpeer_len;
	}
	if (shim_call_start() != 0 && now > shim_call_start())
		ev.duration = (uint64_t)(now - shim_call_start());
	limit = conn_limit(ev.kind, &said);
	room = limit > c->kept[dir] ? limit - c->kept[dir] : 0;
	want = ev.caplen;
	if (ev.caplen > room) {
		ev.caplen = (size_t)room;
		c->truncated[dir] = 1;
		shim_say_once(said, "trace %llu: %s reached; past it only "
		    "lengths are kept", (unsigned long long)c->tf.n, dir ?
		    "TAPSHIM_MAX_BUFFERED_TX_BYTES" :
		    "TAPSHIM_MAX_BUFFERED_RX_BYTES");
	}
	if (!scope_admit_bytes(ev.caplen + CONN_EVENT_MAX)) {
		/* The run's limit: nothing more of this trace but its end. */
		c->stopped = 1;
		c->truncated[0] = c->truncated[1] = 1;
		conn_lose(c, dir, n, scope_reason());
		c->st.events_lost++;
		scope_count(dir, 0, n);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	/*
	 * Packed into the file's window, or a large one written into the
	 * file: in its page cache on return. Collector mode: packed, then
	 * handed to the ring.
	 */
	if ((r = conn_file_direct(c, &ev)) == -1 || (r == 1 &&
	    enc_event(&c->enc, shim_conf.format, c->tf.n, &ev) == -1 &&
	    (conn_room(c) == -1 ||
	    enc_event(&c->enc, shim_conf.format, c->tf.n, &ev) == -1)) ||
	    conn_file_push(c) == -1) {
		conn_lose(c, dir, n, c->cut != NULL ? c->cut : "write_error");
		c->st.events_lost++;
		scope_count(dir, 0, n);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->kept[dir] += ev.caplen;
	conn_lose(c, dir, want - ev.caplen, dir ? "max_buffered_tx_bytes" :
	    "max_buffered_rx_bytes");
	/* A MSG_TRUNC discard: its bytes never reached the program. */
	conn_lose(c, dir, n - want, "msg_trunc");
	scope_count(dir, ev.caplen, n - ev.caplen);
	c->st.kept[dir] += ev.caplen;
	c->st.events++;
	conn_file_reend(c);
	pthread_mutex_unlock(&c->lock);
}

/* Append a piece fn encodes from arg (later connection metadata: TLS). */
void
conn_add_info(struct conn *c, conn_info_fn fn, const void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->kc.done = 1;		/* TLS: the kernel counts records, not this */
	if (c->cut == NULL && !c->counting && conn_file_mapped(c) &&
	    fn(&c->enc, shim_conf.format, c->tf.n, arg) == -1 &&
	    conn_room(c) == 0)
		(void)fn(&c->enc, shim_conf.format, c->tf.n, arg);
	conn_file_reend(c);
	pthread_mutex_unlock(&c->lock);
}

/* The program saw ECONNRESET on c: its close is a reset by the peer. */
void
conn_note_reset(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	c->reset = 1;
	if (c->ended_by == NULL)
		c->ended_by = "ECONNRESET";
	pthread_mutex_unlock(&c->lock);
}

/* A call on c failed with an error that ends it (EPIPE, ETIMEDOUT...). */
void
conn_note_error(struct conn *c, int err)
{
	pthread_mutex_lock(&c->lock);
	if (c->ended_by == NULL)
		c->ended_by = strerrorname_np(err);
	pthread_mutex_unlock(&c->lock);
}

/*
 * A traced UDP socket was connect()ed to sa: its datagrams that name no
 * peer (write, send, read, recv) go to or come from it.
 */
void
conn_udp_connect(struct conn *c, const struct sockaddr *sa, socklen_t len)
{
	pthread_mutex_lock(&c->lock);
	c->dpeer_len = 0;
	if (sa != NULL && len <= sizeof c->dpeer && (sa->sa_family ==
	    AF_INET || sa->sa_family == AF_INET6)) {
		memcpy(&c->dpeer, sa, len);
		c->dpeer_len = len;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Is c a UDP socket's trace? */
int
conn_udp(const struct conn *c)
{
	return (c->info.udp);
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

/*
 * At exit (other threads may still run): each trace still open ends as
 * an implicit close by the exit, cut to its length; what other threads
 * do after is not traced.
 */
void
conn_end_all(void)
{
	struct conn	*v, *c;
	int64_t		 now = shim_now();
	int		 fd;

	for (fd = fdtab_next(0); fd < FDTAB_MAX_FD; fd = fdtab_next(fd + 1)) {
		v = fdtab_get(fd);
		if (!fdtab_is_conn(v) || conn_tagged(v) ||
		    (c = conn_ref(fd, v)) == NULL)
			continue;
		if (pthread_mutex_trylock(&c->lock) == 0) {
			kcount_sample(&c->kc, fd);
			conn_settle(c);
			conn_file_end(c, ENC_ENDING_EXIT, now);
			pthread_mutex_unlock(&c->lock);
		}
		/* Not conn_put(): a finish now could race the program. */
		__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	}
}

/* At exit: end c's trace, if still open (a trace with no fd: TLS's). */
void
conn_end_exit(struct conn *c)
{
	if (pthread_mutex_trylock(&c->lock) == 0) {
		conn_file_end(c, ENC_ENDING_EXIT, shim_now());
		pthread_mutex_unlock(&c->lock);
	}
}

/* Before fork: hold the shim's global locks so the child gets them sane. */
void
conn_fork_prepare(void)
{
	conn_fork_settle();	/* before any child can move bytes */
	pthread_mutex_lock(&conn_pool_lock);
	conn_file_fork_prepare();
}

void
conn_fork_parent(void)
{
	conn_file_fork_parent();
	pthread_mutex_unlock(&conn_pool_lock);
}

/*
 * In the child: fresh locks, none of the parent's trace files, and the
 * parent's connections tagged, to be traced afresh on first use.
 */
void
conn_fork_child(void)
{
	pthread_mutex_init(&conn_pool_lock, NULL);
	conn_file_fork_child();
	fdtab_inherit();
}

/* The trace id (file number) of c. */
uint64_t
conn_id(const struct conn *c)
{
	return (c->tf.n);
}
