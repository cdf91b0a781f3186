/* Check tests for the shim's encoder, read back with the trace reader. */

#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "encode.h"
#include "proto/tapshim.pb-c.h"
#include "trace-read.h"
#include "wire.h"

#define BUFCAP	131072

static uint8_t			 mem[BUFCAP];
static struct enc_buf		 eb;
static uint8_t			*file;	/* everything written so far */
static size_t			 filelen;
static struct trace_file	*tf;
static char			 errbuf[TRACE_ERRBUF_SIZE];

/* Fresh buffer, empty "file". */
static void
setup(void)
{
	enc_init(&eb, mem, sizeof mem);
	free(file);
	file = NULL;
	filelen = 0;
	tf = NULL;
}

static void
teardown(void)
{
	trace_close(tf);
	free(file);
	file = NULL;
}

/* "Write" what the encoder gathered, as a writev() would, and reset it. */
static void
flush(void)
{
	struct iovec	*iov;
	int		 i, n = enc_iov(&eb, &iov);
	size_t		 total = 0;

	for (i = 0; i < n; i++) {
		file = realloc(file, filelen + iov[i].iov_len);
		ck_assert_ptr_nonnull(file);
		memcpy(file + filelen, iov[i].iov_base, iov[i].iov_len);
		filelen += iov[i].iov_len;
		total += iov[i].iov_len;
	}
	ck_assert_uint_eq(total, eb.len);
	enc_reset(&eb);
}

/* An IPv4 or IPv6 sockaddr. */
static socklen_t
inet_sa(struct sockaddr_storage *ss, const char *host, uint16_t port)
{
	struct sockaddr_in	*sin = (void *)ss;
	struct sockaddr_in6	*sin6 = (void *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return (sizeof *sin);
	}
	ck_assert_int_eq(inet_pton(AF_INET6, host, &sin6->sin6_addr), 1);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return (sizeof *sin6);
}

/* An event with n bytes of data, of which keep are recorded. */
static struct enc_event
event(enum enc_kind kind, const void *data, size_t keep, size_t n)
{
	struct enc_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.sec = 1795996800;
	ev.nsec = (int32_t)n;
	ev.data = data;
	ev.caplen = keep;
	ev.len = n;
	return (ev);
}

/* Open what was written; it must read as one trace. */
static void
open_file(const char *name)
{
	tf = trace_open_mem(name, file, filelen, errbuf);
	ck_assert_msg(tf != NULL, "%s", errbuf);
	ck_assert_uint_eq(trace_count(tf), 1);
}

