/* A shared-memory ring: a process's threads append records, one reader drains. */

#include "config.h"

#include <linux/futex.h>
#include <sys/syscall.h>

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

_Static_assert(sizeof(struct ring_rec) <= RING_ALIGN, "a record header fits the space a record may leave");
_Static_assert(sizeof(struct ring) % 64 == 0, "the data starts on a cache line");

static uint64_t	ring_now(void);
static size_t	ring_round(size_t);
static int	ring_wait(struct ring *, uint64_t);

/* CLOCK_MONOTONIC in ns: the same clock in every process of the host. */
static uint64_t
ring_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* n rounded up to RING_ALIGN. */
static size_t
ring_round(size_t n)
{
	return ((n + RING_ALIGN - 1) & ~(size_t)(RING_ALIGN - 1));
}

/* The bytes a ring of size data bytes takes, header included. */
size_t
ring_bytes(uint64_t size)
{
	return (sizeof(struct ring) + (size_t)size);
}

/* Make a fresh ring in zeroed memory: size a power of two. */
void
ring_init(struct ring *r, uint64_t size, uint32_t pid, uint32_t flags)
{
	memset(r, 0, sizeof *r);
	r->magic = RING_MAGIC;
	r->version = RING_VERSION;
	r->size = size;
	r->pid = pid;
	r->flags = flags;
	r->beat = ring_now();
}

/* Is the ring mapped at r, len bytes, one this code can use? 0 if so. */
int
ring_check(const struct ring *r, size_t len)
{
	if (len < sizeof *r || r->magic != RING_MAGIC ||
	    r->version != RING_VERSION || r->size < 4096 ||
	    (r->size & (r->size - 1)) != 0 || r->size > RING_LEN_MASK ||
	    ring_bytes(r->size) > len)
		return (-1);
	return (0);
}

/*
 * Wait for the reader to make room, once: 1 when the caller may try
 * again, 0 when it must drop (the reader is gone, or dropping is asked).
 */
static int
ring_wait(struct ring *r, uint64_t head)
{
	struct timespec	ts = { 0, RING_WAIT_NS };
	uint64_t	beat = __atomic_load_n(&r->beat, __ATOMIC_ACQUIRE);
	uint32_t	seq;
	int		saved = errno;

	/* The beat is read first: it may only be older than now. */
	if ((r->flags & RING_F_DROP) != 0 || ring_now() - beat >
	    RING_STALE_NS)
		return (0);
	seq = __atomic_load_n(&r->tail_seq, __ATOMIC_ACQUIRE);
	__atomic_add_fetch(&r->waiters, 1, __ATOMIC_ACQ_REL);
	/* The reader may have moved on between our look and the count. */
	if (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == head)
		(void)syscall(SYS_futex, &r->tail_seq, FUTEX_WAIT, seq, &ts,
		    NULL, 0);
	__atomic_sub_fetch(&r->waiters, 1, __ATOMIC_ACQ_REL);
	errno = saved;
	return (1);
}

/*
 * Reserve a record of type for trace with len payload bytes: the
 * payload's address, or NULL when it cannot be had (too large, or the
 * ring full with no reader coming: counted as dropped). A record never
 * wraps: the space left at the end goes to a pad record.
 */
