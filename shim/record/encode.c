/* Encoding trace chunks (.pb) and records (.pb_length_delimited). */

#include "config.h"

#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "encode.h"
#include "proto/tapshim.pb-c.h"
#include "wire.h"

/* An address as text, for SocketAddress or Pipe. */
struct enc_addr {
	Tapshim__Trace__Address		addr;
	Tapshim__Trace__SocketAddress	sock;
	Tapshim__Trace__Pipe		pipe;
	char				text[INET6_ADDRSTRLEN + 110];
	char				esc[4 * 110 + 1];	/* path, UTF-8 */
};

/* How long the valid UTF-8 sequence at p is (RFC 3629), or 0. */
static size_t
enc_utf8_len(const uint8_t *p, size_t n)
{
	size_t	k, i;

	if (p[0] < 0x80)
		return (p[0] != 0);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4;
	else
		return (0);
	if (k > n)
		return (0);
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
	}
	/* Overlong, surrogates, past U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return (0);
	return (k);
}

/*
 * Pipe.path is a proto3 string, which protoc, Envoy's C++ parser and
 * Python refuse whole when it is not UTF-8: a path that is not goes as
 * text with \xNN for each bad byte (and \\ for a backslash), and its
 * bytes as they are in raw_path (1000). A UTF-8 path goes as it is.
 */
static void
enc_pipe_path(struct enc_addr *a, const uint8_t *p, size_t n)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i = 0, k, o = 0;
	int			bad = 0;

	while (i < n) {
		if ((k = enc_utf8_len(p + i, n - i)) == 0 || p[i] == '\\') {
			bad |= p[i] != '\\';
			a->esc[o++] = '\\';
			if (p[i] == '\\')
				a->esc[o++] = '\\';
			else {
				a->esc[o++] = 'x';
				a->esc[o++] = hex[p[i] >> 4];
				a->esc[o++] = hex[p[i] & 15];
			}
			i++;
			continue;
		}
		memcpy(a->esc + o, p + i, k);
		o += k;
		i += k;
	}
	a->esc[o] = '\0';
	if (!bad) {
		a->pipe.path = a->text;
		return;
	}
	a->pipe.path = a->esc;
	a->pipe.raw_path.data = (uint8_t *)(uintptr_t)p;
	a->pipe.raw_path.len = n;
}

/* Pack pieces into mem[0..cap). */
void
enc_init(struct enc_buf *e, uint8_t *mem, size_t cap)
{
	memset(e, 0, sizeof *e);
	e->buf = mem;
	e->cap = cap;
}

/* Forget what was packed. */
void
enc_reset(struct enc_buf *e)
{
	e->len = 0;
}

/* What was packed, as one iovec. */
int
enc_iov(struct enc_buf *e, struct iovec **iov)
{
	e->iov.iov_base = e->buf;
	e->iov.iov_len = e->len;
	*iov = &e->iov;
	return (1);
}

/* Close the bytes copied into hdr since the last payload as an iovec. */
static int
enc_vec_flush(struct enc_vec *v)
{
	if (v->hlen == v->hmark)
		return (0);
	if (v->niov == ENC_VEC_IOV)
		return (-1);
	v->iov[v->niov].iov_base = v->hdr + v->hmark;
	v->iov[v->niov].iov_len = v->hlen - v->hmark;
	v->niov++;
	v->hmark = v->hlen;
	return (0);
}

/* protobuf-c's output: small pieces copied, payloads pointed at. */
static void
enc_vec_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct enc_vec	*v = (struct enc_vec *)(void *)b;

	if (v->full || len == 0)
		return;
	if (len >= ENC_VEC_REF) {
		if (enc_vec_flush(v) == -1 || v->niov == ENC_VEC_IOV) {
			v->full = 1;
			return;
		}
		v->iov[v->niov].iov_base = (void *)(uintptr_t)data;
		v->iov[v->niov].iov_len = len;
		v->niov++;
	} else {
		if (len > sizeof v->hdr - v->hlen) {
			v->full = 1;
			return;
		}
		memcpy(v->hdr + v->hlen, data, len);
		v->hlen += len;
	}
	v->len += len;
}

