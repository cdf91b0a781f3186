/* Check tests for the synthesizer: helpers shared by its suites. */
#ifndef TAPSHIM_SYNTHCHECK_H
#define TAPSHIM_SYNTHCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "synth.h"

/* One frame as the emit callback saw it. */
struct rec {
	uint8_t		*data;
	size_t		 caplen, len;
	int64_t		 sec;
	uint32_t	 nsec;
};

struct capture {
	struct rec	*v;
	size_t		 n, cap;
};

/* A frame's IP and TCP/UDP fields, parsed back from its bytes. */
struct pkt {
	int		 v6, proto;
	uint8_t		 src[16], dst[16];
	uint16_t	 sport, dport;
	uint32_t	 seq, ack;
	uint8_t		 flags;
	const uint8_t	*opt;
	size_t		 optlen;
	const uint8_t	*payload;
	size_t		 paylen;	/* on the wire */
	size_t		 paycap;	/* captured */
};

/* Each test feeds st of sy; the frames it emits are recorded in cap. */
extern struct capture		cap;
extern struct synth		sy;
extern struct trace_info	ti;
extern struct synth_stream	st;

void		setup(void);
void		teardown(void);
void		start(int link, size_t mss);
void		capture_free(struct capture *c);
uint16_t	get16(const uint8_t *p);
void		parse(const struct capture *c, size_t i, struct pkt *k);
const uint8_t	*tcp_opt(const struct pkt *k, uint8_t kind);
void		info4(enum trace_role role, uint16_t lport, uint16_t rport);
void		open4(enum trace_role role, uint16_t lport, uint16_t rport);
struct trace_event event(enum trace_kind kind, const void *data,
		    size_t caplen, uint64_t len);
void		push(const struct trace_event *ev);
void		feed(enum trace_kind kind, const char *s);
void		feed_close(enum trace_reset reset);
void		seg(size_t i, uint16_t from, uint8_t flags, uint32_t rseq,
		    uint32_t rack, struct pkt *k);

#endif
