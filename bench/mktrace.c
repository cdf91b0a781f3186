/* mktrace: write a large synthetic socket trace for benchmarks. */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/tapshim.pb-c.h"

#define MKTRACE_SEC0	1700000000	/* 2023-11-14: any fixed time */
#define MKTRACE_PATTERN	(1U << 20)	/* distinct payload bytes */
#define MKTRACE_WEVERY	16		/* events per small write */
#define MKTRACE_EVMAX	(64UL << 20)	/* largest -s */
#define MKTRACE_CHUNKMAX (1UL << 30)	/* payload bytes a chunk holds */
#define MKTRACE_ID	1		/* the trace_id */
#define MKTRACE_LPORT	45678		/* the client's (ephemeral) */
#define MKTRACE_RPORT	8080		/* the server's */

/* protobuf-c's names for the oneof cases are long. */
#define CASE_BUFFERED	\
	TAPSHIM__TRACE__TRACE_WRAPPER__TRACE_SOCKET_BUFFERED_TRACE
#define CASE_STREAMED	\
	TAPSHIM__TRACE__TRACE_WRAPPER__TRACE_SOCKET_STREAMED_TRACE_SEGMENT
#define PIECE(x)	\
	TAPSHIM__TRACE__SOCKET_STREAMED_TRACE_SEGMENT__MESSAGE_PIECE_##x
#define SELECT(x)	TAPSHIM__TRACE__SOCKET_EVENT__EVENT_SELECTOR_##x

enum mktrace_format {
	MKTRACE_PB,		/* PROTO_BINARY: buffered-trace chunks */
	MKTRACE_LD		/* PROTO_BINARY_LENGTH_DELIMITED segments */
};

/* Message storage for one chunk, reused chunk after chunk. */
struct chunk {
	size_t				  n;
	Tapshim__Trace__SocketEvent	 *ev;
	Tapshim__Trace__SocketEvent	**evp;
	Tapshim__Trace__Timestamp	 *ts;
	Tapshim__Trace__Body		 *body;
	Tapshim__Trace__SocketEvent__Read *rd;
	Tapshim__Trace__SocketEvent__Write *wr;
	Tapshim__Trace__SocketEvent__Closed closed;
};

struct gen {
	enum mktrace_format	 format;
	size_t			 evbytes;
	size_t			 nchunk;
	uint64_t		 total;		/* payload to write */
	uint64_t		 done;		/* payload written */
	uint64_t		 nevents;
	uint64_t		 nreads;
	uint64_t		 nwrites;
	uint64_t		 usec;		/* since MKTRACE_SEC0 */
	int			 first;		/* before any chunk */
	uint8_t			*pattern;
	uint8_t			*out;
	size_t			 outcap;
	uint64_t		 fbytes;
	FILE			*f;
	const char		*path;
	int			 regular;	/* f is a regular file */
	struct chunk		 c;
};

static void		 usage(FILE *);
static int		 parse_size(const char *, uint64_t, uint64_t,
			    uint64_t *);
static const char	*parse_args(int, char **, struct gen *);
static void		 gen_discard(struct gen *);

static const char	*progname = "mktrace";

/* Print the usage message. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [-f pb|ld] [-s EVENT_BYTES] [-c CHUNK_EVENTS] "
	    "-n TOTAL_BYTES OUT\n"
	    "Write a synthetic socket trace holding TOTAL_BYTES of payload:\n"
	    "a client on 127.0.0.1 downloading in EVENT_BYTES reads, with a\n"
	    "small write every %d events.\n"
	    "\n"
	    "  -f pb|ld   PROTO_BINARY buffered-trace chunks (default), or\n"
	    "             PROTO_BINARY_LENGTH_DELIMITED streamed segments\n"
	    "  -s BYTES   payload of a read (default 65536)\n"
	    "  -c EVENTS  events a chunk or segment holds (default 64)\n"
	    "  -n BYTES   total payload; K, M, G suffixes are powers of 1024\n"
	    "  -h, -V     help, version\n"
	    "\n"
	    "OUT may be - for standard output. Exit status: 0, 1 when the\n"
	    "output fails, 2 for a usage error.\n",
	    progname, MKTRACE_WEVERY);
}

/* Parse a byte count with an optional K/M/G suffix into [lo, hi]. */
static int
parse_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	char			*end;
	unsigned long long	 n;
	int			 shift = 0;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return (-1);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift != 0)
		end++;
	if (*end != '\0' || n > (UINT64_MAX >> shift))
		return (-1);
	n <<= shift;
	if (n < lo || n > hi)
		return (-1);
	*v = n;
	return (0);
}

