/* Synthesizing TCP and UDP packets from a trace's events. */
#ifndef TAPSHIM_SYNTH_H
#define TAPSHIM_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "trace-read.h"

#define SYNTH_MSS_DEFAULT	1460	/* Ethernet's 1500 - IPv4 20 - TCP 20 */
#define SYNTH_MSS_DEFAULT6	1440	/* 1500 - IPv6 40 - TCP 20 */
#define SYNTH_MSS_MAX		65495	/* 65535 - IPv4 20 - TCP 20 */
#define SYNTH_ACK_EVERY		32	/* segments between a peer's ACKs */
/*
 * Of the bytes events moved that the trace did not keep (a length only),
 * at most this many in a capture are drawn as cut packets (caplen < len,
 * about 12 MB of frames); the rest are gaps in the sequence numbers, so
 * a crafted length cannot make a capture of gigabytes.
 */
#define SYNTH_UNCAPTURED_MAX	(256ULL * 1024 * 1024)

/*
 * Where frames go: one call per frame, its hlen bytes of headers, then
 * caplen bytes of data (the trace's payload, where it lies) of len on the
 * wire; caplen <= len.
 */
typedef int (*synth_emit_fn)(void *, int64_t, uint32_t, const uint8_t *,
    size_t, const uint8_t *, size_t, size_t);

struct synth {
	int		 link;		/* FRAME_LINK_* */
	size_t		 mss;		/* TCP payload per segment, IPv4 */
	size_t		 mss6;		/* the same for IPv6 */
	synth_emit_fn	 emit;
	void		*arg;
	uint8_t		*buf;		/* one frame's headers */
	uint64_t	 frames;
	uint64_t	 uncaptured;	/* length-only bytes drawn so far */
	uint64_t	 gaps;		/* events drawn with a sequence gap */
	uint64_t	 cut_unknown;	/* truncated bodies of unknown length */
	uint64_t	 gap_bytes;	/* the bytes the gaps skip */
	/* The frame being emitted, for writers that annotate it (pcapng). */
	const struct synth_stream *stream;
	const struct trace_event *event;
	uint8_t		 tcpflags;	/* 0 for UDP */
};

struct synth_side {
	struct frame_ep	ep;
	uint32_t	next;		/* next sequence number it sends */
	uint16_t	ipid;
	int		fin;
};

enum synth_state {
	SYNTH_NEW,
	SYNTH_OPEN,
	SYNTH_CLOSED
};

/* One TCP connection (or UDP flow): side[0] started it. */
struct synth_stream {
	struct synth_side	side[2];
	int			local;		/* the traced process's side */
	int			udp;
	int			mapped;		/* synthetic addresses */
	int			failed;		/* the connect failed */
	enum synth_state	state;
	const struct trace_info	*info;		/* its trace */
};

int		synth_init(struct synth *, int, size_t, synth_emit_fn, void *);
void		synth_free(struct synth *);
uint64_t	synth_hash(uint64_t, const void *, size_t);
void		synth_stream_init(struct synth_stream *,
		    const struct trace_info *, uint64_t, unsigned int);
int		synth_event(struct synth *, struct synth_stream *,
		    const struct trace_event *);

#endif