/* Pack a wrapper (after its n-byte prefix) into v's iovecs. */
static int
enc_vec_pack(struct enc_vec *v, const uint8_t *pre, size_t n,
    const Tapshim__Trace__TraceWrapper *w)
{
	memset(v, 0, offsetof(struct enc_vec, hdr));
	v->hlen = v->hmark = 0;
	v->niov = 0;
	v->len = 0;
	v->full = 0;
	v->base.append = enc_vec_append;
	enc_vec_append(&v->base, n, pre);
	(void)tapshim__trace__trace_wrapper__pack_to_buffer(w, &v->base);
	if (v->full || enc_vec_flush(v) == -1)
		return (-1);
	return (0);
}

/*
 * Pack a wrapper where it goes, framed for the format: a .pb chunk is
 * the bare TraceWrapper (chunks merge on parsing); a length-delimited
 * record is preceded by its size. Returns -1, packing nothing, when
 * there is no room (e->want says how much): the caller maps more and
 * tries again.
 */
static int
enc_wrapper(struct enc_buf *e, enum conf_format fmt,
    const Tapshim__Trace__TraceWrapper *w)
{
	uint8_t	pre[WIRE_VARINT_MAX];
	size_t	size, n = 0, room;

	size = tapshim__trace__trace_wrapper__get_packed_size(w);
	if (fmt == CONF_FORMAT_DELIMITED)
		n = wire_put_varint(pre, size);
	if (e->vec != NULL)
		return (enc_vec_pack(e->vec, pre, n, w));
	room = e->cap > e->len + e->reserve ? e->cap - e->len - e->reserve : 0;
	if (n + size > room) {
		e->want = n + size;
		return (-1);
	}
	memcpy(e->buf + e->len, pre, n);
	(void)tapshim__trace__trace_wrapper__pack(w, e->buf + e->len + n);
	e->len += n + size;
	return (0);
}

/* Fill in an Address for a socket address (IP, or AF_UNIX as a Pipe). */
static void
enc_address(struct enc_addr *a, const struct sockaddr_storage *ss,
    socklen_t len, int udp)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	const struct sockaddr_un	*sun = (const void *)ss;
	size_t				 n;

	tapshim__trace__address__init(&a->addr);
	tapshim__trace__socket_address__init(&a->sock);
	tapshim__trace__pipe__init(&a->pipe);
	a->text[0] = '\0';
	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) {
		inet_ntop(ss->ss_family, ss->ss_family == AF_INET ?
		    (const void *)&sin->sin_addr : (const void *)&sin6->sin6_addr,
		    a->text, sizeof a->text);
		a->sock.protocol = udp ?
		    TAPSHIM__TRACE__SOCKET_ADDRESS__PROTOCOL__UDP :
		    TAPSHIM__TRACE__SOCKET_ADDRESS__PROTOCOL__TCP;
		a->sock.address = a->text;
		a->sock.port_specifier_case =
		    TAPSHIM__TRACE__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE;
		a->sock.port_value = ntohs(ss->ss_family == AF_INET ?
		    sin->sin_port : sin6->sin6_port);
		a->addr.address_case =
		    TAPSHIM__TRACE__ADDRESS__ADDRESS_SOCKET_ADDRESS;
		a->addr.socket_address = &a->sock;
	} else if (ss->ss_family == AF_UNIX) {
		/* Unnamed: no path; abstract: "@name", as ss(8) shows it. */
		n = len > offsetof(struct sockaddr_un, sun_path) ?
		    len - offsetof(struct sockaddr_un, sun_path) : 0;
		if (n > sizeof sun->sun_path)
			n = sizeof sun->sun_path;
		if (n > 0 && sun->sun_path[0] == '\0') {
			a->text[0] = '@';
			memcpy(a->text + 1, sun->sun_path + 1, n - 1);
			a->text[n] = '\0';
		} else {
			memcpy(a->text, sun->sun_path, n);
			a->text[n] = '\0';
		}
		enc_pipe_path(a, (const uint8_t *)a->text, strlen(a->text));
		a->addr.address_case = TAPSHIM__TRACE__ADDRESS__ADDRESS_PIPE;
		a->addr.pipe = &a->pipe;
	}
}

