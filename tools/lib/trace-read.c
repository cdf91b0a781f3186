/* Reading socket tap traces (.pb and .pb_length_delimited) event by event. */

#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace-int.h"
#include "trace-read.h"
#include "wire.h"

/*
 * A file is walked as nested containers: length-delimited records, a
 * TraceWrapper's fields, a buffered trace or streamed segment, and a
 * segment's SocketEvents. Only the containers are walked here; payload
 * is never touched until an event is handed out.
 */
enum walk_kind {
	WALK_RECORDS,		/* varint-length-prefixed TraceWrappers */
	WALK_WRAPPER,		/* TraceWrapper fields */
	WALK_BUFFERED,		/* SocketBufferedTrace fields */
	WALK_SEGMENT,		/* SocketStreamedTraceSegment fields */
	WALK_EVENTS,		/* SocketEvents fields */
	WALK_BARE		/* Envoy 1.7-1.9's Trace: connection, events */
};

struct walk {
	enum walk_kind	kind;
	size_t		pos;
	size_t		end;
	size_t		trace;
};

#define WALK_DEPTH	4

/*
 * Pages of the mapped file behind the walk are released every so often,
 * so a trace of any size costs a bounded resident set, not its size.
 */
#define READ_RELEASE_STEP	(4 * 1024 * 1024)

struct trace_file {
	char			*name;
	const uint8_t		*buf;
	size_t			 size;
	void			*map;
	void			*owned;
	enum trace_format	 format;
	struct trace_info	*traces;
	size_t			 ntraces;
	size_t			 tracecap;	/* traces allocated */
	size_t			*ids;		/* trace id hash: index + 1 */
	size_t			 nids;		/* 0 or a power of two */
	size_t			 nhttp;
	int			 binbuf;	/* index of the merged .pb trace */
	int			 indexing;
	/*
	 * Streaming (trace_open_stream()): no index; each trace's facts
	 * are gathered as its events are handed out, and the slot of a
	 * trace the caller is done with (trace_forget()) is used again.
	 */
	int			 streaming;
	size_t			*freed;		/* slots to use again */
	size_t			 nfreed;
	size_t			 freedcap;
	size_t			*born;		/* slots made, for trace_born() */
	size_t			 nborn;
	size_t			 bornat;	/* born[bornat] is the next */
	size_t			 borncap;
	size_t			 seen;		/* traces made in all */
	struct walk		 stack[WALK_DEPTH];
	int			 depth;
	size_t			 released;	/* mapped bytes given back */
	enum trace_damage	 damage;	/* what follows size */
	size_t			 ignored;	/* bytes after size not read */
	size_t			 last;		/* the last whole record */
	size_t			 failed_at;	/* the last error's offset */
	int			 has_last;
	int64_t			 last_sec;
	uint32_t		 last_nsec;
	struct trace_file	*guard_next;	/* the SIGBUS guard's list */
	volatile sig_atomic_t	 shrunk;	/* a SIGBUS hit the mapping */
};

/*
 * A mapped input that shrinks while it is read (another process cuts it,
 * as the shim's own disk-full cut-back can) would kill the reader with
 * SIGBUS. Mapped files are kept in a list; a SIGBUS inside one maps zero
 * pages over the rest of it, so reading goes on over zeros, and the flag
 * makes the next trace_next() fail with what happened. A SIGBUS is
 * synchronous (the reader's own access), so the list is never half
 * changed when the handler walks it. One anywhere else goes to the
 * handler there was before.
 */
static struct trace_file	*read_guarded;
static struct sigaction		 read_old_bus;
static int			 read_bus_set;

/* The SIGBUS handler: zero pages over the rest of the mapping hit. */
static void
read_on_bus(int sig, siginfo_t *si, void *ctx)
{
	static long		 page;
	struct trace_file	*tf;
	uint8_t			*a = si->si_addr, *start, *from;
	int			 saved = errno;

	if (page == 0)
		page = sysconf(_SC_PAGESIZE);
	for (tf = read_guarded; tf != NULL; tf = tf->guard_next) {
		/* The whole mapping: what follows a cut is mapped too. */
		start = tf->map;
		if (a < start || a >= start + tf->size + tf->ignored)
			continue;
		from = start + ((size_t)(a - start) & ~((size_t)page - 1));
		if (mmap(from, (size_t)(start + tf->size + tf->ignored - from),
		    PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			break;
		tf->shrunk = 1;
		errno = saved;
		return;
	}
	/* Not ours: as if this handler were not there. */
	if (read_old_bus.sa_flags & SA_SIGINFO)
		read_old_bus.sa_sigaction(sig, si, ctx);
	else if (read_old_bus.sa_handler != SIG_IGN &&
	    read_old_bus.sa_handler != SIG_DFL)
		read_old_bus.sa_handler(sig);
	else {
		signal(sig, SIG_DFL);
		raise(sig);
	}
}

/* Put a mapped file under the SIGBUS guard. */
static int
read_guard_add(struct trace_file *tf)
{
	struct sigaction	sa;

	if (!read_bus_set) {
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = read_on_bus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &read_old_bus) == -1)
			return (-1);
		read_bus_set = 1;
	}
	tf->guard_next = read_guarded;
	read_guarded = tf;
	return (0);
}

/* Take a file out of the SIGBUS guard's list. */
static void
read_guard_remove(struct trace_file *tf)
{
	struct trace_file	**p;

	for (p = &read_guarded; *p != NULL; p = &(*p)->guard_next) {
		if (*p == tf) {
			*p = tf->guard_next;
			return;
		}
	}
}

/* Did the input shrink under the reader? */
static int
read_shrunk(const struct trace_file *tf)
{
	return (tf->shrunk != 0);
}

