/* Check tests for tap2pcap's command line: run it, judge what it did. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracebuf.h"

#define PCAP_MAGIC_NSEC	0xa1b23c4dU	/* pcap-savefile, nanosecond times */
#define LINKTYPE_ETHER	1
#define LINKTYPE_RAW	101
#define RUN_MAX_ARGS	16

/* How run() sets up the child before it executes tap2pcap. */
#define RUN_NOBODY	0x1	/* drop root, so permissions apply */
#define RUN_FSIZE	0x2	/* files may grow to 4 KiB only */

/* What a run of tap2pcap did. */
struct result {
	int	 status;	/* exit status; 128 + signal if killed */
	char	*out;		/* standard output, NUL-terminated */
	size_t	 outlen;
	char	*err;		/* standard error, NUL-terminated */
};

static const char	*tool;		/* $TAP2PCAP */
static char		 base[32];	/* the run's; holds each test's top */
static char		 top[64];	/* the test's: capture files, w */
static char		 work[80];	/* the test's cwd: top/w */
static mode_t		 child_umask;
static struct result	 r;

/* Read a whole file into a NUL-terminated buffer. */
static char *
slurp(const char *path, size_t *len)
{
	char	*buf = NULL;
	size_t	 n = 0, got;
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	do {
		ck_assert_ptr_nonnull(buf = realloc(buf, n + 4097));
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return (buf);
}

/* Remove a directory and everything under it. */
static void
remove_dir(const char *path)
{
	char		 sub[512];
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		if (unlink(sub) == -1) {
			chmod(sub, 0700);
			remove_dir(sub);
		}
	}
	closedir(d);
	rmdir(path);
}

