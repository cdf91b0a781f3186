/* Check tests for the shim's configuration (TAPSHIM_ variables). */

#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "conf.h"

/* The environment a test gives: NAME=VALUE strings, NULL-terminated. */
static const char	**env;

/* A getenv over env. */
static const char *
fake_getenv(const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return (env[i] + n + 1);
	}
	return (NULL);
}

/* Read the configuration from these variables; it must succeed. */
static void
read_ok(struct conf *c, const char **vars)
{
	char	errbuf[CONF_ERRBUF_SIZE] = "";

	env = vars;
	ck_assert_msg(conf_read(c, fake_getenv, errbuf) == 0, "%s", errbuf);
}

/* Reading must fail, naming the variable. */
static void
read_bad(const char **vars, const char *needle)
{
	struct conf	c;
	char		errbuf[CONF_ERRBUF_SIZE] = "";

	env = vars;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), -1);
	ck_assert_msg(strstr(errbuf, needle) != NULL, "\"%s\" lacks \"%s\"",
	    errbuf, needle);
}

START_TEST(test_defaults)
{
	static const char	*none[] = { NULL };
	struct conf		 c;
	char			 cwd[PATH_MAX], want[PATH_MAX + 8];

	read_ok(&c, none);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/tap", strcmp(cwd, "/") ? cwd : "");
	ck_assert_str_eq(c.prefix, want);
	ck_assert_int_eq(c.format, CONF_FORMAT_BINARY);
	ck_assert(c.max_rx == CONF_UNLIMITED && c.max_tx == CONF_UNLIMITED);
	ck_assert_int_eq(c.debug, 0);
	ck_assert_str_eq(conf_extension(c.format), ".pb");
}
END_TEST

START_TEST(test_prefix)
{
	static const char	*abs[] = { "TAPSHIM_PATH_PREFIX=/tmp/x/t", NULL };
	static const char	*rel[] = { "TAPSHIM_PATH_PREFIX=./sub/t", NULL };
	struct conf		 c;
	char			 cwd[PATH_MAX], want[PATH_MAX + 8];

	read_ok(&c, abs);
	ck_assert_str_eq(c.prefix, "/tmp/x/t");
	read_ok(&c, rel);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/sub/t", strcmp(cwd, "/") ? cwd : "");
	ck_assert_str_eq(c.prefix, want);
}
END_TEST

START_TEST(test_formats)
{
	static const char	*names[][2] = {
		{ "TAPSHIM_FORMAT=PROTO_BINARY", ".pb" },
		{ "TAPSHIM_FORMAT=pb", ".pb" },
		{ "TAPSHIM_FORMAT=binary", ".pb" },
		{ "TAPSHIM_FORMAT=PROTO_BINARY_LENGTH_DELIMITED",
		    ".pb_length_delimited" },
		{ "TAPSHIM_FORMAT=pb_length_delimited", ".pb_length_delimited" },
		{ "TAPSHIM_FORMAT=ld", ".pb_length_delimited" },
		{ "TAPSHIM_FORMAT=delimited", ".pb_length_delimited" }
	};
	const char	*vars[2] = { NULL, NULL };
	struct conf	 c;
	size_t		 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		vars[0] = names[i][0];
		read_ok(&c, vars);
		ck_assert_str_eq(conf_extension(c.format), names[i][1]);
	}
}
END_TEST

START_TEST(test_bytes)
{
	static const char	*v[] = { "TAPSHIM_MAX_BUFFERED_RX_BYTES=1024",
				    "TAPSHIM_MAX_BUFFERED_TX_BYTES=64K", NULL };
	static const char	*w[] = { "TAPSHIM_MAX_BUFFERED_RX_BYTES=3M",
				    "TAPSHIM_MAX_BUFFERED_TX_BYTES=2g", NULL };
	static const char	*u[] = {
				    "TAPSHIM_MAX_BUFFERED_RX_BYTES=unlimited",
				    "TAPSHIM_MAX_BUFFERED_TX_BYTES=0", NULL };
	struct conf		 c;

	read_ok(&c, v);
	ck_assert_uint_eq(c.max_rx, 1024);
	ck_assert_uint_eq(c.max_tx, 65536);
	read_ok(&c, w);
	ck_assert_uint_eq(c.max_rx, 3 * 1024 * 1024);
	ck_assert_uint_eq(c.max_tx, 2ULL * 1024 * 1024 * 1024);
	read_ok(&c, u);
	ck_assert(c.max_rx == CONF_UNLIMITED);
	ck_assert_uint_eq(c.max_tx, 0);
}
END_TEST

/* The largest count, UINT64_MAX, is a count (unlimited); one more is not. */
START_TEST(test_bytes_max)
{
	static const char	*v[] = {
				    "TAPSHIM_MAX_BUFFERED_RX_BYTES="
				    "18446744073709551615",
				    "TAPSHIM_MAX_BUFFERED_TX_BYTES="
				    "18446744073709551614", NULL };
	static const char	*over[] = {
				    "TAPSHIM_MAX_BUFFERED_RX_BYTES="
				    "18446744073709551616", NULL };
	struct conf		 c;

	read_ok(&c, v);
	ck_assert(c.max_rx == UINT64_MAX);
	ck_assert(c.max_tx == UINT64_MAX - 1);
	read_bad(over, "TAPSHIM_MAX_BUFFERED_RX_BYTES");
}
END_TEST

