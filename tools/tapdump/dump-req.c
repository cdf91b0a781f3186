/* tapdump --requests: one line or one JSON object per HTTP request. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "dump-req.h"
#include "msg.h"
#include "proto/tapshim.pb-c.h"

static void	dump_req_emit(const struct req_record *, void *);
static void	dump_req_notice(const char *, uint64_t, size_t, const char *,
		    void *);

/* The TLS handshake's length from Connection.tls; -1 when not known. */
static int64_t
dump_req_tls(const struct trace_conn *c)
{
	Tapshim__Trace__TlsInfo	*m;
	int64_t			 ns = -1;

	if (c->tlsinfo.p == NULL || (m = tapshim__trace__tls_info__unpack(NULL,
	    c->tlsinfo.len, c->tlsinfo.p)) == NULL)
		return (-1);
	if (m->handshake_begin != NULL && m->handshake_end != NULL)
		ns = (m->handshake_end->seconds - m->handshake_begin->seconds) *
		    1000000000LL + (m->handshake_end->nanos -
		    m->handshake_begin->nanos);
	tapshim__trace__tls_info__free_unpacked(m, NULL);
	return (ns >= 0 ? ns : -1);
}

/* Decode the record's connection once per trace: process, lookup, TLS. */
void
dump_req_conn(struct dump_req *d, const struct req_record *r)
{
	const struct trace_conn	*c = &r->info->conn;
	const struct trace_addr	*srv;
	struct dump_proc	 p;
	struct dump_res		 res;
	char			 ip[INET6_ADDRSTRLEN];

	if (d->last == r->info)
		return;
	d->last = r->info;
	memset(&d->conn, 0, sizeof d->conn);
	d->conn.pid = c->pid;
	if (dump_process(c, &p) == 1)
		snprintf(d->conn.exe, sizeof d->conn.exe, "%s", p.exe);
	d->conn.dns_ns = dump_resolution(c, &res) == 1 && res.error[0] ==
	    '\0' ? (int64_t)res.duration_ns : -1;
	d->conn.connect_ns = c->connect_ns != 0 ? (int64_t)c->connect_ns : -1;
	d->conn.tls_ns = c->tls ? dump_req_tls(c) : -1;
	d->conn.opened = c->has_started ? c->started_sec * 1000000000LL +
	    c->started_nsec : 0;
	srv = c->role == TRACE_ROLE_SERVER ? &c->local : &c->remote;
	if (srv->family == AF_INET || srv->family == AF_INET6)
		inet_ntop(srv->family, srv->ip, ip, sizeof ip);
	else
		ip[0] = '\0';
	snprintf(d->conn.server, sizeof d->conn.server, "%s", ip);
}

/* A header's value as shown: secrets hidden unless --show-secrets. */
const char *
dump_req_value(const struct dump_req *d, const struct req_header *h)
{
	if (!d->show_secrets && req_secret(h->name))
		return ("[redacted]");
	return (h->value);
}

/* scheme://authority/path, or the target itself when it is absolute. */
void
dump_req_url(const struct req_record *r, char *buf, size_t n)
{
	if (strncmp(r->path, "http://", 7) == 0 ||
	    strncmp(r->path, "https://", 8) == 0 ||
	    strcmp(r->method, "CONNECT") == 0)
		snprintf(buf, n, "%s", r->path);
	else
		snprintf(buf, n, "%s://%s%s", r->scheme,
		    *r->authority ? r->authority : "-", r->path);
}

/* [{"name": ..., "value": ...}, ...] */
json_object *
dump_req_headers(const struct dump_req *d, const struct req_headers *h)
{
	json_object	*a, *o;
	size_t		 i;

	a = json_object_new_array();
	for (i = 0; i < h->n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(h->v[i].name));
		json_object_object_add(o, "value",
		    json_object_new_string(dump_req_value(d, &h->v[i])));
		json_object_array_add(a, o);
	}
	return (a);
}

/* "812 B", "1.2 KB", "3.4 MB" */
static const char *
dump_req_size(uint64_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KB", n / 1024.0);
	else
		snprintf(buf, len, "%.1f MB", n / (1024.0 * 1024.0));
	return (buf);
}

/* "  ttfb 3.4 ms", to the microsecond below a millisecond. */
static void
dump_req_ms(FILE *f, const char *what, int64_t ns)
{
	fprintf(f, ns < 1000000 ? "  %s %.3f ms" : "  %s %.1f ms", what,
	    ns / 1e6);
}

