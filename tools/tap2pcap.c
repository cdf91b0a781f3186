/* tap2pcap: turn socket tap traces into a capture Wireshark reads. */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ends.h"
#include "pcap-out.h"
#include "synth.h"
#include "trace-read.h"

/* One input file: its reader, its streams, and the event it holds next. */
struct input {
	struct trace_file	*tf;
	struct synth_stream	*streams;
	size_t			*left;		/* events still to come, per trace */
	char			*hidden;	/* the other end is shown instead */
	struct trace_event	 ev;
	int			 has_ev;
};

/* The streams whose packets have begun and not yet ended. */
struct live {
	struct synth_stream	**s;
	size_t			  n;
	size_t			  cap;
	uint16_t		  next_port;	/* for a stream moved aside */
};

struct options {
	const char	*out;
	int		 envoy_form;	/* tap2pcap TRACE OUT */
	int		 link;
	size_t		 mss;
	int		 mss_set;
	int		 both_ends;
	int		 quiet;
};

static void	usage(FILE *);
static void	notice(const struct options *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static const char	*progname = "tap2pcap";

/* Print the usage message. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [options] -w OUT.pcap TRACE...\n"
	    "       %s [options] TRACE OUT.pcap\n"
	    "Convert socket tap traces (.pb, .pb_length_delimited) into one\n"
	    "capture, packets of all traces merged by time.\n"
	    "\n"
	    "  -w, --write FILE      write the capture to FILE (- for stdout)\n"
	    "  -y, --linktype TYPE   ether (default) or raw (bare IP packets)\n"
	    "  -s, --mss BYTES       TCP payload per segment (default %d,\n"
	    "                        at most %d)\n"
	    "  -B, --both-ends       when both ends of a connection were\n"
	    "                        traced, show both (default: once)\n"
	    "  -q, --quiet           no notices or summary on stderr\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 when an input or the output fails,\n"
	    "2 for a usage error. See tap2pcap(1).\n",
	    progname, progname, SYNTH_MSS_DEFAULT, SYNTH_MSS_MAX);
}

/* A notice on stderr, unless -q. */
static void
notice(const struct options *o, const char *fmt, ...)
{
	va_list	ap;

	if (o->quiet)
		return;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Remove the half-written capture, then die of the signal. */
static void
on_signal(int sig)
{
	const char	*tmp = pcap_out_tmpname();

	if (tmp[0] != '\0')
		unlink(tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Clean up on the signals that kill; ones the parent ignored stay ignored. */
static void
catch_signals(void)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE,
				    SIGXFSZ };
	struct sigaction	 sa, old;
	size_t			 i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

/* Parse the command line; exits on --help, --version and usage errors. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "linktype", required_argument, NULL, 'y' },
		{ "mss", required_argument, NULL, 's' },
		{ "both-ends", no_argument, NULL, 'B' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char		*end;
	unsigned long	 v;
	int		 c;

	o->link = FRAME_LINK_ETHER;
	o->mss = SYNTH_MSS_DEFAULT;
	argv[0] = (char *)progname;	/* getopt's messages name it */
	while ((c = getopt_long(argc, argv, "w:y:s:BqhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'w':
			o->out = optarg;
			break;
		case 'y':
			if (strcasecmp(optarg, "ether") == 0 ||
			    strcasecmp(optarg, "en10mb") == 0)
				o->link = FRAME_LINK_ETHER;
			else if (strcasecmp(optarg, "raw") == 0)
				o->link = FRAME_LINK_RAW;
			else {
				fprintf(stderr, "%s: unknown link type '%s' "
				    "(ether or raw)\n", progname, optarg);
				exit(2);
			}
			break;
		case 's':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end != '\0' || v < 1 ||
			    v > SYNTH_MSS_MAX || optarg[0] == '-') {
				fprintf(stderr, "%s: --mss must be a number "
				    "from 1 to %d\n", progname, SYNTH_MSS_MAX);
				exit(2);
			}
			o->mss = v;
			o->mss_set = 1;
			break;
		case 'B':
			o->both_ends = 1;
			break;
		case 'q':
			o->quiet = 1;
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
	/* Envoy's form: tap2pcap TRACE OUT.pcap. */
	if (o->out == NULL && argc - optind == 2) {
		o->out = argv[argc - 1];
		o->envoy_form = 1;
		argc--;
	}
	if (o->out == NULL || argc - optind < 1) {
		usage(stderr);
		exit(2);
	}
	return (argc);
}

/* Say, once, what a reader of the capture should know about a trace. */
static void
describe(const struct options *o, const struct input *in, size_t i)
{
	const struct trace_info		*t = trace_info(in->tf, i);
	const struct synth_stream	*s = &in->streams[i];
	const char			*name = trace_name(in->tf);
	const char			*path = t->conn.local.path[0] != '\0' ?
					    t->conn.local.path :
					    t->conn.remote.path;
	char				 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int				 unix_socket;

	unix_socket = t->conn.local.family == AF_UNIX ||
	    t->conn.remote.family == AF_UNIX;
	if (t->nevents == 0)
		notice(o, "%s: trace %llu has no events; nothing to show", name,
		    (unsigned long long)t->trace_id);
	else if (s->mapped) {
		inet_ntop(AF_INET, s->side[0].ep.ip, a, sizeof a);
		inet_ntop(AF_INET, s->side[1].ep.ip, b, sizeof b);
		notice(o, "%s: trace %llu: %s%s%s shown as %s:%u -> %s:%u", name,
		    (unsigned long long)t->trace_id, unix_socket ?
		    "AF_UNIX socket" : "connection without IP addresses",
		    path[0] != '\0' ? " " : "", path, a, s->side[0].ep.port, b,
		    s->side[1].ep.port);
	}
	if (t->conn.error[0] != '\0')
		notice(o, "%s: trace %llu: the connect failed: %s", name,
		    (unsigned long long)t->trace_id, t->conn.error);
	if (t->read_truncated || t->write_truncated)
		notice(o, "%s: trace %llu was truncated by the tracer (%s); "
		    "cut packets are marked", name,
		    (unsigned long long)t->trace_id, t->read_truncated &&
		    t->write_truncated ? "both directions" : t->read_truncated ?
		    "reads" : "writes");
}

/* Open one input and prepare a stream for each trace in it. */
static int
open_input(const struct options *o, struct input *in, const char *path,
    unsigned int ordinal, unsigned int *mapped)
{
	const struct trace_info	*t;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	uint64_t		 seed;
	size_t			 i, n;

	if ((in->tf = trace_open(path, errbuf)) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, errbuf);
		return (-1);
	}
	n = trace_count(in->tf);
	if (trace_http_count(in->tf) > 0)
		notice(o, "%s: %zu HTTP trace(s) skipped: only socket traces "
		    "become packets", path, trace_http_count(in->tf));
	if ((in->streams = calloc(n ? n : 1, sizeof *in->streams)) == NULL ||
	    (in->left = calloc(n ? n : 1, sizeof *in->left)) == NULL ||
	    (in->hidden = calloc(n ? n : 1, 1)) == NULL) {
		fprintf(stderr, "%s: %s: out of memory\n", progname, path);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		t = trace_info(in->tf, i);
		/* The ISNs follow from the trace, its place, and nothing else. */
		seed = synth_hash(0, &ordinal, sizeof ordinal);
		seed = synth_hash(seed, &i, sizeof i);
		seed = synth_hash(seed, t, sizeof *t);
		synth_stream_init(&in->streams[i], t, seed, *mapped);
		in->left[i] = t->nevents;
		if (in->streams[i].mapped)
			(*mapped)++;
		describe(o, in, i);
	}
	return (0);
}

/*
 * In Envoy's form, is OUT really a second trace (-w forgotten)? Writing
 * the capture over it would destroy it.
 */
static int
check_envoy_form(const struct options *o)
{
	struct trace_file	*tf;
	struct stat		 st;
	char			 errbuf[TRACE_ERRBUF_SIZE];

	if (!o->envoy_form || stat(o->out, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (tf = trace_open(o->out, errbuf)) == NULL)
		return (0);
	trace_close(tf);
	fprintf(stderr, "%s: %s: is a trace; to convert several traces use "
	    "-w OUT.pcap TRACE...\n", progname, o->out);
	return (-1);
}

/* Refuse to write the capture over one of the traces. */
static int
check_output(const char *out, char **inputs, int n)
{
	struct stat	so, si;
	int		i;

	if (strcmp(out, "-") == 0 || stat(out, &so) == -1)
		return (0);
	for (i = 0; i < n; i++) {
		if (stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev &&
		    si.st_ino == so.st_ino) {
			fprintf(stderr, "%s: %s: the output is also an input\n",
			    progname, out);
			return (-1);
		}
	}
	return (0);
}

/* Is input a's next event due before input b's? */
static int
earlier(const struct input *in, unsigned int a, unsigned int b)
{
	const struct trace_event	*x = &in[a].ev, *y = &in[b].ev;

	if (x->sec != y->sec)
		return (x->sec < y->sec);
	if (x->nsec != y->nsec)
		return (x->nsec < y->nsec);
	return (a < b);
}

/* Restore the min-heap below slot i. */
static void
heap_down(unsigned int *heap, unsigned int n, unsigned int i,
    const struct input *in)
{
	unsigned int	c, tmp;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && earlier(in, heap[c + 1], heap[c]))
			c++;
		if (!earlier(in, heap[c], heap[i]))
			return;
		tmp = heap[i];
		heap[i] = heap[c];
		heap[c] = tmp;
		i = c;
	}
}

/* Load input i's next event; 0 when it has none left, -1 on damage. */
static int
advance(struct input *in)
{
	char	errbuf[TRACE_ERRBUF_SIZE];
	int	r;

	r = trace_next(in->tf, &in->ev, errbuf);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", progname, errbuf);
	in->has_ev = r == 1;
	return (r);
}

static int
emit(void *arg, int64_t sec, uint32_t nsec, const uint8_t *frame,
    size_t caplen, size_t len)
{
	return (pcap_out_write(arg, sec, nsec, frame, caplen, len));
}

/* Do two streams have the same addresses and ports, either way round? */
static int
same_tuple(const struct synth_stream *a, const struct synth_stream *b)
{
	const struct frame_ep	*a0 = &a->side[0].ep, *a1 = &a->side[1].ep;
	const struct frame_ep	*b0 = &b->side[0].ep, *b1 = &b->side[1].ep;

	if (a0->family != b0->family || a->udp != b->udp)
		return (0);
#define EP_EQ(x, y) ((x)->port == (y)->port && memcmp((x)->ip, (y)->ip, 16) == 0)
	return ((EP_EQ(a0, b0) && EP_EQ(a1, b1)) ||
	    (EP_EQ(a0, b1) && EP_EQ(a1, b0)));
#undef EP_EQ
}

/* Is a stream with the same 4-tuple as s live? */
static int
live_clash(const struct live *lv, const struct synth_stream *s)
{
	size_t	i;

	for (i = 0; i < lv->n; i++) {
		if (same_tuple(lv->s[i], s))
			return (1);
	}
	return (0);
}

/*
 * A stream starts. Two traces of one address pair must never merge into
 * one stream: if a stream with the same 4-tuple is still live (the same
 * trace given twice, two network namespaces), show this one's client on
 * another port.
 */
static int
live_start(const struct options *o, struct live *lv, struct input *in,
    size_t trace)
{
	struct synth_stream	*s = &in->streams[trace], **ns;
	uint16_t		 was = s->side[0].ep.port;

	while (live_clash(lv, s)) {
		if (lv->next_port < 49152)
			lv->next_port = 49152;	/* IANA's dynamic ports */
		s->side[0].ep.port = lv->next_port++;
	}
	if (s->side[0].ep.port != was)
		notice(o, "%s: trace %llu: its addresses are those of a "
		    "connection still open in the capture; client port %u "
		    "shown as %u", trace_name(in->tf),
		    (unsigned long long)trace_info(in->tf, trace)->trace_id, was,
		    s->side[0].ep.port);
	if (lv->n == lv->cap) {
		lv->cap = lv->cap ? 2 * lv->cap : 64;
		if ((ns = realloc(lv->s, lv->cap * sizeof *ns)) == NULL)
			return (-1);
		lv->s = ns;
	}
	lv->s[lv->n++] = s;
	return (0);
}

/* A stream has had its last event. */
static void
live_end(struct live *lv, const struct synth_stream *s)
{
	size_t	i;

	for (i = 0; i < lv->n; i++) {
		if (lv->s[i] == s) {
			lv->s[i] = lv->s[--lv->n];
			return;
		}
	}
}

/* Synthesize the packets of input in's current event. */
static int
convert_event(const struct options *o, struct live *lv, struct input *in,
    struct synth *sy)
{
	size_t			 t = in->ev.trace;
	struct synth_stream	*s = &in->streams[t];

	if (in->hidden[t])
		return (0);
	if (in->left[t] == trace_info(in->tf, t)->nevents && live_start(o, lv, in, t) == -1) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return (-1);
	}
	if (synth_event(sy, s, &in->ev) == -1)
		return (-1);
	if (--in->left[t] == 0)
		live_end(lv, s);
	return (0);
}

/* Merge every input's events by time and synthesize their packets. */
static int
convert(const struct options *o, struct input *in, unsigned int n,
    struct synth *sy)
{
	struct live	 lv;
	unsigned int	*heap, hn = 0, i, top;
	int		 rc = -1;

	memset(&lv, 0, sizeof lv);
	if ((heap = calloc(n, sizeof *heap)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		if (advance(&in[i]) == -1)
			goto out;
		if (in[i].has_ev)
			heap[hn++] = i;
	}
	for (i = hn / 2; i-- > 0;)
		heap_down(heap, hn, i, in);
	while (hn > 0) {
		top = heap[0];
		if (convert_event(o, &lv, &in[top], sy) == -1 ||
		    advance(&in[top]) == -1)
			goto out;
		if (!in[top].has_ev)
			heap[0] = heap[--hn];
		heap_down(heap, hn, 0, in);
	}
	rc = 0;
out:
	free(lv.s);
	free(heap);
	return (rc);
}

/*
 * Both ends of one connection traced (a client and a server on one
 * machine): show it once, from the end that kept more, unless -B.
 */
static int
hide_other_ends(const struct options *o, struct input *in, unsigned int n)
{
	struct end_ref	*r;
	size_t		 total = 0, k = 0, j;
	unsigned int	 i;

	for (i = 0; i < n; i++)
		total += trace_count(in[i].tf);
	if (o->both_ends || total < 2)
		return (0);
	if ((r = calloc(total, sizeof *r)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			r[k].t = trace_info(in[i].tf, j);
			r[k].input = i;
			r[k++].trace = j;
		}
	}
	ends_pair(r, total);
	for (k = 0; k < total; k++) {
		if (!r[k].drop)
			continue;
		in[r[k].input].hidden[r[k].trace] = 1;
		notice(o, "%s: trace %llu is the other end of %s trace %llu: "
		    "shown once (-B shows both)", trace_name(in[r[k].input].tf),
		    (unsigned long long)r[k].t->trace_id,
		    trace_name(in[r[k].other->input].tf),
		    (unsigned long long)r[k].other->t->trace_id);
	}
	free(r);
	return (0);
}

int
main(int argc, char **argv)
{
	struct options	 o;
	struct input	*in;
	struct pcap_out	 out;
	struct synth	 sy;
	char		 errbuf[PCAP_ERRBUF_SIZE];
	unsigned int	 n, i, mapped = 0;
	int		 rc = 1;

	memset(&o, 0, sizeof o);
	argc = parse_args(argc, argv, &o);
	n = (unsigned int)(argc - optind);
	if (check_output(o.out, argv + optind, (int)n) == -1)
		return (1);
	if (check_envoy_form(&o) == -1)
		return (2);
	if ((in = calloc(n, sizeof *in)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return (1);
	}
	for (i = 0; i < n; i++) {
		if (open_input(&o, &in[i], argv[optind + i], i, &mapped) == -1)
			goto done;
	}
	if (hide_other_ends(&o, in, n) == -1)
		goto done;
	catch_signals();
	if (pcap_out_open(&out, o.out, o.link, errbuf) == -1) {
		fprintf(stderr, "%s: %s\n", progname, errbuf);
		goto done;
	}
	if (synth_init(&sy, o.link, o.mss, emit, &out) == -1) {
		fprintf(stderr, "%s: out of memory\n", progname);
		pcap_out_abort(&out);
		goto done;
	}
	if (!o.mss_set)
		sy.mss6 = SYNTH_MSS_DEFAULT6;
	if (convert(&o, in, n, &sy) == -1) {
		if (out.f != NULL && ferror(out.f))
			fprintf(stderr, "%s: %s: write error: %s\n", progname,
			    o.out, strerror(errno));
		pcap_out_abort(&out);
	} else if (pcap_out_finish(&out, errbuf) == -1)
		fprintf(stderr, "%s: %s\n", progname, errbuf);
	else {
		if (strcmp(o.out, "-") != 0)
			notice(&o, "%s: %llu packets from %u file(s)", o.out,
			    (unsigned long long)sy.frames, n);
		rc = 0;
	}
	synth_free(&sy);
done:
	for (i = 0; i < n; i++) {
		trace_close(in[i].tf);
		free(in[i].streams);
		free(in[i].left);
		free(in[i].hidden);
	}
	free(in);
	return (rc);
}
