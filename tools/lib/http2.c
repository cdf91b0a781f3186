/* HTTP/2 streams (RFC 9113): frames, and header blocks through HPACK. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "requests-int.h"

/* Frame types and flags, RFC 9113 6. */
#define H2_DATA		0x0
#define H2_HEADERS	0x1
#define H2_RST_STREAM	0x3
#define H2_SETTINGS	0x4
#define H2_PUSH_PROMISE	0x5
#define H2_GOAWAY	0x7
#define H2_CONTINUATION	0x9
#define H2_END_STREAM	0x1
#define H2_END_HEADERS	0x4
#define H2_PADDED	0x8
#define H2_PRIORITY	0x20
#define H2_BLOCK_MAX	(1024 * 1024)	/* a header block we still decode */

static const char h2_magic[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define H2_MAGIC_LEN	24

static void	h2_frame(struct req_conn *, int);
static void	h2_block(struct req_conn *, int);

/* Does a stream start with (a prefix of) the client preface? */
int
h2_preface(const uint8_t *p, size_t n)
{
	size_t	m = n < H2_MAGIC_LEN ? n : H2_MAGIC_LEN;

	return (m >= 1 && memcmp(p, h2_magic, m) == 0);
}

/* One HPACK inflater per direction: each has its own dynamic table. */
int
h2_init(struct req_conn *c)
{
	int	i;

	for (i = 0; i < 2; i++) {
		memset(&c->h2[i], 0, sizeof c->h2[i]);
		c->h2[i].request = i == 0;
		c->h2[i].preface = i == 0 ? H2_MAGIC_LEN : 0;
		if (nghttp2_hd_inflate_new(&c->h2[i].inf) != 0)
			return (-1);
	}
	return (0);
}

void
h2_free(struct req_conn *c)
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (c->h2[i].inf != NULL)
			nghttp2_hd_inflate_del(c->h2[i].inf);
		free(c->h2[i].buf);
		free(c->h2[i].blk);
		c->h2[i].inf = NULL;
		c->h2[i].buf = c->h2[i].blk = NULL;
	}
}

/* The open record of a stream, or NULL. */
static struct req_record *
h2_find(struct req_conn *c, uint32_t sid)
{
	struct req_record	*r;

	for (r = c->head; r != NULL; r = r->next)
		if (r->stream == sid)
			return (r);
	return (NULL);
}

static uint32_t
h2_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* Append to a growing byte buffer, at most max bytes in all. */
static int
h2_append(uint8_t **b, size_t *n, size_t *cap, const uint8_t *p,
    size_t len, size_t max)
{
	uint8_t	*nb;
	size_t	 ncap;

	if (*n + len > max)
		return (-1);
	if (len == 0)
		return (0);	/* *b may still be NULL: no memcpy */
	if (*n + len > *cap) {
		ncap = *cap ? *cap : 256;
		while (ncap < *n + len)
			ncap *= 2;
		if ((nb = realloc(*b, ncap)) == NULL)
			return (-1);
		*b = nb;
		*cap = ncap;
	}
	memcpy(*b + *n, p, len);
	*n += len;
	return (0);
}

/* The 9-byte frame header is in: what to do with its payload. */
static void
h2_frame_header(struct req_conn *c, struct h2_side *s)
{
	s->flen = (uint32_t)s->fh[0] << 16 | (uint32_t)s->fh[1] << 8 |
	    s->fh[2];
	s->ftype = s->fh[3];
	s->fflags = s->fh[4];
	s->fsid = h2_u32(s->fh + 5) & 0x7fffffff;
	s->left = s->flen;
	s->nbuf = 0;
	s->keep = s->ftype == H2_HEADERS || s->ftype == H2_CONTINUATION ||
	    s->ftype == H2_PUSH_PROMISE || s->ftype == H2_RST_STREAM ||
	    s->ftype == H2_GOAWAY || s->ftype == H2_SETTINGS;
	if (s->nblk > 0 && s->ftype != H2_CONTINUATION)
		req_broken(c, "HTTP/2 frame type %u inside a header block "
		    "at stream byte %llu", s->ftype,
		    (unsigned long long)s->pos);
}

