/* The request layer over a trace file: every event, in the file's order. */

#include "config.h"

#include <stdio.h>

#include "requests.h"

/*
 * Read the trace file at path, event by event, into records. A file read
 * short of its end (cut, or not finished) is read up to its last whole
 * record, and note says so; else note is empty.
 */
int
req_file(const char *path, req_emit_fn emit, req_notice_fn notice,
    void *arg, char *errbuf, char *note)
{
	struct trace_file	*tf;
	struct trace_event	 ev;
	struct req_ctx		*ctx;
	size_t			 at, ignored;
	int			 r;

	note[0] = '\0';
	if ((tf = trace_open(path, errbuf)) == NULL)
		return (-1);
	if ((ctx = req_new(path, emit, notice, arg)) == NULL) {
		snprintf(errbuf, TRACE_ERRBUF_SIZE, "%s: out of memory", path);
		trace_close(tf);
		return (-1);
	}
	while ((r = trace_next(tf, &ev, errbuf)) == 1) {
		if (req_event(ctx, trace_info(tf, ev.trace), &ev) == -1) {
			snprintf(errbuf, TRACE_ERRBUF_SIZE,
			    "%s: out of memory", path);
			r = -1;
			break;
		}
	}
	req_free(ctx);
	if (trace_damage(tf, &at, &ignored) != TRACE_WHOLE)
		trace_damage_text(tf, note, TRACE_ERRBUF_SIZE);
	trace_close(tf);
	return (r);
}
