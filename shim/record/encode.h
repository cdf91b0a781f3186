/* Encoding trace chunks (.pb) and records (.pb_length_delimited). */
#ifndef TAPSHIM_ENCODE_H
#define TAPSHIM_ENCODE_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "procinfo.h"
#include "resolv.h"

enum enc_kind {
	ENC_READ,
	ENC_WRITE,
	ENC_CLOSED
};

enum enc_role {
	ENC_ROLE_UNKNOWN,
	ENC_ROLE_CLIENT,
	ENC_ROLE_SERVER
};

struct enc_event {
	enum enc_kind	 kind;
	int64_t		 sec;
	int32_t		 nsec;
	const void	*data;
	size_t		 caplen;	/* bytes kept */
	uint64_t	 len;		/* bytes the call moved */
	int		 end_stream;
	int		 reset;		/* closed: 1 by peer, 2 local */
	const char	*error;		/* closed: errno name, or NULL */
	int		 ending;	/* closed: enum Ending */
	const char	*cut_reason;	/* closed, ENDING_CUT: why */
	const struct sockaddr *peer;	/* UDP: the datagram's peer */
	socklen_t	 peer_len;
	uint64_t	 duration;	/* ns in the call */
	uint32_t	 tid;
	int		 shared;	/* closed: the process forked holding it */
	uint64_t	 kernel[2];	/* closed: the kernel's [0] in, [1] out */
};


struct enc_conn {
	struct sockaddr_storage	 local;
	socklen_t		 local_len;
	struct sockaddr_storage	 remote;
	socklen_t		 remote_len;
	int			 udp;
	enum enc_role		 role;
	uint32_t		 pid;
	uint64_t		 inode;
	const char		*error;		/* errno name, or NULL */
	uint64_t		 connect_ns;	/* 0: not known */
	int64_t			 started_sec;	/* connect/accept called */
	int32_t			 started_nsec;
	const struct enc_proc	*proc;		/* NULL: not recorded */
	const char * const	*backtrace;
	int			 nbacktrace;
	const struct resolv_entry *resolution;	/* NULL: none matched */
};

/* What a trace kept and lost: Connection.stats. */
#define ENC_REASONS_MAX	6
struct enc_stats {
	uint64_t		 kept[2];	/* payload: reads, writes */
	uint64_t		 lost[2];
	uint64_t		 events;
	uint64_t		 events_lost;
	const char		*reasons[ENC_REASONS_MAX];
	int			 nreasons;
};

/* How a trace ended: SocketEvent.Closed.ending. */
enum enc_ending {
	ENC_ENDING_CLOSED,
	ENC_ENDING_EXIT,
	ENC_ENDING_CUT
};

/*
 * Where pieces are packed, whole, one after the other: the mapped window
 * of a trace file. The last reserve bytes are kept for the trace's end
 * (its Closed event and stats), so a trace cut by a full disk or a size
 * limit still ends cleanly. A piece that does not fit is not written:
 * want says how many bytes it needs.
 */
#define ENC_RESERVE	512
struct enc_buf {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 len;		/* bytes used in buf */
	size_t		 reserve;	/* of cap, kept back */
	size_t		 want;		/* the piece that did not fit */
	struct iovec	 iov;
	struct enc_vec	*vec;		/* not NULL: pack there instead */
};

/*
 * A piece packed as iovecs, for pwritev(): its framing and small fields
 * copied into hdr, each payload of ENC_VEC_REF bytes or more pointed at
 * where it is, not copied.
 */
#define ENC_VEC_HDR	1024
#define ENC_VEC_IOV	8
#define ENC_VEC_REF	512
struct enc_vec {
	ProtobufCBuffer	 base;
	uint8_t		 hdr[ENC_VEC_HDR];
	size_t		 hlen;
	size_t		 hmark;		/* of hdr, already in iov */
	struct iovec	 iov[ENC_VEC_IOV];
	int		 niov;
	size_t		 len;		/* bytes in all of iov */
	int		 full;		/* did not fit: unusable */
};

void	enc_init(struct enc_buf *, uint8_t *, size_t);
void	enc_reset(struct enc_buf *);
int	enc_conn(struct enc_buf *, enum conf_format, uint64_t,
	    const struct enc_conn *);
int	enc_conn_piece(struct enc_buf *, enum conf_format, uint64_t,
	    void *);
int	enc_stats(struct enc_buf *, enum conf_format, uint64_t,
	    const struct enc_stats *);
int	enc_event(struct enc_buf *, enum conf_format, uint64_t,
	    const struct enc_event *);
int	enc_event_vec(struct enc_vec *, enum conf_format, uint64_t,
	    const struct enc_event *);
int	enc_end(struct enc_buf *, enum conf_format, uint64_t, int, int);
int	enc_iov(struct enc_buf *, struct iovec **);

#endif