/* Bytes of one direction of an HTTP/2 connection. */
void
h2_feed(struct req_conn *c, int dir, const uint8_t *p, size_t n)
{
	struct h2_side	*s = &c->h2[dir];
	size_t		 take;

	while (n > 0 && c->state == REQ_H2) {
		if (s->preface > 0) {
			take = n < s->preface ? n : s->preface;
			if (memcmp(p, h2_magic + H2_MAGIC_LEN - s->preface,
			    take) != 0) {
				req_broken(c, "HTTP/2: the client preface "
				    "is wrong");
				return;
			}
			s->preface -= take;
		} else if (s->nfh < 9) {
			if (s->nfh == 0)
				s->fstart = c->now;
			take = 9 - s->nfh < n ? 9 - s->nfh : n;
			memcpy(s->fh + s->nfh, p, take);
			s->nfh += take;
			if (s->nfh == 9)
				h2_frame_header(c, s);
		} else {
			take = s->left < n ? s->left : n;
			if (s->keep && h2_append(&s->buf, &s->nbuf,
			    &s->capbuf, p, take, H2_BLOCK_MAX) == -1) {
				req_broken(c, "HTTP/2 frame of %u bytes: too "
				    "big to decode", s->flen);
				return;
			}
			s->left -= (uint32_t)take;
		}
		p += take;
		n -= take;
		s->pos += take;
		if (s->nfh == 9 && s->left == 0 && c->state == REQ_H2) {
			h2_frame(c, dir);
			s->nfh = 0;
		}
	}
}

/* The stream's side is done: a request sent, or a response whole. */
static void
h2_end_stream(struct req_conn *c, int dir, struct req_record *r)
{
	if (dir == 0) {
		r->req_end = c->now;
		return;
	}
	r->resp_end = c->now;
	r->complete = r->status != 0;
	if (!r->complete)
		snprintf(r->error, sizeof r->error, "the stream ended "
		    "without a response");
	req_close_record(c, r);
}

static void
h2_data(struct req_conn *c, int dir, struct h2_side *s)
{
	struct req_record	*r;

	if ((r = h2_find(c, s->fsid)) == NULL)
		return;
	if (dir == 0)
		r->req_body_size += s->flen;
	else {
		r->resp_body_size += s->flen;
		r->resp_content_size += s->flen;
	}
	if (s->fflags & H2_END_STREAM)
		h2_end_stream(c, dir, r);
}

/* RST_STREAM: the stream ends without the rest of its messages. */
static void
h2_rst(struct req_conn *c, int dir, struct h2_side *s)
{
	struct req_record	*r;

	if (s->nbuf != 4 || (r = h2_find(c, s->fsid)) == NULL)
		return;
	snprintf(r->error, sizeof r->error, "RST_STREAM %s from the %s",
	    nghttp2_http2_strerror(h2_u32(s->buf)),
	    dir == 0 ? "client" : "server");
	r->resp_end = c->now;
	req_close_record(c, r);
}

/* GOAWAY from the server: streams above its last one were not served. */
static void
h2_goaway(struct req_conn *c, int dir, struct h2_side *s)
{
	struct req_record	*r, *next;
	uint32_t		 last, code;

	if (s->nbuf < 8)
		return;
	last = h2_u32(s->buf) & 0x7fffffff;
	code = h2_u32(s->buf + 4);
	if (code != 0)
		req_notice(c, "HTTP/2 GOAWAY from the %s: %s, last stream %u",
		    dir == 0 ? "client" : "server",
		    nghttp2_http2_strerror(code), last);
	if (dir == 0)
		return;
	for (r = c->head; r != NULL; r = next) {
		next = r->next;
		if (r->stream > last) {
			snprintf(r->error, sizeof r->error, "refused: GOAWAY "
			    "with last stream %u", last);
			req_close_record(c, r);
		}
	}
}

