/* Check tests for the synthesizer: TCP handshake, segments and close. */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "synth.h"
#include "synthcheck.h"

static Suite	*synth_suite(void);

/* A client write: SYN with options, SYN|ACK, ACK, then the data. */
START_TEST(test_handshake)
{
	struct pkt	k;
	const uint8_t	*o;

	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_WRITE, "hello");
	ck_assert_uint_eq(cap.n, 5);
	ck_assert_uint_eq(sy.frames, 5);
	seg(0, 40000, TCP_SYN, 0, 0, &k);
	ck_assert_uint_eq(k.dport, 80);
	ck_assert_uint_eq(k.paylen, 0);
	ck_assert_ptr_nonnull(o = tcp_opt(&k, 2));	/* MSS */
	ck_assert_uint_eq(o[1], 4);
	ck_assert_uint_eq(get16(o + 2), SYNTH_MSS_DEFAULT);
	ck_assert_ptr_nonnull(o = tcp_opt(&k, 3));	/* window scale */
	ck_assert_uint_eq(o[1], 3);
	ck_assert_uint_le(o[2], 14);		/* RFC 7323, section 2.3 */
	seg(1, 80, TCP_SYN | TCP_ACK, 0, 1, &k);
	ck_assert_ptr_nonnull(tcp_opt(&k, 2));
	seg(2, 40000, TCP_ACK, 1, 1, NULL);
	seg(3, 40000, TCP_PSH | TCP_ACK, 1, 1, &k);
	ck_assert_uint_eq(k.paylen, 5);
	ck_assert_mem_eq(k.payload, "hello", 5);
	seg(4, 80, TCP_ACK, 1, 6, NULL);
	ck_assert_int_eq(cap.v[4].sec, 1000);
	ck_assert_uint_eq(cap.v[4].nsec, 500000000);
}
END_TEST

/*
 * Who is the client: the role when known, else the end in the ephemeral
 * range, else who wrote first (first: 1 this end, -1 the peer), else the
 * higher port.
 */
static const struct {
	enum trace_role	role;
	uint16_t	lport, rport, client;
	int		first;
} role_cases[] = {
	{ TRACE_ROLE_CLIENT, 40000, 80, 40000, 0 },
	{ TRACE_ROLE_SERVER, 80, 40000, 40000, 0 },
	{ TRACE_ROLE_CLIENT, 80, 40000, 80, 0 },	/* role beats ports */
	{ TRACE_ROLE_SERVER, 40000, 80, 80, 0 },
	{ TRACE_ROLE_UNKNOWN, 8080, 51000, 51000, 0 },
	{ TRACE_ROLE_UNKNOWN, 51000, 443, 51000, 0 },
	/* Envoy upstream to a cluster on 50051: it wrote first. */
	{ TRACE_ROLE_UNKNOWN, 41234, 50051, 41234, 1 },
	/* Envoy downstream on 50051: the client wrote first. */
	{ TRACE_ROLE_UNKNOWN, 50051, 41234, 41234, -1 },
	/* The range beats who spoke first: a server greets (SMTP, MySQL). */
	{ TRACE_ROLE_UNKNOWN, 40000, 3306, 40000, -1 },
	{ TRACE_ROLE_UNKNOWN, 3306, 40000, 40000, 1 },
	/* The range beats the port: a client bound above 60999. */
	{ TRACE_ROLE_UNKNOWN, 62000, 33000, 33000, 0 },
	/* Both ends in the range, nobody spoke: the lower port serves. */
	{ TRACE_ROLE_UNKNOWN, 50051, 41234, 50051, 0 },
	/* A server on a high port outside the range. */
	{ TRACE_ROLE_UNKNOWN, 45000, 61500, 45000, 0 },
	{ TRACE_ROLE_UNKNOWN, 40000, 50000, 50000, 0 },	/* both: the port */
	{ TRACE_ROLE_UNKNOWN, 80, 8080, 8080, 0 }
};

/* The SYN comes from the client; writes leave here, reads arrive. */
START_TEST(test_role)
{
	const uint16_t	l = role_cases[_i].lport;
	const uint16_t	r = role_cases[_i].rport;
	struct pkt	k;

	info4(role_cases[_i].role, l, r);
	ti.spoke_first = role_cases[_i].first;
	synth_stream_init(&st, &ti, 1, 0);
	feed(TRACE_EV_WRITE, "ab");
	feed(TRACE_EV_READ, "GET");
	ck_assert_uint_eq(cap.n, 7);
	seg(0, role_cases[_i].client, TCP_SYN, 0, 0, &k);
	ck_assert_uint_eq(k.dport, role_cases[_i].client == l ? r : l);
	seg(3, l, TCP_PSH | TCP_ACK, 1, 1, NULL);
	seg(4, r, TCP_ACK, 1, 3, NULL);
	seg(5, r, TCP_PSH | TCP_ACK, 1, 3, &k);
	ck_assert_mem_eq(k.payload, "GET", 3);
	seg(6, l, TCP_ACK, 3, 4, NULL);
}
END_TEST

