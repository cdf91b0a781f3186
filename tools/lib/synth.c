/* Synthesizing TCP and UDP packets from a trace's events. */

#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"

#define SYNTH_WSCALE		7	/* window 65535 << 7, about 8 MiB */
#define SYNTH_WINDOW		65535
#define SYNTH_EPHEMERAL_LO	32768	/* Linux ip_local_port_range */
#define SYNTH_EPHEMERAL_N	28232
/*
 * An AF_UNIX listener's port: above Linux's ephemeral range (so never a
 * client port of the same capture) in IANA's dynamic range, where no
 * service is assigned and Wireshark registers no dissector, so a path's
 * bytes are not taken for some protocol that owns the port.
 */
#define SYNTH_UNIX_LO		61000
#define SYNTH_UNIX_N		4536
#define SYNTH_UDP_MAX		65507	/* 65535 - IPv4 20 - UDP 8 */

/* Locally administered MACs (IEEE 802: bit 1 of the first octet). */
static const uint8_t synth_mac[2][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }
};

/* Set up a synthesizer writing frames through emit. */
int
synth_init(struct synth *sy, int link, size_t mss, synth_emit_fn emit,
    void *arg)
{
	memset(sy, 0, sizeof *sy);
	if (mss == 0 || mss > SYNTH_MSS_MAX) {
		errno = EINVAL;
		return (-1);
	}
	sy->link = link;
	sy->mss = mss;
	sy->mss6 = mss;
	sy->emit = emit;
	sy->arg = arg;
	sy->buf = malloc(FRAME_HEADROOM);
	return (sy->buf == NULL ? -1 : 0);
}

void
synth_free(struct synth *sy)
{
	free(sy->buf);
	sy->buf = NULL;
}

/* FNV-1a over p, then a splitmix64 finish: a stable, well-mixed seed. */
uint64_t
synth_hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t	*b = p;

	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return (h ^ (h >> 31));
}

/* Copy a trace address into a frame endpoint; 0 if it is not IP. */
static int
synth_ip(struct frame_ep *ep, const struct trace_addr *a)
{
	ep->family = a->family;
	ep->port = a->port;
	memcpy(ep->ip, a->ip, 16);
	return (a->family == AF_INET || a->family == AF_INET6);
}

/* Show an IPv4 endpoint as IPv4-mapped IPv6, to pair it with an IPv6 one. */
static void
synth_map6(struct frame_ep *ep)
{
	uint8_t	v4[4];

	if (ep->family != AF_INET)
		return;
	memcpy(v4, ep->ip, 4);
	memset(ep->ip, 0, 10);
	ep->ip[10] = ep->ip[11] = 0xff;
	memcpy(ep->ip + 12, v4, 4);
	ep->family = AF_INET6;
}

/* Is port in Linux's ephemeral range, where connect() binds a client? */
static int
synth_ephemeral(uint16_t port)
{
	return (port >= SYNTH_EPHEMERAL_LO &&
	    port < SYNTH_EPHEMERAL_LO + SYNTH_EPHEMERAL_N);
}

/*
 * Which side started the connection. What the trace says first: the
 * role the shim recorded, or the named side of an AF_UNIX pair is the
 * listener. Then the ephemeral range: one port in it and the other not,
 * that one is the client's. Then who spoke first (the client does in
 * HTTP, HTTP/2, gRPC and TLS; server-first protocols listen on low
 * ports, which the range already told): an Envoy upstream to a cluster
 * on 50051 from 41234 is told this way. Last, the lower port is taken
 * for the server.
 */
static int
synth_local_is_client(const struct trace_info *t)
{
	const struct trace_conn	*c = &t->conn;
	int			 le, re;

	if (c->role != TRACE_ROLE_UNKNOWN)
		return (c->role == TRACE_ROLE_CLIENT);
	if (c->local.family == AF_UNIX || c->remote.family == AF_UNIX)
		return (c->local.path[0] == '\0');
	le = synth_ephemeral(c->local.port);
	re = synth_ephemeral(c->remote.port);
	if (le != re && c->local.port != 0 && c->remote.port != 0)
		return (le);
	if (t->spoke_first != 0)
		return (t->spoke_first > 0);
	return (c->remote.port <= c->local.port ? 1 : c->local.port == 0);
}

/*
 * Give an AF_UNIX (or address-less) connection loopback addresses: the
 * listener 127.0.0.2 on a port in 61000-65535 derived from its path, the
 * client 127.0.0.1 on an ephemeral port taken from the ordinal, so two
 * such traces never share a 4-tuple.
 */
