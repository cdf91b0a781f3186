/* tapdump's model of a trace file: connections, their events, summaries. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump.h"
#include "escape.h"
#include "proto/tapshim.pb-c.h"

#define DNS_PORT	53

/* Another port whose datagrams are DNS (tapdump --dns-port). */
unsigned int	dump_dns_port = DNS_PORT;

/* Keep a copy of ev in its trace's list. */
static int
dump_add(struct dump_trace *d, const struct trace_event *ev)
{
	struct trace_event	*n;
	size_t			 cap;

	if (d->nev == d->cap) {
		cap = d->cap ? d->cap * 2 : 64;
		if ((n = reallocarray(d->ev, cap, sizeof *n)) == NULL)
			return (-1);
		d->ev = n;
		d->cap = cap;
	}
	d->ev[d->nev++] = *ev;
	return (0);
}

/* A trace met in the file: queued, in file order, until it is shown. */
static int
dump_adopt(struct dump_file *f, size_t slot)
{
	struct dump_trace	*d, **n;
	size_t			 cap;

	if (slot >= f->nslot) {
		cap = f->nslot ? f->nslot : 64;
		while (cap <= slot)
			cap *= 2;
		if ((n = reallocarray(f->byslot, cap, sizeof *n)) == NULL)
			return (-1);
		memset(n + f->nslot, 0, (cap - f->nslot) * sizeof *n);
		f->byslot = n;
		f->nslot = cap;
	}
	if ((d = calloc(1, sizeof *d)) == NULL)
		return (-1);
	d->slot = slot;
	f->byslot[slot] = d;
	*f->tailp = d;
	f->tailp = &d->next;
	return (0);
}

/* Hand out a complete connection, then let it go, and its slot. */
static int
dump_show(struct dump_file *f, struct dump_trace *d, dump_fn fn, void *arg)
{
	const struct trace_event	*ev;
	size_t				 i;
	int				 rc;

	d->t = trace_info(f->tf, d->slot);
	d->udp = d->t->conn.local.udp || d->t->conn.remote.udp;
	for (i = 0; i < d->nev; i++) {
		ev = &d->ev[i];
		/*
		 * A stream's empty end (shutdown(SHUT_WR), end of file) moved
		 * no bytes: not a write or a read. An empty datagram is one.
		 */
		if ((ev->kind == TRACE_EV_READ || ev->kind == TRACE_EV_WRITE) &&
		    (ev->len > 0 || !ev->end_stream || d->udp)) {
			d->bytes[ev->kind == TRACE_EV_WRITE] += ev->len;
			d->count[ev->kind == TRACE_EV_WRITE]++;
		}
	}
	if (d->nev > 0 && d->ev[d->nev - 1].kind == TRACE_EV_CLOSED)
		d->closed = &d->ev[d->nev - 1];
	rc = fn(f, d, arg);
	f->byslot[d->slot] = NULL;
	trace_forget(f->tf, d->slot);
	free(d->ev);
	free(d);
	return (rc);
}

/* Hand out, in file order, the connections whose events are all in. */
static int
dump_flush(struct dump_file *f, dump_fn fn, void *arg, int all)
{
	struct dump_trace	*d;

	while ((d = f->head) != NULL && (all || d->done)) {
		if ((f->head = d->next) == NULL)
			f->tailp = &f->head;
		if (dump_show(f, d, fn, arg) == -1)
			return (-1);
	}
	return (0);
}

/* Queue the traces the reader met since the last event. */
static int
dump_born(struct dump_file *f)
{
	size_t	slot;

	while (trace_born(f->tf, &slot))
		if (dump_adopt(f, slot) == -1)
			return (-1);
	return (0);
}

/*
 * Walk the file at path once, keeping each connection's events until
 * its Closed event (a .pb's merged trace: the end of the file) and
 * handing it to fn then, in file order. Nothing is indexed first: the
 * memory kept is that of the connections still open at that point of
 * the file (and of those after one that never closes), not of all of
 * them. Returns 0, or -1 with errbuf (TRACE_ERRBUF_SIZE) saying what is
 * wrong; what was read by then is handed out.
 */
