/* The one main of tests/unit's Check suites. */
#ifndef TAPSHIM_CHECKMAIN_H
#define TAPSHIM_CHECKMAIN_H

#include <check.h>

typedef Suite	*(*check_suite_fn)(void);

/* Each check_*.c lists the suites it runs, NULL last. */
extern const check_suite_fn	check_suites[];

/*
 * Around the suites, for a harness that needs it (clicheck.c): before,
 * 0 to run them or the exit status to end with (77: skipped); after,
 * the clean-up. The defaults do nothing.
 */
int	check_begin(const char *);
void	check_end(void);

/* Add the tests given, NULL last, to a test case, in that order. */
void	check_add_tests(TCase *, ...) __attribute__((sentinel));

#endif
