/* tapshim: run a program with libtapshim.so preloaded, then sum up. */

#include "config.h"

#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect-run.h"
#include "conf.h"
#include "convert.h"
#include "execcheck.h"
#include "frame.h"
#include "launch.h"
#include "live.h"
#include "msg.h"
#include "outfile.h"
#include "pcapng-out.h"
#include "runctl.h"
#include "rundir.h"
#include "runsum.h"
#include "synth.h"

/* The launcher's own failures, before the program runs (as env(1)). */
#define TAPSHIM_EXIT_FAIL	125

struct options {
	const char	*write;		/* -w: the capture */
	const char	*stats;		/* --stats: the run's totals, JSON */
	const char	*har;		/* --har: the run's HTTP requests */
	struct runstate	 limits;	/* --max-total-bytes, --max-connections */
	double		 duration;	/* --duration, seconds; 0: none */
	struct live_opts live;		/* -w written live: pcap; -C, -W, -G */
	int		 quiet;
	int		 direct;	/* --direct: no collector */
	int		 drop;		/* --drop: full rings drop */
};

/* Long options without a short form. */
enum {
	OPT_MAX_RX = 256, OPT_MAX_TX, OPT_MAX_TOTAL, OPT_MAX_CONNS,
	OPT_DURATION, OPT_STATS, OPT_TLS, OPT_KEYLOG, OPT_BACKTRACE, OPT_LOG,
	OPT_MODE, OPT_HAR, OPT_DIRECT, OPT_DROP
};

/* Print the usage message. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s [options] [--] PROGRAM [ARGS...]\n"
	    "Run PROGRAM with libtapshim.so preloaded: every connection it\n"
	    "and its children make is traced, to PREFIX_N.pb files.\n"
	    "\n"
	    "  -o, --prefix PREFIX     trace files PREFIX_N.pb (default ./tap)\n"
	    "  -w, --write FILE        write the run's capture to FILE (- for\n"
	    "                          stdout: PROGRAM's stdout goes to\n"
	    "                          stderr) while it runs, pcap; a .pcapng\n"
	    "                          name: pcapng with processes, names and\n"
	    "                          the key log, when PROGRAM exits\n"
	    "  -C, --file-size MB      -w: a new file before one grows past\n"
	    "                          MB million bytes (OUT1, OUT2, ...)\n"
	    "  -W, --file-count N      -w: keep the last N files\n"
	    "  -G, --rotate-seconds N  -w: a new file every N seconds, its\n"
	    "                          name FILE through strftime(3)\n"
	    "  -F, --format FORMAT     pb (default) or ld (Envoy's streamed\n"
	    "                          .pb_length_delimited)\n"
	    "  -f, --filter EXPR       trace only the sockets whose first\n"
	    "                          packet matches a pcap-filter(7) EXPR\n"
	    "      --max-rx-bytes N    keep at most N bytes read per socket,\n"
	    "      --max-tx-bytes N    and N written (K, M, G suffixes); past\n"
	    "                          them, only lengths\n"
	    "      --max-total-bytes N  stop recording once the run's trace\n"
	    "                          files hold N bytes (K, M, G)\n"
	    "      --max-connections N  trace at most N connections\n"
	    "      --duration SECONDS  stop recording after SECONDS\n"
	    "      --stats FILE        write the run's totals to FILE, JSON\n"
	    "      --har FILE          when PROGRAM exits, write its HTTP\n"
	    "                          requests to FILE as HAR 1.2\n"
	    "      --mode MODE         create the capture and FILE with\n"
	    "                          permissions MODE, octal (default 0600)\n"
	    "      --tls MODE          TLS connections' traces hold plaintext\n"
	    "                          (default), ciphertext or both\n"
	    "      --keylog FILE       append TLS keys to FILE (SSLKEYLOGFILE)\n"
	    "      --backtrace[=WHEN]  record call sites: connect (default)\n"
	    "                          or all (connect and accept)\n"
	    "  -D, --debug             the shim says what it does, on stderr\n"
	    "      --log FILE          the shim's messages go to FILE, not\n"
	    "                          to the program's stderr\n"
	    "      --direct            each process writes its own trace\n"
	    "                          files (default: tapshim collects them)\n"
	    "      --drop              a process whose ring is full drops and\n"
	    "                          counts, rather than wait for tapshim\n"
	    "  -q, --quiet             no summary at the end\n"
	    "  -h, --help              show this help\n"
	    "  -V, --version           show the version\n"
	    "\n"
	    "Exit status: PROGRAM's, 128 + N if signal N killed it; 125 when\n"
	    "tapshim fails, 126 when PROGRAM cannot run, 127 when it is not\n"
	    "found. The summary, and any warning that LD_PRELOAD cannot see\n"
	    "into PROGRAM, go to stderr. See tapshim(1).\n",
	    msg_prog);
}

/* Set a TAPSHIM_ variable for the program, or fail. */
static void
set_var(const char *name, const char *value)
{
	if (setenv(name, value, 1) == -1) {
		msg_err("%s: %s", name, strerror(errno));
		exit(TAPSHIM_EXIT_FAIL);
	}
}

