/* Following trace files as they are written: a live capture. */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "follow.h"
#include "notice.h"
#include "pcapng-out.h"
#include "rotate.h"
#include "synth.h"
#include "trace-read.h"

/*
 * A trace of a followed file: its description as last read (the slices
 * copied, since each read's mapping goes), and its stream.
 */
struct follow_trace {
	struct trace_info	 info;
	uint8_t			*owned;		/* the slices' bytes */
	struct synth_stream	 s;
	int			 started;
	int			 hidden;	/* filtered, or the other end */
	int			 ended;
	int64_t			 first_ns;	/* its first event's time */
	int64_t			 last_ns;	/* and its last's, so far */
	int64_t			 gone_ns;	/* ended: our clock then */
	/* Pieces of one socket written by several processes: one stream. */
	struct follow_trace	*lead;		/* a piece's: the group's first */
	size_t			 pieces;	/* the lead's: others still open */
	int			 closing;	/* the lead's close, not drawn */
};

/*
 * A stream that ended still pairs with its other end this long: that
 * end's trace may be read later than the reorder window (a loaded
 * machine, a writer that flushes late).
 */
#define FOLLOW_PAIR_NS		(60LL * 1000 * 1000 * 1000)
/* How far after an end's last event its other end may start. */
#define FOLLOW_SLACK_NS		(1000LL * 1000 * 1000)

/* An event read and not yet written, its payload copied. */
struct follow_ev {
	struct trace_event	 ev;
	uint8_t			*data;
};

/* A trace file followed: read again from its start at every step. */
struct follow_file {
	char			*path;
	unsigned int		 ordinal;
	size_t			 consumed;	/* events queued so far */
	int			 done;		/* whole, every trace closed */
	int			 failing;	/* its last read failed */
	char			 error[TRACE_ERRBUF_SIZE];
	struct follow_trace	**traces;
	size_t			 ntraces;
	struct follow_ev	*q;		/* events waiting, in file order */
	size_t			 qhead, qlen, qcap;
	int64_t			 last_sec;	/* for untimed events */
	uint32_t		 last_nsec;
};

/* A prefix whose new PREFIX_N.pb files are followed too. */
struct follow_prefix {
	char		*dir;
	char		*base;
};

/* A file name seen in a prefix's directory: the number, kind and inode. */
struct follow_seen {
	unsigned long	num;
	int		ld;
	ino_t		ino;
};

struct follow {
	struct follow_conf	 c;
	struct follow_file	**files;
	size_t			 nfiles, filecap;
	struct follow_prefix	*prefixes;
	size_t			 nprefixes;
	struct follow_seen	*seen;		/* sorted */
	size_t			 nseen, seencap;
	struct follow_trace	**live;		/* streams shown, for pairing */
	size_t			 nlive, livecap;
	struct synth		 sy;
	struct rotate		 r;
	struct pcapng_meta	 ng;
	int			 opened;
	int			 failed;
};

static int	follow_read(struct follow *, struct follow_file *);
static void	follow_end(struct follow *, struct follow_trace *);

/* Nanoseconds since the epoch of a time. */
static int64_t
follow_ns(int64_t sec, uint32_t nsec)
{
	return (sec * 1000000000LL + nsec);
}

/* Start following: the capture's first file is opened. NULL on error. */
struct follow *
follow_open(const struct follow_conf *c)
{
	struct follow	*f;

	if ((f = calloc(1, sizeof *f)) == NULL) {
		notice_err("out of memory");
		return (NULL);
	}
	f->c = *c;
	f->ng.link = c->link;
	f->ng.sy = &f->sy;
	if (synth_init(&f->sy, c->link, c->mss, rotate_write, &f->r) == -1) {
		notice_err("out of memory");
		free(f);
		return (NULL);
	}
	if (!c->mss_set)
		f->sy.mss6 = SYNTH_MSS_DEFAULT6;
	/* pcapng: the interfaces come with the processes, at the first. */
	if (!c->pcapng && rotate_open_live(&f->r, c->out, c->link,
	    c->max_bytes, c->max_files, c->seconds, NULL, 0, NULL) == -1) {
		notice_err("%s", f->r.err);
		rotate_abort(&f->r);
		synth_free(&f->sy);
		free(f);
		return (NULL);
	}
	f->opened = !c->pcapng;
	return (f);
}

