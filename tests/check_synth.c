/* Check suite for synth.c: the packets a trace's events become. */

#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

/* One frame as the emit callback saw it. */
struct rec {
	uint8_t		*data;
	size_t		 caplen, len;
	int64_t		 sec;
	uint32_t	 nsec;
};

struct capture {
	struct rec	*v;
	size_t		 n, cap;
};

/* A frame's IP and TCP/UDP fields, parsed back from its bytes. */
struct pkt {
	int		 v6, proto;
	uint8_t		 src[16], dst[16];
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	uint8_t		 flags;
	const uint8_t	*opt;
	size_t		 optlen;
	const uint8_t	*payload;
	size_t		 paylen;	/* on the wire */
	size_t		 paycap;	/* captured */
};

static int	rec_emit(void *, int64_t, uint32_t, const uint8_t *, size_t,
		    size_t);
static Suite	*synth_suite(void);

static struct capture		cap;
static struct synth		sy;
static int			link_type;
static struct trace_info	ti;
static struct synth_stream	st;

/* The emit callback: keep a copy of every frame. */
static int
rec_emit(void *arg, int64_t sec, uint32_t nsec, const uint8_t *p,
    size_t caplen, size_t len)
{
	struct capture	*c = arg;
	struct rec	*r;

	ck_assert_uint_le(caplen, len);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = realloc(c->v, c->cap * sizeof *c->v);
		ck_assert_ptr_nonnull(c->v);
	}
	r = &c->v[c->n++];
	r->data = malloc(caplen ? caplen : 1);
	ck_assert_ptr_nonnull(r->data);
	memcpy(r->data, p, caplen);
	r->caplen = caplen;
	r->len = len;
	r->sec = sec;
	r->nsec = nsec;
	return (0);
}

/* Drop every recorded frame. */
static void
capture_free(struct capture *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].data);
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* (Re)start the synthesizer with a link type and MSS. */
static void
start(int link, size_t mss)
{
	synth_free(&sy);
	capture_free(&cap);
	link_type = link;
	ck_assert_int_eq(synth_init(&sy, link, mss, rec_emit, &cap), 0);
}

/* Each test starts with Ethernet and the default MSS. */
static void
setup(void)
{
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
}

/* Free the synthesizer and the frames. */
static void
teardown(void)
{
	synth_free(&sy);
	capture_free(&cap);
}

/* Read a big-endian 16-bit value. */
static uint16_t
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
static void
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
static const uint8_t *
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
static void
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
static void
open4(enum trace_role role, uint16_t lport, uint16_t rport)
{
	info4(role, lport, rport);
	synth_stream_init(&st, &ti, 1, 0);
}

/* An event of `kind` carrying caplen of len bytes, at 1000.5 s. */
static struct trace_event
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
static void
push(const struct trace_event *ev)
{
	ck_assert_int_eq(synth_event(&sy, &st, ev), 0);
}

/* Feed a read or write of string s (or nothing, for NULL). */
static void
feed(enum trace_kind kind, const char *s)
{
	size_t			n = s ? strlen(s) : 0;
	struct trace_event	ev = event(kind, s, n, n);

	push(&ev);
}

/* Feed a closed event. */
static void
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
static void
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

/* A client write: SYN with options, SYN|ACK, ACK, then the data. */
START_TEST(test_handshake)
{
	struct pkt	k;
	const uint8_t	*o;

	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_WRITE, "hello");
	ck_assert_uint_eq(cap.n, 5);
	ck_assert_uint_eq(sy.frames, 5);
	seg(0, 40000, TCP_SYN, 0, 0, &k);
	ck_assert_uint_eq(k.dport, 80);
	ck_assert_uint_eq(k.paylen, 0);
	ck_assert_ptr_nonnull(o = tcp_opt(&k, 2));	/* MSS */
	ck_assert_uint_eq(o[1], 4);
	ck_assert_uint_eq(get16(o + 2), SYNTH_MSS_DEFAULT);
	ck_assert_ptr_nonnull(o = tcp_opt(&k, 3));	/* window scale */
	ck_assert_uint_eq(o[1], 3);
	ck_assert_uint_le(o[2], 14);		/* RFC 7323, section 2.3 */
	seg(1, 80, TCP_SYN | TCP_ACK, 0, 1, &k);
	ck_assert_ptr_nonnull(tcp_opt(&k, 2));
	seg(2, 40000, TCP_ACK, 1, 1, NULL);
	seg(3, 40000, TCP_PSH | TCP_ACK, 1, 1, &k);
	ck_assert_uint_eq(k.paylen, 5);
	ck_assert_mem_eq(k.payload, "hello", 5);
	seg(4, 80, TCP_ACK, 1, 6, NULL);
	ck_assert_int_eq(cap.v[4].sec, 1000);
	ck_assert_uint_eq(cap.v[4].nsec, 500000000);
}
END_TEST

