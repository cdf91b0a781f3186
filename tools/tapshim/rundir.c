/* Where a run's traces are made when tapshim runs as root (point 10). */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "rundir.h"

/* A trace file the run made: its number, and the name's rest (".pb"). */
struct rundir_file {
	unsigned long	 n;
	char		*name;
	const char	*ext;
};

/*
 * As root, the traced program may drop privileges (nginx's workers run
 * as nobody, memcached -u): they could not create files beside the
 * prefix. Those processes make their traces instead in a directory of
 * the run's own that every user can create files in and none can list
 * or remove another's from (mode 1733, as /tmp but unreadable), named
 * to them in TAPSHIM_FALLBACK_PREFIX; each file stays 0600 to its
 * creator. The others write at the prefix as always (a trace is on disk
 * there while the program runs). rundir_finish() moves the fallback's
 * files to PREFIX_N.
 */
int
rundir_start(struct rundir *rd, const char *prefix)
{
	const char	*tmp = getenv("TMPDIR"), *base = strrchr(prefix, '/');

	memset(rd, 0, sizeof *rd);
	if (geteuid() != 0 || base == NULL)
		return (0);
	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(rd->dir, sizeof rd->dir, "%s/tapshim-run.XXXXXX",
	    tmp) >= sizeof rd->dir || mkdtemp(rd->dir) == NULL) {
		msg_err("%s/tapshim-run.XXXXXX: %s", tmp, strerror(errno));
		return (-1);
	}
	if (chmod(rd->dir, 01733) == -1 || (size_t)snprintf(rd->prefix,
	    sizeof rd->prefix, "%s%s", rd->dir, base) >= sizeof rd->prefix) {
		msg_err("%s: %s", rd->dir, strerror(errno));
		(void)rmdir(rd->dir);
		return (-1);
	}
	rd->on = 1;
	return (setenv("TAPSHIM_FALLBACK_PREFIX", rd->prefix, 1));
}

/* Order files by number. */
static int
rundir_cmp(const void *a, const void *b)
{
	const struct rundir_file	*x = a, *y = b;

	return (x->n < y->n ? -1 : x->n > y->n);
}

/* Copy what src holds into the open fd (another file system). */
static int
rundir_copy(const char *src, int fd)
{
	char	buf[65536];
	ssize_t	n;
	int	in;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (write(fd, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	close(in);
	return (n == 0 ? 0 : -1);
}

/* Move one trace to prefix_M<ext>, M the lowest free there. */
static void
rundir_move(const struct rundir *rd, const struct rundir_file *f,
    const char *prefix)
{
	char		src[PATH_MAX + NAME_MAX + 2], dst[PATH_MAX];
	unsigned long	m;
	int		fd = -1;

	snprintf(src, sizeof src, "%s/%s", rd->dir, f->name);
	for (m = 0; fd == -1 && m < 1000000; m++) {
		if ((size_t)snprintf(dst, sizeof dst, "%s_%lu%s", prefix, m,
		    f->ext) >= sizeof dst)
			break;
		fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		msg_err("%s: %s (the trace stays at %s)", dst, strerror(errno),
		    src);
		return;
	}
	if (rename(src, dst) == -1 && (errno != EXDEV ||
	    rundir_copy(src, fd) == -1 || unlink(src) == -1))
		msg_err("%s: %s (the trace stays at %s)", dst, strerror(errno),
		    src);
	(void)chown(dst, getuid(), getgid());
	close(fd);
}

/*
 * After the run: its traces, in the order they were made, to the
 * prefix's directory, owned by the user who ran tapshim; then the
 * directory goes, unless a process still running wrote there since.
 */
void
rundir_finish(struct rundir *rd, const char *prefix)
{
	struct rundir_file	*f = NULL, *g;
	struct dirent		*de;
	const char		*base;
	size_t			 nf = 0, i, len;
	char			*end;
	DIR			*d;

	if (!rd->on || (d = opendir(rd->dir)) == NULL)
		return;
	base = strrchr(rd->prefix, '/') + 1;
	len = strlen(base);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, len) != 0 ||
		    de->d_name[len] != '_' || de->d_name[len + 1] < '0' ||
		    de->d_name[len + 1] > '9' ||
		    (g = realloc(f, (nf + 1) * sizeof *f)) == NULL)
			continue;
		f = g;
		if ((f[nf].name = strdup(de->d_name)) == NULL)
			continue;
		f[nf].n = strtoul(f[nf].name + len + 1, &end, 10);
		f[nf].ext = end;
		nf++;
	}
	closedir(d);
	if (nf > 0)
		qsort(f, nf, sizeof *f, rundir_cmp);
	for (i = 0; i < nf; i++) {
		rundir_move(rd, &f[i], prefix);
		free(f[i].name);
	}
	free(f);
	if (rmdir(rd->dir) == -1)
		msg_err("%s: %s (files written after the program ended)",
		    rd->dir, strerror(errno));
	rd->on = 0;
}