/* One line: start, method, URL, status, size, latency, connection. */
static void
dump_req_line(struct dump_req *d, const struct req_record *r)
{
	char	url[2048], size[32], st[16];
	int64_t	rel = r->req_start - d->base;

	dump_req_url(r, url, sizeof url);
	if (r->status != 0)
		snprintf(st, sizeof st, "%d", r->status);
	else
		snprintf(st, sizeof st, "-");
	fprintf(d->out, "%+.3f  %s %s  %s  %s", rel / 1e9, r->method, url, st,
	    dump_req_size(r->resp_body_size, size, sizeof size));
	if (r->resp_start != 0)
		dump_req_ms(d->out, "ttfb", r->resp_start - r->req_start);
	if (r->resp_end != 0)
		dump_req_ms(d->out, "total", r->resp_end - r->req_start);
	if (r->grpc_status != NULL)
		fprintf(d->out, "  grpc-status %s", r->grpc_status);
	fprintf(d->out, "  [trace %" PRIu64 " pid %u%s%s%s%s%s]\n",
	    r->info->trace_id, d->conn.pid,
	    r->version == 20 ? " h2" : "", r->seq > 0 ? " reused" : "",
	    r->info->conn.role == TRACE_ROLE_SERVER ? " server" : "",
	    r->error[0] ? ": " : "", r->error);
}

/* An absolute time in ns since the epoch as RFC 3339, or null. */
static json_object *
dump_req_time(int64_t ns)
{
	char	buf[64];

	if (ns == 0)
		return (NULL);
	return (json_object_new_string(dump_time(ns / 1000000000LL,
	    (uint32_t)(ns % 1000000000LL), buf, sizeof buf)));
}

/* b - a in ns, or null when either is unknown. */
static json_object *
dump_req_span(int64_t a, int64_t b)
{
	return (a != 0 && b != 0 ? json_object_new_int64(b - a) : NULL);
}

/* The request's or the response's side of a JSON record. */
static json_object *
dump_req_side(const struct dump_req *d, const struct req_record *r, int resp)
{
	json_object	*o = json_object_new_object();
	const char	*type = resp ? r->resp_type : r->req_type;

	json_object_object_add(o, "header_size", json_object_new_uint64(resp ?
	    r->resp_header_size : r->req_header_size));
	json_object_object_add(o, "body_size", json_object_new_uint64(resp ?
	    r->resp_body_size : r->req_body_size));
	if (resp)
		json_object_object_add(o, "content_size",
		    json_object_new_uint64(r->resp_content_size));
	json_object_object_add(o, "content_type", type != NULL ?
	    json_object_new_string(type) : NULL);
	json_object_object_add(o, "headers", dump_req_headers(d,
	    resp ? &r->resph : &r->reqh));
	return (o);
}

static json_object *
dump_req_ns(int64_t v)
{
	return (v >= 0 ? json_object_new_int64(v) : NULL);
}

/* The times of a JSON record, and the connection's for its first one. */
static json_object *
dump_req_times(const struct dump_req *d, const struct req_record *r)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "request_start", dump_req_time(r->req_start));
	json_object_object_add(o, "request_end", dump_req_time(r->req_end));
	json_object_object_add(o, "response_start",
	    dump_req_time(r->resp_start));
	json_object_object_add(o, "response_end", dump_req_time(r->resp_end));
	json_object_object_add(o, "send_ns", dump_req_span(r->req_start,
	    r->req_end));
	json_object_object_add(o, "wait_ns", dump_req_span(r->req_end,
	    r->resp_start));
	json_object_object_add(o, "receive_ns", dump_req_span(r->resp_start,
	    r->resp_end));
	json_object_object_add(o, "ttfb_ns", dump_req_span(r->req_start,
	    r->resp_start));
	json_object_object_add(o, "total_ns", dump_req_span(r->req_start,
	    r->resp_end));
	json_object_object_add(o, "dns_ns", r->seq == 0 ?
	    dump_req_ns(d->conn.dns_ns) : NULL);
	json_object_object_add(o, "connect_ns", r->seq == 0 ?
	    dump_req_ns(d->conn.connect_ns) : NULL);
	json_object_object_add(o, "tls_ns", r->seq == 0 ?
	    dump_req_ns(d->conn.tls_ns) : NULL);
	return (o);
}

static void
dump_req_jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL ? json_object_new_string(v) :
	    NULL);
}

