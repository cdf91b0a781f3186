/* HTTP requests out of TCP traces: HTTP/1.x and HTTP/2 request records. */
#ifndef TAPSHIM_REQUESTS_H
#define TAPSHIM_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "trace-read.h"

/* One header line, as it was sent (HTTP/2: as HPACK decoded it). */
struct req_header {
	char		*name;
	char		*value;
};

struct req_headers {
	struct req_header *v;
	size_t		 n;
	size_t		 cap;
};

/* What one request and its response were, and when each part happened. */
struct req_record {
	const char	*file;		/* the trace file's path */
	size_t		 trace;		/* index in the file */
	const struct trace_info *info;	/* its connection */
	int		 version;	/* 10, 11 (HTTP/1.x) or 20 (HTTP/2) */
	uint32_t	 stream;	/* HTTP/2 stream id; 0 for HTTP/1 */
	unsigned int	 seq;		/* 0 for the connection's first request */
	char		 method[32];
	char		 scheme[8];
	char		*authority;	/* Host or :authority; "" when none */
	char		*path;		/* request target or :path */
	int		 status;	/* 0: no response seen */
	char		*grpc_status;	/* NULL unless gRPC trailers said it */
	char		*grpc_message;
	char		*req_type;	/* Content-Type, or NULL */
	char		*resp_type;
	uint64_t	 req_header_size;	/* bytes on the wire (HPACK) */
	uint64_t	 req_body_size;		/* bytes on the wire */
	uint64_t	 resp_header_size;
	uint64_t	 resp_body_size;
	uint64_t	 resp_content_size;	/* body after de-chunking */
	struct req_headers reqh;
	struct req_headers resph;
	/* Nanoseconds since the epoch; 0: not seen. */
	int64_t		 req_start;	/* first byte of the request */
	int64_t		 req_end;	/* its last byte */
	int64_t		 resp_start;	/* first byte of the response */
	int64_t		 resp_end;	/* its last byte */
	int		 complete;	/* the response ended as HTTP says */
	char		 error[96];	/* why not complete; "" when it is */
	struct req_record *next;	/* the connection's queue */
};

/* A finished record; the layer frees it after the call. */
typedef void	(*req_emit_fn)(const struct req_record *, void *);
/* What could not be parsed: trace, file offset of the event, why. */
typedef void	(*req_notice_fn)(const char *, uint64_t, size_t,
		    const char *, void *);

struct req_ctx;

struct req_ctx	*req_new(const char *, req_emit_fn, req_notice_fn, void *);
int		 req_event(struct req_ctx *, const struct trace_info *,
		    const struct trace_event *);
void		 req_finish(struct req_ctx *);
void		 req_free(struct req_ctx *);
int		 req_file(const char *, req_emit_fn, req_notice_fn, void *,
		    char *, char *);
const char	*req_version(const struct req_record *);
int		 req_secret(const char *);
const char	*req_header_get(const struct req_headers *, const char *);

#endif
