/* tapdump: what happened on each traced connection, as text or JSON. */

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "dump-req.h"
#include "msg.h"
#include "outfile.h"

/* The request views' options (tapdump --requests, --summary, --har). */
struct req_opts {
	int		 mode;		/* -1: the connection view */
	const char	*har;
	int		 show_secrets;
};

static struct req_opts	req_opts = { -1, NULL, 0 };

enum { OPT_REQUESTS = 256, OPT_SUMMARY, OPT_HAR, OPT_SECRETS };

/* Print the usage message. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [--json] [--events] [--dns-port PORT] [--strict] TRACE...\n"
	    "       %s --requests | --summary [--json] [--show-secrets] "
	    "TRACE...\n"
	    "       %s --har OUT.har [--show-secrets] TRACE...\n"
	    "Show what happened on each traced connection: addresses, role,\n"
	    "process, name resolution, connect time, bytes each way, DNS,\n"
	    "errors and close; every trace format tap2pcap reads.\n"
	    "\n"
	    "  -j, --json            JSON instead of text (fields: tapdump(1))\n"
	    "  -e, --events          every read, write and close, with times\n"
	    "  -d, --dns-port PORT   decode datagrams on PORT as DNS too\n"
	    "                        (port 53 always is)\n"
	    "      --requests        one line per HTTP request (HTTP/1.x, HTTP/2)\n"
	    "      --summary         requests per method and URL: count, status\n"
	    "                        classes, latency p50/p90/p99/max, bytes\n"
	    "      --har OUT.har     write the requests as HAR 1.2 to OUT.har\n"
	    "      --show-secrets    show Authorization, Cookie and Set-Cookie\n"
	    "                        values (default: [redacted])\n"
	    "      --strict          a trace cut short or not finished (its\n"
	    "                        writer died) is an error, not a notice\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 when an input cannot be read or\n"
	    "the output fails, 2 for a usage error. See tapdump(1).\n",
	    msg_prog, msg_prog, msg_prog);
}

/* Parse the options; returns the index of the first trace. */
static int
parse_args(int argc, char **argv, int *json, int *events, int *strict)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "events", no_argument, NULL, 'e' },
		{ "dns-port", required_argument, NULL, 'd' },
		{ "requests", no_argument, NULL, OPT_REQUESTS },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "har", required_argument, NULL, OPT_HAR },
		{ "show-secrets", no_argument, NULL, OPT_SECRETS },
		{ "strict", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char		*end;
	unsigned long	 v;
	int		 c;

	argv[0] = (char *)msg_prog;	/* getopt's messages name it */
	while ((c = getopt_long(argc, argv, "jed:hV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'e':
			*events = 1;
			break;
		case 'S':
			*strict = 1;
			break;
		case 'd':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end != '\0' || v < 1 || v > 65535 ||
			    optarg[0] == '-') {
				msg_err("--dns-port must be a port number "
				    "from 1 to 65535");
				exit(2);
			}
			dump_dns_port = (unsigned int)v;
			break;
		case OPT_REQUESTS:
			req_opts.mode = DUMP_REQ_TEXT;
			break;
		case OPT_SUMMARY:
			req_opts.mode = DUMP_REQ_SUMMARY;
			break;
		case OPT_HAR:
			req_opts.mode = DUMP_REQ_HAR;
			req_opts.har = optarg;
			break;
		case OPT_SECRETS:
			req_opts.show_secrets = 1;
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
	/* tapshim --har runs us for every run, one without traces too. */
	if (optind >= argc && req_opts.har == NULL) {
		msg_err("no trace given");
		usage(stderr);
		exit(2);
	}
	return (optind);
}

/* How to show each connection. */
struct show {
	int	json;
	int	events;
};

/* Print one complete connection, as text or JSON. */
static int
show_trace(const struct dump_file *f, const struct dump_trace *d, void *arg)
{
	const struct show	*sh = arg;

	if (sh->json)
		return (dump_json(stdout, f, d, sh->events));
	dump_text(stdout, f, d, sh->events);
	return (ferror(stdout) ? -1 : 0);
}

/*
 * Each file in turn, each connection printed as soon as its last event
 * is read (dump_run): the output streams, and memory follows the
 * connections open at once, not the size of the trace.
 */

/*
 * tapdump --requests, --summary, --har: the request layer's views. The
 * HAR goes to memory first and then to its file as a capture does
 * (outfile_write: a temporary name, 0600, renamed into place), so a
 * failed run leaves no partial file and an existing one is not cut.
 */
static int
main_requests(char **paths, int n, int json)
{
	FILE	*out = stdout;
	char	*buf = NULL, errbuf[OUTFILE_ERRBUF_SIZE];
	size_t	 len = 0;
	int	 mode = req_opts.mode, rc;

	if (mode == DUMP_REQ_TEXT && json)
		mode = DUMP_REQ_JSON;
	if (req_opts.har != NULL && (out = open_memstream(&buf, &len)) == NULL) {
		msg_err("%s: %s", req_opts.har, strerror(errno));
		return (1);
	}
	rc = dump_requests(out, paths, n, (enum dump_req_mode)mode,
	    req_opts.show_secrets, json);
	if (out == stdout) {
		if (fflush(out) == EOF || ferror(out)) {
			msg_err("standard output: %s", strerror(errno));
			rc = 1;
		}
		return (rc);
	}
	if (ferror(out) || fclose(out) == EOF) {
		msg_err("%s: %s", req_opts.har, strerror(errno));
		rc = 1;
	} else if (rc == 0 && outfile_write(req_opts.har, buf, len, errbuf,
	    sizeof errbuf) == -1) {
		msg_err("%s", errbuf);
		rc = 1;
	}
	free(buf);
	return (rc);
}

int
main(int argc, char **argv)
{
	struct dump_file	 f;
	struct show		 sh;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	size_t			 at, ignored;
	int			 first, json = 0, events = 0, strict = 0, i;
	int			 rc = 0;

	msg_init("tapdump");
	first = parse_args(argc, argv, &json, &events, &strict);
	if (req_opts.mode != -1)
		return (main_requests(argv + first, argc - first, json));
	sh.json = json;
	sh.events = events;
	if (json)
		dump_json_begin(stdout);
	for (i = first; i < argc; i++) {
		if (dump_run(&f, argv[i], show_trace, &sh, errbuf) == -1) {
			msg_err("%s", errbuf);
			rc = 1;
		} else if (trace_damage(f.tf, &at, &ignored) != TRACE_WHOLE) {
			/* Its whole records are shown; --strict: an error. */
			trace_damage_text(f.tf, errbuf, sizeof errbuf);
			if (strict) {
				msg_err("%s (--strict)", errbuf);
				rc = 1;
			} else
				msg_notice(0, "%s", errbuf);
		}
		dump_free(&f);
	}
	if (json && dump_json_end(stdout) == -1)
		rc = 1;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg_err("standard output: %s", strerror(errno));
		rc = 1;
	}
	return (rc);
}
