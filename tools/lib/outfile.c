/* Output files of the tools: private, created under a temporary name. */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"

/*
 * The permissions of every file the tools create: captures hold the
 * same plaintext (TLS included) as the 0600 traces, so 0600 unless
 * --mode says otherwise.
 */
static mode_t	outfile_perm = OUTFILE_MODE_DEFAULT;

/* Create output files with permissions mode (the umask not applied). */
void
outfile_set_mode(mode_t mode)
{
	outfile_perm = mode & 0777;
}

/* The permissions output files are created with. */
mode_t
outfile_mode(void)
{
	return (outfile_perm);
}

/*
 * Parse --mode's octal permissions (0 to 0777) into *mode; -1 if it is
 * not one.
 */
int
outfile_parse_mode(const char *s, mode_t *mode)
{
	unsigned long	 v;
	char		*end;

	if (*s < '0' || *s > '7')
		return (-1);
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno != 0 || *end != '\0' || v > 0777)
		return (-1);
	*mode = (mode_t)v;
	return (0);
}

/* Write all of buf to fd; -1 with errno on failure. */
static int
outfile_put(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 r;

	while (n > 0) {
		if ((r = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

/*
 * Whether path is written in place rather than renamed over: a device or
 * FIFO, and any name under /dev or /proc, such as /dev/stdout, a symlink
 * to /proc/self/fd/1 that may reach a regular file: renaming over it
 * would replace the system's /dev/stdout with the output.
 */
static int
outfile_in_place(const char *path, struct stat *st)
{
	if (strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0)
		return (1);
	return (stat(path, st) == 0 && !S_ISREG(st->st_mode));
}

/*
 * Write n bytes as the whole of the file path, as a capture is written:
 * under a temporary name in the same directory (mkstemp: never through
 * a planted symlink, never over another's file), made outfile_mode(),
 * then renamed over path, so a symlink at path is replaced, never
 * followed. A device, a FIFO or a name under /dev or /proc (/dev/stdout)
 * is written in place. errbuf (size) gets "path: why" on failure: -1.
 */
int
outfile_write(const char *path, const void *buf, size_t n, char *errbuf,
    size_t size)
{
	struct stat	 st;
	char		*tmp = NULL;
	int		 fd, err;

	if (outfile_in_place(path, &st)) {
		/* A regular file reached this way (/dev/stdout redirected
		 * to one) is appended to, after what is already there. */
		if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY |
		    (stat(path, &st) == 0 && S_ISREG(st.st_mode) ?
		    O_APPEND : 0))) == -1)
			goto fail;
		if (outfile_put(fd, buf, n) == -1) {
			err = errno;
			close(fd);
			errno = err;
			goto fail;
		}
		return (close(fd) == -1 ? (errno = EIO, -1) : 0);
	}
	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) == -1) {
		tmp = NULL;
		goto fail;
	}
	if ((fd = mkstemp(tmp)) == -1)
		goto fail;
	if (fchmod(fd, outfile_perm) == -1 || outfile_put(fd, buf, n) == -1) {
		err = errno;
		(void)close(fd);
		unlink(tmp);
		errno = err;
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		err = errno;
		unlink(tmp);
		errno = err;
		goto fail;
	}
	free(tmp);
	return (0);

fail:
	snprintf(errbuf, size, "%s: %s", path, strerror(errno));
	free(tmp);
	return (-1);
}
