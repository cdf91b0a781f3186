/* Check tests for the shim's own writes: no SIGPIPE, no SIGXFSZ, own files. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "hostwrite.h"

/* Is sig pending for this thread or process? */
static int
pending(int sig)
{
	sigset_t	p;

	ck_assert_int_eq(sigpending(&p), 0);
	return (sigismember(&p, sig));
}

/* Is sig blocked on this thread? */
static int
blocked(int sig)
{
	sigset_t	m;

	ck_assert_int_eq(sigprocmask(SIG_BLOCK, NULL, &m), 0);
	return (sigismember(&m, sig));
}

/* A pipe with no reader: EPIPE, no SIGPIPE (default action: death). */
START_TEST(test_no_sigpipe)
{
	int	p[2];

	signal(SIGPIPE, SIG_DFL);
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_int_eq(hostwrite_write(p[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert(!pending(SIGPIPE));
	ck_assert(!blocked(SIGPIPE));
	close(p[1]);
}
END_TEST

/* A SIGPIPE the program had pending (blocked) stays pending. */
START_TEST(test_program_sigpipe_kept)
{
	sigset_t	set;
	int		p[2];

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	raise(SIGPIPE);
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_int_eq(hostwrite_write(p[1], "x", 1), -1);
	ck_assert(pending(SIGPIPE));
	ck_assert(blocked(SIGPIPE));
	close(p[1]);
}
END_TEST

/*
 * In a child of our own (Check's messages go to a file, which the limit
 * would stop too): under RLIMIT_FSIZE 10, 16 bytes are refused with
 * EFBIG, 10 written, 1 more refused; no SIGXFSZ. The exit status says
 * which step failed.
 */
static int
fsize_child(int fd)
{
	struct rlimit	rl = { 10, RLIM_INFINITY };
	struct stat	st;

	signal(SIGXFSZ, SIG_DFL);
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return (1);
	if (hostwrite_write(fd, "0123456789abcdef", 16) != -1 ||
	    errno != EFBIG)
		return (2);
	if (hostwrite_write(fd, "0123456789", 10) != 10)
		return (3);
	if (hostwrite_write(fd, "x", 1) != -1 || errno != EFBIG)
		return (4);
	if (fstat(fd, &st) == -1 || st.st_size != 10)
		return (5);
	return (0);
}

/* Past RLIMIT_FSIZE: EFBIG, nothing more written, no SIGXFSZ. */
START_TEST(test_no_sigxfsz)
{
	char	path[] = "/tmp/check_hostwrite.XXXXXX";
	pid_t	pid;
	int	fd, st;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	unlink(path);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0)
		_exit(fsize_child(fd));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(!WIFSIGNALED(st), "killed by signal %d", WTERMSIG(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	close(fd);
}
END_TEST

/* Own files: a symlink, a FIFO refused; a wide file made 0600. */
START_TEST(test_open)
{
	char		 dir[] = "/tmp/check_hostwrite.XXXXXX", p[64];
	const char	*why;
	struct stat	 st;
	int		 fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/link", dir);
	ck_assert_int_eq(symlink("target", p), 0);
	ck_assert_int_eq(hostwrite_open(p, &why), -1);
	ck_assert_str_eq(why, "is a symbolic link");
	unlink(p);
	snprintf(p, sizeof p, "%s/target", dir);
	ck_assert_int_eq(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert_int_eq(hostwrite_open(p, &why), -1);
	ck_assert_str_eq(why, "is not a regular file");
	unlink(p);
	snprintf(p, sizeof p, "%s/wide", dir);
	ck_assert_int_ne(fd = open(p, O_WRONLY | O_CREAT, 0644), -1);
	close(fd);
	ck_assert_int_eq(chmod(p, 0644), 0);
	ck_assert_int_ne(fd = hostwrite_open(p, &why), -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	unlink(p);
	snprintf(p, sizeof p, "%s/new", dir);
	ck_assert_int_ne(fd = hostwrite_open(p, &why), -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	close(fd);
	unlink(p);
	rmdir(dir);
}
END_TEST

static Suite *
hostwrite_suite(void)
{
	Suite	*s = suite_create("hostwrite");
	TCase	*tc = tcase_create("core");

	check_add_tests(tc, test_no_sigpipe, test_program_sigpipe_kept,
	    test_no_sigxfsz, test_open, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { hostwrite_suite, NULL };
