/* Check suite for the request layer: records, and every split the same. */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "requests.h"

static Suite	*requests_suite(void);

/* One event of a test exchange: 'w' write, 'r' read, 'c' closed. */
struct ex {
	char		 kind;
	const char	*data;
	size_t		 len;
};

#define W(s)	{ 'w', s, sizeof s - 1 }
#define R(s)	{ 'r', s, sizeof s - 1 }
#define C	{ 'c', "", 0 }

/* What the records and notices were, one line each. */
struct got {
	char	text[8192];
	size_t	len;
	int	notices;
};

static void
got_emit(const struct req_record *r, void *arg)
{
	struct got	*g = arg;

	g->len += (size_t)snprintf(g->text + g->len, sizeof g->text - g->len,
	    "%s %s %s%s %d hdr %llu/%llu body %llu/%llu/%llu %s%s%s\n",
	    req_version(r), r->method, r->authority, r->path, r->status,
	    (unsigned long long)r->req_header_size,
	    (unsigned long long)r->resp_header_size,
	    (unsigned long long)r->req_body_size,
	    (unsigned long long)r->resp_body_size,
	    (unsigned long long)r->resp_content_size,
	    r->complete ? "complete" : r->error,
	    r->grpc_status != NULL ? " grpc " : "",
	    r->grpc_status != NULL ? r->grpc_status : "");
}

static void
got_notice(const char *file, uint64_t id, size_t off, const char *why,
    void *arg)
{
	struct got	*g = arg;

	(void)file;
	(void)id;
	(void)off;
	(void)why;
	g->notices++;
}

/*
 * Feed the exchange as events of at most step bytes (0: as given), in a
 * client's trace; the records go to g.
 */
static void
feed(const struct ex *ev, size_t n, size_t step, const char *alpn,
    struct got *g)
{
	struct trace_info	 ti;
	struct trace_event	 e;
	struct req_ctx		*ctx;
	size_t			 i, off, k;
	uint32_t		 t = 0;

	memset(&ti, 0, sizeof ti);
	memset(g, 0, sizeof *g);
	ti.has_conn = 1;
	ti.conn.role = TRACE_ROLE_CLIENT;
	snprintf(ti.conn.alpn, sizeof ti.conn.alpn, "%s", alpn);
	ctx = req_new("test", got_emit, got_notice, g);
	ck_assert_ptr_nonnull(ctx);
	for (i = 0; i < n; i++) {
		off = 0;
		do {
			k = step == 0 || ev[i].len - off < step ?
			    ev[i].len - off : step;
			memset(&e, 0, sizeof e);
			e.has_time = 1;
			e.sec = 1800000000;
			e.nsec = t += 1000;
			e.kind = ev[i].kind == 'w' ? TRACE_EV_WRITE :
			    ev[i].kind == 'r' ? TRACE_EV_READ : TRACE_EV_CLOSED;
			e.data = (const uint8_t *)ev[i].data + off;
			e.caplen = e.len = k;
			ck_assert_int_eq(req_event(ctx, &ti, &e), 0);
			off += k;
		} while (off < ev[i].len);
	}
	req_free(ctx);
}

