/* The top: start-up, the fork handlers, the destructor. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "backtrace.h"
#include "conn.h"
#include "procinfo.h"
#include "real.h"
#include "resolv.h"
#include "say.h"
#include "scope.h"
#include "shim.h"
#include "tls.h"

/* getenv for conf_read(). */
static const char *
shim_getenv(const char *name)
{
	return (getenv(name));
}

/*
 * Around fork: this thread holds the shim's global locks from prepare to
 * parent/child, so a signal handler's hook on it must pass through (row 6).
 */
static void
shim_fork_prepare(void)
{
	shim_hold(1);
	conn_fork_prepare();
}

static void
shim_fork_parent(void)
{
	conn_fork_parent();
	shim_hold(0);
}

static void
shim_fork_child(void)
{
	shim_forked();
	procinfo_fork_child();
	resolv_fork_child();
	conn_fork_child();
	shim_hold(0);
}

/*
 * Start: resolve the real functions, read the configuration, set every
 * layer up and register the fork handlers; shim_init() (runtime/guard.c)
 * runs it once. -1 after a bad setting: the hooks then pass through.
 */
static int
shim_start_up(void)
{
	char	errbuf[CONF_ERRBUF_SIZE];
	int	bad;

	real_init();
	say_init();
	bad = conf_read(&shim_conf, shim_getenv, errbuf) == -1;
	/* TAPSHIM_LOG is read first: it is set even after a bad value. */
	say_set_log(shim_conf.log);
	if (bad) {
		shim_say("%s; tracing is off", errbuf);
		return (-1);
	}
	procinfo_init();
	backtrace_init(&shim_conf);
	scope_init(&shim_conf);
	pthread_atfork(shim_fork_prepare, shim_fork_parent, shim_fork_child);
	if (shim_conf.debug)
		shim_say("pid %d: tracing into %s_<N>%s", (int)shim_self(),
		    shim_conf.prefix, conf_extension(shim_conf.format));
	return (0);
}

/* Set before any code runs: the runtime's way up to start-up. */
int	(*const shim_start)(void) = shim_start_up;

__attribute__((constructor)) static void
shim_constructor(void)
{
	int	saved = errno;

	shim_init();
	errno = saved;
}

/* At exit: each open trace ends (an implicit close); free nothing (row 19). */
__attribute__((destructor)) static void
shim_destructor(void)
{
	int	saved = errno;

	if (shim_tracing()) {
		conn_end_all();
		tls_end_all();
	}
	errno = saved;
}
