/* HTTP/1.0 and 1.1 streams, parsed by http_parser, into request records. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "requests-int.h"

static int	h1_on_begin(http_parser *);
static int	h1_on_url(http_parser *, const char *, size_t);
static int	h1_on_field(http_parser *, const char *, size_t);
static int	h1_on_value(http_parser *, const char *, size_t);
static int	h1_on_headers(http_parser *);
static int	h1_on_body(http_parser *, const char *, size_t);
static int	h1_on_complete(http_parser *);
static void	h1_switch(struct req_conn *, const uint8_t *, size_t);

static const http_parser_settings h1_settings = {
	.on_message_begin = h1_on_begin,
	.on_url = h1_on_url,
	.on_header_field = h1_on_field,
	.on_header_value = h1_on_value,
	.on_headers_complete = h1_on_headers,
	.on_body = h1_on_body,
	.on_message_complete = h1_on_complete
};

/* Does a stream start like an HTTP/1 request: "TOKEN " in capitals? */
int
h1_looks(const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n && i < 24; i++) {
		if (p[i] == ' ')
			return (i > 0);
		if ((p[i] < 'A' || p[i] > 'Z') && p[i] != '-')
			return (0);
	}
	return (i > 0 && i < 24);
}

/* Two parsers: requests on side 0, responses on side 1. */
void
h1_init(struct req_conn *c)
{
	int	i;

	for (i = 0; i < 2; i++) {
		http_parser_init(&c->h1[i].p, i == 0 ? HTTP_REQUEST :
		    HTTP_RESPONSE);
		c->h1[i].p.data = &c->h1[i];
		c->h1[i].c = c;
		c->h1[i].request = i == 0;
	}
}

/* Free a side's partial header and its list. */
static void
h1_side_clear(struct h1_side *s)
{
	size_t	i;

	free(s->field);
	free(s->value);
	free(s->url);
	s->field = s->value = s->url = NULL;
	s->fieldlen = s->valuelen = s->urllen = 0;
	s->in_value = 0;
	for (i = 0; i < s->hdrs.n; i++) {
		free(s->hdrs.v[i].name);
		free(s->hdrs.v[i].value);
	}
	s->hdrs.n = 0;
}

void
h1_free(struct req_conn *c)
{
	int	i;

	for (i = 0; i < 2; i++) {
		h1_side_clear(&c->h1[i]);
		free(c->h1[i].hdrs.v);
		c->h1[i].hdrs.v = NULL;
		c->h1[i].hdrs.cap = 0;
	}
}

/* Append n bytes to a growing string. */
static int
h1_append(char **s, size_t *len, const char *at, size_t n)
{
	char	*p;

	if ((p = realloc(*s, *len + n + 1)) == NULL)
		return (-1);
	memcpy(p + *len, at, n);
	*len += n;
	p[*len] = '\0';
	*s = p;
	return (0);
}

/* The header just read, into the side's list. */
static int
h1_commit(struct h1_side *s)
{
	int	r = 0;

	if (s->field != NULL)
		r = req_header_add(&s->hdrs, s->field, s->fieldlen,
		    s->value != NULL ? s->value : "", s->valuelen);
	free(s->field);
	free(s->value);
	s->field = s->value = NULL;
	s->fieldlen = s->valuelen = 0;
	s->in_value = 0;
	return (r);
}

/* A message starts: a new request, or the response to the oldest one. */
static int
h1_on_begin(http_parser *p)
{
	struct h1_side	*s = p->data;
	struct req_conn	*c = s->c;

	h1_side_clear(s);
	s->in_msg = 1;
	s->event = H1_EV_BEGIN;
	if (s->request) {
		if ((s->cur = req_open_record(c)) == NULL)
			return (-1);
		s->cur->req_start = c->now;
		s->cur->version = 11;
	} else if (s->cur == NULL) {
		s->cur = c->head;
		if (s->cur != NULL && s->cur->resp_start == 0)
			s->cur->resp_start = c->now;
		else if (s->cur == NULL)
			req_notice(c, "an HTTP/1 response without a request: "
			    "ignored");
	}
	http_parser_pause(p, 1);
	return (0);
}

static int
h1_on_url(http_parser *p, const char *at, size_t n)
{
	struct h1_side	*s = p->data;

	return (h1_append(&s->url, &s->urllen, at, n));
}

static int
h1_on_field(http_parser *p, const char *at, size_t n)
{
	struct h1_side	*s = p->data;

	if (s->in_value && h1_commit(s) == -1)
		return (-1);
	return (h1_append(&s->field, &s->fieldlen, at, n));
}

static int
h1_on_value(http_parser *p, const char *at, size_t n)
{
	struct h1_side	*s = p->data;

	s->in_value = 1;
	return (h1_append(&s->value, &s->valuelen, at, n));
}

