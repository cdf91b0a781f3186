/* What the tools' library has to say, handed to the program to print. */
#ifndef TAPSHIM_NOTICE_H
#define TAPSHIM_NOTICE_H

#include <stdarg.h>
#include <stdint.h>

enum notice_level {
	NOTICE_ERROR,		/* always said */
	NOTICE_INFO		/* said unless the program is quiet */
};

/* The program's printer: one line, without "prog: " or a newline. */
typedef void (*notice_fn)(enum notice_level, const char *);

/*
 * A long job's progress, for the program to show: begun (n: its size;
 * mode 0 off, 1 on, 2 even when not on a terminal), n done, ended.
 */
enum notice_prog {
	NOTICE_PROG_BEGIN,
	NOTICE_PROG_STEP,
	NOTICE_PROG_END
};
typedef void (*notice_prog_fn)(enum notice_prog, uint64_t, int);

void	notice_set(notice_fn);
void	notice_set_progress(notice_prog_fn);
void	notice_progress(enum notice_prog, uint64_t, int);
void	notice_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	notice_say(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