static void
synth_map_unix(struct synth_stream *s, const struct trace_info *t,
    unsigned int ordinal)
{
	const char	*path = t->conn.local.path[0] != '\0' ?
			    t->conn.local.path : t->conn.remote.path;
	int		 i;

	for (i = 0; i < 2; i++) {
		memset(&s->side[i].ep, 0, sizeof s->side[i].ep);
		s->side[i].ep.family = AF_INET;
		s->side[i].ep.ip[0] = 127;
		s->side[i].ep.ip[3] = (uint8_t)(i + 1);
	}
	s->side[0].ep.port = (uint16_t)(SYNTH_EPHEMERAL_LO +
	    ordinal % SYNTH_EPHEMERAL_N);
	s->side[1].ep.port = (uint16_t)(SYNTH_UNIX_LO +
	    synth_hash(0, path, strlen(path)) % SYNTH_UNIX_N);
	s->mapped = 1;
}

/*
 * Stand in for an end the trace does not name, beside the end it does:
 * loopback of the same family, on an ephemeral port from the ordinal.
 */
static int
synth_stand_in(struct frame_ep *ep, const struct frame_ep *known,
    unsigned int ordinal)
{
	memset(ep, 0, sizeof *ep);
	ep->family = known->family;
	if (ep->family == AF_INET) {
		ep->ip[0] = 127;
		ep->ip[3] = 1;
	} else
		ep->ip[15] = 1;
	ep->port = (uint16_t)(SYNTH_EPHEMERAL_LO + ordinal % SYNTH_EPHEMERAL_N);
	return (1);
}

/*
 * Prepare the stream for trace t. The seed (derived from the trace by the
 * caller) fixes both initial sequence numbers, so the same input always
 * gives the same capture; ordinal numbers the synthetic addresses.
 */
void
synth_stream_init(struct synth_stream *s, const struct trace_info *t,
    uint64_t seed, unsigned int ordinal)
{
	struct frame_ep	local, remote;
	uint64_t	h = synth_hash(seed, "isn", 3);
	int		i, ip_local, ip_remote;

	memset(s, 0, sizeof *s);
	s->info = t;
	s->local = synth_local_is_client(t) ? 0 : 1;
	s->udp = t->conn.local.udp || t->conn.remote.udp;
	s->failed = t->conn.error[0] != '\0';
	memset(&local, 0, sizeof local);
	memset(&remote, 0, sizeof remote);
	ip_local = synth_ip(&local, &t->conn.local);
	ip_remote = synth_ip(&remote, &t->conn.remote);
	/* Envoy >= 1.28 may record only the remote end: keep it. */
	if (ip_remote && t->conn.local.family == AF_UNSPEC)
		ip_local = synth_stand_in(&local, &remote, ordinal);
	else if (ip_local && t->conn.remote.family == AF_UNSPEC)
		ip_remote = synth_stand_in(&remote, &local, ordinal);
	if (!ip_local || !ip_remote)
		synth_map_unix(s, t, ordinal);
	else {
		if (local.family != remote.family) {
			synth_map6(&local);
			synth_map6(&remote);
		}
		s->side[s->local].ep = local;
		s->side[!s->local].ep = remote;
	}
	for (i = 0; i < 2; i++) {
		memcpy(s->side[i].ep.mac, synth_mac[i == s->local ? 0 : 1], 6);
		s->side[i].next = (uint32_t)(h >> (32 * i));
		s->side[i].ipid = (uint16_t)(h >> (16 * i + 8));
	}
	s->state = SYNTH_NEW;
}

/* The largest TCP payload in one segment of this stream. */
static size_t
synth_mss(const struct synth *sy, const struct synth_stream *s)
{
	return (s->side[0].ep.family == AF_INET6 ? sy->mss6 : sy->mss);
}

/* Write one TCP segment from side `from` of the stream. */
static int
synth_tcp(struct synth *sy, struct synth_stream *s, int from, uint8_t flags,
    const struct trace_event *ev, const uint8_t *data, size_t caplen,
    size_t len)
{
	static const uint8_t	 syn_opt[8] = { 2, 4, 0, 0, 1, 3, 3,
				    SYNTH_WSCALE };
	struct synth_side	*src = &s->side[from], *dst = &s->side[!from];
	struct frame_tcp	 t;
	uint8_t			 opt[8];
	size_t			 h;

	memset(&t, 0, sizeof t);
	t.seq = src->next;
	t.ack = (flags & TCP_ACK) ? dst->next : 0;
	t.flags = flags;
	t.window = SYNTH_WINDOW;
	if (flags & TCP_SYN) {
		/* MSS, NOP, window scale (RFC 879, RFC 7323). */
		memcpy(opt, syn_opt, sizeof opt);
		opt[2] = (uint8_t)(synth_mss(sy, s) >> 8);
		opt[3] = (uint8_t)synth_mss(sy, s);
		t.opt = opt;
		t.optlen = sizeof opt;
	}
	h = frame_tcp_head(sy->buf, sy->link, &src->ep, &dst->ep, src->ipid++,
	    &t, data, caplen, len);
	src->next += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
	sy->frames++;
	sy->tcpflags = flags;
	return (sy->emit(sy->arg, ev->sec, ev->nsec, sy->buf, h, data, caplen,
	    len));
}

