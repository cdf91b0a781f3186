/* Check tests for the trace reader: formats, messages, damage. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace-read.h"
#include "tracebuf.h"

/* Each test builds its trace in tb and opens it as tf; teardown frees. */
static struct tracebuf		 tb;
static struct trace_file	*tf;
static struct trace_event	 ev;
static char			 errbuf[TRACE_ERRBUF_SIZE];

/* Start each test with nothing built and nothing open. */
static void
setup(void)
{
	tb_init(&tb);
	tf = NULL;
	errbuf[0] = '\0';
}

/* Release what the test left. */
static void
teardown(void)
{
	trace_close(tf);
	tb_free(&tb);
}

/* Start a new .pb: TraceWrapper{socket_buffered_trace{...}}. */
static void
pb_begin(void)
{
	tb_free(&tb);
	tb_begin(&tb, TB_BUFFERED);
}

/* End a .pb started with pb_begin(), after one write event. */
static void
pb_end(void)
{
	tb_event(&tb, 3, 1, 0, TB_WRITE, "x", 1);
	tb_end(&tb);
}

/* Start a new .pb whose first event is left open, after its timestamp. */
static void
ev_begin(void)
{
	pb_begin();
	tb_begin(&tb, 3);
	tb_timestamp(&tb, 1, 0);
}

/* Close the event and the .pb opened with ev_begin(). */
static void
ev_end(void)
{
	tb_end(&tb);
	tb_end(&tb);
}

/* Start a new .pb whose first event's read or write Body is left open. */
static void
body_begin(uint32_t op)
{
	ev_begin();
	tb_begin(&tb, op);
	tb_begin(&tb, 1);
}

/* Close what body_begin() opened. */
static void
body_end(void)
{
	tb_end(&tb);
	tb_end(&tb);
	ev_end();
}

/* Start a streamed segment of trace id, as one delimited record. */
static void
seg_begin(uint64_t id)
{
	tb_begin(&tb, TB_RECORD);
	tb_begin(&tb, TB_SEGMENT);
	tb_uint(&tb, 1, id);
}

/* Close a segment opened with seg_begin(). */
static void
seg_end(void)
{
	tb_end(&tb);
	tb_end(&tb);
}

/* The .pb most tests read: a connection, a write, a read, a close. */
static void
build_pb(void)
{
	pb_begin();
	tb_uint(&tb, 1, 7);
	tb_conn(&tb, 2, "10.0.0.1", 1234, "10.0.0.2", 80);
	tb_event(&tb, 3, 100, 1, TB_WRITE, "GET /", 5);
	tb_event(&tb, 3, 100, 500000000, TB_READ, "200 OK", 6);
	tb_event(&tb, 3, 101, 0, TB_CLOSED, NULL, 0);
	tb_end(&tb);
}

/* A streamed trace: connection, write, read, two batched, closed. */
static void
build_ld(void)
{
	tb_free(&tb);
	seg_begin(3);
	tb_conn(&tb, 2, "10.0.0.1", 1234, "10.0.0.2", 80);
	seg_end();
	seg_begin(3);
	tb_event(&tb, 3, 10, 0, TB_WRITE, "hello", 5);
	seg_end();
	seg_begin(3);
	tb_event(&tb, 3, 11, 0, TB_READ, "world", 5);
	seg_end();
	seg_begin(3);
	tb_begin(&tb, 4);
	tb_event(&tb, 1, 12, 0, TB_WRITE, "a", 1);
	tb_event(&tb, 1, 13, 0, TB_READ, "b", 1);
	tb_end(&tb);
	seg_end();
	seg_begin(3);
	tb_event(&tb, 3, 14, 0, TB_CLOSED, NULL, 0);
	seg_end();
}

/* Open tb as name (closing tf); the test fails unless it opens. */
static void
open_ok(const char *name)
{
	trace_close(tf);
	tf = trace_open_mem(name, tb.data, tb.len, errbuf);
	ck_assert_msg(tf != NULL, "%s", errbuf);
}

/* Open tb as name; the test fails unless it says "name: offset N: what". */
static void
open_bad(const char *name, size_t offset, const char *what)
{
	char	want[TRACE_ERRBUF_SIZE];

	snprintf(want, sizeof want, "%s: offset %zu: %s", name, offset, what);
	ck_assert_ptr_null(trace_open_mem(name, tb.data, tb.len, errbuf));
	ck_assert_msg(strncmp(errbuf, want, strlen(want)) == 0,
	    "error \"%s\", want \"%s...\"", errbuf, want);
}

