/* Connections' trace files: the mapped window, growing it, and the end. */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "collect.h"
#include "conn.h"
#include "conn-int.h"
#include "scope.h"
#include "shim.h"
#include "tracefile.h"

/*
 * Events with this many payload bytes or more go into the file by
 * pwritev() when they do not fit the window (conn_file_direct()).
 */
#define CONN_DIRECT_MIN	4096

static int	conn_said_cut;
static int	conn_said_ring;

/* Pack c's pieces into its file's window, at the end of the trace. */
void
conn_file_attach(struct conn *c, off_t pos)
{
	enc_init(&c->enc, c->tf.map, c->tf.maplen);
	c->enc.len = (size_t)(pos - c->tf.mapoff);
	c->enc.reserve = ENC_RESERVE;
	c->exit_at = -1;
	c->reend = 0;
}

/* Pack into tf's window (maybe a new one, maybe none), from pos. */
static void
conn_file_sync(struct conn *c, off_t pos)
{
	if (c->tf.map == NULL) {
		enc_init(&c->enc, NULL, 0);
		return;
	}
	c->enc.buf = c->tf.map;
	c->enc.cap = c->tf.maplen;
	c->enc.len = (size_t)(pos - c->tf.mapoff);
}

/* Where the trace ends now: the next piece goes there. */
static off_t
conn_file_pos(const struct conn *c)
{
	return (c->tf.mapoff + (off_t)c->enc.len);
}

/* The loss reason for an errno that ended the trace's file. */
static const char *
conn_file_reason(int err)
{
	switch (err) {
	case ESTALE:
		return ("trace_file_replaced");
	case ENOSPC:
	case EDQUOT:
		return ("disk_full");
	case EFBIG:
		return ("file_size_limit");
	case EPIPE:
		return ("collector_gone");
	case ENOBUFS:
		return ("ring_full");
	default:
		return ("write_error");
	}
}

/* Is c's trace still written by this process (direct or collector)? */
int
conn_file_mapped(const struct conn *c)
{
	return (c->tf.ring ? collect_mapped(&c->tf) :
	    tracefile_mapped(&c->tf));
}

/*
 * The ring refused c's bytes (err: EPIPE, the collector is gone;
 * ENOBUFS, full with --drop): the trace is cut there, what follows is
 * counted as lost, and the run's state says why.
 */
static void
conn_file_ring_lost(struct conn *c, int err)
{
	if (c->cut != NULL)
		return;
	c->cut = conn_file_reason(err);
	scope_ring_lost(collect_why(err));
	shim_say_once(&conn_said_ring, "trace %llu: %s; the trace ends "
	    "there (%s), later data is counted as lost",
	    (unsigned long long)c->tf.n, err == ENOBUFS ? "the collector's "
	    "ring is full (--drop)" : "the collector stopped reading",
	    c->cut);
}

/*
 * Collector mode: hand the ring the piece just packed. -1 when it was
 * refused: the trace is cut (the piece is lost, the caller counts it).
 * Direct mode: the piece is in the file already.
 */
int
conn_file_push(struct conn *c)
{
	off_t	pos;

	if (!c->tf.ring || !collect_mapped(&c->tf))
		return (0);
	pos = conn_file_pos(c);
	if (collect_push(&c->tf, pos) == -1) {
		conn_file_ring_lost(c, errno);
		conn_file_sync(c, pos);
		return (-1);
	}
	conn_file_sync(c, pos);
	return (0);
}

/* The trace is complete at len (cut to it), in either mode. */
static int
conn_file_finish(struct conn *c, off_t len, int keep)
{
	if (c->tf.ring)
		return (collect_finish(&c->tf, len, keep));
	return (tracefile_finish(&shim_conf, &c->tf, len, keep));
}

