/* tapdump's text output: a timeline per connection, for people. */

#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "dump.h"
#include "escape.h"

/*
 * A string from the trace, escaped for the terminal (escape.c): ESC, BEL
 * or a newline in an SNI, a path or argv must not reach it. Each call
 * takes its own buffer of a small ring, so one printf may use several.
 */
static const char *
text_esc(const char *s, size_t len)
{
	static char	ring[4][ESC_SIZE(1024)];
	static int	next;
	char		*b = ring[next++ % 4];

	return (esc_mem(b, sizeof ring[0], s, len, 0));
}

/* text_esc() of a NUL-terminated string. */
static const char *
text_str(const char *s)
{
	return (text_esc(s, strlen(s)));
}

/* A duration in milliseconds, to the microsecond. */
static void
text_ms(FILE *out, const char *label, uint64_t ns)
{
	fprintf(out, "%s%" PRIu64 ".%03" PRIu64 " ms", label, ns / 1000000,
	    ns / 1000 % 1000);
}

/* Who: the process, once per connection. */
static void
text_process(FILE *out, const struct trace_conn *c)
{
	struct dump_proc	p;
	char			tbuf[64];
	int			i;

	if (dump_process(c, &p) <= 0) {
		if (c->pid != 0)
			fprintf(out, "  process: pid %u\n", c->pid);
		return;
	}
	fprintf(out, "  process: pid %u, ppid %u, %s\n", p.pid, p.ppid,
	    p.exe[0] ? text_str(p.exe) : "-");
	fprintf(out, "  argv:");
	for (i = 0; i < p.argc; i++)
		fprintf(out, " \"%s\"", text_str(p.argv[i]));
	fprintf(out, "%s\n", p.argv_truncated ? " ..." : "");
	if (p.start_sec != 0)
		fprintf(out, "  process started: %s\n", dump_time(p.start_sec,
		    p.start_nsec, tbuf, sizeof tbuf));
}

/* How: the name lookup that gave the address, connect time, call site. */
static void
text_setup(FILE *out, const struct dump_trace *d)
{
	const struct trace_conn	*c = &d->t->conn;
	struct dump_res		 r;
	char			 tbuf[64];
	int			 i;

	if (c->has_started)
		fprintf(out, "  started: %s\n", dump_time(c->started_sec,
		    c->started_nsec, tbuf, sizeof tbuf));
	if (dump_resolution(c, &r) > 0) {
		fprintf(out, "  resolved: %s(\"%s\") ->", text_str(r.function),
		    text_str(r.name));
		for (i = 0; i < r.nanswers; i++)
			fprintf(out, " %s", text_str(r.answers[i]));
		if (r.error[0])
			fprintf(out, " %s", text_str(r.error));
		text_ms(out, " in ", r.duration_ns);
		fprintf(out, "\n");
	}
	if (c->connect_ns != 0) {
		text_ms(out, "  connect: ", c->connect_ns);
		fprintf(out, "%s%s\n", c->error[0] ? ", failed: " : "",
		    text_str(c->error));
	} else if (c->error[0])
		fprintf(out, "  connect failed: %s\n", text_str(c->error));
	for (i = 0; i < c->nbacktrace; i++)
		fprintf(out, "  %s %s\n", i == 0 ? "called from:" :
		    "            ", text_esc((const char *)c->backtrace[i].p,
		    c->backtrace[i].len));
	dump_tls_text(out, c);
}

/* A DNS message, one line. */
static void
text_dns(FILE *out, const char *indent, const struct dns_msg *m)
{
	char	tb[16];
	int	i;

	fprintf(out, "%sdns %s 0x%04x", indent, m->response ? "response" :
	    "query", m->id);
	for (i = 0; i < m->nqd; i++)
		fprintf(out, " %s %s", m->qd[i].name, dns_type_name(m->qd[i].type,
		    tb, sizeof tb));
	if (m->response) {
		fprintf(out, ": %s", dns_rcode_name(m->rcode));
		for (i = 0; i < m->nan; i++)
			fprintf(out, " %s %s", dns_type_name(m->an[i].type, tb,
			    sizeof tb), m->an[i].data);
	}
	fprintf(out, "\n");
}