/*
 * Frame a connection or an event for the format: a .pb chunk (a buffered
 * trace holding it, and the trace id with the connection) or a streamed
 * segment; then append it.
 */
static int
enc_piece(struct enc_buf *e, enum conf_format fmt, uint64_t id,
    Tapshim__Trace__Connection *conn, Tapshim__Trace__SocketEvent *ev)
{
	Tapshim__Trace__TraceWrapper			w;
	Tapshim__Trace__SocketBufferedTrace		bt;
	Tapshim__Trace__SocketStreamedTraceSegment	sg;

	tapshim__trace__trace_wrapper__init(&w);
	if (fmt == CONF_FORMAT_DELIMITED) {
		tapshim__trace__socket_streamed_trace_segment__init(&sg);
		sg.trace_id = id;
		if (conn != NULL) {
			sg.message_piece_case = TAPSHIM__TRACE__SOCKET_STREAMED_TRACE_SEGMENT__MESSAGE_PIECE_CONNECTION;
			sg.connection = conn;
		} else {
			sg.message_piece_case = TAPSHIM__TRACE__SOCKET_STREAMED_TRACE_SEGMENT__MESSAGE_PIECE_EVENT;
			sg.event = ev;
		}
		w.trace_case = TAPSHIM__TRACE__TRACE_WRAPPER__TRACE_SOCKET_STREAMED_TRACE_SEGMENT;
		w.socket_streamed_trace_segment = &sg;
	} else {
		tapshim__trace__socket_buffered_trace__init(&bt);
		if (conn != NULL) {
			bt.trace_id = id;
			bt.connection = conn;
		} else {
			bt.n_events = 1;
			bt.events = &ev;
		}
		w.trace_case = TAPSHIM__TRACE__TRACE_WRAPPER__TRACE_SOCKET_BUFFERED_TRACE;
		w.socket_buffered_trace = &bt;
	}
	return (enc_wrapper(e, fmt, &w));
}

/*
 * A later Connection piece (a Tapshim__Trace__Connection), which readers
 * merge into the first: metadata learnt after the connection began. In
 * a streamed trace it rides in an event (SocketEvent.connection, 5, with
 * no read, write or closed): a connection segment without addresses
 * would be a second, empty connection to Envoy's readers.
 */
int
enc_conn_piece(struct enc_buf *e, enum conf_format fmt, uint64_t id,
    void *conn)
{
	Tapshim__Trace__SocketEvent	ev;

	if (fmt != CONF_FORMAT_DELIMITED)
		return (enc_piece(e, fmt, id, conn, NULL));
	tapshim__trace__socket_event__init(&ev);
	ev.connection = conn;
	return (enc_piece(e, fmt, id, NULL, &ev));
}

/*
 * What a trace kept and lost, as a later Connection piece (stats, field
 * 1040) merged into the first.
 */
int
enc_stats(struct enc_buf *e, enum conf_format fmt, uint64_t id,
    const struct enc_stats *st)
{
	Tapshim__Trace__Connection	conn;
	Tapshim__Trace__TraceStats	ts;

	tapshim__trace__connection__init(&conn);
	tapshim__trace__trace_stats__init(&ts);
	ts.read_bytes = st->kept[0];
	ts.written_bytes = st->kept[1];
	ts.read_lost = st->lost[0];
	ts.written_lost = st->lost[1];
	ts.events = st->events;
	ts.events_lost = st->events_lost;
	ts.n_lost_reasons = (size_t)st->nreasons;
	ts.lost_reasons = (char **)(uintptr_t)st->reasons;
	conn.stats = &ts;
	return (enc_conn_piece(e, fmt, id, &conn));
}