/* Read tf's next event into ev: this kind, holding these bytes. */
static void
next_is(enum trace_kind kind, const char *data)
{
	ck_assert_msg(trace_next(tf, &ev, errbuf) == 1, "none: %s", errbuf);
	ck_assert_int_eq(ev.kind, kind);
	ck_assert_uint_eq(ev.caplen, data != NULL ? strlen(data) : 0);
	if (data != NULL)
		ck_assert_mem_eq(ev.data, data, ev.caplen);
}

/* tf must have no event left. */
static void
next_end(void)
{
	ck_assert_int_eq(trace_next(tf, &ev, errbuf), 0);
}

/* Open tb and read its first event, which must be of this kind. */
static void
first_is(enum trace_kind kind)
{
	open_ok("e.pb");
	ck_assert_int_eq(trace_next(tf, &ev, errbuf), 1);
	ck_assert_int_eq(ev.kind, kind);
}

/* Is a the IP address host, port? */
static void
addr_is(const struct trace_addr *a, int family, const char *host,
    uint16_t port)
{
	uint8_t	ip[16] = { 0 };

	ck_assert_int_eq(a->family, family);
	ck_assert_int_eq(inet_pton(family, host, ip), 1);
	ck_assert_mem_eq(a->ip, ip, family == AF_INET ? 4 : 16);
	ck_assert_uint_eq(a->port, port);
}

/* Finish the .pb being built and return its trace's connection. */
static const struct trace_conn *
conn_of(void)
{
	pb_end();
	open_ok("c.pb");
	ck_assert_int_eq(trace_info(tf, 0)->has_conn, 1);
	return (&trace_info(tf, 0)->conn);
}

START_TEST(test_pb_single)
{
	const struct trace_info	*t;

	build_pb();
	open_ok("t_1.pb");
	ck_assert_int_eq(trace_format(tf), TRACE_FORMAT_BINARY);
	ck_assert_str_eq(trace_name(tf), "t_1.pb");
	ck_assert_uint_eq(trace_count(tf), 1);
	ck_assert_uint_eq(trace_http_count(tf), 0);
	ck_assert_ptr_null(trace_info(tf, 1));
	t = trace_info(tf, 0);
	ck_assert_uint_eq(t->trace_id, 7);
	ck_assert_int_eq(t->has_conn, 1);
	addr_is(&t->conn.local, AF_INET, "10.0.0.1", 1234);
	addr_is(&t->conn.remote, AF_INET, "10.0.0.2", 80);
	ck_assert_uint_eq(t->nevents, 3);
	ck_assert_int_eq(t->read_truncated | t->write_truncated, 0);
	next_is(TRACE_EV_WRITE, "GET /");
	ck_assert_ptr_eq(ev.data, memmem(tb.data, tb.len, "GET /", 5));
	ck_assert_int_eq(ev.has_time, 1);
	ck_assert_int_eq(ev.sec, 100);
	ck_assert_uint_eq(ev.nsec, 1);
	ck_assert_uint_eq(ev.len, 5);
	ck_assert_uint_eq(ev.trace, 0);
	next_is(TRACE_EV_READ, "200 OK");
	ck_assert_uint_eq(ev.nsec, 500000000);
	next_is(TRACE_EV_CLOSED, NULL);
	ck_assert_int_eq(ev.sec, 101);
	next_end();
	next_end();
	trace_rewind(tf);
	next_is(TRACE_EV_WRITE, "GET /");
}
END_TEST

