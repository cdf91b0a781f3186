/* Writing a capture with libpcap, atomically: a temporary file, renamed. */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "outfile.h"
#include "pcap-out.h"

/*
 * Records are gathered here and written with write(2), past stdio and
 * pcap_dump(): one copy of each byte on its way to the kernel, not two.
 * 256 KiB stays in a core's L2 for the kernel's own copy.
 */
#define PCAP_OUT_IOBUF	(256 * 1024)

/*
 * A capture written to a regular file is handed to writeback every 8 MiB,
 * and what was written before the last window is dropped from the page
 * cache once clean, so a 1 GiB conversion leaves a few windows there, not
 * a gigabyte of other programs' cache pushed out. Nothing waits for the
 * disk: pages still being written stay for the kernel to reclaim.
 */
#define PCAP_OUT_RELEASE	(8 * 1024 * 1024)
#define PCAP_OUT_DROP_TRIES	3	/* windows each drop covers */

/* pcap-savefile(5): each record's header, in the writer's byte order. */
struct pcap_out_rec {
	uint32_t	sec;
	uint32_t	frac;		/* nanoseconds: see open */
	uint32_t	caplen;
	uint32_t	len;
};

static void	pcap_out_start(struct pcap_out *);
static void	pcap_out_release(struct pcap_out *);

/* The temporary file being written, for a signal handler to remove. */
static char	pcap_out_tmp[4096];

/* Live captures: files written under their own name, read as they grow. */
static int	pcap_out_inplace;

/* One capture at a time per process: its records on their way out. */
static uint8_t	pcap_out_iobuf[PCAP_OUT_IOBUF];

/* Open a stream for the capture: stdout, the file itself, or a temp. */
static int
pcap_out_file(struct pcap_out *o, const char *path, char *errbuf)
{
	struct stat	st;
	int		fd;

	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			snprintf(errbuf, PCAP_ERRBUF_SIZE, "-: refusing to "
			    "write a capture to a terminal");
			return (-1);
		}
		o->f = stdout;
		return (0);
	}
	/* A device or FIFO (/dev/null, a pipe) is written in place. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if ((o->f = fopen(path, "w")) == NULL)
			goto fail;
		return (0);
	}
	if (pcap_out_inplace) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    outfile_mode());
		if (fd == -1 || (o->f = fdopen(fd, "w")) == NULL) {
			if (fd != -1)
				close(fd);
			goto fail;
		}
		return (0);
	}
	if ((o->path = strdup(path)) == NULL ||
	    asprintf(&o->tmp, "%s.tmp-%ld-XXXXXX", path, (long)getpid()) == -1) {
		o->tmp = NULL;
		goto fail;
	}
	if ((fd = mkstemp(o->tmp)) == -1) {
		free(o->tmp);
		o->tmp = NULL;
		goto fail;
	}
	snprintf(pcap_out_tmp, sizeof pcap_out_tmp, "%s", o->tmp);
	/* Private by default: it holds what the traces hold (outfile.c). */
	(void)fchmod(fd, outfile_mode());
	if ((o->f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto fail;
	}
	return (0);

fail:
	snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
	return (-1);
}

/*
 * Start a capture at path ("-" for stdout) with nanosecond timestamps.
 * link is FRAME_LINK_ETHER or FRAME_LINK_RAW. Errors go to errbuf
 * (PCAP_ERRBUF_SIZE) as "path: message".
 */
int
pcap_out_open(struct pcap_out *o, const char *path, int link, char *errbuf)
{
	memset(o, 0, sizeof *o);
	if (pcap_out_file(o, path, errbuf) == -1) {
		pcap_out_abort(o);
		return (-1);
	}
	o->p = pcap_open_dead_with_tstamp_precision(link == FRAME_LINK_RAW ?
	    DLT_RAW : DLT_EN10MB, PCAP_OUT_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (o->p == NULL) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: cannot set up libpcap",
		    path);
		pcap_out_abort(o);
		return (-1);
	}
	if ((o->d = pcap_dump_fopen(o->p, o->f)) == NULL) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", path,
		    pcap_geterr(o->p));
		pcap_out_abort(o);
		return (-1);
	}
	/* libpcap wrote the file header; the records go around stdio. */
	if (pcap_dump_flush(o->d) == -1) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s", path,
		    strerror(errno ? errno : EIO));
		pcap_out_abort(o);
		return (-1);
	}
	o->fd = fileno(o->f);
	o->buf = pcap_out_iobuf;
	pcap_out_start(o);
	return (0);
}