/* Trace only what matches expr: TAPSHIM_FILTER, compiled here. */
static void
set_filter(const char *expr)
{
	char	*text;

	if ((text = runctl_filter(expr)) == NULL)
		exit(TAPSHIM_EXIT_FAIL);
	set_var("TAPSHIM_FILTER", text);
	free(text);
}


/* A positive count for opt, with K, M or G (powers of 1024) if suffix. */
static uint64_t
parse_count(const char *opt, const char *arg, int suffix)
{
	unsigned long long	 v;
	char			*end;
	int			 shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (suffix && *end != '\0' && end[1] == '\0')
		shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' ||
		    *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : -1;
	if (errno || !isdigit((unsigned char)arg[0]) || v == 0 || shift < 0 ||
	    (shift == 0 && *end != '\0') || v > (UINT64_MAX >> shift)) {
		msg_err("%s: \"%s\" is not a positive number%s", opt, arg,
		    suffix ? " (optionally followed by K, M or G)" : "");
		exit(TAPSHIM_EXIT_FAIL);
	}
	return ((uint64_t)v << shift);
}

/* --duration's seconds: a positive number, decimals allowed. */
static double
parse_seconds(const char *arg)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || *end != '\0' || end == arg || !isfinite(v) || v <= 0 ||
	    v > 1e9) {
		msg_err("--duration: \"%s\" is not a positive number of "
		    "seconds", arg);
		exit(TAPSHIM_EXIT_FAIL);
	}
	return (v);
}

/* -C, -W and -G need -w, a file name; -W one of the others. */
static void
check_live(struct options *o)
{
	const char	*bad = NULL;

	if ((o->live.max_bytes || o->live.max_files || o->live.seconds) &&
	    o->write == NULL)
		bad = "-C, -W and -G need -w";
	else if ((o->live.max_bytes || o->live.seconds) &&
	    strcmp(o->write, "-") == 0)
		bad = "-C and -G need a file name, not -";
	else if (o->live.max_files && !o->live.max_bytes && !o->live.seconds)
		bad = "-W needs -C or -G";
	else if (o->live.seconds && o->write != NULL &&
	    pcapng_is_name(o->write))
		bad = "-G: a .pcapng capture is written when the program "
		    "exits; -G needs a pcap one";
	if (bad != NULL) {
		msg_err("%s", bad);
		exit(TAPSHIM_EXIT_FAIL);
	}
	o->live.out = o->write;
	/* A single file is converted again at the end, which says it all. */
	o->live.quiet = o->quiet || (o->write != NULL &&
	    strcmp(o->write, "-") != 0 && !o->live.max_bytes &&
	    !o->live.seconds);
}

