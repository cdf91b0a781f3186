/* HTTP requests out of TCP traces: follows each connection's two streams. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "requests-int.h"

static struct req_conn	*req_conn_get(struct req_ctx *,
			    const struct trace_info *, size_t);
static void		 req_conn_free(struct req_conn *);
static void		 req_data(struct req_conn *, int, const uint8_t *,
			    size_t);
static void		 req_decide(struct req_conn *, int, const uint8_t *,
			    size_t);
static int		 req_alpn_h2(const struct req_conn *);

/* A layer that calls emit for each record and notice for each problem. */
struct req_ctx *
req_new(const char *file, req_emit_fn emit, req_notice_fn notice, void *arg)
{
	struct req_ctx	*ctx;

	if ((ctx = calloc(1, sizeof *ctx)) == NULL)
		return (NULL);
	ctx->file = file;
	ctx->emit = emit;
	ctx->notice = notice;
	ctx->arg = arg;
	return (ctx);
}

/* The connection state of trace i, made on its first event. */
static struct req_conn *
req_conn_get(struct req_ctx *ctx, const struct trace_info *ti, size_t i)
{
	struct req_conn	**n, *c;
	size_t		  cap;

	if (i >= ctx->nconns) {
		cap = i + 16;
		if ((n = reallocarray(ctx->conns, cap, sizeof *n)) == NULL)
			return (NULL);
		memset(n + ctx->nconns, 0, (cap - ctx->nconns) * sizeof *n);
		ctx->conns = n;
		ctx->nconns = cap;
	}
	if ((c = ctx->conns[i]) != NULL)
		return (c);
	if ((c = calloc(1, sizeof *c)) == NULL)
		return (NULL);
	c->ctx = ctx;
	c->info = ti;
	c->trace = i;
	ctx->conns[i] = c;
	return (c);
}

/* Say what could not be parsed, at the event being parsed. */
void
req_notice(struct req_conn *c, const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	if (c->ctx->notice == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	c->ctx->notice(c->ctx->file, c->info->trace_id, c->offset, buf,
	    c->ctx->arg);
}

/* Give up on the connection: say why, end its open records. */
void
req_broken(struct req_conn *c, const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	req_notice(c, "%s; the rest of this connection is skipped", buf);
	if (c->state == REQ_H1)
		h1_cut(c);
	c->state = REQ_BROKEN;
	req_drop_all(c, buf);
}

/*
 * Feed one event of trace ev->trace.  Requests travel on the writes of a
 * client's trace and on the reads of a server's (unknown role: client).
 */
int
req_event(struct req_ctx *ctx, const struct trace_info *ti,
    const struct trace_event *ev)
{
	struct req_conn	*c;
	int		 dir;

	if ((ti->has_conn && (ti->conn.local.udp || ti->conn.remote.udp)))
		return (0);
	if ((c = req_conn_get(ctx, ti, ev->trace)) == NULL)
		return (-1);
	c->now = ev->has_time ? ev->sec * 1000000000LL + ev->nsec : c->now;
	c->offset = ev->offset;
	if (ev->kind == TRACE_EV_CLOSED) {
		h1_eof(c, 1);
		req_drop_all(c, ev->reset != TRACE_RESET_NONE ?
		    "connection reset" : "connection closed");
		return (0);
	}
	if (ev->kind != TRACE_EV_READ && ev->kind != TRACE_EV_WRITE)
		return (0);
	dir = (ev->kind == TRACE_EV_WRITE) !=
	    (ti->has_conn && ti->conn.role == TRACE_ROLE_SERVER) ? 0 : 1;
	if (ev->caplen > 0)
		req_data(c, dir, ev->data, ev->caplen);
	if (ev->truncated && ev->len > ev->caplen && c->state != REQ_BROKEN &&
	    c->state != REQ_OPAQUE)
		req_broken(c, "%llu bytes the trace did not keep",
		    (unsigned long long)(ev->len - ev->caplen));
	if (ev->end_stream && dir == 1)
		h1_eof(c, 1);
	return (0);
}

/* Bytes of one direction, to whichever protocol the connection speaks. */
static void
req_data(struct req_conn *c, int dir, const uint8_t *p, size_t n)
{
	size_t	take;

	if (c->state == REQ_UNDECIDED && dir == 0) {
		/* "P" may start PUT or the HTTP/2 preface: wait to see. */
		take = n < sizeof c->pre - c->npre ? n :
		    sizeof c->pre - c->npre;
		memcpy(c->pre + c->npre, p, take);
		c->npre += take;
		p += take;
		n -= take;
		if (c->npre < sizeof c->pre && h2_preface(c->pre, c->npre) &&
		    !req_alpn_h2(c))
			return;
		req_decide(c, dir, c->pre, c->npre);
		req_data(c, dir, c->pre, c->npre);
	} else if (c->state == REQ_UNDECIDED)
		req_decide(c, dir, c->pre, c->npre);
	if (n == 0)
		return;
	if (c->state == REQ_H1)
		h1_feed(c, dir, p, n);
	else if (c->state == REQ_H2)
		h2_feed(c, dir, p, n);
}

/* Did TLS agree on HTTP/2 (RFC 7301)? */
static int
req_alpn_h2(const struct req_conn *c)
{
	return (c->info->has_conn && strcmp(c->info->conn.alpn, "h2") == 0);
}

/* The first request bytes say what the connection speaks. */
static void
req_decide(struct req_conn *c, int dir, const uint8_t *p, size_t n)
{
	const struct trace_conn	*tc = &c->info->conn;

	if (c->info->has_conn && tc->tls == TRACE_TLS_CIPHERTEXT) {
		req_notice(c, "TLS ciphertext: no requests to read");
		c->state = REQ_OPAQUE;
		return;
	}
	if (req_alpn_h2(c) || (n == sizeof c->pre && h2_preface(p, n))) {
		c->state = REQ_H2;
		if (h2_init(c) == -1)
			req_broken(c, "out of memory");
		return;
	}
	if (n > 0 && h1_looks(p, n)) {
		c->state = REQ_H1;
		h1_init(c);
		return;
	}
	c->state = REQ_BROKEN;
	if (n > 0)
		req_notice(c, "not HTTP: the first request bytes are not a "
		    "method or the HTTP/2 preface");
	else
		req_notice(c, "not HTTP: the server spoke first");
	(void)dir;
}

/* A new record at the end of the connection's queue. */
struct req_record *
req_open_record(struct req_conn *c)
{
	struct req_record	*r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return (NULL);
	r->file = c->ctx->file;
	r->trace = c->trace;
	r->info = c->info;
	r->seq = c->nreq++;
	snprintf(r->scheme, sizeof r->scheme, "%s",
	    c->info->has_conn && c->info->conn.tls ? "https" : "http");
	if (c->tail != NULL)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	return (r);
}

/* Free a record and what it holds. */
static void
req_record_free(struct req_record *r)
{
	size_t	i;

	for (i = 0; i < r->reqh.n; i++) {
		free(r->reqh.v[i].name);
		free(r->reqh.v[i].value);
	}
	for (i = 0; i < r->resph.n; i++) {
		free(r->resph.v[i].name);
		free(r->resph.v[i].value);
	}
	free(r->reqh.v);
	free(r->resph.v);
	free(r->authority);
	free(r->path);
	free(r->grpc_status);
	free(r->grpc_message);
	free(r->req_type);
	free(r->resp_type);
	free(r);
}

/* Take r off the queue, hand it out, free it. */
void
req_close_record(struct req_conn *c, struct req_record *r)
{
	struct req_record	**pp, *prev = NULL;

	for (pp = &c->head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			if (c->tail == r)
				c->tail = prev;
			break;
		}
	}
	r->next = NULL;
	/* Nothing may point at it once it is gone. */
	if (c->h1[0].cur == r)
		c->h1[0].cur = NULL;
	if (c->h1[1].cur == r)
		c->h1[1].cur = NULL;
	if (c->upgrading == r)
		c->upgrading = NULL;
	if (r->authority == NULL)
		r->authority = req_strndup("", 0);
	if (r->path == NULL)
		r->path = req_strndup("", 0);
	if (r->authority != NULL && r->path != NULL)
		c->ctx->emit(r, c->ctx->arg);
	req_record_free(r);
}

