/* Check tests for the synthesizer: address mapping, UDP, after a close. */

#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "synth.h"
#include "synthcheck.h"

static Suite	*synth_addr_suite(void);

/* AF_UNIX: loopback addresses, and a client port per ordinal. */
START_TEST(test_unix)
{
	struct pkt	k0, k1;

	memset(&ti, 0, sizeof ti);
	ti.has_conn = 1;
	ti.conn.local.family = ti.conn.remote.family = AF_UNIX;
	strcpy(ti.conn.remote.path, "/run/app.sock");
	synth_stream_init(&st, &ti, 1, 0);
	ck_assert_int_eq(st.mapped, 1);
	feed(TRACE_EV_WRITE, "u");
	synth_stream_init(&st, &ti, 1, 1);
	ck_assert_int_eq(st.mapped, 1);
	feed(TRACE_EV_WRITE, "u");
	ck_assert_uint_eq(cap.n, 10);
	parse(&cap, 0, &k0);
	parse(&cap, 5, &k1);
	ck_assert(k0.flags == TCP_SYN && k1.flags == TCP_SYN);
	ck_assert(!k0.v6 && !k1.v6);
	ck_assert(k0.src[0] == 127 && k0.dst[0] == 127);
	ck_assert_mem_ne(k0.src, k0.dst, 4);
	ck_assert_uint_ne(k0.sport, k1.sport);
	ck_assert_uint_eq(k0.dport, k1.dport);	/* the same listener */
	/* No service's port: above the ephemeral range, the clients below. */
	ck_assert_uint_ge(k0.dport, 61000);
	ck_assert_uint_lt(k0.sport, 61000);
	ck_assert_uint_lt(k1.sport, 61000);
	/* The named side, here local, is the listener. */
	memcpy(ti.conn.local.path, ti.conn.remote.path,
	    sizeof ti.conn.local.path);
	ti.conn.remote.path[0] = '\0';
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	synth_stream_init(&st, &ti, 1, 0);
	feed(TRACE_EV_WRITE, "u");
	seg(3, k0.dport, TCP_PSH | TCP_ACK, 1, 1, NULL);
}
END_TEST

/* One side IPv4, the other IPv6: IPv6 frames with a mapped address. */
START_TEST(test_mixed_family)
{
	static const uint8_t	v6[16] = { 0x20, 0x01, 0x0d, 0xb8,
				    [15] = 2 };
	static const uint8_t	mapped[16] = { [10] = 0xff, [11] = 0xff,
				    [12] = 10, [15] = 1 };
	struct pkt		k;
	size_t			i;

	start(FRAME_LINK_RAW, SYNTH_MSS_DEFAULT);
	info4(TRACE_ROLE_CLIENT, 40000, 443);
	ti.conn.remote.family = AF_INET6;
	memcpy(ti.conn.remote.ip, v6, 16);
	synth_stream_init(&st, &ti, 1, 0);
	ck_assert_int_eq(st.mapped, 0);
	feed(TRACE_EV_WRITE, "six");
	ck_assert_uint_eq(cap.n, 5);
	for (i = 0; i < cap.n; i++) {
		parse(&cap, i, &k);
		ck_assert(k.v6);
	}
	seg(0, 40000, TCP_SYN, 0, 0, &k);
	ck_assert_mem_eq(k.src, mapped, 16);
	ck_assert_mem_eq(k.dst, v6, 16);
}
END_TEST

/* IPv6 streams use sy.mss6: in the SYN's MSS option and in the split. */
START_TEST(test_mss6)
{
	static uint8_t	buf[3000];
	struct pkt	k;
	struct trace_event ev;

	info4(TRACE_ROLE_CLIENT, 40000, 443);
	ti.conn.local.family = ti.conn.remote.family = AF_INET6;
	sy.mss6 = SYNTH_MSS_DEFAULT6;
	synth_stream_init(&st, &ti, 1, 0);
	ev = event(TRACE_EV_WRITE, buf, sizeof buf, sizeof buf);
	push(&ev);
	parse(&cap, 0, &k);
	ck_assert(k.v6);
	ck_assert_uint_eq(k.optlen, 8);
	ck_assert_uint_eq(get16(k.opt + 2), SYNTH_MSS_DEFAULT6);
	/* SYN, SYN-ACK, ACK, then 1440 + 1440 + 120 and the peer's ACK. */
	ck_assert_uint_eq(cap.n, 7);
	parse(&cap, 3, &k);
	ck_assert_uint_eq(k.paylen, SYNTH_MSS_DEFAULT6);
	parse(&cap, 5, &k);
	ck_assert_uint_eq(k.paylen, sizeof buf - 2 * SYNTH_MSS_DEFAULT6);
}
END_TEST