static int	read_fail(struct trace_file *, char *, size_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

/* Report "NAME: offset N: message" into errbuf and return -1. */
static int
read_fail(struct trace_file *tf, char *errbuf, size_t offset,
    const char *fmt, ...)
{
	va_list	ap;
	int	n;

	tf->failed_at = offset;
	n = snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: offset %zu: ", tf->name,
	    offset);
	if (n < 0 || n >= TRACE_ERRBUF_SIZE)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(errbuf + n, TRACE_ERRBUF_SIZE - (size_t)n, fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * Streaming, the scans that detect the format walk all of the file:
 * they give back the pages behind them too (read_scan_release()).
 */
static struct trace_file	*read_scanning;

static void	read_release(struct trace_file *, size_t);

/* In a scan of the whole of read_scanning's file, at pos of it. */
static void
read_scan_release(const uint8_t *buf, size_t pos)
{
	if (read_scanning != NULL && buf == read_scanning->buf)
		read_release(read_scanning, pos);
}

/* Is buf[0..n) a well-formed TraceWrapper holding a trace? */
static int
read_is_wrapper(const uint8_t *buf, size_t n, size_t *bad, const char **why)
{
	struct wire_field	 f;
	size_t			 pos = 0;
	int			 r, traces = 0;

	while ((r = wire_next(buf, n, &pos, &f, why)) == 1) {
		read_scan_release(buf, pos);
		if (f.number >= 1 && f.number <= 4) {
			if (f.type != WIRE_LEN) {
				*why = "a trace field is not length-delimited";
				break;
			}
			traces++;
		}
	}
	if (r == 0 && traces > 0)
		return (1);
	if (r == 0)
		*why = "no trace in it";
	*bad = r == 0 ? n : f.offset;
	return (0);
}

/* Does msg[0..n) hold only fields check() accepts, and all of them well? */
static int
read_all_fields(const uint8_t *p, size_t n,
    int (*check)(const struct wire_field *, int *), int *seen)
{
	struct wire_field	 f;
	const char		*why;
	size_t			 pos = 0;
	int			 r;

	while ((r = wire_next(p, n, &pos, &f, &why)) == 1) {
		if (!check(&f, seen))
			return (0);
	}
	return (r == 0);
}

/* A Timestamp: seconds = 1, nanos = 2, varints. */
static int
read_bare_time(const struct wire_field *f, int *seen)
{
	(void)seen;
	return ((f->number == 1 || f->number == 2) && f->type == WIRE_VARINT);
}

/* Envoy 1.7-1.9's Read or Write: bytes data = 1, bool end_stream = 2. */
static int
read_bare_op(const struct wire_field *f, int *seen)
{
	(void)seen;
	return ((f->number == 1 && f->type == WIRE_LEN) ||
	    (f->number == 2 && f->type == WIRE_VARINT));
}

/* Envoy 1.7-1.9's Event: a Timestamp (1) and a Read (2) or Write (3). */
static int
read_bare_event(const struct wire_field *f, int *seen)
{
	if (f->type != WIRE_LEN)
		return (0);
	if (f->number == 1) {
		*seen = 1;
		return (read_all_fields(f->data, f->len, read_bare_time, NULL));
	}
	if (f->number == 2 || f->number == 3)
		return (read_all_fields(f->data, f->len, read_bare_op, NULL));
	return (0);
}

/* Envoy 1.7-1.9's Connection: id = 1, local_address = 2, remote = 3. */
static int
read_bare_conn(const struct wire_field *f, int *seen)
{
	(void)seen;
	return ((f->number == 1 && f->type == WIRE_VARINT) ||
	    ((f->number == 2 || f->number == 3) && f->type == WIRE_LEN));
}

/* A field of Envoy 1.7-1.9's Trace: connection = 1, events = 2. */
static int
read_bare_field(const struct wire_field *f, int *events)
{
	int	has_time = 0;

	if (f->type != WIRE_LEN)
		return (0);
	if (f->number == 1)
		return (read_all_fields(f->data, f->len, read_bare_conn, NULL));
	if (f->number != 2 || !read_all_fields(f->data, f->len,
	    read_bare_event, &has_time) || !has_time)
		return (0);
	(*events)++;
	return (1);
}

/*
 * Is buf[0..n) a bare envoy.data.tap.v2alpha.Trace, what Envoy 1.7-1.9
 * wrote (no TraceWrapper)? Its fields 1 and 2 are also a TraceWrapper's
 * HTTP traces: told apart by the content, every event having a
 * Timestamp of varints where an HTTP trace has a varint trace_id or
 * headers.
 */
static int
read_is_bare(const uint8_t *buf, size_t n)
{
	int	events = 0;

	return (read_all_fields(buf, n, read_bare_field, &events) &&
	    events > 0);
}

/* Is buf[0..n) a sequence of varint-delimited TraceWrappers? */
static int
read_is_delimited(const uint8_t *buf, size_t n, size_t *bad)
{
	const char	*why;
	uint64_t	 len;
	size_t		 pos = 0, k, inner;

	while (pos < n) {
		read_scan_release(buf, pos);
		k = wire_get_varint(buf + pos, n - pos, &len);
		if (k == 0 || len == 0 || len > n - pos - k) {
			*bad = pos;
			return (0);
		}
		if (!read_is_wrapper(buf + pos + k, (size_t)len, &inner,
		    &why)) {
			*bad = pos + k + inner;
			return (0);
		}
		pos += k + (size_t)len;
	}
	return (1);
}

/* Does the name say which format (an extension, not to be trusted)? */
static int
read_name_says_delimited(const char *name)
{
	size_t	n = strlen(name), m = strlen("_length_delimited");

	return (n >= m && strcmp(name + n - m, "_length_delimited") == 0);
}

/* Does the name end in ".pb", PROTO_BINARY's extension? */
static int
read_name_says_binary(const char *name)
{
	size_t	n = strlen(name);

	return (n >= 3 && strcmp(name + n - 3, ".pb") == 0);
}

/* Explain a file that is not a binary trace at all, if it is text. */
static const char *
read_text_format(const uint8_t *buf, size_t n)
{
	static const char *const words[] = { "socket_buffered_trace",
	    "socket_streamed_trace_segment", "http_buffered_trace",
	    "http_streamed_trace_segment" };
	size_t	i = 0, j;

	while (i < n && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' ||
	    buf[i] == '\r'))
		i++;
	if (i < n && buf[i] == '{')
		return ("a JSON trace");
	for (j = 0; j < sizeof words / sizeof words[0]; j++) {
		if (n - i >= strlen(words[j]) &&
		    memcmp(buf + i, words[j], strlen(words[j])) == 0)
			return ("a text (PROTO_TEXT) trace");
	}
	return (NULL);
}

/* Did wire_next() fail because its container (the file) ended? */
static int
read_why_cut(const char *why)
{
	return (strstr(why, "cut short") != NULL ||
	    strstr(why, "runs past the end") != NULL);
}

/* Is buf[0..n) all zeros? */
static int
read_zero(const uint8_t *buf, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (buf[i] != 0)
			return (0);
	}
	return (1);
}