/* 9375: exactly 32 segments, so no ACK in between and one at the end. */
static const size_t	split_mss[] = { SYNTH_MSS_DEFAULT, 1000, 536, 9375,
			    SYNTH_MSS_MAX };

/*
 * A 300 KB write in MSS-sized PSH|ACK segments, seq continuous, every
 * peer ACK acknowledging exactly what was sent so far.
 */
START_TEST(test_split)
{
	const size_t		mss = split_mss[_i], total = 300000;
	struct trace_event	ev;
	struct pkt		k;
	uint8_t			*data;
	size_t			i, off = 0, nseg = 0, nack = 0;

	start(FRAME_LINK_ETHER, mss);
	data = malloc(total);
	ck_assert_ptr_nonnull(data);
	for (i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 7 + i / 256);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_WRITE, data, total, total);
	push(&ev);
	seg(0, 40000, TCP_SYN, 0, 0, &k);
	ck_assert_uint_eq(get16(tcp_opt(&k, 2) + 2), mss);
	for (i = 3; i < cap.n; i++) {
		parse(&cap, i, &k);
		if (k.sport == 40000) {
			seg(i, 40000, TCP_PSH | TCP_ACK, 1 + off, 1, &k);
			ck_assert_uint_eq(k.paylen, total - off < mss ?
			    total - off : mss);
			ck_assert_uint_eq(k.paycap, k.paylen);
			ck_assert(memcmp(k.payload, data + off, k.paylen) == 0);
			off += k.paylen;
			nseg++;
		} else {
			seg(i, 80, TCP_ACK, 1, 1 + off, NULL);
			nack++;
		}
	}
	free(data);
	ck_assert_uint_eq(nseg, (total + mss - 1) / mss);
	ck_assert_uint_eq(off, total);
	seg(cap.n - 1, 80, TCP_ACK, 1, 1 + total, NULL);
	ck_assert_uint_eq(nack, 1 + (nseg - 1) / SYNTH_ACK_EVERY);
}
END_TEST

/* SHUT_WR: FIN from the local side, ACKed; the close adds only the peer's. */
START_TEST(test_end_stream)
{
	struct trace_event	ev;

	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_WRITE, "bye", 3, 3);
	ev.end_stream = 1;
	push(&ev);
	ck_assert_uint_eq(cap.n, 7);
	seg(5, 40000, TCP_FIN | TCP_ACK, 4, 1, NULL);
	seg(6, 80, TCP_ACK, 1, 5, NULL);
	/* The peer may still send; the close then adds its FIN only. */
	feed(TRACE_EV_READ, "ok");
	seg(8, 40000, TCP_ACK, 5, 3, NULL);
	feed_close(TRACE_RESET_NONE);
	ck_assert_uint_eq(cap.n, 11);
	seg(9, 80, TCP_FIN | TCP_ACK, 3, 5, NULL);
	seg(10, 40000, TCP_ACK, 5, 4, NULL);
	/* A peer's EOF (read end_stream) is a FIN from the remote side. */
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_READ, NULL, 0, 0);
	ev.end_stream = 1;
	push(&ev);
	ck_assert_uint_eq(cap.n, 5);
	seg(3, 80, TCP_FIN | TCP_ACK, 1, 1, NULL);
	seg(4, 40000, TCP_ACK, 1, 2, NULL);
}
END_TEST

/* Closed: FIN each way, each FIN taking one sequence number. */
START_TEST(test_closed)
{
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_WRITE, "abc");
	feed(TRACE_EV_READ, "defg");
	feed_close(TRACE_RESET_NONE);
	ck_assert_uint_eq(cap.n, 11);
	seg(7, 40000, TCP_FIN | TCP_ACK, 4, 5, NULL);
	seg(8, 80, TCP_ACK, 5, 5, NULL);
	seg(9, 80, TCP_FIN | TCP_ACK, 5, 5, NULL);
	seg(10, 40000, TCP_ACK, 5, 6, NULL);
}
END_TEST

/* A reset: one RST from the side the trace blames, and no FIN. */
START_TEST(test_reset)
{
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_WRITE, "x");
	feed_close(TRACE_RESET_BY_PEER);
	ck_assert_uint_eq(cap.n, 6);
	seg(5, 80, TCP_RST | TCP_ACK, 1, 2, NULL);
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed_close(TRACE_RESET_BY_LOCAL);
	ck_assert_uint_eq(cap.n, 4);
	seg(3, 40000, TCP_RST | TCP_ACK, 1, 1, NULL);
}
END_TEST

