/* Check tests for the synthesizer: helpers shared by its suites. */

#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"
#include "synthcheck.h"

static int	rec_emit(void *, int64_t, uint32_t, const uint8_t *, size_t,
		    const uint8_t *, size_t, size_t);

/* Each test feeds st of sy; the frames it emits are recorded in cap. */
struct capture		cap;
struct synth		sy;
struct trace_info	ti;
struct synth_stream	st;

/* The link type the frames in cap were built for. */
static int		link_type;

/* The emit callback: keep a copy of every frame, headers and data joined. */
static int
rec_emit(void *arg, int64_t sec, uint32_t nsec, const uint8_t *head,
    size_t hlen, const uint8_t *data, size_t dcap, size_t dlen)
{
	struct capture	*c = arg;
	struct rec	*r;
	size_t		 caplen = hlen + dcap, len = hlen + dlen;

	ck_assert_uint_le(dcap, dlen);
	ck_assert(dcap == 0 || data != NULL);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = realloc(c->v, c->cap * sizeof *c->v);
		ck_assert_ptr_nonnull(c->v);
	}
	r = &c->v[c->n++];
	r->data = malloc(caplen ? caplen : 1);
	ck_assert_ptr_nonnull(r->data);
	memcpy(r->data, head, hlen);
	if (dcap > 0)
		memcpy(r->data + hlen, data, dcap);
	r->caplen = caplen;
	r->len = len;
	r->sec = sec;
	r->nsec = nsec;
	return (0);
}

/* Drop every recorded frame. */
void
capture_free(struct capture *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].data);
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* (Re)start the synthesizer with a link type and MSS. */
void
start(int link, size_t mss)
{
	synth_free(&sy);
	capture_free(&cap);
	link_type = link;
	ck_assert_int_eq(synth_init(&sy, link, mss, rec_emit, &cap), 0);
}

/* Each test starts with Ethernet and the default MSS. */
void
setup(void)
{
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
}

/* Free the synthesizer and the frames. */
void
teardown(void)
{
	synth_free(&sy);
	capture_free(&cap);
}

/* Read a big-endian 16-bit value. */
uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

/*
 * Check a complete frame's L4 checksum. The pseudo-header's words may be
 * summed in any order, so IPv4's and IPv6's share the tail (RFC 1071).
 */
static void
check_l4_sum(const struct pkt *k, const uint8_t *l4, size_t l4len)
{
	uint8_t		tail[4] = { 0, (uint8_t)k->proto,
			    (uint8_t)(l4len >> 8), (uint8_t)l4len };
	size_t		n = k->v6 ? 16 : 4;
	uint64_t	sum;

	sum = frame_sum(frame_sum(frame_sum(0, k->src, n), k->dst, n), tail, 4);
	ck_assert_uint_eq(frame_fold(frame_sum(sum, l4, l4len)), 0);
}

/* Parse frame i of c, checking that its lengths and checksums agree. */
void
parse(const struct capture *c, size_t i, struct pkt *k)
{
	const struct rec	*r;
	const uint8_t		*b, *l4;
	size_t			 h = 0, l4len, th;

	ck_assert_uint_lt(i, c->n);
	r = &c->v[i];
	b = r->data;
	memset(k, 0, sizeof *k);
	if (link_type == FRAME_LINK_ETHER) {
		ck_assert_uint_ge(r->caplen, 14);
		k->v6 = get16(b + 12) == 0x86dd;
		if (!k->v6)
			ck_assert_uint_eq(get16(b + 12), 0x0800);
		h = 14;
	} else
		k->v6 = (b[0] >> 4) == 6;
	if (k->v6) {
		ck_assert_uint_eq(b[h] >> 4, 6);
		l4len = get16(b + h + 4);
		k->proto = b[h + 6];
		ck_assert_uint_ne(b[h + 7], 0);		/* hop limit */
		memcpy(k->src, b + h + 8, 16);
		memcpy(k->dst, b + h + 24, 16);
		h += 40;
	} else {
		ck_assert_uint_eq(b[h], 0x45);
		l4len = get16(b + h + 2) - 20u;
		ck_assert_uint_ne(b[h + 8], 0);		/* TTL */
		k->proto = b[h + 9];
		memcpy(k->src, b + h + 12, 4);
		memcpy(k->dst, b + h + 16, 4);
		ck_assert_uint_eq(frame_fold(frame_sum(0, b + h, 20)), 0);
		h += 20;
	}
	ck_assert_uint_eq(r->len, h + l4len);	/* wire length agrees */
	l4 = b + h;
	k->sport = get16(l4);
	k->dport = get16(l4 + 2);
	if (k->proto == IPPROTO_UDP) {
		ck_assert_uint_eq(get16(l4 + 4), l4len);
		ck_assert_uint_ne(get16(l4 + 6), 0);
		th = 8;
	} else {
		ck_assert_int_eq(k->proto, IPPROTO_TCP);
		k->seq = (uint32_t)get16(l4 + 4) << 16 | get16(l4 + 6);
		k->ack = (uint32_t)get16(l4 + 8) << 16 | get16(l4 + 10);
		th = (size_t)(l4[12] >> 4) * 4;
		ck_assert_uint_ge(th, 20);
		k->flags = l4[13];
		k->opt = l4 + 20;
		k->optlen = th - 20;
	}
	ck_assert_uint_ge(r->caplen, h + th);
	k->payload = l4 + th;
	k->paylen = l4len - th;
	k->paycap = r->caplen - h - th;
	if (r->caplen == r->len)
		check_l4_sum(k, l4, l4len);
}

