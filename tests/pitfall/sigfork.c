/*
 * Pitfalls 5 and 6 together: a SIGALRM handler writes to traced sockets
 * (more of them than the shim keeps trace files open, so some writes
 * need a file back) while the main thread forks again and again. A
 * signal that lands between fork's prepare and parent handlers runs the
 * handler with the shim's fork-time locks held by its own thread.
 */

#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

#define NCONN	12
#define FORKS	200

static void	on_alarm(int);
static void	drain_all(void);

static int			conns[NCONN];
static unsigned char		payload[4096];
static volatile sig_atomic_t	next_conn, writes;

/* The handler: 4 KiB (written out at once by the shim) to the next socket. */
static void
on_alarm(int sig)
{
	int	saved = errno, i = next_conn;

	(void)sig;
	next_conn = (i + 1) % NCONN;
	if (send(conns[i], payload, sizeof payload, MSG_DONTWAIT) > 0)
		writes++;
	errno = saved;
}

/* Read whatever the echo server sent back, without waiting. */
static void
drain_all(void)
{
	unsigned char	buf[65536];
	int		i;

	for (i = 0; i < NCONN; i++)
		while (recv(conns[i], buf, sizeof buf, MSG_DONTWAIT) > 0)
			;
}

/* sigfork: prints how many forks and handler writes there were. */
int
main(void)
{
	struct sigaction	sa;
	struct itimerval	it;
	pid_t			pid;
	int			i, st;

	pit_setprog("sigfork");
	pit_fill(payload, sizeof payload, 91, 0);
	for (i = 0; i < NCONN; i++) {
		conns[i] = pit_connect(pit_port());
		pit_echo(conns[i], NULL, 100, 92, PIT_RW);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof it);
	it.it_interval.tv_usec = 500;
	it.it_value.tv_usec = 500;
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < FORKS; i++) {
		if ((pid = fork()) == -1)
			pit_die("fork");
		if (pid == 0)
			_exit(0);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		drain_all();
	}
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < NCONN; i++)
		close(conns[i]);
	printf("sigfork: %d forks, %s handler writes\n", FORKS,
	    writes > 0 ? "some" : "no");
	return (0);
}