/* Move the side's header list into the record's. */
static void
h1_take(struct h1_side *s, struct req_headers *to, char **type)
{
	const char	*v;
	size_t		 i;

	for (i = 0; i < to->n; i++) {
		free(to->v[i].name);
		free(to->v[i].value);
	}
	free(to->v);
	*to = s->hdrs;
	memset(&s->hdrs, 0, sizeof s->hdrs);
	if ((v = req_header_get(to, "content-type")) != NULL) {
		free(*type);
		*type = strdup(v);
	}
}

/* The request's method, target, Host and headers. */
static void
h1_request_headers(struct h1_side *s, http_parser *p, struct req_record *r)
{
	const char	*host;

	snprintf(r->method, sizeof r->method, "%s",
	    http_method_str((enum http_method)p->method));
	r->version = p->http_major == 1 && p->http_minor == 0 ? 10 : 11;
	free(r->path);
	r->path = s->url != NULL ? s->url : strdup("");
	s->url = NULL;
	s->urllen = 0;
	h1_take(s, &r->reqh, &r->req_type);
	host = req_header_get(&r->reqh, "host");
	free(r->authority);
	r->authority = strdup(host != NULL ? host : "");
	if (p->upgrade) {
		s->c->upgrading = r;
		host = req_header_get(&r->reqh, "upgrade");
		s->c->h2c = host != NULL && strcasecmp(host, "h2c") == 0;
	}
}

/*
 * Headers done.  Responses to HEAD have no body, nor do 2xx answers to
 * CONNECT, after which the stream is a tunnel (RFC 9110 9.3.2, 9.3.6).
 */
static int
h1_on_headers(http_parser *p)
{
	struct h1_side		*s = p->data;
	struct req_record	*r = s->cur;
	int			 skip = 0;

	if (h1_commit(s) == -1)
		return (-1);
	s->event = H1_EV_HEADERS;
	http_parser_pause(p, 1);
	if (r == NULL)
		return (0);
	if (s->request) {
		h1_request_headers(s, p, r);
		return (0);
	}
	if (p->status_code >= 100 && p->status_code < 200 &&
	    p->status_code != 101) {
		h1_side_clear(s);
		return (0);
	}
	r->status = p->status_code;
	h1_take(s, &r->resph, &r->resp_type);
	if (strcmp(r->method, "HEAD") == 0)
		skip = 1;
	if (strcmp(r->method, "CONNECT") == 0 && r->status / 100 == 2)
		skip = 2;
	return (skip);
}

static int
h1_on_body(http_parser *p, const char *at, size_t n)
{
	struct h1_side	*s = p->data;

	(void)at;
	if (!s->request && s->cur != NULL)
		s->cur->resp_content_size += n;
	return (0);
}

/* A message ends; h1_after() says what it means, once paused. */
static int
h1_on_complete(http_parser *p)
{
	struct h1_side	*s = p->data;

	s->event = H1_EV_COMPLETE;
	http_parser_pause(p, 1);
	return (0);
}

/* Sizes from the stream positions, once the parser paused at an event. */
static void
h1_sizes(struct h1_side *s, http_parser *p, struct req_record *r, int ev)
{
	uint64_t	body = s->pos - s->hdr_end;

	if (ev == H1_EV_HEADERS) {
		if (s->request)
			r->req_header_size = s->hdr_end - s->begin;
		else if (p->status_code == r->status)
			r->resp_header_size = s->hdr_end - s->begin;
	} else if (s->request)
		r->req_body_size = body;
	else
		r->resp_body_size = body;
}

/*
 * After the parser paused at a callback: positions (it pauses after the
 * first byte, before the headers' last LF, after the last byte), and the
 * end of a message: a request sent, or its response whole.
 */
static void
h1_after(struct h1_side *s, http_parser *p)
{
	struct req_record	*r = s->cur;
	int			 ev = s->event;

	s->event = H1_EV_NONE;
	if (ev == H1_EV_BEGIN)
		s->begin = s->pos - 1;
	else if (ev == H1_EV_HEADERS)
		s->hdr_end = s->pos + 1;
	if (r == NULL || ev == H1_EV_BEGIN)
		return;
	h1_sizes(s, p, r, ev);
	if (ev != H1_EV_COMPLETE)
		return;
	s->in_msg = 0;
	if (s->request) {
		r->req_end = s->c->now;
		s->cur = NULL;
		if (p->upgrade)
			s->stopped = 1;
		return;
	}
	if (p->status_code >= 100 && p->status_code < 200 &&
	    p->status_code != 101)
		return;	/* 1xx: the final response is still to come */
	r->resp_end = s->c->now;
	r->complete = 1;
	s->cur = NULL;
	if (r == s->c->upgrading || p->upgrade || r->status == 101)
		s->stopped = 1;
	else
		req_close_record(s->c, r);
}

