/* What the tools' library has to say, handed to the program to print. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "notice.h"

/* libpcap's way: the library never prints, the program does. */
static notice_fn	notice_out;
static notice_prog_fn	notice_prog_out;

/* Where the library's lines go from now on (NULL: nowhere). */
void
notice_set(notice_fn fn)
{
	notice_out = fn;
}

/* Where the library's progress goes from now on (NULL: nowhere). */
void
notice_set_progress(notice_prog_fn fn)
{
	notice_prog_out = fn;
}

/* Hand over a step of a long job's progress. */
void
notice_progress(enum notice_prog what, uint64_t n, int mode)
{
	if (notice_prog_out != NULL)
		notice_prog_out(what, n, mode);
}

/* Format one line and hand it over. */
static void
notice_vsay(enum notice_level level, const char *fmt, va_list ap)
{
	char	line[4096];

	if (notice_out == NULL)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	notice_out(level, line);
}

/* An error the program must hear of. */
void
notice_err(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	notice_vsay(NOTICE_ERROR, fmt, ap);
	va_end(ap);
}

/* A notice, unless quiet. */
void
notice_say(int quiet, const char *fmt, ...)
{
	va_list	ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	notice_vsay(NOTICE_INFO, fmt, ap);
	va_end(ap);
}