/* A connection, four events and the end: read back exactly. */
static void
round_trip(enum conf_format fmt)
{
	static uint8_t			 big[100000];
	struct enc_conn			 c;
	struct enc_event		 ev;
	struct trace_event		 te;
	const struct trace_info		*t;
	size_t				 i;

	for (i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	memset(&c, 0, sizeof c);
	c.local_len = inet_sa(&c.local, "2001:db8::1", 40000);
	c.remote_len = inet_sa(&c.remote, "2001:db8::2", 443);
	c.role = ENC_ROLE_CLIENT;
	c.pid = 4242;
	c.inode = 918273;
	ck_assert_int_eq(enc_conn(&eb, fmt, 7, &c), 0);
	ev = event(ENC_WRITE, "GET /", 5, 5);
	ck_assert_int_eq(enc_event(&eb, fmt, 7, &ev), 0);
	ev = event(ENC_READ, big, sizeof big, sizeof big);
	ck_assert_int_eq(enc_event(&eb, fmt, 7, &ev), 0);
	flush();
	ev = event(ENC_READ, "abcdef", 3, 6);	/* kept 3 of 6 */
	ev.end_stream = 1;
	ck_assert_int_eq(enc_event(&eb, fmt, 7, &ev), 0);
	ev = event(ENC_CLOSED, NULL, 0, 0);
	ev.reset = 1;
	ck_assert_int_eq(enc_event(&eb, fmt, 7, &ev), 0);
	ck_assert_int_eq(enc_end(&eb, fmt, 7, 1, 0), 0);
	flush();

	open_file(fmt == CONF_FORMAT_BINARY ? "t.pb" : "t.pb_length_delimited");
	ck_assert_int_eq(trace_format(tf), fmt == CONF_FORMAT_BINARY ?
	    TRACE_FORMAT_BINARY : TRACE_FORMAT_DELIMITED);
	t = trace_info(tf, 0);
	ck_assert_uint_eq(t->trace_id, 7);
	ck_assert_int_eq(t->has_conn, 1);
	ck_assert_int_eq(t->conn.local.family, AF_INET6);
	ck_assert_uint_eq(t->conn.local.port, 40000);
	ck_assert_uint_eq(t->conn.remote.port, 443);
	ck_assert_int_eq(t->conn.role, TRACE_ROLE_CLIENT);
	ck_assert_uint_eq(t->conn.pid, 4242);
	ck_assert_uint_eq(t->conn.inode, 918273);
	ck_assert_int_eq(t->read_truncated, fmt == CONF_FORMAT_BINARY);
	ck_assert_uint_eq(t->nevents, 4);

	ck_assert_int_eq(trace_next(tf, &te, errbuf), 1);
	ck_assert_int_eq(te.kind, TRACE_EV_WRITE);
	ck_assert_uint_eq(te.caplen, 5);
	ck_assert_mem_eq(te.data, "GET /", 5);
	ck_assert_int_eq(te.sec, 1795996800);
	ck_assert_int_eq(te.nsec, 5);
	ck_assert_int_eq(trace_next(tf, &te, errbuf), 1);
	ck_assert_int_eq(te.kind, TRACE_EV_READ);
	ck_assert_uint_eq(te.caplen, sizeof big);
	ck_assert_mem_eq(te.data, big, sizeof big);
	ck_assert_int_eq(trace_next(tf, &te, errbuf), 1);
	ck_assert_uint_eq(te.caplen, 3);
	ck_assert_uint_eq(te.len, 6);
	ck_assert_int_eq(te.truncated, 1);
	ck_assert_int_eq(te.end_stream, 1);
	ck_assert_int_eq(trace_next(tf, &te, errbuf), 1);
	ck_assert_int_eq(te.kind, TRACE_EV_CLOSED);
	ck_assert_int_eq(te.reset, TRACE_RESET_BY_PEER);
	ck_assert_int_eq(trace_next(tf, &te, errbuf), 0);
}

START_TEST(test_round_trip_pb)
{
	round_trip(CONF_FORMAT_BINARY);
}
END_TEST

START_TEST(test_round_trip_ld)
{
	round_trip(CONF_FORMAT_DELIMITED);
}
END_TEST

/* AF_UNIX: named, abstract ("@name") and unnamed ends. */
START_TEST(test_unix)
{
	struct enc_conn		 c;
	struct sockaddr_un	*sun;
	struct enc_event	 ev = event(ENC_WRITE, "x", 1, 1);
	const struct trace_info	*t;

	memset(&c, 0, sizeof c);
	sun = (void *)&c.local;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, "\0abstract", 9);
	c.local_len = offsetof(struct sockaddr_un, sun_path) + 9;
	sun = (void *)&c.remote;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, "/run/x.sock");
	c.remote_len = offsetof(struct sockaddr_un, sun_path) + 12;
	ck_assert_int_eq(enc_conn(&eb, CONF_FORMAT_BINARY, 1, &c), 0);
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_BINARY, 1, &ev), 0);
	flush();
	open_file("u.pb");
	t = trace_info(tf, 0);
	ck_assert_int_eq(t->conn.local.family, AF_UNIX);
	ck_assert_str_eq(t->conn.local.path, "@abstract");
	ck_assert_str_eq(t->conn.remote.path, "/run/x.sock");
	/* An unnamed socket has no address at all. */
	trace_close(tf);
	setup();
	c.local_len = sizeof(sa_family_t);
	ck_assert_int_eq(enc_conn(&eb, CONF_FORMAT_BINARY, 1, &c), 0);
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_BINARY, 1, &ev), 0);
	flush();
	open_file("u.pb");
	ck_assert_str_eq(trace_info(tf, 0)->conn.local.path, "");
}
END_TEST

