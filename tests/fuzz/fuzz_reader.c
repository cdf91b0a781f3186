/* libFuzzer target: the trace reader over arbitrary bytes. */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace-read.h"

int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_check(int, const char *);
static void	fuzz_addr(const struct trace_addr *);
static void	fuzz_walk(struct trace_file *, const uint8_t *, size_t,
		    uint64_t *);
static int	fuzz_stream(const char *, const uint8_t *, size_t,
		    uint64_t *);
static void	fuzz_open(const char *, const uint8_t *, size_t);

/* Keeps the sums alive, so the reads of every byte are not optimized out. */
static volatile uint64_t	fuzz_sink;

/* Die loudly when the reader breaks one of its promises. */
static void
fuzz_check(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_reader: invariant broken: %s\n", what);
	abort();
}

/* Touch an address: its path must be a terminated string. */
static void
fuzz_addr(const struct trace_addr *a)
{
	size_t	n = strnlen(a->path, sizeof a->path);

	fuzz_check(n < sizeof a->path, "addr path not terminated");
	fuzz_sink += (uint64_t)a->family + a->port + a->udp + n + a->ip[0] +
	    a->ip[15];
}

/*
 * Walk every event, reading every byte of its data, and check what the
 * reader promises: data inside the input, caplen <= len, a trace index
 * trace_info() knows, and as many events per trace as the index counted.
 */
static void
fuzz_walk(struct trace_file *tf, const uint8_t *buf, size_t size,
    uint64_t *events)
{
	const struct trace_info	*t;
	struct trace_event	 ev;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	size_t			 i, n = trace_count(tf), *seen;
	uint64_t		 sum = 0;
	int			 r;

	seen = calloc(n ? n : 1, sizeof *seen);
	fuzz_check(seen != NULL, "calloc");
	while ((r = trace_next(tf, &ev, errbuf)) == 1) {
		fuzz_check(ev.trace < n, "event's trace index out of range");
		fuzz_check(trace_info(tf, ev.trace) != NULL, "trace_info NULL");
		seen[ev.trace]++;
		fuzz_check(ev.caplen <= ev.len, "caplen > len");
		/* An empty event's body starts where it ends: at most the
		 * end of the whole records. */
		fuzz_check(ev.offset < trace_size(tf) || (ev.offset ==
		    trace_size(tf) && ev.caplen == 0), "event offset past the "
		    "whole records");
		fuzz_check(ev.caplen == 0 || (ev.data >= buf &&
		    ev.caplen <= size && ev.data <= buf + size - ev.caplen),
		    "event data outside the input");
		fuzz_check(ev.nsec < 1000000000, "nsec out of range");
		for (i = 0; i < ev.caplen; i++)
			sum += ev.data[i];
		sum += (uint64_t)ev.kind + (uint64_t)ev.sec + ev.truncated +
		    ev.end_stream + (uint64_t)ev.reset;
		fuzz_check(trace_position(tf) <= trace_size(tf), "position");
	}
	/* The index pass validated the whole file: a walk cannot fail. */
	if (r != 0)
		fprintf(stderr, "fuzz_reader: %.*s\n", (int)sizeof errbuf,
		    errbuf);
	fuzz_check(r == 0, "trace_next failed after trace_open accepted");
	*events = 0;
	for (i = 0; i < n; i++) {
		t = trace_info(tf, i);
		fuzz_check(t != NULL, "trace_info NULL for i < trace_count");
		fuzz_check(seen[i] == t->nevents, "event count differs from "
		    "the index");
		*events += seen[i];
		fuzz_addr(&t->conn.local);
		fuzz_addr(&t->conn.remote);
		sum += t->trace_id + (uint64_t)t->has_conn + t->conn.pid +
		    t->conn.inode + (uint64_t)t->conn.role + t->read_truncated +
		    t->write_truncated;
	}
	fuzz_check(trace_info(tf, n) == NULL, "trace_info past the end");
	free(seen);
	fuzz_sink += sum;
}

/*
 * Walk the input once as tapdump does (trace_open_mem_stream: no index,
 * slots announced by trace_born and let go at their close), checking each
 * event belongs to a live slot and its data lies inside the input. The
 * number of events handed out goes to *events; -1 if the walk stopped at
 * damage (found when reached), 1 if it could not open.
 */