/*
 * The piece just refused needs more of the file mapped: map the next
 * window. If the file cannot grow (disk full, RLIMIT_FSIZE, replaced),
 * the trace is cut: what follows is counted as lost under the reason,
 * and the space kept back still takes the trace's end. A trace ended at
 * exit takes more (a later destructor's I/O) over its end, which is
 * written again after (conn_file_reend()). c->lock is held.
 */
int
conn_room(struct conn *c)
{
	off_t	pos = c->exit_at >= 0 ? c->exit_at : conn_file_pos(c);
	int	err;

	if (c->counting || c->cut != NULL || !conn_file_mapped(c))
		return (-1);
	if ((c->tf.ring ? collect_grow(&c->tf, pos, c->enc.want +
	    ENC_RESERVE) : tracefile_grow(&shim_conf, &c->tf, pos,
	    c->enc.want + ENC_RESERVE)) == 0) {
		conn_file_sync(c, pos);
		if (c->exit_at >= 0) {
			c->exit_at = -1;
			c->reend = 1;
			c->enc.reserve = ENC_RESERVE;
		}
		return (0);
	}
	err = errno;
	if (c->tf.ring) {
		conn_file_sync(c, pos);
		conn_file_ring_lost(c, err);
		return (-1);
	}
	/*
	 * The old window is mapped again; if pieces written past it moved
	 * the end on, map the space kept back there for the trace's end.
	 */
	if (tracefile_mapped(&c->tf) && (pos < c->tf.mapoff ||
	    pos + ENC_RESERVE > c->tf.mapoff + (off_t)c->tf.maplen))
		(void)tracefile_grow(&shim_conf, &c->tf, pos, ENC_RESERVE);
	conn_file_sync(c, pos);
	c->cut = conn_file_reason(err);
	shim_say_once(&conn_said_cut, "trace %llu: cannot extend: %s; the "
	    "trace ends there (%s), later data is counted as lost",
	    (unsigned long long)c->tf.n, strerror(err), c->cut);
	return (-1);
}

/*
 * A large event that does not fit the window goes into the file with
 * pwritev(), its payload copied once by the kernel into the page cache
 * (as durable against the process's death as a store into the window),
 * instead of through a new window whose pages the kernel zeroes before
 * they are copied over, and whose munmap costs more. The window takes
 * the small pieces; past it, the next one maps a new window there.
 * Returns 0 when written, 1 when the window is to take it, -1 when the
 * trace is cut (the event is lost, c->cut says why). c->lock is held.
 */
int
conn_file_direct(struct conn *c, const struct enc_event *ev)
{
	struct enc_vec	v;
	off_t		pos;
	size_t		room;
	int		err;

	if (ev->caplen < CONN_DIRECT_MIN || c->counting || c->cut != NULL ||
	    c->exit_at >= 0 || c->tf.ring || !tracefile_mapped(&c->tf))
		return (1);
	if (enc_event_vec(&v, shim_conf.format, c->tf.n, ev) == -1)
		return (1);
	room = c->enc.cap > c->enc.len + c->enc.reserve ?
	    c->enc.cap - c->enc.len - c->enc.reserve : 0;
	if (v.len <= room)
		return (1);
	pos = conn_file_pos(c);
	if (tracefile_write(&shim_conf, &c->tf, pos, v.iov, v.niov, v.len,
	    ENC_RESERVE) == 0) {
		c->enc.len += v.len;
		return (0);
	}
	err = errno;
	/* Nothing after it: the end goes in the space kept back at pos. */
	if (tracefile_mapped(&c->tf) && (pos < c->tf.mapoff ||
	    pos + ENC_RESERVE > c->tf.mapoff + (off_t)c->tf.maplen))
		(void)tracefile_grow(&shim_conf, &c->tf, pos, ENC_RESERVE);
	conn_file_sync(c, pos);
	c->cut = conn_file_reason(err);
	shim_say_once(&conn_said_cut, "trace %llu: cannot write: %s; the "
	    "trace ends there (%s), later data is counted as lost",
	    (unsigned long long)c->tf.n, strerror(err), c->cut);
	return (-1);
}

