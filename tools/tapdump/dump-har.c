/* tapdump --har: the requests as an HTTP Archive 1.2 (W3C draft). */

#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dump.h"
#include "dump-req.h"

/* HAR's startedDateTime: ISO 8601 with milliseconds, UTC. */
static json_object *
har_date(int64_t ns)
{
	struct tm	tm;
	time_t		t = (time_t)(ns / 1000000000LL);
	char		day[32], buf[48];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(day, sizeof day, "1970-01-01T00:00:00");
	snprintf(buf, sizeof buf, "%s.%03dZ", day,
	    (int)(ns % 1000000000LL / 1000000));
	return (json_object_new_string(buf));
}

/* Milliseconds between two times, 0 when either is unknown. */
static double
har_ms(int64_t a, int64_t b)
{
	return (a != 0 && b != 0 && b > a ? (b - a) / 1e6 : 0);
}

/* A number of ms to the microsecond; -1 stays -1 (HAR: not known). */
static json_object *
har_num(double v)
{
	char	buf[32];

	if (v < 0)
		return (json_object_new_double_s(-1, "-1"));
	snprintf(buf, sizeof buf, "%.3f", v);
	return (json_object_new_double_s(strtod(buf, NULL), buf));
}

/* queryString: the target's name=value pairs, as sent (not decoded). */
static json_object *
har_query(const char *path)
{
	json_object	*a = json_object_new_array(), *o;
	const char	*q, *end, *eq;

	if ((q = strchr(path, '?')) == NULL)
		return (a);
	for (q++; *q != '\0'; q = *end ? end + 1 : end) {
		end = q + strcspn(q, "&#");
		if (end == q) {
			if (*end == '#')
				break;
			continue;
		}
		eq = memchr(q, '=', (size_t)(end - q));
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string_len(q,
		    (int)((eq != NULL ? eq : end) - q)));
		json_object_object_add(o, "value", eq != NULL ?
		    json_object_new_string_len(eq + 1, (int)(end - eq - 1)) :
		    json_object_new_string(""));
		json_object_array_add(a, o);
		if (*end == '#')
			break;
	}
	return (a);
}

static json_object *
har_request(const struct dump_req *d, const struct req_record *r)
{
	json_object	*o = json_object_new_object();
	char		 url[2048];

	dump_req_url(r, url, sizeof url);
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "httpVersion",
	    json_object_new_string(req_version(r)));
	json_object_object_add(o, "cookies", json_object_new_array());
	json_object_object_add(o, "headers", dump_req_headers(d, &r->reqh));
	json_object_object_add(o, "queryString", har_query(r->path));
	json_object_object_add(o, "headersSize",
	    json_object_new_int64((int64_t)r->req_header_size));
	json_object_object_add(o, "bodySize",
	    json_object_new_int64((int64_t)r->req_body_size));
	return (o);
}

static json_object *
har_response(const struct dump_req *d, const struct req_record *r)
{
	json_object	*o = json_object_new_object(), *c;
	const char	*loc = req_header_get(&r->resph, "location");

	json_object_object_add(o, "status", json_object_new_int(r->status));
	json_object_object_add(o, "statusText", json_object_new_string(""));
	json_object_object_add(o, "httpVersion",
	    json_object_new_string(req_version(r)));
	json_object_object_add(o, "cookies", json_object_new_array());
	json_object_object_add(o, "headers", dump_req_headers(d, &r->resph));
	c = json_object_new_object();
	json_object_object_add(c, "size",
	    json_object_new_int64((int64_t)r->resp_content_size));
	json_object_object_add(c, "mimeType", json_object_new_string(
	    r->resp_type != NULL ? r->resp_type : ""));
	json_object_object_add(o, "content", c);
	json_object_object_add(o, "redirectURL",
	    json_object_new_string(loc != NULL ? loc : ""));
	json_object_object_add(o, "headersSize", json_object_new_int64(
	    r->status != 0 ? (int64_t)r->resp_header_size : -1));
	json_object_object_add(o, "bodySize", json_object_new_int64(
	    r->status != 0 ? (int64_t)r->resp_body_size : -1));
	return (o);
}

