/* The re-entry guard, the clock, the thread, messages: the shim's runtime. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "say.h"
#include "shim.h"

enum shim_state {
	SHIM_NEW,		/* nothing done yet */
	SHIM_STARTING,		/* one thread is reading the configuration */
	SHIM_ON,
	SHIM_OFF		/* a bad setting: hooks only pass through */
};

struct conf		shim_conf;

static int		shim_state;
static pid_t		shim_pid;

/*
 * How deep this thread is in hooks: only the outermost records, so the
 * shim's own I/O and a signal handler's calls inside a hook pass
 * through (interposition-pitfalls.md, rows 3 and 6).
 */
static __thread int	shim_depth __attribute__((tls_model("initial-exec")));
/* When this thread's outermost hook was called (ns), and its thread id. */
static __thread int64_t	shim_t0 __attribute__((tls_model("initial-exec")));
static __thread uint32_t shim_tid_cached
    __attribute__((tls_model("initial-exec")));

/*
 * Start-up, once, from the constructor or from whichever hook comes
 * first (another library's constructor may call one before ours ran:
 * row 2); threads that find it under way pass through. The work is the
 * top's (shim.c: it reads the settings and sets every layer up), reached
 * through shim_start, set there before any code runs.
 */
void
shim_init(void)
{
	int	expect = SHIM_NEW;

	if (!__atomic_compare_exchange_n(&shim_state, &expect, SHIM_STARTING,
	    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	shim_pid = (pid_t)syscall(SYS_getpid);
	__atomic_store_n(&shim_state, shim_start() == 0 ? SHIM_ON : SHIM_OFF,
	    __ATOMIC_RELEASE);
}

/* This process's pid, as start-up or the last fork found it. */
pid_t
shim_self(void)
{
	return (shim_pid);
}

/*
 * Around fork: the forking thread holds the shim's global locks from
 * prepare to parent/child, so a signal handler's hook on it must pass
 * through (row 6): it counts as inside a hook.
 */
void
shim_hold(int on)
{
	shim_depth += on ? 1 : -1;
}

/* In a forked child: its own pid, and its thread's id asked again. */
void
shim_forked(void)
{
	shim_pid = (pid_t)syscall(SYS_getpid);
	shim_tid_cached = 0;
}

/*
 * Is this the outermost hook, with tracing on, in a process that may
 * record? Every hook calls it, and shim_leave() after, whatever it says.
 */
int
shim_enter(void)
{
	if (shim_depth++ > 0 || real_resolving())
		return (0);
	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_NEW)
		shim_init();
	/* The vfork check (a syscall) is left to traced fds: conn_get(). */
	if (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) != SHIM_ON)
		return (0);
	shim_t0 = shim_now();
	return (1);
}

/* CLOCK_REALTIME in nanoseconds (the vDSO: no system call). */
int64_t
shim_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/* When the outermost hook of this thread was entered. */
int64_t
shim_call_start(void)
{
	return (shim_t0);
}

/*
 * The call the outermost hook records began at t (ns): a TLS library
 * call, which the hook recording its plaintext entered after it returned.
 */
void
shim_call_began(int64_t t)
{
	shim_t0 = t;
}

/*
 * The shim's own work since since (ns; making a trace on first use) is
 * no part of the call's duration: the call's start moves past it.
 */
void
shim_call_skip(int64_t since)
{
	int64_t	now = shim_now();

	if (shim_t0 != 0 && now > since)
		shim_t0 += now - since;
}

/* This thread's id, asked of the kernel once per thread. */
uint32_t
shim_tid(void)
{
	if (shim_tid_cached == 0)
		shim_tid_cached = (uint32_t)syscall(SYS_gettid);
	return (shim_tid_cached);
}

void
shim_leave(void)
{
	shim_depth--;
}

/*
 * May this process record now? Not before start-up ended, not with a bad
 * setting, and not in a vfork child: it shares the parent's memory, and
 * no fork handler ran to tell it apart (row 5).
 */
int
shim_tracing(void)
{
	return (__atomic_load_n(&shim_state, __ATOMIC_ACQUIRE) == SHIM_ON &&
	    shim_pid == (pid_t)syscall(SYS_getpid));
}

/*
 * A message, "tapshim: ...", in one write, errno kept: on stderr while it
 * is the file it was at start, else in TAPSHIM_LOG, else counted lost
 * (say.c); never raising SIGPIPE or SIGXFSZ (hostwrite.c).
 */
void
shim_say(const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;
	int	n, saved = errno;

	n = snprintf(buf, sizeof buf, "tapshim: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	say_write(buf, (size_t)n);
	errno = saved;
}

/* shim_say(), the first time only for this *said flag. */
void
shim_say_once(int *said, const char *fmt, ...)
{
	char	buf[900];
	va_list	ap;

	if (__atomic_exchange_n(said, 1, __ATOMIC_ACQ_REL))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	shim_say("%s", buf);
}

