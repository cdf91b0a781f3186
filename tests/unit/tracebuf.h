/* Building protobuf trace bytes by hand, for tests. */
#ifndef TAPSHIM_TRACEBUF_H
#define TAPSHIM_TRACEBUF_H

#include <stddef.h>
#include <stdint.h>

#define TB_DEPTH	8	/* deepest nesting of tb_begin() */

/* Wire types (protobuf encoding spec, "Message Structure"). */
#define TB_VARINT	0
#define TB_I64		1
#define TB_LEN		2
#define TB_I32		5

/* tb_begin() field for a bare length prefix: a delimited record. */
#define TB_RECORD	0

/* TraceWrapper fields (trace-format.md). */
#define TB_HTTP		1	/* http_buffered_trace */
#define TB_BUFFERED	3	/* socket_buffered_trace */
#define TB_SEGMENT	4	/* socket_streamed_trace_segment */

/* SocketEvent's event_selector. */
#define TB_READ		2
#define TB_WRITE	3
#define TB_CLOSED	4

/* SocketAddress.protocol. */
#define TB_TCP		0
#define TB_UDP		1

/*
 * The bytes built so far. data holds exactly len bytes (no slack), so
 * a reader running past the end touches unallocated memory and valgrind
 * or ASan says so.
 */
struct tracebuf {
	uint8_t	*data;
	size_t	 len;
	size_t	 open[TB_DEPTH];	/* payload start of each open message */
	int	 depth;
};

void	tb_init(struct tracebuf *);
void	tb_free(struct tracebuf *);
void	tb_cut(struct tracebuf *, size_t);
void	tb_raw(struct tracebuf *, const void *, size_t);
void	tb_varint(struct tracebuf *, uint64_t);
void	tb_tag(struct tracebuf *, uint32_t, int);
void	tb_uint(struct tracebuf *, uint32_t, uint64_t);
void	tb_bytes(struct tracebuf *, uint32_t, const void *, size_t);
void	tb_string(struct tracebuf *, uint32_t, const char *);
void	tb_begin(struct tracebuf *, uint32_t);
size_t	tb_end(struct tracebuf *);
void	tb_timestamp(struct tracebuf *, int64_t, int32_t);
void	tb_op(struct tracebuf *, uint32_t, const void *, size_t);
void	tb_event(struct tracebuf *, uint32_t, int64_t, int32_t, uint32_t,
	    const void *, size_t);
void	tb_inet(struct tracebuf *, uint32_t, int, const char *, uint32_t);
void	tb_pipe(struct tracebuf *, uint32_t, const char *);
void	tb_conn(struct tracebuf *, uint32_t, const char *, uint32_t,
	    const char *, uint32_t);
void	tb_conn_old(struct tracebuf *, uint32_t, uint64_t, const char *,
	    uint32_t, const char *, uint32_t);
int	tb_write_file(const struct tracebuf *, const char *);

#endif
