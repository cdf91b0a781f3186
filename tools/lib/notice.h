/* What the tools' library has to say, handed to the program to print. */
#ifndef TAPSHIM_NOTICE_H
#define TAPSHIM_NOTICE_H

#include <stdarg.h>

enum notice_level {
	NOTICE_ERROR,		/* always said */
	NOTICE_INFO		/* said unless the program is quiet */
};

/* The program's printer: one line, without "prog: " or a newline. */
typedef void (*notice_fn)(enum notice_level, const char *);

void	notice_set(notice_fn);
void	notice_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	notice_say(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
