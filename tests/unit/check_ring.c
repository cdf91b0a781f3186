/* Check suite for shim/common/ring.c: records in, records out, once each. */

#include "config.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "ring.h"

#define RSIZE		65536
#define WRITERS		4
#define PER_WRITER	20000

/* What the reader saw: per trace (writer), the next sequence expected. */
struct seen {
	uint64_t	next[WRITERS + 1];
	uint64_t	records;
	uint64_t	bytes;
	uint64_t	partial;
	int		bad;
};

static struct ring *
ring_new(uint32_t flags)
{
	struct ring	*r;

	r = mmap(NULL, ring_bytes(RSIZE), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(r, MAP_FAILED);
	ring_init(r, RSIZE, (uint32_t)getpid(), flags);
	return (r);
}

/* Each record holds its sequence number, then len - 8 bytes of it. */
static void
seen_fn(void *arg, enum ring_type type, uint64_t trace, const void *p,
    size_t len, int partial)
{
	struct seen	*s = arg;
	const uint8_t	*b = p;
	uint64_t	 seq;
	size_t		 i;

	if (partial) {
		s->partial++;
		return;
	}
	if (type != RING_DATA || trace > WRITERS || len < sizeof seq) {
		s->bad++;
		return;
	}
	memcpy(&seq, p, sizeof seq);
	if (seq != s->next[trace])
		s->bad++;
	s->next[trace] = seq + 1;
	for (i = sizeof seq; i < len; i++) {
		if (b[i] != (uint8_t)seq)
			s->bad++;
	}
	s->records++;
	s->bytes += len;
}

/* Put record seq of trace: 8 + seq % 300 bytes. */
static int
put_seq(struct ring *r, uint64_t trace, uint64_t seq)
{
	uint8_t	buf[8 + 300];
	size_t	len = 8 + (size_t)(seq % 300);

	memcpy(buf, &seq, sizeof seq);
	memset(buf + 8, (uint8_t)seq, len - 8);
	return (ring_put(r, RING_DATA, trace, buf, len));
}

START_TEST(test_order)
{
	struct ring	*r = ring_new(0);
	struct seen	 s;
	uint64_t	 i, lost = 0;

	memset(&s, 0, sizeof s);
	/* Many laps: every record wraps through pads and zeroed space. */
	for (i = 0; i < 5000; i++) {
		ck_assert_int_eq(put_seq(r, 1, i), 0);
		if (i % 7 == 6)
			ring_drain(r, seen_fn, &s, 0, &lost);
	}
	ring_drain(r, seen_fn, &s, 0, &lost);
	ck_assert_int_eq(s.bad, 0);
	ck_assert_uint_eq(s.records, 5000);
	ck_assert_uint_eq(s.next[1], 5000);
	ck_assert_uint_eq(lost, 0);
	ck_assert_uint_eq(r->head, r->tail);
}
END_TEST

static void *
writer_main(void *arg)
{
	struct ring	**rp = arg;
	uint64_t	  trace = (uint64_t)(uintptr_t)rp[1], i;

	for (i = 0; i < PER_WRITER; i++)
		ck_assert_int_eq(put_seq(rp[0], trace, i), 0);
	return (NULL);
}

static int	readers_done;		/* atomic */

static void *
reader_main(void *arg)
{
	struct ring	**rp = arg;
	struct seen	 *s = (struct seen *)rp[1];
	uint64_t	  lost = 0;

	while (!__atomic_load_n(&readers_done, __ATOMIC_ACQUIRE))
		ring_drain(rp[0], seen_fn, s, 0, &lost);
	ring_drain(rp[0], seen_fn, s, 0, &lost);
	return (NULL);
}

/* Threads racing to append, one reader: each record once, in order. */
START_TEST(test_threads)
{
	struct ring	*r = ring_new(0);
	struct seen	 s;
	pthread_t	 w[WRITERS], rd;
	void		*wa[WRITERS][2], *ra[2];
	int		 i;

	memset(&s, 0, sizeof s);
	__atomic_store_n(&readers_done, 0, __ATOMIC_RELEASE);
	ra[0] = r;
	ra[1] = &s;
	ck_assert_int_eq(pthread_create(&rd, NULL, reader_main, ra), 0);
	for (i = 0; i < WRITERS; i++) {
		wa[i][0] = r;
		wa[i][1] = (void *)(uintptr_t)(i + 1);
		ck_assert_int_eq(pthread_create(&w[i], NULL, writer_main,
		    wa[i]), 0);
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	__atomic_store_n(&readers_done, 1, __ATOMIC_RELEASE);
	pthread_join(rd, NULL);
	ck_assert_int_eq(s.bad, 0);
	ck_assert_uint_eq(s.records, WRITERS * PER_WRITER);
	for (i = 1; i <= WRITERS; i++)
		ck_assert_uint_eq(s.next[i], PER_WRITER);
	ck_assert_uint_eq(r->dropped, 0);
}
END_TEST

/* A full ring with dropping asked: the record is counted, not waited on. */
START_TEST(test_drop)
{
	struct ring	*r = ring_new(RING_F_DROP);
	struct seen	 s;
	uint64_t	 i, put = 0, lost = 0;

	memset(&s, 0, sizeof s);
	for (i = 0; i < 1000; i++)
		put += put_seq(r, 1, put) == 0;
	ck_assert_uint_lt(put, 1000);
	ck_assert_uint_eq(r->dropped, 1000 - put);
	ring_drain(r, seen_fn, &s, 0, &lost);
	ck_assert_uint_eq(s.records, put);
	ck_assert_int_eq(s.bad, 0);
	/* Room again after the drain. */
	ck_assert_int_eq(put_seq(r, 1, put), 0);
}
END_TEST

/* A reader whose beat is old is gone: a full ring drops, it never hangs. */
START_TEST(test_stale_reader)
{
	struct ring	*r = ring_new(0);
	uint64_t	 i;
	int		 dropped = 0;

	r->beat -= 2 * RING_STALE_NS;
	for (i = 0; i < 1000 && !dropped; i++)
		dropped = put_seq(r, 1, i) == -1;
	ck_assert_int_eq(dropped, 1);
	ck_assert_uint_eq(r->dropped, 1);
}
END_TEST

/* A writer waiting for room goes on when the reader drains. */
START_TEST(test_wait)
{
	struct ring	*r = ring_new(0);
	struct seen	 s;
	pthread_t	 rd;
	void		*ra[2];
	uint64_t	 i;

	memset(&s, 0, sizeof s);
	__atomic_store_n(&readers_done, 0, __ATOMIC_RELEASE);
	ra[0] = r;
	ra[1] = &s;
	/* Ten times the ring through one writer: it must wait, not drop. */
	ck_assert_int_eq(pthread_create(&rd, NULL, reader_main, ra), 0);
	for (i = 0; i < 20 * RSIZE / 160; i++)
		ck_assert_int_eq(put_seq(r, 2, i), 0);
	__atomic_store_n(&readers_done, 1, __ATOMIC_RELEASE);
	pthread_join(rd, NULL);
	ck_assert_uint_eq(s.records, i);
	ck_assert_uint_eq(r->dropped, 0);
	ck_assert_int_eq(s.bad, 0);
}
END_TEST

/*
 * A writer process killed at any point: what it committed is read, a
 * record it reserved and did not finish is handed as partial, and
 * nothing after a torn reservation is invented.
 */
START_TEST(test_killed_writer)
{
	struct ring	*r = ring_new(0);
	struct ring_slot slot;
	struct seen	 s;
	uint64_t	 lost = 0;
	pid_t		 pid;
	int		 status;

	memset(&s, 0, sizeof s);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint64_t	i;

		for (i = 0; i < 100; i++)
			(void)put_seq(r, 3, i);
		/* Reserved, never committed: then killed. */
		(void)ring_reserve(r, RING_DATA, 3, 100, &slot);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ring_drain(r, seen_fn, &s, 0, &lost);
	ck_assert_uint_eq(s.records, 100);
	ck_assert_uint_eq(s.partial, 0);
	ring_drain(r, seen_fn, &s, 1, &lost);
	ck_assert_uint_eq(s.partial, 1);
	ck_assert_uint_eq(lost, 0);
	ck_assert_int_eq(s.bad, 0);
	ck_assert_uint_eq(r->head, r->tail);
	/* A reservation that never got its header: the rest is lost. */
	r->head += 64;
	ring_drain(r, seen_fn, &s, 1, &lost);
	ck_assert_uint_eq(lost, 64);
	ck_assert_uint_eq(r->head, r->tail);
}
END_TEST

START_TEST(test_check)
{
	struct ring	*r = ring_new(0);

	ck_assert_int_eq(ring_check(r, ring_bytes(RSIZE)), 0);
	ck_assert_int_eq(ring_check(r, ring_bytes(RSIZE) - 1), -1);
	r->size = RSIZE - 8;
	ck_assert_int_eq(ring_check(r, ring_bytes(RSIZE)), -1);
	r->size = RSIZE;
	r->magic++;
	ck_assert_int_eq(ring_check(r, ring_bytes(RSIZE)), -1);
}
END_TEST

static Suite *
ring_suite(void)
{
	Suite	*s = suite_create("ring");
	TCase	*tc = tcase_create("ring");

	tcase_set_timeout(tc, 60);
	check_add_tests(tc, test_order, test_threads, test_drop,
	    test_stale_reader, test_wait, test_killed_writer, test_check,
	    NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { ring_suite, NULL };