/* Who is the client: the role when known, else the higher port. */
static const struct {
	enum trace_role	role;
	uint16_t	lport, rport, client;
} role_cases[] = {
	{ TRACE_ROLE_CLIENT, 40000, 80, 40000 },
	{ TRACE_ROLE_SERVER, 80, 40000, 40000 },
	{ TRACE_ROLE_CLIENT, 80, 40000, 80 },	/* role beats ports */
	{ TRACE_ROLE_SERVER, 40000, 80, 80 },
	{ TRACE_ROLE_UNKNOWN, 8080, 51000, 51000 },
	{ TRACE_ROLE_UNKNOWN, 51000, 443, 51000 }
};

/* The SYN comes from the client; writes leave here, reads arrive. */
START_TEST(test_role)
{
	const uint16_t	l = role_cases[_i].lport;
	const uint16_t	r = role_cases[_i].rport;
	struct pkt	k;

	open4(role_cases[_i].role, l, r);
	feed(TRACE_EV_WRITE, "ab");
	feed(TRACE_EV_READ, "GET");
	ck_assert_uint_eq(cap.n, 7);
	seg(0, role_cases[_i].client, TCP_SYN, 0, 0, &k);
	ck_assert_uint_eq(k.dport, role_cases[_i].client == l ? r : l);
	seg(3, l, TCP_PSH | TCP_ACK, 1, 1, NULL);
	seg(4, r, TCP_ACK, 1, 3, NULL);
	seg(5, r, TCP_PSH | TCP_ACK, 1, 3, &k);
	ck_assert_mem_eq(k.payload, "GET", 3);
	seg(6, l, TCP_ACK, 3, 4, NULL);
}
END_TEST

/* 9375: exactly 32 segments, so no ACK in between and one at the end. */
static const size_t	split_mss[] = { SYNTH_MSS_DEFAULT, 1000, 536, 9375,
			    SYNTH_MSS_MAX };

/*
 * A 300 KB write in MSS-sized PSH|ACK segments, seq continuous, every
 * peer ACK acknowledging exactly what was sent so far.
 */
START_TEST(test_split)
{
	const size_t		mss = split_mss[_i], total = 300000;
	struct trace_event	ev;
	struct pkt		k;
	uint8_t			*data;
	size_t			i, off = 0, nseg = 0, nack = 0;

	start(FRAME_LINK_ETHER, mss);
	data = malloc(total);
	ck_assert_ptr_nonnull(data);
	for (i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 7 + i / 256);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_WRITE, data, total, total);
	push(&ev);
	seg(0, 40000, TCP_SYN, 0, 0, &k);
	ck_assert_uint_eq(get16(tcp_opt(&k, 2) + 2), mss);
	for (i = 3; i < cap.n; i++) {
		parse(&cap, i, &k);
		if (k.sport == 40000) {
			seg(i, 40000, TCP_PSH | TCP_ACK, 1 + off, 1, &k);
			ck_assert_uint_eq(k.paylen, total - off < mss ?
			    total - off : mss);
			ck_assert_uint_eq(k.paycap, k.paylen);
			ck_assert(memcmp(k.payload, data + off, k.paylen) == 0);
			off += k.paylen;
			nseg++;
		} else {
			seg(i, 80, TCP_ACK, 1, 1 + off, NULL);
			nack++;
		}
	}
	free(data);
	ck_assert_uint_eq(nseg, (total + mss - 1) / mss);
	ck_assert_uint_eq(off, total);
	seg(cap.n - 1, 80, TCP_ACK, 1, 1 + total, NULL);
	ck_assert_uint_eq(nack, 1 + (nseg - 1) / SYNTH_ACK_EVERY);
}
END_TEST