/*
 * End every open record: a request that was sent is real even without a
 * response, so it is handed out with why it did not end.
 */
void
req_drop_all(struct req_conn *c, const char *why)
{
	while (c->head != NULL) {
		if (!c->head->complete && c->head->error[0] == '\0')
			snprintf(c->head->error, sizeof c->head->error, "%s",
			    c->head->status == 0 && c->head->resp_start == 0 ?
			    "no response" : why);
		req_close_record(c, c->head);
	}
}

/* A NUL-terminated copy of n bytes. */
char *
req_strndup(const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		return (NULL);
	memcpy(d, s, n);
	d[n] = '\0';
	return (d);
}

/* Append a header to a list. */
int
req_header_add(struct req_headers *h, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	struct req_header	*n;
	size_t			 cap;

	if (h->n == h->cap) {
		cap = h->cap ? h->cap * 2 : 8;
		if ((n = reallocarray(h->v, cap, sizeof *n)) == NULL)
			return (-1);
		h->v = n;
		h->cap = cap;
	}
	h->v[h->n].name = req_strndup(name, nlen);
	h->v[h->n].value = req_strndup(value, vlen);
	if (h->v[h->n].name == NULL || h->v[h->n].value == NULL) {
		free(h->v[h->n].name);
		free(h->v[h->n].value);
		return (-1);
	}
	h->n++;
	return (0);
}

/* The value of the first header called name, or NULL. */
const char *
req_header_get(const struct req_headers *h, const char *name)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return (h->v[i].value);
	return (NULL);
}

/* Is this a header whose value is hidden unless --show-secrets? */
int
req_secret(const char *name)
{
	return (strcasecmp(name, "authorization") == 0 ||
	    strcasecmp(name, "proxy-authorization") == 0 ||
	    strcasecmp(name, "cookie") == 0 ||
	    strcasecmp(name, "set-cookie") == 0);
}

const char *
req_version(const struct req_record *r)
{
	return (r->version == 20 ? "HTTP/2" : r->version == 10 ?
	    "HTTP/1.0" : "HTTP/1.1");
}

/* End of the input: every connection's open records are handed out. */
void
req_finish(struct req_ctx *ctx)
{
	size_t	i;

	for (i = 0; i < ctx->nconns; i++) {
		if (ctx->conns[i] == NULL)
			continue;
		/* The trace ending is not the stream ending: no EOF here. */
		if (ctx->conns[i]->state == REQ_H1)
			h1_cut(ctx->conns[i]);
		req_drop_all(ctx->conns[i], "the trace ends");
		req_conn_free(ctx->conns[i]);
		ctx->conns[i] = NULL;
	}
}

static void
req_conn_free(struct req_conn *c)
{
	h1_free(c);
	h2_free(c);
	free(c->hold);
	free(c);
}

void
req_free(struct req_ctx *ctx)
{
	if (ctx == NULL)
		return;
	req_finish(ctx);
	free(ctx->conns);
	free(ctx);
}
