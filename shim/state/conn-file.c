/* Connections' trace files: at most CONN_FILES_MAX open, and writes. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "conn-int.h"
#include "shim.h"
#include "tracefile.h"

/* The trace files open now: at most CONN_FILES_MAX, whoever owns them. */
static pthread_mutex_t	 conn_files_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn	*conn_files[CONN_FILES_MAX];
static unsigned int	 conn_files_hand;

/*
 * The fd (plus one) of each open trace file, read without a lock by the
 * close and dup2 hooks to protect the shim's fds from the program.
 */
static int		 conn_file_fds[CONN_FILES_MAX];

static int		 conn_said_write;

/*
 * Make sure c's trace file is open, taking one of the CONN_FILES_MAX
 * places, from an idle connection if need be (trylock: never wait on
 * another connection while holding the files lock). c->lock is held.
 */
int
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
void
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
void
conn_flush(struct conn *c)
{
	struct iovec	*iov;
	int		 n, ok;

	if (c->enc.pending == 0)
		return;
	if (c->counting) {
		enc_reset(&c->enc);	/* no trace: nothing is written */
		return;
	}
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
		conn_lose(c, 0, c->pend[0], "write_error");
		conn_lose(c, 1, c->pend[1], "write_error");
		c->st.kept[0] -= c->pend[0];
		c->st.kept[1] -= c->pend[1];
		c->st.events -= c->pend_events;
		c->st.events_lost += c->pend_events;
	}
	c->pend[0] = c->pend[1] = c->pend_events = 0;
	enc_reset(&c->enc);
	c->last_flush = conn_now();
}

/* Before fork, after the pool's lock: hold the files lock. */
void
conn_file_fork_prepare(void)
{
	pthread_mutex_lock(&conn_files_lock);
}

/* After fork, in the parent: let the files lock go. */
void
conn_file_fork_parent(void)
{
	pthread_mutex_unlock(&conn_files_lock);
}

/* In the child: a fresh files lock, and none of the parent's files. */
void
conn_file_fork_child(void)
{
	unsigned int	i;

	pthread_mutex_init(&conn_files_lock, NULL);
	for (i = 0; i < CONN_FILES_MAX; i++) {
		/* The program may have dup2()ed over it: close only ours. */
		if (conn_files[i] != NULL)
			tracefile_close(&conn_files[i]->tf);
		conn_files[i] = NULL;
		conn_file_fds[i] = 0;
	}
}
