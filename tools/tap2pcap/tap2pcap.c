/* tap2pcap: turn socket tap traces into a capture Wireshark reads. */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "msg.h"
#include "outfile.h"
#include "pcap-out.h"
#include "pcapng-out.h"
#include "synth.h"
#include "tapfollow.h"
#include "trace-read.h"

struct options {
	struct convert	c;
	int		envoy_form;	/* tap2pcap TRACE OUT */
	int		follow;		/* --follow */
	unsigned int	seconds;	/* -G */
};

static void	usage(FILE *);

/* Long options without a short form. */
#define OPT_DECODE_AS	256
#define OPT_MODE	257
#define OPT_STARTTLS_OMIT	258
#define OPT_STRICT	259
#define OPT_FORMAT	260
#define OPT_KEYLOG	261
#define OPT_FOLLOW	262


/* Print the usage message. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [options] -w OUT.pcap TRACE... [EXPRESSION]\n"
	    "       %s [options] --follow -w OUT.pcap TRACE...|PREFIX...\n"
	    "       %s [options] TRACE OUT.pcap\n"
	    "Convert socket tap traces (.pb, .pb_length_delimited) into one\n"
	    "capture, packets of all traces merged by time; with a\n"
	    "pcap-filter(7) EXPRESSION, only the connections whose first\n"
	    "packet matches it.\n"
	    "\n"
	    "  -w, --write FILE      write the capture to FILE (- for stdout)\n"
	    "  -y, --linktype TYPE   ether (default) or raw (bare IP packets)\n"
	    "  -s, --mss BYTES       TCP payload per segment (default %d,\n"
	    "                        at most %d)\n"
	    "  -C, --file-size MB    start a new file (OUT1, OUT2, ...) before\n"
	    "                        one grows past MB million bytes\n"
	    "  -W, --file-count N    with -C: keep N files, OUT0 ... reused\n"
	    "                        in turn (a ring, as tcpdump -W); with\n"
	    "                        --follow and -G, keep the last N\n"
	    "      --follow          follow traces still being written (and a\n"
	    "                        PREFIX's new files: an operand with a /\n"
	    "                        that is no file) until SIGINT or SIGTERM;\n"
	    "                        SIGUSR1 starts a new file\n"
	    "  -G, --rotate-seconds N  with --follow: a new file every N\n"
	    "                        seconds, OUT's name through strftime(3)\n"
	    "      --progress        show a progress bar (default on a\n"
	    "      --no-progress     terminal, unless -q)\n"
	    "  -B, --both-ends       when both ends of a connection were\n"
	    "                        traced, show both (default: once)\n"
	    "  -q, --quiet           no notices or summary on stderr\n"
	    "      --strict          a trace cut short or not finished (its\n"
	    "                        writer died) is an error, not a notice\n"
	    "      --decode-as FILE  write Wireshark decode_as_entries lines\n"
	    "                        for the ports of TLS plaintext to FILE\n"
	    "      --mode MODE       create the capture and FILE with\n"
	    "                        permissions MODE, octal (default 0600)\n"
	    "      --starttls-omit   leave out a TLS plaintext trace's STARTTLS\n"
	    "                        negotiation in the clear (PostgreSQL,\n"
	    "                        MySQL), so its dissector decodes the rest\n"
	    "      --format FORMAT   pcap, or pcapng: processes as interfaces,\n"
	    "                        packet comments, names, statistics\n"
	    "                        (default: pcapng for a .pcapng name)\n"
	    "      --keylog FILE     pcapng: embed this TLS key log\n"
	    "                        (SSLKEYLOGFILE) for Wireshark to decrypt\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 when an input or the output fails,\n"
	    "2 for a usage error. See tap2pcap(1).\n",
	    msg_prog, msg_prog, msg_prog, SYNTH_MSS_DEFAULT, SYNTH_MSS_MAX);
}


/* A number from min to max for option opt, or exit 2 saying so. */
static unsigned long
parse_number(const char *opt, const char *arg, unsigned long min,
    unsigned long max)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end != '\0' || v < min || v > max || arg[0] == '-' ||
	    arg[0] == '\0') {
		msg_err("%s must be a number from %lu to %lu", opt, min, max);
		exit(2);
	}
	return (v);
}

/* The capture format named by --format's argument, or exit 2. */
static int
parse_format(const char *arg)
{
	if (strcmp(arg, "pcap") == 0)
		return (CONVERT_PCAP);
	if (strcmp(arg, "pcapng") == 0)
		return (CONVERT_PCAPNG);
	msg_err("unknown format '%s' (pcap or pcapng)", arg);
	exit(2);
}

/* The link type named by -y's argument, or exit 2. */
static int
parse_link(const char *arg)
{
	if (strcasecmp(arg, "ether") == 0 || strcasecmp(arg, "en10mb") == 0)
		return (FRAME_LINK_ETHER);
	if (strcasecmp(arg, "raw") == 0)
		return (FRAME_LINK_RAW);
	msg_err("unknown link type '%s' (ether or raw)", arg);
	exit(2);
}

/*
 * The arguments after the options: Envoy's TRACE OUT, or with -w the
 * traces, then the words of a filter expression, as tcpdump takes it:
 * the traces are the leading arguments that name files. Returns the
 * number of traces.
 */