int
dump_run(struct dump_file *f, const char *path, dump_fn fn, void *arg,
    char *errbuf)
{
	struct trace_event	 ev;
	struct dump_trace	*d;
	int			 r;

	memset(f, 0, sizeof *f);
	f->path = path;
	f->tailp = &f->head;
	if ((f->tf = trace_open_stream(path, errbuf)) == NULL)
		return (-1);
	while ((r = trace_next(f->tf, &ev, errbuf)) == 1) {
		if (dump_born(f) == -1)
			goto oom;
		if ((d = f->byslot[ev.trace]) == NULL)
			continue;	/* never: each slot is born first */
		if (dump_add(d, &ev) == -1)
			goto oom;
		if (ev.kind == TRACE_EV_CLOSED &&
		    !trace_merged(f->tf, ev.trace)) {
			d->done = 1;
			if (dump_flush(f, fn, arg, 0) == -1)
				goto out;
		}
	}
	if (dump_born(f) == -1)
		goto oom;
	if (dump_flush(f, fn, arg, 1) == -1)
		goto out;
	return (r);
oom:
	snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: out of memory", path);
	(void)dump_flush(f, fn, arg, 1);
	return (-1);
out:
	snprintf(errbuf, TRACE_ERRBUF_SIZE, "standard output: %s",
	    strerror(errno));
	return (-1);
}

void
dump_free(struct dump_file *f)
{
	struct dump_trace	*d, *next;

	for (d = f->head; d != NULL; d = next) {
		next = d->next;
		free(d->ev);
		free(d);
	}
	f->head = NULL;
	free(f->byslot);
	if (f->tf != NULL)
		trace_close(f->tf);
}

/* Copy a protobuf-c string (may be NULL) into a fixed buffer. */
static void
dump_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src != NULL ? src : "");
}

/* Decode Connection.process; 0 when there is none, -1 when damaged. */
int
dump_process(const struct trace_conn *c, struct dump_proc *p)
{
	Tapshim__Trace__Process	*m;
	size_t			 i;

	memset(p, 0, sizeof *p);
	if (c->process.p == NULL)
		return (0);
	m = tapshim__trace__process__unpack(NULL, c->process.len,
	    c->process.p);
	if (m == NULL)
		return (-1);
	p->pid = m->pid;
	p->ppid = m->ppid;
	dump_copy(p->exe, sizeof p->exe, m->exe);
	for (i = 0; i < m->n_argv && i < 16; i++)
		dump_copy(p->argv[i], sizeof p->argv[i], m->argv[i]);
	p->argc = (int)i;
	p->argv_truncated = m->argv_truncated || i < m->n_argv;
	if (m->start_time != NULL) {
		p->start_sec = m->start_time->seconds;
		p->start_nsec = (uint32_t)m->start_time->nanos;
	}
	tapshim__trace__process__free_unpacked(m, NULL);
	return (1);
}

/* Decode Connection.resolution; as dump_process(). */
int
dump_resolution(const struct trace_conn *c, struct dump_res *r)
{
	Tapshim__Trace__Resolution	*m;
	size_t				 i;

	memset(r, 0, sizeof *r);
	if (c->resolution.p == NULL)
		return (0);
	m = tapshim__trace__resolution__unpack(NULL, c->resolution.len,
	    c->resolution.p);
	if (m == NULL)
		return (-1);
	dump_copy(r->function, sizeof r->function, m->function);
	dump_copy(r->name, sizeof r->name, m->name);
	for (i = 0; i < m->n_answers && i < 16; i++)
		dump_copy(r->answers[i], sizeof r->answers[i], m->answers[i]);
	r->nanswers = (int)i;
	r->duration_ns = m->duration_ns;
	dump_copy(r->error, sizeof r->error, m->error);
	tapshim__trace__resolution__free_unpacked(m, NULL);
	return (1);
}

