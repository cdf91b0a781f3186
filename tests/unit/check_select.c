/* Check tests for tap2pcap's filters, split captures and progress bar. */

#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "clicheck.h"
#include "tracebuf.h"

/* Ethernet 14 + IPv4 20: where the TCP or UDP ports begin. */
#define PORTS_AT	34
#define BIG_EVENTS	2500	/* of 1000 bytes: about 2.7 MB of capture */
#define MB		1000000

#define CHUNK_EVENTS	50	/* events per .pb chunk: tracebuf copies */

/* Append a built piece of trace to the file at path. */
static void
append_piece(const struct tracebuf *tb, const char *path)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "ab"));
	ck_assert_uint_eq(fwrite(tb->data, 1, tb->len, f), tb->len);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Save a closed connection's trace: proto TB_TCP or TB_UDP, n events of
 * size bytes, both ways by turns. It is written as the shim writes one,
 * in chunks a protobuf parser merges (tracebuf's exact-size buffers make
 * one big message quadratic, too slow under sanitizers).
 */
static void
write_conn(const char *path, int proto, const char *dst, uint32_t dport,
    size_t n, size_t size)
{
	static char	payload[1000];
	struct tracebuf	tb;
	size_t		i;

	ck_assert_uint_le(size, sizeof payload);
	memset(payload, 'x', sizeof payload);
	unlink(path);
	tb_init(&tb);
	tb_begin(&tb, TB_BUFFERED);
	tb_uint(&tb, 1, 7);
	tb_begin(&tb, 2);
	tb_inet(&tb, 1, proto, "10.0.0.1", 40000);
	tb_inet(&tb, 2, proto, dst, dport);
	tb_end(&tb);
	for (i = 0; i < n; i++) {
		tb_event(&tb, 3, 1700000000, (int32_t)(i * 1000),
		    i % 2 ? TB_READ : TB_WRITE, payload, size);
		if ((i + 1) % CHUNK_EVENTS == 0) {
			tb_end(&tb);
			append_piece(&tb, path);
			tb_free(&tb);
			tb_init(&tb);
			tb_begin(&tb, TB_BUFFERED);
		}
	}
	if (proto == TB_TCP)
		tb_event(&tb, 3, 1700000001, 0, TB_CLOSED, NULL, 0);
	tb_end(&tb);
	append_piece(&tb, path);
	tb_free(&tb);
}

/* The packets of a capture file; every one's ports in ports[], if given. */
static size_t
packets(const char *path, uint32_t *ports, size_t max)
{
	uint32_t	rec[4];
	const uint8_t	*p;
	char		*buf;
	size_t		 n, off, k = 0;

	buf = slurp(path, &n);
	ck_assert_uint_ge(n, 24);
	for (off = 24; off + sizeof rec <= n; k++) {
		memcpy(rec, buf + off, sizeof rec);
		p = (const uint8_t *)buf + off + sizeof rec + PORTS_AT;
		if (ports != NULL && k < max)
			ports[k] = (uint32_t)(p[0] << 8 | p[1]) << 16 |
			    (uint32_t)(p[2] << 8 | p[3]);
		off += sizeof rec + rec[2];
	}
	ck_assert_uint_eq(off, n);
	free(buf);
	return (k);
}

/* The records of a capture (every byte after the file header). */
static char *
records(const char *path, size_t *n)
{
	char	*buf = slurp(path, n);

	ck_assert_uint_ge(*n, 24);
	memmove(buf, buf + 24, *n - 24);
	*n -= 24;
	return (buf);
}

START_TEST(test_filter_match)
{
	uint32_t	ports[16];
	size_t		n, i;

	write_conn("a.pb", TB_TCP, "10.0.0.2", 80, 2, 10);
	write_conn("b.pb", TB_TCP, "10.0.0.3", 8080, 2, 10);
	/* One word, or several: tcpdump joins them. */
	if (_i == 0)
		run(0, "-w", "out.pcap", "a.pb", "b.pb", "port 8080", NULL);
	else
		run(0, "-w", "out.pcap", "a.pb", "b.pb", "tcp", "and", "port",
		    "8080", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "1 of 2 connection(s) match"));
	n = packets("out.pcap", ports, 16);
	ck_assert_uint_ge(n, 5);
	for (i = 0; i < n && i < 16; i++)
		ck_assert_msg(ports[i] == (40000U << 16 | 8080) ||
		    ports[i] == (8080U << 16 | 40000), "packet %zu: ports "
		    "%u, %u", i, ports[i] >> 16, ports[i] & 0xffff);
	ck_assert_str_eq(listing(), "a.pb b.pb out.pcap");
}
END_TEST