/* Follow the trace file at path from its start. */
int
follow_add_file(struct follow *f, const char *path)
{
	struct follow_file	*ff, **nf;
	size_t			 cap;

	if (f->nfiles == f->filecap) {
		cap = f->filecap ? f->filecap * 2 : 16;
		if ((nf = realloc(f->files, cap * sizeof *nf)) == NULL)
			goto nomem;
		f->files = nf;
		f->filecap = cap;
	}
	if ((ff = calloc(1, sizeof *ff)) == NULL)
		goto nomem;
	if ((ff->path = strdup(path)) == NULL) {
		free(ff);
		goto nomem;
	}
	ff->ordinal = (unsigned int)f->nfiles;
	f->files[f->nfiles++] = ff;
	return (0);

nomem:
	notice_err("%s: out of memory", path);
	return (-1);
}

/* Order of struct follow_seen. */
static int
follow_seen_cmp(const struct follow_seen *a, const struct follow_seen *b)
{
	if (a->num != b->num)
		return (a->num < b->num ? -1 : 1);
	if (a->ld != b->ld)
		return (a->ld < b->ld ? -1 : 1);
	if (a->ino != b->ino)
		return (a->ino < b->ino ? -1 : 1);
	return (0);
}

/* Note a name as seen; 1 if it was new, 0 if not, -1 out of memory. */
static int
follow_seen_add(struct follow *f, const struct follow_seen *k)
{
	struct follow_seen	*n;
	size_t			 lo = 0, hi = f->nseen, mid;
	int			 d;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		d = follow_seen_cmp(&f->seen[mid], k);
		if (d == 0)
			return (0);
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (f->nseen == f->seencap) {
		f->seencap = f->seencap ? f->seencap * 2 : 64;
		if ((n = realloc(f->seen, f->seencap * sizeof *n)) == NULL)
			return (-1);
		f->seen = n;
	}
	memmove(&f->seen[lo + 1], &f->seen[lo], (f->nseen - lo) * sizeof *n);
	f->seen[lo] = *k;
	f->nseen++;
	return (1);
}

/* Is name PREFIX_N.pb or PREFIX_N.pb_length_delimited? Fill k. */
static int
follow_match(const struct follow_prefix *p, const char *name,
    struct follow_seen *k)
{
	size_t	 bl = strlen(p->base);
	char	*end;

	if (strncmp(name, p->base, bl) != 0 || name[bl] != '_' ||
	    name[bl + 1] < '0' || name[bl + 1] > '9')
		return (0);
	errno = 0;
	k->num = strtoul(name + bl + 1, &end, 10);
	if (errno != 0)
		return (0);
	if (strcmp(end, ".pb") == 0)
		k->ld = 0;
	else if (strcmp(end, ".pb_length_delimited") == 0)
		k->ld = 1;
	else
		return (0);
	return (1);
}

/* Look for new files of prefix p; with skip, only note the ones there. */
static int
follow_scan(struct follow *f, const struct follow_prefix *p, int skip)
{
	struct follow_seen	 k;
	struct dirent		*de;
	char			 path[PATH_MAX];
	DIR			*d;
	int			 r, rc = 0;

	if ((d = opendir(p->dir)) == NULL)
		return (0);	/* not there yet */
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!follow_match(p, de->d_name, &k))
			continue;
		k.ino = de->d_ino;
		if ((r = follow_seen_add(f, &k)) == -1) {
			notice_err("out of memory");
			rc = -1;
		} else if (r == 1 && !skip) {
			if (snprintf(path, sizeof path, "%s/%s", p->dir,
			    de->d_name) >= (int)sizeof path)
				continue;
			rc = follow_add_file(f, path);
		}
	}
	closedir(d);
	return (rc);
}

/*
 * Follow the files PREFIX_N.pb and PREFIX_N.pb_length_delimited, and
 * those that appear later; with skip_existing, not the ones there now.
 */