/*
 * Start a file of another format at path, as pcap_out_open() does but
 * with nothing written: its writer (pcapng-out.c) appends every byte with
 * pcap_out_append().
 */
int
pcap_out_open_raw(struct pcap_out *o, const char *path, char *errbuf)
{
	memset(o, 0, sizeof *o);
	if (pcap_out_file(o, path, errbuf) == -1) {
		pcap_out_abort(o);
		return (-1);
	}
	o->fd = fileno(o->f);
	o->buf = pcap_out_iobuf;
	pcap_out_start(o);
	return (0);
}

/*
 * Get ready for the records: a pipe is widened to hold a whole buffer of
 * them, so each write() is one wake-up of the reader, not four (a pipe
 * holds 64 KiB unless told otherwise); a regular file is noted for
 * releasing its pages, from where the records start.
 */
static void
pcap_out_start(struct pcap_out *o)
{
	struct stat	st;
	off_t		pos;

	o->release = 0;
	o->fill = PCAP_OUT_IOBUF;
	if (fstat(o->fd, &st) == -1)
		return;
#ifdef F_SETPIPE_SZ
	if (S_ISFIFO(st.st_mode) && fcntl(o->fd, F_GETPIPE_SZ) <
	    PCAP_OUT_IOBUF)
		(void)fcntl(o->fd, F_SETPIPE_SZ, PCAP_OUT_IOBUF);
#endif
	if (!S_ISREG(st.st_mode) || (pos = lseek(o->fd, 0, SEEK_CUR)) == -1)
		return;
	o->release = 1;
	o->off = o->synced = pos;
	/* Writes that end on 256 KiB boundaries fill whole page-cache folios. */
	o->fill = PCAP_OUT_IOBUF - (size_t)(pos % PCAP_OUT_IOBUF);
}

/*
 * Start writeback of the window just written; drop the clean pages of
 * the windows before it (see PCAP_OUT_RELEASE). Errors are ignored: this
 * only spares the page cache, and a failed write shows at close.
 */
static void
pcap_out_release(struct pcap_out *o)
{
	off_t	from, to;

	if (!o->release || o->off - o->synced < PCAP_OUT_RELEASE)
		return;
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(o->fd, o->synced, o->off - o->synced,
	    SYNC_FILE_RANGE_WRITE);
#endif
	to = o->synced;
	from = to - PCAP_OUT_DROP_TRIES * (off_t)PCAP_OUT_RELEASE;
	if (from < 0)
		from = 0;
	if (to > from)
		(void)posix_fadvise(o->fd, from, to - from,
		    POSIX_FADV_DONTNEED);
	o->synced = o->off;
}

/* Write out the gathered records; -1 (errno set) if the write fails. */
static int
pcap_out_flush(struct pcap_out *o)
{
	size_t	off = 0;
	ssize_t	n;

	if (o->error != 0) {
		errno = o->error;
		return (-1);
	}
	while (off < o->used) {
		n = write(o->fd, o->buf + off, o->used - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->error = n == 0 ? EIO : errno;
			errno = o->error;
			return (-1);
		}
		off += (size_t)n;
	}
	o->off += (off_t)o->used;
	o->used = 0;
	o->fill = PCAP_OUT_IOBUF;
	pcap_out_release(o);
	return (0);
}

/* Append n bytes to the records being gathered. */
static int
pcap_out_put(struct pcap_out *o, const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 room;

	while (n > 0) {
		if (o->used == o->fill && pcap_out_flush(o) == -1)
			return (-1);
		room = o->fill - o->used;
		if (room > n)
			room = n;
		memcpy(o->buf + o->used, b, room);
		o->used += room;
		b += room;
		n -= room;
	}
	return (0);
}

/*
 * Live captures (on 1) are written in place, under their own names, for
 * readers to follow as they grow: no temporary file, no rename.
 */
void
pcap_out_set_inplace(int on)
{
	pcap_out_inplace = on;
}

/* Hand what is gathered to the kernel now, for a live reader. */
int
pcap_out_sync(struct pcap_out *o)
{
	if (pcap_out_flush(o) == -1)
		return (-1);
	return (0);
}