/* The name lookup that gave the remote address: Connection.resolution. */
static void
enc_resolution(Tapshim__Trace__Connection *conn, const struct resolv_entry *r,
    Tapshim__Trace__Resolution *res, Tapshim__Trace__Timestamp *rts,
    char **ans)
{
	int	i;

	tapshim__trace__resolution__init(res);
	res->function = (char *)(uintptr_t)r->function;
	res->name = (char *)(uintptr_t)r->name;
	for (i = 0; i < r->nanswers && i < RESOLV_ANSWERS; i++)
		ans[i] = (char *)(uintptr_t)r->answers[i];
	res->n_answers = (size_t)i;
	res->answers = ans;
	res->duration_ns = r->duration_ns;
	if (r->error != NULL)
		res->error = (char *)(uintptr_t)r->error;
	tapshim__trace__timestamp__init(rts);
	rts->seconds = r->sec;
	rts->nanos = r->nsec;
	res->timestamp = rts;
	conn->resolution = res;
}

/*
 * tapshim's issue 5 fields of a Connection: connect time, when it
 * started, the process, the call site.
 */
static void
enc_conn_ext(Tapshim__Trace__Connection *conn, const struct enc_conn *c,
    Tapshim__Trace__Process *proc, Tapshim__Trace__Timestamp *started,
    Tapshim__Trace__Timestamp *pts, Tapshim__Trace__Resolution *res,
    Tapshim__Trace__Timestamp *rts, char **ans)
{
	const struct enc_proc	*p = c->proc;

	conn->connect_ns = c->connect_ns;
	if (c->started_sec != 0) {
		tapshim__trace__timestamp__init(started);
		started->seconds = c->started_sec;
		started->nanos = c->started_nsec;
		conn->started = started;
	}
	if (c->resolution != NULL)
		enc_resolution(conn, c->resolution, res, rts, ans);
	if (c->nbacktrace > 0) {
		conn->n_backtrace = (size_t)c->nbacktrace;
		conn->backtrace = (char **)(uintptr_t)c->backtrace;
	}
	if (p == NULL)
		return;
	tapshim__trace__process__init(proc);
	proc->pid = c->pid;
	proc->ppid = p->ppid;
	if (p->exe != NULL)
		proc->exe = (char *)(uintptr_t)p->exe;
	proc->n_argv = (size_t)p->argc;
	proc->argv = (char **)(uintptr_t)p->argv;
	proc->argv_truncated = p->argv_truncated != 0;
	if (p->start_sec != 0) {
		tapshim__trace__timestamp__init(pts);
		pts->seconds = p->start_sec;
		pts->nanos = p->start_nsec;
		proc->start_time = pts;
	}
	conn->process = proc;
}

/* The first chunk of a trace: its id and its connection. */
int
enc_conn(struct enc_buf *e, enum conf_format fmt, uint64_t id,
    const struct enc_conn *c)
{
	Tapshim__Trace__Connection			conn;
	Tapshim__Trace__Process				proc;
	Tapshim__Trace__Timestamp			started, pts, rts;
	Tapshim__Trace__Resolution			res;
	char						*ans[RESOLV_ANSWERS];
	struct enc_addr					local, remote;

	tapshim__trace__connection__init(&conn);
	enc_address(&local, &c->local, c->local_len, c->udp);
	enc_address(&remote, &c->remote, c->remote_len, c->udp);
	if (local.addr.address_case != TAPSHIM__TRACE__ADDRESS__ADDRESS__NOT_SET)
		conn.local_address = &local.addr;
	if (remote.addr.address_case !=
	    TAPSHIM__TRACE__ADDRESS__ADDRESS__NOT_SET)
		conn.remote_address = &remote.addr;
	conn.role = (Tapshim__Trace__Role)c->role;
	conn.pid = c->pid;
	conn.inode = c->inode;
	if (c->error != NULL)
		conn.error = (char *)(uintptr_t)c->error;
	enc_conn_ext(&conn, c, &proc, &started, &pts, &res, &rts, ans);
	return (enc_piece(e, fmt, id, &conn, NULL));
}

/*
 * One event as its own chunk (or record): a read or write with what was
 * kept of its bytes (Body.truncated and tapshim's Body.length when less
 * than all), or a closed event.
 */
