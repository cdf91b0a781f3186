/* Check tests for shim/runstate.c: a run's limits, shared by processes. */

#include "config.h"

#include <sys/wait.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "runstate.h"

#define NOW	((int64_t)1700000000 * 1000000000)
#define PROCS	4
#define TRIES	5000

static char	dir[64], path[96];

/* A fresh directory per test. */
static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/check_runstate.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/run", dir);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

/* Make and map a state file with these limits. */
static struct runstate *
make(uint64_t max_bytes, uint64_t max_conns, int64_t deadline)
{
	struct runstate	 init, *rs;
	char		 err[RUNSTATE_ERRBUF_SIZE];

	memset(&init, 0, sizeof init);
	init.max_bytes = max_bytes;
	init.max_conns = max_conns;
	init.deadline = deadline;
	ck_assert_msg(runstate_create(path, &init, err) == 0, "%s", err);
	ck_assert_ptr_nonnull(rs = runstate_map(path, 0, err));
	return (rs);
}

START_TEST(test_no_limits)
{
	struct runstate	*rs = make(0, 0, 0);
	int		 i;

	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(runstate_admit_conn(rs, NOW), 1);
		ck_assert_int_eq(runstate_admit_bytes(rs, 1000000, NOW), 1);
	}
	runstate_count(rs, 0, 10, 0);
	runstate_count(rs, 1, 0, 7);
	ck_assert_uint_eq(rs->conns, 100);
	ck_assert_uint_eq(rs->file_bytes, 100 * (1000000 + RUNSTATE_TAIL));
	ck_assert_uint_eq(rs->kept[0], 10);
	ck_assert_uint_eq(rs->lost[1], 7);
	ck_assert_uint_eq(rs->events, 1);
	ck_assert_uint_eq(rs->events_lost, 1);
	ck_assert_uint_eq(rs->stopped, RUNSTATE_RUNNING);
	/* No state at all: everything admitted, nothing counted. */
	ck_assert_int_eq(runstate_admit_conn(NULL, NOW), 1);
	ck_assert_int_eq(runstate_admit_bytes(NULL, 1, NOW), 1);
	runstate_unmap(rs);
}
END_TEST

START_TEST(test_max_conns)
{
	struct runstate	*rs = make(0, 3, 0);
	int		 i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(runstate_admit_conn(rs, NOW), 1);
	ck_assert_int_eq(runstate_admit_conn(rs, NOW), 0);
	ck_assert_int_eq(runstate_admit_conn(rs, NOW), 0);
	ck_assert_uint_eq(rs->conns, 3);
	ck_assert_uint_eq(rs->conns_lost, 2);
	ck_assert_uint_eq(rs->stopped, RUNSTATE_STOP_CONNS);
	/* Recording has stopped for the run: no more bytes either. */
	ck_assert_int_eq(runstate_admit_bytes(rs, 1, NOW), 0);
	ck_assert_str_eq(runstate_stop_name(rs->stopped), "max_connections");
	runstate_unmap(rs);
}
END_TEST

START_TEST(test_max_bytes)
{
	struct runstate	*rs = make(1000, 0, 0);

	ck_assert_int_eq(runstate_admit_conn(rs, NOW), 1);
	ck_assert_int_eq(runstate_admit_bytes(rs, 800, NOW), 1);
	ck_assert_int_eq(runstate_admit_bytes(rs, 72, NOW), 1);
	/* 128 + 800 + 72 = 1000: not one byte more, nor a connection. */
	ck_assert_int_eq(runstate_admit_bytes(rs, 1, NOW), 0);
	ck_assert_uint_eq(rs->file_bytes, 1000);
	ck_assert_uint_eq(rs->stopped, RUNSTATE_STOP_BYTES);
	ck_assert_int_eq(runstate_admit_conn(rs, NOW), 0);
	ck_assert_uint_eq(rs->conns_lost, 1);
	runstate_unmap(rs);
}
END_TEST

START_TEST(test_deadline)
{
	struct runstate	*rs = make(0, 0, NOW + 10);

	ck_assert_int_eq(runstate_admit_conn(rs, NOW + 9), 1);
	ck_assert_int_eq(runstate_admit_bytes(rs, 5, NOW + 9), 1);
	ck_assert_int_eq(runstate_admit_bytes(rs, 5, NOW + 10), 0);
	ck_assert_int_eq(runstate_admit_conn(rs, NOW + 11), 0);
	ck_assert_uint_eq(rs->stopped, RUNSTATE_STOP_TIME);
	/* The first reason stays. */
	ck_assert_str_eq(runstate_stop_name(rs->stopped), "duration");
	runstate_unmap(rs);
}
END_TEST

START_TEST(test_processes_share)
{
	struct runstate	*rs = make(25000, 0, 0);
	int		 i, k, st;
	pid_t		 pid[PROCS];

	/* Four processes race for 10-byte pieces: exactly 2500 fit. */
	for (k = 0; k < PROCS; k++) {
		ck_assert_int_ne(pid[k] = fork(), -1);
		if (pid[k] == 0) {
			for (i = 0; i < TRIES; i++)
				(void)runstate_admit_bytes(rs, 10, NOW);
			_exit(0);
		}
	}
	for (k = 0; k < PROCS; k++) {
		ck_assert_int_eq(waitpid(pid[k], &st, 0), pid[k]);
		ck_assert_int_eq(st, 0);
	}
	ck_assert_uint_eq(rs->file_bytes, 25000);
	ck_assert_uint_eq(rs->stopped, RUNSTATE_STOP_BYTES);
	runstate_unmap(rs);
}
END_TEST

START_TEST(test_bad_files)
{
	struct runstate	 init;
	char		 err[RUNSTATE_ERRBUF_SIZE];
	FILE		*f;

	memset(&init, 0, sizeof init);
	ck_assert_ptr_null(runstate_map(path, 0, err));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("not a state file", f);
	fclose(f);
	ck_assert_ptr_null(runstate_map(path, 0, err));
	ck_assert_ptr_nonnull(strstr(err, "not a tapshim run state file"));
	/* It exists: never written over. */
	ck_assert_int_eq(runstate_create(path, &init, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "File exists"));
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(&init, sizeof init, 1, f), 1);
	fclose(f);
	ck_assert_ptr_null(runstate_map(path, 1, err));
	ck_assert_ptr_nonnull(strstr(err, "of this version"));
}
END_TEST

/* The run state's suite. */
static Suite *
runstate_suite(void)
{
	Suite	*s = suite_create("runstate");
	TCase	*tc = tcase_create("runstate");

	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_no_limits, test_max_conns, test_max_bytes,
	    test_deadline, test_processes_share, test_bad_files, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { runstate_suite, NULL };
