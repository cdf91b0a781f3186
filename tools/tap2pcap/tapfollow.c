/* tap2pcap --follow: a live capture of traces still being written. */

#include "config.h"

#include <sys/stat.h>

#include <signal.h>
#include <string.h>

#include "convert.h"
#include "follow.h"
#include "msg.h"
#include "pcapng-out.h"
#include "tapfollow.h"

static volatile sig_atomic_t	tapfollow_stop;
static volatile sig_atomic_t	tapfollow_rotate;

/* SIGINT, SIGTERM: finish the capture; SIGUSR1: start a new file. */
static void
tapfollow_signal(int sig)
{
	if (sig == SIGUSR1)
		tapfollow_rotate = 1;
	else
		tapfollow_stop = 1;
}

/* Catch the signals that stop or rotate the capture. */
static void
tapfollow_catch(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tapfollow_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Follow the n operands (trace files, or prefixes: not files, with a
 * '/') into c's capture until a signal stops it. Returns the exit status.
 */
int
tapfollow_run(const struct convert *c, unsigned int seconds,
    char *const *operands, unsigned int n)
{
	struct follow_conf	 fc;
	struct follow		*f;
	struct filter		 fl;
	struct stat		 st;
	char			 errbuf[PCAP_ERRBUF_SIZE];
	unsigned int		 i;
	int			 rc = 0;

	if (filter_compile(&fl, c->expr, c->link, errbuf) == -1) {
		msg_err("filter '%s': %s", c->expr, errbuf);
		return (2);
	}
	memset(&fc, 0, sizeof fc);
	fc.out = c->out;
	fc.filter = c->expr != NULL ? &fl : NULL;
	fc.max_bytes = c->max_bytes;
	fc.max_files = c->max_files;
	fc.seconds = seconds;
	fc.link = c->link;
	fc.mss = c->mss;
	fc.mss_set = c->mss_set;
	fc.both_ends = c->both_ends;
	fc.quiet = c->quiet;
	fc.pcapng = c->format == CONVERT_PCAPNG || (c->format ==
	    CONVERT_AUTO && pcapng_is_name(c->out));
	tapfollow_catch();
	if ((f = follow_open(&fc)) == NULL) {
		filter_free(&fl);
		return (1);
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (stat(operands[i], &st) == 0 && !S_ISDIR(st.st_mode))
			rc = follow_add_file(f, operands[i]);
		else
			rc = follow_add_prefix(f, operands[i], 0);
	}
	if (rc == -1) {
		(void)follow_close(f);
		filter_free(&fl);
		return (1);
	}
	rc = follow_run(f, &tapfollow_stop, &tapfollow_rotate) == -1;
	filter_free(&fl);
	return (rc);
}