START_TEST(test_pb_chunks)
{
	const struct trace_info	*t;

	/* Id, connection and flags only in the last of three chunks. */
	pb_begin();
	tb_event(&tb, 3, 1, 0, TB_WRITE, "one", 3);
	tb_event(&tb, 3, 2, 0, TB_READ, "two", 3);
	tb_end(&tb);
	tb_begin(&tb, TB_BUFFERED);
	tb_event(&tb, 3, 3, 0, TB_WRITE, "three", 5);
	tb_end(&tb);
	tb_begin(&tb, TB_BUFFERED);
	tb_uint(&tb, 1, 9);
	tb_conn(&tb, 2, "10.0.0.1", 1, "10.0.0.2", 2);
	tb_uint(&tb, 4, 1);
	tb_uint(&tb, 5, 1);
	tb_end(&tb);
	open_ok("t.pb");
	ck_assert_uint_eq(trace_count(tf), 1);
	t = trace_info(tf, 0);
	ck_assert_uint_eq(t->trace_id, 9);
	ck_assert_int_eq(t->has_conn, 1);
	addr_is(&t->conn.remote, AF_INET, "10.0.0.2", 2);
	ck_assert_uint_eq(t->nevents, 3);
	ck_assert_int_eq(t->read_truncated, 1);
	ck_assert_int_eq(t->write_truncated, 1);
	next_is(TRACE_EV_WRITE, "one");
	next_is(TRACE_EV_READ, "two");
	next_is(TRACE_EV_WRITE, "three");
	ck_assert_uint_eq(ev.trace, 0);
	next_end();
}
END_TEST

START_TEST(test_pb_chunks_merge)
{
	const struct trace_info	*t;

	/* The id comes first; a later connection replaces only the remote. */
	pb_begin();
	tb_uint(&tb, 1, 5);
	tb_conn(&tb, 2, "10.0.0.1", 1, "10.0.0.2", 2);
	tb_event(&tb, 3, 1, 0, TB_WRITE, "a", 1);
	tb_end(&tb);
	tb_begin(&tb, TB_BUFFERED);
	tb_conn(&tb, 2, NULL, 0, "10.9.9.9", 9);
	tb_uint(&tb, 5, 1);
	tb_end(&tb);
	open_ok("t.pb");
	t = trace_info(tf, 0);
	ck_assert_uint_eq(trace_count(tf), 1);
	ck_assert_uint_eq(t->trace_id, 5);
	addr_is(&t->conn.local, AF_INET, "10.0.0.1", 1);
	addr_is(&t->conn.remote, AF_INET, "10.9.9.9", 9);
	ck_assert_int_eq(t->read_truncated, 0);
	ck_assert_int_eq(t->write_truncated, 1);
	ck_assert_uint_eq(t->nevents, 1);
}
END_TEST

START_TEST(test_ld_stream)
{
	const struct trace_info	*t;

	build_ld();
	open_ok("t_3.pb_length_delimited");
	ck_assert_int_eq(trace_format(tf), TRACE_FORMAT_DELIMITED);
	ck_assert_uint_eq(trace_count(tf), 1);
	t = trace_info(tf, 0);
	ck_assert_uint_eq(t->trace_id, 3);
	ck_assert_int_eq(t->has_conn, 1);
	addr_is(&t->conn.local, AF_INET, "10.0.0.1", 1234);
	ck_assert_uint_eq(t->nevents, 5);
	next_is(TRACE_EV_WRITE, "hello");
	ck_assert_int_eq(ev.sec, 10);
	next_is(TRACE_EV_READ, "world");
	next_is(TRACE_EV_WRITE, "a");
	next_is(TRACE_EV_READ, "b");
	ck_assert_int_eq(ev.sec, 13);
	next_is(TRACE_EV_CLOSED, NULL);
	next_end();
}
END_TEST

START_TEST(test_ld_two_traces)
{
	static const char	*data[] = { "a1", "b1", "a2", "b2" };
	int			 i;

	seg_begin(11);
	tb_conn(&tb, 2, "10.0.0.1", 1, "10.0.0.2", 2);
	seg_end();
	seg_begin(22);
	tb_conn(&tb, 2, "10.0.0.3", 3, "10.0.0.4", 4);
	seg_end();
	for (i = 0; i < 4; i++) {
		seg_begin(i % 2 ? 22 : 11);
		tb_event(&tb, 3, i, 0, TB_WRITE, data[i], 2);
		seg_end();
	}
	open_ok("t.pb_length_delimited");
	ck_assert_uint_eq(trace_count(tf), 2);
	ck_assert_uint_eq(trace_info(tf, 0)->trace_id, 11);
	ck_assert_uint_eq(trace_info(tf, 1)->trace_id, 22);
	ck_assert_uint_eq(trace_info(tf, 0)->nevents, 2);
	ck_assert_uint_eq(trace_info(tf, 1)->nevents, 2);
	addr_is(&trace_info(tf, 1)->conn.local, AF_INET, "10.0.0.3", 3);
	for (i = 0; i < 4; i++) {
		next_is(TRACE_EV_WRITE, data[i]);
		ck_assert_uint_eq(ev.trace, (size_t)(i % 2));
	}
	next_end();
}
END_TEST