/*
 * End c's trace: its stats, a Closed event saying how it ended, the .pb
 * end chunk, in the space kept back if need be; then the file is cut to
 * its exact length. Ended by the program, it is unmapped: nothing comes
 * after. Ended at exit (ENC_ENDING_EXIT), the window stays, empty (cap
 * 0), so that I/O in a later destructor (pitfalls, row 19) goes over
 * the end through conn_room(). c->lock is held.
 */
void
conn_file_end(struct conn *c, enum enc_ending ending, int64_t now)
{
	struct enc_event	ev;
	enum conf_format	fmt = shim_conf.format;
	off_t			start;

	if (c->counting || !conn_file_mapped(c))
		return;
	if (c->exit_at >= 0 && (ending == ENC_ENDING_EXIT || c->cut != NULL)) {
		/* Ended already, and nothing can be added: keep that end. */
		if (ending != ENC_ENDING_EXIT)
			(void)conn_file_finish(c,
			    c->tf.alloc, 0);
		return;
	}
	start = c->exit_at >= 0 ? c->exit_at : conn_file_pos(c);
	c->enc.reserve = 0;
	if ((c->st.events > 0 || c->st.events_lost > 0 || c->cut != NULL ||
	    c->st.lost[0] > 0 || c->st.lost[1] > 0) &&
	    enc_stats(&c->enc, fmt, c->tf.n, &c->st) == -1 &&
	    conn_room(c) == 0)
		(void)enc_stats(&c->enc, fmt, c->tf.n, &c->st);
	memset(&ev, 0, sizeof ev);
	ev.kind = ENC_CLOSED;
	ev.sec = now / 1000000000LL;
	ev.nsec = (int32_t)(now % 1000000000LL);
	ev.reset = c->reset;
	ev.error = c->ended_by;
	ev.ending = c->cut != NULL ? ENC_ENDING_CUT : ending;
	ev.cut_reason = c->cut;
	ev.tid = shim_tid();
	ev.shared = c->shared;
	kcount_moved(&c->kc, ev.kernel);
	if (enc_event(&c->enc, fmt, c->tf.n, &ev) == -1 && conn_room(c) == 0)
		(void)enc_event(&c->enc, fmt, c->tf.n, &ev);
	if (enc_end(&c->enc, fmt, c->tf.n, c->truncated[0],
	    c->truncated[1]) == -1 && conn_room(c) == 0)
		(void)enc_end(&c->enc, fmt, c->tf.n, c->truncated[0],
		    c->truncated[1]);
	c->reend = 0;
	if (c->exit_at >= 0) {
		/* Could not take the old end over: it stays as it was. */
		(void)conn_file_finish(c, c->tf.alloc,
		    ending == ENC_ENDING_EXIT);
		return;
	}
	if (ending != ENC_ENDING_EXIT) {
		(void)conn_file_finish(c, conn_file_pos(c), 0);
		enc_init(&c->enc, NULL, 0);
		return;
	}
	(void)conn_file_finish(c, conn_file_pos(c), 1);
	c->exit_at = start;
	c->enc.cap = c->enc.len = 0;
}

/* After a piece written past the exit's end: end the trace again. */
void
conn_file_reend(struct conn *c)
{
	(void)conn_file_push(c);
	if (c->reend)
		conn_file_end(c, ENC_ENDING_EXIT, shim_now());
}

/* Before fork: no trace file is open while the child is made. */
void
conn_file_fork_prepare(void)
{
	collect_fork_prepare();
	tracefile_fork_prepare();
}

void
conn_file_fork_parent(void)
{
	tracefile_fork_parent();
	collect_fork_parent();
}

/* In the child: the parent's windows are gone (MADV_DONTFORK). */
void
conn_file_fork_child(void)
{
	tracefile_fork_child();
	collect_fork_child();
}