/* SHUT_WR: FIN from the local side, ACKed; the close adds only the peer's. */
START_TEST(test_end_stream)
{
	struct trace_event	ev;

	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_WRITE, "bye", 3, 3);
	ev.end_stream = 1;
	push(&ev);
	ck_assert_uint_eq(cap.n, 7);
	seg(5, 40000, TCP_FIN | TCP_ACK, 4, 1, NULL);
	seg(6, 80, TCP_ACK, 1, 5, NULL);
	/* The peer may still send; the close then adds its FIN only. */
	feed(TRACE_EV_READ, "ok");
	seg(8, 40000, TCP_ACK, 5, 3, NULL);
	feed_close(TRACE_RESET_NONE);
	ck_assert_uint_eq(cap.n, 11);
	seg(9, 80, TCP_FIN | TCP_ACK, 3, 5, NULL);
	seg(10, 40000, TCP_ACK, 5, 4, NULL);
	/* A peer's EOF (read end_stream) is a FIN from the remote side. */
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_READ, NULL, 0, 0);
	ev.end_stream = 1;
	push(&ev);
	ck_assert_uint_eq(cap.n, 5);
	seg(3, 80, TCP_FIN | TCP_ACK, 1, 1, NULL);
	seg(4, 40000, TCP_ACK, 1, 2, NULL);
}
END_TEST

/* Closed: FIN each way, each FIN taking one sequence number. */
START_TEST(test_closed)
{
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_WRITE, "abc");
	feed(TRACE_EV_READ, "defg");
	feed_close(TRACE_RESET_NONE);
	ck_assert_uint_eq(cap.n, 11);
	seg(7, 40000, TCP_FIN | TCP_ACK, 4, 5, NULL);
	seg(8, 80, TCP_ACK, 5, 5, NULL);
	seg(9, 80, TCP_FIN | TCP_ACK, 5, 5, NULL);
	seg(10, 40000, TCP_ACK, 5, 6, NULL);
}
END_TEST

/* A reset: one RST from the side the trace blames, and no FIN. */
START_TEST(test_reset)
{
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_WRITE, "x");
	feed_close(TRACE_RESET_BY_PEER);
	ck_assert_uint_eq(cap.n, 6);
	seg(5, 80, TCP_RST | TCP_ACK, 1, 2, NULL);
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed_close(TRACE_RESET_BY_LOCAL);
	ck_assert_uint_eq(cap.n, 4);
	seg(3, 40000, TCP_RST | TCP_ACK, 1, 1, NULL);
}
END_TEST

/* Truncated data: short frames, seq advanced by the full length. */
START_TEST(test_truncated)
{
	struct trace_event	ev;
	struct pkt		k;
	uint8_t			data[100];
	size_t			i;

	memset(data, 'T', sizeof data);
	open4(TRACE_ROLE_CLIENT, 40000, 80);
	ev = event(TRACE_EV_WRITE, data, 100, 5000);
	push(&ev);
	ck_assert_uint_eq(cap.n, 3 + 4 + 1);	/* 1460 * 3 + 620 */
	for (i = 0; i < 4; i++) {
		seg(3 + i, 40000, TCP_PSH | TCP_ACK, 1 + 1460 * i, 1, &k);
		ck_assert_uint_lt(cap.v[3 + i].caplen, cap.v[3 + i].len);
		ck_assert_uint_eq(k.paylen, i < 3 ? 1460 : 620);
		ck_assert_uint_eq(k.paycap, i == 0 ? 100 : 0);
	}
	ck_assert_mem_eq(cap.v[3].data + cap.v[3].caplen - 100, data, 100);
	seg(7, 80, TCP_ACK, 1, 5001, NULL);
	feed(TRACE_EV_WRITE, "z");
	seg(8, 40000, TCP_PSH | TCP_ACK, 5001, 1, NULL);
	ck_assert_uint_eq(cap.v[8].caplen, cap.v[8].len);
}
END_TEST

