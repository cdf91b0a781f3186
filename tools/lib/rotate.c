/* A capture split into files of a size, as tcpdump -C and -W do. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rotate.h"

/* pcap-savefile(5): a 24-byte file header, 16 bytes before each packet. */
#define ROTATE_FILE_HDR		24
#define ROTATE_PKT_HDR		16

/* The capture being written, for a signal handler to clean up. */
static struct rotate	*rotate_live;

/*
 * A live file's name with -G: -w's name through strftime(3) at the time
 * it starts; a second file under the same name (-C, SIGUSR1 within the
 * same second) gets a number after it, so none is written over.
 */
static int
rotate_stamp(struct rotate *r)
{
	struct tm	 tm;
	char		 buf[4096];
	size_t		 n;

	/* -w's name is the format, as tcpdump -G takes it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = localtime_r(&r->opened, &tm) == NULL ? 0 :
	    strftime(buf, sizeof buf, r->base, &tm);
#pragma GCC diagnostic pop
	if (n == 0) {
		snprintf(r->err, sizeof r->err, "%s: not a name strftime(3) "
		    "can expand", r->base);
		return (-1);
	}
	if (r->stamp != NULL && strcmp(r->stamp, buf) == 0)
		r->same++;
	else {
		free(r->stamp);
		if ((r->stamp = strdup(buf)) == NULL)
			goto nomem;
		r->same = 0;
	}
	if (r->same == 0)
		r->name = strdup(buf);
	else if (asprintf(&r->name, "%s%u", buf, r->same) == -1)
		r->name = NULL;
	if (r->name == NULL)
		goto nomem;
	return (0);

nomem:
	snprintf(r->err, sizeof r->err, "%s: out of memory", r->base);
	return (-1);
}

/*
 * The name of file number i: -w's name alone for a single capture; with
 * -C (or a live capture asked for a new file), OUT, OUT1, OUT2...; with
 * -W as well, OUT0, OUT1... with as many digits as the largest number
 * needs (tcpdump's naming); with -G, rotate_stamp()'s.
 */
static int
rotate_name(struct rotate *r, unsigned int i)
{
	free(r->name);
	r->name = NULL;
	if (r->seconds > 0)
		return (rotate_stamp(r));
	if (i == 0 && (r->max_bytes == 0 || r->digits == 0))
		r->name = strdup(r->base);
	else if (asprintf(&r->name, "%s%0*u", r->base, (int)r->digits,
	    i) == -1)
		r->name = NULL;
	if (r->name == NULL) {
		snprintf(r->err, sizeof r->err, "%s: out of memory", r->base);
		return (-1);
	}
	return (0);
}

/* Refuse to write a capture over one of the traces. */
static int
rotate_check(struct rotate *r, const char *name)
{
	if (!pcap_out_is_input(name, r->inputs, r->ninputs))
		return (0);
	snprintf(r->err, sizeof r->err, "%s: the output is also an input",
	    name);
	return (-1);
}

/* Start file number i. */
static int
rotate_start(struct rotate *r, unsigned int i)
{
	r->index = i;
	r->bytes = ROTATE_FILE_HDR;
	r->opened = time(NULL);
	r->force = 0;
	if (rotate_name(r, i) == -1 || rotate_check(r, r->name) == -1)
		return (-1);
	if (r->ng == NULL)
		return (pcap_out_open(&r->out, r->name, r->link, r->err));
	/* Each file starts with its own header blocks. */
	if (pcapng_out_open(&r->out, r->ng, r->name, r->err) == -1)
		return (-1);
	r->bytes = (uint64_t)r->out.off + r->out.used;
	return (0);
}

/*
 * Start a capture at base ("-" for stdout, without a size), split into
 * files of at most max_bytes (0: one file), the last max_files of them
 * kept (0: all), never over one of the n inputs; pcapng with ng's
 * blocks, pcap when ng is NULL. Errors in r->err.
 */
int
rotate_open_ng(struct rotate *r, const char *base, int link,
    uint64_t max_bytes, unsigned int max_files, char *const *inputs, int n,
    struct pcapng_meta *ng)
{
	unsigned int	x;

	memset(r, 0, sizeof *r);
	r->base = base;
	r->link = link;
	r->max_bytes = max_bytes;
	r->max_files = max_bytes > 0 ? max_files : 0;
	r->inputs = inputs;
	r->ninputs = n;
	r->ng = ng;
	for (x = r->max_files > 0 ? r->max_files - 1 : 0; x > 0; x /= 10)
		r->digits++;
	rotate_live = r;
	return (rotate_start(r, 0));
}

/*
 * Start a live capture: as rotate_open_ng(), but every file is written
 * in place under its name (readers follow it as it grows); a new one
 * also every seconds (-G, 0: never; -w's name then passes through
 * strftime(3)) and when rotate_tick() finds one asked for; with -G or
 * without -C, max_files keeps the last files, removing older ones.
 */
int
rotate_open_live(struct rotate *r, const char *base, int link,
    uint64_t max_bytes, unsigned int max_files, unsigned int seconds,
    char *const *inputs, int n, struct pcapng_meta *ng)
{
	unsigned int	x;

	memset(r, 0, sizeof *r);
	r->base = base;
	r->link = link;
	r->max_bytes = max_bytes;
	r->max_files = max_files;
	r->seconds = seconds;
	r->live = 1;
	r->inputs = inputs;
	r->ninputs = n;
	r->ng = ng;
	if (seconds == 0 && max_bytes > 0) {
		for (x = max_files > 0 ? max_files - 1 : 0; x > 0; x /= 10)
			r->digits++;
	}
	pcap_out_set_inplace(1);
	rotate_live = r;
	return (rotate_start(r, 0));
}

/* rotate_open_ng() for a pcap capture. */
int
rotate_open(struct rotate *r, const char *base, int link, uint64_t max_bytes,
    unsigned int max_files, char *const *inputs, int n)
{
	return (rotate_open_ng(r, base, link, max_bytes, max_files, inputs, n,
	    NULL));
}

/*
 * Close the file being written and keep it, under its temporary name,
 * in its number's slot; one it replaces in a ring is removed.
 */
static int
rotate_keep(struct rotate *r)
{
	size_t	n = r->index + 1, i;
	void	*p;

	if (n > r->nfiles) {
		if ((p = realloc(r->tmps, n * sizeof *r->tmps)) == NULL)
			goto nomem;
		r->tmps = p;
		if ((p = realloc(r->names, n * sizeof *r->names)) == NULL)
			goto nomem;
		r->names = p;
		for (i = r->nfiles; i < n; i++)
			r->tmps[i] = r->names[i] = NULL;
		r->nfiles = n;
	}
	if ((r->ng != NULL ? pcapng_out_close(&r->out, r->ng, r->err) :
	    pcap_out_close(&r->out, r->err)) == -1)
		return (-1);
	if (r->tmps[r->index] != NULL)
		unlink(r->tmps[r->index]);
	free(r->tmps[r->index]);
	free(r->names[r->index]);
	r->tmps[r->index] = r->out.tmp;
	r->names[r->index] = r->name;
	r->out.tmp = NULL;
	r->name = NULL;
	free(r->out.path);
	r->out.path = NULL;
	r->files++;
	return (0);

nomem:
	snprintf(r->err, sizeof r->err, "%s: out of memory", r->base);
	return (-1);
}

/* Close the file being written and start the next one. */
static int
rotate_next(struct rotate *r)
{
	unsigned int	next;
	int		empty = r->live && r->out.packets == 0 && !r->force;
	char		*gone = NULL;

	if (empty && r->name != NULL && (gone = strdup(r->name)) == NULL) {
		snprintf(r->err, sizeof r->err, "%s: out of memory", r->base);
		return (-1);
	}
	if (rotate_keep(r) == -1) {
		free(gone);
		return (-1);
	}
	/* A file -G closes with no packet in it goes: no empty files. */
	if (gone != NULL) {
		unlink(gone);
		free(gone);
		free(r->names[r->index]);
		r->names[r->index] = NULL;
	}
	/* Live, named by time or asked for: keep the last max_files. */
	if (r->live && r->max_files > 0 && (r->seconds > 0 ||
	    r->max_bytes == 0) && r->index + 1 >= r->max_files &&
	    r->names[r->index + 1 - r->max_files] != NULL) {
		unlink(r->names[r->index + 1 - r->max_files]);
		free(r->names[r->index + 1 - r->max_files]);
		r->names[r->index + 1 - r->max_files] = NULL;
	}
	next = r->index + 1;
	if (r->max_files > 0 && next == r->max_files && r->seconds == 0 &&
	    r->max_bytes > 0)
		next = 0;
	return (rotate_start(r, next));
}

/* Is a live capture due a new file: -G's time is up, or one was asked? */
static int
rotate_due(const struct rotate *r)
{
	return (r->live && (r->force || (r->seconds > 0 &&
	    time(NULL) - r->opened >= (time_t)r->seconds)));
}

/*
 * Between batches of a live capture: start a new file if one was asked
 * for (r->force) or -G's time is up and this one holds packets.
 */
int
rotate_tick(struct rotate *r)
{
	if (!rotate_due(r) || (!r->force && r->out.packets == 0))
		return (0);
	return (rotate_next(r));
}

/* After a batch of a live capture: everything to the kernel, now. */
int
rotate_sync(struct rotate *r)
{
	if (pcap_out_sync(&r->out) == -1) {
		snprintf(r->err, sizeof r->err, "%s: write error: %s",
		    r->name, strerror(errno ? errno : EIO));
		return (-1);
	}
	return (0);
}

/*
 * Append a frame (a synth_emit_fn), first moving on to the next file if
 * this one would grow past its size (a file holds at least one packet),
 * or a live one's time is up.
 */
int
rotate_write(void *arg, int64_t sec, uint32_t nsec, const uint8_t *head,
    size_t hlen, const uint8_t *data, size_t caplen, size_t len)
{
	struct rotate	*r = arg;
	uint64_t	 rec = ROTATE_PKT_HDR + hlen + caplen;
	int		 bad;

	if (r->ng != NULL)
		rec = pcapng_out_prepare(r->ng, hlen, caplen, len);

	if ((r->max_bytes > 0 && r->out.packets > 0 &&
	    r->bytes + rec > r->max_bytes) || rotate_due(r)) {
		if (rotate_next(r) == -1)
			return (-1);
		if (r->ng != NULL)	/* the new file's first packet */
			rec = pcapng_out_prepare(r->ng, hlen, caplen, len);
	}
	r->bytes += rec;
	if (r->ng != NULL)
		bad = pcapng_out_write(&r->out, r->ng, sec, nsec, head, hlen,
		    data, caplen, len) == -1;
	else
		bad = pcap_out_write(&r->out, sec, nsec, head, hlen, data,
		    caplen, len) == -1;
	if (bad) {
		snprintf(r->err, sizeof r->err, "%s: write error: %s",
		    r->name, strerror(errno ? errno : EIO));
		return (-1);
	}
	return (0);
}

/*
 * Finish the capture: close the last file, then move every file into
 * place (rotate_start() made sure no name is an input's). Until then the
 * files are under temporary names, so a conversion that fails leaves
 * nothing behind.
 */
int
rotate_finish(struct rotate *r)
{
	size_t	i;
	int	empty = r->live && r->index > 0 && r->out.packets == 0;

	if (rotate_keep(r) == -1)
		return (-1);
	/* A live capture's last file, started with nothing to hold, goes. */
	if (empty && r->names[r->index] != NULL) {
		unlink(r->names[r->index]);
		free(r->names[r->index]);
		r->names[r->index] = NULL;
	}
	for (i = 0; i < r->nfiles; i++) {
		if (r->tmps[i] != NULL && rename(r->tmps[i], r->names[i]) == -1) {
			snprintf(r->err, sizeof r->err, "%s: %s", r->names[i],
			    strerror(errno));
			return (-1);
		}
		free(r->tmps[i]);
		r->tmps[i] = NULL;
	}
	return (0);
}

/*
 * Give up the files not yet in place (finished ones stay), and free the
 * rest: after rotate_finish() too.
 */
void
rotate_abort(struct rotate *r)
{
	size_t	i;

	if (r->out.p != NULL || r->out.f != NULL || r->out.tmp != NULL)
		pcap_out_abort(&r->out);
	for (i = 0; i < r->nfiles; i++) {
		if (r->tmps[i] != NULL)
			unlink(r->tmps[i]);
		free(r->tmps[i]);
		free(r->names[i]);
	}
	free(r->tmps);
	free(r->names);
	free(r->name);
	free(r->stamp);
	r->stamp = NULL;
	if (r->live)
		pcap_out_set_inplace(0);
	r->tmps = r->names = NULL;
	r->name = NULL;
	r->nfiles = 0;
	rotate_live = NULL;
}

/* Remove every temporary file of the capture (for a signal handler). */
void
rotate_unlink(void)
{
	size_t	i;

	if (rotate_live == NULL)
		return;
	for (i = 0; i < rotate_live->nfiles; i++) {
		if (rotate_live->tmps[i] != NULL)
			unlink(rotate_live->tmps[i]);
	}
}