/* One event, with when (from the start), how long, who, to whom. */
static void
text_event(FILE *out, const struct dump_trace *d, const struct trace_event *ev)
{
	struct dns_msg	m;
	char		a[160];
	int64_t		rel = dump_rel(d, ev);

	fprintf(out, "    %s%" PRId64 ".%06" PRId64 " %s", rel < 0 ? "-" : "+",
	    (rel < 0 ? -rel : rel) / 1000000000, (rel < 0 ? -rel : rel) /
	    1000 % 1000000, dump_kind(ev->kind));
	if (ev->kind == TRACE_EV_READ || ev->kind == TRACE_EV_WRITE) {
		fprintf(out, " %" PRIu64 " bytes", ev->len);
		if (ev->caplen < ev->len)
			fprintf(out, " (%zu kept)", ev->caplen);
		if (ev->has_peer)
			fprintf(out, " %s %s", ev->kind == TRACE_EV_READ ?
			    "from" : "to", dump_addr(&ev->peer, a, sizeof a));
		if (ev->end_stream)
			fprintf(out, ev->kind == TRACE_EV_READ ? ", end of "
			    "stream" : ", shut down");
	} else if (ev->kind == TRACE_EV_CLOSED) {
		if (ev->ending != TRACE_ENDING_CLOSED)
			fprintf(out, ", %s", dump_ending(ev));
		if (ev->reset != TRACE_RESET_NONE)
			fprintf(out, ", reset by %s", dump_reset(ev->reset));
		if (ev->error[0])
			fprintf(out, ", %s", text_str(ev->error));
	}
	if (ev->duration != 0)
		text_ms(out, ", call ", ev->duration);
	if (ev->tid != 0)
		fprintf(out, ", tid %u", ev->tid);
	fprintf(out, "\n");
	if (dump_dns(d, ev, &m))
		text_dns(out, "      ", &m);
}

/* The DNS messages of a UDP trace, without --events. */
static void
text_dns_all(FILE *out, const struct dump_trace *d)
{
	struct dns_msg	m;
	size_t		i;

	for (i = 0; i < d->nev; i++) {
		if (dump_dns(d, &d->ev[i], &m))
			text_dns(out, "  ", &m);
	}
}

/* How it ended. */
static void
text_close(FILE *out, const struct dump_trace *d)
{
	const struct trace_event	*ev = d->closed;
	uint64_t			 rel;

	if (ev == NULL) {
		fprintf(out, "  died: no close in the trace (its process was "
		    "killed or crashed, or still runs)\n");
		return;
	}
	rel = (uint64_t)dump_rel(d, ev);
	text_ms(out, ev->ending == TRACE_ENDING_EXIT ? "  ended by process "
	    "exit after " : ev->ending == TRACE_ENDING_CUT ? "  cut by the "
	    "tracer after " : "  closed after ", rel);
	if (ev->ending == TRACE_ENDING_CUT)
		fprintf(out, " (%s)", ev->cut_reason[0] != '\0' ?
		    ev->cut_reason : "no reason given");
	if (ev->reset != TRACE_RESET_NONE)
		fprintf(out, ", reset by %s", dump_reset(ev->reset));
	if (ev->error[0])
		fprintf(out, ", %s", text_str(ev->error));
	fprintf(out, "\n");
}

/* One connection: addresses, role, process, setup, traffic, the end. */
static void
text_trace(FILE *out, const struct dump_file *f, const struct dump_trace *d,
    int events)
{
	const struct trace_conn	*c = &d->t->conn;
	char			 l[160], r[160];
	size_t			 i;

	fprintf(out, "%s: trace %" PRIu64 ": %s %s -> %s, %s\n", f->path,
	    d->t->trace_id, dump_proto(d), dump_addr(&c->local, l, sizeof l),
	    dump_addr(&c->remote, r, sizeof r), dump_role(c->role));
	text_process(out, c);
	text_setup(out, d);
	fprintf(out, "  sent: %" PRIu64 " bytes in %zu %s; received: %" PRIu64
	    " bytes in %zu %s\n", d->bytes[1], d->count[1], d->udp ?
	    "datagrams" : "writes", d->bytes[0], d->count[0], d->udp ?
	    "datagrams" : "reads");
	if (d->t->read_truncated || d->t->write_truncated)
		fprintf(out, "  truncated:%s%s\n", d->t->read_truncated ?
		    " reads" : "", d->t->write_truncated ? " writes" : "");
	if (events) {
		fprintf(out, "  events:\n");
		for (i = 0; i < d->nev; i++)
			text_event(out, d, &d->ev[i]);
	} else
		text_dns_all(out, d);
	text_close(out, d);
}

/* One connection of a file, a blank line after it. */
void
dump_text(FILE *out, const struct dump_file *f, const struct dump_trace *d,
    int events)
{
	text_trace(out, f, d, events);
	fprintf(out, "\n");
}
