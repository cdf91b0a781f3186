/* Check tests for the trace reader: damaged input, each kind; cut files. */

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

/*
 * A damaged trace, the offset its error must name, and what it says; or
 * (kind not TRACE_WHOLE) a file read up to offset at, its end ignored.
 */
struct damage {
	const char		*name;
	size_t			 at;
	const char		*what;
	enum trace_damage	 kind;
};

#define NDAMAGE		22
static const uint8_t	zeros[1000];

#define NOT_BINARY	"; tap2pcap reads binary traces (PROTO_BINARY, " \
	"PROTO_BINARY_LENGTH_DELIMITED): encode it first with protoc " \
	"--encode (tap2pcap(1), Input)"

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
		d->kind = TRACE_CUT;
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
		d->what = "no whole record before the cut";
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
		d->kind = TRACE_CUT;
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
		d->kind = TRACE_CUT;
		break;
	case 17:	/* a length no call can move: endless zero segments */
		body_begin(TB_READ);
		d->at = tb.len;
		tb_uint(&tb, 1000, 0x7ffff001);
		body_end();
		d->what = "Body length 2147479553 is more than one call can move";
		break;
	case 18:	/* the shim's writer died: whole records, then zeros */
	case 19:
		if (i == 18)
			build_pb();
		else {
			build_ld();
			d->name = "t.pb_length_delimited";
		}
		d->at = tb.len;
		tb_raw(&tb, zeros, sizeof zeros);
		d->kind = TRACE_UNFINISHED;
		break;
	case 20:	/* killed while packing a record into its window: */
	case 21:	/* its tid (the shim's last field) is still zeros */
		if (i == 20) {
			build_pb();
			d->at = tb.len;
			tb_begin(&tb, TB_BUFFERED);
			tb_begin(&tb, 3);
		} else {
			build_ld();
			d->name = "t.pb_length_delimited";
			d->at = tb.len;
			seg_begin(3);
			tb_begin(&tb, 4);
		}
		tb_timestamp(&tb, 102, 0);
		tb_op(&tb, TB_READ, "partial", 7);
		tb_uint(&tb, 1022, 4242);
		tb_end(&tb);
		if (i == 20)
			tb_end(&tb);
		else
			seg_end();
		tb_cut(&tb, 6);
		tb_raw(&tb, zeros, sizeof zeros);
		d->kind = TRACE_CUT;
		break;
	}
}

/* Open tb as name: it must open, read up to at, the rest ignored. */
static void
open_cut(const char *name, size_t at, enum trace_damage kind)
{
	char	want[TRACE_ERRBUF_SIZE], text[TRACE_ERRBUF_SIZE];
	size_t	off, ignored;

	open_ok(name);
	ck_assert_int_eq(trace_damage(tf, &off, &ignored), kind);
	ck_assert_uint_eq(off, at);
	ck_assert_uint_eq(ignored, tb.len - at);
	trace_damage_text(tf, text, sizeof text);
	if (kind == TRACE_CUT)
		snprintf(want, sizeof want, "%s: offset %zu: cut short; %zu "
		    "bytes after it ignored", name, at, tb.len - at);
	else
		snprintf(want, sizeof want, "%s: offset %zu: not finished (the "
		    "writer did not close it); %zu zero bytes ignored", name,
		    at, tb.len - at);
	ck_assert_str_eq(text, want);
	while (trace_next(tf, &ev, errbuf) == 1)
		ck_assert_uint_lt(ev.offset, at);
}

START_TEST(test_damage)
{
	struct damage	d = { NULL, 0, NULL, TRACE_WHOLE };

	damage_build(_i, &d);
	if (d.kind != TRACE_WHOLE)
		open_cut(d.name, d.at, d.kind);
	else
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

/*
 * Cut anywhere, with or without a zero tail after the cut (the shim's
 * writer allocates ahead): once the first record is whole the file
 * opens (without zeros: with them, a prefix can look whole until its
 * first byte of damage shows), the events read never decrease as the
 * cut moves on, and what is ignored is all past the records read.
 * These records end in payload: zeros can stand for their end (the
 * shim's records end in a tid, which zeros cannot: tests 20 and 21).
 */
START_TEST(test_cut_anywhere)
{
	const char		*name = fuzz_input(_i % 2);
	struct tracebuf		 full = tb;
	struct trace_file	*f;
	enum trace_damage	 k;
	size_t			 n, off, ignored, events, last = 0;
	int			 opened = 0, pad = _i >= 2;

	memset(&tb, 0, sizeof tb);
	for (n = 1; n <= full.len; n++) {
		tb_free(&tb);
		tb_raw(&tb, full.data, n);
		if (pad)
			tb_raw(&tb, zeros, 100);
		if ((f = trace_open_mem(name, tb.data, tb.len, errbuf)) ==
		    NULL) {
			ck_assert_msg(!opened || pad, "%zu bytes: %s", n,
			    errbuf);
			continue;
		}
		opened = 1;
		k = trace_damage(f, &off, &ignored);
		ck_assert_uint_eq(off + ignored, tb.len);
		if (!pad)
			ck_assert_uint_le(off, n);
		if (n == full.len)
			ck_assert_int_eq(k, pad ? TRACE_UNFINISHED :
			    TRACE_WHOLE);
		else
			ck_assert_int_ne(k, TRACE_DAMAGED);
		for (events = 0; trace_next(f, &ev, errbuf) == 1; events++)
			;
		ck_assert_uint_ge(events, last);
		last = events;
		trace_close(f);
	}
	ck_assert(opened);
	tb_free(&full);
}
END_TEST

/* The reader's damage tests. */
static Suite *
reader_suite(void)
{
	Suite	*s = suite_create("reader-damage");
	TCase	*tc;

	tc = tcase_create("damage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_damage, 0, NDAMAGE);
	check_add_tests(tc, test_garbage, test_file_open, test_file_stdin,
	    NULL);
	tcase_add_loop_test(tc, test_fuzz_prefix, 0, 2);
	tcase_add_loop_test(tc, test_cut_anywhere, 0, 4);
	tcase_add_loop_test(tc, test_fuzz_flip, 0, 2);
	tcase_set_timeout(tc, 120);	/* the fuzz tests, under valgrind */
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { reader_suite, NULL };