/* UDP: a datagram per event each way, no handshake, nothing after close. */
START_TEST(test_udp)
{
	struct pkt	k;

	info4(TRACE_ROLE_CLIENT, 5353, 53);
	ti.conn.local.udp = ti.conn.remote.udp = 1;
	synth_stream_init(&st, &ti, 1, 0);
	feed(TRACE_EV_WRITE, "query");
	feed(TRACE_EV_READ, "answer!!");
	feed_close(TRACE_RESET_NONE);
	feed(TRACE_EV_WRITE, "late");
	ck_assert_uint_eq(cap.n, 2);
	ck_assert_uint_eq(sy.frames, 2);
	parse(&cap, 0, &k);
	ck_assert_int_eq(k.proto, IPPROTO_UDP);
	ck_assert(k.sport == 5353 && k.dport == 53);
	ck_assert_uint_eq(k.paylen, 5);
	ck_assert_mem_eq(k.payload, "query", 5);
	parse(&cap, 1, &k);
	ck_assert_int_eq(k.proto, IPPROTO_UDP);
	ck_assert(k.sport == 53 && k.dport == 5353);
	ck_assert_uint_eq(k.paylen, 8);
	ck_assert_mem_eq(k.payload, "answer!!", 8);
}
END_TEST

/* TCP events after the close, and unknown events, produce nothing. */
START_TEST(test_after_closed)
{
	struct trace_event	ev;

	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_OTHER, NULL);
	ck_assert_uint_eq(cap.n, 0);
	feed(TRACE_EV_WRITE, "a");
	feed_close(TRACE_RESET_NONE);
	ck_assert_uint_eq(cap.n, 5 + 4);
	feed(TRACE_EV_WRITE, "b");
	ev = event(TRACE_EV_READ, "c", 1, 1);
	ev.end_stream = 1;
	push(&ev);
	feed_close(TRACE_RESET_BY_PEER);
	ck_assert_uint_eq(cap.n, 5 + 4);
	ck_assert_uint_eq(sy.frames, 5 + 4);
}
END_TEST

/* A refused connect: SYN, then the peer's RST; a timed-out one: SYN. */
START_TEST(test_refused)
{
	struct pkt	syn, rst;

	info4(TRACE_ROLE_CLIENT, 40000, 9);
	strcpy(ti.conn.error, "ECONNREFUSED");
	synth_stream_init(&st, &ti, 1, 0);
	feed_close(TRACE_RESET_BY_PEER);
	ck_assert_uint_eq(cap.n, 2);
	seg(0, 40000, TCP_SYN, 0, 0, &syn);
	parse(&cap, 1, &rst);		/* no SYN from 9: check it by hand */
	ck_assert_uint_eq(rst.sport, 9);
	ck_assert_uint_eq(rst.flags, TCP_RST | TCP_ACK);
	ck_assert_uint_eq(rst.ack, syn.seq + 1);
	ck_assert_uint_eq(rst.paylen, 0);
	feed(TRACE_EV_WRITE, "late");
	ck_assert_uint_eq(cap.n, 2);

	capture_free(&cap);
	info4(TRACE_ROLE_CLIENT, 40001, 9);
	strcpy(ti.conn.error, "ETIMEDOUT");
	synth_stream_init(&st, &ti, 2, 0);
	feed_close(TRACE_RESET_NONE);
	ck_assert_uint_eq(cap.n, 1);
	seg(0, 40001, TCP_SYN, 0, 0, NULL);
}
END_TEST

/* Address mapping and UDP, then what follows a TCP close. */
static Suite *
synth_addr_suite(void)
{
	Suite	*s = suite_create("synth-addr");
	TCase	*tc;

	tc = tcase_create("addresses");
	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_unix, test_mixed_family, test_mss6, test_udp,
	    NULL);
	suite_add_tcase(s, tc);

	tc = tcase_create("flow");
	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_after_closed, test_refused, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { synth_addr_suite, NULL };
