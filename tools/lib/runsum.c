/* The traces one run of the launcher wrote, found and summed up. */

#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notice.h"
#include "runsum.h"
#include "trace-read.h"
#include "wire.h"

#define RUNSUM_TRACES	64	/* traces per file told apart for stats */

/* The trace number in name if it is PREFIX_N.pb[_length_delimited]. */
static int
runsum_number(const struct runsum *rs, const char *name, unsigned long *n)
{
	size_t		 len = strlen(rs->base);
	const char	*p = name + len + 1, *q = p;

	if (strncmp(name, rs->base, len) != 0 || name[len] != '_' ||
	    !isdigit((unsigned char)*p))
		return (0);
	while (isdigit((unsigned char)*q))
		q++;
	if (strcmp(q, ".pb") != 0 && strcmp(q, ".pb_length_delimited") != 0)
		return (0);
	*n = strtoul(p, NULL, 10);
	return (1);
}

/* Was (name, ino) there before the run? */
static int
runsum_was(const struct runsum *rs, const char *name, ino_t ino)
{
	size_t	i;

	for (i = 0; i < rs->nbefore; i++) {
		if (rs->before[i].ino == ino &&
		    strcmp(rs->before[i].name, name) == 0)
			return (1);
	}
	return (0);
}

/* Add one file to a list; -1 when out of memory. */
static int
runsum_add(struct runsum_file **list, size_t *n, const char *name, ino_t ino,
    unsigned long num)
{
	struct runsum_file	*l;

	if ((l = realloc(*list, (*n + 1) * sizeof *l)) == NULL)
		return (-1);
	*list = l;
	if ((l[*n].name = strdup(name)) == NULL)
		return (-1);
	l[*n].ino = ino;
	l[*n].num = num;
	(*n)++;
	return (0);
}

/* List the prefix's traces: all (before), or only new ones (after). */
static int
runsum_scan(struct runsum *rs, int after)
{
	struct dirent	*de;
	struct stat	 st;
	unsigned long	 num;
	char		 path[4096];
	DIR		*d;
	int		 rc = 0;

	if ((d = opendir(rs->dir)) == NULL) {
		notice_err("%s: %s (the directory of the trace prefix)", rs->dir,
		    strerror(errno));
		return (-1);
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!runsum_number(rs, de->d_name, &num))
			continue;
		snprintf(path, sizeof path, "%s/%s", rs->dir, de->d_name);
		if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (!after)
			rc = runsum_add(&rs->before, &rs->nbefore, de->d_name,
			    st.st_ino, num);
		else if (!runsum_was(rs, de->d_name, st.st_ino))
			rc = runsum_add(&rs->files, &rs->nfiles, path,
			    st.st_ino, num);
	}
	closedir(d);
	if (rc == -1)
		notice_err("out of memory");
	return (rc);
}

/* Order files by trace number. */
static int
runsum_cmp(const void *a, const void *b)
{
	const struct runsum_file	*x = a, *y = b;

	return (x->num < y->num ? -1 : x->num > y->num);
}

/*
 * Note the traces already at prefix (an absolute PREFIX, files
 * PREFIX_N.pb), so that those of the run can be told apart after it.
 */
int
runsum_begin(struct runsum *rs, const char *prefix)
{
	const char	*slash = strrchr(prefix, '/');

	memset(rs, 0, sizeof *rs);
	if (slash == NULL || (rs->dir = strndup(prefix, slash == prefix ? 1 :
	    (size_t)(slash - prefix))) == NULL ||
	    (rs->base = strdup(slash + 1)) == NULL) {
		notice_err("%s: not an absolute prefix", prefix);
		return (-1);
	}
	return (runsum_scan(rs, 0));
}

/* After the run: its traces, in rs->files by number. */
int
runsum_end(struct runsum *rs)
{
	size_t	i;

	if (runsum_scan(rs, 1) == -1)
		return (-1);
	if (rs->nfiles > 1)
		qsort(rs->files, rs->nfiles, sizeof *rs->files,
		    runsum_cmp);
	if ((rs->paths = calloc(rs->nfiles + 1, sizeof *rs->paths)) == NULL) {
		notice_err("out of memory");
		return (-1);
	}
	for (i = 0; i < rs->nfiles; i++)
		rs->paths[i] = rs->files[i].name;
	return (0);
}

