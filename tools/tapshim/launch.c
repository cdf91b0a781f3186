/* Running the traced program and waiting for it, as a shell would. */

#include "config.h"

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "collect-run.h"
#include "launch.h"
#include "msg.h"

/* The program, for the signals the launcher passes on. */
static volatile pid_t	launch_child;
/* The program's stdout is the launcher's stderr (the capture has stdout). */
static int			launch_stderr;
/* Set by a signal while waiting for the run's other processes. */
static volatile sig_atomic_t	launch_stop;
/* The collector the launcher runs while it waits, or NULL. */
static struct collrun		*launch_coll;

/*
 * waitpid(2), but with a collector the rings are drained while waiting:
 * a pass, then a look whether pid ended. A signal that set launch_stop
 * ends the wait with EINTR, as it would waitpid's.
 */
static pid_t
launch_waitpid(pid_t pid, int *st, int flags)
{
	pid_t	r;

	if (launch_coll == NULL || launch_coll->c == NULL ||
	    (flags & WNOHANG) != 0)
		return (waitpid(pid, st, flags));
	for (;;) {
		if ((r = waitpid(pid, st, WNOHANG)) != 0)
			return (r);
		if (launch_stop) {
			errno = EINTR;
			return (-1);
		}
		collrun_pump(launch_coll);
	}
}

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

static void
launch_stop_waiting(int sig)
{
	(void)sig;
	launch_stop = 1;
}

/*
 * After the program exited: processes it left running (a daemon, a
 * background job) are the launcher's children now (it is their
 * subreaper), and their connections are part of the run, so the summary
 * waits for them; an interrupt (^C, TERM, HUP) stops waiting, and the
 * summary then says they still run.
 */
static void
launch_wait_rest(void)
{
	struct sigaction	sa, old[3];
	static const int	sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	pid_t			r;
	int			i, said = 0;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = launch_stop_waiting;	/* no SA_RESTART */
	launch_stop = 0;
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	while (!launch_stop) {
		if (!said && (r = waitpid(-1, NULL, WNOHANG)) != 0) {
			if (r == -1 && errno != EINTR)
				break;		/* none left */
			continue;
		}
		if (!said) {
			msg_notice(0, "the program exited, processes it started "
			    "still run: waiting for them (interrupt to stop "
			    "waiting)");
			said = 1;
		}
		if (launch_waitpid(-1, NULL, 0) == -1 && errno == ECHILD)
			break;
	}
	if (launch_stop && waitpid(-1, NULL, WNOHANG) != -1)
		msg_notice(0, "processes the program started still run: the "
		    "summary does not have what they do from now on");
	/*
	 * An interrupt that stopped the wait may come twice (a terminal's
	 * ^C, timeout(1), reach the whole process group): the summary and
	 * the capture still get written.
	 */
	if (launch_stop)
		sa.sa_handler = SIG_IGN;
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], launch_stop && sigs[i] == SIGINT ? &sa :
		    &old[i], NULL);
}

/* In the child: become the program, or report errno down the pipe. */
static void
launch_child_exec(char **argv, int fd)
{
	int	err;

	launch_signals(0);
	collrun_child();
	if (launch_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
		err = errno;
	else {
		execvp(argv[0], argv);
		err = errno;
	}
	(void)write(fd, &err, sizeof err);
	_exit(err == ENOENT ? LAUNCH_NOT_FOUND : LAUNCH_CANNOT_RUN);
}

/* The program's stdout goes to the launcher's stderr. */
void
launch_stdout_to_stderr(void)
{
	launch_stderr = 1;
}

/*
 * Run argv (searched along $PATH) with the environment as it is now and
 * wait for it, and for the processes it leaves running. Returns its exit
 * status, 128 + the signal that killed it,
 * or 126 / 127 when it could not be run (said on stderr; *ran is 0).
 * With cr, its collector drains the run's rings meanwhile.
 */
int
launch_run(char **argv, int *ran, struct collrun *cr)
{
	pid_t	pid;
	int	p[2], st, err = 0;
	ssize_t	n;

	if (pipe2(p, O_CLOEXEC) == -1) {
		msg_err("pipe: %s", strerror(errno));
		return (LAUNCH_CANNOT_RUN);
	}
	*ran = 0;
	launch_coll = cr;
	/* Orphans of the run become ours, to be waited for. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
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
	while (launch_waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			st = LAUNCH_CANNOT_RUN << 8;
			break;
		}
	}
	launch_child = 0;
	launch_signals(0);
	if (*ran)
		launch_wait_rest();
	if (WIFSIGNALED(st))
		return (128 + WTERMSIG(st));
	return (WEXITSTATUS(st));
}