/* Parse the options into the environment; exits on errors, -h and -V. */
static void
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "prefix", required_argument, NULL, 'o' },
		{ "write", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'F' },
		{ "file-size", required_argument, NULL, 'C' },
		{ "file-count", required_argument, NULL, 'W' },
		{ "rotate-seconds", required_argument, NULL, 'G' },
		{ "filter", required_argument, NULL, 'f' },
		{ "max-rx-bytes", required_argument, NULL, OPT_MAX_RX },
		{ "max-tx-bytes", required_argument, NULL, OPT_MAX_TX },
		{ "max-total-bytes", required_argument, NULL, OPT_MAX_TOTAL },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "har", required_argument, NULL, OPT_HAR },
		{ "tls", required_argument, NULL, OPT_TLS },
		{ "keylog", required_argument, NULL, OPT_KEYLOG },
		{ "backtrace", optional_argument, NULL, OPT_BACKTRACE },
		{ "debug", no_argument, NULL, 'D' },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "drop", no_argument, NULL, OPT_DROP },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char	errbuf[256];
	int	c;

	argv[0] = (char *)msg_prog;	/* getopt's messages name it */
	/* "+": the program's own options are not ours. */
	while ((c = getopt_long(argc, argv, "+o:w:F:f:C:W:G:DqhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			set_var("TAPSHIM_PATH_PREFIX", optarg);
			break;
		case 'w':
			o->write = optarg;
			break;
		case 'F':
			set_var("TAPSHIM_FORMAT", optarg);
			break;
		case 'C':
			o->live.max_bytes = 1000000ULL * parse_count("-C",
			    optarg, 0);
			break;
		case 'W':
			o->live.max_files = (unsigned int)parse_count("-W",
			    optarg, 0);
			break;
		case 'G':
			o->live.seconds = (unsigned int)parse_count("-G",
			    optarg, 0);
			break;
		case 'f':
			set_filter(optarg);
			break;
		case OPT_MAX_RX:
			set_var("TAPSHIM_MAX_BUFFERED_RX_BYTES", optarg);
			break;
		case OPT_MAX_TX:
			set_var("TAPSHIM_MAX_BUFFERED_TX_BYTES", optarg);
			break;
		case OPT_MAX_TOTAL:
			o->limits.max_bytes = parse_count("--max-total-bytes",
			    optarg, 1);
			break;
		case OPT_MAX_CONNS:
			o->limits.max_conns = parse_count("--max-connections",
			    optarg, 0);
			break;
		case OPT_DURATION:
			o->duration = parse_seconds(optarg);
			break;
		case OPT_STATS:
			o->stats = optarg;
			break;
		case OPT_HAR:
			o->har = optarg;
			break;
		case OPT_TLS:
			set_var("TAPSHIM_TLS", optarg);
			break;
		case OPT_KEYLOG:
			set_var("TAPSHIM_KEYLOG", optarg);
			break;
		case OPT_BACKTRACE:
			set_var("TAPSHIM_BACKTRACE", optarg != NULL ? optarg :
			    "connect");
			break;
		case 'D':
			set_var("TAPSHIM_DEBUG", "1");
			break;
		case OPT_LOG:
			set_var("TAPSHIM_LOG", optarg);
			break;
		case OPT_MODE:
			if (outfile_set_mode(optarg, errbuf, sizeof errbuf) == -1) {
				msg_err("%s", errbuf);
				exit(TAPSHIM_EXIT_FAIL);
			}
			break;
		case OPT_DIRECT:
			o->direct = 1;
			break;
		case OPT_DROP:
			o->drop = 1;
			break;
		case 'q':
			o->quiet = 1;
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
			exit(TAPSHIM_EXIT_FAIL);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		exit(TAPSHIM_EXIT_FAIL);
	}
	check_live(o);
}

/*
 * Check the settings as the shim will read them (the same code), so a
 * bad value stops us here rather than turning tracing off, and make the
 * prefix absolute for children that change directory.
 */
static void
check_settings(struct conf *c)
{
	char	errbuf[CONF_ERRBUF_SIZE];

	if (conf_read(c, (conf_getenv_fn)getenv, errbuf) == -1) {
		msg_err("%s", errbuf);
		exit(TAPSHIM_EXIT_FAIL);
	}
	set_var("TAPSHIM_PATH_PREFIX", c->prefix);
	if (c->log[0] != '\0')
		set_var("TAPSHIM_LOG", c->log);
}

/* LD_PRELOAD as the launcher found it (NULL: unset), for its own helpers. */
static char	*preload_old;

/*
 * The library for a program of class cls (EXECCHECK_*): lib as given,
 * ld.so's $LIB token expanded the way Debian's ld.so does for that
 * class, in path. Returns path.
 */
static const char *
preload_path(const char *lib, int cls, char *path, size_t size)
{
	const char	*tok = strstr(lib, "$LIB");

	if (tok == NULL)
		snprintf(path, size, "%s", lib);
	else
		snprintf(path, size, "%.*s%s%s", (int)(tok - lib), lib,
		    cls == EXECCHECK_32 ? TAPSHIM_LIB32 : TAPSHIM_LIB64,
		    tok + 4);
	return (path);
}

/*
 * Preload the library: $TAPSHIM_LIBRARY, else the installed one, after
 * whatever LD_PRELOAD already holds. Its path may hold $LIB, which ld.so
 * expands per program: one setting then serves a 64-bit program, a
 * 32-bit one, and what each of them execs. A program of class cls with
 * no library of its class runs without LD_PRELOAD (ld.so would print
 * "wrong ELF class" on its stderr), and is warned about.
 */
static void
set_preload(const char *prog, int cls)
{
	const char	*lib = getenv("TAPSHIM_LIBRARY"), *old;
	char		 path[PATH_MAX], *v;

	if (lib == NULL || *lib == '\0')
		lib = TAPSHIM_LIBRARY;
	if (lib[0] != '/') {
		msg_err("%s: not an absolute path (set TAPSHIM_LIBRARY to "
		    "libtapshim.so's absolute path)", lib);
		exit(TAPSHIM_EXIT_FAIL);
	}
	if (cls == EXECCHECK_32 && (strstr(lib, "$LIB") == NULL ||
	    access(preload_path(lib, cls, path, sizeof path), R_OK) == -1)) {
		msg_err("warning: %s is a 32-bit program and no 32-bit "
		    "libtapshim.so is installed (%s): it runs untraced, "
		    "without LD_PRELOAD", prog, strstr(lib, "$LIB") == NULL ?
		    "TAPSHIM_LIBRARY names one library, without $LIB" : path);
		return;
	}
	if (access(preload_path(lib, cls, path, sizeof path), R_OK) == -1) {
		msg_err("%s: %s (set TAPSHIM_LIBRARY to libtapshim.so's "
		    "absolute path)", path, strerror(errno));
		exit(TAPSHIM_EXIT_FAIL);
	}
	if (cls == EXECCHECK_32 && getenv("TAPSHIM_DEBUG") != NULL)
		msg_err("%s is a 32-bit program: tracing it with %s", prog,
		    path);
	old = getenv("LD_PRELOAD");
	if (old != NULL && (preload_old = strdup(old)) == NULL) {
		msg_err("out of memory");
		exit(TAPSHIM_EXIT_FAIL);
	}
	if (old != NULL && *old != '\0' && strstr(old, lib) != NULL)
		return;
	if (old == NULL || *old == '\0')
		set_var("LD_PRELOAD", lib);
	else if (asprintf(&v, "%s:%s", old, lib) == -1) {
		msg_err("out of memory");
		exit(TAPSHIM_EXIT_FAIL);
	} else {
		set_var("LD_PRELOAD", v);
		free(v);
	}
}

/* Convert the run's traces into o->write, as tap2pcap -w would. */
static int
write_capture(const struct options *o, const struct runsum *rs)
{
	struct convert	cv;

	memset(&cv, 0, sizeof cv);
	cv.out = o->write;
	cv.max_bytes = o->live.max_bytes;
	cv.max_files = o->live.max_files;
	cv.link = FRAME_LINK_ETHER;
	cv.mss = SYNTH_MSS_DEFAULT;
	cv.progress = o->quiet ? 0 : -1;
	cv.quiet = o->quiet;
	/* A .pcapng capture embeds the run's key log, if TLS wrote one. */
	if ((cv.keylog = getenv("TAPSHIM_KEYLOG")) != NULL &&
	    (cv.keylog[0] == '\0' || access(cv.keylog, R_OK) == -1))
		cv.keylog = NULL;
	return (convert_run(&cv, rs->paths, (unsigned int)rs->nfiles));
}

/*
 * tapdump beside this program: installed, both are in the bindir; in the
 * build tree, tools/tapshim/tapshim has tools/tapdump/tapdump.
 */
static int
find_tapdump(char *buf, size_t n)
{
	static const char *const rel[] = { "tapdump", "../tapdump/tapdump" };
	char		 self[PATH_MAX], *slash;
	ssize_t		 len;
	size_t		 i;

	if ((len = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0)
		return (-1);
	self[len] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return (-1);
	*slash = '\0';
	for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		if ((size_t)snprintf(buf, n, "%s/%s", self, rel[i]) < n &&
		    access(buf, X_OK) == 0)
			return (0);
	}
	return (-1);
}

/* The run's HTTP requests into o->har: tapdump --har over its traces. */
static int
write_har(const struct options *o, const struct runsum *rs)
{
	char	  tapdump[PATH_MAX], **argv;
	pid_t	  pid;
	size_t	  i;
	int	  st;

	if (find_tapdump(tapdump, sizeof tapdump) == -1) {
		msg_err("--har: tapdump is not installed beside tapshim");
		return (-1);
	}
	if ((argv = calloc(rs->nfiles + 4, sizeof *argv)) == NULL) {
		msg_err("out of memory");
		return (-1);
	}
	argv[0] = tapdump;
	argv[1] = (char *)"--har";
	argv[2] = (char *)o->har;
	for (i = 0; i < rs->nfiles; i++)
		argv[3 + i] = rs->paths[i];
	if ((pid = fork()) == 0) {
		/* tapdump is ours, not the program's: run it untraced. */
		if (preload_old != NULL)
			(void)setenv("LD_PRELOAD", preload_old, 1);
		else
			(void)unsetenv("LD_PRELOAD");
		execv(tapdump, argv);
		_exit(127);
	}
	free(argv);
	if (pid == -1 || waitpid(pid, &st, 0) == -1) {
		msg_err("--har: %s: %s", tapdump, strerror(errno));
		return (-1);
	}
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1);
}