static int
parse_operands(int argc, char **argv, struct options *o)
{
	struct stat	st;
	size_t		len = 0;
	int		n, i;

	if (o->c.out == NULL && argc - optind == 2) {
		o->c.out = argv[argc - 1];
		o->envoy_form = 1;
		return (1);
	}
	if (o->c.out == NULL || argc - optind < 1) {
		usage(stderr);
		exit(2);
	}
	for (n = 0; optind + n < argc && (stat(argv[optind + n], &st) == 0 ||
	    (o->follow && strchr(argv[optind + n], '/') != NULL));)
		n++;
	if (n == 0)
		n = 1;		/* not found: trace_open() will say so */
	for (i = optind + n; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len == 0)
		return (n);
	if ((o->c.expr = malloc(len)) == NULL) {
		msg_err("out of memory");
		exit(1);
	}
	o->c.expr[0] = '\0';
	for (i = optind + n; i < argc; i++) {
		strcat(o->c.expr, argv[i]);
		if (i + 1 < argc)
			strcat(o->c.expr, " ");
	}
	return (n);
}

/* Parse the command line; exits on --help, --version and usage errors. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "linktype", required_argument, NULL, 'y' },
		{ "mss", required_argument, NULL, 's' },
		{ "file-size", required_argument, NULL, 'C' },
		{ "file-count", required_argument, NULL, 'W' },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "rotate-seconds", required_argument, NULL, 'G' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'N' },
		{ "both-ends", no_argument, NULL, 'B' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "decode-as", required_argument, NULL, OPT_DECODE_AS },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "starttls-omit", no_argument, NULL, OPT_STARTTLS_OMIT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "keylog", required_argument, NULL, OPT_KEYLOG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char	errbuf[256];
	int	c;

	o->c.link = FRAME_LINK_ETHER;
	o->c.mss = SYNTH_MSS_DEFAULT;
	o->c.progress = -1;
	argv[0] = (char *)msg_prog;	/* getopt's messages name it */
	while ((c = getopt_long(argc, argv, "w:y:s:C:W:G:BqhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'w':
			o->c.out = optarg;
			break;
		case 'y':
			o->c.link = parse_link(optarg);
			break;
		case 's':
			o->c.mss = parse_number("--mss", optarg, 1,
			    SYNTH_MSS_MAX);
			o->c.mss_set = 1;
			break;
		case 'C':
			o->c.max_bytes = 1000000ULL * parse_number("-C",
			    optarg, 1, 1000000);
			break;
		case 'W':
			o->c.max_files = (unsigned int)parse_number("-W",
			    optarg, 1, 1000000);
			break;
		case 'G':
			o->seconds = (unsigned int)parse_number("-G", optarg,
			    1, 100000000);
			break;
		case OPT_FOLLOW:
			o->follow = 1;
			break;
		case 'P':
		case 'N':
			o->c.progress = c == 'P';
			break;
		case 'B':
			o->c.both_ends = 1;
			break;
		case 'q':
			o->c.quiet = 1;
			break;
		case OPT_STRICT:
			o->c.strict = 1;
			break;
		case OPT_DECODE_AS:
			o->c.decode_as = optarg;
			break;
		case OPT_MODE:
			if (outfile_set_mode(optarg, errbuf, sizeof errbuf) == -1) {
				msg_err("%s", errbuf);
				exit(2);
			}
			break;
		case OPT_STARTTLS_OMIT:
			o->c.starttls_omit = 1;
			break;
		case OPT_FORMAT:
			o->c.format = parse_format(optarg);
			break;
		case OPT_KEYLOG:
			o->c.keylog = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("%s (%s) %s\n", msg_prog, PACKAGE_NAME,
			    PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (o->seconds > 0 && !o->follow) {
		msg_err("-G needs --follow");
		exit(2);
	}
	if (o->c.max_files > 0 && o->c.max_bytes == 0 && o->seconds == 0) {
		msg_err("-W needs -C%s", o->follow ? " or -G" : "");
		exit(2);
	}
	if ((o->c.max_bytes > 0 || o->seconds > 0) && o->c.out != NULL &&
	    strcmp(o->c.out, "-") == 0) {
		msg_err("-%c needs a file name, not -", o->seconds ? 'G' : 'C');
		exit(2);
	}
	if (o->follow && o->c.out == NULL) {
		msg_err("--follow needs -w");
		exit(2);
	}
	c = parse_operands(argc, argv, o);
	if (o->c.keylog != NULL && (o->c.format == CONVERT_PCAP ||
	    (o->c.format == CONVERT_AUTO && !pcapng_is_name(o->c.out)))) {
		msg_err("--keylog needs pcapng (--format pcapng or a .pcapng "
		    "name)");
		exit(2);
	}
	return (c);
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

	if (!o->envoy_form || stat(o->c.out, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (tf = trace_open(o->c.out, errbuf)) == NULL)
		return (0);
	trace_close(tf);
	msg_err("%s: is a trace; to convert several traces use -w OUT.pcap "
	    "TRACE...", o->c.out);
	return (-1);
}

/* Refuse to write the capture over one of the traces. */
static int
check_output(const char *out, char *const *inputs, int n)
{
	if (!pcap_out_is_input(out, inputs, n))
		return (0);
	msg_err("%s: the output is also an input",
	    out);
	return (-1);
}

int
main(int argc, char **argv)
{
	struct options	o;
	unsigned int	n;
	int		rc;

	msg_init("tap2pcap");
	memset(&o, 0, sizeof o);
	n = (unsigned int)parse_args(argc, argv, &o);
	if (o.follow) {
		rc = tapfollow_run(&o.c, o.seconds, argv + optind, n);
		free(o.c.expr);
		return (rc);
	}
	if (check_output(o.c.out, argv + optind, (int)n) == -1)
		return (1);
	if (check_envoy_form(&o) == -1)
		return (2);
	rc = convert_run(&o.c, argv + optind, n);
	free(o.c.expr);
	return (rc);
}
