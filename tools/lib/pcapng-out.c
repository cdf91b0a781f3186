/* Writing a pcapng capture that names the processes, hosts and keys. */

/*
 * The blocks (draft-ietf-opsawg-pcapng) are written here, not with
 * libwiretap: its writer takes every header block as GLib containers
 * (GArray of wtap_block_t in wtap_dump_params, GByteArray options) and
 * needs wtap_init() and its plugins first, which would put GLib and
 * libwiretap in every tool that links tools/lib/, and its records would
 * go through its own stdio writer, not pcap-out.c's 256 KiB buffers.
 * tshark and capinfos check what is written (tests/golden/pcapng.sh,
 * tests/shim/pcapng.sh).
 */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "frame.h"
#include "merge.h"
#include "pcapng-out.h"
#include "proto/tapshim.pb-c.h"

#define PCAPNG_SHB	0x0a0d0d0aU
#define PCAPNG_IDB	1U
#define PCAPNG_NRB	4U
#define PCAPNG_ISB	5U
#define PCAPNG_EPB	6U
#define PCAPNG_DSB	10U
#define PCAPNG_TLSK	0x544c534bU	/* "TLSK": an NSS key log */
#define PCAPNG_MAGIC	0x1a2b3c4dU

#define OPT_END		0
#define OPT_COMMENT	1
#define OPT_SHB_APP	4
#define OPT_IF_NAME	2
#define OPT_IF_DESC	3
#define OPT_IF_TSRESOL	9
#define OPT_ISB_IFDROP	5
#define NRB_END		0
#define NRB_IPV4	1
#define NRB_IPV6	2

#define LINKTYPE_ETHERNET	1
#define LINKTYPE_RAW		101

#define DNS_PORT	53
#define TCP_FIN_	0x01
#define TCP_SYN_	0x02
#define TCP_RST_	0x04

/* A block being built. */
struct blk {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	int	 bad;
};

