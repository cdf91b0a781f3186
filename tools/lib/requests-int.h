/* The request layer's private state: one per connection, two directions. */
#ifndef TAPSHIM_REQUESTS_INT_H
#define TAPSHIM_REQUESTS_INT_H

#include <http_parser.h>
#include <nghttp2/nghttp2.h>

#include "requests.h"

#define REQ_HOLD_MAX	(64 * 1024)	/* bytes kept while an Upgrade waits */
#define H2_FRAME_MAX	(1 << 24)	/* RFC 9113 4.2: 24-bit length */

enum req_state {
	REQ_UNDECIDED,
	REQ_H1,
	REQ_H2,
	REQ_OPAQUE,		/* upgraded, tunnelled: no longer HTTP */
	REQ_BROKEN		/* could not be parsed: the rest is skipped */
};

struct req_conn;

enum { H1_EV_NONE, H1_EV_BEGIN, H1_EV_HEADERS, H1_EV_COMPLETE };

/* One direction of an HTTP/1 connection. */
struct h1_side {
	http_parser	 p;
	struct req_conn	*c;
	int		 request;	/* this side carries requests */
	uint64_t	 pos;		/* stream bytes given to the parser */
	uint64_t	 begin;		/* of the current message */
	uint64_t	 hdr_end;
	int		 in_msg;
	int		 stopped;	/* upgrade or CONNECT: parser is done */
	char		*field;		/* the header being read */
	size_t		 fieldlen;
	int		 in_value;
	char		*value;
	size_t		 valuelen;
	char		*url;
	size_t		 urllen;
	struct req_headers hdrs;	/* the message's, until it is judged */
	int		 eof;		/* told the parser the stream ended */
	int		 event;		/* H1_EV_*: the callback that paused */
	struct req_record *cur;		/* the record this message belongs to */
};

/* One direction of an HTTP/2 connection. */
struct h2_side {
	nghttp2_hd_inflater *inf;
	int		 request;
	size_t		 preface;	/* preface bytes still expected */
	uint8_t		 fh[9];		/* the frame header being read */
	size_t		 nfh;
	uint32_t	 flen;
	uint8_t		 ftype;
	uint8_t		 fflags;
	uint32_t	 fsid;
	int64_t		 fstart;	/* time of the frame's first byte */
	uint8_t		*buf;		/* payload of frames we decode */
	size_t		 nbuf;
	size_t		 capbuf;
	uint32_t	 left;		/* payload bytes still to come */
	int		 keep;		/* buffer this payload */
	uint8_t		*blk;		/* header block over CONTINUATIONs */
	size_t		 nblk;
	size_t		 capblk;
	uint32_t	 blk_sid;
	uint8_t		 blk_type;
	int		 blk_end_stream;
	int64_t		 blk_start;
	uint64_t	 pos;
};

struct req_conn {
	struct req_ctx	*ctx;
	const struct trace_info *info;
	size_t		 trace;
	enum req_state	 state;
	uint8_t		 pre[24];	/* first request bytes, until decided */
	size_t		 npre;
	unsigned int	 nreq;		/* requests seen so far */
	struct req_record *head;	/* open records, oldest first */
	struct req_record *tail;
	int64_t		 now;		/* time of the event being parsed */
	size_t		 offset;	/* file offset of that event */
	struct h1_side	 h1[2];		/* [0] requests, [1] responses */
	struct h2_side	 h2[2];
	uint8_t		*hold;		/* requests after an Upgrade */
	size_t		 nhold;
	int		 holding;
	int		 h2c;		/* the Upgrade asked for h2c */
	struct req_record *upgrading;	/* the request that asked to upgrade */
	int		 h2_ended;	/* GOAWAY seen */
	uint32_t	 goaway_last;
};

struct req_ctx {
	const char	*file;
	req_emit_fn	 emit;
	req_notice_fn	 notice;
	void		*arg;
	struct req_conn	**conns;
	size_t		 nconns;
};

void		 req_notice(struct req_conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
struct req_record *req_open_record(struct req_conn *);
void		 req_close_record(struct req_conn *, struct req_record *);
void		 req_drop_all(struct req_conn *, const char *);
int		 req_header_add(struct req_headers *, const char *, size_t,
		    const char *, size_t);
char		*req_strndup(const char *, size_t);
void		 req_broken(struct req_conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

void		 h1_init(struct req_conn *);
void		 h1_feed(struct req_conn *, int, const uint8_t *, size_t);
void		 h1_eof(struct req_conn *, int);
void		 h1_cut(struct req_conn *);
void		 h1_free(struct req_conn *);
int		 h1_looks(const uint8_t *, size_t);

int		 h2_init(struct req_conn *);
void		 h2_feed(struct req_conn *, int, const uint8_t *, size_t);
void		 h2_free(struct req_conn *);
int		 h2_preface(const uint8_t *, size_t);

#endif
