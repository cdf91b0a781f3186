/* The inputs of a conversion: opened, paired and merged by time. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "decode-as.h"
#include "ends.h"
#include "escape.h"
#include "merge.h"
#include "notice.h"
#include "wire.h"

/*
 * The streams whose packets have begun and not yet ended, in a hash by
 * their 4-tuple (open addressing, tombstones), so any number of open
 * traces of one address pair costs linear time.
 */
struct live {
	struct synth_stream	**s;		/* NULL: empty; LIVE_GONE */
	size_t			  cap;		/* 0 or a power of two */
	size_t			  n;		/* live */
	size_t			  used;		/* live and tombstones */
	uint64_t		  next;		/* next stand-in client end */
	unsigned long		  moved;	/* streams moved aside */
};

static struct synth_stream	live_gone;
#define LIVE_GONE		(&live_gone)
#define LIVE_SAID		10	/* moves told one by one */

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
	char				 epath[ESC_SIZE(sizeof t->conn.local.path)];
	char				 eerr[ESC_SIZE(sizeof t->conn.error)];
	int				 unix_socket;

	unix_socket = t->conn.local.family == AF_UNIX ||
	    t->conn.remote.family == AF_UNIX;
	if (t->nevents == 0)
		notice_say(m->quiet, "%s: trace %llu has no events; nothing to show", name,
		    (unsigned long long)t->trace_id);
	else if (s->mapped) {
		inet_ntop(AF_INET, s->side[0].ep.ip, a, sizeof a);
		inet_ntop(AF_INET, s->side[1].ep.ip, b, sizeof b);
		notice_say(m->quiet, "%s: trace %llu: %s%s%s shown as %s:%u -> %s:%u", name,
		    (unsigned long long)t->trace_id, t->conn.local.internal ||
		    t->conn.remote.internal ? "Envoy internal address" :
		    unix_socket ? "AF_UNIX socket" :
		    "connection without IP addresses",
		    path[0] != '\0' ? " " : "", esc_str(epath, sizeof epath,
		    path), a, s->side[0].ep.port, b,
		    s->side[1].ep.port);
	}
	if (t->nevents > 0 && !s->mapped &&
	    (t->conn.local.family == AF_UNSPEC ||
	    t->conn.remote.family == AF_UNSPEC)) {
		const struct frame_ep	*ep = &s->side[t->conn.local.family ==
					    AF_UNSPEC ? s->local : !s->local].ep;

		inet_ntop(ep->family, ep->ip, a, sizeof a);
		notice_say(m->quiet, "%s: trace %llu records no %s address: "
		    "shown as %s port %u", name,
		    (unsigned long long)t->trace_id,
		    t->conn.local.family == AF_UNSPEC ? "local" : "remote", a,
		    ep->port);
	}
	if (t->untimed > 0)
		notice_say(m->quiet, "%s: trace %llu: %zu event(s) without a "
		    "timestamp: shown at the time of the event before", name,
		    (unsigned long long)t->trace_id, t->untimed);
	if (t->backwards > 0)
		notice_say(m->quiet, "%s: trace %llu: %zu event(s) earlier than "
		    "the event before them: kept in the trace's order", name,
		    (unsigned long long)t->trace_id, t->backwards);
	if (t->joined > 0)
		notice_say(m->quiet, "%s: trace %llu: %zu later part(s) name "
		    "another trace or a new connection (files joined with "
		    "cat?): merged into one, as a protobuf parser would", name,
		    (unsigned long long)t->trace_id, t->joined);
	if (t->conn.error[0] != '\0')
		notice_say(m->quiet, "%s: trace %llu: the connect failed: %s", name,
		    (unsigned long long)t->trace_id, esc_str(eerr, sizeof eerr,
		    t->conn.error));
	if (t->seq_gaps > 0)
		notice_say(m->quiet, "%s: trace %llu: %llu event(s) missing "
		    "(Envoy's seq_num) in %zu place(s), the first after "
		    "seq_num %llu, at %lld.%09u", name,
		    (unsigned long long)t->trace_id,
		    (unsigned long long)t->seq_missing, t->seq_gaps,
		    (unsigned long long)t->seq_gap_after,
		    (long long)t->seq_gap_sec, t->seq_gap_nsec);
	if (t->cut_known > 0)
		notice_say(m->quiet, "%s: trace %llu: %zu event(s) cut by the "
		    "tracer: their packets are marked (captured length less "
		    "than length)", name, (unsigned long long)t->trace_id,
		    t->cut_known);
	if (t->cut_unknown > 0)
		notice_say(m->quiet, "%s: trace %llu: %zu body(ies) truncated "
		    "by the tracer without their length (Body.truncated): each "
		    "is followed by a one-byte gap in the sequence numbers, "
		    "which Wireshark flags; how much was lost is not in the "
		    "trace", name, (unsigned long long)t->trace_id,
		    t->cut_unknown);
	if ((t->read_truncated || t->write_truncated) && t->cut_known == 0 &&
	    t->cut_unknown == 0)
		notice_say(m->quiet, "%s: trace %llu says the tracer truncated "
		    "it (%s) but no event says where: the capture ends where "
		    "the trace does", name, (unsigned long long)t->trace_id,
		    t->read_truncated && t->write_truncated ?
		    "both directions" : t->read_truncated ? "reads" : "writes");
	/* A trace without a close: convert.c's list says so, once. */
	if (t->closed && t->ending == TRACE_ENDING_CUT)
		notice_say(m->quiet, "%s: trace %llu was cut by the tracer (%s); "
		    "what followed is not in it, no FIN drawn", name,
		    (unsigned long long)t->trace_id, esc_str(eerr, sizeof eerr,
		    t->cut_reason[0] != '\0' ? t->cut_reason :
		    "no reason given"));
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
		notice_err("%s", errbuf);
		return (-1);
	}
	if (trace_damage(in->tf, &i, &n) != TRACE_WHOLE) {
		trace_damage_text(in->tf, errbuf, sizeof errbuf);
		if (m->strict) {
			notice_err("%s (--strict)", errbuf);
			return (-1);
		}
		notice_say(m->quiet, "%s", errbuf);
	}
	n = trace_count(in->tf);
	if (trace_format(in->tf) == TRACE_FORMAT_V2ALPHA)
		notice_say(m->quiet, "%s: read as Envoy 1.7-1.9's bare "
		    "envoy.data.tap.v2alpha.Trace (no TraceWrapper)", path);
	if (trace_http_count(in->tf) > 0)
		notice_say(m->quiet, "%s: %zu HTTP trace(s) skipped: only socket traces "
		    "become packets", path, trace_http_count(in->tf));
	if ((in->streams = calloc(n ? n : 1, sizeof *in->streams)) == NULL ||
	    (in->left = calloc(n ? n : 1, sizeof *in->left)) == NULL ||
	    (in->hidden = calloc(n ? n : 1, 1)) == NULL ||
	    (in->evlost = calloc(n ? n : 1, sizeof *in->evlost)) == NULL) {
		notice_err("%s: out of memory", path);
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
		notice_err("%s", errbuf);
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

/* A hash of an endpoint's address and port. */
static uint64_t
live_ep_hash(const struct frame_ep *ep)
{
	uint64_t	h;

	h = synth_hash(0, ep->ip, sizeof ep->ip);
	return (synth_hash(h, &ep->port, sizeof ep->port));
}

/* A stream's slot in the hash, the same either way round. */
static size_t
live_hash(const struct live *lv, const struct synth_stream *s)
{
	uint64_t	h;

	h = live_ep_hash(&s->side[0].ep) + live_ep_hash(&s->side[1].ep);
	h = synth_hash(h, &s->udp, sizeof s->udp);
	return ((size_t)h & (lv->cap - 1));
}

/* Is a stream with the same 4-tuple as s live? */
static int
live_clash(const struct live *lv, const struct synth_stream *s)
{
	size_t	h;

	if (lv->cap == 0)
		return (0);
	for (h = live_hash(lv, s); lv->s[h] != NULL; h = (h + 1) &
	    (lv->cap - 1)) {
		if (lv->s[h] != LIVE_GONE && same_tuple(lv->s[h], s))
			return (1);
	}
	return (0);
}

/* Put s into the hash, which has room. */
static void
live_put(struct live *lv, struct synth_stream *s)
{
	size_t	h;

	for (h = live_hash(lv, s); lv->s[h] != NULL && lv->s[h] != LIVE_GONE;
	    h = (h + 1) & (lv->cap - 1))
		;
	if (lv->s[h] == NULL)
		lv->used++;
	lv->s[h] = s;
	lv->n++;
}

/* Rebuild the hash with room for one more, dropping the tombstones. */
static int
live_grow(struct live *lv)
{
	struct synth_stream	**old = lv->s;
	size_t			  oldcap = lv->cap, i;

	if ((lv->used + 1) * 2 <= lv->cap)
		return (0);
	lv->cap = oldcap ? oldcap : 64;
	while ((lv->n + 1) * 4 > lv->cap)
		lv->cap *= 2;
	if ((lv->s = calloc(lv->cap, sizeof *lv->s)) == NULL) {
		lv->s = old;
		lv->cap = oldcap;
		return (-1);
	}
	lv->n = lv->used = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i] != NULL && old[i] != LIVE_GONE)
			live_put(lv, old[i]);
	}
	free(old);
	return (0);
}

