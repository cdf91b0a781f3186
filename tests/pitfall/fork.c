/*
 * Pitfall 5 (fork): parent and child each make a connection of their
 * own, and the child also uses a socket it got from the parent. Each
 * process's use of each socket must be a distinct, complete trace with
 * that process's pid.
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pit.h"

static void	child(int, int);
static void	save_pid(void);

/* Tell the script the child's pid: $PIT_EXP/child.pid. */
static void
save_pid(void)
{
	const char	*dir = getenv("PIT_EXP");
	char		 path[4096];
	FILE		*f;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof path, "%s/child.pid", dir);
	if ((f = fopen(path, "w")) == NULL)
		pit_die("%s", path);
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/* The child: a connection of its own, and the parent's socket. */
static void
child(int port, int p)
{
	struct pit_log	lc, lp;
	int		c;

	c = pit_connect(port);
	pit_log_init(&lc, c);
	pit_log_init(&lp, p);
	pit_echo(c, &lc, 4000, 32, PIT_SENDRECV);
	pit_echo(p, &lp, 2500, 33, PIT_RW);
	pit_echo(c, &lc, 700, 34, PIT_VEC);
	pit_drain(c, &lc);
	close(c);
	pit_echo(p, &lp, 300, 35, PIT_MSG);
	close(p);
	pit_log_save(&lc);
	pit_log_save(&lp);
	save_pid();
	exit(0);
}

/* fork: prints the child's exit status and "done". */
int
main(void)
{
	struct pit_log	lp, l2;
	pid_t		pid;
	int		p, p2, st, port;

	pit_setprog("fork");
	port = pit_port();
	p = pit_connect(port);
	pit_log_init(&lp, p);
	pit_echo(p, &lp, 3000, 31, PIT_RW);
	fflush(stdout);
	if ((pid = fork()) == -1)
		pit_die("fork");
	if (pid == 0) {
		pit_log_free(&lp);
		child(port, p);
	}
	if (waitpid(pid, &st, 0) == -1)
		pit_die("waitpid");
	pit_echo(p, &lp, 1000, 36, PIT_RW);
	p2 = pit_connect(port);
	pit_log_init(&l2, p2);
	pit_echo(p2, &l2, 6000, 37, PIT_SENDRECV);
	pit_drain(p2, &l2);
	close(p2);
	pit_drain(p, &lp);
	close(p);
	pit_log_save(&lp);
	pit_log_save(&l2);
	printf("fork: child exit status %d; done\n",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return (0);
}
