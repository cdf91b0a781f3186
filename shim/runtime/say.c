/* Where the shim's messages go: stderr as it was at start, a log, or nowhere. */

#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostwrite.h"
#include "say.h"

/*
 * What fd 2 was when the process started: messages go there only while
 * it is still that file, and never when it was a socket (it may be a
 * daemon's connection, and a message would be data to its peer).
 */
static int		say_fd2_ok;
static dev_t		say_fd2_dev;
static ino_t		say_fd2_ino;

/* TAPSHIM_LOG, absolute, or "": messages go there instead of fd 2. */
static char		say_log[PATH_MAX];
static int		say_log_said;

/* Messages that had nowhere to go, and who is told of each. */
static unsigned long	say_lost;
static say_lost_fn	say_lost_cb;

/* Note what fd 2 is now, at start (and in a child after exec). */
void
say_init(void)
{
	struct stat	st;

	say_fd2_ok = 0;
	if (syscall(SYS_fstat, STDERR_FILENO, &st) == -1 ||
	    S_ISSOCK(st.st_mode))
		return;
	say_fd2_dev = st.st_dev;
	say_fd2_ino = st.st_ino;
	say_fd2_ok = 1;
}

/* Send messages to the file path (TAPSHIM_LOG) instead of fd 2. */
void
say_set_log(const char *path)
{
	snprintf(say_log, sizeof say_log, "%s", path != NULL ? path : "");
}

/* Call fn for each message lost from now on (the run's count). */
void
say_on_lost(say_lost_fn fn)
{
	__atomic_store_n(&say_lost_cb, fn, __ATOMIC_RELEASE);
}

/* Is fd 2 still the file it was at start? */
static int
say_fd2_same(void)
{
	struct stat	st;

	return (say_fd2_ok && syscall(SYS_fstat, STDERR_FILENO, &st) == 0 &&
	    !S_ISSOCK(st.st_mode) && st.st_dev == say_fd2_dev &&
	    st.st_ino == say_fd2_ino);
}

/* Append the message to TAPSHIM_LOG, opened for it alone; 0 on success. */
static int
say_to_log(const char *buf, size_t n)
{
	char		 why[PATH_MAX + 128];
	const char	*reason;
	ssize_t		 r;
	int		 fd, len;

	if ((fd = hostwrite_open(say_log, &reason)) == -1) {
		/* Said once on fd 2, if it is still stderr: else lost too. */
		if (!__atomic_exchange_n(&say_log_said, 1, __ATOMIC_ACQ_REL) &&
		    say_fd2_same()) {
			len = snprintf(why, sizeof why, "tapshim: TAPSHIM_LOG: "
			    "%s %s; messages are not written\n", say_log,
			    reason);
			if (len > 0 && (size_t)len < sizeof why)
				(void)hostwrite_write(STDERR_FILENO, why,
				    (size_t)len);
		}
		return (-1);
	}
	r = hostwrite_write(fd, buf, n);
	(void)syscall(SYS_close, fd);
	return (r == (ssize_t)n ? 0 : -1);
}

/*
 * Write one whole message (n bytes, newline included) where it cannot
 * be the program's data, in one write; or count it lost. errno is kept.
 */
void
say_write(const char *buf, size_t n)
{
	say_lost_fn	fn;
	int		saved = errno, done;

	if (say_log[0] != '\0')
		done = say_to_log(buf, n) == 0;
	else
		done = say_fd2_same() &&
		    hostwrite_write(STDERR_FILENO, buf, n) == (ssize_t)n;
	if (!done) {
		__atomic_add_fetch(&say_lost, 1, __ATOMIC_RELAXED);
		if ((fn = __atomic_load_n(&say_lost_cb, __ATOMIC_ACQUIRE)) !=
		    NULL)
			fn();
	}
	errno = saved;
}

/* How many messages this process could not write anywhere. */
unsigned long
say_lost_count(void)
{
	return (__atomic_load_n(&say_lost, __ATOMIC_RELAXED));
}