START_TEST(test_ld_event_conn)
{
	/* Streaming may carry the connection inside an event (field 5). */
	seg_begin(4);
	tb_begin(&tb, 3);
	tb_op(&tb, TB_WRITE, "x", 1);
	tb_conn(&tb, 5, "10.0.0.5", 5, "10.0.0.6", 6);
	tb_uint(&tb, 6, 1);
	tb_end(&tb);
	seg_end();
	open_ok("t.pb_length_delimited");
	ck_assert_int_eq(trace_info(tf, 0)->has_conn, 1);
	addr_is(&trace_info(tf, 0)->conn.remote, AF_INET, "10.0.0.6", 6);
}
END_TEST

START_TEST(test_detect_content)
{
	/* The content decides; the extension may lie. */
	build_pb();
	open_ok("lies.pb_length_delimited");
	ck_assert_int_eq(trace_format(tf), TRACE_FORMAT_BINARY);
	ck_assert_str_eq(trace_format_name(trace_format(tf)), "PROTO_BINARY");
	build_ld();
	open_ok("lies.pb");
	ck_assert_int_eq(trace_format(tf), TRACE_FORMAT_DELIMITED);
	ck_assert_uint_eq(trace_info(tf, 0)->nevents, 5);
	open_ok("no-extension");
	ck_assert_int_eq(trace_format(tf), TRACE_FORMAT_DELIMITED);
}
END_TEST

START_TEST(test_http_count)
{
	tb_bytes(&tb, TB_HTTP, "\x0a\x00", 2);
	open_ok("h.pb");
	ck_assert_uint_eq(trace_count(tf), 0);
	ck_assert_uint_eq(trace_http_count(tf), 1);
	next_end();
	build_ld();
	tb_begin(&tb, TB_RECORD);
	tb_bytes(&tb, TB_HTTP, "\x0a\x00", 2);
	tb_end(&tb);
	tb_begin(&tb, TB_RECORD);
	tb_bytes(&tb, 2, "\x0a\x00", 2);
	tb_end(&tb);
	open_ok("h.pb_length_delimited");
	ck_assert_uint_eq(trace_count(tf), 1);
	ck_assert_uint_eq(trace_http_count(tf), 2);
}
END_TEST

START_TEST(test_conn_numbering)
{
	const struct trace_conn	*c;

	pb_begin();
	tb_conn(&tb, 2, "10.0.0.1", 1, "10.0.0.2", 2);
	c = conn_of();
	addr_is(&c->local, AF_INET, "10.0.0.1", 1);
	addr_is(&c->remote, AF_INET, "10.0.0.2", 2);
	pb_begin();
	tb_conn_old(&tb, 2, 42, "10.0.0.1", 1, "10.0.0.2", 2);
	c = conn_of();
	addr_is(&c->local, AF_INET, "10.0.0.1", 1);
	addr_is(&c->remote, AF_INET, "10.0.0.2", 2);
	/* Old, said by field 3 alone (no id). */
	pb_begin();
	tb_begin(&tb, 2);
	tb_inet(&tb, 2, TB_TCP, "10.0.0.1", 1);
	tb_inet(&tb, 3, TB_TCP, "10.0.0.2", 2);
	tb_end(&tb);
	c = conn_of();
	addr_is(&c->local, AF_INET, "10.0.0.1", 1);
	addr_is(&c->remote, AF_INET, "10.0.0.2", 2);
	/* Old, said by the id alone: field 2 is the local end. */
	pb_begin();
	tb_conn_old(&tb, 2, 42, "10.0.0.1", 1, NULL, 0);
	c = conn_of();
	addr_is(&c->local, AF_INET, "10.0.0.1", 1);
	ck_assert_int_eq(c->remote.family, AF_UNSPEC);
	/* Only field 2: ambiguous, read as the current layout's remote. */
	pb_begin();
	tb_conn(&tb, 2, NULL, 0, "10.0.0.2", 2);
	c = conn_of();
	ck_assert_int_eq(c->local.family, AF_UNSPEC);
	addr_is(&c->remote, AF_INET, "10.0.0.2", 2);
}
END_TEST