/*
 * How far buf[0..n) holds whole records of format fmt, top level only,
 * into *good (and where the last of them starts, into *last); then what
 * the rest is: nothing, zeros (a writer that allocated ahead and did not
 * finish), a record cut short (by the end of the file, or by zeros: a
 * writer killed while packing it), or damage.
 */
static enum trace_damage
read_scan(const uint8_t *buf, size_t n, enum trace_format fmt, size_t *good,
    size_t *last)
{
	struct wire_field	 f;
	const char		*why = "";
	uint64_t		 len;
	size_t			 pos = 0, k, inner;

	*last = 0;
	for (;;) {
		read_scan_release(buf, pos);
		*good = pos;
		if (pos >= n)
			return (TRACE_WHOLE);
		/* No record starts with 0 (a length or a tag of 0). */
		if (buf[pos] == 0)
			return (read_zero(buf + pos, n - pos) ?
			    TRACE_UNFINISHED : TRACE_DAMAGED);
		if (fmt == TRACE_FORMAT_DELIMITED) {
			k = wire_get_varint(buf + pos, n - pos, &len);
			if (k == 0 || len > n - pos - k)
				return (TRACE_CUT);
			if (!read_is_wrapper(buf + pos + k, (size_t)len,
			    &inner, &why))
				return (buf[n - 1] == 0 && read_zero(buf + pos +
				    k + (size_t)len, n - pos - k - (size_t)len) ?
				    TRACE_CUT : TRACE_DAMAGED);
			*last = pos;
			pos += k + (size_t)len;
			continue;
		}
		*last = pos;
		if (wire_next(buf, n, &pos, &f, &why) < 0)
			return (read_why_cut(why) ? TRACE_CUT : TRACE_DAMAGED);
		if (f.number >= 1 && f.number <= 4 && f.type != WIRE_LEN)
			return (TRACE_DAMAGED);
	}
}

/*
 * A file that does not parse whole may be one cut short, or one whose
 * writer died (a zero tail after its last record): keep the whole
 * records, in the format the name says or else the one that keeps more,
 * and say what was left. Damage before the end stays an error.
 */
static int
read_trim(struct trace_file *tf)
{
	enum trace_damage	d[2];
	size_t			g[2], l[2];
	int			i;

	d[0] = read_scan(tf->buf, tf->size, TRACE_FORMAT_BINARY, &g[0],
	    &l[0]);
	d[1] = read_scan(tf->buf, tf->size, TRACE_FORMAT_DELIMITED, &g[1],
	    &l[1]);
	if (read_name_says_delimited(tf->name))
		i = 1;
	else if (read_name_says_binary(tf->name))
		i = 0;
	else if (d[0] == TRACE_DAMAGED || d[0] == TRACE_WHOLE)
		i = 1;
	else if (d[1] == TRACE_DAMAGED || d[1] == TRACE_WHOLE)
		i = 0;
	else
		i = g[1] > g[0];
	if (d[i] != TRACE_CUT && d[i] != TRACE_UNFINISHED)
		return (-1);
	tf->damage = d[i];
	tf->ignored = tf->size - g[i];
	tf->size = g[i];
	tf->last = l[i];
	return (0);
}

/* Decide the format from the content; the name only breaks a tie. */
static int
read_detect(struct trace_file *tf, char *errbuf)
{
	const char	*text, *why = "";
	size_t		 bad_bin = 0, bad_ld = 0;
	int		 bin, ld;

	if (tf->size == 0)
		return (read_fail(tf, errbuf, 0, "empty file"));
	if (read_is_bare(tf->buf, tf->size)) {
		tf->format = TRACE_FORMAT_V2ALPHA;
		return (0);
	}
	bin = read_is_wrapper(tf->buf, tf->size, &bad_bin, &why);
	if (!bin && !read_is_delimited(tf->buf, tf->size, &bad_ld) &&
	    tf->damage == TRACE_WHOLE && read_text_format(tf->buf,
	    tf->size) == NULL && read_trim(tf) == 0) {
		if (tf->size == 0)
			return (read_fail(tf, errbuf, 0, "no whole record "
			    "before the %s", tf->damage == TRACE_CUT ?
			    "cut" : "zero tail"));
		return (read_detect(tf, errbuf));
	}
	ld = read_is_delimited(tf->buf, tf->size, &bad_ld);
	if (bin && ld)
		bin = !read_name_says_delimited(tf->name);
	if (bin) {
		tf->format = TRACE_FORMAT_BINARY;
		return (0);
	}
	if (ld) {
		tf->format = TRACE_FORMAT_DELIMITED;
		return (0);
	}
	if ((text = read_text_format(tf->buf, tf->size)) != NULL)
		return (read_fail(tf, errbuf, 0, "%s; tap2pcap reads binary "
		    "traces (PROTO_BINARY, PROTO_BINARY_LENGTH_DELIMITED): "
		    "encode it first with protoc --encode (tap2pcap(1), "
		    "Input)", text));
	/*
	 * Neither parses: explain the damage as the format the name says,
	 * failing that as the one whose parse got further. A .pb cut short
	 * fails at offset 0, where a length-delimited parse of it can get
	 * further by chance.
	 */
	if (read_name_says_delimited(tf->name) ||
	    (!read_name_says_binary(tf->name) && bad_ld > bad_bin))
		return (read_fail(tf, errbuf, bad_ld, "not a length-delimited "
		    "trace: damaged or cut-short record"));
	return (read_fail(tf, errbuf, bad_bin, "not a trace: damaged or "
	    "cut-short TraceWrapper field: %s", why));
}