/* SETTINGS_HEADER_TABLE_SIZE lets the other side's encoder grow. */
static void
h2_settings(struct req_conn *c, int dir, struct h2_side *s)
{
	size_t	i;

	if (s->fflags & 0x1)
		return;		/* ACK */
	for (i = 0; i + 6 <= s->nbuf; i += 6) {
		if ((s->buf[i] << 8 | s->buf[i + 1]) == 1)
			nghttp2_hd_inflate_change_table_size(c->h2[!dir].inf,
			    h2_u32(s->buf + i + 2));
	}
}

/* HEADERS, PUSH_PROMISE, CONTINUATION: gather the header block. */
static void
h2_fragment(struct req_conn *c, int dir, struct h2_side *s)
{
	size_t	start = 0, pad = 0;

	if (s->ftype != H2_CONTINUATION) {
		if (s->fflags & H2_PADDED) {
			if (s->nbuf < 1)
				goto bad;
			pad = s->buf[0];
			start = 1;
		}
		if (s->ftype == H2_HEADERS && (s->fflags & H2_PRIORITY))
			start += 5;
		if (s->ftype == H2_PUSH_PROMISE)
			start += 4;
		if (start + pad > s->nbuf)
			goto bad;
		s->blk_sid = s->fsid;
		s->blk_type = s->ftype;
		s->blk_end_stream = s->ftype == H2_HEADERS &&
		    (s->fflags & H2_END_STREAM);
		s->blk_start = s->fstart;
		s->nblk = 0;
	} else if (s->blk_type == 0 || s->fsid != s->blk_sid)
		goto bad;
	if (s->nbuf - start - pad > 0 && h2_append(&s->blk, &s->nblk,
	    &s->capblk, s->buf + start, s->nbuf - start - pad,
	    H2_BLOCK_MAX) == -1) {
		req_broken(c, "HTTP/2 header block too big to decode");
		return;
	}
	if (s->fflags & H2_END_HEADERS) {
		h2_block(c, dir);
		s->nblk = 0;
		s->blk_type = 0;
	}
	return;
bad:
	req_broken(c, "HTTP/2 %s frame on stream %u is malformed",
	    s->ftype == H2_CONTINUATION ? "CONTINUATION" : "HEADERS",
	    s->fsid);
}

static void
h2_frame(struct req_conn *c, int dir)
{
	struct h2_side	*s = &c->h2[dir];

	switch (s->ftype) {
	case H2_DATA:
		h2_data(c, dir, s);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		h2_fragment(c, dir, s);
		break;
	case H2_RST_STREAM:
		h2_rst(c, dir, s);
		break;
	case H2_SETTINGS:
		h2_settings(c, dir, s);
		break;
	case H2_GOAWAY:
		h2_goaway(c, dir, s);
		break;
	}
}

/* Decode a whole header block with nghttp2's HPACK inflater. */
static int
h2_inflate(struct req_conn *c, struct h2_side *s, struct req_headers *h)
{
	nghttp2_nv	 nv;
	const uint8_t	*in = s->blk;
	size_t		 inlen = s->nblk;
	ssize_t		 rv;
	int		 fl;

	for (;;) {
		fl = 0;
		rv = nghttp2_hd_inflate_hd2(s->inf, &nv, &fl, in, inlen, 1);
		if (rv < 0) {
			req_broken(c, "HTTP/2 HPACK on stream %u: %s",
			    s->blk_sid, nghttp2_strerror((int)rv));
			return (-1);
		}
		if (rv > 0) {	/* in is NULL for an empty block */
			in += rv;
			inlen -= (size_t)rv;
		}
		if ((fl & NGHTTP2_HD_INFLATE_EMIT) &&
		    req_header_add(h, (const char *)nv.name, nv.namelen,
		    (const char *)nv.value, nv.valuelen) == -1) {
			req_broken(c, "out of memory");
			return (-1);
		}
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(s->inf);
			return (0);
		}
		if (rv == 0 && inlen == 0) {
			req_broken(c, "HTTP/2 HPACK on stream %u: the block "
			    "ends inside a header", s->blk_sid);
			return (-1);
		}
	}
}