int
follow_add_prefix(struct follow *f, const char *prefix, int skip_existing)
{
	struct follow_prefix	*np, *p;
	const char		*slash = strrchr(prefix, '/');

	np = realloc(f->prefixes, (f->nprefixes + 1) * sizeof *np);
	if (np == NULL)
		goto nomem;
	f->prefixes = np;
	p = &f->prefixes[f->nprefixes];
	if (slash == NULL)
		p->dir = strdup(".");
	else if (slash == prefix)
		p->dir = strdup("/");
	else
		p->dir = strndup(prefix, (size_t)(slash - prefix));
	p->base = strdup(slash == NULL ? prefix : slash + 1);
	if (p->dir == NULL || p->base == NULL) {
		free(p->dir);
		free(p->base);
		goto nomem;
	}
	f->nprefixes++;
	return (follow_scan(f, p, skip_existing));

nomem:
	notice_err("%s: out of memory", prefix);
	return (-1);
}

/* Copy a slice into *at, moving on. */
static void
follow_slice(struct trace_slice *sl, uint8_t **at)
{
	if (sl->p == NULL)
		return;
	memcpy(*at, sl->p, sl->len);
	sl->p = *at;
	*at += sl->len;
}

/* Keep trace t's description as just read, its slices copied. */
static int
follow_keep(struct follow_trace *ft, const struct trace_info *t)
{
	struct trace_conn	*c = &ft->info.conn;
	uint8_t			*owned, *at;
	size_t			 n;
	int			 i;

	n = t->conn.tlsinfo.len + t->conn.process.len +
	    t->conn.resolution.len + t->conn.stats.len;
	for (i = 0; i < t->conn.nbacktrace; i++)
		n += t->conn.backtrace[i].len;
	if ((owned = malloc(n ? n : 1)) == NULL)
		return (-1);
	free(ft->owned);
	ft->owned = at = owned;
	ft->info = *t;
	follow_slice(&c->tlsinfo, &at);
	follow_slice(&c->process, &at);
	follow_slice(&c->resolution, &at);
	follow_slice(&c->stats, &at);
	for (i = 0; i < c->nbacktrace; i++)
		follow_slice(&c->backtrace[i], &at);
	return (0);
}

/* Queue a copy of event ev of file ff. */
static int
follow_queue(struct follow_file *ff, const struct trace_event *ev)
{
	struct follow_ev	*q, *e;
	size_t			 cap;

	if (ff->qhead > 0 && ff->qhead == ff->qlen)
		ff->qhead = ff->qlen = 0;
	if (ff->qlen == ff->qcap) {
		if (ff->qhead > 0) {
			memmove(ff->q, ff->q + ff->qhead, (ff->qlen -
			    ff->qhead) * sizeof *ff->q);
			ff->qlen -= ff->qhead;
			ff->qhead = 0;
		} else {
			cap = ff->qcap ? ff->qcap * 2 : 16;
			if ((q = realloc(ff->q, cap * sizeof *q)) == NULL)
				return (-1);
			ff->q = q;
			ff->qcap = cap;
		}
	}
	e = &ff->q[ff->qlen];
	e->ev = *ev;
	e->data = NULL;
	if (ev->caplen > 0) {
		if ((e->data = malloc(ev->caplen)) == NULL)
			return (-1);
		memcpy(e->data, ev->data, ev->caplen);
	}
	e->ev.data = e->data;
	if (!e->ev.has_time) {
		e->ev.sec = ff->last_sec;
		e->ev.nsec = ff->last_nsec;
	}
	ff->last_sec = e->ev.sec;
	ff->last_nsec = e->ev.nsec;
	ff->qlen++;
	return (0);
}