/* The bucket id hashes to. */
static size_t
read_id_home(const struct trace_file *tf, uint64_t id)
{
	return ((size_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (tf->nids - 1));
}

/* Where id is (or would go) in the hash of trace ids: linear probing. */
static size_t
read_id_pos(const struct trace_file *tf, uint64_t id)
{
	size_t	h, i;

	h = read_id_home(tf, id);
	while ((i = tf->ids[h]) != 0 && tf->traces[i - 1].trace_id != id)
		h = (h + 1) & (tf->nids - 1);
	return (h);
}

/* Double the hash of trace ids (it stays at most half full). */
static int
read_id_grow(struct trace_file *tf)
{
	size_t	*old = tf->ids, n = tf->nids, i;

	tf->nids = n ? n * 2 : 64;
	if ((tf->ids = calloc(tf->nids, sizeof *tf->ids)) == NULL) {
		tf->ids = old;
		tf->nids = n;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (old[i] != 0)
			tf->ids[read_id_pos(tf,
			    tf->traces[old[i] - 1].trace_id)] = old[i];
	}
	free(old);
	return (0);
}

/*
 * Take id out of the hash, moving the entries after it back over the
 * hole where their probe passed it (linear probing without tombstones).
 */
static void
read_id_remove(struct trace_file *tf, uint64_t id)
{
	size_t	mask = tf->nids - 1, h, j, k;

	if (tf->nids == 0 || tf->ids[h = read_id_pos(tf, id)] == 0)
		return;
	tf->ids[h] = 0;
	for (j = (h + 1) & mask; tf->ids[j] != 0; j = (j + 1) & mask) {
		k = read_id_home(tf, tf->traces[tf->ids[j] - 1].trace_id);
		/* Stays if its home is cyclically in (h, j]. */
		if (h <= j ? (h < k && k <= j) : (h < k || k <= j))
			continue;
		tf->ids[h] = tf->ids[j];
		tf->ids[j] = 0;
		h = j;
	}
}

/* Streaming: note a new slot for trace_born(). */
static int
read_born(struct trace_file *tf, size_t slot)
{
	size_t	*n, cap;

	if (tf->bornat == tf->nborn)
		tf->bornat = tf->nborn = 0;
	if (tf->nborn == tf->borncap) {
		cap = tf->borncap ? tf->borncap * 2 : 16;
		if ((n = reallocarray(tf->born, cap, sizeof *n)) == NULL)
			return (-1);
		tf->born = n;
		tf->borncap = cap;
	}
	tf->born[tf->nborn++] = slot;
	return (0);
}

/*
 * Find (or, while indexing, add) the trace with this id. Streamed traces
 * are found by id through a hash, so a file holding many connections is
 * indexed in linear time; the merged .pb trace is kept out of it, since
 * its id changes chunk by chunk.
 */
static int
read_trace_slot(struct trace_file *tf, uint64_t id, int binbuf, size_t *slot)
{
	struct trace_info	*t;
	size_t			 cap;

	if (binbuf && tf->binbuf >= 0) {
		*slot = (size_t)tf->binbuf;
		return (0);
	}
	if (!binbuf && tf->nids > 0 && tf->ids[read_id_pos(tf, id)] != 0) {
		*slot = tf->ids[read_id_pos(tf, id)] - 1;
		return (0);
	}
	if (!tf->indexing)
		return (-1);
	if (tf->streaming && tf->nfreed > 0) {
		if (!binbuf && tf->nids == 0 && read_id_grow(tf) == -1)
			return (-1);
		*slot = tf->freed[--tf->nfreed];
		t = &tf->traces[*slot];
		memset(t, 0, sizeof *t);
		t->trace_id = id;
		if (binbuf)
			tf->binbuf = (int)*slot;
		else
			tf->ids[read_id_pos(tf, id)] = *slot + 1;
		tf->seen++;
		return (read_born(tf, *slot));
	}
	if (tf->ntraces == tf->tracecap) {
		cap = tf->tracecap ? tf->tracecap * 2 : 4;
		if (cap > SIZE_MAX / sizeof *t ||
		    (t = realloc(tf->traces, cap * sizeof *t)) == NULL)
			return (-1);
		tf->traces = t;
		tf->tracecap = cap;
	}
	if (!binbuf && (tf->ntraces + 1) * 2 > tf->nids &&
	    read_id_grow(tf) == -1)
		return (-1);
	t = &tf->traces[tf->ntraces];
	memset(t, 0, sizeof *t);
	t->trace_id = id;
	if (binbuf)
		tf->binbuf = (int)tf->ntraces;
	else
		tf->ids[read_id_pos(tf, id)] = tf->ntraces + 1;
	*slot = tf->ntraces++;
	tf->seen++;
	return (tf->streaming ? read_born(tf, *slot) : 0);
}

/* The trace_id (field 1, last one wins) of a trace or segment. */
static uint64_t
read_container_id(const uint8_t *p, size_t n)
{
	struct wire_field	 f;
	const char		*why;
	size_t			 pos = 0;
	uint64_t		 id = 0;

	while (wire_next(p, n, &pos, &f, &why) == 1) {
		if (f.number == 1 && f.type == WIRE_VARINT)
			id = f.value;
	}
	return (id);
}

/* Enter a trace or segment found in a TraceWrapper. */
static int
read_push(struct trace_file *tf, const struct wire_field *f, char *errbuf)
{
	struct walk	*w;
	size_t		 slot, start = (size_t)(f->data - tf->buf);
	uint64_t	 id;
	int		 binbuf;

	binbuf = f->number == 3 && tf->format == TRACE_FORMAT_BINARY;
	id = read_container_id(f->data, f->len);
	if (read_trace_slot(tf, id, binbuf, &slot) == -1)
		return (read_fail(tf, errbuf, f->offset, "out of memory"));
	/* A chunk naming another trace: two files joined with cat. */
	if (binbuf && tf->indexing && id != 0 &&
	    tf->traces[slot].trace_id != 0 && tf->traces[slot].trace_id != id)
		tf->traces[slot].joined++;
	w = &tf->stack[tf->depth++];
	w->kind = f->number == 3 ? WALK_BUFFERED : WALK_SEGMENT;
	w->pos = start;
	w->end = start + f->len;
	w->trace = slot;
	return (0);
}

/* While indexing: take in a trace-level field that is not an event. */
static int
read_meta(struct trace_file *tf, const struct walk *w,
    const struct wire_field *f, char *errbuf)
{
	struct trace_info	*t = &tf->traces[w->trace];
	struct decode_err	 e;

	if (f->number == 2 && f->type == WIRE_LEN) {
		/* A streamed trace's connection again, after its events. */
		if (w->kind == WALK_SEGMENT && t->has_conn && t->nevents > 0)
			t->joined++;
		if (decode_conn(tf->buf, f->data, f->len, &t->conn, &e) == -1)
			return (read_fail(tf, errbuf, e.offset, "%s", e.msg));
		t->has_conn = 1;
	} else if (w->kind == WALK_BUFFERED && f->type == WIRE_VARINT) {
		if (f->number == 1)
			t->trace_id = f->value;
		else if (f->number == 4)
			t->read_truncated = f->value != 0;
		else if (f->number == 5)
			t->write_truncated = f->value != 0;
	}
	return (0);
}

/* Act on one field of the innermost container; 1 means "an event". */
static int
read_field(struct trace_file *tf, struct walk *w, const struct wire_field *f,
    char *errbuf)
{
	int	event_field;

	switch (w->kind) {
	case WALK_WRAPPER:
		if (f->number == 3 || f->number == 4) {
			if (f->type != WIRE_LEN)
				break;
			return (read_push(tf, f, errbuf));
		}
		if ((f->number == 1 || f->number == 2) && tf->indexing)
			tf->nhttp++;
		return (0);
	case WALK_SEGMENT:
		if (f->number == 4 && f->type == WIRE_LEN) {
			tf->stack[tf->depth].kind = WALK_EVENTS;
			tf->stack[tf->depth].pos = (size_t)(f->data - tf->buf);
			tf->stack[tf->depth].end = tf->stack[tf->depth].pos +
			    f->len;
			tf->stack[tf->depth].trace = w->trace;
			tf->depth++;
			return (0);
		}
		/* FALLTHROUGH */
	case WALK_BUFFERED:
		if (f->number == 3) {
			if (f->type != WIRE_LEN)
				break;
			return (1);
		}
		return (tf->indexing ? read_meta(tf, w, f, errbuf) : 0);
	case WALK_EVENTS:
		event_field = f->number == 1;
		if (event_field && f->type != WIRE_LEN)
			break;
		return (event_field);
	case WALK_BARE:
		if (f->type != WIRE_LEN)
			break;
		if (tf->binbuf < 0 && (!tf->indexing ||
		    read_trace_slot(tf, 0, 1, &w->trace) == -1))
			return (read_fail(tf, errbuf, f->offset,
			    "out of memory"));
		w->trace = (size_t)tf->binbuf;
		if (f->number == 2)
			return (1);
		if (f->number == 1 && tf->indexing) {
			struct trace_info	*t = &tf->traces[w->trace];
			struct decode_err	 e;

			if (decode_conn(tf->buf, f->data, f->len, &t->conn,
			    &e) == -1)
				return (read_fail(tf, errbuf, e.offset, "%s",
				    e.msg));
			t->has_conn = 1;
		}
		return (0);
	case WALK_RECORDS:
		break;
	}
	return (read_fail(tf, errbuf, f->offset, "field %u has wire type %d, "
	    "expected a length-delimited message", f->number, f->type));
}

/* Step into the next length-delimited record. */
static int
read_record(struct trace_file *tf, struct walk *w, char *errbuf)
{
	uint64_t	len;
	size_t		k;

	k = wire_get_varint(tf->buf + w->pos, w->end - w->pos, &len);
	if (k == 0 || len > w->end - w->pos - k)
		return (read_fail(tf, errbuf, w->pos, "record length runs past "
		    "the end of the file"));
	tf->stack[tf->depth].kind = WALK_WRAPPER;
	tf->stack[tf->depth].pos = w->pos + k;
	tf->stack[tf->depth].end = w->pos + k + (size_t)len;
	tf->depth++;
	w->pos += k + (size_t)len;
	return (0);
}

/* Walk to the next SocketEvent; 1 with *f on it, 0 at the end, -1. */
static int
read_walk(struct trace_file *tf, struct wire_field *f, size_t *trace,
    char *errbuf)
{
	struct walk	*w;
	const char	*why;
	int		 r;

	while (tf->depth > 0) {
		w = &tf->stack[tf->depth - 1];
		if (w->pos >= w->end) {
			tf->depth--;
			continue;
		}
		if (w->kind == WALK_RECORDS) {
			if (read_record(tf, w, errbuf) == -1)
				return (-1);
			continue;
		}
		r = wire_next(tf->buf, w->end, &w->pos, f, &why);
		if (r < 0)
			return (read_fail(tf, errbuf, f->offset, "%s", why));
		if ((r = read_field(tf, w, f, errbuf)) == -1)
			return (-1);
		if (r == 1) {
			*trace = w->trace;
			return (1);
		}
	}
	return (0);
}

/* Start walking from the top of the file. */
void
trace_rewind(struct trace_file *tf)
{
	tf->depth = 1;
	tf->stack[0].kind = tf->format == TRACE_FORMAT_DELIMITED ?
	    WALK_RECORDS : tf->format == TRACE_FORMAT_V2ALPHA ? WALK_BARE :
	    WALK_WRAPPER;
	tf->stack[0].pos = 0;
	tf->stack[0].end = tf->size;
	tf->has_last = 0;
	tf->released = 0;
}

/* Give back the mapped pages before offset; they are read again if need be. */
static void
read_release(struct trace_file *tf, size_t offset)
{
	static size_t	page;
	size_t		end;

	if (tf->map == NULL)
		return;
	if (offset < tf->released)
		tf->released = 0;	/* a scan from the start again */
	if (offset - tf->released < READ_RELEASE_STEP)
		return;
	if (page == 0)
		page = (size_t)sysconf(_SC_PAGESIZE);
	end = offset - offset % page;
	(void)madvise((uint8_t *)tf->map + tf->released, end - tf->released,
	    MADV_DONTNEED);
	tf->released = end;
}

static int	read_next(struct trace_file *, struct trace_event *, char *);
static void	read_index_event(struct trace_info *,
		    const struct trace_event *);

/*
 * Streaming: count an event into its trace's facts as it is handed out.
 * At the end, a file without a socket trace is an error; a failure in
 * the last record of a file with a zero tail (its writer died packing
 * it) is the file's cut, as read_load() makes it when indexing.
 */
static int
read_stream_step(struct trace_file *tf, struct trace_event *ev, int r,
    char *errbuf)
{
	size_t	full = tf->size + tf->ignored;

	if (r == 1) {
		read_index_event(&tf->traces[ev->trace], ev);
		return (1);
	}
	if (r == -1 && tf->damage != TRACE_WHOLE && tf->failed_at >= tf->last &&
	    tf->buf[full - 1] == 0) {
		tf->size = tf->last;
		tf->ignored = full - tf->last;
		tf->damage = TRACE_CUT;
		tf->depth = 0;
		r = 0;
	}
	if (r == 0 && tf->seen == 0 && tf->nhttp == 0)
		return (read_fail(tf, errbuf, 0, "no socket trace in file"));
	return (r);
}

/*
 * Hand out the next event. Events without a timestamp take the previous
 * event's. Returns 1, 0 at the end, or -1 with errbuf filled in; once
 * the file shrank under the reader, whatever was read over the zeros
 * (an event, damage, the end) is that error instead.
 */
int
trace_next(struct trace_file *tf, struct trace_event *ev, char *errbuf)
{
	int	r;

	r = read_next(tf, ev, errbuf);
	if (read_shrunk(tf))
		return (read_fail(tf, errbuf, trace_position(tf), "the file "
		    "shrank while it was read (another process cut it short): "
		    "what follows is gone"));
	if (tf->streaming)
		r = read_stream_step(tf, ev, r, errbuf);
	return (r);
}

/* trace_next(), but for the SIGBUS guard's verdict. */
static int
read_next(struct trace_file *tf, struct trace_event *ev, char *errbuf)
{
	struct wire_field	 f;
	struct decode_err	 e;
	struct trace_conn	 scratch;
	struct trace_info	*t;
	size_t			 trace = 0;
	int			 r, has_conn;

again:
	has_conn = 0;
	r = read_walk(tf, &f, &trace, errbuf);
	if (r != 1)
		return (r);
	t = &tf->traces[trace];
	scratch = t->conn;
	if (decode_event(tf->buf, f.data, f.len, ev, &scratch, &has_conn,
	    tf->format == TRACE_FORMAT_V2ALPHA ? DECODE_V2ALPHA : 0,
	    &e) == -1)
		return (read_fail(tf, errbuf, e.offset, "%s", e.msg));
	if (tf->indexing && has_conn) {
		t->conn = scratch;
		t->has_conn = 1;
	}
	/*
	 * An event that only carries Connection metadata (libtapshim's
	 * later pieces of a streamed trace: connect time, TLS, statistics)
	 * is merged, not handed out: it happened to nobody.
	 */
	if (has_conn && ev->kind == TRACE_EV_OTHER)
		goto again;
	ev->trace = trace;
	read_release(tf, ev->offset);
	if (ev->has_time) {
		tf->has_last = 1;
		tf->last_sec = ev->sec;
		tf->last_nsec = ev->nsec;
	} else if (tf->has_last) {
		ev->sec = tf->last_sec;
		ev->nsec = tf->last_nsec;
	}
	return (1);
}

/*
 * Envoy numbers a streamed trace's events (seq_num) to show lost ones: a
 * number that is not the last one plus one is a gap. Only forward jumps
 * count; a repeat or a step back (two files joined) is not a loss.
 */
static void
read_index_seq(struct trace_info *t, const struct trace_event *ev)
{
	if (!ev->has_seq)
		return;
	if (t->has_seq && ev->seq > t->last_seq + 1) {
		if (t->seq_gaps++ == 0) {
			t->seq_gap_after = t->last_seq;
			t->seq_gap_sec = ev->sec;
			t->seq_gap_nsec = ev->nsec;
		}
		t->seq_missing += ev->seq - t->last_seq - 1;
	}
	t->has_seq = 1;
	t->last_seq = ev->seq;
}

/* Count an event into its trace's facts: events, bytes, time span. */
static void
read_index_event(struct trace_info *t, const struct trace_event *ev)
{
	read_index_seq(t, ev);
	if (t->spoke_first == 0 && ev->len > 0 &&
	    (ev->kind == TRACE_EV_READ || ev->kind == TRACE_EV_WRITE))
		t->spoke_first = ev->kind == TRACE_EV_WRITE ? 1 : -1;
	if ((ev->kind == TRACE_EV_READ || ev->kind == TRACE_EV_WRITE) &&
	    t->headlen[ev->kind == TRACE_EV_WRITE] == 0 && ev->caplen > 0) {
		int	w = ev->kind == TRACE_EV_WRITE;

		t->headlen[w] = (uint8_t)(ev->caplen < sizeof t->head[w] ?
		    ev->caplen : sizeof t->head[w]);
		memcpy(t->head[w], ev->data, t->headlen[w]);
	}
	t->nevents++;
	t->closed |= ev->kind == TRACE_EV_CLOSED;
	if (ev->caplen < ev->len)
		t->cut_known++;
	else if (ev->truncated)
		t->cut_unknown++;
	t->bytes += ev->caplen;
	if (ev->kind == TRACE_EV_CLOSED) {
		t->closed = 1;
		t->ending = ev->ending;
		memcpy(t->cut_reason, ev->cut_reason, sizeof t->cut_reason);
	}
	if (!ev->has_time) {
		t->untimed++;
		return;
	}
	if (t->has_time && (ev->sec < t->last_sec || (ev->sec ==
	    t->last_sec && ev->nsec < t->last_nsec)))
		t->backwards++;
	if (!t->has_time || ev->sec < t->first_sec || (ev->sec ==
	    t->first_sec && ev->nsec < t->first_nsec)) {
		t->first_sec = ev->sec;
		t->first_nsec = ev->nsec;
	}
	if (!t->has_time || ev->sec > t->last_sec || (ev->sec ==
	    t->last_sec && ev->nsec > t->last_nsec)) {
		t->last_sec = ev->sec;
		t->last_nsec = ev->nsec;
	}
	t->has_time = 1;
}

/* Walk the whole file once: validate it and gather each trace's facts. */
static int
read_index(struct trace_file *tf, char *errbuf)
{
	struct trace_event	ev;
	int			r;

	tf->indexing = 1;
	trace_rewind(tf);
	while ((r = trace_next(tf, &ev, errbuf)) == 1)
		read_index_event(&tf->traces[ev.trace], &ev);
	tf->indexing = 0;
	trace_rewind(tf);
	if (r < 0)
		return (-1);
	if (tf->ntraces == 0 && tf->nhttp == 0)
		return (read_fail(tf, errbuf, 0, "no socket trace in file"));
	return (0);
}

/*
 * Detect and index the file. A file with a zero tail whose last record
 * is damaged inside was being packed when its writer died: it is read
 * as cut before that record.
 */
static int
read_load(struct trace_file *tf, char *errbuf)
{
	size_t	full;

	if (read_detect(tf, errbuf) == 0 && read_index(tf, errbuf) == 0)
		return (0);
	full = tf->size + tf->ignored;
	if (tf->damage == TRACE_WHOLE || tf->failed_at < tf->last ||
	    tf->buf[full - 1] != 0)
		return (-1);
	tf->size = tf->last;
	tf->ignored = full - tf->last;
	tf->damage = TRACE_CUT;
	tf->ntraces = tf->nhttp = 0;
	tf->nids = 0;
	free(tf->ids);
	tf->ids = NULL;
	tf->binbuf = -1;
	if (tf->size == 0)
		return (read_fail(tf, errbuf, 0, "no whole record before the "
		    "cut"));
	return (read_detect(tf, errbuf) == 0 && read_index(tf, errbuf) == 0 ?
	    0 : -1);
}

/* Set up a trace_file over buf, which the caller keeps alive. */
static struct trace_file *
read_setup(const char *name, const void *buf, size_t size, char *errbuf)
{
	struct trace_file	*tf;

	if ((tf = calloc(1, sizeof *tf)) == NULL ||
	    (tf->name = strdup(name)) == NULL) {
		free(tf);
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: out of memory", name);
		return (NULL);
	}
	tf->buf = buf;
	tf->size = size;
	tf->binbuf = -1;
	return (tf);
}

/* Open a trace held in memory (tests, fuzzing). */
struct trace_file *
trace_open_mem(const char *name, const void *buf, size_t size, char *errbuf)
{
	struct trace_file	*tf;

	if ((tf = read_setup(name, buf, size, errbuf)) == NULL)
		return (NULL);
	if (read_load(tf, errbuf) == -1) {
		trace_close(tf);
		return (NULL);
	}
	return (tf);
}

/*
 * Make tf a streaming reader (trace_open_stream()): the format found, no
 * index; NULL (tf closed) with errbuf set on failure.
 */
static struct trace_file *
read_stream_start(struct trace_file *tf, char *errbuf)
{
	size_t	full;
	int	r;

	tf->streaming = 1;
	tf->indexing = 1;
	read_scanning = tf;
	r = read_detect(tf, errbuf);
	/*
	 * A format that fails only in the last record of a file with a zero
	 * tail is the file's cut, as read_load() makes it when indexing.
	 */
	full = tf->size + tf->ignored;
	if (r == -1 && tf->damage != TRACE_WHOLE && tf->failed_at >= tf->last &&
	    full > 0 && tf->buf[full - 1] == 0) {
		tf->size = tf->last;
		tf->ignored = full - tf->last;
		tf->damage = TRACE_CUT;
		r = tf->size == 0 ? read_fail(tf, errbuf, 0, "no whole record "
		    "before the cut") : read_detect(tf, errbuf);
	}
	read_scanning = NULL;
	if (r == -1) {
		trace_close(tf);
		return (NULL);
	}
	trace_rewind(tf);
	return (tf);
}

/* trace_open_stream() over bytes in memory (name only for messages). */
struct trace_file *
trace_open_mem_stream(const char *name, const void *buf, size_t size,
    char *errbuf)
{
	struct trace_file	*tf;

	if ((tf = read_setup(name, buf, size, errbuf)) == NULL)
		return (NULL);
	return (read_stream_start(tf, errbuf));
}

/* Read all of a pipe or other unmappable file into memory. */
static void *
read_slurp(int fd, size_t *size)
{
	uint8_t	*buf = NULL, *nbuf;
	size_t	 cap = 0, n = 0;
	ssize_t	 r;

	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				errno = ENOMEM;
				return (NULL);
			}
			buf = nbuf;
		}
		r = read(fd, buf + n, cap - n);
		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return (NULL);
		}
		n += (size_t)r;
	}
	*size = n;
	return (buf);
}