/* Deterministic payload: xorshift64 bytes, repeating every PATTERN. */
static uint8_t *
gen_pattern(size_t evbytes)
{
	uint64_t	x = 0x9e3779b97f4a7c15ULL;
	uint8_t		*p;
	size_t		 i, n = MKTRACE_PATTERN + evbytes;

	if ((p = malloc(n)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 32);
	}
	return (p);
}

/* Allocate the messages of one chunk, plus room for the closed event. */
static int
chunk_alloc(struct chunk *c, size_t n)
{
	c->ev = calloc(n + 1, sizeof *c->ev);
	c->evp = calloc(n + 1, sizeof *c->evp);
	c->ts = calloc(n + 1, sizeof *c->ts);
	c->body = calloc(n + 1, sizeof *c->body);
	c->rd = calloc(n + 1, sizeof *c->rd);
	c->wr = calloc(n + 1, sizeof *c->wr);
	c->n = 0;
	tapshim__trace__socket_event__closed__init(&c->closed);
	return (c->ev && c->evp && c->ts && c->body && c->rd && c->wr ?
	    0 : -1);
}

static void
chunk_free(struct chunk *c)
{
	free(c->ev);
	free(c->evp);
	free(c->ts);
	free(c->body);
	free(c->rd);
	free(c->wr);
}

/* Next event's timestamp: a few microseconds after the last one. */
static void
gen_time(struct gen *g, Tapshim__Trace__Timestamp *ts)
{
	tapshim__trace__timestamp__init(ts);
	g->usec += 2 + g->nevents % 5;
	ts->seconds = MKTRACE_SEC0 + (int64_t)(g->usec / 1000000);
	ts->nanos = (int32_t)(g->usec % 1000000) * 1000;
}

/*
 * Add the next data event to the chunk: a small write (the request)
 * first and every WRITE_EVERY events, reads of evbytes otherwise; the
 * last event is cut to land exactly on the total.
 */
static void
gen_event(struct gen *g)
{
	struct chunk			*c = &g->c;
	Tapshim__Trace__SocketEvent	*ev = &c->ev[c->n];
	Tapshim__Trace__Body		*body = &c->body[c->n];
	uint64_t			 left = g->total - g->done;
	size_t				 len;
	int				 w;

	w = g->nevents % MKTRACE_WEVERY == 0;
	len = w ? 64 + (size_t)(g->nevents * 37 % 448) : g->evbytes;
	if (len > left)
		len = (size_t)left;
	tapshim__trace__socket_event__init(ev);
	gen_time(g, &c->ts[c->n]);
	ev->timestamp = &c->ts[c->n];
	if (g->format == MKTRACE_LD)
		ev->seq_num = g->nevents;
	tapshim__trace__body__init(body);
	body->body_type_case = TAPSHIM__TRACE__BODY__BODY_TYPE_AS_BYTES;
	body->as_bytes.data = g->pattern + (g->nevents * 4093) %
	    MKTRACE_PATTERN;
	body->as_bytes.len = len;
	if (w) {
		tapshim__trace__socket_event__write__init(&c->wr[c->n]);
		c->wr[c->n].data = body;
		ev->event_selector_case = SELECT(WRITE);
		ev->write = &c->wr[c->n];
		g->nwrites++;
	} else {
		tapshim__trace__socket_event__read__init(&c->rd[c->n]);
		c->rd[c->n].data = body;
		ev->event_selector_case = SELECT(READ);
		ev->read = &c->rd[c->n];
		g->nreads++;
	}
	c->evp[c->n++] = ev;
	g->done += len;
	g->nevents++;
}

/* End the chunk with the connection's close. */
static void
gen_closed(struct gen *g)
{
	struct chunk			*c = &g->c;
	Tapshim__Trace__SocketEvent	*ev = &c->ev[c->n];

	tapshim__trace__socket_event__init(ev);
	gen_time(g, &c->ts[c->n]);
	ev->timestamp = &c->ts[c->n];
	if (g->format == MKTRACE_LD)
		ev->seq_num = g->nevents;
	ev->event_selector_case = SELECT(CLOSED);
	ev->closed = &c->closed;
	c->evp[c->n++] = ev;
	g->nevents++;
}

/* Append bytes to the output; -1 with errno on failure. */
static int
gen_put(struct gen *g, const void *p, size_t n)
{
	if (fwrite(p, 1, n, g->f) != n)
		return (-1);
	g->fbytes += n;
	return (0);
}