/*
 * A path that is not UTF-8: Pipe.path escapes the bad byte (and the
 * backslash), so proto3 parsers take it; raw_path keeps the bytes.
 */
START_TEST(test_unix_not_utf8)
{
	static const char	 raw[] = "/run/\xff\\x\xc3\xa9.sock";
	struct enc_conn		 c;
	struct sockaddr_un	*sun;
	struct enc_event	 ev = event(ENC_WRITE, "x", 1, 1);
	uint8_t			 tag[3] = { 0xc2, 0x3e, sizeof raw - 1 };

	memset(&c, 0, sizeof c);
	sun = (void *)&c.local;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, raw, sizeof raw);
	c.local_len = offsetof(struct sockaddr_un, sun_path) + sizeof raw;
	ck_assert_int_eq(enc_conn(&eb, CONF_FORMAT_BINARY, 1, &c), 0);
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_BINARY, 1, &ev), 0);
	flush();
	open_file("u.pb");
	/* Valid UTF-8 (the e-acute) stays; 0xff and the backslash do not. */
	ck_assert_str_eq(trace_info(tf, 0)->conn.local.path,
	    "/run/\\xff\\\\x\xc3\xa9.sock");
	/* Field 1000, length-delimited (tag 0xc2 0x3e), the bytes. */
	ck_assert_ptr_nonnull(memmem(file, filelen, tag, sizeof tag));
	ck_assert_ptr_nonnull(memmem(file, filelen, raw, sizeof raw - 1));
}
END_TEST

/*
 * A streamed trace holds one connection segment, the first, with the
 * addresses: what is learnt later (statistics here) rides in an event,
 * so Envoy's readers see one connection per trace, not a second one
 * without addresses; tapshim's reader merges it and shows no event.
 */
START_TEST(test_ld_one_connection)
{
	struct enc_conn		 c;
	struct enc_stats	 st;
	struct enc_event	 ev = event(ENC_WRITE, "x", 1, 1);
	Tapshim__Trace__TraceWrapper *w;
	struct sockaddr_in	*sin;
	uint64_t		 len;
	size_t			 pos = 0, k;
	int			 conns = 0, records = 0;

	memset(&c, 0, sizeof c);
	sin = (void *)&c.local;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	c.local_len = sizeof *sin;
	memset(&st, 0, sizeof st);
	st.kept[1] = 1;
	st.events = 1;
	ck_assert_int_eq(enc_conn(&eb, CONF_FORMAT_DELIMITED, 1, &c), 0);
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_DELIMITED, 1, &ev), 0);
	ck_assert_int_eq(enc_stats(&eb, CONF_FORMAT_DELIMITED, 1, &st), 0);
	flush();
	while (pos < filelen) {
		k = wire_get_varint(file + pos, filelen - pos, &len);
		ck_assert_uint_ne(k, 0);
		w = tapshim__trace__trace_wrapper__unpack(NULL, (size_t)len,
		    file + pos + k);
		ck_assert_ptr_nonnull(w);
		ck_assert_ptr_nonnull(w->socket_streamed_trace_segment);
		conns += w->socket_streamed_trace_segment->message_piece_case ==
		    TAPSHIM__TRACE__SOCKET_STREAMED_TRACE_SEGMENT__MESSAGE_PIECE_CONNECTION;
		records++;
		tapshim__trace__trace_wrapper__free_unpacked(w, NULL);
		pos += k + (size_t)len;
	}
	ck_assert_int_eq(records, 3);
	ck_assert_int_eq(conns, 1);
	open_file("s.pb_length_delimited");
	ck_assert_uint_eq(trace_info(tf, 0)->nevents, 1);
	ck_assert_int_eq(trace_info(tf, 0)->conn.has_stats, 1);
}
END_TEST