/* Run one side's parser over n bytes; the callbacks pause it to count. */
static size_t
h1_run(struct req_conn *c, int dir, const uint8_t *data, size_t n)
{
	struct h1_side	*s = &c->h1[dir];
	size_t		 off = 0, r;
	enum http_errno	 e;

	while (off < n && !s->stopped && c->state == REQ_H1) {
		r = http_parser_execute(&s->p, &h1_settings,
		    (const char *)data + off, n - off);
		e = HTTP_PARSER_ERRNO(&s->p);
		off += r;
		s->pos += r;
		if (e == HPE_PAUSED) {
			http_parser_pause(&s->p, 0);
			h1_after(s, &s->p);
			continue;
		}
		if (e != HPE_OK) {
			req_broken(c, "HTTP/1 %s at %s byte %llu: %s",
			    dir == 0 ? "request" : "response",
			    dir == 0 ? "request stream" : "response stream",
			    (unsigned long long)s->pos,
			    http_errno_description(e));
			return (n);
		}
		if (r == 0)
			break;
	}
	return (off);
}

/* What happens once the response to an Upgrade or CONNECT is whole. */
static void
h1_upgraded(struct req_conn *c, const uint8_t *rest, size_t n)
{
	struct req_record	*r = c->upgrading;
	uint8_t			*hold;
	size_t			 nhold;

	c->upgrading = NULL;
	c->holding = 0;
	hold = c->hold;
	nhold = c->nhold;
	c->hold = NULL;
	c->nhold = 0;
	if (r != NULL && r->status == 101 && c->h2c) {
		h1_switch(c, rest, n);
		if (c->state == REQ_H2 && nhold > 0)
			h2_feed(c, 0, hold, nhold);
	} else if (r != NULL && (r->status == 101 ||
	    (strcmp(r->method, "CONNECT") == 0 && r->status / 100 == 2))) {
		req_close_record(c, r);
		c->state = REQ_OPAQUE;
	} else {
		/* Declined: HTTP/1 goes on, with the requests held back. */
		if (r != NULL)
			req_close_record(c, r);
		c->h1[0].stopped = c->h1[1].stopped = 0;
		http_parser_init(&c->h1[0].p, HTTP_REQUEST);
		http_parser_init(&c->h1[1].p, HTTP_RESPONSE);
		if (nhold > 0)
			h1_feed(c, 0, hold, nhold);
		if (n > 0)
			h1_feed(c, 1, rest, n);
	}
	free(hold);
}

/* h2c (RFC 7540 3.2): stream 1 carries the upgraded request's response. */
static void
h1_switch(struct req_conn *c, const uint8_t *rest, size_t n)
{
	struct req_record	*r = c->head;

	for (r = c->head; r != NULL; r = r->next) {
		if (r->status == 101) {
			r->status = 0;
			r->complete = 0;
			r->resp_start = 0;
			r->resp_end = 0;
			r->resp_header_size = 0;
			r->resp_body_size = 0;
			r->version = 20;
			r->stream = 1;
		}
	}
	c->state = REQ_H2;
	if (h2_init(c) == -1) {
		req_broken(c, "out of memory");
		return;
	}
	c->h2[1].preface = 0;
	if (n > 0)
		h2_feed(c, 1, rest, n);
}

/* Bytes of one direction of an HTTP/1 connection. */
void
h1_feed(struct req_conn *c, int dir, const uint8_t *p, size_t n)
{
	struct h1_side	*s = &c->h1[dir];
	size_t		 used;
	uint8_t		*nh;

	if (dir == 0 && c->holding) {
		if (c->nhold + n > REQ_HOLD_MAX) {
			req_broken(c, "more than %d bytes sent while an "
			    "Upgrade waited for its answer", REQ_HOLD_MAX);
			return;
		}
		if ((nh = realloc(c->hold, c->nhold + n + 1)) == NULL) {
			req_broken(c, "out of memory");
			return;
		}
		memcpy(nh + c->nhold, p, n);
		c->hold = nh;
		c->nhold += n;
		return;
	}
	used = h1_run(c, dir, p, n);
	if (c->state != REQ_H1 || !s->stopped)
		return;
	if (dir == 0) {
		c->holding = 1;
		h1_feed(c, 0, p + used, n - used);
	} else
		h1_upgraded(c, p + used, n - used);
}

/* The response stream ended: a body that runs to the close is whole. */
void
h1_eof(struct req_conn *c, int dir)
{
	struct h1_side	*s = &c->h1[dir];

	if (c->state != REQ_H1 || s->stopped || s->eof)
		return;
	s->eof = 1;
	if (!s->in_msg)
		return;
	http_parser_execute(&s->p, &h1_settings, NULL, 0);
	if (HTTP_PARSER_ERRNO(&s->p) == HPE_PAUSED) {
		http_parser_pause(&s->p, 0);
		h1_after(s, &s->p);
	}
	h1_cut(c);
}

/* A response body cut short: count what came of it. */
void
h1_cut(struct req_conn *c)
{
	struct h1_side	*s = &c->h1[1];

	if (s->in_msg && s->cur != NULL && s->cur->status != 0 &&
	    s->pos >= s->hdr_end)
		s->cur->resp_body_size = s->pos - s->hdr_end;
}
