/* The harness of tap2pcap's command-line tests: run it, judge its files. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "clicheck.h"
#include "tracebuf.h"

const char	*tool;		/* $TAP2PCAP */
char		 base[32];	/* the run's; holds each test's top */
char		 top[64];	/* the test's: capture files, w */
char		 work[80];	/* the test's cwd: top/w */
mode_t		 child_umask;
struct result	 r;

/* Read a whole file into a NUL-terminated buffer. */
char *
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
void
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
void
cli_setup(void)
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
void
cli_teardown(void)
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
void
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
const char *
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
void
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
size_t
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
void
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

/*
 * Before the command-line tests, each run in a directory of its own
 * under a fresh one in /tmp: make that one; 77 (skipped) when $TAP2PCAP
 * is not set.
 */
int
check_begin(const char *name)
{
	if ((tool = getenv("TAP2PCAP")) == NULL || *tool == '\0') {
		fprintf(stderr, "%s: TAP2PCAP is not set; skipped\n", name);
		return (77);
	}
	snprintf(base, sizeof base, "/tmp/check_cli.XXXXXX");
	if (mkdtemp(base) == NULL) {
		fprintf(stderr, "%s: mkdtemp: %s\n", name, strerror(errno));
		return (EXIT_FAILURE);
	}
	/* Tests run in ro/ as nobody: the way there must be open. */
	chmod(base, 0755);
	return (0);
}

/* After them: remove it. */
void
check_end(void)
{
	if (chdir("/") == 0)
		remove_dir(base);
}
