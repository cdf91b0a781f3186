/* Check tests for the trace reader: helpers shared by its suites. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace-read.h"
#include "readercheck.h"
#include "tracebuf.h"

/* Each test builds its trace in tb and opens it as tf; teardown frees. */
struct tracebuf		 tb;
struct trace_file	*tf;
struct trace_event	 ev;
char			 errbuf[TRACE_ERRBUF_SIZE];

/* Start each test with nothing built and nothing open. */
void
setup(void)
{
	tb_init(&tb);
	tf = NULL;
	errbuf[0] = '\0';
}

/* Release what the test left. */
void
teardown(void)
{
	trace_close(tf);
	tb_free(&tb);
}

/* Start a new .pb: TraceWrapper{socket_buffered_trace{...}}. */
void
pb_begin(void)
{
	tb_free(&tb);
	tb_begin(&tb, TB_BUFFERED);
}

/* End a .pb started with pb_begin(), after one write event. */
void
pb_end(void)
{
	tb_event(&tb, 3, 1, 0, TB_WRITE, "x", 1);
	tb_end(&tb);
}

/* Start a new .pb whose first event is left open, after its timestamp. */
void
ev_begin(void)
{
	pb_begin();
	tb_begin(&tb, 3);
	tb_timestamp(&tb, 1, 0);
}

/* Close the event and the .pb opened with ev_begin(). */
void
ev_end(void)
{
	tb_end(&tb);
	tb_end(&tb);
}

/* Start a new .pb whose first event's read or write Body is left open. */
void
body_begin(uint32_t op)
{
	ev_begin();
	tb_begin(&tb, op);
	tb_begin(&tb, 1);
}

/* Close what body_begin() opened. */
void
body_end(void)
{
	tb_end(&tb);
	tb_end(&tb);
	ev_end();
}

/* Start a streamed segment of trace id, as one delimited record. */
void
seg_begin(uint64_t id)
{
	tb_begin(&tb, TB_RECORD);
	tb_begin(&tb, TB_SEGMENT);
	tb_uint(&tb, 1, id);
}

/* Close a segment opened with seg_begin(). */
void
seg_end(void)
{
	tb_end(&tb);
	tb_end(&tb);
}

/* The .pb most tests read: a connection, a write, a read, a close. */
void
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
void
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
void
open_ok(const char *name)
{
	trace_close(tf);
	tf = trace_open_mem(name, tb.data, tb.len, errbuf);
	ck_assert_msg(tf != NULL, "%s", errbuf);
}

/* Open tb as name; the test fails unless it says "name: offset N: what". */
void
open_bad(const char *name, size_t offset, const char *what)
{
	char	want[TRACE_ERRBUF_SIZE];

	snprintf(want, sizeof want, "%s: offset %zu: %s", name, offset, what);
	ck_assert_ptr_null(trace_open_mem(name, tb.data, tb.len, errbuf));
	ck_assert_msg(strncmp(errbuf, want, strlen(want)) == 0,
	    "error \"%s\", want \"%s...\"", errbuf, want);
}

/* Read tf's next event into ev: this kind, holding these bytes. */
void
next_is(enum trace_kind kind, const char *data)
{
	ck_assert_msg(trace_next(tf, &ev, errbuf) == 1, "none: %s", errbuf);
	ck_assert_int_eq(ev.kind, kind);
	ck_assert_uint_eq(ev.caplen, data != NULL ? strlen(data) : 0);
	if (data != NULL)
		ck_assert_mem_eq(ev.data, data, ev.caplen);
}

/* tf must have no event left. */
void
next_end(void)
{
	ck_assert_int_eq(trace_next(tf, &ev, errbuf), 0);
}

/* Open tb and read its first event, which must be of this kind. */
void
first_is(enum trace_kind kind)
{
	open_ok("e.pb");
	ck_assert_int_eq(trace_next(tf, &ev, errbuf), 1);
	ck_assert_int_eq(ev.kind, kind);
}

/* Is a the IP address host, port? */
void
addr_is(const struct trace_addr *a, int family, const char *host,
    uint16_t port)
{
	uint8_t	ip[16] = { 0 };

	ck_assert_int_eq(a->family, family);
	ck_assert_int_eq(inet_pton(family, host, ip), 1);
	ck_assert_mem_eq(a->ip, ip, family == AF_INET ? 4 : 16);
	ck_assert_uint_eq(a->port, port);
}