/* Append n bytes of a raw file; -1 (errno set) if a write fails. */
int
pcap_out_append(struct pcap_out *o, const void *p, size_t n)
{
	return (pcap_out_put(o, p, n));
}

/*
 * Append one frame: hlen bytes of headers, then caplen bytes of data of
 * len on the wire. The record is the bytes pcap_dump() writes: its header
 * with the seconds and nanoseconds cut to 32 bits, then the frame.
 */
int
pcap_out_write(struct pcap_out *o, int64_t sec, uint32_t nsec,
    const uint8_t *head, size_t hlen, const uint8_t *data, size_t caplen,
    size_t len)
{
	struct pcap_out_rec	h;

	h.sec = (uint32_t)sec;
	h.frac = nsec;
	h.caplen = (uint32_t)(hlen + caplen);
	h.len = (uint32_t)(hlen + len);
	o->packets++;
	if (pcap_out_put(o, &h, sizeof h) == -1 ||
	    pcap_out_put(o, head, hlen) == -1 ||
	    pcap_out_put(o, data, caplen) == -1)
		return (-1);
	return (0);
}

/*
 * Flush and close the capture, leaving it under its temporary name (if it
 * has one) for pcap_out_commit().
 */
int
pcap_out_close(struct pcap_out *o, char *errbuf)
{
	const char	*name = o->path != NULL ? o->path : "-";
	int		 bad;

	/*
	 * No fsync(): the rename already keeps a half-written capture from
	 * view, and waiting for the disk made conversion disk-bound (0.9-1.9
	 * s of 2.5 s for a 1 GiB trace); tcpdump -w and editcap don't either.
	 */
	bad = pcap_out_flush(o) == -1 || (o->d != NULL &&
	    pcap_dump_flush(o->d) == -1) || ferror(o->f);
	if (bad) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s", name,
		    strerror(errno ? errno : EIO));
		pcap_out_abort(o);
		return (-1);
	}
	if (o->f == stdout) {
		if (o->d != NULL)
			pcap_dump_flush(o->d);
	} else if (fclose(o->d != NULL ? pcap_dump_file(o->d) : o->f) == EOF) {
		o->d = NULL;
		o->f = NULL;
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s", name,
		    strerror(errno));
		pcap_out_abort(o);
		return (-1);
	}
	o->d = NULL;
	o->f = NULL;
	if (o->p != NULL)
		pcap_close(o->p);
	o->p = NULL;
	return (0);
}

/* Move a closed capture into place, under its name. */
int
pcap_out_commit(struct pcap_out *o, char *errbuf)
{
	if (o->tmp != NULL && rename(o->tmp, o->path) == -1) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", o->path,
		    strerror(errno));
		pcap_out_abort(o);
		return (-1);
	}
	pcap_out_tmp[0] = '\0';
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return (0);
}

/* Flush everything and move the capture into place. */
int
pcap_out_finish(struct pcap_out *o, char *errbuf)
{
	if (pcap_out_close(o, errbuf) == -1)
		return (-1);
	return (pcap_out_commit(o, errbuf));
}

/* Give up: close and remove the temporary file, leaving path untouched. */
void
pcap_out_abort(struct pcap_out *o)
{
	int	saved = errno;

	/* What a pipe or stdout was sent so far stays sent, as stdio did. */
	if (o->buf != NULL && o->tmp == NULL)
		(void)pcap_out_flush(o);
	errno = saved;
	if (o->d != NULL && o->f != stdout)
		pcap_dump_close(o->d);
	else if (o->f != NULL && o->f != stdout)
		fclose(o->f);
	if (o->p != NULL)
		pcap_close(o->p);
	if (o->tmp != NULL)
		unlink(o->tmp);
	pcap_out_tmp[0] = '\0';
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof *o);
}

/* Is path ("-": never) the same file as one of the n inputs? */
int
pcap_out_is_input(const char *path, char *const *inputs, int n)
{
	struct stat	so, si;
	int		i;

	if (strcmp(path, "-") == 0 || stat(path, &so) == -1)
		return (0);
	for (i = 0; i < n; i++) {
		if (stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev &&
		    si.st_ino == so.st_ino)
			return (1);
	}
	return (0);
}

/* The temporary file now being written, or "" (for signal handlers). */
const char *
pcap_out_tmpname(void)
{
	return (pcap_out_tmp);
}
