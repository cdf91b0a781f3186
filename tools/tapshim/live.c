/* tapshim -w: the capture written live, while the program runs. */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "follow.h"
#include "frame.h"
#include "live.h"
#include "msg.h"
#include "synth.h"

/*
 * The follower runs in a thread of the launcher, beside its wait for
 * the program: it reads the run's trace files (whoever writes them: the
 * shim directly, or a collector), never the program's memory.
 */
static pthread_t		live_thread;
static struct follow		*live_follow;
static int			 live_running;
static int			 live_rc;
static volatile sig_atomic_t	 live_stopping;
static volatile sig_atomic_t	 live_rotating;
static volatile sig_atomic_t	 live_rotated;	/* SIGUSR1 came */

/* SIGUSR1 to the launcher: the capture goes on in a new file. */
static void
live_on_usr1(int sig)
{
	(void)sig;
	live_rotating = 1;
	live_rotated = 1;
}

/* The thread: follow until live_stop(), then finish the capture. */
static void *
live_main(void *arg)
{
	(void)arg;
	live_rc = follow_run(live_follow, &live_stopping, &live_rotating);
	return (NULL);
}

/*
 * Start writing o's capture from the trace files PREFIX_N.pb (and
 * .pb_length_delimited) that appear from now on. -1 when it cannot.
 */
int
live_start(const struct live_opts *o, const char *prefix)
{
	struct follow_conf	fc;
	struct sigaction	sa;
	sigset_t		all, old;
	int			e;

	memset(&fc, 0, sizeof fc);
	fc.out = o->out;
	fc.max_bytes = o->max_bytes;
	fc.max_files = o->max_files;
	fc.seconds = o->seconds;
	fc.link = FRAME_LINK_ETHER;
	fc.mss = SYNTH_MSS_DEFAULT;
	fc.quiet = o->quiet;
	if ((live_follow = follow_open(&fc)) == NULL)
		return (-1);
	if (follow_add_prefix(live_follow, prefix, 1) == -1) {
		(void)follow_close(live_follow);
		return (-1);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = live_on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* Signals are the main thread's: it forwards them to the program. */
	sigfillset(&all);
	sigdelset(&all, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&live_thread, NULL, live_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		msg_err("-w: %s", strerror(e));
		(void)follow_close(live_follow);
		return (-1);
	}
	live_running = 1;
	return (0);
}

/* Did a SIGUSR1 split the capture into files? */
int
live_split(void)
{
	return (live_rotated);
}

/* The program and its processes are done: finish the capture. */
int
live_stop(void)
{
	if (!live_running)
		return (0);
	live_stopping = 1;
	pthread_join(live_thread, NULL);
	live_running = 0;
	return (live_rc == 0 ? 0 : -1);
}