/* HTTP/1.1: pipelined GET and HEAD, chunked, 100-continue, WebSocket. */
static const struct ex h1[] = {
	W("GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"),
	R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
	  "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
	W("PUT /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
	  "Content-Length: 3\r\n\r\n"),
	R("HTTP/1.1 100 Continue\r\n\r\n"),
	W("xyz"),
	R("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
	W("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
	  "Upgrade: websocket\r\n\r\n\x82\x81zzzzq"),
	R("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	  "Upgrade: websocket\r\n\r\n\x82\x02hi"),
	W("GET /not-http-any-more HTTP/1.1\r\n\r\n"),
	C
};

static const char h1_want[] =
    "HTTP/1.1 GET x/a 200 hdr 28/47 body 0/20/5 complete\n"
    "HTTP/1.1 HEAD x/b 200 hdr 29/41 body 0/0/0 complete\n"
    "HTTP/1.1 PUT x/c 201 hdr 69/43 body 3/2/2 complete\n"
    "HTTP/1.1 GET x/ws 101 hdr 70/77 body 0/0/0 complete\n";

/* HTTP/2: a header block over CONTINUATION, padded DATA, gRPC trailers. */
static const struct ex h2[] = {
	W("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0"),
	R("\0\0\0\4\0\0\0\0\0"),
	/* HEADERS stream 1: :method GET, :scheme http (no END_HEADERS) */
	W("\0\0\2\1\0\0\0\0\1\x82\x86"
	/* CONTINUATION: :path /, :authority h2.test (END_HEADERS|STREAM) */
	  "\0\0\x0a\x09\x05\0\0\0\1\x84\x41\x07h2.test"),
	/* HEADERS :status 200; DATA padded (1 + 4 + 2 pad); trailers */
	R("\0\0\1\1\4\0\0\0\1\x88"
	  "\0\0\7\0\x08\0\0\0\1\2body\0\0"
	  "\0\0\x0f\1\5\0\0\0\1\0\x0bgrpc-status\0011"),
	C
};

static const char h2_want[] =
    "HTTP/2 GET h2.test/ 200 hdr 12/16 body 0/7/7 complete grpc 1\n";

START_TEST(test_h1)
{
	struct got	g;

	feed(h1, sizeof h1 / sizeof h1[0], 0, "", &g);
	ck_assert_str_eq(g.text, h1_want);
	ck_assert_int_eq(g.notices, 0);
}
END_TEST

/* Any split of the streams into events gives the same records. */
START_TEST(test_h1_split)
{
	struct got	g;

	feed(h1, sizeof h1 / sizeof h1[0], (size_t)_i, "", &g);
	ck_assert_str_eq(g.text, h1_want);
}
END_TEST

START_TEST(test_h2)
{
	struct got	g;

	feed(h2, sizeof h2 / sizeof h2[0], 0, "", &g);
	ck_assert_str_eq(g.text, h2_want);
	ck_assert_int_eq(g.notices, 0);
}
END_TEST

START_TEST(test_h2_split)
{
	struct got	g;

	feed(h2, sizeof h2 / sizeof h2[0], (size_t)_i, "", &g);
	ck_assert_str_eq(g.text, h2_want);
}
END_TEST

/* A response with no request before it is said, and no record made. */
START_TEST(test_no_invention)
{
	static const struct ex ev[] = {
		R("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), C
	};
	static const struct ex ev2[] = {
		W("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		R("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), C
	};
	struct got	g;

	feed(ev, 2, 0, "", &g);
	ck_assert_str_eq(g.text, "");
	ck_assert_int_eq(g.notices, 1);
	feed(ev2, 3, 0, "", &g);
	ck_assert_str_eq(g.text,
	    "HTTP/1.1 GET x/ 200 hdr 27/38 body 0/0/0 complete\n");
	ck_assert_int_eq(g.notices, 1);
}
END_TEST

/* Not HTTP, and damaged HTTP: notices, the request kept without one. */
START_TEST(test_damage)
{
	static const struct ex ssh[] = { W("SSH-2.0-x\r\n"), C };
	static const struct ex bad[] = {
		W("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), R("HTTP/1.1 2x0\r\n"), C
	};
	static const struct ex cut[] = {
		W("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		R("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
	};
	/* A body that runs to the close: whole only if the close is seen. */
	static const struct ex close[] = {
		W("GET / HTTP/1.0\r\nHost: x\r\n\r\n"),
		R("HTTP/1.0 200 OK\r\n\r\nabc"), C
	};
	struct got	g;

	feed(ssh, 2, 0, "", &g);
	ck_assert_str_eq(g.text, "");
	ck_assert_int_eq(g.notices, 1);
	feed(bad, 3, 0, "", &g);
	ck_assert_str_eq(g.text,
	    "HTTP/1.1 GET x/ 0 hdr 27/0 body 0/0/0 HTTP/1 response at "
	    "response stream byte 10: invalid HTTP status code\n");
	ck_assert_int_eq(g.notices, 1);
	feed(close, 3, 0, "", &g);
	ck_assert_str_eq(g.text,
	    "HTTP/1.0 GET x/ 200 hdr 27/19 body 0/3/3 complete\n");
	feed(close, 2, 0, "", &g);
	ck_assert_str_eq(g.text,
	    "HTTP/1.0 GET x/ 200 hdr 27/19 body 0/3/3 the trace ends\n");
	feed(cut, 2, 0, "", &g);
	ck_assert_str_eq(g.text,
	    "HTTP/1.1 GET x/ 200 hdr 27/38 body 0/3/3 the trace ends\n");
}
END_TEST

/* ALPN h2 makes a TLS connection HTTP/2 without looking at its bytes. */
START_TEST(test_alpn)
{
	struct got	g;

	feed(h2, sizeof h2 / sizeof h2[0], 0, "h2", &g);
	ck_assert_str_eq(g.text, h2_want);
}
END_TEST

START_TEST(test_secret)
{
	ck_assert(req_secret("Authorization"));
	ck_assert(req_secret("cookie"));
	ck_assert(req_secret("Set-Cookie"));
	ck_assert(!req_secret("Content-Type"));
}
END_TEST

static Suite *
requests_suite(void)
{
	Suite	*s = suite_create("requests");
	TCase	*tc = tcase_create("records");

	tcase_add_test(tc, test_h1);
	tcase_add_loop_test(tc, test_h1_split, 1, 40);
	tcase_add_test(tc, test_h2);
	tcase_add_loop_test(tc, test_h2_split, 1, 40);
	check_add_tests(tc, test_no_invention, test_damage, test_alpn,
	    test_secret, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { requests_suite, NULL };