START_TEST(test_addr_kinds)
{
	const struct trace_conn	*c;

	pb_begin();
	tb_begin(&tb, 2);
	tb_inet(&tb, 1, TB_UDP, "192.0.2.1", 53);
	tb_inet(&tb, 2, TB_TCP, "2001:db8::1", 443);
	tb_end(&tb);
	c = conn_of();
	addr_is(&c->local, AF_INET, "192.0.2.1", 53);
	ck_assert_int_eq(c->local.udp, 1);
	addr_is(&c->remote, AF_INET6, "2001:db8::1", 443);
	ck_assert_int_eq(c->remote.udp, 0);
	pb_begin();
	tb_begin(&tb, 2);
	tb_inet(&tb, 1, TB_TCP, "fe80::1%eth0", 8080);
	tb_pipe(&tb, 2, "/run/app.sock");
	tb_end(&tb);
	c = conn_of();
	addr_is(&c->local, AF_INET6, "fe80::1", 8080);
	ck_assert_int_eq(c->remote.family, AF_UNIX);
	ck_assert_str_eq(c->remote.path, "/run/app.sock");
}
END_TEST

START_TEST(test_conn_ext)
{
	const struct trace_conn	*c;

	pb_begin();
	tb_begin(&tb, 2);
	tb_inet(&tb, 1, TB_TCP, "10.0.0.1", 1);
	tb_uint(&tb, 1000, 2);
	tb_uint(&tb, 1001, 4242);
	tb_uint(&tb, 1002, 123456789012ULL);
	tb_end(&tb);
	c = conn_of();
	ck_assert_int_eq(c->role, TRACE_ROLE_SERVER);
	ck_assert_uint_eq(c->pid, 4242);
	ck_assert_uint_eq(c->inode, 123456789012ULL);
	pb_begin();
	tb_begin(&tb, 2);
	tb_uint(&tb, 1000, 1);
	tb_end(&tb);
	ck_assert_int_eq(conn_of()->role, TRACE_ROLE_CLIENT);
}
END_TEST

START_TEST(test_body)
{
	/* as_string keeps an embedded NUL and its full length. */
	body_begin(TB_READ);
	tb_bytes(&tb, 2, "ab\0cd", 5);
	body_end();
	first_is(TRACE_EV_READ);
	ck_assert_uint_eq(ev.caplen, 5);
	ck_assert_uint_eq(ev.len, 5);
	ck_assert_mem_eq(ev.data, "ab\0cd", 5);
	ck_assert_int_eq(ev.truncated, 0);
	/* Truncated, with tapshim's length (1000): caplen < len. */
	body_begin(TB_WRITE);
	tb_bytes(&tb, 1, "abcd", 4);
	tb_uint(&tb, 3, 1);
	tb_uint(&tb, 1000, 100000);
	body_end();
	first_is(TRACE_EV_WRITE);
	ck_assert_uint_eq(ev.caplen, 4);
	ck_assert_uint_eq(ev.len, 100000);
	ck_assert_int_eq(ev.truncated, 1);
}
END_TEST

START_TEST(test_end_stream)
{
	/* Read: tapshim's field 1000; Write: Envoy's field 2. */
	body_begin(_i ? TB_WRITE : TB_READ);
	tb_bytes(&tb, 1, "z", 1);
	tb_end(&tb);
	tb_uint(&tb, _i ? 2 : 1000, 1);
	tb_end(&tb);
	ev_end();
	first_is(_i ? TRACE_EV_WRITE : TRACE_EV_READ);
	ck_assert_int_eq(ev.end_stream, 1);
	ck_assert_uint_eq(ev.caplen, 1);
}
END_TEST

START_TEST(test_closed_reset)
{
	static const enum trace_reset	want[] = { TRACE_RESET_NONE,
	    TRACE_RESET_BY_PEER, TRACE_RESET_BY_LOCAL };

	ev_begin();
	tb_begin(&tb, TB_CLOSED);
	if (_i > 0)
		tb_uint(&tb, 1000, (uint64_t)_i);
	tb_end(&tb);
	ev_end();
	first_is(TRACE_EV_CLOSED);
	ck_assert_int_eq(ev.reset, want[_i]);
}
END_TEST