/*
 * Move the client end of s aside to the next stand-in: a port in IANA's
 * dynamic range (49152-65535), then the same ports on the next address,
 * so there is always one more, however many clash.
 */
static void
live_move(struct live *lv, struct synth_stream *s, const struct frame_ep *was)
{
	struct frame_ep	*ep = &s->side[0].ep;
	uint64_t	 k = lv->next++;
	uint32_t	 low;

	memcpy(ep->ip, was->ip, sizeof ep->ip);
	ep->port = (uint16_t)(49152 + k % 16384);
	if (k / 16384 == 0)
		return;
	memcpy(&low, ep->ip + (ep->family == AF_INET ? 0 : 12), 4);
	low = htonl(ntohl(low) + (uint32_t)(k / 16384));
	memcpy(ep->ip + (ep->family == AF_INET ? 0 : 12), &low, 4);
}

/*
 * A stream starts. Two traces of one address pair must never merge into
 * one stream: if a stream with the same 4-tuple is still live (the same
 * trace given twice, two network namespaces, thousands of traces of one
 * pair), show this one's client on another port, or address.
 */
static int
live_start(const struct merge *m, struct live *lv, struct input *in,
    size_t trace)
{
	struct synth_stream	*s = &in->streams[trace];
	struct frame_ep		 was = s->side[0].ep;
	char			 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (live_grow(lv) == -1)
		return (-1);
	while (live_clash(lv, s))
		live_move(lv, s, &was);
	if ((s->side[0].ep.port != was.port || memcmp(s->side[0].ep.ip,
	    was.ip, sizeof was.ip) != 0) && lv->moved++ < LIVE_SAID) {
		inet_ntop(was.family, was.ip, a, sizeof a);
		inet_ntop(was.family, s->side[0].ep.ip, b, sizeof b);
		notice_say(m->quiet, "%s: trace %llu: its addresses are those "
		    "of a connection still open in the capture; client %s "
		    "port %u shown as %s port %u", trace_name(in->tf),
		    (unsigned long long)trace_info(in->tf, trace)->trace_id,
		    a, was.port, b, s->side[0].ep.port);
	}
	live_put(lv, s);
	return (0);
}

