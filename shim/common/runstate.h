/* A run's shared state: limits and totals for every process of a launch. */
#ifndef TAPSHIM_RUNSTATE_H
#define TAPSHIM_RUNSTATE_H

#include <stdint.h>

#define RUNSTATE_MAGIC		0x70617474U	/* "ttap", little-endian */
#define RUNSTATE_VERSION	3
#define RUNSTATE_ERRBUF_SIZE	256
/* Trace bytes set aside per connection for its end: flags, closed. */
#define RUNSTATE_TAIL		128

/* Why recording stopped: the first run limit reached. */
enum runstate_stop {
	RUNSTATE_RUNNING = 0,
	RUNSTATE_STOP_BYTES,		/* --max-total-bytes */
	RUNSTATE_STOP_CONNS,		/* --max-connections */
	RUNSTATE_STOP_TIME		/* --duration */
};

/*
 * The file the launcher makes and every traced process maps, shared:
 * the limits are written before the program starts, the totals are
 * atomic counters. Layout is fixed: version it when it changes.
 */
struct runstate {
	uint32_t	magic;
	uint32_t	version;
	uint64_t	max_bytes;	/* trace bytes, all files; 0: none */
	uint64_t	max_conns;	/* connections traced; 0: none */
	int64_t		deadline;	/* CLOCK_REALTIME ns; 0: none */
	uint64_t	file_bytes;	/* set aside for trace files */
	uint64_t	conns;		/* connections traced */
	uint64_t	conns_lost;	/* connections not traced: a limit */
	uint64_t	kept[2];	/* payload kept: read, written */
	uint64_t	lost[2];	/* payload not kept */
	uint64_t	events;		/* reads and writes recorded */
	uint64_t	events_lost;	/* and not recorded */
	uint32_t	stopped;	/* enum runstate_stop */
	uint32_t	said;		/* a process said it stopped */
	uint64_t	msgs_lost;	/* shim messages with nowhere to go */
	uint64_t	next_trace;	/* collector mode: the next trace's N */
	uint32_t	ring_lost;	/* RUNSTATE_RING_*: why rings lost data */
	uint32_t	pad;
};

/* Why a process's ring could not take a trace's bytes (ring_lost). */
#define RUNSTATE_RING_GONE	1	/* the collector stopped reading */
#define RUNSTATE_RING_FULL	2	/* full, and dropping was asked */

int		 runstate_create(const char *, const struct runstate *, char *);
struct runstate	*runstate_map(const char *, int, char *);
void		 runstate_unmap(struct runstate *);
int		 runstate_admit_conn(struct runstate *, int64_t);
int		 runstate_admit_bytes(struct runstate *, uint64_t, int64_t);
void		 runstate_count(struct runstate *, int, uint64_t, uint64_t);
void		 runstate_count_msgs(struct runstate *, uint64_t);
void		 runstate_lose(struct runstate *, int, uint64_t);
uint64_t	 runstate_next_trace(struct runstate *);
void		 runstate_ring_lost(struct runstate *, uint32_t);
const char	*runstate_stop_name(enum runstate_stop);

#endif