START_TEST(test_time_inherit)
{
	int	pass;

	pb_begin();
	tb_begin(&tb, 3);
	tb_op(&tb, TB_WRITE, "0", 1);
	tb_end(&tb);
	tb_event(&tb, 3, 50, 250000000, TB_WRITE, "1", 1);
	tb_begin(&tb, 3);
	tb_op(&tb, TB_READ, "2", 1);
	tb_end(&tb);
	tb_event(&tb, 3, 60, 0, TB_READ, "3", 1);
	tb_end(&tb);
	open_ok("t.pb");
	ck_assert_int_eq(trace_info(tf, 0)->has_conn, 0);
	for (pass = 0; pass < 2; pass++) {
		next_is(TRACE_EV_WRITE, "0");
		ck_assert_int_eq(ev.has_time, 0);
		ck_assert_int_eq(ev.sec, 0);
		next_is(TRACE_EV_WRITE, "1");
		next_is(TRACE_EV_READ, "2");
		ck_assert_int_eq(ev.has_time, 0);
		ck_assert_int_eq(ev.sec, 50);
		ck_assert_uint_eq(ev.nsec, 250000000);
		next_is(TRACE_EV_READ, "3");
		ck_assert_int_eq(ev.sec, 60);
		ck_assert_uint_eq(ev.nsec, 0);
		next_end();
		trace_rewind(tf);
	}
}
END_TEST

/* A damaged trace, the offset its error must name, and what it says. */
struct damage {
	const char	*name;
	size_t		 at;
	const char	*what;
};

#define NDAMAGE		17
#define NOT_BINARY	"; tap2pcap reads binary traces (PROTO_BINARY, " \
	"PROTO_BINARY_LENGTH_DELIMITED)"

/* A .pb whose one event has this timestamp; errors name the Timestamp. */
static size_t
time_event(int64_t sec, int32_t nsec)
{
	size_t	at;

	pb_begin();
	tb_begin(&tb, 3);
	at = tb.len + 2;	/* past the field's tag and length */
	tb_timestamp(&tb, sec, nsec);
	tb_op(&tb, TB_WRITE, "x", 1);
	ev_end();
	return (at);
}

/* A .pb whose connection's remote end is this; errors name the Address. */
static size_t
addr_conn(const char *host, uint32_t port)
{
	size_t	at;

	pb_begin();
	tb_begin(&tb, 2);
	at = tb.len + 2;
	tb_inet(&tb, 2, TB_TCP, host, port);
	tb_end(&tb);
	pb_end();
	return (at);
}

/*
 * Build damaged trace number i into tb. One long switch, so that each
 * case's bytes sit next to the error they must cause.
 */