/* One JSON record (fields: tapdump(1)). */
static void
dump_req_json(struct dump_req *d, const struct req_record *r)
{
	json_object	*o = json_object_new_object();
	char		 url[2048];

	dump_req_url(r, url, sizeof url);
	dump_req_jstr(o, "file", r->file);
	json_object_object_add(o, "trace_id",
	    json_object_new_uint64(r->info->trace_id));
	json_object_object_add(o, "pid", json_object_new_int64(d->conn.pid));
	dump_req_jstr(o, "exe", d->conn.exe[0] ? d->conn.exe : NULL);
	dump_req_jstr(o, "role", dump_role(r->info->conn.role));
	dump_req_jstr(o, "server_ip", d->conn.server[0] ? d->conn.server :
	    NULL);
	dump_req_jstr(o, "version", req_version(r));
	if (r->version == 20)
		json_object_object_add(o, "stream",
		    json_object_new_int64(r->stream));
	dump_req_jstr(o, "method", r->method);
	dump_req_jstr(o, "scheme", r->scheme);
	dump_req_jstr(o, "authority", r->authority);
	dump_req_jstr(o, "path", r->path);
	dump_req_jstr(o, "url", url);
	json_object_object_add(o, "status", r->status != 0 ?
	    json_object_new_int(r->status) : NULL);
	if (r->grpc_status != NULL) {
		dump_req_jstr(o, "grpc_status", r->grpc_status);
		dump_req_jstr(o, "grpc_message", r->grpc_message);
	}
	json_object_object_add(o, "complete",
	    json_object_new_boolean(r->complete));
	dump_req_jstr(o, "error", r->error[0] ? r->error : NULL);
	json_object_object_add(o, "reused", json_object_new_boolean(r->seq >
	    0));
	json_object_object_add(o, "request", dump_req_side(d, r, 0));
	json_object_object_add(o, "response", dump_req_side(d, r, 1));
	json_object_object_add(o, "times", dump_req_times(d, r));
	fprintf(d->out, "%s%s", d->n > 0 ? ",\n    " : "\n    ",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Each record, as the request layer finishes it. */
static void
dump_req_emit(const struct req_record *r, void *arg)
{
	struct dump_req	*d = arg;

	dump_req_conn(d, r);
	switch (d->mode) {
	case DUMP_REQ_TEXT:
		dump_req_line(d, r);
		break;
	case DUMP_REQ_JSON:
		dump_req_json(d, r);
		break;
	case DUMP_REQ_SUMMARY:
		if (dump_sum_add(d, r) == -1)
			msg_err("out of memory");
		break;
	case DUMP_REQ_HAR:
		dump_har_entry(d, r);
		break;
	}
	d->n++;
}

/* What the layer could not parse: said, and the run goes on. */
static void
dump_req_notice(const char *file, uint64_t id, size_t off, const char *why,
    void *arg)
{
	struct dump_req	*d = arg;

	d->notices++;
	msg_notice(0, "%s: trace %" PRIu64 ": offset %zu: %s", file, id, off, why);
}

/* The earliest event of all the files: the timeline's +0.000. */
static int64_t
dump_req_base(char **paths, int n)
{
	const struct trace_info	*t;
	struct trace_file	*tf;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	int64_t			 base = 0, v;
	size_t			 j;
	int			 i;

	for (i = 0; i < n; i++) {
		if ((tf = trace_open(paths[i], errbuf)) == NULL)
			continue;
		for (j = 0; j < trace_count(tf); j++) {
			t = trace_info(tf, j);
			if (!t->has_time)
				continue;
			v = t->first_sec * 1000000000LL + t->first_nsec;
			if (base == 0 || v < base)
				base = v;
		}
		trace_close(tf);
	}
	return (base);
}

/*
 * The requests of every trace file in paths, in the order they end, one
 * file after another; memory holds only the open requests (and, for the
 * summary, one latency per request).  Returns 0, or 1 if a file failed.
 */
int
dump_requests(FILE *out, char **paths, int n, enum dump_req_mode mode,
    int show_secrets, int json)
{
	struct dump_req	 d;
	char		 errbuf[TRACE_ERRBUF_SIZE], note[TRACE_ERRBUF_SIZE];
	int		 i, rc = 0;

	memset(&d, 0, sizeof d);
	d.out = out;
	d.mode = mode;
	d.json = json;
	d.show_secrets = show_secrets;
	if (mode == DUMP_REQ_TEXT)
		d.base = dump_req_base(paths, n);
	if (mode == DUMP_REQ_JSON)
		fprintf(out, "{\n  \"requests\": [");
	if (mode == DUMP_REQ_HAR)
		dump_har_begin(&d);
	for (i = 0; i < n; i++) {
		d.last = NULL;
		if (req_file(paths[i], dump_req_emit, dump_req_notice, &d,
		    errbuf, note) == -1) {
			msg_err("%s", errbuf);
			rc = 1;
		}
		/* Its whole records were read. */
		if (note[0] != '\0')
			msg_notice(0, "%s", note);
	}
	if (mode == DUMP_REQ_JSON)
		fprintf(out, "%s]\n}\n", d.n > 0 ? "\n  " : "");
	if (mode == DUMP_REQ_HAR)
		dump_har_end(&d);
	if (mode == DUMP_REQ_SUMMARY)
		dump_sum_print(&d);
	dump_sum_free(&d);
	return (rc);
}