/*
 * Open a trace file ("-" is standard input): map it, detect its format
 * and index it. On failure errbuf says "FILE: what is wrong".
 */
static struct trace_file	*read_open(const char *, int, char *);

struct trace_file *
trace_open(const char *path, char *errbuf)
{
	return (read_open(path, 0, errbuf));
}

/*
 * Open a trace file to read once, in order, with memory that follows the
 * traces open at once rather than all of them: no index is made, so
 * trace_count() and trace_info() know only the traces met so far (the
 * facts of each complete when its last event is handed out), new ones
 * are announced by trace_born(), and a trace the caller is done with is
 * let go with trace_forget(). Damage inside is found when it is reached.
 */
struct trace_file *
trace_open_stream(const char *path, char *errbuf)
{
	return (read_open(path, 1, errbuf));
}

/* A new trace met since the last call: 1 with its slot, or 0. */
int
trace_born(struct trace_file *tf, size_t *slot)
{
	if (tf->bornat == tf->nborn)
		return (0);
	*slot = tf->born[tf->bornat++];
	return (1);
}

/*
 * The caller is done with the trace in slot (streaming only): its slot
 * is used again; an event of the same id met later starts a new trace.
 */
void
trace_forget(struct trace_file *tf, size_t slot)
{
	size_t	*n, cap;

	if (!tf->streaming || slot >= tf->ntraces)
		return;
	if (tf->binbuf == (int)slot)
		tf->binbuf = -1;
	else
		read_id_remove(tf, tf->traces[slot].trace_id);
	if (tf->nfreed == tf->freedcap) {
		cap = tf->freedcap ? tf->freedcap * 2 : 16;
		if ((n = reallocarray(tf->freed, cap, sizeof *n)) == NULL)
			return;		/* not used again: only memory */
		tf->freed = n;
		tf->freedcap = cap;
	}
	tf->freed[tf->nfreed++] = slot;
}

