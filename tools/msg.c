/* A tool's messages on stderr: "prog: what", notices unless quiet. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "msg.h"
#include "notice.h"
#include "progress.h"

/* The tool's name, set by its main(). */
const char	*msg_prog = "tapshim";

/* Print "prog: message" on stderr. */
static void
msg_vprint(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", msg_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* An error: always said. */
void
msg_err(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	msg_vprint(fmt, ap);
	va_end(ap);
}

/* A notice, unless quiet (-q). */
void
msg_notice(int quiet, const char *fmt, ...)
{
	va_list	ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	msg_vprint(fmt, ap);
	va_end(ap);
}

/* What tools/lib/ has to say, as this program's own messages. */
static void
msg_library(enum notice_level level, const char *line)
{
	fprintf(stderr, "%s: %s\n", msg_prog, line);
	(void)level;
}

/* tools/lib/'s progress through a long job, as a bar on stderr. */
static void
msg_progress(enum notice_prog what, uint64_t n, int mode)
{
	static struct progress	pg;

	switch (what) {
	case NOTICE_PROG_BEGIN:
		progress_init(&pg, mode ? stderr : NULL, msg_prog, n,
		    mode == 2);
		break;
	case NOTICE_PROG_STEP:
		progress_update(&pg, n);
		break;
	case NOTICE_PROG_END:
		progress_done(&pg);
		break;
	}
}

/*
 * The program's name in its messages; tools/lib/'s notices and progress
 * come here to be printed (the library never prints: libpcap's way).
 */
void
msg_init(const char *prog)
{
	msg_prog = prog;
	notice_set(msg_library);
	notice_set_progress(msg_progress);
}
