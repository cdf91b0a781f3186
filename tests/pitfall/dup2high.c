/*
 * Pitfall 8 (dup2 onto the shim's fds): the program dup2()s a file of
 * its own over the high fd numbers where the shim keeps its trace files
 * (1000-1023, and the top 64 below RLIMIT_NOFILE), forks, and goes on
 * with traced traffic. The file must hold only the program's bytes and
 * every fd the program made must stay open, in the child too.
 */

#define _GNU_SOURCE

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

#define DUP_MAX		128

static int	 high_fds(int *, int);
static int	 child_check(const int *, int);
static void	 run_dup(const char *);
static void	*race_dup(void *);
static void	 run_race(const char *, int);

static int		 race_file;
static int		 race_fds[DUP_MAX];
static int		 race_nfds;
static volatile int	 race_stop;

/* The numbers to take: 1000-1023, and the 64 just below the fd limit. */
static int
high_fds(int *fds, int avoid)
{
	struct rlimit	rl;
	long		top = 1024, fd;
	int		n = 0, i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		top = (long)rl.rlim_cur;
	for (fd = 1000; fd < 1024 && fd < top; fd++)
		if (fd != avoid)
			fds[n++] = (int)fd;
	for (fd = top - 64; fd < top; fd++) {
		if (fd < 3 || fd == avoid)
			continue;
		for (i = 0; i < n && fds[i] != fd; i++)
			;
		if (i == n && n < DUP_MAX)
			fds[n++] = (int)fd;
	}
	return (n);
}

/* In a forked child: are all the program's fds still open? */
static int
child_check(const int *fds, int n)
{
	pid_t	pid;
	int	i, st, closed = 0;

	fflush(stdout);
	if ((pid = fork()) == -1)
		pit_die("fork");
	if (pid == 0) {
		for (i = 0; i < n; i++)
			if (fcntl(fds[i], F_GETFD) == -1)
				closed++;
		_exit(closed > 100 ? 100 : closed);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		pit_die("child did not exit");
	return (WEXITSTATUS(st));
}

/* dup: take the numbers with dup2 (and one dup3), fork, carry on. */
static void
run_dup(const char *path)
{
	struct pit_log	l1, l2;
	char		line[64];
	int		fds[DUP_MAX], n, i, s, s2, f, port = pit_port();

	s = pit_connect(port);
	pit_log_init(&l1, s);
	pit_echo(s, &l1, 8000, 21, PIT_RW);
	if ((f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		pit_die("%s", path);
	pit_write_file(f, "program start\n");
	n = high_fds(fds, f);
	for (i = 0; i < n; i++) {
		if ((i == 0 ? dup3(f, fds[i], O_CLOEXEC) : dup2(f, fds[i])) !=
		    fds[i])
			pit_die("dup2 onto %d", fds[i]);
	}
	printf("dup2high: %d fds taken, %d closed in a forked child\n", n,
	    child_check(fds, n));
	pit_echo(s, &l1, 30000, 22, PIT_SENDRECV);
	s2 = pit_connect(port);
	pit_log_init(&l2, s2);
	pit_echo(s2, &l2, 20000, 23, PIT_VEC);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof line, "program line through fd %d\n",
		    fds[i]);
		pit_write_file(fds[i], line);
	}
	pit_echo(s, &l1, 4000, 24, PIT_MSG);
	pit_drain(s, &l1);
	pit_drain(s2, &l2);
	close(s);
	close(s2);
	for (i = 0; i < n; i++)
		if (close(fds[i]) == -1)
			pit_die("close %d", fds[i]);
	pit_write_file(f, "program end\n");
	close(f);
	pit_log_save(&l1);
	pit_log_save(&l2);
	printf("dup2high: done\n");
}

/* The racing thread: dup2 the file over the high numbers, close them. */
static void *
race_dup(void *arg)
{
	int	i;

	(void)arg;
	while (!race_stop) {
		for (i = 0; i < race_nfds; i++)
			(void)dup2(race_file, race_fds[i]);
		for (i = 0; i < race_nfds; i++)
			(void)close(race_fds[i]);
	}
	return (NULL);
}

/*
 * race: one thread keeps dup2()ing the (otherwise unwritten) file over
 * the high numbers while this one streams traced traffic for a while.
 */
static void
run_race(const char *path, int msecs)
{
	struct pit_log	l;
	struct timespec	t0, t;
	pthread_t	th;
	int		s, rounds = 0;

	s = pit_connect(pit_port());
	pit_log_init(&l, s);
	if ((race_file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) ==
	    -1)
		pit_die("%s", path);
	race_nfds = high_fds(race_fds, race_file);
	if (pthread_create(&th, NULL, race_dup, NULL) != 0)
		pit_die("pthread_create");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		pit_echo(s, NULL, 4096 + (size_t)(rounds % 7) * 1000,
		    (unsigned int)rounds, PIT_RW);
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000 < msecs);
	race_stop = 1;
	pthread_join(th, NULL);
	close(s);
	close(race_file);
	printf("dup2high race: done\n");
}

/* dup2high dup FILE | dup2high race FILE MSECS */
int
main(int argc, char *argv[])
{
	pit_setprog("dup2high");
	if (argc >= 3 && strcmp(argv[1], "dup") == 0)
		run_dup(argv[2]);
	else if (argc >= 4 && strcmp(argv[1], "race") == 0)
		run_race(argv[2], atoi(argv[3]));
	else
		pit_die("usage: dup2high dup FILE | dup2high race FILE MSECS");
	return (0);
}