/* TAPSHIM_LOG: absolute; read even when a later variable is bad. */
START_TEST(test_log)
{
	static const char	*abs[] = { "TAPSHIM_LOG=/tmp/l.log", NULL };
	static const char	*rel[] = { "TAPSHIM_LOG=l.log", NULL };
	static const char	*bad[] = { "TAPSHIM_LOG=/tmp/l.log",
				    "TAPSHIM_DEBUG=yes", NULL };
	static const char	*dir[] = { "TAPSHIM_LOG=/tmp/", NULL };
	struct conf		 c;
	char			 errbuf[CONF_ERRBUF_SIZE], cwd[PATH_MAX];
	char			 want[PATH_MAX + 8];

	read_ok(&c, abs);
	ck_assert_str_eq(c.log, "/tmp/l.log");
	read_ok(&c, rel);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/l.log", cwd);
	ck_assert_str_eq(c.log, want);
	env = bad;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), -1);
	ck_assert_str_eq(c.log, "/tmp/l.log");
	read_bad(dir, "TAPSHIM_LOG: \"/tmp/\" names a directory");
}
END_TEST

START_TEST(test_debug)
{
	static const char	*on[] = { "TAPSHIM_DEBUG=1", NULL };
	static const char	*off[] = { "TAPSHIM_DEBUG=0", NULL };
	struct conf		 c;

	read_ok(&c, on);
	ck_assert_int_eq(c.debug, 1);
	read_ok(&c, off);
	ck_assert_int_eq(c.debug, 0);
}
END_TEST

/* Each bad value: the message names the variable. */
START_TEST(test_bad)
{
	static const char	*bad[][2] = {
		{ "TAPSHIM_FORMAT=PROTO_TEXT", "TAPSHIM_FORMAT: \"PROTO_TEXT\"" },
		{ "TAPSHIM_FORMAT=json", "TAPSHIM_FORMAT" },
		{ "TAPSHIM_FORMAT=", "TAPSHIM_FORMAT" },
		{ "TAPSHIM_MAX_BUFFERED_RX_BYTES=-1",
		    "TAPSHIM_MAX_BUFFERED_RX_BYTES: \"-1\" is not a byte count" },
		{ "TAPSHIM_MAX_BUFFERED_TX_BYTES=12Q",
		    "TAPSHIM_MAX_BUFFERED_TX_BYTES" },
		{ "TAPSHIM_MAX_BUFFERED_TX_BYTES=1KB",
		    "TAPSHIM_MAX_BUFFERED_TX_BYTES" },
		{ "TAPSHIM_MAX_BUFFERED_RX_BYTES=99999999999999999999",
		    "TAPSHIM_MAX_BUFFERED_RX_BYTES" },
		{ "TAPSHIM_MAX_BUFFERED_RX_BYTES=20000000000G",
		    "TAPSHIM_MAX_BUFFERED_RX_BYTES" },
		{ "TAPSHIM_MAX_BUFFERED_RX_BYTES=", "TAPSHIM_MAX_BUFFERED_RX" },
		{ "TAPSHIM_DEBUG=yes", "TAPSHIM_DEBUG: \"yes\"" },
		{ "TAPSHIM_PATH_PREFIX=", "TAPSHIM_PATH_PREFIX" },
		{ "TAPSHIM_PATH_PREFIX=/tmp/dir/", "TAPSHIM_PATH_PREFIX" },
		{ "TAPSHIM_FILTER=port 80",
		    "TAPSHIM_FILTER: not a BPF program" },
		{ "TAPSHIM_FILTER=1,40 0 0 12",
		    "TAPSHIM_FILTER: the last instruction is not a return" },
		{ "TAPSHIM_RUN=run.state", "TAPSHIM_RUN: \"run.state\"" }
	};
	const char	*vars[2] = { NULL, NULL };

	vars[0] = bad[_i][0];
	read_bad(vars, bad[_i][1]);
}
END_TEST

START_TEST(test_filter_run)
{
	static const char	*vars[] = { "TAPSHIM_FILTER=2\n40 0 0 12\n"
				    "6 0 0 65535\n", "TAPSHIM_RUN=/tmp/r/run",
				    NULL };
	static const char	*none[] = { NULL };
	static struct conf	 c;

	read_ok(&c, vars);
	ck_assert_int_eq(c.has_filter, 1);
	ck_assert_uint_eq(c.filter.n, 2);
	ck_assert_uint_eq(c.filter.insn[1].k, 65535);
	ck_assert_str_eq(c.run, "/tmp/r/run");
	read_ok(&c, none);
	ck_assert_int_eq(c.has_filter, 0);
	ck_assert_str_eq(c.run, "");
}
END_TEST

START_TEST(test_prefix_too_long)
{
	static char	 v[PATH_MAX + 64];
	const char	*vars[] = { v, NULL };

	memset(v, 'a', sizeof v - 1);
	memcpy(v, "TAPSHIM_PATH_PREFIX=/", 21);
	read_bad(vars, "TAPSHIM_PATH_PREFIX: too long");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("env");

	check_add_tests(tc, test_defaults, test_prefix, test_formats,
	    test_bytes, test_bytes_max, test_log, test_debug, NULL);
	tcase_add_loop_test(tc, test_bad, 0, 15);
	check_add_tests(tc, test_filter_run, test_prefix_too_long, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { conf_suite, NULL };