/* Return TCP option `kind` of a parsed segment, or NULL. */
const uint8_t *
tcp_opt(const struct pkt *k, uint8_t kind)
{
	size_t	i = 0;

	while (i < k->optlen && k->opt[i] != 0) {
		if (k->opt[i] == 1) {
			i++;
			continue;
		}
		ck_assert_uint_le(i + 2, k->optlen);
		if (k->opt[i] == kind)
			return (k->opt + i);
		i += k->opt[i + 1];
	}
	return (NULL);
}

/* A TCP-over-IPv4 trace: 10.0.0.1:lport here, 10.0.0.2:rport there. */
void
info4(enum trace_role role, uint16_t lport, uint16_t rport)
{
	static const uint8_t	lip[4] = { 10, 0, 0, 1 };
	static const uint8_t	rip[4] = { 10, 0, 0, 2 };

	memset(&ti, 0, sizeof ti);
	ti.has_conn = 1;
	ti.conn.role = role;
	ti.conn.local.family = ti.conn.remote.family = AF_INET;
	memcpy(ti.conn.local.ip, lip, 4);
	memcpy(ti.conn.remote.ip, rip, 4);
	ti.conn.local.port = lport;
	ti.conn.remote.port = rport;
}

/* info4() and a stream for it, seed 1, ordinal 0. */
void
open4(enum trace_role role, uint16_t lport, uint16_t rport)
{
	info4(role, lport, rport);
	synth_stream_init(&st, &ti, 1, 0);
}

/* An event of `kind` carrying caplen of len bytes, at 1000.5 s. */
struct trace_event
event(enum trace_kind kind, const void *data, size_t caplen, uint64_t len)
{
	struct trace_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.has_time = 1;
	ev.sec = 1000;
	ev.nsec = 500000000;
	ev.kind = kind;
	ev.data = data;
	ev.caplen = caplen;
	ev.len = len;
	ev.truncated = caplen < len;
	return (ev);
}

/* Feed an event to st; it must succeed. */
void
push(const struct trace_event *ev)
{
	ck_assert_int_eq(synth_event(&sy, &st, ev), 0);
}

/* Feed a read or write of string s (or nothing, for NULL). */
void
feed(enum trace_kind kind, const char *s)
{
	size_t			n = s ? strlen(s) : 0;
	struct trace_event	ev = event(kind, s, n, n);

	push(&ev);
}

/* Feed a closed event. */
void
feed_close(enum trace_reset reset)
{
	struct trace_event	ev = event(TRACE_EV_CLOSED, NULL, 0, 0);

	ev.reset = reset;
	push(&ev);
}

/* The initial sequence number port sent in its SYN. */
static uint32_t
isn_of(uint16_t port)
{
	struct pkt	k;
	size_t		i;

	for (i = 0; i < cap.n; i++) {
		parse(&cap, i, &k);
		if (k.sport == port && (k.flags & TCP_SYN))
			return (k.seq);
	}
	ck_abort_msg("no SYN from port %u", port);
	return (0);
}

/*
 * Check frame i: TCP from port `from` with exactly `flags`, and seq and
 * ack relative to the two ISNs, as Wireshark shows them.
 */
void
seg(size_t i, uint16_t from, uint8_t flags, uint32_t rseq, uint32_t rack,
    struct pkt *k)
{
	struct pkt	kk;

	if (k == NULL)
		k = &kk;
	parse(&cap, i, k);
	ck_assert_msg(k->sport == from && k->flags == flags,
	    "frame %zu: port %u flags %#x", i, k->sport, k->flags);
	ck_assert_uint_eq(k->seq - isn_of(from), rseq);
	if (flags & TCP_ACK)
		ck_assert_uint_eq(k->ack - isn_of(k->dport), rack);
	else
		ck_assert_uint_eq(k->ack, 0);
}
