/* Running the traced program and waiting for it, as a shell would. */

#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "msg.h"

/* The program, for the signals the launcher passes on. */
static volatile pid_t	launch_child;

/* Pass a signal meant for us (kill, a hangup) on to the program. */
static void
launch_forward(int sig)
{
	if (launch_child > 0)
		kill(launch_child, sig);
}

/*
 * While the program runs, a terminal's ^C and ^\ reach it (and us): the
 * launcher ignores them, as system(3) does, so it lives to sum up; TERM
 * and HUP sent to the launcher alone go on to the program.
 */
static void
launch_signals(int on)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? SIG_IGN : SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = on ? launch_forward : SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* In the child: become the program, or report errno down the pipe. */
static void
launch_child_exec(char **argv, int fd)
{
	int	err;

	launch_signals(0);
	execvp(argv[0], argv);
	err = errno;
	(void)write(fd, &err, sizeof err);
	_exit(err == ENOENT ? LAUNCH_NOT_FOUND : LAUNCH_CANNOT_RUN);
}

/*
 * Run argv (searched along $PATH) with the environment as it is now and
 * wait for it. Returns its exit status, 128 + the signal that killed it,
 * or 126 / 127 when it could not be run (said on stderr; *ran is 0).
 */
int
launch_run(char **argv, int *ran)
{
	pid_t	pid;
	int	p[2], st, err = 0;
	ssize_t	n;

	if (pipe2(p, O_CLOEXEC) == -1) {
		msg_err("pipe: %s", strerror(errno));
		return (LAUNCH_CANNOT_RUN);
	}
	*ran = 0;
	launch_signals(1);
	if ((pid = fork()) == -1) {
		msg_err("fork: %s", strerror(errno));
		launch_signals(0);
		return (LAUNCH_CANNOT_RUN);
	}
	if (pid == 0)
		launch_child_exec(argv, p[1]);
	launch_child = pid;
	close(p[1]);
	while ((n = read(p[0], &err, sizeof err)) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (n == (ssize_t)sizeof err)
		msg_err("%s: %s", argv[0], strerror(err));
	else
		*ran = 1;
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			st = LAUNCH_CANNOT_RUN << 8;
			break;
		}
	}
	launch_child = 0;
	launch_signals(0);
	if (WIFSIGNALED(st))
		return (128 + WTERMSIG(st));
	return (WEXITSTATUS(st));
}
