/* Reading socket tap traces (.pb and .pb_length_delimited) event by event. */
#ifndef TAPSHIM_TRACE_READ_H
#define TAPSHIM_TRACE_READ_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_ERRBUF_SIZE	512

enum trace_format {
	TRACE_FORMAT_BINARY = 1,	/* PROTO_BINARY, .pb */
	TRACE_FORMAT_DELIMITED,		/* PROTO_BINARY_LENGTH_DELIMITED */
	TRACE_FORMAT_V2ALPHA		/* Envoy 1.7-1.9: a bare Trace */
};

enum trace_role {
	TRACE_ROLE_UNKNOWN = 0,
	TRACE_ROLE_CLIENT = 1,
	TRACE_ROLE_SERVER = 2
};

enum trace_kind {
	TRACE_EV_READ,
	TRACE_EV_WRITE,
	TRACE_EV_CLOSED,
	TRACE_EV_OTHER			/* an event type this reader does not know */
};

enum trace_reset {
	TRACE_RESET_NONE = 0,
	TRACE_RESET_BY_PEER = 1,
	TRACE_RESET_BY_LOCAL = 2
};

/* How a trace ended: its Closed event's ending (tapshim extension). */
enum trace_ending {
	TRACE_ENDING_CLOSED = 0,	/* the program closed it */
	TRACE_ENDING_EXIT = 1,		/* open at exit: an implicit close */
	TRACE_ENDING_CUT = 2		/* the tracer stopped: cut_reason */
};

/* One end of a connection, as the trace names it. */
struct trace_addr {
	int		 family;	/* AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC */
	int		 udp;		/* SocketAddress.protocol == UDP */
	uint8_t		 ip[16];	/* network order; 4 bytes for AF_INET */
	uint16_t	 port;
	char		 path[108];	/* AF_UNIX: pipe path or internal name */
	int		 internal;	/* an Envoy internal address, not a pipe */
};

/* Bytes inside the trace file: a message or a string, not decoded. */
struct trace_slice {
	const uint8_t	*p;
	size_t		 len;
};

#define TRACE_BACKTRACE_MAX	16

struct trace_conn {
	struct trace_addr	 local;
	struct trace_addr	 remote;
	enum trace_role		 role;
	uint32_t		 pid;
	uint64_t		 inode;
	char			 error[32];	/* connect failed: errno name */
	/* TLS (Connection.tls): which bytes the trace holds, and ALPN. */
	int			 tls;		/* 0, or TRACE_TLS_* */
	char			 alpn[32];
	struct trace_slice	 tlsinfo;	/* the TlsInfo message */
	/* tapshim's issue 5 fields (trace-ext.c). */
	uint64_t		 connect_ns;	/* 0: not known */
	int			 has_started;
	int64_t			 started_sec;
	uint32_t		 started_nsec;
	struct trace_slice	 process;	/* a Process message */
	struct trace_slice	 resolution;	/* a Resolution message */
	struct trace_slice	 backtrace[TRACE_BACKTRACE_MAX];
	int			 nbacktrace;
	/* Connection.stats (1040): what the trace kept and lost. */
	int			 has_stats;
	uint64_t		 kept[2];	/* payload: reads, writes */
	uint64_t		 lost[2];
	uint64_t		 events;
	uint64_t		 events_lost;
	struct trace_slice	 stats;		/* the TraceStats message */
};

#define TRACE_TLS_PLAINTEXT	1
#define TRACE_TLS_CIPHERTEXT	2
#define TRACE_TLS_UNKNOWN	3	/* TLS metadata without TlsData */

/* One connection's trace inside a file; a file usually holds one. */
struct trace_info {
	uint64_t		 trace_id;
	int			 has_conn;
	struct trace_conn	 conn;
	int			 read_truncated;
	int			 write_truncated;
	size_t			 nevents;
	uint64_t		 bytes;		/* captured, both ways */
	int			 spoke_first;	/* 1: this end, -1: the peer, 0: - */
	int			 closed;	/* has a Closed event */
	uint8_t			 head[2][8];	/* first bytes: [0] read, [1] written */
	uint8_t			 headlen[2];
	size_t			 untimed;	/* events without a timestamp */
	size_t			 backwards;	/* events before the one before */
	size_t			 joined;	/* parts of another trace merged */
	size_t			 cut_known;	/* events with caplen < len */
	size_t			 cut_unknown;	/* Body.truncated, no length */
	/* Envoy's seq_num: events the tracer numbered but did not write. */
	int			 has_seq;
	uint64_t		 last_seq;
	uint64_t		 seq_missing;	/* events missing, in all */
	size_t			 seq_gaps;	/* places where some are */
	uint64_t		 seq_gap_after;	/* the first: after this seq_num */
	int64_t			 seq_gap_sec;	/* and at this time */
	uint32_t		 seq_gap_nsec;
	int			 has_time;	/* first and last are set */
	int64_t			 first_sec;
	uint32_t		 first_nsec;
	int64_t			 last_sec;
	uint32_t		 last_nsec;
	/* How it ended (closed above: none seen means its process died). */
	enum trace_ending	 ending;
	char			 cut_reason[32];
};

struct trace_event {
	size_t			 trace;		/* index for trace_info() */
	size_t			 offset;	/* of the event in the file */
	int			 has_time;
	int64_t			 sec;
	uint32_t		 nsec;
	enum trace_kind		 kind;
	const uint8_t		*data;		/* captured bytes */
	size_t			 caplen;
	uint64_t		 len;		/* bytes the call moved */
	int			 truncated;
	int			 end_stream;	/* write: SHUT_WR; read: EOF */
	enum trace_reset	 reset;		/* closed */
	/* tapshim's issue 5 fields (trace-ext.c). */
	int			 has_peer;	/* a datagram's own peer */
	struct trace_addr	 peer;
	uint64_t		 duration;	/* ns in the call; 0: unknown */
	uint32_t		 tid;
	char			 error[32];	/* closed: errno name */
	int			 has_seq;	/* Envoy's seq_num (field 6) */
	uint64_t		 seq;
	enum trace_ending	 ending;	/* closed */
	char			 cut_reason[32];	/* closed, ENDING_CUT */
};

/* What a file holds past its last whole record. */
enum trace_damage {
	TRACE_WHOLE,			/* nothing: read to its end */
	TRACE_CUT,			/* a record cut short */
	TRACE_UNFINISHED,		/* zeros: its writer did not finish */
	TRACE_DAMAGED			/* (not returned: an error instead) */
};

struct trace_file;

struct trace_file	*trace_open(const char *, char *);
struct trace_file	*trace_open_stream(const char *, char *);
int			 trace_born(struct trace_file *, size_t *);
void			 trace_forget(struct trace_file *, size_t);
int			 trace_merged(const struct trace_file *, size_t);
struct trace_file	*trace_open_mem(const char *, const void *, size_t,
			    char *);
void			 trace_close(struct trace_file *);
const char		*trace_name(const struct trace_file *);
enum trace_format	 trace_format(const struct trace_file *);
size_t			 trace_count(const struct trace_file *);
const struct trace_info	*trace_info(const struct trace_file *, size_t);
size_t			 trace_http_count(const struct trace_file *);
size_t			 trace_size(const struct trace_file *);
size_t			 trace_position(const struct trace_file *);
int			 trace_next(struct trace_file *, struct trace_event *,
			    char *);
void			 trace_rewind(struct trace_file *);
const char		*trace_format_name(enum trace_format);
enum trace_damage	 trace_damage(const struct trace_file *, size_t *,
			    size_t *);
void			 trace_damage_text(const struct trace_file *, char *,
			    size_t);

#endif