static int
fuzz_stream(const char *name, const uint8_t *buf, size_t size,
    uint64_t *events)
{
	struct trace_file	*tf;
	struct trace_event	 ev;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	uint8_t			*live = NULL, *nlive;
	size_t			 nlive_cap = 0, slot, i;
	int			 r;

	*events = 0;
	if ((tf = trace_open_mem_stream(name, buf, size, errbuf)) == NULL)
		return (1);
	for (;;) {
		r = trace_next(tf, &ev, errbuf);
		while (trace_born(tf, &slot)) {
			if (slot >= nlive_cap) {
				nlive = realloc(live, slot + 64);
				fuzz_check(nlive != NULL, "realloc");
				memset(nlive + nlive_cap, 0,
				    slot + 64 - nlive_cap);
				live = nlive;
				nlive_cap = slot + 64;
			}
			fuzz_check(live[slot] != 1, "a live slot born again");
			live[slot] = 1;
		}
		if (r != 1)
			break;
		/* A slot let go may still get the rest of the segment
		 * that closed it (tapdump drops those): born, though. */
		fuzz_check(ev.trace < nlive_cap && live[ev.trace] != 0,
		    "stream: an event of a slot never born");
		fuzz_check(trace_info(tf, ev.trace) != NULL, "stream: info");
		fuzz_check(ev.caplen <= ev.len, "stream: caplen > len");
		fuzz_check(ev.caplen == 0 || (ev.data >= buf &&
		    ev.caplen <= size && ev.data <= buf + size - ev.caplen),
		    "stream: event data outside the input");
		for (i = 0; i < ev.caplen; i++)
			fuzz_sink += ev.data[i];
		(*events)++;
		if (ev.kind == TRACE_EV_CLOSED && !trace_merged(tf, ev.trace) &&
		    live[ev.trace] == 1) {
			trace_forget(tf, ev.trace);
			live[ev.trace] = 2;
		}
	}
	free(live);
	trace_close(tf);
	return (r == 0 ? 0 : -1);
}

/* Open the input under one name, walk it twice (rewind), close it. */
static void
fuzz_open(const char *name, const uint8_t *data, size_t size)
{
	struct trace_file	*tf;
	enum trace_damage	 d;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	size_t			 at, ignored;
	uint64_t		 events, streamed;

	errbuf[0] = '\0';
	if ((tf = trace_open_mem(name, data, size, errbuf)) == NULL) {
		fuzz_check(memchr(errbuf, '\0', sizeof errbuf) != NULL &&
		    errbuf[0] != '\0', "failure without a message");
		/* The streaming reader may read up to the damage. */
		(void)fuzz_stream(name, data, size, &streamed);
		return;
	}
	/* A cut or unfinished file is read up to its last whole record. */
	d = trace_damage(tf, &at, &ignored);
	fuzz_check(d == TRACE_WHOLE || d == TRACE_CUT || d == TRACE_UNFINISHED,
	    "damage kind");
	fuzz_check((d == TRACE_WHOLE) == (ignored == 0), "ignored bytes");
	fuzz_check(at == trace_size(tf) && at + ignored == size, "trace_size");
	trace_damage_text(tf, errbuf, sizeof errbuf);
	fuzz_check((d == TRACE_WHOLE) == (errbuf[0] == '\0'), "damage text");
	fuzz_check(strcmp(trace_name(tf), name) == 0, "trace_name");
	fuzz_sink += strlen(trace_format_name(trace_format(tf))) +
	    trace_http_count(tf);
	fuzz_walk(tf, data, size, &events);
	trace_rewind(tf);
	fuzz_walk(tf, data, size, &events);
	trace_close(tf);
	/* What the index accepted, the streaming walk reads the same. */
	fuzz_check(fuzz_stream(name, data, size, &streamed) == 0,
	    "the streaming reader refused what the indexed one read");
	/*
	 * As many events, or more: past a cut the streaming reader may
	 * already have handed out the first events of the record it then
	 * finds cut (its damage is found when it is reached).
	 */
	fuzz_check(d == TRACE_WHOLE ? streamed == events : streamed >= events,
	    "the streaming reader handed out another number of events");
}

/*
 * The name only breaks a tie between the formats, so try both: a .pb
 * name and a length-delimited one.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_open("fuzz.pb", data, size);
	fuzz_open("fuzz.pb_length_delimited", data, size);
	return (0);
}