static void
damage_build(int i, struct damage *d)
{
	d->name = "t.pb";
	tb_free(&tb);
	switch (i) {
	case 0:
		d->what = "empty file";
		break;
	case 1:		/* a good trace, then a tag that never ends */
		build_pb();
		d->at = tb.len;
		tb_raw(&tb, "\x80", 1);
		d->what = "not a trace: damaged or cut-short TraceWrapper field";
		break;
	case 2:		/* an event whose last tag never ends */
		ev_begin();
		tb_op(&tb, TB_READ, "x", 1);
		d->at = tb.len;
		tb_raw(&tb, "\x80", 1);
		ev_end();
		d->what = "SocketEvent: field tag is cut short";
		break;
	case 3:		/* a .pb one byte short: its only field runs past */
		build_pb();
		tb_cut(&tb, 1);
		d->what = "not a trace: damaged or cut-short TraceWrapper field";
		break;
	case 4:		/* 50 bytes of body in a Body holding 2 */
		body_begin(TB_READ);
		d->at = tb.len;
		tb_tag(&tb, 1, TB_LEN);
		tb_varint(&tb, 50);
		tb_raw(&tb, "ab", 2);
		body_end();
		d->what = "Body: length runs past the end of its container";
		break;
	case 5:		/* a streamed trace whose last record is cut short */
		build_ld();
		d->at = tb.len;
		seg_begin(3);
		tb_event(&tb, 3, 15, 0, TB_WRITE, "lost", 4);
		seg_end();
		tb_cut(&tb, 3);
		d->name = "t.pb_length_delimited";
		d->what = "not a length-delimited trace: damaged or cut-short "
		    "record";
		break;
	case 6:		/* a read (SocketEvent field 2) as a varint */
		ev_begin();
		d->at = tb.len;
		tb_uint(&tb, TB_READ, 1);
		ev_end();
		d->what = "SocketEvent field 2 is varint, expected "
		    "length-delimited";
		break;
	case 7:		/* an event (SocketBufferedTrace field 3) as a varint */
		pb_begin();
		d->at = tb.len;
		tb_uint(&tb, 3, 1);
		tb_end(&tb);
		d->what = "field 3 has wire type 0, expected a length-delimited "
		    "message";
		break;
	case 8:
		d->at = time_event(1, 1000000000);
		d->what = "timestamp nanos 1000000000 out of range";
		break;
	case 9:
		d->at = time_event(1, -1);
		d->what = "timestamp nanos -1 out of range";
		break;
	case 10:
		d->at = time_event(-1, 0);
		d->what = "timestamp -1 seconds cannot be written to a pcap file";
		break;
	case 11:
		d->at = addr_conn("example.com", 80);
		d->what = "address \"example.com\" is not a numeric IPv4 or IPv6 "
		    "address";
		break;
	case 12:
		d->at = addr_conn("10.0.0.2", 70000);
		d->what = "port 70000 out of range";
		break;
	case 13:	/* tapshim's pid (Connection field 1001) as bytes */
		pb_begin();
		tb_begin(&tb, 2);
		d->at = tb.len;
		tb_bytes(&tb, 1001, "1", 1);
		tb_end(&tb);
		pb_end();
		d->what = "Connection field 1001 is length-delimited, expected "
		    "varint";
		break;
	case 14:	/* Envoy's JSON format, with an extension saying so */
		tb_raw(&tb, " \n{\"socketBufferedTrace\": {}}\n", 30);
		d->name = "t.json";
		d->what = "a JSON trace" NOT_BINARY;
		break;
	case 15:	/* Envoy's PROTO_TEXT format, with a lying extension */
		tb_raw(&tb, "socket_buffered_trace {\n  trace_id: 1\n}\n", 40);
		d->what = "a text (PROTO_TEXT) trace" NOT_BINARY;
		break;
	case 16:	/* a chunked .pb whose writer died mid-chunk */
		build_pb();
		d->at = tb.len;
		tb_begin(&tb, TB_BUFFERED);
		tb_event(&tb, 3, 102, 0, TB_READ, "lost", 4);
		tb_end(&tb);
		tb_cut(&tb, 2);
		d->what = "not a trace: damaged or cut-short TraceWrapper field";
		break;
	}
}

START_TEST(test_damage)
{
	struct damage	d = { NULL, 0, NULL };

	damage_build(_i, &d);
	open_bad(d.name, d.at, d.what);
}
END_TEST

START_TEST(test_garbage)
{
	uint32_t	x = 2463534242U;
	int		i;

	for (i = 0; i < 512; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		tb_raw(&tb, &x, 1);
	}
	ck_assert_ptr_null(trace_open_mem("g.pb", tb.data, tb.len, errbuf));
	ck_assert_msg(strncmp(errbuf, "g.pb: offset ", 13) == 0 &&
	    strstr(errbuf, ": not a ") != NULL, "%s", errbuf);
}
END_TEST

START_TEST(test_file_open)
{
	char	dir[] = "/tmp/check_reader.XXXXXX", path[64];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t_1.pb", dir);
	build_pb();
	ck_assert_int_eq(tb_write_file(&tb, path), 0);
	tf = trace_open(path, errbuf);
	ck_assert_msg(tf != NULL, "%s", errbuf);
	ck_assert_str_eq(trace_name(tf), path);
	ck_assert_uint_eq(trace_size(tf), tb.len);
	ck_assert_uint_eq(trace_info(tf, 0)->nevents, 3);
	next_is(TRACE_EV_WRITE, "GET /");
	tb_free(&tb);
	ck_assert_int_eq(tb_write_file(&tb, path), 0);
	ck_assert_ptr_null(trace_open(path, errbuf));
	ck_assert_str_eq(errbuf + strlen(path), ": offset 0: empty file");
	unlink(path);
	ck_assert_ptr_null(trace_open(path, errbuf));
	ck_assert_str_eq(errbuf + strlen(path), ": No such file or directory");
	ck_assert_ptr_null(trace_open(dir, errbuf));
	ck_assert_int_eq(strncmp(errbuf, dir, strlen(dir)), 0);
	ck_assert_str_eq(errbuf + strlen(dir), ": Is a directory");
	rmdir(dir);
}
END_TEST

