/* Check tests for the trace reader: formats and messages. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "trace-read.h"
#include "readercheck.h"
#include "tracebuf.h"

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

/*
 * Many connections in one streamed file: each segment finds its own
 * trace (ids spread so that the id hash must grow and probe), twice over.
 */
START_TEST(test_ld_many_traces)
{
	enum { N = 1000 };	/* the id hash grows 64 -> 2048 */
	struct tracebuf	 rec;
	uint8_t		*all = NULL;
	size_t		 len = 0;
	uint64_t	 id;
	int		 i;

	/* Records built one by one: tb reallocates exactly on each append. */
	for (i = 0; i < 2 * N; i++) {
		id = (uint64_t)(i % N) * 0x100000001ULL;
		tb_init(&rec);
		tb_begin(&rec, TB_RECORD);
		tb_begin(&rec, TB_SEGMENT);
		tb_uint(&rec, 1, id);
		tb_event(&rec, 3, i, 0, TB_WRITE, "x", 1);
		tb_end(&rec);
		tb_end(&rec);
		ck_assert_ptr_nonnull(all = realloc(all, len + rec.len));
		memcpy(all + len, rec.data, rec.len);
		len += rec.len;
		tb_free(&rec);
	}
	tb_raw(&tb, all, len);
	free(all);
	open_ok("t.pb_length_delimited");
	ck_assert_uint_eq(trace_count(tf), N);
	for (i = 0; i < N; i++) {
		ck_assert_uint_eq(trace_info(tf, (size_t)i)->trace_id,
		    (uint64_t)i * 0x100000001ULL);
		ck_assert_uint_eq(trace_info(tf, (size_t)i)->nevents, 2);
	}
	for (i = 0; i < 2 * N; i++) {
		ck_assert_int_eq(trace_next(tf, &ev, errbuf), 1);
		ck_assert_uint_eq(ev.trace, (size_t)(i % N));
	}
	next_end();
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
	/* The most one Linux call moves (MAX_RW_COUNT) is still a length. */
	body_begin(TB_READ);
	tb_uint(&tb, 1000, 0x7ffff000);
	body_end();
	first_is(TRACE_EV_READ);
	ck_assert_uint_eq(ev.caplen, 0);
	ck_assert_uint_eq(ev.len, 0x7ffff000);
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

/*
 * A mapped file cut short while it is read: no SIGBUS, the reader stops
 * with what happened (the shim's disk-full cut-back, another process).
 */
START_TEST(test_file_shrinks)
{
	char		 path[] = "/tmp/check_reader.XXXXXX";
	static char	 big[4096];
	int		 fd, r, i;

	memset(big, 'B', sizeof big);
	tb_begin(&tb, TB_BUFFERED);
	tb_uint(&tb, 1, 3);
	for (i = 0; i < 256; i++)
		tb_event(&tb, 3, 100, i, TB_WRITE, big, sizeof big);
	tb_end(&tb);
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(write(fd, tb.data, tb.len), (ssize_t)tb.len);
	tf = trace_open(path, errbuf);
	ck_assert_msg(tf != NULL, "%s", errbuf);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	while ((r = trace_next(tf, &ev, errbuf)) == 1)
		(void)ev.data[ev.caplen - 1];
	ck_assert_int_eq(r, -1);
	ck_assert_msg(strstr(errbuf, "the file shrank while it was read") !=
	    NULL, "%s", errbuf);
	close(fd);
	unlink(path);
}
END_TEST

/* The reader's format and message tests. */
static Suite *
reader_suite(void)
{
	Suite	*s = suite_create("reader");
	TCase	*tc;

	tc = tcase_create("formats");
	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_pb_single, test_pb_chunks,
	    test_pb_chunks_merge, test_ld_stream, test_ld_two_traces,
	    test_ld_many_traces, test_ld_event_conn, test_detect_content,
	    test_http_count, NULL);
	suite_add_tcase(s, tc);
	tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_conn_numbering, test_addr_kinds,
	    test_conn_ext, test_body, NULL);
	tcase_add_loop_test(tc, test_end_stream, 0, 2);
	tcase_add_loop_test(tc, test_closed_reset, 0, 3);
	check_add_tests(tc, test_time_inherit, test_file_shrinks, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { reader_suite, NULL };
