/* Decoding the messages inside a trace: SocketEvent, Connection, Address. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "proto/tapshim.pb-c.h"
#include "trace-int.h"
#include "wire.h"

/* Field numbers: trace-format.md and proto/tapshim.proto. */
#define EVENT_TIMESTAMP		1
#define EVENT_READ		2
#define EVENT_WRITE		3
#define EVENT_CLOSED		4
#define EVENT_CONNECTION	5
#define EVENT_SEQ_NUM		6
#define EXT_FIRST		1000

/*
 * The most one read() or write() moves: Linux's MAX_RW_COUNT (INT_MAX
 * rounded down to a page). A larger Body.length is damage, and would
 * have tap2pcap write zero-filled segments without end.
 */
#define BODY_LEN_MAX		0x7ffff000ULL

/* Fill in *e and return -1. */
int
decode_fail(struct decode_err *e, const uint8_t *base, const uint8_t *at,
    const char *fmt, ...)
{
	va_list	ap;

	e->offset = (size_t)(at - base);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return (-1);
}

/* Walk one field of a message, reporting damage at its absolute offset. */
static int
decode_field(const uint8_t *base, const uint8_t *p, size_t n, size_t *pos,
    struct wire_field *f, const char *what, struct decode_err *e)
{
	const char	*why;
	int		 r;

	r = wire_next(p, n, pos, f, &why);
	if (r < 0)
		return (decode_fail(e, base, p + f->offset, "%s: %s", what,
		    why));
	return (r);
}

/* Check a field has the wire type its schema says. */
static int
decode_type(const uint8_t *base, const uint8_t *p, const struct wire_field *f,
    int type, const char *what, struct decode_err *e)
{
	static const char *names[] = { "varint", "64-bit", "length-delimited",
	    "group start", "group end", "32-bit", "?", "?" };

	if (f->type == type)
		return (0);
	return (decode_fail(e, base, p + f->offset,
	    "%s field %u is %s, expected %s", what, f->number,
	    names[f->type & 7], names[type & 7]));
}

/* Turn an Address message into a trace_addr. */
int
decode_addr(const uint8_t *base, const uint8_t *p, size_t n,
    struct trace_addr *a, struct decode_err *e)
{
	Tapshim__Trace__Address		*m;
	Tapshim__Trace__SocketAddress	*sa;
	char				 host[INET6_ADDRSTRLEN + 64], *pct;
	int				 rc = 0;

	if ((m = tapshim__trace__address__unpack(NULL, n, p)) == NULL)
		return (decode_fail(e, base, p, "cannot decode Address"));
	memset(a, 0, sizeof *a);
	a->family = AF_UNSPEC;
	switch (m->address_case) {
	case TAPSHIM__TRACE__ADDRESS__ADDRESS_SOCKET_ADDRESS:
		sa = m->socket_address;
		a->udp = sa->protocol ==
		    TAPSHIM__TRACE__SOCKET_ADDRESS__PROTOCOL__UDP;
		if (sa->port_specifier_case ==
		    TAPSHIM__TRACE__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE) {
			if (sa->port_value > 65535) {
				rc = decode_fail(e, base, p,
				    "port %u out of range", sa->port_value);
				break;
			}
			a->port = (uint16_t)sa->port_value;
		}
		if (sa->address == NULL || *sa->address == '\0')
			break;
		snprintf(host, sizeof host, "%s", sa->address);
		if ((pct = strchr(host, '%')) != NULL)
			*pct = '\0';	/* IPv6 scope: not on the wire */
		if (inet_pton(AF_INET, host, a->ip) == 1)
			a->family = AF_INET;
		else if (inet_pton(AF_INET6, host, a->ip) == 1)
			a->family = AF_INET6;
		else
			rc = decode_fail(e, base, p, "address \"%s\" is not a "
			    "numeric IPv4 or IPv6 address", esc_mem(host,
			    sizeof host, sa->address, strnlen(sa->address, 24),
			    0));
		break;
	case TAPSHIM__TRACE__ADDRESS__ADDRESS_PIPE:
		a->family = AF_UNIX;
		if (m->pipe->path != NULL)
			snprintf(a->path, sizeof a->path, "%s", m->pipe->path);
		break;
	case TAPSHIM__TRACE__ADDRESS__ADDRESS_ENVOY_INTERNAL_ADDRESS:
		/* Drawn as AF_UNIX is (no IP), but named for what it is. */
		a->family = AF_UNIX;
		a->internal = 1;
		if (m->envoy_internal_address->server_listener_name != NULL)
			snprintf(a->path, sizeof a->path, "%s",
			    m->envoy_internal_address->server_listener_name);
		break;
	default:
		break;
	}
	tapshim__trace__address__free_unpacked(m, NULL);
	return (rc);
}