START_TEST(test_file_stdin)
{
	int	fd[2], saved;

	/* A pipe cannot be mapped: the reader reads it into memory. */
	build_ld();
	ck_assert_int_eq(pipe(fd), 0);
	ck_assert_int_eq(write(fd[1], tb.data, tb.len), (ssize_t)tb.len);
	close(fd[1]);
	saved = dup(STDIN_FILENO);
	dup2(fd[0], STDIN_FILENO);
	close(fd[0]);
	tf = trace_open("-", errbuf);
	dup2(saved, STDIN_FILENO);
	close(saved);
	ck_assert_msg(tf != NULL, "%s", errbuf);
	ck_assert_str_eq(trace_name(tf), "(stdin)");
	ck_assert_int_eq(trace_format(tf), TRACE_FORMAT_DELIMITED);
	ck_assert_uint_eq(trace_info(tf, 0)->nevents, 5);
}
END_TEST

/* Open the first n bytes of tb, copied so that reading past them shows. */
static void
fuzz_one(const char *name, size_t n)
{
	struct trace_file	*f;
	uint8_t			*copy = n ? malloc(n) : NULL;
	size_t			 events = 0;
	int			 r;

	if (n > 0)
		memcpy(copy, tb.data, n);
	if ((f = trace_open_mem(name, copy, n, errbuf)) == NULL)
		ck_assert_msg(strncmp(errbuf, name, strlen(name)) == 0 &&
		    strncmp(errbuf + strlen(name), ": offset ", 9) == 0,
		    "%zu bytes: \"%s\"", n, errbuf);
	else {
		while ((r = trace_next(f, &ev, errbuf)) == 1)
			events++;
		ck_assert_msg(r == 0, "%zu bytes: \"%s\"", n, errbuf);
		ck_assert_uint_le(events, n / 2);	/* tag, length */
		trace_close(f);
	}
	free(copy);
}

/* The small traces the fuzz tests damage: a chunked .pb, a stream. */
static const char *
fuzz_input(int which)
{
	if (which == 1) {
		build_ld();
		return ("f.pb_length_delimited");
	}
	build_pb();
	tb_begin(&tb, TB_BUFFERED);
	tb_event(&tb, 3, 102, 0, TB_READ, "more", 4);
	tb_uint(&tb, 4, 1);
	tb_end(&tb);
	return ("f.pb");
}

START_TEST(test_fuzz_prefix)
{
	const char	*name = fuzz_input(_i);
	size_t		 n;

	for (n = 0; n <= tb.len; n++)
		fuzz_one(name, n);
	open_ok(name);
}
END_TEST

START_TEST(test_fuzz_flip)
{
	static const uint8_t	 masks[] = { 0x01, 0x07, 0x40, 0x80, 0xff };
	const char		*name = fuzz_input(_i);
	size_t			 i, m;

	for (i = 0; i < tb.len; i++) {
		for (m = 0; m < sizeof masks; m++) {
			tb.data[i] ^= masks[m];
			fuzz_one(name, tb.len);
			tb.data[i] ^= masks[m];
		}
	}
}
END_TEST

/* All the reader's tests. */
static Suite *
reader_suite(void)
{
	Suite	*s = suite_create("reader");
	TCase	*tc;

	tc = tcase_create("formats");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pb_single);
	tcase_add_test(tc, test_pb_chunks);
	tcase_add_test(tc, test_pb_chunks_merge);
	tcase_add_test(tc, test_ld_stream);
	tcase_add_test(tc, test_ld_two_traces);
	tcase_add_test(tc, test_ld_event_conn);
	tcase_add_test(tc, test_detect_content);
	tcase_add_test(tc, test_http_count);
	suite_add_tcase(s, tc);
	tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_conn_numbering);
	tcase_add_test(tc, test_addr_kinds);
	tcase_add_test(tc, test_conn_ext);
	tcase_add_test(tc, test_body);
	tcase_add_loop_test(tc, test_end_stream, 0, 2);
	tcase_add_loop_test(tc, test_closed_reset, 0, 3);
	tcase_add_test(tc, test_time_inherit);
	suite_add_tcase(s, tc);
	tc = tcase_create("damage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_damage, 0, NDAMAGE);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_file_open);
	tcase_add_test(tc, test_file_stdin);
	tcase_add_loop_test(tc, test_fuzz_prefix, 0, 2);
	tcase_add_loop_test(tc, test_fuzz_flip, 0, 2);
	tcase_set_timeout(tc, 120);	/* the fuzz tests, under valgrind */
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(reader_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