/* A stream has had its last event. */
static void
live_end(struct live *lv, const struct synth_stream *s)
{
	size_t	h;

	for (h = live_hash(lv, s); lv->s[h] != NULL; h = (h + 1) &
	    (lv->cap - 1)) {
		if (lv->s[h] == s) {
			lv->s[h] = LIVE_GONE;
			lv->n--;
			return;
		}
	}
}

/*
 * With --starttls-omit: is this event the STARTTLS negotiation in the
 * clear at the start of a TLS plaintext trace (decode-as.c), which makes
 * Wireshark's dissector expect TLS after it? PostgreSQL's SSLRequest
 * and the server's 'S'; MySQL's SSL request packet (32 bytes, sequence
 * 1). Only among a trace's first three events.
 */
static int
starttls_event(const struct input *in, size_t t)
{
	const struct trace_info		*ti = trace_info(in->tf, t);
	const struct trace_event	*ev = &in->ev;
	int				 client_write, kind;

	if (ti->conn.tls != TRACE_TLS_PLAINTEXT ||
	    ti->nevents - in->left[t] >= 3 ||
	    (kind = decodeas_starttls(ti)) == 0 ||
	    (ev->kind != TRACE_EV_READ && ev->kind != TRACE_EV_WRITE))
		return (0);
	client_write = (ev->kind == TRACE_EV_WRITE) ==
	    (ti->conn.role != TRACE_ROLE_SERVER);
	if (kind == 1)
		return (client_write ? ev->caplen == 8 &&
		    memcmp(ev->data, ti->head[ti->conn.role !=
		    TRACE_ROLE_SERVER], 8) == 0 : ev->caplen == 1 &&
		    ev->data[0] == 'S');
	return (client_write && ev->caplen == 36 && ev->data[0] == 32 &&
	    ev->data[1] == 0 && ev->data[2] == 0 && ev->data[3] == 1);
}