/*
 * The run's shared state, for its limits and totals: a file in a
 * directory of our own, named to the program's processes by TAPSHIM_RUN.
 * Without it the run still goes, unlimited, unless limits were asked for.
 */
static int
start_run(struct options *o, struct runctl *rc, const struct runsum *rs)
{
	int	limited = o->limits.max_bytes != 0 ||
		    o->limits.max_conns != 0 || o->duration > 0;
	size_t	i;

	/* Collector mode numbers traces from past the files there now. */
	for (i = 0; i < rs->nbefore; i++) {
		if (rs->before[i].num >= o->limits.next_trace)
			o->limits.next_trace = rs->before[i].num + 1;
	}
	if (runctl_start(rc, &o->limits, o->duration) == -1) {
		if (limited)
			exit(TAPSHIM_EXIT_FAIL);
		return (-1);
	}
	set_var("TAPSHIM_RUN", rc->path);
	return (0);
}

/* Is -w's capture written live (pcap), or when the program exits? */
static int
is_live(const struct options *o)
{
	return (o->write != NULL && !pcapng_is_name(o->write));
}

/*
 * A single live capture file is converted again at the end, with every
 * trace complete, and replaces the live one: the two ends of a
 * connection then shown from the end that kept more, as tap2pcap does.
 * Standard output and rotated files stay as written live.
 */