/* Expressions and how many of a TCP trace to :80 and a UDP one to :53
 * each keeps; with the raw link type too. */
static const struct match_case {
	const char	*expr;
	int		 raw;
	const char	*said;
} match_cases[] = {
	{ "udp port 53", 0, "1 of 2" },
	{ "tcp", 0, "1 of 2" },
	{ "host 10.0.0.1", 0, "2 of 2" },
	{ "dst host 10.0.0.1", 0, "0 of 2" },
	{ "not port 22", 1, "2 of 2" },
	{ "ip6", 1, "0 of 2" },
	{ "tcp[tcpflags] & tcp-syn != 0", 0, "1 of 2" },
	{ "net 10.0.0.0/24 and (port 80 or port 53)", 1, "2 of 2" }
};

START_TEST(test_filter_cases)
{
	const struct match_case	*c = &match_cases[_i];

	write_conn("t.pb", TB_TCP, "10.0.0.2", 80, 2, 10);
	write_conn("u.pb", TB_UDP, "10.0.0.9", 53, 2, 10);
	run(0, "-y", c->raw ? "raw" : "ether", "-w", "out.pcap", "t.pb",
	    "u.pb", c->expr, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, c->said) != NULL, "'%s': %s", c->expr,
	    r.err);
	if (strncmp(c->said, "0 of", 4) == 0)
		ck_assert_uint_eq(packets("out.pcap", NULL, 0), 0);
}
END_TEST

START_TEST(test_filter_bad)
{
	write_conn("t.pb", TB_TCP, "10.0.0.2", 80, 2, 10);
	run(0, "-w", "out.pcap", "t.pb", "port", "8x1", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strncmp(r.err, "tap2pcap: filter 'port 8x1': ", 29) == 0,
	    "stderr: %s", r.err);
	ck_assert_str_eq(listing(), "t.pb");
}
END_TEST

START_TEST(test_filter_missing_trace)
{
	/* A trace name that is not there is not taken for a filter. */
	write_conn("t.pb", TB_TCP, "10.0.0.2", 80, 2, 10);
	run(0, "-w", "out.pcap", "t.pb", _i ? "dir/t_1.pb" : "t_1.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, _i ? "tap2pcap: dir/t_1.pb: No such file or "
	    "directory\n" : "tap2pcap: t_1.pb: No such file or directory\n");
	ck_assert_str_eq(listing(), "t.pb");
}
END_TEST

/* Command lines -C and -W refuse, and how. */
static const struct usage_case {
	const char	*args[6];
	const char	*err;
} usage_cases[] = {
	{ { "-W", "3", "-w", "o.pcap", "t.pb" }, "tap2pcap: -W needs -C\n" },
	{ { "-C", "1", "-w", "-", "t.pb" },
	    "tap2pcap: -C needs a file name, not -\n" },
	{ { "-C", "0", "-w", "o.pcap", "t.pb" },
	    "tap2pcap: -C must be a number from 1 to 1000000\n" },
	{ { "-C", "1", "-W", "x", "-w", "o.pcap" },
	    "tap2pcap: -W must be a number from 1 to 1000000\n" }
};

START_TEST(test_split_usage)
{
	const char *const	*a = usage_cases[_i].args;

	write_conn("t.pb", TB_TCP, "10.0.0.2", 80, 2, 10);
	run(0, a[0], a[1], a[2], a[3], a[4], a[5], "t.pb", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, usage_cases[_i].err);
	ck_assert_str_eq(listing(), "t.pb");
}
END_TEST

