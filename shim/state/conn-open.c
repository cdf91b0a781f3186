/* How traced connections begin: made, failed, inherited or found. */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "backtrace.h"
#include "collect.h"
#include "conn.h"
#include "conn-int.h"
#include "fdtab.h"
#include "procinfo.h"
#include "resolv.h"
#include "scope.h"
#include "shim.h"
#include "sysrole.h"
#include "tracefile.h"

static int		 conn_said_create;
static int		 conn_said_join;

/* The connection a slot value points to, without its tag. */
static struct conn *
conn_untag(struct conn *v)
{
	return ((struct conn *)((uintptr_t)v & ~FDTAB_INHERITED));
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
	info->proc = procinfo_get();
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

/*
 * Under the launcher's collector: c's trace goes through the process's
 * ring, numbered by the run. -1 when this process has no ring (it could
 * not join: said once, and its traces are written in direct mode).
 */
static int
conn_ring_create(struct conn *c, char *errbuf)
{
	char	why[TRACEFILE_ERRBUF_SIZE];

	if (shim_conf.collector[0] == '\0' || !scope_numbered())
		return (-1);
	if (collect_join(&shim_conf, why, sizeof why) == -1) {
		shim_say_once(&conn_said_join, "%s; this process writes its "
		    "own trace files (direct mode)", why);
		return (-1);
	}
	return (collect_create(&c->tf, scope_next_trace(), errbuf));
}

/* Set up a connection and its trace file; NULL if it cannot be. */
static struct conn *
conn_new(const struct enc_conn *info)
{
	struct conn	*c;
	char		 errbuf[TRACEFILE_ERRBUF_SIZE];
	int		 counting;

	if (!scope_match(&shim_conf, info))
		return (NULL);
	counting = !scope_admit_conn();
	if ((c = conn_alloc()) == NULL)
		return (NULL);
	pthread_mutex_init(&c->lock, NULL);
	c->cut = NULL;
	c->reset = c->eof = 0;
	c->tls_over = 0;
	c->connecting = 0;
	c->ended_by = NULL;
	c->dpeer_len = 0;
	c->info = *info;
	c->kept[0] = c->kept[1] = 0;
	c->truncated[0] = c->truncated[1] = 0;
	c->lost = 0;
	c->counting = counting;
	c->stopped = 0;
	memset(&c->st, 0, sizeof c->st);
	memset(&c->kc, 0, sizeof c->kc);
	c->shared = 0;
	enc_init(&c->enc, NULL, 0);
	c->exit_at = -1;
	c->reend = 0;
	if (counting) {
		/* Past a run limit: its bytes are counted, not traced. */
		memset(&c->tf, 0, sizeof c->tf);
		__atomic_store_n(&c->refs, 1, __ATOMIC_RELEASE);
		return (c);
	}
	if (conn_ring_create(c, errbuf) == 0)
		;
	else if (tracefile_create(&shim_conf, &c->tf, errbuf) == -1) {
		/* A worker that dropped privileges (nginx's, memcached -u). */
		shim_say_once(&conn_said_create, "%s; connections are not "
		    "traced%s", errbuf, errno == EACCES || errno == EPERM ?
		    " (a process that switched user cannot write there: run "
		    "it under tapshim(1) as root, or point TAPSHIM_PATH_PREFIX "
		    "into a directory every user can create files in, such as "
		    "one of mode 1733)" : "");
		conn_free(c);
		return (NULL);
	}
	if (shim_conf.debug)
		shim_say("pid %u: trace %llu: %s %s", c->info.pid,
		    (unsigned long long)c->tf.n, info->role == ENC_ROLE_CLIENT ?
		    "client" : info->role == ENC_ROLE_SERVER ? "server" :
		    "already open", info->udp ? "UDP socket" : "connection");
	pthread_mutex_lock(&c->lock);
	conn_file_attach(c, 0);
	if (enc_conn(&c->enc, shim_conf.format, c->tf.n, &c->info) == -1 &&
	    conn_room(c) == 0)
		(void)enc_conn(&c->enc, shim_conf.format, c->tf.n, &c->info);
	(void)conn_file_push(c);
	pthread_mutex_unlock(&c->lock);
	__atomic_store_n(&c->refs, 1, __ATOMIC_RELEASE);
	return (c);
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
	kcount_base(&c->kc, fd);
	conn_install(fd, c);
	return (c);
}

/*
 * conn_open(), with when the call was made (ns) and, for a connect that
 * completed, how long it took; a non-blocking one under way (inprogress)
 * gets its time when the program learns the outcome.
 */
struct conn *
conn_open_timed(int fd, enum enc_role role, const struct sockaddr *peer,
    socklen_t peerlen, int64_t t0, int inprogress)
{
	struct enc_conn		 info;
	struct backtrace	 bt;
	struct resolv_entry	 re;
	struct conn		*c;
	int64_t			 now = shim_now();

	if (!shim_tracing())
		return (NULL);
	conn_describe(&info, fd, role, peer, peerlen);
	info.started_sec = t0 / 1000000000LL;
	info.started_nsec = (int32_t)(t0 % 1000000000LL);
	if (role == ENC_ROLE_CLIENT && !inprogress)
		info.connect_ns = (uint64_t)(now - t0);
	if (role == ENC_ROLE_CLIENT && resolv_match(peer, peerlen, &re))
		info.resolution = &re;
	if (backtrace_wanted(role == ENC_ROLE_SERVER)) {
		backtrace_take(&bt);
		info.backtrace = bt.ptr;
		info.nbacktrace = bt.n;
	}
	if ((c = conn_new(&info)) == NULL) {
		conn_install(fd, FDTAB_OTHER);
		return (NULL);
	}
	c->info.backtrace = NULL;	/* bt and re go with this frame */
	c->info.resolution = NULL;
	c->info.nbacktrace = 0;
	if (inprogress)
		c->connecting = t0;
	kcount_base(&c->kc, fd);
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
	struct enc_conn		 info;
	struct resolv_entry	 re;
	struct conn		*c;

	if (!shim_tracing())
		return;
	conn_describe(&info, fd, ENC_ROLE_CLIENT, peer, peerlen);
	info.started_sec = shim_call_start() / 1000000000LL;
	info.started_nsec = (int32_t)(shim_call_start() % 1000000000LL);
	info.connect_ns = (uint64_t)(shim_now() - shim_call_start());
	info.error = strerrorname_np(err);
	if (info.error == NULL)
		info.error = "EIO";
	if (resolv_match(peer, peerlen, &re))
		info.resolution = &re;
	if ((c = conn_new(&info)) == NULL)
		return;
	c->info.resolution = NULL;
	if (err == ECONNREFUSED) {
		pthread_mutex_lock(&c->lock);
		c->reset = 1;
		pthread_mutex_unlock(&c->lock);
	}
	conn_put(c);		/* records the closed event */
}

/*
 * A second trace of c's connection, in no fd slot (TAPSHIM_TLS=both: the
 * plaintext beside the records); conn_put() ends it.
 */
struct conn *
conn_twin(struct conn *c)
{
	return (conn_new(&c->info));
}

/*
 * In a forked child, the first use of a socket from the parent: the child
 * gets its own trace of it, which every fd of that socket then shares.
 */
static void
conn_inherit_fd(int fd, struct conn *tagged)
{
	struct conn	*parent = conn_untag(tagged), *c;
	struct enc_conn	 info = parent->info;
	int		 i;

	info.pid = (uint32_t)getpid();
	if ((c = conn_new(&info)) == NULL) {
		fdtab_replace(fd, tagged, FDTAB_OTHER);
		return;
	}
	c->kc.done = 1;		/* shared with the parent: its counts too */
	c->shared = 1;
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
 * A UDP socket, first seen moving a datagram (only data calls ask about
 * an unknown fd, so a socket that never sends or receives leaves no
 * file): one trace for the socket, connected or not; each datagram says
 * its peer.
 */
static void
conn_classify_udp(int fd, struct enc_conn *info)
{
	struct conn	*c;

	if (info->local.ss_family != AF_INET &&
	    info->local.ss_family != AF_INET6) {
		fdtab_replace(fd, NULL, FDTAB_OTHER);
		return;
	}
	info->udp = 1;
	info->role = sysrole_guess_udp(&info->local, &info->remote,
	    info->remote_len);
	if ((c = conn_new(info)) != NULL && !fdtab_replace(fd, NULL, c))
		conn_put(c);
}

/*
 * Another fd of this process already traces the socket inode (fd 0 and
 * 1 both inherited across exec, inetd style): that trace, referenced for
 * fd's slot, or NULL. Once per unknown fd: a walk of the table is fine.
 */
static struct conn *
conn_same_socket(int fd, ino_t inode)
{
	struct conn	*v, *c;
	int		 i;

	for (i = fdtab_next(0); i < FDTAB_MAX_FD; i = fdtab_next(i + 1)) {
		v = fdtab_get(i);
		if (i == fd || !fdtab_is_conn(v) || conn_untag(v) != v ||
		    (c = conn_get(i)) == NULL)
			continue;
		if (c->info.inode == inode && !c->info.udp)
			return (c);
		conn_put(c);
	}
	return (NULL);
}

/*
 * An fd the shim has not seen made: not a socket, or a stream socket
 * connected behind its back (inherited, made before the shim started):
 * its role from what the system knows, one trace per socket. One fstat(),
 * then the answer is cached in the slot.
 */
static void
conn_classify_fd(int fd)
{
	struct enc_conn	 info;
	struct stat	 st;
	struct conn	*c;
	socklen_t	 len = sizeof(int);
	int		 type = 0;

	if (fstat(fd, &st) == -1)
		return;			/* not open: nothing to cache */
	if (!S_ISSOCK(st.st_mode) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type,
	    &len) == -1 || (type != SOCK_STREAM && type != SOCK_DGRAM)) {
		fdtab_replace(fd, NULL, FDTAB_OTHER);
		return;
	}
	conn_describe(&info, fd, ENC_ROLE_UNKNOWN, NULL, 0);
	if (type == SOCK_DGRAM) {
		conn_classify_udp(fd, &info);
		return;
	}
	if (info.remote_len == 0 || (info.local.ss_family != AF_INET &&
	    info.local.ss_family != AF_INET6 &&
	    info.local.ss_family != AF_UNIX)) {
		fdtab_replace(fd, NULL, FDTAB_OTHER);
		return;
	}
	if ((c = conn_same_socket(fd, st.st_ino)) != NULL) {
		if (!fdtab_replace(fd, NULL, c))
			conn_put(c);
		return;
	}
	if (info.local.ss_family != AF_UNIX)
		info.role = sysrole_guess(&info.local, &info.remote);
	if ((c = conn_new(&info)) == NULL)
		return;
	kcount_base(&c->kc, fd);
	if (!fdtab_replace(fd, NULL, c))
		conn_put(c);
}

/*
 * conn_classify_fd() and conn_inherit_fd(), from the hook of a call that
 * returned: the trace they may make is the shim's own work, not part of
 * the call's recorded duration (dig's first sendmmsg is not 11 ms).
 */
void
conn_classify(int fd)
{
	int64_t	t = shim_now();

	conn_classify_fd(fd);
	shim_call_skip(t);
}

void
conn_inherit(int fd, struct conn *tagged)
{
	int64_t	t = shim_now();

	conn_inherit_fd(fd, tagged);
	shim_call_skip(t);
}

/*
 * fd is about to be closed: if it holds a TCP connection, the kernel's
 * counts now, while the socket can still be asked (the last close's are
 * what conn_settle() compares).
 */
void
conn_fd_sample(int fd)
{
	struct conn	*v = fdtab_get(fd), *c;

	if (!fdtab_is_conn(v) || conn_untag(v) != v ||
	    (c = conn_get(fd)) == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	kcount_sample(&c->kc, fd);
	pthread_mutex_unlock(&c->lock);
	conn_put(c);
}

/*
 * What the kernel moved that the trace does not hold (stdio, splice,
 * io_uring, calls inside libc) is lost, for reason "unseen_calls": the
 * trace's stats then say so. c->lock is held.
 */
void
conn_settle(struct conn *c)
{
	uint64_t	seen[2], unseen[2];
	int		dir;

	for (dir = 0; dir < 2; dir++)
		seen[dir] = c->st.kept[dir] + c->st.lost[dir];
	if (!kcount_unseen(&c->kc, seen, unseen))
		return;
	for (dir = 0; dir < 2; dir++) {
		conn_lose(c, dir, unseen[dir], "unseen_calls");
		if (!c->counting)
			scope_lose(dir, unseen[dir]);
	}
}

/*
 * The process forks holding its connections: from now on another
 * process may move bytes on them, so each is compared with the kernel
 * up to here, and no more (before the fork: no lock of ours is held).
 */
void
conn_fork_settle(void)
{
	struct conn	*v, *c;
	int		 fd;

	for (fd = fdtab_next(0); fd < FDTAB_MAX_FD; fd = fdtab_next(fd + 1)) {
		v = fdtab_get(fd);
		if (!fdtab_is_conn(v) || conn_untag(v) != v ||
		    (c = conn_get(fd)) == NULL)
			continue;
		pthread_mutex_lock(&c->lock);
		kcount_sample(&c->kc, fd);
		conn_settle(c);
		c->shared = 1;
		pthread_mutex_unlock(&c->lock);
		conn_put(c);
	}
}

/*
 * Closed while its non-blocking connect was still under way (the
 * program's own timeout: a peer that drops SYNs): Connection.error says
 * EINPROGRESS, connect_ns how long it waited. c->lock is held.
 */
void
conn_gave_up(struct conn *c, int64_t now)
{
	struct enc_conn	info;

	memset(&info, 0, sizeof info);
	info.connect_ns = (uint64_t)(now - c->connecting);
	info.error = "EINPROGRESS";
	c->connecting = 0;
	if (c->cut != NULL || c->kept[0] != 0 || c->kept[1] != 0)
		return;
	c->info.error = info.error;
	if (enc_conn(&c->enc, shim_conf.format, c->tf.n, &info) == -1 &&
	    conn_room(c) == 0)
		(void)enc_conn(&c->enc, shim_conf.format, c->tf.n, &info);
}

/*
 * A non-blocking connect's outcome is known at now: its duration goes in
 * a connection chunk, merged into the first. c->lock is held.
 */
void
conn_connected(struct conn *c, int64_t now)
{
	struct enc_conn	info;

	memset(&info, 0, sizeof info);
	info.connect_ns = (uint64_t)(now - c->connecting);
	c->info.connect_ns = info.connect_ns;
	c->connecting = 0;
	if (c->cut != NULL)
		return;
	if (enc_conn(&c->enc, shim_conf.format, c->tf.n, &info) == -1 &&
	    conn_room(c) == 0)
		(void)enc_conn(&c->enc, shim_conf.format, c->tf.n, &info);
}

/* The program read SO_ERROR 0: its non-blocking connect is done. */
void
conn_connect_done(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->connecting != 0)
		conn_connected(c, shim_now());
	conn_file_reend(c);
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
	if (c->cut == NULL && c->kept[0] == 0 && c->kept[1] == 0 &&
	    c->info.error == NULL) {
		c->info.error = strerrorname_np(err);
		if (c->info.error == NULL)
			c->info.error = "EIO";
		c->reset = err == ECONNREFUSED;
		memset(&info, 0, sizeof info);
		info.error = c->info.error;
		if (c->connecting != 0) {
			info.connect_ns = (uint64_t)(shim_now() -
			    c->connecting);
			c->connecting = 0;
		}
		if (enc_conn(&c->enc, shim_conf.format, c->tf.n, &info) ==
		    -1 && conn_room(c) == 0)
			(void)enc_conn(&c->enc, shim_conf.format, c->tf.n,
			    &info);
		conn_file_reend(c);
	}
	pthread_mutex_unlock(&c->lock);
}

/*
 * A hooked call just made fd (open, socket, pipe, a received fd...):
 * whatever its slot held belongs to an fd closed where no hook saw it
 * (fclose, a glibc-internal close, another thread's close racing this
 * call), so it is dropped. A socket's slot is left unknown, to be
 * classified on first use; anything else is known not to be traced.
 */
void
conn_fd_made(int fd, int socket)
{
	struct conn	*v = socket ? NULL : FDTAB_OTHER;

	if (fdtab_get(fd) != v)
		conn_install(fd, v);
}

/*
 * Before a call closes fd: what its slot holds, and in *held a reference
 * to that connection, so it cannot be finished and its memory reused for
 * another thread's new connection before conn_fd_ended() compares.
 */
struct conn *
conn_fd_closing(int fd, struct conn **held)
{
	struct conn	*v = fdtab_get(fd);

	*held = NULL;
	if (fdtab_is_conn(v) && ((uintptr_t)v & FDTAB_INHERITED) == 0 &&
	    (*held = conn_ref(fd, v)) == NULL)
		return (NULL);		/* being finished: not ours to end */
	return (v);
}

/*
 * After the call closed fd: its slot forgets was only if it still holds
 * it; a new fd with the same number, made by another thread meanwhile,
 * keeps its own. With finish (the outermost hook) the slot's reference
 * is dropped, ending the connection with its last fd.
 */
void
conn_fd_ended(int fd, struct conn *was, struct conn *held, int finish)
{
	if (was != NULL && fdtab_replace(fd, was, NULL) && finish &&
	    fdtab_is_conn(was) && ((uintptr_t)was & FDTAB_INHERITED) == 0)
		conn_put(was);
	if (held != NULL)
		conn_put(held);
}

/* Is c's non-blocking connect still under way (no outcome seen yet)? */
int
conn_connect_pending(struct conn *c)
{
	int	pending;

	pthread_mutex_lock(&c->lock);
	pending = c->connecting != 0;
	pthread_mutex_unlock(&c->lock);
	return (pending);
}

/*
 * The TLS session traced in plaintext on c ended (shut down or freed):
 * what the socket carries now is the session's leftover records.
 */
void
conn_tls_ended(struct conn *c)
{
	__atomic_store_n(&c->tls_over, 1, __ATOMIC_RELEASE);
}

/* Did a TLS session traced in plaintext on c end? */
int
conn_tls_over(const struct conn *c)
{
	return (__atomic_load_n(&c->tls_over, __ATOMIC_ACQUIRE));
}