/* Truncated data: short frames, seq advanced by the full length. */
START_TEST(test_truncated)
{
	struct trace_event	ev;
	struct pkt		k;
	uint8_t			data[100];
	size_t			i;

	memset(data, 'T', sizeof data);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_WRITE, data, 100, 5000);
	push(&ev);
	ck_assert_uint_eq(cap.n, 3 + 4 + 1);	/* 1460 * 3 + 620 */
	for (i = 0; i < 4; i++) {
		seg(3 + i, 40000, TCP_PSH | TCP_ACK, 1 + 1460 * i, 1, &k);
		ck_assert_uint_lt(cap.v[3 + i].caplen, cap.v[3 + i].len);
		ck_assert_uint_eq(k.paylen, i < 3 ? 1460 : 620);
		ck_assert_uint_eq(k.paycap, i == 0 ? 100 : 0);
	}
	ck_assert_mem_eq(cap.v[3].data + cap.v[3].caplen - 100, data, 100);
	seg(7, 80, TCP_ACK, 1, 5001, NULL);
	feed(TRACE_EV_WRITE, "z");
	seg(8, 40000, TCP_PSH | TCP_ACK, 5001, 1, NULL);
	ck_assert_uint_eq(cap.v[8].caplen, cap.v[8].len);
}
END_TEST

/* Run a short conversation with seed; hand back what it captured. */
static struct capture
conversation(uint64_t seed)
{
	struct capture	c;

	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	info4(TRACE_ROLE_CLIENT, 40000, 80);
	synth_stream_init(&st, &ti, seed, 0);
	feed(TRACE_EV_WRITE, "ping");
	feed(TRACE_EV_READ, "pong");
	feed_close(TRACE_RESET_NONE);
	c = cap;
	memset(&cap, 0, sizeof cap);
	return (c);
}

/* The same seed gives the same bytes; another seed other ISNs. */
START_TEST(test_seed)
{
	struct capture	a = conversation(42), b = conversation(42);
	struct capture	c = conversation(43);
	struct pkt	ka, kc;
	size_t		i;

	ck_assert_uint_eq(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		ck_assert_uint_eq(a.v[i].len, b.v[i].len);
		ck_assert_uint_eq(a.v[i].caplen, b.v[i].caplen);
		ck_assert(memcmp(a.v[i].data, b.v[i].data, a.v[i].caplen) == 0);
	}
	for (i = 0; i < 2; i++) {		/* SYN and SYN|ACK */
		parse(&a, i, &ka);
		parse(&c, i, &kc);
		ck_assert_uint_ne(ka.seq, kc.seq);
	}
	capture_free(&a);
	capture_free(&b);
	capture_free(&c);
}
END_TEST

/*
 * A length far past what was kept: cut packets while the capture's
 * SYNTH_UNCAPTURED_MAX lasts (here 1000 bytes of it are left), then a
 * gap the sequence numbers skip, counted.
 */
START_TEST(test_length_gap)
{
	struct trace_event	ev;

	open4(TRACE_ROLE_CLIENT, 40000, 80);
	sy.uncaptured = SYNTH_UNCAPTURED_MAX - 1000;
	ev = event(TRACE_EV_WRITE, "x", 1, 0x7ffff000ULL);
	push(&ev);
	/* Handshake, one segment of 1001 bytes (1 kept), its ACK. */
	ck_assert_uint_eq(cap.n, 3 + 1 + 1);
	ck_assert_uint_eq(cap.v[3].len - cap.v[3].caplen, 1000);
	ck_assert_uint_eq(sy.gaps, 1);
	ck_assert_uint_eq(sy.gap_bytes, 0x7ffff000ULL - 1 - 1000);
	ck_assert_uint_eq(sy.uncaptured, SYNTH_UNCAPTURED_MAX);
	/* The peer ACKs all of it; the next write starts past the gap. */
	seg(cap.n - 1, 80, TCP_ACK, 1, 1 + 0x7ffff000U, NULL);
	feed(TRACE_EV_WRITE, "z");
	seg(cap.n - 2, 40000, TCP_PSH | TCP_ACK, 1 + 0x7ffff000U, 1, NULL);
}
END_TEST

/* TCP behaviour: handshake, roles, segments, close, reset, truncation. */
static Suite *
synth_suite(void)
{
	Suite	*s = suite_create("synth");
	TCase	*tc;

	tc = tcase_create("tcp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake);
	tcase_add_loop_test(tc, test_role, 0,
	    (int)(sizeof role_cases / sizeof role_cases[0]));
	tcase_add_loop_test(tc, test_split, 0,
	    (int)(sizeof split_mss / sizeof split_mss[0]));
	check_add_tests(tc, test_end_stream, test_closed, test_reset,
	    test_truncated, test_length_gap, test_seed, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { synth_suite, NULL };
