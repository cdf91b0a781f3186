/* Check tests for trace files: naming, contention, symlinks, windows, limits. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "tracefile.h"

static char		dir[] = "/tmp/check_tracefile.XXXXXX";
static struct conf	c;
static char		errbuf[TRACEFILE_ERRBUF_SIZE];

/* A fresh directory and a configuration writing t_<N>.pb into it. */
static void
setup(void)
{
	strcpy(dir, "/tmp/check_tracefile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&c, 0, sizeof c);
	snprintf(c.prefix, sizeof c.prefix, "%s/t", dir);
	c.format = CONF_FORMAT_BINARY;
}

/* Remove the directory and what is in it. */
static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The path of file n in dir. */
static const char *
path_of(uint64_t n)
{
	static char	p[PATH_MAX + 64];

	ck_assert_int_eq(tracefile_path(&c, n, p, sizeof p), 0);
	return (p);
}

/* Descriptors open in this process now. */
static int
fds_open(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return (n - 1);		/* the DIR's own */
}

/* How many mappings of file n this process has. */
static int
maps_of(uint64_t n)
{
	char	 line[PATH_MAX + 256];
	FILE	*f = fopen("/proc/self/maps", "r");
	int	 count = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL)
		count += strstr(line, path_of(n)) != NULL;
	fclose(f);
	return (count);
}

/* The size of file n. */
static off_t
size_of(uint64_t n)
{
	struct stat	st;

	ck_assert_int_eq(stat(path_of(n), &st), 0);
	return (st.st_size);
}

/*
 * Names count up from 0; mode 0600; the first window is mapped, the
 * file allocated to it, and no descriptor is kept; finishing cuts the
 * file to its length.
 */