static int
is_final(const struct options *o)
{
	return (strcmp(o->write, "-") != 0 && o->live.max_bytes == 0 &&
	    o->live.seconds == 0 && !live_split());
}

/* After the program: the summary, the capture, the statistics. */
static int
finish_run(const struct options *o, const struct conf *c, struct runsum *rs,
    struct runctl *rc, const struct collrun *cr, int status)
{
	int	have = runctl_read(rc) == 0;

	runsum_sum(rs, have ? &rc->totals : NULL);
	rc->coll = cr->done ? &cr->st : NULL;
	if (!o->quiet) {
		runsum_print(rs, c->prefix, have ? &rc->totals : NULL);
		collrun_report(cr);
	}
	if (o->write != NULL && (!is_live(o) || is_final(o)) &&
	    write_capture(o, rs) != 0 && status == 0)
		status = TAPSHIM_EXIT_FAIL;
	if (o->har != NULL && write_har(o, rs) != 0 && status == 0)
		status = TAPSHIM_EXIT_FAIL;
	if (o->stats != NULL && (!have || runctl_stats(rc, o->stats,
	    rs, status) == -1) && status == 0)
		status = TAPSHIM_EXIT_FAIL;
	return (status);
}

int
main(int argc, char **argv)
{
	struct options	o;
	struct conf	c;
	struct runsum	rs;
	struct runctl	rc;
	struct rundir	rd;
	struct collrun	cr;
	char		path[PATH_MAX];
	int		status, ran;

	msg_init("tapshim");
	memset(&o, 0, sizeof o);
	memset(&rc, 0, sizeof rc);
	o.stats = getenv("TAPSHIM_STATS");
	if (o.stats != NULL && *o.stats == '\0')
		o.stats = NULL;
	/* Ours to set: a user's own would point the shim elsewhere. */
	unsetenv("TAPSHIM_RUN");
	unsetenv("TAPSHIM_COLLECTOR");
	memset(&cr, 0, sizeof cr);
	parse_args(argc, argv, &o);
	check_settings(&c);
	set_preload(argv[optind], execcheck_find(argv[optind], path,
	    sizeof path) == 0 ? execcheck_warn(path) : EXECCHECK_UNKNOWN);
	if (runsum_begin(&rs, c.prefix) == -1) {
		runsum_free(&rs);
		return (TAPSHIM_EXIT_FAIL);
	}
	if (rundir_start(&rd, c.prefix) == -1) {
		runsum_free(&rs);
		return (TAPSHIM_EXIT_FAIL);
	}
	/* The collector needs the run's state: it numbers the traces. */
	if (start_run(&o, &rc, &rs) == 0 && !o.direct &&
	    collrun_open(&cr, c.prefix, c.format, o.drop) == 0)
		set_var("TAPSHIM_COLLECTOR", collector_name(cr.c));
	if (is_live(&o) && live_start(&o.live, c.prefix) == -1) {
		collrun_close(&cr);
		runsum_free(&rs);
		return (TAPSHIM_EXIT_FAIL);
	}
	/* The capture has stdout: the program's output goes to stderr. */
	if (o.write != NULL && strcmp(o.write, "-") == 0)
		launch_stdout_to_stderr();
	status = launch_run(argv + optind, &ran, &cr);
	collrun_close(&cr);
	if (live_stop() == -1 && status == 0)
		status = TAPSHIM_EXIT_FAIL;
	rundir_finish(&rd, c.prefix);
	if (ran && runsum_end(&rs) == 0)
		status = finish_run(&o, &c, &rs, &rc, &cr, status);
	runctl_end(&rc);
	runsum_free(&rs);
	return (status);
}