/* Pack a TraceWrapper and write it, varint-prefixed for -f ld. */
static int
gen_write(struct gen *g, const Tapshim__Trace__TraceWrapper *w)
{
	uint8_t	 hdr[10], *nout;
	size_t	 n, h = 0;
	uint64_t v;

	n = tapshim__trace__trace_wrapper__get_packed_size(w);
	if (n > g->outcap) {
		if ((nout = realloc(g->out, n)) == NULL)
			return (-1);
		g->out = nout;
		g->outcap = n;
	}
	tapshim__trace__trace_wrapper__pack(w, g->out);
	if (g->format == MKTRACE_LD) {
		/* The record's size as a varint (protobuf encoding spec). */
		for (v = n; v >= 0x80; v >>= 7)
			hdr[h++] = (uint8_t)(v | 0x80);
		hdr[h++] = (uint8_t)v;
		if (gen_put(g, hdr, h) == -1)
			return (-1);
	}
	return (gen_put(g, g->out, n));
}

/* Fill in the connection: a client on 127.0.0.1 talking to port 8080. */
static void
gen_conn(Tapshim__Trace__Connection *conn, Tapshim__Trace__Address *addr,
    Tapshim__Trace__SocketAddress *sa)
{
	static char	 loopback[] = "127.0.0.1";
	int		 i;

	tapshim__trace__connection__init(conn);
	for (i = 0; i < 2; i++) {
		tapshim__trace__address__init(&addr[i]);
		tapshim__trace__socket_address__init(&sa[i]);
		sa[i].address = loopback;
		sa[i].port_specifier_case =
		    TAPSHIM__TRACE__SOCKET_ADDRESS__PORT_SPECIFIER_PORT_VALUE;
		sa[i].port_value = i == 0 ? MKTRACE_LPORT :
		    MKTRACE_RPORT;
		addr[i].address_case =
		    TAPSHIM__TRACE__ADDRESS__ADDRESS_SOCKET_ADDRESS;
		addr[i].socket_address = &sa[i];
	}
	conn->local_address = &addr[0];
	conn->remote_address = &addr[1];
	conn->role = TAPSHIM__TRACE__ROLE__ROLE_CLIENT;
	conn->pid = 4242;
}

/* -f pb: the chunk as a buffered trace; the first also names the trace. */
static int
gen_flush_pb(struct gen *g, Tapshim__Trace__Connection *conn)
{
	Tapshim__Trace__TraceWrapper		w;
	Tapshim__Trace__SocketBufferedTrace	bt;

	tapshim__trace__socket_buffered_trace__init(&bt);
	if (g->first) {
		bt.trace_id = MKTRACE_ID;
		bt.connection = conn;
	}
	bt.n_events = g->c.n;
	bt.events = g->c.evp;
	tapshim__trace__trace_wrapper__init(&w);
	w.trace_case = CASE_BUFFERED;
	w.socket_buffered_trace = &bt;
	return (gen_write(g, &w));
}

/*
 * -f ld: as Envoy streams, a segment holding only the connection first,
 * then the events: one per segment with -c 1, else batched.
 */
static int
gen_flush_ld(struct gen *g, Tapshim__Trace__Connection *conn)
{
	Tapshim__Trace__TraceWrapper			w;
	Tapshim__Trace__SocketStreamedTraceSegment	seg;
	Tapshim__Trace__SocketEvents			evs;

	tapshim__trace__trace_wrapper__init(&w);
	w.trace_case = CASE_STREAMED;
	w.socket_streamed_trace_segment = &seg;
	tapshim__trace__socket_streamed_trace_segment__init(&seg);
	seg.trace_id = MKTRACE_ID;
	if (g->first) {
		seg.message_piece_case = PIECE(CONNECTION);
		seg.connection = conn;
		if (gen_write(g, &w) == -1)
			return (-1);
	}
	if (g->c.n == 1) {
		seg.message_piece_case = PIECE(EVENT);
		seg.event = g->c.evp[0];
	} else {
		tapshim__trace__socket_events__init(&evs);
		evs.n_events = g->c.n;
		evs.events = g->c.evp;
		seg.message_piece_case = PIECE(EVENTS);
		seg.events = &evs;
	}
	return (gen_write(g, &w));
}

