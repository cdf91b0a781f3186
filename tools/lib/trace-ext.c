/* Decoding tapshim's own fields (1020-1039): timing, peers, process, call site. */

#include "config.h"

#include <sys/socket.h>

#include <string.h>

#include "trace-int.h"

/* Field numbers: proto/tapshim.proto. */
#define CONN_CONNECT_NS		1020
#define CONN_PROCESS		1021
#define CONN_RESOLUTION		1022
#define CONN_BACKTRACE		1023
#define CONN_STARTED		1024
#define CONN_STATS		1040
#define EVENT_PEER		1020
#define EVENT_DURATION		1021
#define EVENT_TID		1022

/* Check a field's wire type; -1 with *e filled in when it is wrong. */
static int
ext_type(const uint8_t *base, const uint8_t *p, const struct wire_field *f,
    int type, const char *what, struct decode_err *e)
{
	if (f->type == type)
		return (0);
	return (decode_fail(e, base, p + f->offset, "%s field %u has wire "
	    "type %d, expected %d", what, f->number, f->type, type));
}

/* A Timestamp message: seconds = 1, nanos = 2. */
static int
ext_time(const uint8_t *base, const struct wire_field *f, int64_t *sec,
    uint32_t *nsec, struct decode_err *e)
{
	struct wire_field	g;
	const char		*why;
	size_t			 pos = 0;
	int			 r;

	*sec = 0;
	*nsec = 0;
	while ((r = wire_next(f->data, f->len, &pos, &g, &why)) == 1) {
		if (g.type != WIRE_VARINT)
			continue;
		if (g.number == 1)
			*sec = (int64_t)g.value;
		else if (g.number == 2)
			*nsec = (uint32_t)g.value;
	}
	if (r < 0)
		return (decode_fail(e, base, f->data + g.offset, "Timestamp: "
		    "%s", why));
	if (*nsec > 999999999)
		return (decode_fail(e, base, f->data, "timestamp nanos %u out "
		    "of range", *nsec));
	return (0);
}

/* A TraceStats message (Connection.stats): its counts. */
static int
ext_stats(const uint8_t *base, const struct wire_field *f,
    struct trace_conn *c, struct decode_err *e)
{
	struct wire_field	 g;
	const char		*why;
	size_t			 pos = 0;
	int			 r;

	while ((r = wire_next(f->data, f->len, &pos, &g, &why)) == 1) {
		if (g.type != WIRE_VARINT || g.number < 1 || g.number > 6)
			continue;
		if (g.number <= 2)
			c->kept[g.number - 1] = g.value;
		else if (g.number <= 4)
			c->lost[g.number - 3] = g.value;
		else if (g.number == 5)
			c->events = g.value;
		else
			c->events_lost = g.value;
	}
	if (r < 0)
		return (decode_fail(e, base, f->data + g.offset, "TraceStats: "
		    "%s", why));
	c->has_stats = 1;
	c->stats.p = f->data;
	c->stats.len = f->len;
	return (0);
}

/*
 * A Connection field numbered 1020-1039 or 1040 (stats): 1 when taken
 * in, 0 when not ours, -1 on damage. Messages and strings stay in the
 * file as slices.
 */
int
decode_conn_ext(const uint8_t *base, const uint8_t *p,
    const struct wire_field *f, struct trace_conn *c, struct decode_err *e)
{
	switch (f->number) {
	case CONN_CONNECT_NS:
		if (ext_type(base, p, f, WIRE_VARINT, "Connection", e) == -1)
			return (-1);
		c->connect_ns = f->value;
		return (1);
	case CONN_STATS:
		if (ext_type(base, p, f, WIRE_LEN, "Connection", e) == -1 ||
		    ext_stats(base, f, c, e) == -1)
			return (-1);
		return (1);
	case CONN_STARTED:
		if (ext_type(base, p, f, WIRE_LEN, "Connection", e) == -1 ||
		    ext_time(base, f, &c->started_sec, &c->started_nsec,
		    e) == -1)
			return (-1);
		c->has_started = 1;
		return (1);
	case CONN_PROCESS:
	case CONN_RESOLUTION:
	case CONN_BACKTRACE:
		if (ext_type(base, p, f, WIRE_LEN, "Connection", e) == -1)
			return (-1);
		if (f->number == CONN_PROCESS) {
			c->process.p = f->data;
			c->process.len = f->len;
		} else if (f->number == CONN_RESOLUTION) {
			c->resolution.p = f->data;
			c->resolution.len = f->len;
		} else if (c->nbacktrace < TRACE_BACKTRACE_MAX) {
			c->backtrace[c->nbacktrace].p = f->data;
			c->backtrace[c->nbacktrace++].len = f->len;
		}
		return (1);
	default:
		return (0);
	}
}

/* A SocketEvent field numbered 1020-1039: as decode_conn_ext(). */
int
decode_event_ext(const uint8_t *base, const uint8_t *p,
    const struct wire_field *f, struct trace_event *ev, struct decode_err *e)
{
	switch (f->number) {
	case EVENT_PEER:
		if (ext_type(base, p, f, WIRE_LEN, "SocketEvent", e) == -1 ||
		    decode_addr(base, f->data, f->len, &ev->peer, e) == -1)
			return (-1);
		ev->has_peer = ev->peer.family != AF_UNSPEC;
		return (1);
	case EVENT_DURATION:
	case EVENT_TID:
		if (ext_type(base, p, f, WIRE_VARINT, "SocketEvent", e) == -1)
			return (-1);
		if (f->number == EVENT_DURATION)
			ev->duration = f->value;
		else
			ev->tid = (uint32_t)f->value;
		return (1);
	default:
		return (0);
	}
}