/* Free a header list's contents. */
static void
h2_headers_free(struct req_headers *h)
{
	size_t	i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	memset(h, 0, sizeof *h);
}

/* Set *dst to a copy of header name's value, if the list has it. */
static void
h2_pick(const struct req_headers *h, const char *name, char **dst)
{
	const char	*v;

	if ((v = req_header_get(h, name)) != NULL) {
		free(*dst);
		*dst = strdup(v);
	}
}

/* A request's headers open its stream's record. */
static void
h2_request(struct req_conn *c, struct h2_side *s, struct req_headers *h)
{
	struct req_record	*r;
	const char		*v;

	if ((r = h2_find(c, s->blk_sid)) != NULL) {
		r->req_header_size += s->nblk;	/* trailers */
		h2_headers_free(h);
		return;
	}
	if ((r = req_open_record(c)) == NULL) {
		h2_headers_free(h);
		req_broken(c, "out of memory");
		return;
	}
	r->version = 20;
	r->stream = s->blk_sid;
	r->req_start = s->blk_start;
	r->req_header_size = s->nblk;
	r->reqh = *h;
	if ((v = req_header_get(h, ":method")) != NULL)
		snprintf(r->method, sizeof r->method, "%s", v);
	if ((v = req_header_get(h, ":scheme")) != NULL)
		snprintf(r->scheme, sizeof r->scheme, "%s", v);
	h2_pick(h, ":authority", &r->authority);
	if (r->authority == NULL)
		h2_pick(h, "host", &r->authority);
	h2_pick(h, ":path", &r->path);
	h2_pick(h, "content-type", &r->req_type);
}

/* A response's headers, an informational one's, or its trailers. */
static void
h2_response(struct h2_side *s, struct req_headers *h, struct req_record *r)
{
	const char	*v;
	size_t		 i;

	if (r->resp_start == 0)
		r->resp_start = s->blk_start;
	if (r->status != 0) {
		h2_pick(h, "grpc-status", &r->grpc_status);
		h2_pick(h, "grpc-message", &r->grpc_message);
		r->resp_header_size += s->nblk;
		for (i = 0; i < h->n; i++)
			req_header_add(&r->resph, h->v[i].name,
			    strlen(h->v[i].name), h->v[i].value,
			    strlen(h->v[i].value));
		h2_headers_free(h);
		return;
	}
	v = req_header_get(h, ":status");
	if (v == NULL || (v[0] == '1' && strlen(v) == 3)) {
		h2_headers_free(h);	/* 1xx */
		return;
	}
	r->status = atoi(v);
	r->resp_header_size = s->nblk;
	h2_headers_free(&r->resph);
	r->resph = *h;
	h2_pick(h, "content-type", &r->resp_type);
	/* gRPC's trailers-only response carries grpc-status here. */
	h2_pick(h, "grpc-status", &r->grpc_status);
	h2_pick(h, "grpc-message", &r->grpc_message);
}

/* A whole header block: decode it (always: HPACK state), then use it. */
static void
h2_block(struct req_conn *c, int dir)
{
	struct h2_side		*s = &c->h2[dir];
	struct req_headers	 h;
	struct req_record	*r;

	memset(&h, 0, sizeof h);
	if (h2_inflate(c, s, &h) == -1) {
		h2_headers_free(&h);
		return;
	}
	if (s->blk_type == H2_PUSH_PROMISE) {
		h2_headers_free(&h);
		return;
	}
	if (dir == 0)
		h2_request(c, s, &h);
	else if ((r = h2_find(c, s->blk_sid)) == NULL) {
		req_notice(c, "HTTP/2 response on stream %u without a "
		    "request: ignored", s->blk_sid);
		h2_headers_free(&h);
		return;
	} else
		h2_response(s, &h, r);
	if (s->blk_end_stream && (r = h2_find(c, s->blk_sid)) != NULL)
		h2_end_stream(c, dir, r);
}
