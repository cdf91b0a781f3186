/* Check tests for trace files: naming, contention, symlinks, fd safety. */

#include "config.h"

#include <sys/resource.h>
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

/* Names count up from 0; mode 0600; the fd is high and close-on-exec. */
START_TEST(test_create)
{
	struct tracefile	tf;
	struct stat		st;
	struct rlimit		rl;
	int			i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
		ck_assert_uint_eq(tf.n, (uint64_t)i);
		ck_assert_int_eq(stat(path_of(tf.n), &st), 0);
		ck_assert_uint_eq(st.st_mode & 0777, 0600);
		ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
		ck_assert_int_ge(tf.fd, (int)(rl.rlim_cur > 65536 ? 65536 :
		    rl.rlim_cur) - 64);
		ck_assert_int_eq(fcntl(tf.fd, F_GETFD) & FD_CLOEXEC,
		    FD_CLOEXEC);
		ck_assert_int_eq(tracefile_is_ours(&tf), 1);
		tracefile_close(&tf);
	}
	c.format = CONF_FORMAT_DELIMITED;
	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	ck_assert_int_eq(access(path_of(tf.n), F_OK), 0);
	ck_assert_ptr_nonnull(strstr(path_of(tf.n), "_3.pb_length_delimited"));
	tracefile_close(&tf);
}
END_TEST

/* Processes creating files at once take every number exactly once. */
START_TEST(test_contention)
{
	enum { PROCS = 4, EACH = 25 };
	struct tracefile	tf;
	int			i, j, status;
	pid_t			pid;

	for (i = 0; i < PROCS; i++) {
		if ((pid = fork()) == 0) {
			for (j = 0; j < EACH; j++) {
				if (tracefile_create(&c, &tf, errbuf) == -1)
					_exit(1);
				if (dprintf(tf.fd, "%d\n", (int)getpid()) < 0)
					_exit(1);
				tracefile_close(&tf);
			}
			_exit(0);
		}
		ck_assert_int_gt(pid, 0);
	}
	for (i = 0; i < PROCS; i++) {
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (i = 0; i < PROCS * EACH; i++) {
		struct stat	st;

		ck_assert_msg(stat(path_of((uint64_t)i), &st) == 0,
		    "%s missing", path_of((uint64_t)i));
		ck_assert_int_gt(st.st_size, 0);
	}
	ck_assert_int_eq(access(path_of(PROCS * EACH), F_OK), -1);
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
	ck_assert_int_eq(write(tf.fd, "trace", 5), 5);
	tracefile_close(&tf);
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

/* After a dup2 over the trace fd, nothing is written to the new file. */
START_TEST(test_dup2_over)
{
	struct tracefile	 tf;
	struct iovec		 iov = { "chunk", 5 };
	char			 other[PATH_MAX];
	struct stat		 st;
	int			 fd;

	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	snprintf(other, sizeof other, "%s/program-file", dir);
	fd = open(other, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, tf.fd), tf.fd);
	close(fd);
	ck_assert_int_eq(tracefile_is_ours(&tf), 0);
	ck_assert_int_eq(tracefile_writev(&tf, &iov, 1), -1);
	ck_assert_int_eq(errno, ESTALE);
	ck_assert_int_eq(stat(other, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	/* The program's fd at that number is left open. */
	fd = tf.fd;
	tracefile_close(&tf);
	ck_assert_int_eq(tf.fd, -1);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	close(fd);
	/* The trace is reopened by name. */
	ck_assert_int_eq(tracefile_reopen(&c, &tf), 0);
	iov.iov_base = "chunk";
	iov.iov_len = 5;
	ck_assert_int_eq(tracefile_writev(&tf, &iov, 1), 5);
	ck_assert_int_eq(stat(path_of(0), &st), 0);
	ck_assert_int_eq(st.st_size, 5);
	tracefile_close(&tf);
}
END_TEST

/* A file put in place of the trace (or a symlink) is not reopened. */
START_TEST(test_replaced)
{
	struct tracefile	tf;
	char			other[PATH_MAX];
	int			fd;

	ck_assert_int_eq(tracefile_create(&c, &tf, errbuf), 0);
	tracefile_close(&tf);
	snprintf(other, sizeof other, "%s/other", dir);
	fd = open(other, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(rename(other, path_of(0)), 0);
	ck_assert_int_eq(tracefile_reopen(&c, &tf), -1);
	ck_assert_int_eq(errno, ESTALE);
	ck_assert_int_eq(tf.fd, -1);
	ck_assert_int_eq(unlink(path_of(0)), 0);
	ck_assert_int_eq(symlink(other, path_of(0)), 0);
	ck_assert_int_eq(tracefile_reopen(&c, &tf), -1);
	ck_assert_int_eq(errno, ELOOP);
}
END_TEST

/* A write cut short by the file size limit is taken back whole. */
START_TEST(test_short_write)
{
	static char		 big[8192];
	struct tracefile	 tf;
	struct iovec		 iov[2];
	struct rlimit		 rl = { 4096, 4096 };
	struct stat		 st;
	int			 status;
	pid_t			 pid;

	if ((pid = fork()) == 0) {
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1 ||
		    tracefile_create(&c, &tf, errbuf) == -1)
			_exit(1);
		iov[0].iov_base = big;
		iov[0].iov_len = 1000;
		if (tracefile_writev(&tf, iov, 1) != 1000)
			_exit(2);
		iov[0].iov_base = big;
		iov[0].iov_len = 2000;
		iov[1].iov_base = big;
		iov[1].iov_len = 2000;
		if (tracefile_writev(&tf, iov, 2) != -1 || errno != EFBIG)
			_exit(3);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(stat(path_of(0), &st), 0);
	ck_assert_int_eq(st.st_size, 1000);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("tracefile");
	TCase	*tc = tcase_create("files");
	SRunner	*sr;
	int	 failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_contention);
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_bad_prefix);
	tcase_add_test(tc, test_dup2_over);
	tcase_add_test(tc, test_replaced);
	tcase_add_test(tc, test_short_write);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