/* SYN, SYN-ACK, ACK: the client starts (RFC 793, figure 7). */
static int
synth_handshake(struct synth *sy, struct synth_stream *s,
    const struct trace_event *ev)
{
	s->state = SYNTH_OPEN;
	if (synth_tcp(sy, s, 0, TCP_SYN, ev, NULL, 0, 0) == -1 ||
	    synth_tcp(sy, s, 1, TCP_SYN | TCP_ACK, ev, NULL, 0, 0) == -1)
		return (-1);
	return (synth_tcp(sy, s, 0, TCP_ACK, ev, NULL, 0, 0));
}

/*
 * A connect that failed: the client's SYN, answered by a RST if the
 * peer refused it, by nothing if it timed out or was unreachable.
 */
static int
synth_refused(struct synth *sy, struct synth_stream *s,
    const struct trace_event *ev)
{
	s->state = SYNTH_CLOSED;
	if (synth_tcp(sy, s, 0, TCP_SYN, ev, NULL, 0, 0) == -1)
		return (-1);
	if (ev->kind == TRACE_EV_CLOSED && ev->reset != TRACE_RESET_NONE)
		return (synth_tcp(sy, s, 1, TCP_RST | TCP_ACK, ev, NULL, 0, 0));
	return (0);
}

/*
 * The event's payload from side `from`, in segments, ACKed by the peer.
 * Bytes it moved that the trace did not keep are cut packets while the
 * capture's SYNTH_UNCAPTURED_MAX lasts, then a gap: the sequence numbers
 * skip the rest, and Wireshark says the segment was not captured.
 */
static int
synth_data(struct synth *sy, struct synth_stream *s, int from,
    const struct trace_event *ev)
{
	uint64_t	off = 0, drawn = ev->len;
	size_t		seg, cap, mss = synth_mss(sy, s);
	unsigned int	n = 0;

	if (ev->len - ev->caplen > SYNTH_UNCAPTURED_MAX - sy->uncaptured) {
		drawn = ev->caplen + (SYNTH_UNCAPTURED_MAX - sy->uncaptured);
		sy->gaps++;
		sy->gap_bytes += ev->len - drawn;
	}
	sy->uncaptured += drawn - ev->caplen;
	while (off < drawn) {
		seg = drawn - off < mss ? (size_t)(drawn - off) : mss;
		cap = off >= ev->caplen ? 0 : ev->caplen - off < seg ?
		    (size_t)(ev->caplen - off) : seg;
		if (synth_tcp(sy, s, from, TCP_PSH | TCP_ACK, ev,
		    cap ? ev->data + off : NULL, cap, seg) == -1)
			return (-1);
		off += seg;
		if (++n % SYNTH_ACK_EVERY == 0 && off < drawn &&
		    synth_tcp(sy, s, !from, TCP_ACK, ev, NULL, 0, 0) == -1)
			return (-1);
	}
	s->side[from].next += (uint32_t)(ev->len - drawn);
	/*
	 * A body the tracer cut without saying its length (Envoy's
	 * Body.truncated): a one-byte gap marks the place, which Wireshark
	 * flags on the next segment; how much was lost is not known.
	 */
	if (ev->truncated && ev->caplen == ev->len) {
		s->side[from].next++;
		sy->cut_unknown++;
	}
	return (n ? synth_tcp(sy, s, !from, TCP_ACK, ev, NULL, 0, 0) : 0);
}

/* Side `from` closes its direction: FIN, and the peer's ACK. */
static int
synth_fin(struct synth *sy, struct synth_stream *s, int from,
    const struct trace_event *ev)
{
	if (s->side[from].fin)
		return (0);
	s->side[from].fin = 1;
	if (synth_tcp(sy, s, from, TCP_FIN | TCP_ACK, ev, NULL, 0, 0) == -1)
		return (-1);
	return (synth_tcp(sy, s, !from, TCP_ACK, ev, NULL, 0, 0));
}