/*
 * Does this Connection use Envoy's older numbering (id = 1 as a varint,
 * local_address = 2, remote_address = 3)? Field 3, or a varint field 1,
 * says so; a Connection with only field 2 is read as the new numbering,
 * since Envoy >= 1.28 writes a remote-only connection that way.
 */
static int
decode_conn_is_old(const uint8_t *p, size_t n)
{
	struct wire_field	f;
	const char		*why;
	size_t			 pos = 0;

	while (wire_next(p, n, &pos, &f, &why) == 1) {
		if (f.number == 3 || (f.number == 1 && f.type == WIRE_VARINT))
			return (1);
	}
	return (0);
}

/*
 * Merge a TlsInfo (Connection.tls) into *c: what its data are (field 11)
 * and ALPN (field 5), for tap2pcap's decode hints.
 */
static int
decode_tls(const uint8_t *base, const uint8_t *p, size_t n,
    struct trace_conn *c, struct decode_err *e)
{
	struct wire_field	 f;
	size_t			 pos = 0;
	int			 r;

	if (c->tls == 0)
		c->tls = TRACE_TLS_UNKNOWN;
	c->tlsinfo.p = p;
	c->tlsinfo.len = n;
	while ((r = decode_field(base, p, n, &pos, &f, "TlsInfo", e)) == 1) {
		if (f.number == 5) {
			if (decode_type(base, p, &f, WIRE_LEN, "TlsInfo",
			    e) == -1)
				return (-1);
			snprintf(c->alpn, sizeof c->alpn, "%.*s",
			    (int)(f.len < sizeof c->alpn ? f.len :
			    sizeof c->alpn - 1), (const char *)f.data);
		} else if (f.number == 11) {
			if (decode_type(base, p, &f, WIRE_VARINT, "TlsInfo",
			    e) == -1)
				return (-1);
			if (f.value == TRACE_TLS_PLAINTEXT ||
			    f.value == TRACE_TLS_CIPHERTEXT)
				c->tls = (int)f.value;
		}
	}
	return (r);
}

/*
 * Merge a Connection message into *c, as a protobuf parser merges a
 * repeated singular field: what this occurrence sets replaces what was.
 */
int
decode_conn(const uint8_t *base, const uint8_t *p, size_t n,
    struct trace_conn *c, struct decode_err *e)
{
	struct wire_field	 f;
	size_t			 pos = 0;
	uint32_t		 local, remote;
	int			 r;

	local = decode_conn_is_old(p, n) ? 2 : 1;
	remote = local + 1;
	while ((r = decode_field(base, p, n, &pos, &f, "Connection", e)) == 1) {
		if (f.number == local || f.number == remote) {
			if (decode_type(base, p, &f, WIRE_LEN, "Connection",
			    e) == -1)
				return (-1);
			if (decode_addr(base, f.data, f.len, f.number == local ?
			    &c->local : &c->remote, e) == -1)
				return (-1);
			continue;
		}
		if (f.number == EXT_FIRST + 3) {
			if (decode_type(base, p, &f, WIRE_LEN, "Connection",
			    e) == -1)
				return (-1);
			snprintf(c->error, sizeof c->error, "%.*s",
			    (int)(f.len < sizeof c->error ? f.len :
			    sizeof c->error - 1), (const char *)f.data);
			continue;
		}
		if (f.number == EXT_FIRST + 10) {
			if (decode_type(base, p, &f, WIRE_LEN, "Connection",
			    e) == -1 || decode_tls(base, f.data, f.len, c,
			    e) == -1)
				return (-1);
			continue;
		}
		if ((r = decode_conn_ext(base, p, &f, c, e)) != 0) {
			if (r == -1)
				return (-1);
			continue;
		}
		if (f.number < EXT_FIRST || f.number > EXT_FIRST + 2)
			continue;
		if (decode_type(base, p, &f, WIRE_VARINT, "Connection",
		    e) == -1)
			return (-1);
		if (f.number == EXT_FIRST)
			c->role = f.value <= TRACE_ROLE_SERVER ?
			    (enum trace_role)f.value : TRACE_ROLE_UNKNOWN;
		else if (f.number == EXT_FIRST + 1)
			c->pid = (uint32_t)f.value;
		else
			c->inode = f.value;
	}
	return (r);
}