/* Note a reason bytes were lost, once. */
static void
runsum_reason(struct runsum_totals *t, const char *r, size_t len)
{
	int	i;

	if (len >= sizeof t->reasons[0])
		return;
	for (i = 0; i < t->nreasons; i++) {
		if (strlen(t->reasons[i]) == len &&
		    memcmp(t->reasons[i], r, len) == 0)
			return;
	}
	if (t->nreasons < RUNSUM_REASONS) {
		memcpy(t->reasons[t->nreasons], r, len);
		t->reasons[t->nreasons++][len] = '\0';
	}
}

/* A trace's own account of what it lost (Connection.stats), if it has one. */
static int
runsum_stats(const struct trace_conn *c, struct runsum_totals *t)
{
	struct wire_field	 f;
	const char		*why;
	size_t			 pos = 0;

	if (!c->has_stats)
		return (0);
	t->lost_received += c->lost[0];
	t->lost_sent += c->lost[1];
	while (wire_next(c->stats.p, c->stats.len, &pos, &f, &why) == 1) {
		if (f.number == 7 && f.type == WIRE_LEN)
			runsum_reason(t, (const char *)f.data, f.len);
	}
	return (1);
}

/* Add one trace file's connections and bytes to the totals. */
static void
runsum_read(const char *path, struct runsum_totals *t)
{
	const struct trace_info	*ti;
	struct trace_file	*tf;
	struct trace_event	 ev;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	char			 stats[RUNSUM_TRACES];
	size_t			 i, at, ignored;
	int			 r, has;

	memset(stats, 0, sizeof stats);
	if ((tf = trace_open(path, errbuf)) == NULL) {
		notice_err("%s", errbuf);
		t->damaged++;
		return;
	}
	/* A cut file counts for what its whole records hold. */
	switch (trace_damage(tf, &at, &ignored)) {
	case TRACE_CUT:
		t->cut++;
		runsum_reason(t, "cut", 3);
		break;
	case TRACE_UNFINISHED:
		t->unfinished++;
		break;
	default:
		break;
	}
	if (trace_damage(tf, &at, &ignored) != TRACE_WHOLE) {
		trace_damage_text(tf, errbuf, sizeof errbuf);
		notice_err("%s", errbuf);
	}
	for (i = 0; i < trace_count(tf); i++) {
		ti = trace_info(tf, i);
		t->conns++;
		t->failed += ti->conn.error[0] != '\0';
		t->truncated += ti->read_truncated || ti->write_truncated;
		t->died += !ti->closed;
		t->tracer_cut += ti->closed && ti->ending == TRACE_ENDING_CUT;
		stats[i < RUNSUM_TRACES ? i : RUNSUM_TRACES - 1] |=
		    runsum_stats(&ti->conn, t);
	}
	while ((r = trace_next(tf, &ev, errbuf)) == 1) {
		t->events++;
		has = stats[ev.trace < RUNSUM_TRACES ? ev.trace :
		    RUNSUM_TRACES - 1];
		if (ev.kind == TRACE_EV_WRITE) {
			t->sent += ev.caplen;
			if (!has)
				t->lost_sent += ev.len - ev.caplen;
		} else if (ev.kind == TRACE_EV_READ) {
			t->received += ev.caplen;
			if (!has)
				t->lost_received += ev.len - ev.caplen;
		}
	}
	if (r == -1) {
		notice_err("%s", errbuf);
		t->damaged++;
	}
	trace_close(tf);
}

/* The reasons bytes were lost, as "a, b". */
static void
runsum_reasons(const struct runsum_totals *t, char *buf, size_t size)
{
	size_t	len = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < t->nreasons && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    i ? ", " : "", t->reasons[i]);
}

/*
 * Sum the run's traces into rs->totals. With the run's totals (run, or
 * NULL), bytes of connections never traced count too.
 */
