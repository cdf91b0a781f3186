/* The call site of connect and accept: a libunwind backtrace, symbolized. */
#ifndef TAPSHIM_BACKTRACE_H
#define TAPSHIM_BACKTRACE_H

#include "conf.h"

#define BACKTRACE_MAX		16	/* frames kept */
#define BACKTRACE_LINE		160	/* bytes of one symbolized frame */

struct backtrace {
	char		 line[BACKTRACE_MAX][BACKTRACE_LINE];
	const char	*ptr[BACKTRACE_MAX];
	int		 n;
};

void	backtrace_init(const struct conf *);
int	backtrace_wanted(int);
void	backtrace_take(struct backtrace *);

#endif
