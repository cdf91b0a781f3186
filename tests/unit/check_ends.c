/* Check tests for pairing the two ends of one connection. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "ends.h"

/* A trace from local (ip, lport) to remote (ip, rport), over [t0, t1] s. */
static struct trace_info
info(enum trace_role role, uint16_t lport, uint16_t rport, int64_t t0,
    int64_t t1, uint64_t bytes)
{
	struct trace_info	t;

	memset(&t, 0, sizeof t);
	t.has_conn = 1;
	t.conn.role = role;
	t.conn.local.family = t.conn.remote.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", t.conn.local.ip);
	inet_pton(AF_INET, "127.0.0.1", t.conn.remote.ip);
	t.conn.local.port = lport;
	t.conn.remote.port = rport;
	t.has_time = 1;
	t.first_sec = t0;
	t.last_sec = t1;
	t.bytes = bytes;
	return (t);
}

/* Pair n traces; return which were dropped, as a bit mask by input. */
static unsigned int
pair(struct trace_info *t, size_t n)
{
	struct end_ref	r[8];
	unsigned int	mask = 0;
	size_t		i;

	memset(r, 0, sizeof r);
	for (i = 0; i < n; i++) {
		r[i].t = &t[i];
		r[i].input = (unsigned int)i;
	}
	ends_pair(r, n);
	for (i = 0; i < n; i++) {
		if (r[i].drop)
			mask |= 1u << r[i].input;
	}
	return (mask);
}

/* Client and server ends of one connection: one dropped, the smaller. */
START_TEST(test_pair)
{
	struct trace_info	t[2];

	t[0] = info(TRACE_ROLE_CLIENT, 40000, 80, 10, 20, 500);
	t[1] = info(TRACE_ROLE_SERVER, 80, 40000, 11, 19, 500);
	ck_assert_uint_eq(pair(t, 2), 2);	/* a tie: the client stays */
	t[1].bytes = 900;
	ck_assert_uint_eq(pair(t, 2), 1);	/* the server kept more */
}
END_TEST

/* Not the two ends of one connection. */
START_TEST(test_no_pair)
{
	struct trace_info	t[2];

	/* The same port pair reused later: two connections. */
	t[0] = info(TRACE_ROLE_CLIENT, 40000, 80, 10, 20, 500);
	t[1] = info(TRACE_ROLE_SERVER, 80, 40000, 21, 30, 500);
	ck_assert_uint_eq(pair(t, 2), 0);
	/* Both clients: impossible for one connection. */
	t[1] = info(TRACE_ROLE_CLIENT, 80, 40000, 11, 19, 500);
	ck_assert_uint_eq(pair(t, 2), 0);
	/* The same direction twice: the same trace given twice. */
	t[1] = info(TRACE_ROLE_CLIENT, 40000, 80, 10, 20, 500);
	ck_assert_uint_eq(pair(t, 2), 0);
	/* Another port. */
	t[1] = info(TRACE_ROLE_SERVER, 80, 40001, 11, 19, 500);
	ck_assert_uint_eq(pair(t, 2), 0);
	/* AF_UNIX ends cannot be told apart by address. */
	t[0].conn.local.family = t[0].conn.remote.family = AF_UNIX;
	t[1] = t[0];
	t[1].conn.role = TRACE_ROLE_SERVER;
	ck_assert_uint_eq(pair(t, 2), 0);
}
END_TEST

/* Many traces: each connection's ends found, others left alone. */
START_TEST(test_many)
{
	struct trace_info	t[6];

	t[0] = info(TRACE_ROLE_CLIENT, 40001, 80, 10, 20, 5);
	t[1] = info(TRACE_ROLE_CLIENT, 40002, 80, 10, 20, 5);
	t[2] = info(TRACE_ROLE_SERVER, 80, 40002, 10, 20, 9);
	t[3] = info(TRACE_ROLE_SERVER, 80, 40001, 10, 20, 9);
	t[4] = info(TRACE_ROLE_CLIENT, 40003, 80, 10, 20, 5);
	t[5] = info(TRACE_ROLE_UNKNOWN, 80, 40009, 10, 20, 5);
	ck_assert_uint_eq(pair(t, 6), 1u << 0 | 1u << 1);
}
END_TEST

static Suite *
ends_suite(void)
{
	Suite	*s = suite_create("ends");
	TCase	*tc = tcase_create("pair");

	check_add_tests(tc, test_pair, test_no_pair, test_many, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { ends_suite, NULL };