/* A fresh directory per test, and the test running inside it. */
static void
setup(void)
{
	snprintf(top, sizeof top, "%s/t.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(work, sizeof work, "%s/w", top);
	ck_assert_int_eq(mkdir(work, 0755), 0);
	ck_assert_int_eq(chdir(work), 0);
	child_umask = 022;
	memset(&r, 0, sizeof r);
}

/* Leave no trace of a test that passed; main() removes the rest. */
static void
teardown(void)
{
	free(r.out);
	free(r.err);
	if (chdir("/") == 0)
		remove_dir(top);
}

/* In the child: set up as asked, then become tap2pcap. */
static void
run_child(int how, char **argv)
{
	struct rlimit	rl = { 4096, 4096 };
	char		path[128];
	int		fd;

	snprintf(path, sizeof path, "%s/stdout", top);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1)
		_exit(125);
	snprintf(path, sizeof path, "%s/stderr", top);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1 ||
	    (fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		_exit(125);
	umask(child_umask);
	if ((how & RUN_FSIZE) && (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
	    setrlimit(RLIMIT_FSIZE, &rl) == -1))
		_exit(125);
	if ((how & RUN_NOBODY) && geteuid() == 0 && setuid(65534) == -1)
		_exit(125);
	execv(tool, argv);
	_exit(126);
}

/* Run tap2pcap with the arguments given (NULL-terminated) into r. */
static void
run(int how, ...)
{
	char	*argv[RUN_MAX_ARGS], path[128];
	va_list	 ap;
	pid_t	 pid;
	int	 argc = 0, st;

	argv[argc++] = (char *)"tap2pcap";
	va_start(ap, how);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		ck_assert_int_lt(++argc, RUN_MAX_ARGS);
	va_end(ap);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		run_child(how, argv);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	free(r.out);
	free(r.err);
	snprintf(path, sizeof path, "%s/stdout", top);
	r.out = slurp(path, &r.outlen);
	snprintf(path, sizeof path, "%s/stderr", top);
	r.err = slurp(path, NULL);
	ck_assert_msg(r.status != 125 && r.status != 126, "cannot run %s",
	    tool);
}

/* The names in the test's directory, sorted, space-separated. */
static const char *
listing(void)
{
	static char	  buf[1024];
	struct dirent	**names;
	size_t		  len = 0;
	int		  i, n;

	buf[0] = '\0';
	ck_assert_int_ge(n = scandir(".", &names, NULL, alphasort), 0);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.' && len < sizeof buf)
			len += (size_t)snprintf(buf + len, sizeof buf - len,
			    "%s%s", len ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return (buf);
}

/* Save a small good trace as path. */
static void
write_good(const char *path)
{
	struct tracebuf	tb;

	tb_init(&tb);
	tb_begin(&tb, TB_BUFFERED);
	tb_uint(&tb, 1, 1);
	tb_conn(&tb, 2, "10.0.0.1", 40000, "10.0.0.2", 80);
	tb_event(&tb, 3, 1700000000, 0, TB_WRITE, "GET / HTTP/1.0\r\n\r\n", 18);
	tb_event(&tb, 3, 1700000000, 5000, TB_READ, "HTTP/1.0 200 OK\r\n", 17);
	tb_event(&tb, 3, 1700000001, 0, TB_CLOSED, NULL, 0);
	tb_end(&tb);
	ck_assert_int_eq(tb_write_file(&tb, path), 0);
	tb_free(&tb);
}

/* Save a trace with a bad port as path; return the offset to blame. */
static size_t
write_bad(const char *path)
{
	struct tracebuf	tb;
	size_t		at;

	tb_init(&tb);
	tb_begin(&tb, TB_BUFFERED);
	tb_begin(&tb, 2);
	at = tb.len + 2;
	tb_inet(&tb, 1, TB_TCP, "10.0.0.1", 70000);
	tb_end(&tb);
	tb_event(&tb, 3, 1, 0, TB_WRITE, "x", 1);
	tb_end(&tb);
	ck_assert_int_eq(tb_write_file(&tb, path), 0);
	tb_free(&tb);
	return (at);
}

/*
 * Check a capture of write_good()'s trace: a nanosecond pcap header
 * (pcap-savefile: host byte order), then whole records whose times are
 * the trace's, to the nanosecond.
 */
static void
pcap_is_good(const char *p, size_t n, uint32_t linktype)
{
	uint32_t	magic, link, rec[4];
	uint16_t	version[2];
	size_t		off, packets = 0;
	int		nsec_seen = 0;

	ck_assert_uint_ge(n, 24);
	memcpy(&magic, p, 4);
	memcpy(version, p + 4, 4);
	memcpy(&link, p + 20, 4);
	ck_assert_uint_eq(magic, PCAP_MAGIC_NSEC);
	ck_assert_uint_eq(version[0], 2);
	ck_assert_uint_eq(version[1], 4);
	ck_assert_uint_eq(link, linktype);
	for (off = 24; off + sizeof rec <= n; packets++) {
		memcpy(rec, p + off, sizeof rec);
		if (packets == 0)
			ck_assert_uint_eq(rec[0], 1700000000);
		ck_assert_uint_lt(rec[1], 1000000000);
		ck_assert_uint_le(rec[2], rec[3]);
		nsec_seen |= rec[1] == 5000;
		off += sizeof rec + rec[2];
	}
	ck_assert_uint_eq(off, n);
	ck_assert_uint_ge(packets, 4);
	ck_assert_int_eq(nsec_seen, 1);
}

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
	ck_assert_uint_eq(st.st_mode & 07777, 0666 & ~masks[_i]);
	ck_assert_str_eq(listing(), "out.pcap t.pb");
}
END_TEST

/* All of tap2pcap's command-line tests. */
static Suite *
cli_suite(void)
{
	Suite	*s = suite_create("cli");
	TCase	*tc = tcase_create("tap2pcap");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_help, 0, 2);
	tcase_add_loop_test(tc, test_version, 0, 2);
	tcase_add_loop_test(tc, test_usage_error, 0,
	    (int)(sizeof usage_cases / sizeof usage_cases[0]));
	tcase_add_test(tc, test_missing_input);
	tcase_add_test(tc, test_damaged_input);
	tcase_add_test(tc, test_empty_input);
	tcase_add_test(tc, test_damaged_second);
	tcase_add_test(tc, test_output_kept);
	tcase_add_loop_test(tc, test_output_is_input, 0, 2);
	tcase_add_loop_test(tc, test_output_dir, 0, 2);
	tcase_add_test(tc, test_write_error);
	tcase_add_loop_test(tc, test_stdout, 0, 2);
	tcase_add_test(tc, test_envoy_form);
	tcase_add_loop_test(tc, test_mode, 0, 4);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if ((tool = getenv("TAP2PCAP")) == NULL || *tool == '\0') {
		fprintf(stderr, "check_cli: TAP2PCAP is not set; skipped\n");
		return (77);
	}
	snprintf(base, sizeof base, "/tmp/check_cli.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("check_cli: mkdtemp");
		return (EXIT_FAILURE);
	}
	/* Tests run in ro/ as nobody: the way there must be open. */
	chmod(base, 0755);
	sr = srunner_create(cli_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (chdir("/") == 0)
		remove_dir(base);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