/* Timestamp: seconds = 1 (int64), nanos = 2 (int32). */
static int
decode_time(const uint8_t *base, const uint8_t *p, size_t n,
    struct trace_event *ev, struct decode_err *e)
{
	struct wire_field	f;
	size_t			pos = 0;
	int64_t			sec = 0, nsec = 0;
	int			r;

	while ((r = decode_field(base, p, n, &pos, &f, "Timestamp", e)) == 1) {
		if (f.number != 1 && f.number != 2)
			continue;
		if (decode_type(base, p, &f, WIRE_VARINT, "Timestamp", e) == -1)
			return (-1);
		if (f.number == 1)
			sec = (int64_t)f.value;
		else
			nsec = (int32_t)(uint32_t)f.value;
	}
	if (r < 0)
		return (-1);
	if (nsec < 0 || nsec > 999999999)
		return (decode_fail(e, base, p, "timestamp nanos %lld out of "
		    "range", (long long)nsec));
	if (sec < 0 || sec > UINT32_MAX)
		return (decode_fail(e, base, p, "timestamp %lld seconds "
		    "cannot be written to a pcap file", (long long)sec));
	ev->has_time = 1;
	ev->sec = sec;
	ev->nsec = (uint32_t)nsec;
	return (0);
}

/* Body: as_bytes = 1, as_string = 2, truncated = 3, length = 1000. */
static int
decode_body(const uint8_t *base, const uint8_t *p, size_t n,
    struct trace_event *ev, struct decode_err *e)
{
	struct wire_field	f;
	size_t			pos = 0;
	int			r;

	while ((r = decode_field(base, p, n, &pos, &f, "Body", e)) == 1) {
		if (f.number == 1 || f.number == 2) {
			if (decode_type(base, p, &f, WIRE_LEN, "Body", e) == -1)
				return (-1);
			ev->data = f.data;
			ev->caplen = f.len;
		} else if (f.number == 3 || f.number == EXT_FIRST) {
			if (decode_type(base, p, &f, WIRE_VARINT, "Body",
			    e) == -1)
				return (-1);
			if (f.number == 3)
				ev->truncated = f.value != 0;
			else if (f.value > BODY_LEN_MAX)
				return (decode_fail(e, base, p + f.offset,
				    "Body length %llu is more than one call "
				    "can move", (unsigned long long)f.value));
			else
				ev->len = f.value;
		}
	}
	return (r);
}

/*
 * Read = { data = 1 }, with tapshim's end_stream = 1000 (EOF);
 * Write = { data = 1, end_stream = 2 }; Closed = { reset = 1000,
 * error = 1020, ending = 1021, cut_reason = 1022 }.
 */
static int
decode_op(const uint8_t *base, const uint8_t *p, size_t n,
    struct trace_event *ev, int flags, struct decode_err *e)
{
	struct wire_field	f;
	size_t			pos = 0;
	uint32_t		eos;
	int			r;