void
runsum_sum(struct runsum *rs, const struct runstate *run)
{
	struct runsum_totals	*t = &rs->totals;
	char			 why[64];
	size_t			 i;

	memset(t, 0, sizeof *t);
	for (i = 0; i < rs->nfiles; i++)
		runsum_read(rs->files[i].name, t);
	if (run != NULL) {
		if (run->lost[0] > t->lost_received)
			t->lost_received = run->lost[0];
		if (run->lost[1] > t->lost_sent)
			t->lost_sent = run->lost[1];
		if ((run->ring_lost & RUNSTATE_RING_GONE) != 0)
			runsum_reason(t, "collector_gone", 14);
		if ((run->ring_lost & RUNSTATE_RING_FULL) != 0)
			runsum_reason(t, "ring_full", 9);
		if (run->stopped != RUNSTATE_RUNNING) {
			snprintf(why, sizeof why, "%s", runstate_stop_name(
			    (enum runstate_stop)run->stopped));
			runsum_reason(t, why, strlen(why));
		}
	}
}

/* Say what the run's traces hold, on stderr: files, bytes, losses. */
void
runsum_print(const struct runsum *rs, const char *prefix,
    const struct runstate *run)
{
	const struct runsum_totals	*t = &rs->totals;
	char				 why[384];

	if (rs->nfiles == 0)
		notice_err("no connection traced (prefix %s)", prefix);
	else if (rs->nfiles == 1)
		notice_err("1 trace file, %s: %zu connection(s)",
		    rs->files[0].name, t->conns);
	else
		notice_err("%zu trace files, %s ... %s: %zu connections",
		    rs->nfiles, rs->files[0].name,
		    strrchr(rs->files[rs->nfiles - 1].name, '/') + 1, t->conns);
	if (t->failed > 0)
		notice_err("%zu connect(s) failed", t->failed);
	if (rs->nfiles > 0)
		notice_err("captured %llu bytes sent, %llu bytes received, in "
		    "%llu events", (unsigned long long)t->sent,
		    (unsigned long long)t->received,
		    (unsigned long long)t->events);
	runsum_reasons(t, why, sizeof why);
	if (t->lost_sent + t->lost_received > 0)
		notice_err("lost %llu bytes sent, %llu bytes received: %s",
		    (unsigned long long)t->lost_sent,
		    (unsigned long long)t->lost_received, why[0] != '\0' ? why :
		    "no reason recorded (a trace without its end)");
	else if (rs->nfiles > 0 && t->died == 0 && t->cut == 0 &&
	    t->damaged == 0)
		notice_err("lost no bytes");
	if (t->died > 0)
		notice_err("%zu connection(s) have no end in their trace: the "
		    "process died (killed, crashed) with them open; what they "
		    "moved after the last whole record is not known", t->died);
	if (t->tracer_cut > 0)
		notice_err("%zu trace(s) cut by the tracer (%s): later bytes are "
		    "counted as lost, not kept", t->tracer_cut, why);
	if (t->cut > 0)
		notice_err("%zu trace file(s) cut short: read up to their last "
		    "whole record", t->cut);
	if (run != NULL && run->conns_lost > 0)
		notice_err("%llu connection(s) not traced: the run's %s was "
		    "reached", (unsigned long long)run->conns_lost,
		    runstate_stop_name((enum runstate_stop)run->stopped));
	if (run != NULL && run->msgs_lost > 0)
		notice_err("%llu message(s) of the shim not written: the "
		    "program's fd 2 was no longer the stderr it started with "
		    "(--log FILE keeps them)", (unsigned long long)run->msgs_lost);
	if (t->damaged > 0)
		notice_err("%zu trace file(s) damaged (see above): what they "
		    "held past the damage is lost", t->damaged);
}

/* Free what runsum_begin() and runsum_end() made. */
void
runsum_free(struct runsum *rs)
{
	size_t	i;

	for (i = 0; i < rs->nbefore; i++)
		free(rs->before[i].name);
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i].name);
	free(rs->before);
	free(rs->files);
	free(rs->paths);
	free(rs->dir);
	free(rs->base);
	memset(rs, 0, sizeof *rs);
}