/* "127.0.0.1:53", "[::1]:53", "unix:PATH", or "-" when not recorded. */
const char *
dump_addr(const struct trace_addr *a, char *buf, size_t n)
{
	char	ip[INET6_ADDRSTRLEN];

	if (a->family == AF_INET || a->family == AF_INET6) {
		inet_ntop(a->family, a->ip, ip, sizeof ip);
		snprintf(buf, n, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		    ip, a->port);
	} else if (a->family == AF_UNIX) {
		char	path[ESC_SIZE(sizeof a->path)];

		snprintf(buf, n, "%s:%s", a->internal ? "internal" : "unix",
		    esc_str(path, sizeof path, a->path));
	}
	else
		snprintf(buf, n, "-");
	return (buf);
}

/* An absolute time, RFC 3339 in UTC with nanoseconds. */
const char *
dump_time(int64_t sec, uint32_t nsec, char *buf, size_t n)
{
	struct tm	tm;
	time_t		t = (time_t)sec;
	char		day[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, n, "%lld.%09u", (long long)sec, nsec);
	else
		snprintf(buf, n, "%s.%09uZ", day, nsec);
	return (buf);
}

/*
 * Nanoseconds from the start of the connection (connect or accept called,
 * else its first event) to ev.
 */
int64_t
dump_rel(const struct dump_trace *d, const struct trace_event *ev)
{
	const struct trace_conn	*c = &d->t->conn;
	int64_t			 s, ns;

	if (c->has_started) {
		s = c->started_sec;
		ns = c->started_nsec;
	} else if (d->nev > 0) {
		s = d->ev[0].sec;
		ns = d->ev[0].nsec;
	} else
		return (0);
	return ((ev->sec - s) * 1000000000LL + ((int64_t)ev->nsec - ns));
}

/* Is ev a datagram to or from port 53, holding a DNS message? */
int
dump_dns(const struct dump_trace *d, const struct trace_event *ev,
    struct dns_msg *m)
{
	const struct trace_addr	*peer;
	const char		*why;

	if (!d->udp || (ev->kind != TRACE_EV_READ &&
	    ev->kind != TRACE_EV_WRITE) || ev->caplen < 12)
		return (0);
	peer = ev->has_peer ? &ev->peer : &d->t->conn.remote;
	if (peer->port != DNS_PORT && d->t->conn.local.port != DNS_PORT &&
	    peer->port != dump_dns_port &&
	    d->t->conn.local.port != dump_dns_port)
		return (0);
	return (dns_parse(ev->data, ev->caplen, m, &why) == 0 ||
	    m->nqd > 0);
}

const char *
dump_role(enum trace_role r)
{
	return (r == TRACE_ROLE_CLIENT ? "client" : r == TRACE_ROLE_SERVER ?
	    "server" : "unknown");
}

const char *
dump_proto(const struct dump_trace *d)
{
	if (d->udp)
		return ("udp");
	return (d->t->conn.local.family == AF_UNIX ||
	    d->t->conn.remote.family == AF_UNIX ? "unix" : "tcp");
}

const char *
dump_kind(enum trace_kind k)
{
	return (k == TRACE_EV_READ ? "read" : k == TRACE_EV_WRITE ? "write" :
	    k == TRACE_EV_CLOSED ? "closed" : "other");
}

/* How a trace ended, from its Closed event: closed, exit or cut. */
const char *
dump_ending(const struct trace_event *ev)
{
	return (ev->ending == TRACE_ENDING_EXIT ? "exit" : ev->ending ==
	    TRACE_ENDING_CUT ? "cut" : "closed");
}

const char *
dump_reset(enum trace_reset r)
{
	return (r == TRACE_RESET_BY_PEER ? "peer" : r == TRACE_RESET_BY_LOCAL ?
	    "local" : "none");
}
