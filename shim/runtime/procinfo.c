/* The traced process, described once: pid, ppid, exe, argv, start. */

#include "config.h"

#include <sys/syscall.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procinfo.h"

#define PROCINFO_ARG_MAX	256	/* bytes kept of one argument */
#define PROCINFO_CMDLINE	(ENC_ARGV_MAX * PROCINFO_ARG_MAX)

static struct enc_proc	procinfo;
static char		procinfo_exe[4096];
static char		procinfo_args[ENC_ARGV_MAX][PROCINFO_ARG_MAX];
static int		procinfo_ready;

/*
 * Read up to n - 1 bytes of a /proc file, with raw system calls (no
 * hook, no stdio, no malloc); -1 if it cannot be read.
 */
static ssize_t
procinfo_slurp(const char *path, char *buf, size_t n)
{
	ssize_t	r, got = 0;
	int	fd;

	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (-1);
	while ((size_t)got < n - 1) {
		r = syscall(SYS_read, fd, buf + got, n - 1 - (size_t)got);
		if (r <= 0)
			break;
		got += r;
	}
	(void)syscall(SYS_close, fd);
	buf[got] = '\0';
	return (got);
}

/* argv from /proc/self/cmdline: NUL-separated, bounded. */
static void
procinfo_argv(void)
{
	static char	cmd[PROCINFO_CMDLINE + 1];
	ssize_t		n, i = 0;
	size_t		len;

	if ((n = procinfo_slurp("/proc/self/cmdline", cmd, sizeof cmd)) <= 0)
		return;
	while (i < n && procinfo.argc < ENC_ARGV_MAX) {
		len = strnlen(cmd + i, (size_t)(n - i));
		if (len >= PROCINFO_ARG_MAX)
			procinfo.argv_truncated = 1;
		memcpy(procinfo_args[procinfo.argc], cmd + i,
		    len < PROCINFO_ARG_MAX ? len : PROCINFO_ARG_MAX - 1);
		procinfo.argv[procinfo.argc] = procinfo_args[procinfo.argc];
		procinfo.argc++;
		i += (ssize_t)len + 1;
	}
	if (i < n || n == (ssize_t)sizeof cmd - 1)
		procinfo.argv_truncated = 1;
}

/*
 * When the process started: /proc/self/stat's starttime (field 22, clock
 * ticks after boot; proc(5)), moved from CLOCK_BOOTTIME to the real time.
 */
static void
procinfo_start(void)
{
	struct timespec		 boot, now;
	char			 buf[1024], *p;
	unsigned long long	 ticks;
	long			 hz = sysconf(_SC_CLK_TCK);
	int64_t			 start, age;
	int			 field;

	if (procinfo_slurp("/proc/self/stat", buf, sizeof buf) <= 0 ||
	    (p = strrchr(buf, ')')) == NULL || hz <= 0)
		return;
	/* After "pid (comm)", fields count from 3. */
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || clock_gettime(CLOCK_BOOTTIME, &boot) == -1 ||
	    clock_gettime(CLOCK_REALTIME, &now) == -1)
		return;
	ticks = strtoull(p + 1, NULL, 10);
	age = ((int64_t)boot.tv_sec * 1000000000LL + boot.tv_nsec) -
	    (int64_t)(ticks * (1000000000ULL / (unsigned long long)hz));
	start = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - age;
	procinfo.start_sec = start / 1000000000LL;
	procinfo.start_nsec = (int32_t)(start % 1000000000LL);
}

/* Describe the process: at start-up, before any hook records. */
void
procinfo_init(void)
{
	ssize_t	n;

	memset(&procinfo, 0, sizeof procinfo);
	procinfo.ppid = (uint32_t)syscall(SYS_getppid);
	n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", procinfo_exe,
	    sizeof procinfo_exe - 1);
	if (n > 0) {
		procinfo_exe[n] = '\0';
		procinfo.exe = procinfo_exe;
	}
	procinfo_argv();
	procinfo_start();
	__atomic_store_n(&procinfo_ready, 1, __ATOMIC_RELEASE);
}

/* A forked child: a new parent; its own start time is close enough. */
void
procinfo_fork_child(void)
{
	procinfo.ppid = (uint32_t)syscall(SYS_getppid);
}

/* The description, or NULL before procinfo_init() ran. */
const struct enc_proc *
procinfo_get(void)
{
	return (__atomic_load_n(&procinfo_ready, __ATOMIC_ACQUIRE) ?
	    &procinfo : NULL);
}