/* Append n bytes, then zeros to a multiple of 4. */
static void
blk_put(struct blk *b, const void *p, size_t n)
{
	size_t	 pad = (4 - n % 4) % 4;
	void	*np;

	if (b->bad)
		return;
	if (b->len + n + pad > b->cap) {
		b->cap = (b->len + n + pad) * 2 + 64;
		if ((np = realloc(b->p, b->cap)) == NULL) {
			b->bad = 1;
			return;
		}
		b->p = np;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	memset(b->p + b->len + n, 0, pad);
	b->len += n + pad;
}

/* Append n bytes with no padding: a value continues after them. */
static void
blk_raw(struct blk *b, const void *p, size_t n)
{
	blk_put(b, p, n);
	if (!b->bad)
		b->len -= (4 - n % 4) % 4;
}

/* A 32-bit word in the writer's byte order: the SHB's magic says which. */
static void
blk_u32(struct blk *b, uint32_t v)
{
	blk_put(b, &v, 4);
}

/* An option: code, length, value padded to 4 bytes. */
static void
blk_opt(struct blk *b, uint16_t code, const void *p, size_t n)
{
	uint16_t	h[2];

	if (n > 65535)
		n = 65535;
	h[0] = code;
	h[1] = (uint16_t)n;
	blk_put(b, h, 4);
	blk_put(b, p, n);
}

/* A string option, left out when empty (pcapng has no empty strings). */
static void
blk_optstr(struct blk *b, uint16_t code, const char *s)
{
	if (s != NULL && s[0] != '\0')
		blk_opt(b, code, s, strlen(s));
}

/* Start a block of type t: its length is filled in by blk_end(). */
static void
blk_begin(struct blk *b, uint32_t t)
{
	b->len = 0;
	blk_u32(b, t);
	blk_u32(b, 0);
}

/* Close the block and append it to the capture. */
static int
blk_end(struct blk *b, struct pcap_out *o)
{
	uint32_t	total;

	blk_u32(b, (uint32_t)b->len + 4);
	if (b->bad) {
		errno = ENOMEM;
		return (-1);
	}
	total = (uint32_t)b->len;
	memcpy(b->p + 4, &total, 4);
	return (pcap_out_append(o, b->p, b->len));
}

/* Does the capture's name ask for pcapng? */
int
pcapng_is_name(const char *path)
{
	size_t	n = strlen(path);

	return (n > 7 && strcmp(path + n - 7, ".pcapng") == 0);
}

/* The interface of process pid, or NULL. */
static struct pcapng_if *
meta_find(const struct pcapng_meta *m, uint32_t pid)
{
	size_t	lo = 0, hi = m->nifs, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (m->ifs[mid].pid == pid)
			return (&m->ifs[mid]);
		if (m->ifs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (NULL);
}

/* The last path element of s. */
static const char *
meta_base(const char *s)
{
	const char	*p = strrchr(s, '/');

	return (p != NULL && p[1] != '\0' ? p + 1 : s);
}

/* Fill a new interface from the trace's Process message, if it has one. */
static int
meta_process(struct pcapng_if *f, const struct trace_conn *c)
{
	Tapshim__Trace__Process	*p = NULL;
	const char		*cmd = "";
	size_t			 i, n = 1;

	if (c->process.p != NULL)
		p = tapshim__trace__process__unpack(NULL, c->process.len,
		    c->process.p);
	f->exe = strdup(p != NULL && p->exe != NULL ? p->exe : "");
	if (p != NULL) {
		f->ppid = p->ppid;
		for (i = 0; i < p->n_argv; i++)
			n += strlen(p->argv[i]) + 1;
	}
	if (f->exe == NULL || (f->args = calloc(1, n)) == NULL)
		goto fail;
	for (i = 0; p != NULL && i < p->n_argv; i++) {
		if (i > 0)
			strcat(f->args, " ");
		strcat(f->args, p->argv[i]);
	}
	if (f->exe[0] != '\0')
		cmd = meta_base(f->exe);
	else if (p != NULL && p->n_argv > 0)
		cmd = meta_base(p->argv[0]);
	if (asprintf(&f->name, "%s[%u]", cmd[0] != '\0' ? cmd : "process",
	    (unsigned int)f->pid) == -1) {
		f->name = NULL;
		goto fail;
	}
	if (p != NULL)
		tapshim__trace__process__free_unpacked(p, NULL);
	return (0);
fail:
	if (p != NULL)
		tapshim__trace__process__free_unpacked(p, NULL);
	return (-1);
}

/* Add one recorded answer: name for the numeric address s. */
static int
meta_name(struct pcapng_meta *m, const char *s, const char *name)
{
	struct pcapng_name	 e, *np;

	memset(&e, 0, sizeof e);
	if (name == NULL || name[0] == '\0')
		return (0);
	if (inet_pton(AF_INET, s, e.ip) == 1)
		e.family = AF_INET;
	else if (inet_pton(AF_INET6, s, e.ip) == 1)
		e.family = AF_INET6;
	else
		return (0);
	if ((np = realloc(m->names, (m->nnames + 1) * sizeof *np)) == NULL)
		return (-1);
	m->names = np;
	if ((e.name = strdup(name)) == NULL)
		return (-1);
	m->names[m->nnames++] = e;
	return (0);
}

/* The names a getaddrinfo or gethostbyname call returned. */
static int
meta_resolution(struct pcapng_meta *m, const struct trace_conn *c)
{
	Tapshim__Trace__Resolution	*r;
	size_t				 i;
	int				 rc = 0;

	if (c->resolution.p == NULL)
		return (0);
	r = tapshim__trace__resolution__unpack(NULL, c->resolution.len,
	    c->resolution.p);
	if (r == NULL)
		return (0);
	for (i = 0; i < r->n_answers && rc == 0; i++)
		rc = meta_name(m, r->answers[i], r->name);
	tapshim__trace__resolution__free_unpacked(r, NULL);
	return (rc);
}

/* Why the trace lost data, added to the interface's reasons. */
static void
meta_reasons(struct pcapng_if *f, const struct trace_conn *c)
{
	Tapshim__Trace__TraceStats	*s;
	size_t				 i, n;

	if (c->stats.p == NULL)
		return;
	s = tapshim__trace__trace_stats__unpack(NULL, c->stats.len,
	    c->stats.p);
	if (s == NULL)
		return;
	for (i = 0; i < s->n_lost_reasons; i++) {
		if (strstr(f->why, s->lost_reasons[i]) != NULL)
			continue;
		n = strlen(f->why);
		snprintf(f->why + n, sizeof f->why - n, "%s%s", n ? ", " : "",
		    s->lost_reasons[i]);
	}
	tapshim__trace__trace_stats__free_unpacked(s, NULL);
}

/* Note a trace of the capture: its process, its lookups, its losses. */
int
pcapng_meta_add(struct pcapng_meta *m, const struct trace_info *t)
{
	const struct trace_conn	*c = &t->conn;
	struct pcapng_if	*f, *nf;
	size_t			 i;

	if ((f = meta_find(m, c->pid)) == NULL) {
		if ((nf = realloc(m->ifs, (m->nifs + 1) * sizeof *nf)) == NULL)
			return (-1);
		m->ifs = nf;
		for (i = m->nifs; i > 0 && m->ifs[i - 1].pid > c->pid; i--)
			m->ifs[i] = m->ifs[i - 1];
		f = &m->ifs[i];
		memset(f, 0, sizeof *f);
		f->pid = c->pid;
		m->nifs++;
		if (meta_process(f, c) == -1)
			return (-1);
	}
	if (c->has_stats) {
		f->has_stats = 1;
		f->drop += c->events_lost;
		f->lost[0] += c->lost[0];
		f->lost[1] += c->lost[1];
		meta_reasons(f, c);
	}
	if (t->has_time && (t->last_sec > f->last_sec ||
	    (t->last_sec == f->last_sec && t->last_nsec > f->last_nsec))) {
		f->last_sec = t->last_sec;
		f->last_nsec = t->last_nsec;
	}
	m->last_info = NULL;
	return (meta_resolution(m, c));
}

/* Is trace t a DNS client's, over UDP? */
static int
meta_is_dns(const struct trace_info *t)
{
	return (t->has_conn && (t->conn.remote.udp || t->conn.local.udp) &&
	    t->conn.remote.port == DNS_PORT);
}

/* The A and AAAA answers of a DNS response the program read. */
static int
meta_dns(struct pcapng_meta *m, const struct trace_event *ev)
{
	struct dns_msg	 d;
	const char	*why;
	int		 i;

	if (ev->kind != TRACE_EV_READ || dns_parse(ev->data, ev->caplen, &d,
	    &why) == -1 || !d.response)
		return (0);
	for (i = 0; i < d.nan; i++) {
		if ((d.an[i].type == 1 || d.an[i].type == 28) &&
		    meta_name(m, d.an[i].data, d.an[i].name) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Read the DNS answers in the visible traces of tf (hidden[i] nonzero:
 * not shown), then rewind it. Only a file with a DNS trace is read.
 */
int
pcapng_meta_scan(struct pcapng_meta *m, struct trace_file *tf,
    const char *hidden, char *errbuf)
{
	struct trace_event	ev;
	size_t			i;
	int			any = 0, rc;

	for (i = 0; i < trace_count(tf); i++)
		any |= !hidden[i] && meta_is_dns(trace_info(tf, i));
	if (!any)
		return (0);
	while ((rc = trace_next(tf, &ev, errbuf)) == 1) {
		if (!hidden[ev.trace] && meta_is_dns(trace_info(tf, ev.trace)) &&
		    meta_dns(m, &ev) == -1) {
			snprintf(errbuf, TRACE_ERRBUF_SIZE, "out of memory");
			return (-1);
		}
	}
	trace_rewind(tf);
	return (rc);
}

/* Read the key log at path, for the Decryption Secrets Block. */
int
pcapng_meta_keylog(struct pcapng_meta *m, const char *path, char *errbuf)
{
	FILE	*f;
	size_t	 n;
	void	*np;

	if ((f = fopen(path, "r")) == NULL)
		goto fail;
	for (;;) {
		if ((np = realloc(m->keys, m->nkeys + 65536)) == NULL) {
			fclose(f);
			errno = ENOMEM;
			goto fail;
		}
		m->keys = np;
		n = fread(m->keys + m->nkeys, 1, 65536, f);
		m->nkeys += n;
		if (n < 65536)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		goto fail;
	}
	fclose(f);
	return (0);
fail:
	snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
	return (-1);
}

/* Order two NRB records: family, address, name. */
static int
meta_cmp(const void *a, const void *b)
{
	const struct pcapng_name	*x = a, *y = b;
	int				 c;

	if (x->family != y->family)
		return (x->family < y->family ? -1 : 1);
	if ((c = memcmp(x->ip, y->ip, sizeof x->ip)) != 0)
		return (c);
	return (strcmp(x->name, y->name));
}

/* Everything is added: sort the names and drop the repeated ones. */
int
pcapng_meta_done(struct pcapng_meta *m)
{
	size_t	i, n = 0;

	if (m->nnames > 0)
		qsort(m->names, m->nnames, sizeof *m->names, meta_cmp);
	for (i = 0; i < m->nnames; i++) {
		if (n > 0 && meta_cmp(&m->names[n - 1], &m->names[i]) == 0)
			free(m->names[i].name);
		else
			m->names[n++] = m->names[i];
	}
	m->nnames = n;
	return (0);
}

/* Free what pcapng_meta_inputs() gathered. */
void
pcapng_meta_free(struct pcapng_meta *m)
{
	size_t	i;

	for (i = 0; i < m->nifs; i++) {
		free(m->ifs[i].name);
		free(m->ifs[i].exe);
		free(m->ifs[i].args);
	}
	for (i = 0; i < m->nnames; i++)
		free(m->names[i].name);
	free(m->ifs);
	free(m->names);
	free(m->keys);
	memset(m, 0, sizeof *m);
}

/*
 * Gather the blocks of a capture of the n merged inputs: their shown
 * traces' processes, lookups and losses, and the key log at keylog (NULL:
 * none). Errors go to errbuf (PCAP_ERRBUF_SIZE).
 */
int
pcapng_meta_inputs(struct pcapng_meta *m, struct input *in, unsigned int n,
    int link, const char *keylog, char *errbuf)
{
	char		ebuf[TRACE_ERRBUF_SIZE];
	unsigned int	i;
	size_t		j;

	memset(m, 0, sizeof *m);
	m->link = link;
	for (i = 0; i < n; i++) {
		for (j = 0; j < trace_count(in[i].tf); j++) {
			if (!in[i].hidden[j] && pcapng_meta_add(m,
			    trace_info(in[i].tf, j)) == -1)
				goto nomem;
		}
		if (pcapng_meta_scan(m, in[i].tf, in[i].hidden, ebuf) == -1) {
			snprintf(errbuf, PCAP_ERRBUF_SIZE, "%.200s", ebuf);
			return (-1);
		}
	}
	if (keylog != NULL && pcapng_meta_keylog(m, keylog, errbuf) == -1)
		return (-1);
	return (pcapng_meta_done(m));
nomem:
	snprintf(errbuf, PCAP_ERRBUF_SIZE, "out of memory");
	return (-1);
}

/* The Section Header Block and an Interface Description per process. */
static void
out_head(struct blk *b, struct pcap_out *o, const struct pcapng_meta *m,
    int *bad)
{
	static const uint8_t	 tsresol = 9;	/* nanoseconds */
	uint16_t		 v[2] = { 1, 0 };
	int64_t			 seclen = -1;
	uint32_t		 snap = PCAP_OUT_SNAPLEN;
	size_t			 i;

	blk_begin(b, PCAPNG_SHB);
	blk_u32(b, PCAPNG_MAGIC);
	blk_put(b, v, 4);
	blk_put(b, &seclen, 8);
	blk_optstr(b, OPT_SHB_APP, "tap2pcap (" PACKAGE_NAME ")");
	blk_opt(b, OPT_END, NULL, 0);
	*bad |= blk_end(b, o) == -1;
	for (i = 0; i < m->nifs; i++) {
		v[0] = m->link == FRAME_LINK_RAW ? LINKTYPE_RAW :
		    LINKTYPE_ETHERNET;
		blk_begin(b, PCAPNG_IDB);
		blk_put(b, v, 4);
		blk_u32(b, snap);
		blk_optstr(b, OPT_IF_NAME, m->ifs[i].name);
		blk_optstr(b, OPT_IF_DESC, m->ifs[i].args[0] != '\0' ?
		    m->ifs[i].args : m->ifs[i].exe);
		blk_opt(b, OPT_IF_TSRESOL, &tsresol, 1);
		blk_opt(b, OPT_END, NULL, 0);
		*bad |= blk_end(b, o) == -1;
	}
}

/* The Name Resolution Block and the Decryption Secrets Block. */
static void
out_names(struct blk *b, struct pcap_out *o, const struct pcapng_meta *m,
    int *bad)
{
	uint16_t	h[2];
	size_t		i, al, nl;

	if (m->nnames > 0) {
		blk_begin(b, PCAPNG_NRB);
		for (i = 0; i < m->nnames; i++) {
			al = m->names[i].family == AF_INET ? 4 : 16;
			nl = strlen(m->names[i].name) + 1;
			if (al + nl > 65535)
				continue;
			h[0] = m->names[i].family == AF_INET ? NRB_IPV4 :
			    NRB_IPV6;
			h[1] = (uint16_t)(al + nl);
			blk_put(b, h, 4);
			/* The address and the name are one padded value. */
			blk_raw(b, m->names[i].ip, al);
			blk_put(b, m->names[i].name, nl);
		}
		h[0] = NRB_END;
		h[1] = 0;
		blk_put(b, h, 4);
		blk_opt(b, OPT_END, NULL, 0);
		*bad |= blk_end(b, o) == -1;
	}
	if (m->nkeys > 0) {
		blk_begin(b, PCAPNG_DSB);
		blk_u32(b, PCAPNG_TLSK);
		blk_u32(b, (uint32_t)m->nkeys);
		blk_put(b, m->keys, m->nkeys);
		*bad |= blk_end(b, o) == -1;
	}
}

/*
 * Start a pcapng capture at path ("-" for stdout): its header blocks,
 * written again at the head of every file of a rotation. Errors go to
 * errbuf (PCAP_ERRBUF_SIZE).
 */
int
pcapng_out_open(struct pcap_out *o, struct pcapng_meta *m, const char *path,
    char *errbuf)
{
	struct blk	b;
	int		bad = 0;

	if (pcap_out_open_raw(o, path, errbuf) == -1)
		return (-1);
	memset(&b, 0, sizeof b);
	out_head(&b, o, m, &bad);
	out_names(&b, o, m, &bad);
	free(b.p);
	m->fresh = 1;	/* its first packet says who made it */
	if (bad) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s", path,
		    strerror(errno ? errno : EIO));
		pcap_out_abort(o);
		return (-1);
	}
	return (0);
}

/*
 * Start a new section in the open capture o: its header blocks again,
 * with the interfaces m has now (a live capture met a new process).
 */
int
pcapng_out_section(struct pcap_out *o, struct pcapng_meta *m, char *errbuf)
{
	struct blk	b;
	int		bad = 0;

	memset(&b, 0, sizeof b);
	out_head(&b, o, m, &bad);
	out_names(&b, o, m, &bad);
	free(b.p);
	m->fresh = 1;
	m->last_info = NULL;
	if (bad) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s",
		    o->path != NULL ? o->path : "-",
		    strerror(errno ? errno : EIO));
		return (-1);
	}
	return (0);
}

/* Append printf output to the comment being built, cut at its size. */
static void
note(struct pcapng_meta *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct pcapng_meta *m, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (m->clen >= sizeof m->comment - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->comment + m->clen, sizeof m->comment - m->clen, fmt,
	    ap);
	va_end(ap);
	if (n > 0)
		m->clen += (size_t)n;
	if (m->clen >= sizeof m->comment)
		m->clen = sizeof m->comment - 1;
}

/* The trace's event kind: what the hooked call did, not its name. */
static const char *
event_name(const struct trace_event *ev)
{
	switch (ev->kind) {
	case TRACE_EV_READ:
		return ("read");
	case TRACE_EV_WRITE:
		return ("write");
	case TRACE_EV_CLOSED:
		return ("close");
	default:
		return ("other");
	}
}

/* The ptcpdump-style lines: who made the packet, and with what call. */
static void
note_process(struct pcapng_meta *m, const struct pcapng_if *f,
    const struct trace_event *ev, const struct trace_info *t, int syn)
{
	int	i;

	note(m, "PID: %u\n", (unsigned int)f->pid);
	if (f->exe[0] != '\0')
		note(m, "Cmd: %s\n", f->exe);
	if (f->args[0] != '\0')
		note(m, "Args: %s\n", f->args);
	if (ev->tid != 0)
		note(m, "ThreadId: %u\n", (unsigned int)ev->tid);
	if (f->ppid != 0)
		note(m, "ParentPID: %u\n", (unsigned int)f->ppid);
	note(m, "Event: %s", event_name(ev));
	if (ev->kind != TRACE_EV_CLOSED)
		note(m, ", %llu bytes", (unsigned long long)ev->len);
	if (ev->duration != 0)
		note(m, ", %llu ns", (unsigned long long)ev->duration);
	if (ev->error[0] != '\0')
		note(m, ", %s", ev->error);
	note(m, "\n");
	if (syn && t->conn.nbacktrace > 0) {
		note(m, "Backtrace:");
		for (i = 0; i < t->conn.nbacktrace; i++)
			note(m, " %.*s%s", (int)t->conn.backtrace[i].len,
			    (const char *)t->conn.backtrace[i].p,
			    i + 1 < t->conn.nbacktrace ? " |" : "");
		note(m, "\n");
	}
}

/* The interface of the frame's trace. */
static uint32_t
frame_if(struct pcapng_meta *m, const struct trace_info *t)
{
	const struct pcapng_if	*f;

	if (t != m->last_info) {
		f = meta_find(m, t->conn.pid);
		m->last_info = t;
		m->last_if = f != NULL ? (uint32_t)(f - m->ifs) : 0;
	}
	return (m->last_if);
}

/*
 * Decide the comment of the frame the synthesizer is emitting, of caplen
 * bytes of data of len: the first packet with payload of each read or
 * write, every SYN, FIN and RST, every datagram, a truncated packet and
 * the first of each file get one. Returns the Enhanced Packet Block's
 * size, headers, data, padding and comment included.
 */
size_t
pcapng_out_prepare(struct pcapng_meta *m, size_t hlen, size_t caplen,
    size_t len)
{
	const struct synth		*sy = m->sy;
	const struct trace_event	*ev = sy->event;
	const struct trace_info		*t = sy->stream->info;
	const struct pcapng_if		*f;
	int				 first = 0, ctl;

	m->clen = 0;
	if (ev != m->last_ev || ev->offset != m->last_off) {
		m->last_ev = ev;
		m->last_off = ev->offset;
		m->data_seen = 0;
	}
	if (len > 0 && !m->data_seen) {
		m->data_seen = 1;
		first = 1;
	}
	ctl = sy->tcpflags & (TCP_SYN_ | TCP_FIN_ | TCP_RST_);
	if (first || ctl || sy->stream->udp || caplen < len || m->fresh) {
		f = &m->ifs[frame_if(m, t)];
		note_process(m, f, ev, t, (sy->tcpflags & TCP_SYN_) != 0);
		if (caplen < len)
			note(m, "Truncated: %zu of %zu bytes not recorded\n",
			    len - caplen, len);
		m->clen--;	/* the last newline */
	}
	m->fresh = 0;
	return (32 + (hlen + caplen + 3) / 4 * 4 +
	    (m->clen ? 8 + (m->clen + 3) / 4 * 4 : 0));
}

/*
 * Append one frame as an Enhanced Packet Block, on the interface of its
 * process, with the comment pcapng_out_prepare() decided.
 */
int
pcapng_out_write(struct pcap_out *o, struct pcapng_meta *m, int64_t sec,
    uint32_t nsec, const uint8_t *head, size_t hlen, const uint8_t *data,
    size_t caplen, size_t len)
{
	static const uint8_t	 zero[4];
	uint32_t		 h[7], tail;
	uint16_t		 oh[2];
	uint64_t		 ts = (uint64_t)sec * 1000000000U + nsec;
	size_t			 cap = hlen + caplen, pad = (4 - cap % 4) % 4;
	size_t			 opt;

	opt = m->clen ? 4 + (m->clen + 3) / 4 * 4 + 4 : 0;
	h[0] = PCAPNG_EPB;
	h[1] = (uint32_t)(32 + cap + pad + opt);
	h[2] = frame_if(m, m->sy->stream->info);
	h[3] = (uint32_t)(ts >> 32);
	h[4] = (uint32_t)ts;
	h[5] = (uint32_t)cap;
	h[6] = (uint32_t)(hlen + len);
	tail = h[1];
	o->packets++;
	if (pcap_out_append(o, h, sizeof h) == -1 ||
	    pcap_out_append(o, head, hlen) == -1 ||
	    pcap_out_append(o, data, caplen) == -1 ||
	    pcap_out_append(o, zero, pad) == -1)
		return (-1);
	if (m->clen) {
		oh[0] = OPT_COMMENT;
		oh[1] = (uint16_t)m->clen;
		if (pcap_out_append(o, oh, 4) == -1 ||
		    pcap_out_append(o, m->comment, m->clen) == -1 ||
		    pcap_out_append(o, zero, (4 - m->clen % 4) % 4) == -1 ||
		    pcap_out_append(o, zero, 4) == -1)
			return (-1);
	}
	return (pcap_out_append(o, &tail, 4));
}

/* An Interface Statistics Block per process that kept statistics. */
static int
out_stats(struct pcap_out *o, const struct pcapng_meta *m)
{
	struct blk	 b;
	char		 c[512];
	uint64_t	 ts;
	size_t		 i;
	int		 bad = 0;

	memset(&b, 0, sizeof b);
	for (i = 0; i < m->nifs; i++) {
		if (!m->ifs[i].has_stats)
			continue;
		ts = (uint64_t)m->ifs[i].last_sec * 1000000000U +
		    m->ifs[i].last_nsec;
		blk_begin(&b, PCAPNG_ISB);
		blk_u32(&b, (uint32_t)i);
		blk_u32(&b, (uint32_t)(ts >> 32));
		blk_u32(&b, (uint32_t)ts);
		snprintf(c, sizeof c, "events lost: %llu; bytes not recorded: "
		    "%llu read, %llu written%s%s",
		    (unsigned long long)m->ifs[i].drop,
		    (unsigned long long)m->ifs[i].lost[0],
		    (unsigned long long)m->ifs[i].lost[1],
		    m->ifs[i].why[0] ? "; reasons: " : "", m->ifs[i].why);
		blk_optstr(&b, OPT_COMMENT, c);
		blk_opt(&b, OPT_ISB_IFDROP, &m->ifs[i].drop, 8);
		blk_opt(&b, OPT_END, NULL, 0);
		bad |= blk_end(&b, o) == -1;
	}
	free(b.p);
	return (bad ? -1 : 0);
}

/* The statistics, then flush and close as pcap_out_close() does. */
int
pcapng_out_close(struct pcap_out *o, struct pcapng_meta *m, char *errbuf)
{
	if (out_stats(o, m) == -1) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s",
		    o->path != NULL ? o->path : "-",
		    strerror(errno ? errno : EIO));
		pcap_out_abort(o);
		return (-1);
	}
	return (pcap_out_close(o, errbuf));
}
