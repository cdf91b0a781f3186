/* The inputs of a conversion: opened, paired and merged by time. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ends.h"
#include "merge.h"
#include "msg.h"

/* The streams whose packets have begun and not yet ended. */
struct live {
	struct synth_stream	**s;
	size_t			  n;
	size_t			  cap;
	uint16_t		  next_port;	/* for a stream moved aside */
};

/* Say, once, what a reader of the capture should know about a trace. */
static void
describe(const struct merge *m, const struct input *in, size_t i)
{
	const struct trace_info		*t = trace_info(in->tf, i);
	const struct synth_stream	*s = &in->streams[i];
	const char			*name = trace_name(in->tf);
	const char			*path = t->conn.local.path[0] != '\0' ?
					    t->conn.local.path :
					    t->conn.remote.path;
	char				 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int				 unix_socket;

	unix_socket = t->conn.local.family == AF_UNIX ||
	    t->conn.remote.family == AF_UNIX;
	if (t->nevents == 0)
		msg_notice(m->quiet, "%s: trace %llu has no events; nothing to show", name,
		    (unsigned long long)t->trace_id);
	else if (s->mapped) {
		inet_ntop(AF_INET, s->side[0].ep.ip, a, sizeof a);
		inet_ntop(AF_INET, s->side[1].ep.ip, b, sizeof b);
		msg_notice(m->quiet, "%s: trace %llu: %s%s%s shown as %s:%u -> %s:%u", name,
		    (unsigned long long)t->trace_id, unix_socket ?
		    "AF_UNIX socket" : "connection without IP addresses",
		    path[0] != '\0' ? " " : "", path, a, s->side[0].ep.port, b,
		    s->side[1].ep.port);
	}
	if (t->conn.error[0] != '\0')
		msg_notice(m->quiet, "%s: trace %llu: the connect failed: %s", name,
		    (unsigned long long)t->trace_id, t->conn.error);
	if (t->read_truncated || t->write_truncated)
		msg_notice(m->quiet, "%s: trace %llu was truncated by the tracer (%s); "
		    "cut packets are marked", name,
		    (unsigned long long)t->trace_id, t->read_truncated &&
		    t->write_truncated ? "both directions" : t->read_truncated ?
		    "reads" : "writes");
}

/*
 * Hash the trace's description into seed. Its slices point into the
 * mapped file, at addresses that change from run to run: only whether
 * each is there counts, so a trace converts to the same bytes every time
 * (and one without them to the same bytes as before they were hashed
 * this way).
 */
static uint64_t
trace_seed(uint64_t seed, const struct trace_info *t)
{
	struct trace_info	 c;
	struct trace_slice	*sl[4 + TRACE_BACKTRACE_MAX];
	size_t			 i, n = 0;

	memcpy(&c, t, sizeof c);	/* the padding too */
	sl[n++] = &c.conn.tlsinfo;
	sl[n++] = &c.conn.process;
	sl[n++] = &c.conn.resolution;
	sl[n++] = &c.conn.stats;
	for (i = 0; i < TRACE_BACKTRACE_MAX; i++)
		sl[n++] = &c.conn.backtrace[i];
	for (i = 0; i < n; i++) {
		if (sl[i]->p != NULL)
			sl[i]->p = (const uint8_t *)1;
	}
	return (synth_hash(seed, &c, sizeof c));
}

/*
 * Open input number ordinal and prepare a stream for each trace in it,
 * unless the filter leaves it out.
 */
int
merge_open(struct merge *m, struct input *in, const char *path,
    unsigned int ordinal)
{
	const struct trace_info	*t;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	uint64_t		 seed;
	size_t			 i, n;

	if ((in->tf = trace_open(path, errbuf)) == NULL) {
		msg_err("%s", errbuf);
		return (-1);
	}
	n = trace_count(in->tf);
	if (trace_http_count(in->tf) > 0)
		msg_notice(m->quiet, "%s: %zu HTTP trace(s) skipped: only socket traces "
		    "become packets", path, trace_http_count(in->tf));
	if ((in->streams = calloc(n ? n : 1, sizeof *in->streams)) == NULL ||
	    (in->left = calloc(n ? n : 1, sizeof *in->left)) == NULL ||
	    (in->hidden = calloc(n ? n : 1, 1)) == NULL) {
		msg_err("%s: out of memory", path);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		t = trace_info(in->tf, i);
		/* The ISNs follow from the trace, its place, and nothing else. */
		seed = synth_hash(0, &ordinal, sizeof ordinal);
		seed = synth_hash(seed, &i, sizeof i);
		seed = trace_seed(seed, t);
		synth_stream_init(&in->streams[i], t, seed, m->mapped);
		in->left[i] = t->nevents;
		if (in->streams[i].mapped)
			m->mapped++;
		if (!filter_stream(m->filter, &in->streams[i]))
			in->hidden[i] = HIDE_FILTER;
		else
			describe(m, in, i);
	}
	return (0);
}

/* Is input a's next event due before input b's? */
static int
earlier(const struct input *in, unsigned int a, unsigned int b)
{
	const struct trace_event	*x = &in[a].ev, *y = &in[b].ev;

	if (x->sec != y->sec)
		return (x->sec < y->sec);
	if (x->nsec != y->nsec)
		return (x->nsec < y->nsec);
	return (a < b);
}

/* Restore the min-heap below slot i. */
static void
heap_down(unsigned int *heap, unsigned int n, unsigned int i,
    const struct input *in)
{
	unsigned int	c, tmp;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && earlier(in, heap[c + 1], heap[c]))
			c++;
		if (!earlier(in, heap[c], heap[i]))
			return;
		tmp = heap[i];
		heap[i] = heap[c];
		heap[c] = tmp;
		i = c;
	}
}

