/* tapdump: what happened on each traced connection, as text or JSON. */

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "msg.h"

/* Print the usage message. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [--json] [--events] [--dns-port PORT] [--strict] TRACE...\n"
	    "Show what happened on each traced connection: addresses, role,\n"
	    "process, name resolution, connect time, bytes each way, DNS,\n"
	    "errors and close; every trace format tap2pcap reads.\n"
	    "\n"
	    "  -j, --json            JSON instead of text (fields: tapdump(1))\n"
	    "  -e, --events          every read, write and close, with times\n"
	    "  -d, --dns-port PORT   decode datagrams on PORT as DNS too\n"
	    "                        (port 53 always is)\n"
	    "      --strict          a trace cut short or not finished (its\n"
	    "                        writer died) is an error, not a notice\n"
	    "  -h, --help            show this help\n"
	    "  -V, --version         show the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 when an input cannot be read or\n"
	    "the output fails, 2 for a usage error. See tapdump(1).\n",
	    msg_prog);
}

/* Parse the options; returns the index of the first trace. */
static int
parse_args(int argc, char **argv, int *json, int *events, int *strict)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "events", no_argument, NULL, 'e' },
		{ "dns-port", required_argument, NULL, 'd' },
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
	if (optind >= argc) {
		msg_err("no trace given");
		usage(stderr);
		exit(2);
	}
	return (optind);
}

int
main(int argc, char **argv)
{
	struct dump_file	*files;
	char			 errbuf[TRACE_ERRBUF_SIZE];
	size_t			 at, ignored;
	int			 first, json = 0, events = 0, strict = 0, i, n;
	int			 rc = 0;

	msg_prog = "tapdump";
	first = parse_args(argc, argv, &json, &events, &strict);
	n = argc - first;
	if ((files = calloc((size_t)n, sizeof *files)) == NULL) {
		msg_err("out of memory");
		return (1);
	}
	for (i = 0; i < n; i++) {
		if (dump_load(&files[i], argv[first + i], errbuf) == -1) {
			msg_err("%s", errbuf);
			rc = 1;
		} else if (trace_damage(files[i].tf, &at, &ignored) !=
		    TRACE_WHOLE) {
			/* Its whole records are shown; --strict: an error. */
			trace_damage_text(files[i].tf, errbuf, sizeof errbuf);
			if (strict) {
				msg_err("%s (--strict)", errbuf);
				rc = 1;
			} else
				msg_notice(0, "%s", errbuf);
		}
	}
	if (json) {
		if (dump_json(stdout, files, (size_t)n, events) == -1)
			rc = 1;
	} else {
		for (i = 0; i < n; i++)
			dump_text(stdout, &files[i], events);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		msg_err("standard output: %s", strerror(errno));
		rc = 1;
	}
	for (i = 0; i < n; i++)
		dump_free(&files[i]);
	free(files);
	return (rc);
}