START_TEST(test_create)
{
	struct tracefile	tf;
	struct stat		st;
	int			i, before = fds_open();

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
		ck_assert_uint_eq(tf.n, (uint64_t)i);
		ck_assert_int_eq(fds_open(), before);
		ck_assert_int_eq(stat(path_of(tf.n), &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
		ck_assert_ptr_nonnull(tf.map);
		ck_assert_uint_eq(tf.maplen, TRACEFILE_WINDOW_MIN);
		ck_assert_int_eq(st.st_size, TRACEFILE_WINDOW_MIN);
		memcpy(tf.map, "chunk", 5);
		ck_assert_int_eq(tracefile_finish(&c, &tf, 5, 0), 0);
		ck_assert_ptr_null(tf.map);
		ck_assert_int_eq(size_of(i), 5);
		ck_assert_int_eq(fds_open(), before);
	}
	c.format = CONF_FORMAT_DELIMITED;
	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	ck_assert_int_eq(access(path_of(tf.n), F_OK), 0);
	ck_assert_ptr_nonnull(strstr(path_of(tf.n), "_3.pb_length_delimited"));
	ck_assert_int_eq(tracefile_finish(&c, &tf, 0, 0), 0);
}
END_TEST

/* Processes creating files at once take every number exactly once. */
START_TEST(test_contention)
{
	enum { PROCS = 4, EACH = 25 };
	struct tracefile	tf;
	int			i, j, n, status;
	pid_t			pid;

	for (i = 0; i < PROCS; i++) {
		if ((pid = fork()) == 0) {
			for (j = 0; j < EACH; j++) {
				if (tracefile_create(&c, &tf, errbuf) == -1)
					_exit(1);
				n = snprintf((char *)tf.map, tf.maplen, "%d\n",
				    (int)getpid());
				if (tracefile_finish(&c, &tf, n, 0) == -1)
					_exit(1);
			}
			_exit(0);
		}
		ck_assert_int_gt(pid, 0);
	}
	for (i = 0; i < PROCS; i++) {
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (i = 0; i < PROCS * EACH; i++)
		ck_assert_int_gt(size_of((uint64_t)i), 0);
	ck_assert_int_eq(access(path_of(PROCS * EACH), F_OK), -1);
}
END_TEST

/* Past many existing traces the next free number is found (11.9). */
START_TEST(test_probe)
{
	struct tracefile	tf;
	int			i, fd;

	for (i = 0; i < 1000; i++) {
		fd = open(path_of((uint64_t)i), O_WRONLY | O_CREAT, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	ck_assert_uint_eq(tf.n, 1000);
	ck_assert_int_eq(tracefile_finish(&c, &tf, 0, 0), 0);
	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	ck_assert_uint_eq(tf.n, 1001);
	ck_assert_int_eq(tracefile_finish(&c, &tf, 0, 0), 0);
}
END_TEST

/* A symlink planted at the next name is skipped; its target untouched. */
START_TEST(test_symlink)
{
	struct tracefile	tf;
	char			victim[PATH_MAX], buf[16];
	int			fd;

	snprintf(victim, sizeof victim, "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	ck_assert_int_eq(symlink(victim, path_of(0)), 0);
	ck_assert_int_eq(symlink("/nonexistent/dangling", path_of(1)), 0);
	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	ck_assert_uint_eq(tf.n, 2);
	memcpy(tf.map, "trace", 5);
	ck_assert_int_eq(tracefile_finish(&c, &tf, 5, 0), 0);
	fd = open(victim, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 8);
	ck_assert_mem_eq(buf, "precious", 8);
	close(fd);
	ck_assert_int_eq(access("/nonexistent/dangling", F_OK), -1);
}
END_TEST

/* A prefix in a missing directory: a clear error naming the file. */
START_TEST(test_bad_prefix)
{
	struct tracefile	tf;
	char			want[PATH_MAX + 64];

	snprintf(c.prefix, sizeof c.prefix, "%s/missing/t", dir);
	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), -1);
	snprintf(want, sizeof want, "%s/missing/t_0.pb: %s", dir,
	    strerror(ENOENT));
	ck_assert_str_eq(errbuf, want);
}
END_TEST

/*
 * A record past the window gets a new one from the page holding its
 * start, holding it whole; only one window is mapped; what was written
 * before stays in the file.
 */
START_TEST(test_grow)
{
	struct tracefile	 tf;
	char			 buf[32];
	int			 fd, before = fds_open();

	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	memcpy(tf.map + 16000, "first", 5);
	ck_assert_int_eq(maps_of(0), 1);
	ck_assert_int_eq(tracefile_grow(&c, &tf, 16005, 5000), 0);
	ck_assert_int_eq(fds_open(), before);
	ck_assert_int_eq(tf.mapoff, 16005 & ~4095);
	ck_assert_int_ge(tf.mapoff + (off_t)tf.maplen, 21005);
	ck_assert_uint_eq(tf.maplen, 2 * TRACEFILE_WINDOW_MIN);
	ck_assert_int_eq(size_of(0), tf.mapoff + (off_t)tf.maplen);
	/* The old window is gone. */
	ck_assert_int_eq(maps_of(0), 1);
	memcpy(tf.map + (16005 - tf.mapoff), "second", 6);
	ck_assert_int_eq(tracefile_finish(&c, &tf, 16011, 0), 0);
	ck_assert_int_eq(size_of(0), 16011);
	fd = open(path_of(0), O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 11, 16000), 11);
	ck_assert_mem_eq(buf, "firstsecond", 11);
	close(fd);
}
END_TEST

/* A file put in place of the trace (or a symlink) is not reopened. */
START_TEST(test_replaced)
{
	struct tracefile	tf;
	char			other[PATH_MAX];
	struct stat		st;
	int			fd;

	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	snprintf(other, sizeof other, "%s/other", dir);
	fd = open(other, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(rename(other, path_of(0)), 0);
	ck_assert_int_eq(tracefile_grow(&c, &tf, 16384, 100), -1);
	ck_assert_int_eq(errno, ESTALE);
	ck_assert_int_eq(unlink(path_of(0)), 0);
	ck_assert_int_eq(symlink(other, path_of(0)), 0);
	ck_assert_int_eq(tracefile_grow(&c, &tf, 16384, 100), -1);
	ck_assert_int_eq(errno, ESTALE);
	/* Finishing leaves the impostor alone, and never follows it. */
	ck_assert_int_eq(tracefile_finish(&c, &tf, 10, 0), -1);
	ck_assert_ptr_null(tf.map);
	ck_assert_int_eq(lstat(path_of(0), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(access(other, F_OK), -1);
}
END_TEST

/*
 * Under RLIMIT_FSIZE the file never grows past it: a window is cut to
 * the limit, a record past it refused with EFBIG, and no SIGXFSZ (its
 * default action would kill this child) reaches the process.
 */
START_TEST(test_fsize)
{
	struct tracefile	 tf;
	struct rlimit		 rl = { 20000, 20000 };
	int			 status;
	pid_t			 pid;

	if ((pid = fork()) == 0) {
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1 ||
		    tracefile_create(&c, &tf, errbuf) == -1)
			_exit(1);
		if (tracefile_grow(&c, &tf, 16000, 2000) == -1)
			_exit(2);
		if (tf.mapoff + (off_t)tf.maplen != 20000)
			_exit(3);
		if (tracefile_grow(&c, &tf, 19000, 2000) != -1 ||
		    errno != EFBIG)
			_exit(4);
		if (tracefile_finish(&c, &tf, 19000, 0) == -1)
			_exit(5);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "killed by signal %d",
	    WTERMSIG(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(size_of(0), 19000);
}
END_TEST

/*
 * A forked child does not inherit the window (MADV_DONTFORK), and knows
 * it: the parent's trace is not mapped there, and cannot be grown.
 */
START_TEST(test_no_fork)
{
	struct tracefile	tf;
	int			status;
	pid_t			pid;

	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	ck_assert(tracefile_mapped(&tf));
	if ((pid = fork()) == 0) {
		tracefile_fork_child();		/* the shim's atfork handler */
		if (tracefile_mapped(&tf) ||
		    tracefile_grow(&c, &tf, 16384, 100) != -1 ||
		    errno != ESTALE)
			_exit(1);
		/* The fault is the test: not a sanitizer's report. */
		signal(SIGSEGV, SIG_DFL);
		tf.map[0] = 'x';
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	    "child status %d", status);
	ck_assert_int_eq(tracefile_finish(&c, &tf, 0, 0), 0);
}
END_TEST

static Suite *
tracefile_suite(void)
{
	Suite	*s = suite_create("tracefile");
	TCase	*tc = tcase_create("files");

	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_create, test_contention, test_probe,
	    test_symlink, test_bad_prefix, test_grow, test_replaced,
	    test_fsize, test_no_fork, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { tracefile_suite, NULL };
