/* The launcher as the run's collector: rings drained while it waits. */

#include "config.h"

#include <signal.h>
#include <string.h>

#include "collect-run.h"
#include "msg.h"
#include "ring.h"

/* SIGXFSZ as the launcher found it: the program gets it back. */
static struct sigaction	collrun_xfsz;
static int		collrun_ignored;

/* The longest the launcher sleeps with nothing to drain, ms. */
#define COLLRUN_IDLE_MS	20

/*
 * Open the collector the run's processes join (TAPSHIM_COLLECTOR), for
 * traces at prefix in format; drop: writers drop and count, not wait,
 * when a ring is full. -1, said, when it cannot be (the caller runs in
 * direct mode).
 */
int
collrun_open(struct collrun *cr, const char *prefix, enum conf_format format,
    int drop)
{
	struct sigaction	sa;
	char			errbuf[COLLECTOR_ERRBUF_SIZE];

	memset(cr, 0, sizeof *cr);
	cr->c = collector_open(prefix, format, drop ? RING_F_DROP : 0, errbuf);
	if (cr->c == NULL) {
		msg_err("%s; each process writes its own traces (direct "
		    "mode)", errbuf);
		return (-1);
	}
	cr->timeout = 1;
	/*
	 * Under RLIMIT_FSIZE the collector's files and rings fail with
	 * EFBIG (said, counted) rather than kill the launcher.
	 */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGXFSZ, &sa, &collrun_xfsz) == 0)
		collrun_ignored = 1;
	return (0);
}

/* In the program's child, before exec: SIGXFSZ as it was. */
void
collrun_child(void)
{
	if (collrun_ignored)
		(void)sigaction(SIGXFSZ, &collrun_xfsz, NULL);
}

/*
 * One pass while the launcher waits: serve joining processes, drain
 * every ring. After a burst it comes back at once, after a few events
 * within a ms (not spinning on a busy machine's CPUs); idle, it
 * sleeps longer each time, up to COLLRUN_IDLE_MS (a process's end or a
 * client wakes it sooner, and so does a signal).
 */
void
collrun_pump(struct collrun *cr)
{
	char	errbuf[COLLECTOR_ERRBUF_SIZE];
	int	n;

	if (cr->c == NULL)
		return;
	n = collector_step(cr->c, cr->timeout, errbuf);
	if (n == -1 && !cr->said) {
		msg_err("%s", errbuf);
		cr->said = 1;
	}
	/* A bulk transfer is drained at once; events, within a ms. */
	if (n > (int)(COLLECTOR_RING_SIZE / 8))
		cr->timeout = 0;
	else if (n != 0)
		cr->timeout = 1;
	else if (cr->timeout < COLLRUN_IDLE_MS)
		cr->timeout = cr->timeout * 2 + 1;
}

/* The run is over: drain what is left, close the trace files. */
void
collrun_close(struct collrun *cr)
{
	if (cr->c == NULL)
		return;
	collrun_pump(cr);
	collector_close(cr->c, &cr->st);
	cr->c = NULL;
	cr->done = 1;
}

/* In the summary: what the collector could not write, and why. */
void
collrun_report(const struct collrun *cr)
{
	const struct collector_stats	*s = &cr->st;

	if (!cr->done)
		return;
	if (s->dropped > 0)
		msg_notice(0, "collector: %llu records (%llu bytes) dropped, "
		    "a ring was full (--drop) or the collector gone",
		    (unsigned long long)s->dropped,
		    (unsigned long long)s->dropped_bytes);
	if (s->partial > 0 || s->torn_bytes > 0)
		msg_notice(0, "collector: %llu bytes cut by a process's death "
		    "while it wrote them", (unsigned long long)s->torn_bytes);
	if (s->write_errors > 0)
		msg_notice(0, "collector: %llu bytes could not be written to "
		    "trace files", (unsigned long long)s->write_errors);
	if (s->refused > 0)
		msg_notice(0, "collector: %llu processes not of this run "
		    "refused", (unsigned long long)s->refused);
}