START_TEST(test_split)
{
	static const char *const	 parts[] = { "out.pcap", "out.pcap1",
					    "out.pcap2" };
	char				*one, *got;
	size_t				 n, m, at = 0, i;
	struct stat			 st;

	write_conn("big.pb", TB_TCP, "10.0.0.2", 80, BIG_EVENTS, 1000);
	run(0, "-q", "-w", "one.pcap", "big.pb", NULL);
	ck_assert_int_eq(r.status, 0);
	run(0, "-C", "1", "-w", "out.pcap", "big.pb", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "out.pcap ... out.pcap2: "));
	ck_assert_str_eq(listing(),
	    "big.pb one.pcap out.pcap out.pcap1 out.pcap2");
	/* Each at most 1 MB, whole packets, together the same records. */
	one = records("one.pcap", &n);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(stat(parts[i], &st), 0);
		ck_assert_int_le(st.st_size, MB);
		if (i < 2)
			ck_assert_int_gt(st.st_size, MB - 2000);
		ck_assert_uint_gt(packets(parts[i], NULL, 0), 0);
		got = records(parts[i], &m);
		ck_assert_uint_le(at + m, n);
		ck_assert_mem_eq(got, one + at, m);
		at += m;
		free(got);
	}
	ck_assert_uint_eq(at, n);
	free(one);
}
END_TEST

START_TEST(test_split_ring)
{
	char	*one, *last;
	size_t	 n, m;

	write_conn("big.pb", TB_TCP, "10.0.0.2", 80, BIG_EVENTS, 1000);
	run(0, "-q", "-w", "one.pcap", "big.pb", NULL);
	run(0, "-C", "1", "-W", "2", "-w", "out.pcap", "big.pb", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "the oldest written over"));
	/* The third file took the first one's name: out.pcap0. */
	ck_assert_str_eq(listing(), "big.pb one.pcap out.pcap0 out.pcap1");
	one = records("one.pcap", &n);
	last = records("out.pcap0", &m);
	ck_assert_uint_le(m, n);
	ck_assert_mem_eq(last, one + n - m, m);
	free(one);
	free(last);
}
END_TEST

START_TEST(test_split_input_clash)
{
	char	*before, *after;
	size_t	 n, m;

	/* The third file would be the second input: nothing is written. */
	write_conn("big.pb", TB_TCP, "10.0.0.2", 80, BIG_EVENTS, 1000);
	write_conn("out.pcap2", TB_TCP, "10.0.0.3", 80, 2, 10);
	before = slurp("out.pcap2", &n);
	run(0, "-C", "1", "-w", "out.pcap", "big.pb", "out.pcap2", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "tap2pcap: out.pcap2: the output is also an "
	    "input\n");
	ck_assert_str_eq(listing(), "big.pb out.pcap2");
	after = slurp("out.pcap2", &m);
	ck_assert_uint_eq(n, m);
	ck_assert_mem_eq(before, after, n);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_progress)
{
	/* Asked for: drawn, then cleared; never on a file, by default. */
	write_conn("t.pb", TB_TCP, "10.0.0.2", 80, 20, 100);
	if (_i == 0) {
		run(0, "--progress", "-q", "-w", "out.pcap", "t.pb", NULL);
		ck_assert_msg(strncmp(r.err, "\rtap2pcap: [", 12) == 0,
		    "stderr: %s", r.err);
		ck_assert_ptr_nonnull(strstr(r.err, "% "));
		ck_assert_int_eq(r.err[strlen(r.err) - 1], '\r');
	} else {
		run(0, "-w", "out.pcap", "t.pb", NULL);
		ck_assert_ptr_null(strchr(r.err, '\r'));
		run(0, "--no-progress", "-w", "out.pcap", "t.pb", NULL);
		ck_assert_ptr_null(strchr(r.err, '\r'));
	}
	ck_assert_int_eq(r.status, 0);
}
END_TEST

/* tap2pcap's filter, -C, -W and --progress. */
static Suite *
select_suite(void)
{
	Suite	*s = suite_create("select");
	TCase	*tc = tcase_create("filter");

	tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
	tcase_add_loop_test(tc, test_filter_match, 0, 2);
	tcase_add_loop_test(tc, test_filter_cases, 0,
	    (int)(sizeof match_cases / sizeof match_cases[0]));
	tcase_add_test(tc, test_filter_bad);
	tcase_add_loop_test(tc, test_filter_missing_trace, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("split");
	/* Megabytes of capture, twice, under sanitizers too. */
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
	tcase_add_loop_test(tc, test_split_usage, 0,
	    (int)(sizeof usage_cases / sizeof usage_cases[0]));
	check_add_tests(tc, test_split, test_split_ring,
	    test_split_input_clash, NULL);
	tcase_add_loop_test(tc, test_progress, 0, 2);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { select_suite, NULL };