int
enc_event(struct enc_buf *e, enum conf_format fmt, uint64_t id,
    const struct enc_event *ev)
{
	Tapshim__Trace__SocketEvent			se;
	Tapshim__Trace__SocketEvent__Read		rd;
	Tapshim__Trace__SocketEvent__Write		wr;
	Tapshim__Trace__SocketEvent__Closed		cl;
	Tapshim__Trace__Timestamp			ts;
	Tapshim__Trace__Body				body;
	struct enc_addr					peer;

	tapshim__trace__socket_event__init(&se);
	tapshim__trace__timestamp__init(&ts);
	ts.seconds = ev->sec;
	ts.nanos = ev->nsec;
	se.timestamp = &ts;
	se.duration_ns = ev->duration;
	se.tid = ev->tid;
	if (ev->peer != NULL) {
		enc_address(&peer, (const struct sockaddr_storage *)
		    (const void *)ev->peer, ev->peer_len, 1);
		if (peer.addr.address_case !=
		    TAPSHIM__TRACE__ADDRESS__ADDRESS__NOT_SET)
			se.peer = &peer.addr;
	}
	tapshim__trace__body__init(&body);
	body.body_type_case = TAPSHIM__TRACE__BODY__BODY_TYPE_AS_BYTES;
	body.as_bytes.data = (uint8_t *)(uintptr_t)ev->data;
	body.as_bytes.len = ev->caplen;
	if (ev->len > ev->caplen) {
		body.truncated = 1;
		body.length = ev->len;
	}
	switch (ev->kind) {
	case ENC_READ:
		tapshim__trace__socket_event__read__init(&rd);
		rd.data = &body;
		rd.end_stream = ev->end_stream != 0;
		se.event_selector_case =
		    TAPSHIM__TRACE__SOCKET_EVENT__EVENT_SELECTOR_READ;
		se.read = &rd;
		break;
	case ENC_WRITE:
		tapshim__trace__socket_event__write__init(&wr);
		wr.data = &body;
		wr.end_stream = ev->end_stream != 0;
		se.event_selector_case =
		    TAPSHIM__TRACE__SOCKET_EVENT__EVENT_SELECTOR_WRITE;
		se.write = &wr;
		break;
	case ENC_CLOSED:
		tapshim__trace__socket_event__closed__init(&cl);
		cl.reset = (Tapshim__Trace__Reset)ev->reset;
		if (ev->error != NULL)
			cl.error = (char *)(uintptr_t)ev->error;
		cl.ending = (Tapshim__Trace__Ending)ev->ending;
		if (ev->cut_reason != NULL)
			cl.cut_reason = (char *)(uintptr_t)ev->cut_reason;
		cl.shared = ev->shared != 0;
		cl.kernel_received = ev->kernel[0];
		cl.kernel_sent = ev->kernel[1];
		se.event_selector_case =
		    TAPSHIM__TRACE__SOCKET_EVENT__EVENT_SELECTOR_CLOSED;
		se.closed = &cl;
		break;
	}
	return (enc_piece(e, fmt, id, NULL, &se));
}

/*
 * One event packed as iovecs into v (enc_event's piece, its payload not
 * copied). Returns -1 if it does not fit v.
 */
int
enc_event_vec(struct enc_vec *v, enum conf_format fmt, uint64_t id,
    const struct enc_event *ev)
{
	struct enc_buf	e;

	enc_init(&e, NULL, 0);
	e.vec = v;
	return (enc_event(&e, fmt, id, ev));
}

/* The last chunk of a .pb: the truncation flags (nothing for records). */
int
enc_end(struct enc_buf *e, enum conf_format fmt, uint64_t id, int read_trunc,
    int write_trunc)
{
	Tapshim__Trace__TraceWrapper		w;
	Tapshim__Trace__SocketBufferedTrace	bt;

	if (fmt == CONF_FORMAT_DELIMITED || (!read_trunc && !write_trunc))
		return (0);
	tapshim__trace__socket_buffered_trace__init(&bt);
	bt.trace_id = id;
	bt.read_truncated = read_trunc != 0;
	bt.write_truncated = write_trunc != 0;
	tapshim__trace__trace_wrapper__init(&w);
	w.trace_case = TAPSHIM__TRACE__TRACE_WRAPPER__TRACE_SOCKET_BUFFERED_TRACE;
	w.socket_buffered_trace = &bt;
	return (enc_wrapper(e, fmt, &w));
}
