/* A run's shared state: limits and totals for every process of a launch. */

#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runstate.h"

/* Atomic adds and loads on the shared mapping, across processes. */
#define RS_ADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define RS_LOAD(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

/*
 * Make the run's state file at path (it must not exist): the limits in
 * init, every total zero. The launcher does this before the program
 * starts; -1 with errbuf (RUNSTATE_ERRBUF_SIZE) on failure.
 */
int
runstate_create(const char *path, const struct runstate *init, char *errbuf)
{
	struct runstate	rs;
	int		fd;

	memset(&rs, 0, sizeof rs);
	rs.magic = RUNSTATE_MAGIC;
	rs.version = RUNSTATE_VERSION;
	rs.max_bytes = init->max_bytes;
	rs.max_conns = init->max_conns;
	rs.deadline = init->deadline;
	rs.next_trace = init->next_trace;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 || write(fd, &rs, sizeof rs) != (ssize_t)sizeof rs) {
		snprintf(errbuf, RUNSTATE_ERRBUF_SIZE, "%s: %s", path,
		    strerror(errno ? errno : EIO));
		if (fd != -1) {
			close(fd);
			unlink(path);
		}
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * Map the state file at path, shared (writable unless readonly), and
 * close it: the mapping holds no fd the program could trip over. NULL
 * with errbuf saying why.
 */
struct runstate *
runstate_map(const char *path, int readonly, char *errbuf)
{
	struct runstate	*rs;
	struct stat	 st;
	int		 fd;

	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		snprintf(errbuf, RUNSTATE_ERRBUF_SIZE, "%s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)sizeof *rs) {
		snprintf(errbuf, RUNSTATE_ERRBUF_SIZE, "%s: not a tapshim run "
		    "state file", path);
		close(fd);
		return (NULL);
	}
	rs = mmap(NULL, sizeof *rs, readonly ? PROT_READ : PROT_READ |
	    PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (rs == MAP_FAILED) {
		snprintf(errbuf, RUNSTATE_ERRBUF_SIZE, "%s: %s", path,
		    strerror(errno));
		return (NULL);
	}
	if (rs->magic != RUNSTATE_MAGIC || rs->version != RUNSTATE_VERSION) {
		snprintf(errbuf, RUNSTATE_ERRBUF_SIZE, "%s: not a tapshim run "
		    "state file of this version", path);
		munmap(rs, sizeof *rs);
		return (NULL);
	}
	return (rs);
}

/* Let go of a mapping. */
void
runstate_unmap(struct runstate *rs)
{
	if (rs != NULL)
		munmap(rs, sizeof *rs);
}

/* Stop recording for the whole run, the first reason kept. */
static void
runstate_stop(struct runstate *rs, enum runstate_stop why)
{
	uint32_t	running = RUNSTATE_RUNNING;

	__atomic_compare_exchange_n(&rs->stopped, &running, (uint32_t)why, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Has the run stopped recording, or should it now (its time is up)? */
static int
runstate_stopped(struct runstate *rs, int64_t now)
{
	if (RS_LOAD(&rs->stopped) != RUNSTATE_RUNNING)
		return (1);
	if (rs->deadline != 0 && now >= rs->deadline) {
		runstate_stop(rs, RUNSTATE_STOP_TIME);
		return (1);
	}
	return (0);
}

/*
 * May one more connection be traced (now: CLOCK_REALTIME ns)? Counts it,
 * with RUNSTATE_TAIL trace bytes set aside for its end; when a limit
 * says no, it is counted as lost instead and 0 is returned.
 */
int
runstate_admit_conn(struct runstate *rs, int64_t now)
{
	if (rs == NULL)
		return (1);
	if (!runstate_stopped(rs, now)) {
		if (rs->max_conns != 0 && RS_ADD(&rs->conns, 1) > rs->max_conns) {
			RS_ADD(&rs->conns, (uint64_t)-1);
			runstate_stop(rs, RUNSTATE_STOP_CONNS);
		} else if (!runstate_admit_bytes(rs, RUNSTATE_TAIL, now)) {
			if (rs->max_conns != 0)
				RS_ADD(&rs->conns, (uint64_t)-1);
		} else {
			if (rs->max_conns == 0)
				RS_ADD(&rs->conns, 1);
			return (1);
		}
	}
	RS_ADD(&rs->conns_lost, 1);
	return (0);
}

/*
 * May n more bytes go into trace files? Sets them aside and says 1, or
 * (past --max-total-bytes, after the deadline) stops the run and says 0.
 */
int
runstate_admit_bytes(struct runstate *rs, uint64_t n, int64_t now)
{
	uint64_t	cur;

	if (rs == NULL)
		return (1);
	if (runstate_stopped(rs, now))
		return (0);
	if (rs->max_bytes == 0) {
		RS_ADD(&rs->file_bytes, n);
		return (1);
	}
	cur = RS_LOAD(&rs->file_bytes);
	do {
		if (cur + n > rs->max_bytes) {
			runstate_stop(rs, RUNSTATE_STOP_BYTES);
			return (0);
		}
	} while (!__atomic_compare_exchange_n(&rs->file_bytes, &cur, cur + n,
	    1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (1);
}

/* Count bytes of direction dir lost outside any event (unseen calls). */
void
runstate_lose(struct runstate *rs, int dir, uint64_t lost)
{
	if (rs != NULL)
		RS_ADD(&rs->lost[dir], lost);
}

/* Count one read (dir 0) or write (1): kept and lost payload bytes. */
void
runstate_count(struct runstate *rs, int dir, uint64_t kept, uint64_t lost)
{
	if (rs == NULL)
		return;
	RS_ADD(&rs->kept[dir], kept);
	RS_ADD(&rs->lost[dir], lost);
	if (kept > 0 || lost == 0)
		RS_ADD(&rs->events, 1);
	else
		RS_ADD(&rs->events_lost, 1);
}

/*
 * Count n messages of the shim that could not be written anywhere (fd 2
 * no longer stderr, no TAPSHIM_LOG): the launcher's summary says so.
 */
void
runstate_count_msgs(struct runstate *rs, uint64_t n)
{
	if (rs != NULL && n > 0)
		RS_ADD(&rs->msgs_lost, n);
}

/* What stopped the run, for messages and statistics. */
const char *
runstate_stop_name(enum runstate_stop why)
{
	switch (why) {
	case RUNSTATE_STOP_BYTES:	return ("max_total_bytes");
	case RUNSTATE_STOP_CONNS:	return ("max_connections");
	case RUNSTATE_STOP_TIME:	return ("duration");
	default:			return ("none");
	}
}

/* Collector mode: a trace number no other process of the run has. */
uint64_t
runstate_next_trace(struct runstate *rs)
{
	return (__atomic_fetch_add(&rs->next_trace, 1, __ATOMIC_RELAXED));
}

/* A ring lost a trace's bytes, for why (RUNSTATE_RING_*). */
void
runstate_ring_lost(struct runstate *rs, uint32_t why)
{
	if (rs != NULL)
		__atomic_or_fetch(&rs->ring_lost, why, __ATOMIC_RELAXED);
}
