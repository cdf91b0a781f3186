/* A capture split into files of a size, as tcpdump -C and -W do. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rotate.h"

/* pcap-savefile(5): a 24-byte file header, 16 bytes before each packet. */
#define ROTATE_FILE_HDR		24
#define ROTATE_PKT_HDR		16

/* The capture being written, for a signal handler to clean up. */
static struct rotate	*rotate_live;

/*
 * The name of file number i: -w's name alone for a single capture; with
 * -C, OUT, OUT1, OUT2...; with -W as well, OUT0, OUT1... with as many
 * digits as the largest number needs (tcpdump's naming).
 */
static int
rotate_name(struct rotate *r, unsigned int i)
{
	free(r->name);
	r->name = NULL;
	if (r->max_bytes == 0 || (i == 0 && r->digits == 0))
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

/*
 * Append a frame (a synth_emit_fn), first moving on to the next file if
 * this one would grow past its size; a file holds at least one packet.
 */
int
rotate_write(void *arg, int64_t sec, uint32_t nsec, const uint8_t *head,
    size_t hlen, const uint8_t *data, size_t caplen, size_t len)
{
	struct rotate	*r = arg;
	uint64_t	 rec = ROTATE_PKT_HDR + hlen + caplen;
	unsigned int	 next;
	int		 bad;

	if (r->ng != NULL)
		rec = pcapng_out_prepare(r->ng, hlen, caplen, len);

	if (r->max_bytes > 0 && r->out.packets > 0 &&
	    r->bytes + rec > r->max_bytes) {
		if (rotate_keep(r) == -1)
			return (-1);
		next = r->index + 1;
		if (r->max_files > 0 && next == r->max_files)
			next = 0;
		if (rotate_start(r, next) == -1)
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

	if (rotate_keep(r) == -1)
		return (-1);
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
