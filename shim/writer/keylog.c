/* SSLKEYLOGFILE lines, each appended to TAPSHIM_KEYLOG in one write. */

#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "keylog.h"

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

/*
 * Append line (n bytes, no newline) and a newline to path: the file is
 * opened with O_APPEND for this line only, and the line is one write(),
 * so lines from concurrent processes never mix, and the program's fds
 * are never touched. Raw syscalls: the hooks do not see them. errno is
 * kept. Returns 0, or -1.
 */
int
keylog_write(const char *path, const char *line, size_t n)
{
	char	buf[KEYLOG_LINE_MAX + 1];
	long	fd, r;
	int	saved = errno;

	if (n > KEYLOG_LINE_MAX) {
		errno = saved;
		return (-1);
	}
	memcpy(buf, line, n);
	buf[n] = '\n';
	fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		errno = saved;
		return (-1);
	}
	r = syscall(SYS_write, (int)fd, buf, n + 1);
	(void)syscall(SYS_close, (int)fd);
	errno = saved;
	return (r == (long)(n + 1) ? 0 : -1);
}
