/* SSLKEYLOGFILE lines, each appended to TAPSHIM_KEYLOG in one write. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostwrite.h"
#include "keylog.h"
#include "say.h"

/* Set once the refusal of the key log has been said. */
static int	keylog_said;

/* Append n bytes as lowercase hex at out; return the end. */
static char *
keylog_hex(char *out, const uint8_t *p, size_t n)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		*out++ = digits[p[i] >> 4];
		*out++ = digits[p[i] & 15];
	}
	return (out);
}

/*
 * Make "LABEL CLIENT_RANDOM SECRET" (hex) in buf, without a newline.
 * Returns its length, or -1 when it does not fit.
 */
int
keylog_format(char *buf, size_t cap, const char *label, const uint8_t *random,
    size_t rlen, const uint8_t *secret, size_t slen)
{
	size_t	llen = strlen(label);
	char	*p;

	if (llen + 2 * rlen + 2 * slen + 3 > cap)
		return (-1);
	memcpy(buf, label, llen);
	p = buf + llen;
	*p++ = ' ';
	p = keylog_hex(p, random, rlen);
	*p++ = ' ';
	p = keylog_hex(p, secret, slen);
	*p = '\0';
	return ((int)(p - buf));
}

/* Say, once, why path does not get keys. */
static void
keylog_refuse(const char *path, const char *why)
{
	char	buf[PATH_MAX + 128];
	int	n;

	if (__atomic_exchange_n(&keylog_said, 1, __ATOMIC_ACQ_REL))
		return;
	n = snprintf(buf, sizeof buf, "tapshim: TAPSHIM_KEYLOG: %s %s; TLS "
	    "keys are not written\n", path, why);
	if (n > 0 && (size_t)n < sizeof buf)
		say_write(buf, (size_t)n);
}

/*
 * Append line (n bytes, no newline) and a newline to path: the file is
 * opened for this line only (so the program's fds are never touched),
 * never through a symlink, never blocking on a FIFO, and only if it is a
 * regular file of ours, made 0600 (it holds secrets: hostwrite_open());
 * the line is one write with O_APPEND, so lines from concurrent
 * processes never mix, and it raises no SIGXFSZ or SIGPIPE. errno is
 * kept. Returns 0, or -1.
 */
int
keylog_write(const char *path, const char *line, size_t n)
{
	char		 buf[KEYLOG_LINE_MAX + 1];
	const char	*why;
	ssize_t		 r;
	int		 fd, saved = errno;

	if (n > KEYLOG_LINE_MAX) {
		errno = saved;
		return (-1);
	}
	memcpy(buf, line, n);
	buf[n] = '\n';
	if ((fd = hostwrite_open(path, &why)) == -1) {
		keylog_refuse(path, why);
		errno = saved;
		return (-1);
	}
	r = hostwrite_write(fd, buf, n + 1);
	(void)syscall(SYS_close, fd);
	errno = saved;
	return (r == (ssize_t)(n + 1) ? 0 : -1);
}