/* Run a short conversation with seed; hand back what it captured. */
static struct capture
conversation(uint64_t seed)
{
	struct capture	c;

	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	info4(TRACE_ROLE_CLIENT, 40000, 80);
	synth_stream_init(&st, &ti, seed, 0);
	feed(TRACE_EV_WRITE, "ping");
	feed(TRACE_EV_READ, "pong");
	feed_close(TRACE_RESET_NONE);
	c = cap;
	memset(&cap, 0, sizeof cap);
	return (c);
}

/* The same seed gives the same bytes; another seed other ISNs. */
START_TEST(test_seed)
{
	struct capture	a = conversation(42), b = conversation(42);
	struct capture	c = conversation(43);
	struct pkt	ka, kc;
	size_t		i;

	ck_assert_uint_eq(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		ck_assert_uint_eq(a.v[i].len, b.v[i].len);
		ck_assert_uint_eq(a.v[i].caplen, b.v[i].caplen);
		ck_assert(memcmp(a.v[i].data, b.v[i].data, a.v[i].caplen) == 0);
	}
	for (i = 0; i < 2; i++) {		/* SYN and SYN|ACK */
		parse(&a, i, &ka);
		parse(&c, i, &kc);
		ck_assert_uint_ne(ka.seq, kc.seq);
	}
	capture_free(&a);
	capture_free(&b);
	capture_free(&c);
}
END_TEST

/* AF_UNIX: loopback addresses, and a client port per ordinal. */
START_TEST(test_unix)
{
	struct pkt	k0, k1;

	memset(&ti, 0, sizeof ti);
	ti.has_conn = 1;
	ti.conn.local.family = ti.conn.remote.family = AF_UNIX;
	strcpy(ti.conn.remote.path, "/run/app.sock");
	synth_stream_init(&st, &ti, 1, 0);
	ck_assert_int_eq(st.mapped, 1);
	feed(TRACE_EV_WRITE, "u");
	synth_stream_init(&st, &ti, 1, 1);
	ck_assert_int_eq(st.mapped, 1);
	feed(TRACE_EV_WRITE, "u");
	ck_assert_uint_eq(cap.n, 10);
	parse(&cap, 0, &k0);
	parse(&cap, 5, &k1);
	ck_assert(k0.flags == TCP_SYN && k1.flags == TCP_SYN);
	ck_assert(!k0.v6 && !k1.v6);
	ck_assert(k0.src[0] == 127 && k0.dst[0] == 127);
	ck_assert_mem_ne(k0.src, k0.dst, 4);
	ck_assert_uint_ne(k0.sport, k1.sport);
	ck_assert_uint_eq(k0.dport, k1.dport);	/* the same listener */
	/* The named side, here local, is the listener. */
	memcpy(ti.conn.local.path, ti.conn.remote.path,
	    sizeof ti.conn.local.path);
	ti.conn.remote.path[0] = '\0';
	start(FRAME_LINK_ETHER, SYNTH_MSS_DEFAULT);
	synth_stream_init(&st, &ti, 1, 0);
	feed(TRACE_EV_WRITE, "u");
	seg(3, k0.dport, TCP_PSH | TCP_ACK, 1, 1, NULL);
}
END_TEST

/* One side IPv4, the other IPv6: IPv6 frames with a mapped address. */
START_TEST(test_mixed_family)
{
	static const uint8_t	v6[16] = { 0x20, 0x01, 0x0d, 0xb8,
				    [15] = 2 };
	static const uint8_t	mapped[16] = { [10] = 0xff, [11] = 0xff,
				    [12] = 10, [15] = 1 };
	struct pkt		k;
	size_t			i;

	start(FRAME_LINK_RAW, SYNTH_MSS_DEFAULT);
	info4(TRACE_ROLE_CLIENT, 40000, 443);
	ti.conn.remote.family = AF_INET6;
	memcpy(ti.conn.remote.ip, v6, 16);
	synth_stream_init(&st, &ti, 1, 0);
	ck_assert_int_eq(st.mapped, 0);
	feed(TRACE_EV_WRITE, "six");
	ck_assert_uint_eq(cap.n, 5);
	for (i = 0; i < cap.n; i++) {
		parse(&cap, i, &k);
		ck_assert(k.v6);
	}
	seg(0, 40000, TCP_SYN, 0, 0, &k);
	ck_assert_mem_eq(k.src, mapped, 16);
	ck_assert_mem_eq(k.dst, v6, 16);
}
END_TEST