/*
 * HAR timings, in ms, from the events.  The connection's first request
 * carries its lookup, connect and TLS handshake (ssl is also inside
 * connect, as HAR 1.2 says); blocked is the gap from the connection's
 * setup to the first byte written.  *lead is the ms before req_start.
 */
static json_object *
har_timings(const struct dump_req *d, const struct req_record *r,
    double *total, double *lead)
{
	json_object	*o = json_object_new_object();
	double		 dns = -1, conn = -1, ssl = -1, blocked = -1, up;
	double		 send, wait, recv;
	int64_t		 sent;

	if (r->seq == 0) {
		dns = d->conn.dns_ns >= 0 ? d->conn.dns_ns / 1e6 : -1;
		conn = d->conn.connect_ns >= 0 ? d->conn.connect_ns / 1e6 : -1;
		ssl = d->conn.tls_ns >= 0 ? d->conn.tls_ns / 1e6 : -1;
		if (ssl >= 0)
			conn = (conn >= 0 ? conn : 0) + ssl;
		if (d->conn.opened != 0 && r->req_start > d->conn.opened) {
			up = (r->req_start - d->conn.opened) / 1e6;
			blocked = up - (conn >= 0 ? conn : 0);
			blocked = blocked > 0 ? blocked : 0;
		}
	}
	/*
	 * A response that starts before the request ends (100 Continue, an
	 * early error) overlaps it: wait is 0 and receive starts once the
	 * request is sent, so that send + wait + receive is still the whole.
	 */
	sent = r->req_end != 0 ? r->req_end : r->req_start;
	send = har_ms(r->req_start, r->req_end);
	wait = har_ms(sent, r->resp_start);
	recv = har_ms(r->resp_start > sent ? r->resp_start : sent,
	    r->resp_end);
	json_object_object_add(o, "blocked", har_num(blocked));
	json_object_object_add(o, "dns", har_num(dns));
	json_object_object_add(o, "connect", har_num(conn));
	json_object_object_add(o, "ssl", har_num(ssl));
	json_object_object_add(o, "send", har_num(send));
	json_object_object_add(o, "wait", har_num(wait));
	json_object_object_add(o, "receive", har_num(recv));
	*lead = (blocked > 0 ? blocked : 0) + (dns > 0 ? dns : 0) +
	    (conn > 0 ? conn : 0);
	*total = *lead + send + wait + recv;
	return (o);
}

void
dump_har_begin(struct dump_req *d)
{
	fprintf(d->out, "{\n  \"log\": {\n    \"version\": \"1.2\",\n"
	    "    \"creator\": { \"name\": \"tapdump\", \"version\": \"%s\" },\n"
	    "    \"entries\": [", PACKAGE_VERSION);
}

/* One entry, written as soon as its request is whole. */
void
dump_har_entry(struct dump_req *d, const struct req_record *r)
{
	json_object	*o = json_object_new_object(), *t;
	double		 total, lead;
	char		 conn[64];

	t = har_timings(d, r, &total, &lead);
	json_object_object_add(o, "startedDateTime",
	    har_date(r->req_start - (int64_t)(lead * 1e6)));
	json_object_object_add(o, "time", har_num(total));
	json_object_object_add(o, "request", har_request(d, r));
	json_object_object_add(o, "response", har_response(d, r));
	json_object_object_add(o, "cache", json_object_new_object());
	json_object_object_add(o, "timings", t);
	if (d->conn.server[0])
		json_object_object_add(o, "serverIPAddress",
		    json_object_new_string(d->conn.server));
	snprintf(conn, sizeof conn, "%llu",
	    (unsigned long long)r->info->trace_id);
	json_object_object_add(o, "connection", json_object_new_string(conn));
	json_object_object_add(o, "_file", json_object_new_string(r->file));
	json_object_object_add(o, "_pid", json_object_new_int64(d->conn.pid));
	if (r->error[0])
		json_object_object_add(o, "_error",
		    json_object_new_string(r->error));
	if (r->grpc_status != NULL)
		json_object_object_add(o, "_grpcStatus",
		    json_object_new_string(r->grpc_status));
	fprintf(d->out, "%s%s", d->n > 0 ? ",\n      " : "\n      ",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

void
dump_har_end(struct dump_req *d)
{
	fprintf(d->out, "%s]\n  }\n}\n", d->n > 0 ? "\n    " : "");
}
