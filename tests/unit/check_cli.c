/* Check tests for tap2pcap's command line: run it, judge what it did. */

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

START_TEST(test_help)
{
	run(0, _i ? "-h" : "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(strncmp(r.out, "usage: tap2pcap ", 16), 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--mss"));
	ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(test_version)
{
	run(0, _i ? "-V" : "--version", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, "tap2pcap (" PACKAGE_NAME ") " PACKAGE_VERSION
	    "\n");
	ck_assert_str_eq(r.err, "");
}
END_TEST

/* Wrong command lines: the argument lists, and the start of the error. */
static const struct usage_case {
	const char	*args[5];
	const char	*err;
} usage_cases[] = {
	{ { NULL }, "usage: " },
	{ { "--bogus", "-w", "o.pcap", "good.pb", NULL }, "tap2pcap: " },
	{ { "-w", "o.pcap", NULL }, "usage: " },
	{ { "a.pb", "b.pb", "o.pcap", NULL }, "usage: " },
	{ { "-s", "0", "-w", "o.pcap", "good.pb" },
	    "tap2pcap: --mss must be a number from 1 to 65495\n" },
	{ { "--mss", "70000", "-w", "o.pcap", "good.pb" },
	    "tap2pcap: --mss must be a number from 1 to 65495\n" },
	{ { "--mss=abc", "-w", "o.pcap", "good.pb", NULL },
	    "tap2pcap: --mss must be a number from 1 to 65495\n" },
	{ { "-y", "token", "-w", "o.pcap", "good.pb" },
	    "tap2pcap: unknown link type 'token' (ether or raw)\n" }
};

START_TEST(test_usage_error)
{
	const char *const	*a = usage_cases[_i].args;

	write_good("good.pb");
	run(0, a[0], a[1], a[2], a[3], a[4], NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strncmp(r.err, usage_cases[_i].err,
	    strlen(usage_cases[_i].err)) == 0, "stderr: %s", r.err);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(listing(), "good.pb");
}
END_TEST

