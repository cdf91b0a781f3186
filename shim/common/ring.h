/* A shared-memory ring: a process's threads append records, one reader drains. */
#ifndef TAPSHIM_RING_H
#define TAPSHIM_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC	0x676e6972U	/* "ring", little-endian */
#define RING_VERSION	1
#define RING_ALIGN	16	/* a record header: the space left is never less */
/* A record's len: set once its bytes are all written (release). */
#define RING_COMMIT	0x80000000U
#define RING_LEN_MASK	0x7fffffffU

/* What a record is; its trace says which trace it belongs to. */
enum ring_type {
	RING_PAD = 1,		/* unused space to the end of the ring */
	RING_DATA,		/* bytes to append to the trace's file */
	RING_END,		/* the trace is complete: its file may close */
	RING_CUT		/* the file's length is now the uint64_t payload */
};

/*
 * The start of the shared area; the data follows it. Writers and the
 * reader only meet through head, tail and each record's len, so a writer
 * that dies part way leaves the reader a record it can skip (len set but
 * not committed) or, only if it died between reserving and writing the
 * header, the end of what can be read. Layout is fixed: version it.
 */
struct ring {
	uint32_t	magic;
	uint32_t	version;
	uint64_t	size;		/* data bytes, a power of two */
	uint32_t	pid;		/* the process it was made for */
	uint32_t	flags;		/* RING_F_* */
	uint64_t	beat;		/* the reader's last pass, CLOCK_MONOTONIC ns */
	uint64_t	dropped;	/* records a writer gave up on */
	uint64_t	dropped_bytes;
	uint8_t		pad0[16];
	uint64_t	head;		/* next byte to reserve (writers, CAS) */
	uint8_t		pad1[56];
	uint64_t	tail;		/* next byte to drain (the reader) */
	uint32_t	tail_seq;	/* futex word: bumped when tail moves */
	uint32_t	waiters;	/* writers waiting on tail_seq */
	uint8_t		pad2[48];
};

/* Writers drop (and count) instead of waiting when the ring is full. */
#define RING_F_DROP	1

/* One record as it lies in the ring: RING_ALIGN-aligned, never wrapping. */
struct ring_rec {
	uint32_t	len;		/* header + payload; RING_COMMIT when done */
	uint32_t	type;		/* enum ring_type */
	uint64_t	trace;
};

/* A reservation: where the payload goes, to commit when written. */
struct ring_slot {
	struct ring_rec	*rec;
	void		*data;
};

/* How long a writer waits for room, and how old a reader's beat may be. */
#define RING_WAIT_NS	100000000LL	/* one wait on the futex */
#define RING_STALE_NS	2000000000LL	/* the reader is gone */

size_t	ring_bytes(uint64_t);
void	ring_init(struct ring *, uint64_t, uint32_t, uint32_t);
int	ring_check(const struct ring *, size_t);
void	*ring_reserve(struct ring *, enum ring_type, uint64_t, size_t,
	    struct ring_slot *);
void	ring_commit(struct ring *, struct ring_slot *);
int	ring_put(struct ring *, enum ring_type, uint64_t, const void *,
	    size_t);

/* The reader: each record handed to fn, in order. */
typedef void (*ring_fn)(void *, enum ring_type, uint64_t, const void *,
    size_t, int);
size_t	ring_drain(struct ring *, ring_fn, void *, int, uint64_t *);
void	ring_beat(struct ring *);

#endif
