/* Check tests for the shim's fd table. */

#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "checkmain.h"
#include "fdtab.h"

/* Stand-ins for connections: the table only stores the pointers. */
static char	conn_a, conn_b;
#define A	((struct conn *)(void *)&conn_a)
#define B	((struct conn *)(void *)&conn_b)

START_TEST(test_get_swap)
{
	ck_assert_ptr_null(fdtab_get(5));
	ck_assert_ptr_null(fdtab_swap(5, A));
	ck_assert_ptr_eq(fdtab_get(5), A);
	ck_assert_ptr_eq(fdtab_swap(5, FDTAB_OTHER), A);
	ck_assert_ptr_eq(fdtab_get(5), FDTAB_OTHER);
	ck_assert_ptr_eq(fdtab_swap(5, NULL), FDTAB_OTHER);
	ck_assert_ptr_null(fdtab_get(5));
	/* Far fds map pages of their own. */
	ck_assert_ptr_null(fdtab_swap(700000, B));
	ck_assert_ptr_eq(fdtab_get(700000), B);
	ck_assert_ptr_null(fdtab_get(700001));
	/* Out of range: never stored, never found. */
	ck_assert_ptr_null(fdtab_swap(-1, A));
	ck_assert_ptr_null(fdtab_swap(FDTAB_MAX_FD, A));
	ck_assert_ptr_null(fdtab_get(FDTAB_MAX_FD));
	ck_assert_ptr_null(fdtab_get(-1));
}
END_TEST

START_TEST(test_replace)
{
	ck_assert_int_eq(fdtab_replace(9, NULL, A), 1);
	ck_assert_int_eq(fdtab_replace(9, NULL, B), 0);	/* not NULL now */
	ck_assert_ptr_eq(fdtab_get(9), A);
	ck_assert_int_eq(fdtab_replace(9, A, B), 1);
	ck_assert_ptr_eq(fdtab_get(9), B);
	ck_assert_int_eq(fdtab_replace(FDTAB_MAX_FD, NULL, A), 0);
}
END_TEST

START_TEST(test_is_conn)
{
	ck_assert_int_eq(fdtab_is_conn(NULL), 0);
	ck_assert_int_eq(fdtab_is_conn(FDTAB_OTHER), 0);
	ck_assert_int_eq(fdtab_is_conn(A), 1);
}
END_TEST

/* After fork, connections are tagged; other values stay as they are. */
START_TEST(test_inherit)
{
	fdtab_swap(20, A);
	fdtab_swap(21, FDTAB_OTHER);
	fdtab_swap(300000, B);
	fdtab_inherit();
	ck_assert_ptr_eq(fdtab_get(20), (struct conn *)((uintptr_t)A |
	    FDTAB_INHERITED));
	ck_assert_ptr_eq(fdtab_get(300000), (struct conn *)((uintptr_t)B |
	    FDTAB_INHERITED));
	ck_assert_ptr_eq(fdtab_get(21), FDTAB_OTHER);
	ck_assert_ptr_null(fdtab_get(22));
}
END_TEST

/* Threads filling one new page at once: every slot set, none lost. */
static void *
filler(void *arg)
{
	int	base = (int)(intptr_t)arg, i;

	for (i = 0; i < 256; i++)
		fdtab_swap(base + i * 4, A);
	return (NULL);
}

START_TEST(test_page_race)
{
	pthread_t	t[4];
	int		i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, filler,
		    (void *)(intptr_t)(500000 + i)), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 1024; i++)
		ck_assert_ptr_eq(fdtab_get(500000 + i), A);
}
END_TEST

/* fdtab_next skips pages never mapped, and stops at the end. */
START_TEST(test_next)
{
	ck_assert_int_eq(fdtab_next(0), FDTAB_MAX_FD);	/* nothing mapped */
	fdtab_swap(10, A);
	fdtab_swap(600000, B);
	ck_assert_int_eq(fdtab_next(0), 0);		/* 10's page: 0..4095 */
	ck_assert_int_eq(fdtab_next(11), 11);
	ck_assert_int_eq(fdtab_next(5000), 600000 - 600000 % 4096);
	ck_assert_int_eq(fdtab_next(600001), 600001);
	ck_assert_int_eq(fdtab_next(700000), FDTAB_MAX_FD);
	ck_assert_int_eq(fdtab_next(-5), 0);
}
END_TEST

static Suite *
fdtab_suite(void)
{
	Suite	*s = suite_create("fdtab");
	TCase	*tc = tcase_create("slots");

	check_add_tests(tc, test_get_swap, test_replace, test_is_conn,
	    test_inherit, test_page_race, test_next, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { fdtab_suite, NULL };