/* Load input i's next event; 0 when it has none left, -1 on damage. */
static int
advance(struct input *in)
{
	char	errbuf[TRACE_ERRBUF_SIZE];
	int	r;

	r = trace_next(in->tf, &in->ev, errbuf);
	if (r < 0)
		msg_err("%s", errbuf);
	in->has_ev = r == 1;
	in->pos = trace_position(in->tf);
	return (r);
}

/* Do two streams have the same addresses and ports, either way round? */
static int
same_tuple(const struct synth_stream *a, const struct synth_stream *b)
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

/* Is a stream with the same 4-tuple as s live? */
static int
live_clash(const struct live *lv, const struct synth_stream *s)
{
	size_t	i;

	for (i = 0; i < lv->n; i++) {
		if (same_tuple(lv->s[i], s))
			return (1);
	}
	return (0);
}

/*
 * A stream starts. Two traces of one address pair must never merge into
 * one stream: if a stream with the same 4-tuple is still live (the same
 * trace given twice, two network namespaces), show this one's client on
 * another port.
 */
static int
live_start(const struct merge *m, struct live *lv, struct input *in,
    size_t trace)
{
	struct synth_stream	*s = &in->streams[trace], **ns;
	uint16_t		 was = s->side[0].ep.port;

	while (live_clash(lv, s)) {
		if (lv->next_port < 49152)
			lv->next_port = 49152;	/* IANA's dynamic ports */
		s->side[0].ep.port = lv->next_port++;
	}
	if (s->side[0].ep.port != was)
		msg_notice(m->quiet, "%s: trace %llu: its addresses are those of a "
		    "connection still open in the capture; client port %u "
		    "shown as %u", trace_name(in->tf),
		    (unsigned long long)trace_info(in->tf, trace)->trace_id, was,
		    s->side[0].ep.port);
	if (lv->n == lv->cap) {
		lv->cap = lv->cap ? 2 * lv->cap : 64;
		if ((ns = realloc(lv->s, lv->cap * sizeof *ns)) == NULL)
			return (-1);
		lv->s = ns;
	}
	lv->s[lv->n++] = s;
	return (0);
}

/* A stream has had its last event. */
static void
live_end(struct live *lv, const struct synth_stream *s)
{
	size_t	i;

	for (i = 0; i < lv->n; i++) {
		if (lv->s[i] == s) {
			lv->s[i] = lv->s[--lv->n];
			return;
		}
	}
}

/* Synthesize the packets of input in's current event. */
static int
convert_event(const struct merge *m, struct live *lv, struct input *in,
    struct synth *sy)
{
	size_t			 t = in->ev.trace;
	struct synth_stream	*s = &in->streams[t];

	if (in->hidden[t])
		return (0);
	if (in->left[t] == trace_info(in->tf, t)->nevents &&
	    live_start(m, lv, in, t) == -1) {
		msg_err("out of memory");
		return (-1);
	}
	if (synth_event(sy, s, &in->ev) == -1)
		return (-1);
	if (--in->left[t] == 0)
		live_end(lv, s);
	return (0);
}

/* Merge every input's events by time and synthesize their packets. */
int
merge_run(const struct merge *m, struct input *in, unsigned int n,
    struct synth *sy, struct progress *pg)
{
	struct live	 lv;
	unsigned int	*heap, hn = 0, i, top;
	uint64_t	 done = 0;
	size_t		 was;
	int		 rc = -1;

	memset(&lv, 0, sizeof lv);
	if ((heap = calloc(n, sizeof *heap)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		if (advance(&in[i]) == -1)
			goto out;
		if (in[i].has_ev)
			heap[hn++] = i;
	}
	for (i = hn / 2; i-- > 0;)
		heap_down(heap, hn, i, in);
	while (hn > 0) {
		top = heap[0];
		was = in[top].pos;
		if (convert_event(m, &lv, &in[top], sy) == -1 ||
		    advance(&in[top]) == -1)
			goto out;
		done += in[top].pos - was;
		progress_update(pg, done);
		if (!in[top].has_ev)
			heap[0] = heap[--hn];
		heap_down(heap, hn, 0, in);
	}
	rc = 0;
out:
	free(lv.s);
	free(heap);
	return (rc);
}

/*
 * Both ends of one connection traced (a client and a server on one
 * machine): show it once, from the end that kept more, unless -B.
 */
int
merge_pair(const struct merge *m, struct input *in, unsigned int n)
{
	struct end_ref	*r;
	size_t		 total = 0, k = 0, j;
	unsigned int	 i;

	for (i = 0; i < n; i++)
		total += trace_count(in[i].tf);
	if (m->both_ends || total < 2)
		return (0);
	if ((r = calloc(total, sizeof *r)) == NULL) {
		msg_err("out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			if (in[i].hidden[j])
				continue;
			r[k].t = trace_info(in[i].tf, j);
			r[k].input = i;
			r[k++].trace = j;
		}
	}
	total = k;
	ends_pair(r, total);
	for (k = 0; k < total; k++) {
		if (!r[k].drop)
			continue;
		in[r[k].input].hidden[r[k].trace] = HIDE_OTHER_END;
		msg_notice(m->quiet, "%s: trace %llu is the other end of %s trace %llu: "
		    "shown once (-B shows both)", trace_name(in[r[k].input].tf),
		    (unsigned long long)r[k].t->trace_id,
		    trace_name(in[r[k].other->input].tf),
		    (unsigned long long)r[k].other->t->trace_id);
	}
	free(r);
	return (0);
}

/* Close an input and free what it holds. */
void
merge_close(struct input *in)
{
	trace_close(in->tf);
	free(in->streams);
	free(in->left);
	free(in->hidden);
	memset(in, 0, sizeof *in);
}
