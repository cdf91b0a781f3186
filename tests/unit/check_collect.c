/* Check suite for the collector (tools/lib) and its client (shim/writer). */

#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "collect.h"
#include "collector.h"
#include "ring.h"

static char	tmpdir[64];
static char	prefix[PATH_MAX];

static void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check_collect.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(prefix, sizeof prefix, "%s/t", tmpdir);
}

static void
teardown(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The whole of trace file n, NUL-terminated, in buf. */
static ssize_t
slurp(uint64_t n, char *buf, size_t size)
{
	char	path[PATH_MAX + 32];
	ssize_t	got;
	int	fd;

	snprintf(path, sizeof path, "%s_%llu.pb", prefix,
	    (unsigned long long)n);
	if ((fd = open(path, O_RDONLY)) == -1)
		return (-1);
	got = read(fd, buf, size - 1);
	close(fd);
	if (got >= 0)
		buf[got] = '\0';
	return (got);
}

/* Serve until pid is reaped and its ring retired; its wait status. */
static int
serve(struct collector *c, pid_t pid)
{
	char	errbuf[COLLECTOR_ERRBUF_SIZE];
	int	status = -1, reaped = 0, i;

	for (i = 0; i < 2000 && (!reaped || collector_live(c) > 0); i++) {
		ck_assert_int_ge(collector_step(c, 5, errbuf), 0);
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid)
			reaped = 1;
	}
	ck_assert(reaped);
	ck_assert_uint_eq(collector_live(c), 0);
	return (status);
}

/* A process's records become its trace files, in order, 0600. */
START_TEST(test_files)
{
	struct collector_stats	 st;
	struct collector	*c;
	struct stat		 sb;
	char			 errbuf[COLLECTOR_ERRBUF_SIZE], buf[256];
	char			 path[PATH_MAX + 32];
	pid_t			 pid;
	int			 status;

	c = collector_open(prefix, CONF_FORMAT_BINARY, 0, errbuf);
	ck_assert_msg(c != NULL, "%s", errbuf);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ring	*r;
		size_t		 len;

		if ((r = collect_attach(collector_name(c), &len)) == NULL)
			_exit(2);
		if (ring_put(r, RING_DATA, 5, "hello", 5) != 0 ||
		    ring_put(r, RING_DATA, 9, "x", 1) != 0 ||
		    ring_put(r, RING_DATA, 5, " world", 6) != 0 ||
		    ring_put(r, RING_END, 5, NULL, 0) != 0)
			_exit(3);
		_exit(0);
	}
	status = serve(c, pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	collector_close(c, &st);
	ck_assert_int_eq(slurp(5, buf, sizeof buf), 11);
	ck_assert_str_eq(buf, "hello world");
	ck_assert_int_eq(slurp(9, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "x");
	snprintf(path, sizeof path, "%s_5.pb", prefix);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.processes, 1);
	ck_assert_uint_eq(st.files, 2);
	ck_assert_uint_eq(st.records, 3);
	ck_assert_uint_eq(st.bytes, 12);
	ck_assert_uint_eq(st.partial, 0);
}
END_TEST

/*
 * A process killed by SIGKILL: what it copied into its ring is written
 * after its death; the record it had not finished is counted, not
 * written.
 */
START_TEST(test_killed)
{
	struct collector_stats	 st;
	struct collector	*c;
	char			 errbuf[COLLECTOR_ERRBUF_SIZE], buf[4096];
	pid_t			 pid;
	int			 status;

	c = collector_open(prefix, CONF_FORMAT_BINARY, 0, errbuf);
	ck_assert_msg(c != NULL, "%s", errbuf);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ring_slot	 slot;
		struct ring		*r;
		size_t			 len;
		int			 i;

		if ((r = collect_attach(collector_name(c), &len)) == NULL)
			_exit(2);
		for (i = 0; i < 100; i++)
			(void)ring_put(r, RING_DATA, 1, "0123456789", 10);
		(void)ring_reserve(r, RING_DATA, 1, 50, &slot);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	status = serve(c, pid);
	ck_assert(WIFSIGNALED(status));
	collector_close(c, &st);
	ck_assert_int_eq(slurp(1, buf, sizeof buf), 1000);
	ck_assert_uint_eq(st.records, 100);
	ck_assert_uint_eq(st.partial, 1);
}
END_TEST

/* A process not of the run (reparented away) gets no ring. */
START_TEST(test_stranger)
{
	struct collector_stats	 st;
	struct collector	*c;
	char			 errbuf[COLLECTOR_ERRBUF_SIZE];
	pid_t			 pid;
	int			 status, p[2];

	c = collector_open(prefix, CONF_FORMAT_BINARY, 0, errbuf);
	ck_assert_msg(c != NULL, "%s", errbuf);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t	parent = getpid();
		size_t	len;
		char	ans;

		if (fork() != 0)
			_exit(0);
		while (getppid() == parent)
			usleep(1000);
		ans = collect_attach(collector_name(c), &len) == NULL ?
		    'n' : 'y';
		(void)write(p[1], &ans, 1);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	for (;;) {
		char	ans;
		ssize_t	n;

		(void)collector_step(c, 5, errbuf);
		n = read(p[0], &ans, 1);
		if (n == 1) {
			ck_assert_int_eq(ans, 'n');
			break;
		}
		ck_assert_int_ne(n, 0);
	}
	close(p[0]);
	collector_close(c, &st);
	ck_assert_uint_eq(st.refused, 1);
	ck_assert_uint_eq(st.processes, 0);
}
END_TEST

/* No collector there: no ring, at once, errno as it was. */
START_TEST(test_none)
{
	size_t	len;

	errno = EDOM;
	ck_assert_ptr_null(collect_attach("tapshim.no-such-collector", &len));
	ck_assert_int_eq(errno, EDOM);
}
END_TEST

static Suite *
collect_suite(void)
{
	Suite	*s = suite_create("collect");
	TCase	*tc = tcase_create("collect");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	check_add_tests(tc, test_files, test_killed, test_stranger, test_none,
	    NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { collect_suite, NULL };
