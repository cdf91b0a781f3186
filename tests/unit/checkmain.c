/* The one main of tests/unit's Check suites: it runs check_suites[]. */

#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"

/* No set-up: a suite file with a harness of its own defines one. */
__attribute__((weak)) int
check_begin(const char *name)
{
	(void)name;
	return (0);
}

/* No clean-up, likewise. */
__attribute__((weak)) void
check_end(void)
{
}

void
check_add_tests(TCase *tc, ...)
{
	va_list		 ap;
	const TTest	*t;

	va_start(ap, tc);
	while ((t = va_arg(ap, const TTest *)) != NULL)
		tcase_add_test(tc, t);
	va_end(ap);
}

int
main(int argc, char **argv)
{
	SRunner		*sr;
	const char	*name;
	int		 failed, i, status;

	name = argc > 0 && strrchr(argv[0], '/') != NULL ?
	    strrchr(argv[0], '/') + 1 : argc > 0 ? argv[0] : "check";
	if ((status = check_begin(name)) != 0)
		return (status);
	sr = srunner_create(check_suites[0]());
	for (i = 1; check_suites[i] != NULL; i++)
		srunner_add_suite(sr, check_suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	check_end();
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