/* Does a trace's stats name unseen_calls among the reasons it lost bytes? */
static int
unseen_reason(const struct trace_conn *c)
{
	struct wire_field	 f;
	const char		*why;
	size_t			 pos = 0;

	while (wire_next(c->stats.p, c->stats.len, &pos, &f, &why) == 1) {
		if (f.number == 7 && f.type == WIRE_LEN && f.len == 12 &&
		    memcmp(f.data, "unseen_calls", 12) == 0)
			return (1);
	}
	return (0);
}

/*
 * Trace t of in ends, its bytes in stream s: bytes the kernel moved that
 * no hook saw (its stats' losses past what its events did not keep, for
 * unseen_calls) advance the sequence numbers before the close, so the
 * FIN is where it was and the gap shows (Wireshark: "previous segment
 * not captured"); a notice says where.
 */
static void
unseen_gap(const struct merge *m, struct input *in, size_t t,
    struct synth_stream *s)
{
	const struct trace_info	*ti = trace_info(in->tf, t);
	uint64_t		 gap[2];
	int			 d;

	if (!ti->conn.has_stats || s->udp || s->state != SYNTH_OPEN ||
	    !unseen_reason(&ti->conn))
		return;
	for (d = 0; d < 2; d++)
		gap[d] = ti->conn.lost[d] > in->evlost[t][d] ?
		    ti->conn.lost[d] - in->evlost[t][d] : 0;
	if (gap[0] == 0 && gap[1] == 0)
		return;
	s->side[s->local].next += (uint32_t)gap[1];
	s->side[!s->local].next += (uint32_t)gap[0];
	notice_say(m->quiet, "%s: trace %llu: %llu bytes sent and %llu "
	    "received through calls the tracer could not see (unseen_calls): "
	    "a gap in the sequence numbers before its close",
	    trace_name(in->tf), (unsigned long long)ti->trace_id,
	    (unsigned long long)gap[1], (unsigned long long)gap[0]);
}

/* Keep what an event did not keep, and mark unseen bytes at a close. */
static void
account_event(const struct merge *m, struct input *in,
    struct synth_stream *s)
{
	const struct trace_event	*ev = &in->ev;

	if (ev->kind == TRACE_EV_READ || ev->kind == TRACE_EV_WRITE)
		in->evlost[ev->trace][ev->kind == TRACE_EV_WRITE] +=
		    ev->len > ev->caplen ? ev->len - ev->caplen : 0;
	else if (ev->kind == TRACE_EV_CLOSED)
		unseen_gap(m, in, ev->trace, s);
}

/*
 * An event of a piece of a joined socket: into the first piece's stream;
 * a close is drawn only as the group's last event (the last process to
 * close the socket), the others' are not the connection's end.
 */
static int
convert_joined(const struct merge *m, struct live *lv, struct input *in,
    struct synth *sy, struct join *g)
{
	struct synth_stream	*s = &g->in->streams[g->trace];

	if (!g->started) {
		g->started = 1;
		if (live_start(m, lv, g->in, g->trace) == -1) {
			notice_err("out of memory");
			return (-1);
		}
	}
	account_event(m, in, s);
	if ((in->ev.kind != TRACE_EV_CLOSED || g->left == 1) &&
	    synth_event(sy, s, &in->ev) == -1)
		return (-1);
	in->left[in->ev.trace]--;
	if (--g->left == 0)
		live_end(lv, s);
	return (0);
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
	if (in->join != NULL && in->join[t] != NULL)
		return (convert_joined(m, lv, in, sy, in->join[t]));
	if (in->left[t] == trace_info(in->tf, t)->nevents &&
	    live_start(m, lv, in, t) == -1) {
		notice_err("out of memory");
		return (-1);
	}
	account_event(m, in, s);
	if (m->starttls_omit && starttls_event(in, t)) {
		in->omitted++;
	} else if (synth_event(sy, s, &in->ev) == -1)
		return (-1);
	if (--in->left[t] == 0)
		live_end(lv, s);
	return (0);
}