/* A failed connect: the errno name, read back; a closed event only. */
START_TEST(test_error)
{
	struct enc_conn		 c;
	struct enc_event	 ev = event(ENC_CLOSED, NULL, 0, 0);
	struct trace_event	 te;

	memset(&c, 0, sizeof c);
	c.local_len = inet_sa(&c.local, "127.0.0.1", 40000);
	c.remote_len = inet_sa(&c.remote, "127.0.0.1", 9);
	c.role = ENC_ROLE_CLIENT;
	c.error = "ECONNREFUSED";
	ev.reset = 1;
	ck_assert_int_eq(enc_conn(&eb, CONF_FORMAT_BINARY, 5, &c), 0);
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_BINARY, 5, &ev), 0);
	flush();
	open_file("e.pb");
	ck_assert_str_eq(trace_info(tf, 0)->conn.error, "ECONNREFUSED");
	ck_assert_int_eq(trace_next(tf, &te, errbuf), 1);
	ck_assert_int_eq(te.kind, TRACE_EV_CLOSED);
	ck_assert_int_eq(te.reset, TRACE_RESET_BY_PEER);
}
END_TEST

/* No room: nothing is packed, -1 and want say what is needed. */
START_TEST(test_full)
{
	static uint8_t		 small[1500];
	struct enc_event	 ev = event(ENC_WRITE, small, sizeof small,
				    sizeof small);
	size_t			 before;
	int			 n = 0;

	while (enc_event(&eb, CONF_FORMAT_BINARY, 3, &ev) == 0)
		n++;
	ck_assert_int_eq(n, BUFCAP / eb.want);
	before = eb.len;
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_BINARY, 3, &ev), -1);
	ck_assert_uint_eq(eb.len, before);
	ck_assert_uint_gt(eb.want, sizeof small);
	ck_assert_uint_gt(eb.len + eb.want, BUFCAP);
	flush();
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_BINARY, 3, &ev), 0);
	flush();
	open_file("f.pb");
	ck_assert_uint_eq(trace_info(tf, 0)->nevents, (size_t)n + 1);
}
END_TEST

/*
 * The space kept back for a trace's end: events stop short of it, the
 * end (reserve 0) still fits.
 */
START_TEST(test_reserve)
{
	static uint8_t		 small[1500];
	struct enc_event	 ev = event(ENC_WRITE, small, sizeof small,
				    sizeof small);
	int			 n = 0;

	eb.reserve = ENC_RESERVE;
	while (enc_event(&eb, CONF_FORMAT_BINARY, 3, &ev) == 0)
		n++;
	ck_assert_int_eq(n, (BUFCAP - ENC_RESERVE) / eb.want);
	ck_assert_uint_le(eb.len, BUFCAP - ENC_RESERVE);
	eb.reserve = 0;
	ev = event(ENC_CLOSED, NULL, 0, 0);
	ev.ending = ENC_ENDING_CUT;
	ev.cut_reason = "disk_full";
	ck_assert_int_eq(enc_event(&eb, CONF_FORMAT_BINARY, 3, &ev), 0);
	flush();
	open_file("r.pb");
	ck_assert_uint_eq(trace_info(tf, 0)->nevents, (size_t)n + 1);
}
END_TEST

static Suite *
encode_suite(void)
{
	Suite	*s = suite_create("encode");
	TCase	*tc = tcase_create("encode");

	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_round_trip_pb, test_round_trip_ld, test_unix,
	    test_unix_not_utf8, test_ld_one_connection, test_error, test_full,
	    test_reserve, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { encode_suite, NULL };