START_TEST(test_missing_input)
{
	run(0, "-w", "out.pcap", "none.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "tap2pcap: none.pb: No such file or directory\n");
	ck_assert_str_eq(listing(), "");
}
END_TEST

START_TEST(test_damaged_input)
{
	char	want[128];

	snprintf(want, sizeof want, "tap2pcap: bad.pb: offset %zu: port 70000 "
	    "out of range\n", write_bad("bad.pb"));
	run(0, "-w", "out.pcap", "bad.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, want);
	ck_assert_str_eq(listing(), "bad.pb");
}
END_TEST

START_TEST(test_empty_input)
{
	struct tracebuf	tb;

	tb_init(&tb);
	ck_assert_int_eq(tb_write_file(&tb, "empty.pb"), 0);
	run(0, "-w", "out.pcap", "empty.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "tap2pcap: empty.pb: offset 0: empty file\n");
	ck_assert_str_eq(listing(), "empty.pb");
}
END_TEST

START_TEST(test_damaged_second)
{
	write_good("a.pb");
	write_bad("b.pb");
	write_good("c.pb");
	run(0, "-w", "out.pcap", "a.pb", "b.pb", "c.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "tap2pcap: b.pb: offset "));
	ck_assert_ptr_null(strstr(r.err, "c.pb"));
	ck_assert_str_eq(listing(), "a.pb b.pb c.pb");
}
END_TEST

START_TEST(test_output_kept)
{
	static const char	 old[] = "not to be lost\n\0\x01\xff";
	char			*now;
	size_t			 n;
	FILE			*f;

	ck_assert_ptr_nonnull(f = fopen("out.pcap", "w"));
	fwrite(old, 1, sizeof old, f);
	fclose(f);
	write_bad("bad.pb");
	run(0, "-w", "out.pcap", "bad.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	now = slurp("out.pcap", &n);
	ck_assert_uint_eq(n, sizeof old);
	ck_assert_mem_eq(now, old, n);
	free(now);
	ck_assert_str_eq(listing(), "bad.pb out.pcap");
}
END_TEST

START_TEST(test_output_is_input)
{
	char	*before, *after;
	size_t	 n, m;

	write_good("t.pb");
	before = slurp("t.pb", &n);
	if (_i == 0)
		run(0, "-w", "t.pb", "t.pb", NULL);
	else	/* the same file by another name, in Envoy's form */
		run(0, "t.pb", "./t.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "the output is also an input"));
	after = slurp("t.pb", &m);
	ck_assert_uint_eq(n, m);
	ck_assert_mem_eq(before, after, n);
	free(before);
	free(after);
	ck_assert_str_eq(listing(), "t.pb");
}
END_TEST

START_TEST(test_output_dir)
{
	/* No such directory; a read-only one (as nobody, if root). */
	write_good("t.pb");
	if (_i == 0) {
		run(0, "-w", "nodir/out.pcap", "t.pb", NULL);
		ck_assert_str_eq(r.err, "tap2pcap: nodir/out.pcap: No such "
		    "file or directory\n");
	} else {
		ck_assert_int_eq(chmod(top, 0755), 0);
		ck_assert_int_eq(chmod(".", 0755), 0);
		ck_assert_int_eq(chmod("t.pb", 0644), 0);
		ck_assert_int_eq(mkdir("ro", 0555), 0);
		ck_assert_int_eq(chmod("ro", 0555), 0);
		run(RUN_NOBODY, "-w", "ro/out.pcap", "t.pb", NULL);
		ck_assert_str_eq(r.err, "tap2pcap: ro/out.pcap: Permission "
		    "denied\n");
		ck_assert_str_eq(listing(), "ro t.pb");
	}
	ck_assert_int_eq(r.status, 1);
}
END_TEST

START_TEST(test_write_error)
{
	struct tracebuf	 tb;
	static char	 big[100000];

	/* The capture outgrows RLIMIT_FSIZE: the temporary file goes. */
	tb_init(&tb);
	tb_begin(&tb, TB_BUFFERED);
	tb_event(&tb, 3, 1, 0, TB_WRITE, big, sizeof big);
	tb_end(&tb);
	ck_assert_int_eq(tb_write_file(&tb, "big.pb"), 0);
	tb_free(&tb);
	run(RUN_FSIZE, "-q", "-w", "out.pcap", "big.pb", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "tap2pcap: out.pcap: write error: File too "
	    "large\n");
	ck_assert_str_eq(listing(), "big.pb");
}
END_TEST

START_TEST(test_stdout)
{
	write_good("t.pb");
	if (_i == 0)
		run(0, "-w", "-", "t.pb", NULL);
	else
		run(0, "-y", "raw", "--write=-", "t.pb", NULL);
	ck_assert_int_eq(r.status, 0);
	pcap_is_good(r.out, r.outlen, _i ? LINKTYPE_RAW : LINKTYPE_ETHER);
	ck_assert_str_eq(listing(), "t.pb");
}
END_TEST

START_TEST(test_envoy_form)
{
	char	*a, *b;
	size_t	 n, m;

	write_good("t.pb");
	run(0, "t.pb", "a.pcap", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "tap2pcap: a.pcap: "));
	run(0, "-q", "-w", "b.pcap", "t.pb", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_str_eq(listing(), "a.pcap b.pcap t.pb");
	a = slurp("a.pcap", &n);
	b = slurp("b.pcap", &m);
	pcap_is_good(a, n, LINKTYPE_ETHER);
	ck_assert_uint_eq(n, m);
	ck_assert_mem_eq(a, b, n);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_mode)
{
	static const mode_t	masks[] = { 022, 077, 0, 027 };
	struct stat		st;

	child_umask = masks[_i];
	write_good("t.pb");
	run(0, "-q", "-w", "out.pcap", "t.pb", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(stat("out.pcap", &st), 0);
	/* Private whatever the umask: it holds what the trace holds. */
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_str_eq(listing(), "out.pcap t.pb");
}
END_TEST

/* --mode widens it (or narrows it), exactly, the umask not applied. */
START_TEST(test_mode_option)
{
	static const char	*modes[] = { "0644", "640", "0" };
	static const mode_t	 want[] = { 0644, 0640, 0 };
	struct stat		 st;

	child_umask = 022;
	write_good("t.pb");
	run(0, "-q", "--mode", modes[_i], "-w", "out.pcap", "t.pb", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(stat("out.pcap", &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, want[_i]);
}
END_TEST

/* A --mode that is not octal permissions: a usage error. */
START_TEST(test_mode_bad)
{
	static const char	*bad[] = { "0888", "1777", "rw", "", "-1" };

	write_good("t.pb");
	run(0, "-q", "--mode", bad[_i], "-w", "out.pcap", "t.pb", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--mode"));
	ck_assert_str_eq(listing(), "t.pb");
}
END_TEST

/* All of tap2pcap's command-line tests. */
static Suite *
cli_suite(void)
{
	Suite	*s = suite_create("cli");
	TCase	*tc = tcase_create("tap2pcap");

	tcase_add_checked_fixture(tc, cli_setup, cli_teardown);
	tcase_add_loop_test(tc, test_help, 0, 2);
	tcase_add_loop_test(tc, test_version, 0, 2);
	tcase_add_loop_test(tc, test_usage_error, 0,
	    (int)(sizeof usage_cases / sizeof usage_cases[0]));
	check_add_tests(tc, test_missing_input, test_damaged_input,
	    test_empty_input, test_damaged_second, test_output_kept, NULL);
	tcase_add_loop_test(tc, test_output_is_input, 0, 2);
	tcase_add_loop_test(tc, test_output_dir, 0, 2);
	tcase_add_test(tc, test_write_error);
	tcase_add_loop_test(tc, test_stdout, 0, 2);
	tcase_add_test(tc, test_envoy_form);
	tcase_add_loop_test(tc, test_mode_option, 0, 3);
	tcase_add_loop_test(tc, test_mode_bad, 0, 5);
	tcase_add_loop_test(tc, test_mode, 0, 4);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { cli_suite, NULL };
