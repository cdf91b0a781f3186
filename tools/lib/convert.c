/* A conversion of traces into a capture, once the command line is read. */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "decode-as.h"
#include "filter.h"
#include "merge.h"
#include "notice.h"
#include "pcap-out.h"
#include "pcapng-out.h"
#include "rotate.h"
#include "synth.h"

/* Remove the half-written capture, then die of the signal. */
static void
on_signal(int sig)
{
	const char	*tmp = pcap_out_tmpname();

	if (tmp[0] != '\0')
		unlink(tmp);
	rotate_unlink();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Clean up on the signals that kill; ones the parent ignored stay ignored. */
static void
catch_signals(void)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE,
				    SIGXFSZ };
	struct sigaction	 sa, old;
	size_t			 i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

/*
 * Remove what a killed run left: temporary captures are named
 * OUT.tmp-PID-XXXXXX (pcap-out.c), so one whose PID is no process is a
 * dead run's (SIGKILL, a crash, a power cut), never a live one's. Only
 * regular files of ours, next to this run's output, named after it, and
 * untouched for a minute (a live run in another PID namespace writes).
 */
static void
sweep_stale(const struct convert *c)
{
	char		*copy, *slash, path[PATH_MAX];
	const char	*dirname, *base, *rest;
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*end;
	long		 pid;

	if (strcmp(c->out, "-") == 0 || (copy = strdup(c->out)) == NULL)
		return;
	slash = strrchr(copy, '/');
	dirname = slash == NULL ? "." : slash == copy ? "/" : copy;
	base = slash == NULL ? copy : slash + 1;
	if (slash != NULL)
		*slash = '\0';
	if ((d = opendir(dirname)) == NULL) {
		free(copy);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, strlen(base)) != 0 ||
		    (rest = strstr(de->d_name + strlen(base), ".tmp-")) == NULL)
			continue;
		pid = strtol(rest + 5, &end, 10);
		if (end == rest + 5 || *end != '-' || strlen(end + 1) != 6 ||
		    pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dirname,
		    de->d_name) >= (int)sizeof path ||
		    lstat(path, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid() || st.st_mtime > time(NULL) - 60)
			continue;
		if (unlink(path) == 0)
			notice_say(c->quiet, "%s: removed, the temporary capture "
			    "of a run (pid %ld) that was killed", path, pid);
	}
	closedir(d);
	free(copy);
}

/*
 * The filter expression does not compile. If its first word looks like
 * a file (a path, a trace's suffix), the user meant a trace that is not
 * there: say that instead of pcap's syntax error.
 */
static int
bad_filter(const char *expr, const char *errbuf)
{
	size_t		 len = strcspn(expr, " ");
	const char	*dot = memchr(expr, '.', len);

	if (memchr(expr, '/', len) != NULL || (dot != NULL &&
	    strncmp(dot, ".pb", 3) == 0)) {
		notice_err("%.*s: %s", (int)len, expr,
		    strerror(ENOENT));
		return (1);
	}
	notice_err("filter '%s': %s", expr, errbuf);
	return (2);
}

/* A shown trace of TLS records, for decode_twins() to find by addresses. */
struct twin {
	const struct trace_info		*t;
	const struct synth_stream	*s;
	const char			*name;
};

/* Order twins by their addresses, then the socket's inode. */
static int
twin_cmp(const void *a, const void *b)
{
	const struct trace_conn	*x = &((const struct twin *)a)->t->conn;
	const struct trace_conn	*y = &((const struct twin *)b)->t->conn;
	const struct trace_addr	*xa[2] = { &x->local, &x->remote };
	const struct trace_addr	*ya[2] = { &y->local, &y->remote };
	int			 i, r;

	for (i = 0; i < 2; i++) {
		if (xa[i]->family != ya[i]->family)
			return (xa[i]->family < ya[i]->family ? -1 : 1);
		if ((r = memcmp(xa[i]->ip, ya[i]->ip, sizeof xa[i]->ip)) != 0)
			return (r);
		if (xa[i]->port != ya[i]->port)
			return (xa[i]->port < ya[i]->port ? -1 : 1);
	}
	if (x->inode != 0 && y->inode != 0 && x->inode != y->inode)
		return (x->inode < y->inode ? -1 : 1);
	return (0);
}

/*
 * TAPSHIM_TLS=both: a connection's plaintext and its TLS records are two
 * traces of the same addresses (in two files), two streams on one
 * server port in the capture. Find, for each shown plaintext trace, a
 * shown trace of records with its addresses; *twin[i][j] is its index
 * in all of them + 1, or 0. Sorted, so any number of traces takes
 * n log n. Returns -1 out of memory (no twin is then known).
 */
