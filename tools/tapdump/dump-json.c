/* tapdump's JSON output (json-c): the same timeline, for programs. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <json-c/json.h>
#include <string.h>

#include "dump.h"

/* obj[key] = a string (NULL or "": left out). */
static void
json_str(struct json_object *o, const char *key, const char *v)
{
	if (v != NULL && *v != '\0')
		json_object_object_add(o, key, json_object_new_string(v));
}

static void
json_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void
json_uint(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* {"ip": ..., "port": ...} or {"path": ...}; NULL when not recorded. */
static struct json_object *
json_addr(const struct trace_addr *a)
{
	struct json_object	*o;
	char			 ip[INET6_ADDRSTRLEN];

	if (a->family != AF_INET && a->family != AF_INET6 &&
	    a->family != AF_UNIX)
		return (NULL);
	o = json_object_new_object();
	if (a->family == AF_UNIX) {
		json_object_object_add(o, "path",
		    json_object_new_string(a->path));
		return (o);
	}
	inet_ntop(a->family, a->ip, ip, sizeof ip);
	json_str(o, "ip", ip);
	json_int(o, "port", a->port);
	return (o);
}

/* An absolute time as an RFC 3339 string. */
static void
json_time(struct json_object *o, const char *key, int64_t s, uint32_t ns)
{
	char	buf[64];

	json_str(o, key, dump_time(s, ns, buf, sizeof buf));
}

static struct json_object *
json_process(const struct trace_conn *c)
{
	struct json_object	*o, *argv;
	struct dump_proc	 p;
	int			 i;

	if (dump_process(c, &p) <= 0)
		return (NULL);
	o = json_object_new_object();
	json_int(o, "pid", p.pid);
	json_int(o, "ppid", p.ppid);
	json_str(o, "exe", p.exe);
	argv = json_object_new_array();
	for (i = 0; i < p.argc; i++)
		json_object_array_add(argv, json_object_new_string(p.argv[i]));
	json_object_object_add(o, "argv", argv);
	json_object_object_add(o, "argv_truncated",
	    json_object_new_boolean(p.argv_truncated));
	if (p.start_sec != 0)
		json_time(o, "start_time", p.start_sec, p.start_nsec);
	return (o);
}

static struct json_object *
json_resolution(const struct trace_conn *c)
{
	struct json_object	*o, *a;
	struct dump_res		 r;
	int			 i;

	if (dump_resolution(c, &r) <= 0)
		return (NULL);
	o = json_object_new_object();
	json_str(o, "function", r.function);
	json_str(o, "name", r.name);
	a = json_object_new_array();
	for (i = 0; i < r.nanswers; i++)
		json_object_array_add(a, json_object_new_string(r.answers[i]));
	json_object_object_add(o, "answers", a);
	json_uint(o, "duration_ns", r.duration_ns);
	json_str(o, "error", r.error);
	return (o);
}

static struct json_object *
json_dns(const struct dns_msg *m)
{
	struct json_object	*o, *qs, *as, *x;
	char			 tb[16];
	int			 i;

	o = json_object_new_object();
	json_int(o, "id", m->id);
	json_object_object_add(o, "response",
	    json_object_new_boolean(m->response));
	if (m->response)
		json_str(o, "rcode", dns_rcode_name(m->rcode));
	qs = json_object_new_array();
	for (i = 0; i < m->nqd; i++) {
		x = json_object_new_object();
		json_str(x, "name", m->qd[i].name);
		json_str(x, "type", dns_type_name(m->qd[i].type, tb, sizeof tb));
		json_object_array_add(qs, x);
	}
	json_object_object_add(o, "questions", qs);
	as = json_object_new_array();
	for (i = 0; i < m->nan; i++) {
		x = json_object_new_object();
		json_str(x, "name", m->an[i].name);
		json_str(x, "type", dns_type_name(m->an[i].type, tb, sizeof tb));
		json_int(x, "ttl", m->an[i].ttl);
		json_str(x, "data", m->an[i].data);
		json_object_array_add(as, x);
	}
	json_object_object_add(o, "answers", as);
	return (o);
}

/* One event: kind, at_ns (from the start), bytes, peer, call, tid. */
static struct json_object *
json_event(const struct dump_trace *d, const struct trace_event *ev)
{
	struct json_object	*o, *a;
	struct dns_msg		 m;

	o = json_object_new_object();
	json_str(o, "kind", dump_kind(ev->kind));
	json_int(o, "at_ns", dump_rel(d, ev));
	json_time(o, "time", ev->sec, ev->nsec);
	if (ev->kind == TRACE_EV_READ || ev->kind == TRACE_EV_WRITE) {
		json_uint(o, "bytes", ev->len);
		json_uint(o, "captured", ev->caplen);
		if (ev->end_stream)
			json_object_object_add(o, "end_stream",
			    json_object_new_boolean(1));
		if (ev->has_peer && (a = json_addr(&ev->peer)) != NULL)
			json_object_object_add(o, "peer", a);
	}
	if (ev->kind == TRACE_EV_CLOSED) {
		json_str(o, "reset", dump_reset(ev->reset));
		json_str(o, "error", ev->error);
		if (ev->ending != TRACE_ENDING_CLOSED)
			json_str(o, "ending", dump_ending(ev));
	}
	if (ev->duration != 0)
		json_uint(o, "call_ns", ev->duration);
	if (ev->tid != 0)
		json_int(o, "tid", ev->tid);
	if (dump_dns(d, ev, &m))
		json_object_object_add(o, "dns", json_dns(&m));
	return (o);
}

/* Add obj[key] = v when v exists. */
static void
json_opt(struct json_object *o, const char *key, struct json_object *v)
{
	if (v != NULL)
		json_object_object_add(o, key, v);
}

/* Everything but the events of one connection. */
static struct json_object *
json_trace(const struct dump_file *f, const struct dump_trace *d, int events)
{
	const struct trace_conn	*c = &d->t->conn;
	struct json_object	*o, *a, *dns;
	struct dns_msg		 m;
	size_t			 i;
	int			 j;

	o = json_object_new_object();
	json_str(o, "file", f->path);
	json_uint(o, "trace_id", d->t->trace_id);
	json_str(o, "protocol", dump_proto(d));
	json_str(o, "role", dump_role(c->role));
	json_opt(o, "local", json_addr(&c->local));
	json_opt(o, "remote", json_addr(&c->remote));
	json_opt(o, "process", json_process(c));
	if (c->has_started)
		json_time(o, "started", c->started_sec, c->started_nsec);
	json_opt(o, "resolution", json_resolution(c));
	if (c->connect_ns != 0)
		json_uint(o, "connect_ns", c->connect_ns);
	json_str(o, "error", c->error);
	if (c->nbacktrace > 0) {
		a = json_object_new_array();
		for (j = 0; j < c->nbacktrace; j++)
			json_object_array_add(a, json_object_new_string_len(
			    (const char *)c->backtrace[j].p,
			    (int)c->backtrace[j].len));
		json_object_object_add(o, "backtrace", a);
	}
	json_opt(o, "tls", dump_tls_json(c));
	json_uint(o, "bytes_sent", d->bytes[1]);
	json_uint(o, "bytes_received", d->bytes[0]);
	json_uint(o, "writes", d->count[1]);
	json_uint(o, "reads", d->count[0]);
	json_object_object_add(o, "read_truncated",
	    json_object_new_boolean(d->t->read_truncated));
	json_object_object_add(o, "write_truncated",
	    json_object_new_boolean(d->t->write_truncated));
	dns = json_object_new_array();
	a = json_object_new_array();
	for (i = 0; i < d->nev; i++) {
		if (dump_dns(d, &d->ev[i], &m))
			json_object_array_add(dns, json_dns(&m));
		if (events)
			json_object_array_add(a, json_event(d, &d->ev[i]));
	}
	json_object_object_add(o, "dns", dns);
	json_str(o, "ending", d->closed != NULL ? dump_ending(d->closed) :
	    "died");
	if (d->closed != NULL && d->closed->ending == TRACE_ENDING_CUT)
		json_str(o, "cut_reason", d->closed->cut_reason);
	if (d->closed != NULL) {
		json_int(o, "closed_ns", dump_rel(d, d->closed));
		json_str(o, "reset", dump_reset(d->closed->reset));
		json_str(o, "close_error", d->closed->error);
	}
	if (events)
		json_object_object_add(o, "events", a);
	else
		json_object_put(a);
	return (o);
}

/*
 * {"traces": [...]}, pretty-printed as json-c prints the whole, but one
 * connection at a time: begin, one dump_json() per connection, end. The
 * memory is one connection's objects, not the file's.
 */
static int	json_count;

void
dump_json_begin(FILE *out)
{
	json_count = 0;
	fprintf(out, "{\n  \"traces\": [\n");
}

/* One connection, indented as an element of "traces"; -1 if it fails. */
int
dump_json(FILE *out, const struct dump_file *f, const struct dump_trace *d,
    int events)
{
	struct json_object	*o;
	const char		*s, *nl;
	int			 rc = 0;

	o = json_trace(f, d, events);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL || (json_count++ > 0 && fputs(",\n", out) == EOF))
		rc = -1;
	while (rc == 0 && *s != '\0') {
		nl = strchr(s, '\n');
		if (fprintf(out, "    %.*s", nl ? (int)(nl - s + 1) :
		    (int)strlen(s), s) < 0)
			rc = -1;
		s = nl ? nl + 1 : s + strlen(s);
	}
	json_object_put(o);
	return (rc);
}

/* Close the array and the object; -1 if it fails. */
int
dump_json_end(FILE *out)
{
	return (fprintf(out, "%s  ]\n}\n", json_count > 0 ? "\n" : "") < 0 ?
	    -1 : 0);
}