void *
ring_reserve(struct ring *r, enum ring_type type, uint64_t trace,
    size_t len, struct ring_slot *slot)
{
	uint8_t		*data = (uint8_t *)(r + 1);
	struct ring_rec	*pad, *rec;
	uint64_t	 head, tail, mask = r->size - 1;
	size_t		 need = ring_round(sizeof *rec + len), pos, total;

	if (need > r->size / 2) {
		__atomic_add_fetch(&r->dropped, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->dropped_bytes, len, __ATOMIC_RELAXED);
		return (NULL);
	}
	for (;;) {
		head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		pos = (size_t)(head & mask);
		total = pos + need > r->size ? r->size - pos + need : need;
		if (head + total - tail > r->size) {
			if (ring_wait(r, head))
				continue;
			__atomic_add_fetch(&r->dropped, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&r->dropped_bytes, len,
			    __ATOMIC_RELAXED);
			return (NULL);
		}
		if (__atomic_compare_exchange_n(&r->head, &head, head + total,
		    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
	}
	if (total != need) {
		pad = (struct ring_rec *)(void *)(data + pos);
		pad->type = RING_PAD;
		pad->trace = 0;
		__atomic_store_n(&pad->len, (uint32_t)(r->size - pos) |
		    RING_COMMIT, __ATOMIC_RELEASE);
		pos = 0;
	}
	rec = (struct ring_rec *)(void *)(data + pos);
	rec->type = type;
	rec->trace = trace;
	/* The length first, uncommitted: a reader can skip it if we die. */
	__atomic_store_n(&rec->len, (uint32_t)(sizeof *rec + len),
	    __ATOMIC_RELEASE);
	slot->rec = rec;
	slot->data = rec + 1;
	return (slot->data);
}

/* The reserved record's payload is written: the reader may take it. */
void
ring_commit(struct ring *r, struct ring_slot *slot)
{
	uint32_t	len = __atomic_load_n(&slot->rec->len, __ATOMIC_RELAXED);

	(void)r;
	__atomic_store_n(&slot->rec->len, len | RING_COMMIT, __ATOMIC_RELEASE);
}

/* Append one record holding len bytes of p: 0, or -1 when dropped. */
int
ring_put(struct ring *r, enum ring_type type, uint64_t trace, const void *p,
    size_t len)
{
	struct ring_slot	slot;

	if (ring_reserve(r, type, trace, len, &slot) == NULL)
		return (-1);
	if (len > 0)
		memcpy(slot.data, p, len);
	ring_commit(r, &slot);
	return (0);
}

/* The reader was here: writers keep waiting for it while this is new. */
void
ring_beat(struct ring *r)
{
	__atomic_store_n(&r->beat, ring_now(), __ATOMIC_RELEASE);
}

/*
 * Hand every complete record to fn, in order, and free its space. With
 * dead set the writers are gone: a record they reserved but never
 * committed is handed with its flag set (its bytes may be partial), and
 * a reservation that never got its header ends what can be read: the
 * bytes past it are added to *lost. Returns the bytes freed.
 */
size_t
ring_drain(struct ring *r, ring_fn fn, void *arg, int dead, uint64_t *lost)
{
	uint8_t		*data = (uint8_t *)(r + 1);
	struct ring_rec	*rec;
	uint64_t	 head, tail = r->tail, start = tail, mask = r->size - 1;
	uint32_t	 len, n;

	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	while (tail < head) {
		rec = (struct ring_rec *)(void *)(data + (tail & mask));
		len = __atomic_load_n(&rec->len, __ATOMIC_ACQUIRE);
		n = len & RING_LEN_MASK;
		if (n < sizeof *rec || n > r->size - (tail & mask) ||
		    (!(len & RING_COMMIT) && !dead)) {
			if (dead && lost != NULL)
				*lost += head - tail;
			if (dead)
				tail = head;
			break;
		}
		if (rec->type != RING_PAD)
			fn(arg, (enum ring_type)rec->type, rec->trace, rec + 1,
			    n - sizeof *rec, !(len & RING_COMMIT));
		n = (uint32_t)ring_round(n);
		if (n > r->size - (tail & mask))
			n = (uint32_t)(r->size - (tail & mask));
		memset(rec, 0, n);
		tail += n;
	}
	if (tail != start) {
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
		__atomic_add_fetch(&r->tail_seq, 1, __ATOMIC_ACQ_REL);
		if (__atomic_load_n(&r->waiters, __ATOMIC_ACQUIRE) > 0)
			(void)syscall(SYS_futex, &r->tail_seq, FUTEX_WAKE,
			    INT_MAX, NULL, NULL, 0);
	}
	ring_beat(r);
	return ((size_t)(tail - start));
}