static int
decode_twins(const struct input *in, unsigned int n, struct twin **all,
    size_t *nall)
{
	const struct trace_info	*t;
	struct twin		*tw = NULL, *m;
	size_t			 cap = 0, k = 0, j;
	unsigned int		 i;

	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			t = trace_info(in[i].tf, j);
			if (in[i].hidden[j] || t->conn.tls !=
			    TRACE_TLS_CIPHERTEXT || (t->conn.local.family !=
			    AF_INET && t->conn.local.family != AF_INET6))
				continue;
			if (k == cap) {
				cap = cap ? cap * 2 : 16;
				if ((m = reallocarray(tw, cap,
				    sizeof *m)) == NULL) {
					free(tw);
					return (-1);
				}
				tw = m;
			}
			tw[k].t = t;
			tw[k].s = &in[i].streams[j];
			tw[k++].name = trace_name(in[i].tf);
		}
	}
	if (k > 0)
		qsort(tw, k, sizeof *tw, twin_cmp);
	*all = tw;
	*nall = k;
	return (0);
}

/*
 * TLS plaintext keeps its real ports, where Wireshark expects TLS: find
 * them (decode-as.c); a plaintext trace whose TLS records are traced too
 * gets a hint of its own stream.
 */
static int
decode_hints(const struct convert *c, const struct input *in,
    unsigned int n, struct decodeas *d)
{
	const struct trace_info	*t;
	const struct frame_ep	*pe[2], *ce[2];
	struct twin		*tw = NULL, key, *hit;
	size_t			 ntw = 0, j;
	unsigned int		 i;

	(void)c;
	memset(d, 0, sizeof *d);
	if (decode_twins(in, n, &tw, &ntw) == -1) {
		notice_err("out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			if (in[i].hidden[j])
				continue;
			t = trace_info(in[i].tf, j);
			key.t = t;
			hit = ntw == 0 || t->conn.tls != TRACE_TLS_PLAINTEXT ?
			    NULL : bsearch(&key, tw, ntw, sizeof *tw, twin_cmp);
			if (hit != NULL) {
				pe[0] = &in[i].streams[j].side[0].ep;
				pe[1] = &in[i].streams[j].side[1].ep;
				ce[0] = &hit->s->side[0].ep;
				ce[1] = &hit->s->side[1].ep;
				decodeas_add_stream(d, t, trace_name(in[i].tf),
				    pe, hit->t, hit->name, ce);
			} else
				decodeas_add(d, t);
		}
	}
	free(tw);
	return (0);
}

/* After the capture: write --decode-as's file (its ports as drawn). */
static int
decode_file(const struct convert *c, const struct decodeas *d)
{
	char	errbuf[PATH_MAX + 128];

	if (c->decode_as != NULL && decodeas_write(d, c->decode_as, errbuf,
	    sizeof errbuf) == -1) {
		notice_err("%s", errbuf);
		return (-1);
	}
	return (0);
}

/*
 * Say which shown traces were never closed (the program still had them
 * open when tracing stopped, or the trace was cut): the capture shows no
 * close but what their events say. The first few by name.
 */
static void
unclosed(const struct convert *c, const struct input *in, unsigned int n)
{
	const struct trace_info	*t;
	size_t			 count = 0, j;
	unsigned int		 i;

	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			t = trace_info(in[i].tf, j);
			if (in[i].hidden[j] || t->closed || t->nevents == 0)
				continue;
			if (count++ < 5)
				notice_say(c->quiet, "%s: trace %llu was never "
				    "closed: the trace ends with the connection "
				    "still open", trace_name(in[i].tf),
				    (unsigned long long)t->trace_id);
		}
	}
	if (count > 5)
		notice_say(c->quiet, "%zu trace(s) in all were never closed",
		    count);
}

/* What the conversion made, unless -q. */
static void
summary(const struct convert *c, const struct input *in, unsigned int n,
    const struct synth *sy, const struct rotate *r, const struct decodeas *d)
{
	char		hint[2048];
	size_t		shown = 0, total = 0, j;
	unsigned int	i;

	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			total++;
			shown += in[i].hidden[j] != HIDE_FILTER;
		}
	}
	unclosed(c, in, n);
	for (i = 0; i < n; i++) {
		if (in[i].omitted > 0)
			notice_say(c->quiet, "%s: %zu STARTTLS event(s) in the "
			    "clear left out (--starttls-omit)",
			    trace_name(in[i].tf), in[i].omitted);
	}
	if (sy->gaps > 0)
		notice_say(c->quiet, "warning: %llu byte(s) in %llu event(s) "
		    "were moved but not "
		    "recorded (a length only): shown as gaps in the sequence "
		    "numbers (\"previous segment not captured\") once %llu "
		    "such bytes were drawn as cut packets",
		    (unsigned long long)sy->gap_bytes,
		    (unsigned long long)sy->gaps,
		    (unsigned long long)SYNTH_UNCAPTURED_MAX);
	for (i = 0; i < d->n; i++) {
		decodeas_hint(d, i, c->starttls_omit, hint, sizeof hint);
		notice_say(c->quiet, "%s", hint);
	}
	if (c->expr != NULL)
		notice_say(c->quiet, "%zu of %zu connection(s) match '%s'",
		    shown, total, c->expr);
	if (strcmp(c->out, "-") == 0)
		return;
	if (r->max_bytes > 0 && r->nfiles > 1)
		notice_say(c->quiet, "%s ... %s: %llu packets from %u file(s) "
		    "in %zu file(s)%s", r->names[0], r->names[r->nfiles - 1],
		    (unsigned long long)sy->frames, n, r->nfiles,
		    r->files > r->nfiles ? ", the oldest written over" : "");
	else
		notice_say(c->quiet, "%s: %llu packets from %u file(s)", c->out,
		    (unsigned long long)sy->frames, n);
}