/* Merge every input's events by time and synthesize their packets. */
int
merge_run(const struct merge *m, struct input *in, unsigned int n,
    struct synth *sy)
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
		notice_progress(NOTICE_PROG_STEP, done, 0);
		if (!in[top].has_ev)
			heap[0] = heap[--hn];
		heap_down(heap, hn, 0, in);
	}
	if (lv.moved > LIVE_SAID)
		notice_say(m->quiet, "%lu more traces had the addresses of a "
		    "connection still open in the capture: their clients were "
		    "shown on other ports", lv.moved - LIVE_SAID);
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
		notice_err("out of memory");
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
		notice_say(m->quiet, "%s: trace %llu is the other end of %s trace %llu: "
		    "shown once (-B shows both)", trace_name(in[r[k].input].tf),
		    (unsigned long long)r[k].t->trace_id,
		    trace_name(in[r[k].other->input].tf),
		    (unsigned long long)r[k].other->t->trace_id);
	}
	free(r);
	return (0);
}

/* Give each piece of group lead (n refs from r) its struct join. */
static int
join_group(const struct merge *m, struct input *in, struct end_ref *r,
    size_t n)
{
	struct input	*x;
	struct join	*g;
	size_t		 k;

	if ((g = calloc(1, sizeof *g)) == NULL)
		return (-1);
	g->in = &in[r[0].input];
	g->trace = r[0].trace;
	for (k = 0; k < n; k++) {
		x = &in[r[k].input];
		if (x->join == NULL && (x->join = calloc(trace_count(x->tf),
		    sizeof *x->join)) == NULL) {
			if (g->refs == 0)
				free(g);
			return (-1);
		}
		x->join[r[k].trace] = g;
		g->refs++;
		g->left += r[k].t->nevents;
		if (k > 0)
			notice_say(m->quiet, "%s: trace %llu (pid %u) is a "
			    "piece of the socket of %s trace %llu (pid %u, "
			    "inode %llu): joined into one stream",
			    trace_name(x->tf),
			    (unsigned long long)r[k].t->trace_id,
			    r[k].t->conn.pid, trace_name(g->in->tf),
			    (unsigned long long)r[0].t->trace_id,
			    r[0].t->conn.pid,
			    (unsigned long long)r[0].t->conn.inode);
	}
	return (0);
}

/*
 * Pieces of one socket written by several processes (a forking server,
 * a socket inherited across exec): one stream, each event in time order
 * and kept as its process wrote it; the FIN at the last close.
 */
int
merge_join(const struct merge *m, struct input *in, unsigned int n)
{
	struct end_ref	*r;
	size_t		 total = 0, k = 0, j, end;
	unsigned int	 i;
	int		 rc = 0;

	for (i = 0; i < n; i++)
		total += trace_count(in[i].tf);
	if (total < 2)
		return (0);
	if ((r = calloc(total, sizeof *r)) == NULL) {
		notice_err("out of memory");
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			if (in[i].hidden[j] ||
			    trace_info(in[i].tf, j)->nevents == 0)
				continue;
			r[k].t = trace_info(in[i].tf, j);
			r[k].input = i;
			r[k++].trace = j;
		}
	}
	ends_join(r, k);
	for (j = 0; j < k && rc == 0; j = end) {
		for (end = j + 1; end < k && r[end].lead == &r[j]; end++)
			;
		if (end > j + 1 && join_group(m, in, r + j, end - j) == -1) {
			notice_err("out of memory");
			rc = -1;
		}
	}
	free(r);
	return (rc);
}

/* Close an input and free what it holds. */
void
merge_close(struct input *in)
{
	size_t	i;

	/* A group's struct join goes with its last piece. */
	for (i = 0; in->join != NULL && i < trace_count(in->tf); i++) {
		if (in->join[i] != NULL && --in->join[i]->refs == 0)
			free(in->join[i]);
	}
	free(in->join);
	trace_close(in->tf);
	free(in->streams);
	free(in->left);
	free(in->evlost);
	free(in->hidden);
	memset(in, 0, sizeof *in);
}