	eos = ev->kind == TRACE_EV_WRITE ? 2 : EXT_FIRST;
	while ((r = decode_field(base, p, n, &pos, &f, "SocketEvent", e)) == 1) {
		if (f.number == 1 && ev->kind != TRACE_EV_CLOSED) {
			if (decode_type(base, p, &f, WIRE_LEN, "Read/Write",
			    e) == -1)
				return (-1);
			if (flags & DECODE_V2ALPHA) {
				/* Envoy 1.7-1.9: bytes data = 1, no Body. */
				ev->data = f.data;
				ev->caplen = f.len;
			} else if (decode_body(base, f.data, f.len, ev, e) == -1)
				return (-1);
		} else if (f.number == eos && ev->kind != TRACE_EV_CLOSED) {
			if (decode_type(base, p, &f, WIRE_VARINT, "Read/Write",
			    e) == -1)
				return (-1);
			ev->end_stream = f.value != 0;
		} else if (f.number == EXT_FIRST + 20 &&
		    ev->kind == TRACE_EV_CLOSED) {
			if (decode_type(base, p, &f, WIRE_LEN, "Closed",
			    e) == -1)
				return (-1);
			snprintf(ev->error, sizeof ev->error, "%.*s",
			    (int)(f.len < sizeof ev->error ? f.len :
			    sizeof ev->error - 1), (const char *)f.data);
		} else if (f.number == EXT_FIRST + 21 &&
		    ev->kind == TRACE_EV_CLOSED) {
			if (decode_type(base, p, &f, WIRE_VARINT, "Closed",
			    e) == -1)
				return (-1);
			ev->ending = f.value <= TRACE_ENDING_CUT ?
			    (enum trace_ending)f.value : TRACE_ENDING_CUT;
		} else if (f.number == EXT_FIRST + 22 &&
		    ev->kind == TRACE_EV_CLOSED) {
			if (decode_type(base, p, &f, WIRE_LEN, "Closed",
			    e) == -1)
				return (-1);
			snprintf(ev->cut_reason, sizeof ev->cut_reason, "%.*s",
			    (int)(f.len < sizeof ev->cut_reason ? f.len :
			    sizeof ev->cut_reason - 1), (const char *)f.data);
		} else if (f.number == EXT_FIRST &&
		    ev->kind == TRACE_EV_CLOSED) {
			if (decode_type(base, p, &f, WIRE_VARINT, "Closed",
			    e) == -1)
				return (-1);
			ev->reset = f.value <= TRACE_RESET_BY_LOCAL ?
			    (enum trace_reset)f.value : TRACE_RESET_BY_PEER;
		}
	}
	return (r);
}

/*
 * Decode a SocketEvent in place: the payload is left where it is in the
 * file (protobuf-c would copy every body, and would lose the length of an
 * as_string body holding a NUL). A connection inside the event
 * (streaming, field 5) is merged into *conn and *has_conn set.
 */
int
decode_event(const uint8_t *base, const uint8_t *p, size_t n,
    struct trace_event *ev, struct trace_conn *conn, int *has_conn,
    int flags, struct decode_err *e)
{
	struct wire_field	f;
	size_t			pos = 0;
	int			r;

	memset(ev, 0, sizeof *ev);
	ev->offset = (size_t)(p - base);
	ev->kind = TRACE_EV_OTHER;
	while ((r = decode_field(base, p, n, &pos, &f, "SocketEvent", e)) == 1) {
		if (decode_event_ext(base, p, &f, ev, e) == -1)
			return (-1);
		if (f.number == EVENT_SEQ_NUM) {
			if (decode_type(base, p, &f, WIRE_VARINT, "SocketEvent",
			    e) == -1)
				return (-1);
			ev->has_seq = 1;
			ev->seq = f.value;
			continue;
		}
		if (f.number > EVENT_CONNECTION || f.number < EVENT_TIMESTAMP)
			continue;
		if (decode_type(base, p, &f, WIRE_LEN, "SocketEvent", e) == -1)
			return (-1);
		switch (f.number) {
		case EVENT_TIMESTAMP:
			if (decode_time(base, f.data, f.len, ev, e) == -1)
				return (-1);
			break;
		case EVENT_CONNECTION:
			if (decode_conn(base, f.data, f.len, conn, e) == -1)
				return (-1);
			*has_conn = 1;
			break;
		default:
			/* A oneof: the last member on the wire wins. */
			ev->kind = f.number == EVENT_READ ? TRACE_EV_READ :
			    f.number == EVENT_WRITE ? TRACE_EV_WRITE :
			    TRACE_EV_CLOSED;
			ev->data = NULL;
			ev->caplen = 0;
			ev->len = 0;
			ev->truncated = ev->end_stream = 0;
			ev->reset = TRACE_RESET_NONE;
			ev->error[0] = '\0';
			ev->ending = TRACE_ENDING_CLOSED;
			ev->cut_reason[0] = '\0';
			if (decode_op(base, f.data, f.len, ev, flags, e) == -1)
				return (-1);
			break;
		}
	}
	if (r < 0)
		return (-1);
	if (ev->len < ev->caplen)
		ev->len = ev->caplen;
	return (0);
}
