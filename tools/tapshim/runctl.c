/* The launcher's run: its filter, its limits, and its statistics. */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <json-c/json.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "outfile.h"
#include "runctl.h"

/*
 * Compile a pcap-filter(7) expression as tcpdump would for an Ethernet
 * capture (the shim builds each socket's first packet as Ethernet) and
 * write it the way tcpdump -ddd does, for TAPSHIM_FILTER. NULL, said,
 * when it does not compile.
 */
char *
runctl_filter(const char *expr)
{
	struct bpf_program	 prog;
	pcap_t			*p;
	char			*text;
	size_t			 len, size;
	u_int			 i;

	if ((p = pcap_open_dead(DLT_EN10MB, 65535)) == NULL) {
		msg_err("cannot set up libpcap");
		return (NULL);
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		msg_err("filter '%s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return (NULL);
	}
	size = 16 + (size_t)prog.bf_len * 32;
	if ((text = malloc(size)) != NULL) {
		len = (size_t)snprintf(text, size, "%u\n", prog.bf_len);
		for (i = 0; i < prog.bf_len; i++)
			len += (size_t)snprintf(text + len, size - len,
			    "%u %u %u %u\n", prog.bf_insns[i].code,
			    prog.bf_insns[i].jt, prog.bf_insns[i].jf,
			    prog.bf_insns[i].k);
	} else
		msg_err("out of memory");
	pcap_freecode(&prog);
	pcap_close(p);
	return (text);
}

/*
 * Make the run's state file, in a directory of its own under $TMPDIR,
 * with the limits in lim (the deadline counted from now); its path in
 * rc->path. -1, said, on failure.
 */
int
runctl_start(struct runctl *rc, const struct runstate *lim,
    double duration)
{
	struct runstate	init = *lim;
	struct timespec	ts;
	const char	*tmp = getenv("TMPDIR");
	char		errbuf[RUNSTATE_ERRBUF_SIZE];

	memset(rc, 0, sizeof *rc);
	snprintf(rc->dir, sizeof rc->dir, "%s/tapshim.XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if (mkdtemp(rc->dir) == NULL) {
		msg_err("%s: %s", rc->dir, strerror(errno));
		return (-1);
	}
	snprintf(rc->path, sizeof rc->path, "%s/run", rc->dir);
	clock_gettime(CLOCK_REALTIME, &ts);
	rc->start = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (duration > 0)
		init.deadline = rc->start + (int64_t)(duration * 1e9);
	if (runstate_create(rc->path, &init, errbuf) == -1) {
		msg_err("%s", errbuf);
		rmdir(rc->dir);
		rc->dir[0] = '\0';
		return (-1);
	}
	return (0);
}

/* Read the run's totals after it, into rc->totals; 0 when known. */
int
runctl_read(struct runctl *rc)
{
	struct runstate	*rs;
	char		 errbuf[RUNSTATE_ERRBUF_SIZE];

	if (rc->dir[0] == '\0')
		return (-1);
	if ((rs = runstate_map(rc->path, 1, errbuf)) == NULL) {
		msg_err("%s", errbuf);
		return (-1);
	}
	rc->totals = *rs;
	rc->have = 1;
	runstate_unmap(rs);
	return (0);
}

/* Remove the state file (processes still running keep their mapping). */
void
runctl_end(struct runctl *rc)
{
	if (rc->dir[0] == '\0')
		return;
	unlink(rc->path);
	rmdir(rc->dir);
	rc->dir[0] = '\0';
}

/* A JSON object {"read": r, "written": w}. */
static json_object *
runctl_pair(uint64_t r, uint64_t w)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "read", json_object_new_uint64(r));
	json_object_object_add(o, "written", json_object_new_uint64(w));
	return (o);
}

/* The collector's figures, as the --stats "collector" object. */
static json_object *
runctl_collector(const struct collector_stats *s)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "processes",
	    json_object_new_uint64(s->processes));
	json_object_object_add(o, "refused",
	    json_object_new_uint64(s->refused));
	json_object_object_add(o, "trace_files",
	    json_object_new_uint64(s->files));
	json_object_object_add(o, "records",
	    json_object_new_uint64(s->records));
	json_object_object_add(o, "bytes", json_object_new_uint64(s->bytes));
	json_object_object_add(o, "records_dropped",
	    json_object_new_uint64(s->dropped));
	json_object_object_add(o, "bytes_dropped",
	    json_object_new_uint64(s->dropped_bytes));
	json_object_object_add(o, "bytes_torn",
	    json_object_new_uint64(s->torn_bytes));
	json_object_object_add(o, "bytes_not_written",
	    json_object_new_uint64(s->write_errors));
	return (o);
}

/*
 * Write the run's statistics to path as JSON (tapshim(1) names the
 * fields), in the manner of Hubble's RecordingStatistics. -1, said.
 */
int
runctl_stats(const struct runctl *rc, const char *path,
    const struct runsum *rs, int status)
{
	const struct runstate		*t = &rc->totals;
	const struct runsum_totals	*s = &rs->totals;
	json_object			*o = json_object_new_object(), *a;
	size_t				 traces = rs->nfiles;
	int				 i;
	struct timespec		 ts;
	const char		*text;
	char			 errbuf[PATH_MAX + 128];
	int64_t			 now;
	int			 rc_write;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	json_object_object_add(o, "trace_files",
	    json_object_new_uint64(traces));
	json_object_object_add(o, "connections_traced",
	    json_object_new_uint64(t->conns));
	json_object_object_add(o, "connections_lost",
	    json_object_new_uint64(t->conns_lost));
	json_object_object_add(o, "bytes_captured",
	    runctl_pair(t->kept[0], t->kept[1]));
	json_object_object_add(o, "bytes_lost",
	    runctl_pair(t->lost[0], t->lost[1]));
	json_object_object_add(o, "events_captured",
	    json_object_new_uint64(t->events));
	json_object_object_add(o, "events_lost",
	    json_object_new_uint64(t->events_lost));
	a = json_object_new_array();
	for (i = 0; i < s->nreasons; i++)
		json_object_array_add(a, json_object_new_string(
		    s->reasons[i]));
	json_object_object_add(o, "lost_reasons", a);
	json_object_object_add(o, "traces_died",
	    json_object_new_uint64(s->died));
	json_object_object_add(o, "traces_cut_by_tracer",
	    json_object_new_uint64(s->tracer_cut));
	json_object_object_add(o, "trace_files_cut",
	    json_object_new_uint64(s->cut));
	json_object_object_add(o, "trace_files_unfinished",
	    json_object_new_uint64(s->unfinished));
	json_object_object_add(o, "trace_bytes_reserved",
	    json_object_new_uint64(t->file_bytes));
	json_object_object_add(o, "stopped_by", json_object_new_string(
	    runstate_stop_name((enum runstate_stop)t->stopped)));
	json_object_object_add(o, "duration_ns",
	    json_object_new_int64(now - rc->start));
	json_object_object_add(o, "exit_status", json_object_new_int(status));
	json_object_object_add(o, "messages_lost",
	    json_object_new_uint64(t->msgs_lost));
	json_object_object_add(o, "mode", json_object_new_string(
	    rc->coll != NULL ? "collector" : "direct"));
	if (rc->coll != NULL)
		json_object_object_add(o, "collector",
		    runctl_collector(rc->coll));
	/* As the capture is written: never through a planted symlink. */
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED);
	rc_write = outfile_write(path, text, strlen(text), errbuf,
	    sizeof errbuf);
	if (rc_write == -1)
		msg_err("%s", errbuf);
	json_object_put(o);
	return (rc_write == -1 ? -1 : 0);
}