/* Convert the open inputs into the capture; 0 when it is complete. */
static int
write_capture(const struct convert *c, const struct merge *m,
    struct input *in, unsigned int n, char *const *paths,
    const struct decodeas *d)
{
	struct rotate		 r;
	struct synth		 sy;
	struct pcapng_meta	 ng, *ngp = NULL;
	char			 errbuf[PCAP_ERRBUF_SIZE];
	uint64_t		 total = 0;
	unsigned int		 i;
	int			 rc = -1, bar = c->progress;

	if (bar == -1)
		bar = !c->quiet && isatty(STDERR_FILENO);
	for (i = 0; i < n; i++)
		total += trace_size(in[i].tf);
	if (c->format == CONVERT_PCAPNG || (c->format == CONVERT_AUTO &&
	    pcapng_is_name(c->out))) {
		ngp = &ng;
		if (pcapng_meta_inputs(&ng, in, n, c->link, c->keylog,
		    errbuf) == -1) {
			notice_err("%s", errbuf);
			pcapng_meta_free(&ng);
			return (-1);
		}
		ng.sy = &sy;
	}
	catch_signals();
	sweep_stale(c);
	if (rotate_open_ng(&r, c->out, c->link, c->max_bytes, c->max_files,
	    paths, (int)n, ngp) == -1) {
		notice_err("%s", r.err);
		rotate_abort(&r);
		if (ngp != NULL)
			pcapng_meta_free(ngp);
		return (-1);
	}
	if (synth_init(&sy, c->link, c->mss, rotate_write, &r) == -1) {
		notice_err("out of memory");
		rotate_abort(&r);
		if (ngp != NULL)
			pcapng_meta_free(ngp);
		return (-1);
	}
	if (!c->mss_set)
		sy.mss6 = SYNTH_MSS_DEFAULT6;
	notice_progress(NOTICE_PROG_BEGIN, total, !bar ? 0 : c->progress == 1 ?
	    2 : 1);
	i = merge_run(m, in, n, &sy) == -1;
	notice_progress(NOTICE_PROG_END, total, 0);
	if (i) {
		if (r.err[0] != '\0')
			notice_err("%s", r.err);
	} else if (rotate_finish(&r) == -1)
		notice_err("%s", r.err);
	else {
		summary(c, in, n, &sy, &r, d);
		rc = 0;
	}
	rotate_abort(&r);
	synth_free(&sy);
	if (ngp != NULL)
		pcapng_meta_free(ngp);
	return (rc);
}

/*
 * Convert the n traces at paths into the capture c describes: 0 when it
 * is complete, 1 when an input or the output failed, 2 for a filter that
 * does not compile. Errors and notices go to stderr.
 */
int
convert_run(const struct convert *c, char *const *paths, unsigned int n)
{
	struct merge	 m;
	struct input	*in;
	struct filter	 fl;
	struct decodeas	 dec;
	char		 errbuf[PCAP_ERRBUF_SIZE];
	unsigned int	 i;
	int		 rc = 1;

	if (filter_compile(&fl, c->expr, c->link, errbuf) == -1)
		return (bad_filter(c->expr, errbuf));
	if ((in = calloc(n ? n : 1, sizeof *in)) == NULL) {
		notice_err("out of memory");
		return (1);
	}
	memset(&m, 0, sizeof m);
	m.filter = &fl;
	m.quiet = c->quiet;
	m.strict = c->strict;
	m.both_ends = c->both_ends;
	m.starttls_omit = c->starttls_omit;
	for (i = 0; i < n; i++) {
		if (merge_open(&m, &in[i], paths[i], i) == -1)
			goto done;
	}
	if (merge_pair(&m, in, n) == 0 && merge_join(&m, in, n) == 0 &&
	    decode_hints(c, in, n, &dec) == 0 &&
	    write_capture(c, &m, in, n, paths, &dec) == 0 &&
	    decode_file(c, &dec) == 0)
		rc = 0;
done:
	for (i = 0; i < n; i++)
		merge_close(&in[i]);
	free(in);
	filter_free(&fl);
	return (rc);
}