/*
 * Is the trace in slot a .pb's buffered trace (or Envoy 1.7-1.9's bare
 * one), whose chunks merge in any order up to the end of the file?
 */
int
trace_merged(const struct trace_file *tf, size_t slot)
{
	return (tf->binbuf >= 0 && (size_t)tf->binbuf == slot);
}

static struct trace_file *
read_open(const char *path, int stream, char *errbuf)
{
	struct trace_file	*tf;
	struct stat		 st;
	void			*map = NULL, *owned = NULL;
	size_t			 size = 0;
	int			 fd;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	    open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		size = (size_t)st.st_size;
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			goto fail;
		(void)madvise(map, size, MADV_SEQUENTIAL);
	} else if ((owned = read_slurp(fd, &size)) == NULL)
		goto fail;
	if (fd != STDIN_FILENO)
		close(fd);
	tf = read_setup(strcmp(path, "-") == 0 ? "(stdin)" : path,
	    map != NULL ? map : owned, size, errbuf);
	if (tf == NULL) {
		if (map != NULL)
			munmap(map, size);
		free(owned);
		return (NULL);
	}
	tf->map = map;
	tf->owned = owned;
	if (map != NULL && read_guard_add(tf) == -1) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: %s", tf->name,
		    strerror(errno));
		trace_close(tf);
		return (NULL);
	}
	if (stream)
		return (read_stream_start(tf, errbuf));
	if (read_load(tf, errbuf) == -1) {
		if (read_shrunk(tf))
			read_fail(tf, errbuf, 0, "the file shrank while it was "
			    "read (another process cut it short)");
		trace_close(tf);
		return (NULL);
	}
	return (tf);