/* Is ep's address 0.0.0.0 or ::? */
static int
synth_unspecified(const struct frame_ep *ep)
{
	static const uint8_t	zero[16];

	return (memcmp(ep->ip, zero, ep->family == AF_INET ? 4 : 16) == 0);
}

/* Is ep's address 127/8 or ::1? */
static int
synth_loopback(const struct frame_ep *ep)
{
	static const uint8_t	one6[16] = { [15] = 1 };

	return (ep->family == AF_INET ? ep->ip[0] == 127 :
	    memcmp(ep->ip, one6, 16) == 0);
}

/*
 * A datagram's own peer (an unconnected socket's sendto or recvfrom),
 * in place of the stream's remote end: ep gets the peer's address with
 * the remote's MAC; local is mapped to IPv6 too if the families differ.
 */
static void
synth_peer(const struct synth_stream *s, const struct trace_event *ev,
    struct frame_ep *ep, struct frame_ep *local)
{
	*local = s->side[s->local].ep;
	*ep = s->side[!s->local].ep;
	if (!ev->has_peer || (ev->peer.family != AF_INET &&
	    ev->peer.family != AF_INET6) || s->mapped)
		return;
	ep->family = ev->peer.family;
	memset(ep->ip, 0, sizeof ep->ip);
	memcpy(ep->ip, ev->peer.ip, ev->peer.family == AF_INET ? 4 : 16);
	ep->port = ev->peer.port;
	/* Unbound (0.0.0.0, ::) toward loopback: the kernel sends from it. */
	if (synth_unspecified(local) && ep->family == local->family &&
	    synth_loopback(ep))
		memcpy(local->ip, ep->ip, sizeof local->ip);
	if (ep->family != local->family) {
		synth_map6(ep);
		synth_map6(local);
	}
}

/* One UDP datagram per read or write; an empty one is a datagram too. */
static int
synth_udp(struct synth *sy, struct synth_stream *s, int from,
    const struct trace_event *ev)
{
	struct synth_side	*src = &s->side[from];
	struct frame_ep		 local, remote;
	size_t			 len, cap, h;

	synth_peer(s, ev, &remote, &local);
	len = ev->len > SYNTH_UDP_MAX ? SYNTH_UDP_MAX : (size_t)ev->len;
	cap = ev->caplen < len ? ev->caplen : len;
	h = frame_udp_head(sy->buf, sy->link, from == s->local ? &local :
	    &remote, from == s->local ? &remote : &local, src->ipid++, ev->data,
	    cap, len);
	sy->frames++;
	sy->tcpflags = 0;
	return (sy->emit(sy->arg, ev->sec, ev->nsec, sy->buf, h, ev->data, cap,
	    len));
}

/*
 * Turn one event into packets. Reads travel remote to local, writes local
 * to remote; a closed event ends both directions (FIN each way, or the
 * RST the trace recorded; nothing when the tracer cut the trace). Events
 * after the close are ignored.
 */
int
synth_event(struct synth *sy, struct synth_stream *s,
    const struct trace_event *ev)
{
	int	from;

	if (s->state == SYNTH_CLOSED || ev->kind == TRACE_EV_OTHER)
		return (0);
	sy->stream = s;
	sy->event = ev;
	from = ev->kind == TRACE_EV_WRITE ? s->local : !s->local;
	if (s->udp) {
		if (ev->kind != TRACE_EV_CLOSED)
			return (synth_udp(sy, s, from, ev));
		s->state = SYNTH_CLOSED;
		return (0);
	}
	if (s->state == SYNTH_NEW && s->failed)
		return (synth_refused(sy, s, ev));
	if (s->state == SYNTH_NEW && synth_handshake(sy, s, ev) == -1)
		return (-1);
	if (ev->kind != TRACE_EV_CLOSED) {
		if (synth_data(sy, s, from, ev) == -1)
			return (-1);
		return (ev->end_stream ? synth_fin(sy, s, from, ev) : 0);
	}
	s->state = SYNTH_CLOSED;
	/* Cut by the tracer: how the connection really ended is unknown. */
	if (ev->ending == TRACE_ENDING_CUT)
		return (0);
	if (ev->reset != TRACE_RESET_NONE) {
		from = ev->reset == TRACE_RESET_BY_LOCAL ? s->local : !s->local;
		return (synth_tcp(sy, s, from, TCP_RST | TCP_ACK, ev, NULL, 0,
		    0));
	}
	if (synth_fin(sy, s, s->local, ev) == -1)
		return (-1);
	return (synth_fin(sy, s, !s->local, ev));
}