/* Make room for n traces of file ff, keeping what each has. */
static int
follow_traces(struct follow_file *ff, const struct trace_file *tf)
{
	struct follow_trace	**nt;
	size_t			  n = trace_count(tf), i;

	if (n > ff->ntraces) {
		if ((nt = realloc(ff->traces, n * sizeof *nt)) == NULL)
			return (-1);
		ff->traces = nt;
		for (i = ff->ntraces; i < n; i++) {
			if ((nt[i] = calloc(1, sizeof **nt)) == NULL)
				return (-1);
			ff->ntraces = i + 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (follow_keep(ff->traces[i], trace_info(tf, i)) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Read file ff again: what its traces say now, and the events past the
 * ones already queued. A file that cannot be read yet (just created, a
 * record being written) is tried again at the next step.
 */
static int
follow_read(struct follow *f, struct follow_file *ff)
{
	struct trace_file	*tf;
	struct trace_event	 ev;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	size_t			 k = 0, i, off, ign;
	int			 r, all;

	(void)f;
	if ((tf = trace_open(ff->path, errbuf)) == NULL) {
		ff->failing = 1;
		snprintf(ff->error, sizeof ff->error, "%s", errbuf);
		return (0);
	}
	ff->failing = 0;
	if (follow_traces(ff, tf) == -1)
		goto nomem;
	while ((r = trace_next(tf, &ev, errbuf)) == 1) {
		if (k++ < ff->consumed)
			continue;
		if (follow_queue(ff, &ev) == -1)
			goto nomem;
		ff->consumed++;
	}
	if (r == -1) {
		ff->failing = 1;
		snprintf(ff->error, sizeof ff->error, "%s", errbuf);
	}
	all = trace_count(tf) > 0;
	for (i = 0; i < ff->ntraces; i++)
		all &= ff->traces[i]->info.closed;
	ff->done = r == 0 && all && trace_damage(tf, &off, &ign) ==
	    TRACE_WHOLE;
	trace_close(tf);
	return (0);

nomem:
	trace_close(tf);
	notice_err("%s: out of memory", ff->path);
	return (-1);
}

/* Do two streams have the same addresses and ports, either way round? */
static int
follow_same(const struct synth_stream *a, const struct synth_stream *b)
{
	const struct frame_ep	*a0 = &a->side[0].ep, *a1 = &a->side[1].ep;
	const struct frame_ep	*b0 = &b->side[0].ep, *b1 = &b->side[1].ep;

	if (a0->family != b0->family || a->udp != b->udp)
		return (0);
#define EP_EQ(x, y) ((x)->port == (y)->port && memcmp((x)->ip, (y)->ip, 16) == 0)
	return ((EP_EQ(a0, b0) && EP_EQ(a1, b1)) ||
	    (EP_EQ(a0, b1) && EP_EQ(a1, b0)));
#undef EP_EQ
}

/*
 * pcapng: a new process is a new interface; the capture starts (or a
 * new section of it does) with every interface known so far.
 */
static int
follow_interface(struct follow *f, const struct trace_info *t)
{
	size_t	n = f->ng.nifs;
	char	errbuf[PCAP_ERRBUF_SIZE];

	if (pcapng_meta_add(&f->ng, t) == -1 || pcapng_meta_done(&f->ng) == -1) {
		notice_err("out of memory");
		return (-1);
	}
	if (f->ng.nifs == n && f->opened)
		return (0);
	if (!f->opened) {
		if (rotate_open_live(&f->r, f->c.out, f->c.link,
		    f->c.max_bytes, f->c.max_files, f->c.seconds, NULL, 0,
		    &f->ng) == -1) {
			notice_err("%s", f->r.err);
			return (-1);
		}
		f->opened = 1;
		return (0);
	}
	if (pcapng_out_section(&f->r.out, &f->ng, errbuf) == -1) {
		notice_err("%s", errbuf);
		return (-1);
	}
	return (0);
}

/*
 * Is trace ft a piece of a socket already shown (a forked child's, one
 * inherited across exec: the same socket inode, addresses and side)?
 * Then its events go into that stream.
 */
static int
follow_piece(struct follow *f, struct follow_file *ff, struct follow_trace *ft)
{
	const struct trace_conn	*c = &ft->info.conn, *oc;
	struct follow_trace	*o;
	size_t			 j;

	if (c->inode == 0 || ft->s.udp)
		return (0);
	for (j = 0; j < f->nlive; j++) {
		o = f->live[j];
		oc = &o->info.conn;
		if (o->ended || oc->inode != c->inode || o->s.udp ||
		    oc->role != c->role || !follow_same(&o->s, &ft->s) ||
		    o->s.local != ft->s.local)
			continue;
		ft->lead = o;
		o->pieces++;
		notice_say(f->c.quiet, "%s: trace %llu (pid %u) is a piece of "
		    "the socket of trace %llu (pid %u, inode %llu): joined "
		    "into one stream", ff->path,
		    (unsigned long long)ft->info.trace_id, c->pid,
		    (unsigned long long)o->info.trace_id, oc->pid,
		    (unsigned long long)c->inode);
		return (1);
	}
	return (0);
}

/*
 * Before a shown TCP socket's close is drawn: pieces of it read but not
 * begun (a forked child's trace starts after its parent closed its copy)
 * join it now, so the close waits for theirs.
 */
static void
follow_adopt(struct follow *f, struct follow_trace *lead)
{
	const struct trace_conn	*c = &lead->info.conn, *oc;
	struct follow_trace	*o;
	size_t			 i, j;

	if (c->inode == 0 || lead->s.udp)
		return;
	for (i = 0; i < f->nfiles; i++) {
		for (j = 0; j < f->files[i]->ntraces; j++) {
			o = f->files[i]->traces[j];
			oc = &o->info.conn;
			if (o->started || o->lead != NULL || o == lead ||
			    oc->inode != c->inode || oc->role != c->role ||
			    oc->local.port != c->local.port ||
			    oc->remote.port != c->remote.port ||
			    memcmp(oc->local.ip, c->local.ip, 16) != 0 ||
			    memcmp(oc->remote.ip, c->remote.ip, 16) != 0)
				continue;
			o->lead = lead;
			lead->pieces++;
			notice_say(f->c.quiet, "%s: trace %llu (pid %u) is a "
			    "piece of the socket of trace %llu (pid %u, inode "
			    "%llu): joined into one stream", f->files[i]->path,
			    (unsigned long long)o->info.trace_id, oc->pid,
			    (unsigned long long)lead->info.trace_id, c->pid,
			    (unsigned long long)c->inode);
		}
	}
}

/*
 * The event of a joined socket: into the lead's stream; a close is drawn
 * only at the group's last (the last process to close the socket).
 */
static int
follow_joined(struct follow *f, struct follow_trace *ft,
    const struct trace_event *ev)
{
	struct follow_trace	*lead = ft->lead != NULL ? ft->lead : ft;

	if (ev->kind == TRACE_EV_CLOSED) {
		follow_adopt(f, lead);
		if (ft != lead) {
			ft->ended = 1;
			lead->pieces--;
		} else
			lead->closing = 1;
		if (lead->pieces > 0 || !lead->closing)
			return (0);
	}
	if (lead->ended)
		return (0);
	lead->last_ns = follow_ns(ev->sec, ev->nsec);
	if (synth_event(&f->sy, &lead->s, ev) == -1)
		return (-1);
	if (ev->kind == TRACE_EV_CLOSED)
		follow_end(f, lead);
	return (0);
}

/* A trace's first event: its stream begins, unless it is not shown. */
static int
follow_start(struct follow *f, struct follow_file *ff, size_t i)
{
	struct follow_trace	*ft = ff->traces[i], **nl, *o;
	struct timespec		 now;
	uint64_t		 seed;
	size_t			 j;

	ft->started = 1;
	ft->first_ns = ft->last_ns = follow_ns(ff->q[ff->qhead].ev.sec,
	    ff->q[ff->qhead].ev.nsec);
	if (ft->lead != NULL)		/* adopted: follow_adopt() */
		return (0);
	seed = synth_hash(0, &ff->ordinal, sizeof ff->ordinal);
	seed = synth_hash(seed, &i, sizeof i);
	seed = synth_hash(seed, &ft->info.trace_id, sizeof ft->info.trace_id);
	synth_stream_init(&ft->s, &ft->info, seed, ff->ordinal);
	if (f->c.filter != NULL && !filter_stream(f->c.filter, &ft->s)) {
		ft->hidden = 1;
		return (0);
	}
	if (follow_piece(f, ff, ft))
		return (0);
	clock_gettime(CLOCK_REALTIME, &now);
	for (j = 0; j < f->nlive;) {
		o = f->live[j];
		if (o->ended && follow_ns(now.tv_sec, (uint32_t)now.tv_nsec) -
		    o->gone_ns > FOLLOW_PAIR_NS)
			f->live[j] = f->live[--f->nlive];
		else
			j++;
	}
	/*
	 * The other end: the same addresses, traced from the other side,
	 * at about the same time (each end stamps its own events: the one
	 * may start a little after the other's close); a 4-tuple used again
	 * comes later, TIME_WAIT's minute at least.
	 */
	for (j = 0; !f->c.both_ends && j < f->nlive; j++) {
		o = f->live[j];
		if (!follow_same(&o->s, &ft->s) || o->s.local == ft->s.local ||
		    (o->ended && ft->first_ns > o->last_ns + FOLLOW_SLACK_NS))
			continue;
		ft->hidden = 1;
		notice_say(f->c.quiet, "%s: trace %llu is the other end of a "
		    "connection already shown: shown once (-B shows both)",
		    ff->path, (unsigned long long)ft->info.trace_id);
		return (0);
	}
	if (f->nlive == f->livecap) {
		f->livecap = f->livecap ? f->livecap * 2 : 64;
		if ((nl = realloc(f->live, f->livecap * sizeof *nl)) == NULL)
			goto nomem;
		f->live = nl;
	}
	f->live[f->nlive++] = ft;
	if (f->c.pcapng)
		return (follow_interface(f, &ft->info));
	return (0);

nomem:
	notice_err("out of memory");
	return (-1);
}

/*
 * A stream has had its close: it stays listed a while for its other
 * end, which may yet be read (FOLLOW_PAIR_NS).
 */
static void
follow_end(struct follow *f, struct follow_trace *ft)
{
	struct timespec	now;

	(void)f;
	clock_gettime(CLOCK_REALTIME, &now);
	ft->ended = 1;
	ft->gone_ns = follow_ns(now.tv_sec, (uint32_t)now.tv_nsec);
}

/* Write the frames of the event at the head of file ff's queue. */
static int
follow_emit(struct follow *f, struct follow_file *ff)
{
	struct follow_ev	*e = &ff->q[ff->qhead];
	struct follow_trace	*ft;
	int			 rc = 0;

	if (e->ev.trace < ff->ntraces) {
		ft = ff->traces[e->ev.trace];
		if (!ft->started)
			rc = follow_start(f, ff, e->ev.trace);
		if (rc == 0 && !ft->hidden && !ft->ended && f->opened) {
			rc = follow_joined(f, ft, &e->ev);
			if (rc == -1 && f->r.err[0] != '\0')
				notice_err("%s", f->r.err);
		}
	}
	free(e->data);
	ff->qhead++;
	return (rc);
}

/* The file whose next queued event is the earliest; NULL: none left. */
static struct follow_file *
follow_earliest(const struct follow *f, int64_t *ns)
{
	struct follow_file	*best = NULL, *ff;
	struct follow_ev	*e;
	int64_t			 t, bt = 0;
	size_t			 i;

	for (i = 0; i < f->nfiles; i++) {
		ff = f->files[i];
		if (ff->qhead == ff->qlen)
			continue;
		e = &ff->q[ff->qhead];
		t = follow_ns(e->ev.sec, e->ev.nsec);
		if (best == NULL || t < bt) {
			best = ff;
			bt = t;
		}
	}
	*ns = bt;
	return (best);
}

/* Ask for a new capture file before the next frames (SIGUSR1). */
void
follow_rotate(struct follow *f)
{
	f->r.force = 1;
}

/*
 * One step: look for new files, read what the files gained, write the
 * frames of the events older than the reorder window (all of them when
 * final), and hand the capture to the kernel. -1 when the capture
 * cannot be written.
 */
int
follow_step(struct follow *f, int final)
{
	struct follow_file	*ff;
	struct timespec		 now;
	int64_t			 cut, t;
	size_t			 i;

	for (i = 0; i < f->nprefixes; i++) {
		if (follow_scan(f, &f->prefixes[i], 0) == -1)
			return (-1);
	}
	for (i = 0; i < f->nfiles; i++) {
		if (!f->files[i]->done && follow_read(f, f->files[i]) == -1)
			return (-1);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	cut = follow_ns(now.tv_sec, (uint32_t)now.tv_nsec) - FOLLOW_WINDOW_NS;
	if (f->opened && rotate_tick(&f->r) == -1) {
		notice_err("%s", f->r.err);
		return (-1);
	}
	while ((ff = follow_earliest(f, &t)) != NULL && (final || t <= cut)) {
		if (follow_emit(f, ff) == -1)
			return (-1);
	}
	if (f->opened && rotate_sync(&f->r) == -1) {
		notice_err("%s", f->r.err);
		return (-1);
	}
	return (0);
}

/* Free a file followed. */
static void
follow_free_file(struct follow_file *ff)
{
	size_t	i;

	for (i = ff->qhead; i < ff->qlen; i++)
		free(ff->q[i].data);
	for (i = 0; i < ff->ntraces; i++) {
		free(ff->traces[i]->owned);
		free(ff->traces[i]);
	}
	free(ff->traces);
	free(ff->q);
	free(ff->path);
	free(ff);
}

/*
 * Stop: the last events written, the capture finished, what it holds
 * said. 0 when it is complete.
 */
int
follow_close(struct follow *f)
{
	struct follow_file	*ff;
	size_t			 i, j, open = 0;
	int			 rc = 0;

	if (follow_step(f, 1) == -1)
		rc = -1;
	for (i = 0; i < f->nfiles; i++) {
		ff = f->files[i];
		if (ff->failing)
			notice_say(f->c.quiet, "%s", ff->error);
		for (j = 0; j < ff->ntraces; j++)
			open += ff->traces[j]->started &&
			    !ff->traces[j]->hidden && !ff->traces[j]->ended;
	}
	if (open > 0)
		notice_say(f->c.quiet, "%zu connection(s) still open when "
		    "following stopped: no FIN drawn", open);
	if (!f->opened && f->c.pcapng && rc == 0) {
		/* No connection at all: an empty capture all the same. */
		if (rotate_open_live(&f->r, f->c.out, f->c.link,
		    f->c.max_bytes, f->c.max_files, f->c.seconds, NULL, 0,
		    &f->ng) == -1) {
			notice_err("%s", f->r.err);
			rc = -1;
		} else
			f->opened = 1;
	}
	if (f->opened) {
		if (rc == 0 && rotate_finish(&f->r) == -1) {
			notice_err("%s", f->r.err);
			rc = -1;
		}
		if (rc == 0 && strcmp(f->c.out, "-") != 0)
			notice_say(f->c.quiet, "%s: %llu packets from %zu "
			    "file(s)%s", f->r.files > 1 ? "capture files" :
			    f->c.out, (unsigned long long)f->sy.frames,
			    f->nfiles, f->r.files > 1 ? " in several files" :
			    "");
		rotate_abort(&f->r);
	}
	for (i = 0; i < f->nfiles; i++)
		follow_free_file(f->files[i]);
	for (i = 0; i < f->nprefixes; i++) {
		free(f->prefixes[i].dir);
		free(f->prefixes[i].base);
	}
	free(f->prefixes);
	free(f->files);
	free(f->seen);
	free(f->live);
	synth_free(&f->sy);
	pcapng_meta_free(&f->ng);
	free(f);
	return (rc);
}

/*
 * Follow until *stop is set (a signal), then finish: a step every
 * FOLLOW_POLL_MS, a new file before the next frames whenever *rotate is
 * set. 0 when the capture is complete.
 */
int
follow_run(struct follow *f, volatile sig_atomic_t *stop,
    volatile sig_atomic_t *rotate)
{
	struct timespec	ts = { 0, FOLLOW_POLL_MS * 1000000L };
	int		rc = 0;

	while (!*stop && rc == 0) {
		if (*rotate) {
			*rotate = 0;
			follow_rotate(f);
		}
		rc = follow_step(f, 0);
		if (!*stop && rc == 0)
			nanosleep(&ts, NULL);
	}
	if (follow_close(f) == -1)
		rc = -1;
	return (rc);
}