fail:
	snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
	if (fd != -1 && fd != STDIN_FILENO)
		close(fd);
	return (NULL);
}

/*
 * Was the file read short of its end? TRACE_CUT: a record cut short (a
 * kill, a full disk, a file still being written); TRACE_UNFINISHED: a
 * zero tail (the shim's writer died before closing it). *offset is
 * where the whole records end, *ignored how many bytes follow.
 */
enum trace_damage
trace_damage(const struct trace_file *tf, size_t *offset, size_t *ignored)
{
	*offset = tf->size;
	*ignored = tf->ignored;
	return (tf->damage);
}

/* The notice for a file read short of its end, into buf (size n). */
void
trace_damage_text(const struct trace_file *tf, char *buf, size_t n)
{
	if (tf->damage == TRACE_UNFINISHED)
		snprintf(buf, n, "%s: offset %zu: not finished (the writer "
		    "did not close it); %zu zero bytes ignored", tf->name,
		    tf->size, tf->ignored);
	else if (tf->damage == TRACE_CUT)
		snprintf(buf, n, "%s: offset %zu: cut short; %zu bytes after "
		    "it ignored", tf->name, tf->size, tf->ignored);
	else if (n > 0)
		buf[0] = '\0';
}

/* Release a trace_file and its mapping. */
void
trace_close(struct trace_file *tf)
{
	if (tf == NULL)
		return;
	if (tf->map != NULL) {
		read_guard_remove(tf);
		munmap(tf->map, tf->size + tf->ignored);
	}
	free(tf->owned);
	free(tf->traces);
	free(tf->ids);
	free(tf->freed);
	free(tf->born);
	free(tf->name);
	free(tf);
}

const char *
trace_name(const struct trace_file *tf)
{
	return (tf->name);
}

enum trace_format
trace_format(const struct trace_file *tf)
{
	return (tf->format);
}

size_t
trace_count(const struct trace_file *tf)
{
	return (tf->ntraces);
}

const struct trace_info *
trace_info(const struct trace_file *tf, size_t i)
{
	return (i < tf->ntraces ? &tf->traces[i] : NULL);
}

/* How many HTTP traces (which tap2pcap cannot show) the file holds. */
size_t
trace_http_count(const struct trace_file *tf)
{
	return (tf->nhttp);
}

size_t
trace_size(const struct trace_file *tf)
{
	return (tf->size);
}

/* How far the walk has come, in bytes, for progress reports. */
size_t
trace_position(const struct trace_file *tf)
{
	return (tf->depth > 0 ? tf->stack[0].pos : tf->size);
}

const char *
trace_format_name(enum trace_format fmt)
{
	if (fmt == TRACE_FORMAT_V2ALPHA)
		return ("PROTO_BINARY (Envoy 1.7-1.9's v2alpha Trace)");
	return (fmt == TRACE_FORMAT_DELIMITED ?
	    "PROTO_BINARY_LENGTH_DELIMITED" : "PROTO_BINARY");
}