/* Write the chunk gathered so far and start an empty one. */
static int
gen_flush(struct gen *g, Tapshim__Trace__Connection *conn)
{
	int	r;

	r = g->format == MKTRACE_PB ? gen_flush_pb(g, conn) :
	    gen_flush_ld(g, conn);
	g->first = 0;
	g->c.n = 0;
	return (r);
}

/* Generate the whole trace, chunk by chunk. */
static int
gen_run(struct gen *g)
{
	Tapshim__Trace__Connection	conn;
	Tapshim__Trace__Address		addr[2];
	Tapshim__Trace__SocketAddress	sa[2];

	gen_conn(&conn, addr, sa);
	g->first = 1;
	while (g->done < g->total) {
		gen_event(g);
		if (g->c.n == g->nchunk && gen_flush(g, &conn) == -1)
			return (-1);
	}
	gen_closed(g);
	return (gen_flush(g, &conn));
}

/* Parse the command line into g; exits on -h, -V and usage errors. */
static const char *
parse_args(int argc, char **argv, struct gen *g)
{
	uint64_t	v;
	int		c, have_n = 0;

	g->format = MKTRACE_PB;
	g->evbytes = 65536;
	g->nchunk = 64;
	while ((c = getopt(argc, argv, "f:s:c:n:hV")) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "pb") == 0)
				g->format = MKTRACE_PB;
			else if (strcmp(optarg, "ld") == 0)
				g->format = MKTRACE_LD;
			else
				goto bad;
			break;
		case 's':
			if (parse_size(optarg, 1, MKTRACE_EVMAX, &v) == -1)
				goto bad;
			g->evbytes = (size_t)v;
			break;
		case 'c':
			if (parse_size(optarg, 1, 1U << 20, &v) == -1)
				goto bad;
			g->nchunk = (size_t)v;
			break;
		case 'n':
			if (parse_size(optarg, 0, UINT64_MAX, &v) == -1)
				goto bad;
			g->total = v;
			have_n = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("%s (%s) %s\n", progname, PACKAGE_NAME,
			    PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (!have_n || argc - optind != 1) {
		usage(stderr);
		exit(2);
	}
	if ((uint64_t)g->evbytes * g->nchunk > MKTRACE_CHUNKMAX) {
		fprintf(stderr, "%s: -s times -c is over %lu bytes a chunk\n",
		    progname, MKTRACE_CHUNKMAX);
		exit(2);
	}
	return (argv[optind]);
bad:
	fprintf(stderr, "%s: -%c %s: bad value\n", progname, c, optarg);
	usage(stderr);
	exit(2);
}

/* Remove a half-written output, but never a device or a FIFO. */
static void
gen_discard(struct gen *g)
{
	if (g->f != stdout)
		fclose(g->f);
	if (g->regular)
		unlink(g->path);
}

int
main(int argc, char **argv)
{
	struct gen	 g;
	struct stat	 st;
	int		 rc = 1;

	memset(&g, 0, sizeof g);
	g.path = parse_args(argc, argv, &g);
	if ((g.pattern = gen_pattern(g.evbytes)) == NULL ||
	    chunk_alloc(&g.c, g.nchunk) == -1) {
		fprintf(stderr, "%s: out of memory\n", progname);
		goto out;
	}
	g.f = strcmp(g.path, "-") == 0 ? stdout : fopen(g.path, "wb");
	if (g.f == NULL || fstat(fileno(g.f), &st) == -1) {
		fprintf(stderr, "%s: %s: %s\n", progname, g.path,
		    strerror(errno));
		goto out;
	}
	g.regular = g.f != stdout && S_ISREG(st.st_mode);
	if (gen_run(&g) == -1 || fflush(g.f) == EOF || ferror(g.f)) {
		fprintf(stderr, "%s: %s: %s\n", progname, g.path,
		    strerror(errno));
		gen_discard(&g);
		goto out;
	}
	if (g.f != stdout && fclose(g.f) == EOF) {
		fprintf(stderr, "%s: %s: %s\n", progname, g.path,
		    strerror(errno));
		if (g.regular)
			unlink(g.path);
		goto out;
	}
	fprintf(stderr, "%s: %s: %" PRIu64 " events (%" PRIu64 " reads, %"
	    PRIu64 " writes, 1 closed), %" PRIu64 " payload bytes, %" PRIu64
	    " file bytes\n", progname, g.path, g.nevents, g.nreads, g.nwrites,
	    g.done, g.fbytes);
	rc = 0;
out:
	chunk_free(&g.c);
	free(g.pattern);
	free(g.out);
	return (rc);
}
