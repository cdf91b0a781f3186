/* A tool's messages on stderr: "prog: what", notices unless quiet. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "msg.h"

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