/* UDP: a datagram per event each way, no handshake, nothing after close. */
/* IPv6 streams use sy.mss6: in the SYN's MSS option and in the split. */
START_TEST(test_mss6)
{
	static uint8_t	buf[3000];
	struct pkt	k;
	struct trace_event ev;

	info4(TRACE_ROLE_CLIENT, 40000, 443);
	ti.conn.local.family = ti.conn.remote.family = AF_INET6;
	sy.mss6 = SYNTH_MSS_DEFAULT6;
	synth_stream_init(&st, &ti, 1, 0);
	ev = event(TRACE_EV_WRITE, buf, sizeof buf, sizeof buf);
	push(&ev);
	parse(&cap, 0, &k);
	ck_assert(k.v6);
	ck_assert_uint_eq(k.optlen, 8);
	ck_assert_uint_eq(get16(k.opt + 2), SYNTH_MSS_DEFAULT6);
	/* SYN, SYN-ACK, ACK, then 1440 + 1440 + 120 and the peer's ACK. */
	ck_assert_uint_eq(cap.n, 7);
	parse(&cap, 3, &k);
	ck_assert_uint_eq(k.paylen, SYNTH_MSS_DEFAULT6);
	parse(&cap, 5, &k);
	ck_assert_uint_eq(k.paylen, sizeof buf - 2 * SYNTH_MSS_DEFAULT6);
}
END_TEST

START_TEST(test_udp)
{
	struct pkt	k;

	info4(TRACE_ROLE_CLIENT, 5353, 53);
	ti.conn.local.udp = ti.conn.remote.udp = 1;
	synth_stream_init(&st, &ti, 1, 0);
	feed(TRACE_EV_WRITE, "query");
	feed(TRACE_EV_READ, "answer!!");
	feed_close(TRACE_RESET_NONE);
	feed(TRACE_EV_WRITE, "late");
	ck_assert_uint_eq(cap.n, 2);
	ck_assert_uint_eq(sy.frames, 2);
	parse(&cap, 0, &k);
	ck_assert_int_eq(k.proto, IPPROTO_UDP);
	ck_assert(k.sport == 5353 && k.dport == 53);
	ck_assert_uint_eq(k.paylen, 5);
	ck_assert_mem_eq(k.payload, "query", 5);
	parse(&cap, 1, &k);
	ck_assert_int_eq(k.proto, IPPROTO_UDP);
	ck_assert(k.sport == 53 && k.dport == 5353);
	ck_assert_uint_eq(k.paylen, 8);
	ck_assert_mem_eq(k.payload, "answer!!", 8);
}
END_TEST

/* TCP events after the close, and unknown events, produce nothing. */
START_TEST(test_after_closed)
{
	struct trace_event	ev;

	open4(TRACE_ROLE_CLIENT, 40000, 80);
	feed(TRACE_EV_OTHER, NULL);
	ck_assert_uint_eq(cap.n, 0);
	feed(TRACE_EV_WRITE, "a");
	feed_close(TRACE_RESET_NONE);
	ck_assert_uint_eq(cap.n, 5 + 4);
	feed(TRACE_EV_WRITE, "b");
	ev = event(TRACE_EV_READ, "c", 1, 1);
	ev.end_stream = 1;
	push(&ev);
	feed_close(TRACE_RESET_BY_PEER);
	ck_assert_uint_eq(cap.n, 5 + 4);
	ck_assert_uint_eq(sy.frames, 5 + 4);
}
END_TEST

/* TCP behaviour, then address mapping and UDP. */
static Suite *
synth_suite(void)
{
	Suite	*s = suite_create("synth");
	TCase	*tc;

	tc = tcase_create("tcp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake);
	tcase_add_loop_test(tc, test_role, 0,
	    (int)(sizeof role_cases / sizeof role_cases[0]));
	tcase_add_loop_test(tc, test_split, 0,
	    (int)(sizeof split_mss / sizeof split_mss[0]));
	tcase_add_test(tc, test_end_stream);
	tcase_add_test(tc, test_closed);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_seed);
	tcase_add_test(tc, test_after_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("addresses");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unix);
	tcase_add_test(tc, test_mixed_family);
	tcase_add_test(tc, test_mss6);
	tcase_add_test(tc, test_udp);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(synth_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
