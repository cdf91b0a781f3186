/* Writing a pcapng capture that names the processes, hosts and keys. */

/*
 * The blocks are written by libwiretap, Wireshark's capture-file library:
 * its pcapng writer (wtap_dump_fdopen) takes the Section Header Block, an
 * Interface Description Block per process with its Interface Statistics,
 * the Decryption Secrets Block, and each Enhanced Packet Block with its
 * comment. One block is written here: the Name Resolution Block, since
 * libwiretap 4.0 writes the names given with wtap_dump_set_addrinfo_list()
 * only at wtap_dump_close(), after the last packet, where a reader that
 * makes one pass (tshark -r) shows no name for any packet; nothing in its
 * API writes them sooner. The block goes after the header blocks, through
 * the descriptor libwiretap writes, once it has flushed what it holds.
 */

#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wiretap/secrets-types.h>
#include <wiretap/wtap.h>
#include <wsutil/wslog.h>

#include "dns.h"
#include "frame.h"
#include "merge.h"
#include "pcapng-out.h"
#include "proto/tapshim.pb-c.h"

#define PCAPNG_NRB	4U
#define NRB_END		0
#define NRB_IPV4	1
#define NRB_IPV6	2
#define NS_PER_SEC	1000000000U

#define DNS_PORT	53
#define TCP_FIN_	0x01
#define TCP_SYN_	0x02
#define TCP_RST_	0x04

static void	out_discard(struct pcapng_meta *);

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

/* A 32-bit word in the writer's byte order: the SHB's says which. */
static void
blk_u32(struct blk *b, uint32_t v)
{
	blk_put(b, &v, 4);
}

/* Start a block of type t: its length is filled in by blk_end(). */
static void
blk_begin(struct blk *b, uint32_t t)
{
	b->len = 0;
	blk_u32(b, t);
	blk_u32(b, 0);
}

/* Close the block: its length at both ends. */
static int
blk_end(struct blk *b)
{
	uint32_t	total;

	blk_u32(b, (uint32_t)b->len + 4);
	if (b->bad) {
		errno = ENOMEM;
		return (-1);
	}
	total = (uint32_t)b->len;
	memcpy(b->p + 4, &total, 4);
	return (0);
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
	out_discard(m);
	if (m->pblk != NULL)
		wtap_block_unref(m->pblk);
	free(m->pkt);
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

/* libwiretap's log: tools/lib never prints, so it goes nowhere. */
static void
out_nolog(const char *domain, enum ws_log_level level, struct timespec ts,
    const char *file, long line, const char *func, const char *fmt,
    va_list ap, void *data)
{
	(void)domain;
	(void)level;
	(void)ts;
	(void)file;
	(void)line;
	(void)func;
	(void)fmt;
	(void)ap;
	(void)data;
}

/* libwiretap, set up once per process (its file types, no plugins). */
static void
out_init(void)
{
	static int	done;

	if (done)
		return;
	/* Unset, its log writes every debug message to stderr. */
	ws_log_set_writer(out_nolog);
	wtap_init(FALSE);
	done = 1;
}

/* The link type of the capture, as libwiretap's encapsulation. */
static int
out_encap(const struct pcapng_meta *m)
{
	return (m->link == FRAME_LINK_RAW ? WTAP_ENCAP_RAW_IP :
	    WTAP_ENCAP_ETHERNET);
}

/* The Section Header Block: the application that wrote the file. */
static GArray *
out_shb(void)
{
	static const char	 app[] = "tap2pcap (" PACKAGE_NAME ")";
	GArray			*a;
	wtap_block_t		 b;

	a = g_array_new(FALSE, FALSE, sizeof (wtap_block_t));
	b = wtap_block_create(WTAP_BLOCK_SECTION);
	wtap_block_add_string_option(b, OPT_SHB_USERAPPL, app, strlen(app));
	g_array_append_val(a, b);
	return (a);
}

/* An Interface Statistics Block: what process i lost, and why. */
static wtap_block_t
out_isb(const struct pcapng_meta *m, size_t i)
{
	const struct pcapng_if		*f = &m->ifs[i];
	wtapng_if_stats_mandatory_t	*s;
	wtap_block_t			 b;
	uint64_t			 ts;
	char				 c[512];

	ts = (uint64_t)f->last_sec * NS_PER_SEC + f->last_nsec;
	b = wtap_block_create(WTAP_BLOCK_IF_STATISTICS);
	s = wtap_block_get_mandatory_data(b);
	s->interface_id = (guint32)i;
	s->ts_high = (guint32)(ts >> 32);
	s->ts_low = (guint32)ts;
	snprintf(c, sizeof c, "events lost: %llu; bytes not recorded: "
	    "%llu read, %llu written%s%s", (unsigned long long)f->drop,
	    (unsigned long long)f->lost[0], (unsigned long long)f->lost[1],
	    f->why[0] ? "; reasons: " : "", f->why);
	wtap_block_add_string_option(b, OPT_COMMENT, c, strlen(c));
	wtap_block_add_uint64_option(b, OPT_ISB_IFDROP, f->drop);
	return (b);
}

/* A string option, left out when empty (pcapng has no empty strings). */
static void
out_str(wtap_block_t b, guint code, const char *s)
{
	if (s != NULL && s[0] != '\0')
		wtap_block_add_string_option(b, code, s, strlen(s));
}

/*
 * An Interface Description Block per process: named like curl[1234],
 * the command line its description, nanosecond timestamps; the losses
 * known now, for libwiretap to write as statistics when it closes.
 */
static wtapng_iface_descriptions_t *
out_idbs(const struct pcapng_meta *m)
{
	wtapng_iface_descriptions_t	*d;
	wtapng_if_descr_mandatory_t	*im;
	wtap_block_t			 b, s;
	size_t				 i;

	d = g_new0(wtapng_iface_descriptions_t, 1);
	d->interface_data = g_array_new(FALSE, FALSE, sizeof (wtap_block_t));
	for (i = 0; i < m->nifs; i++) {
		b = wtap_block_create(WTAP_BLOCK_IF_ID_AND_INFO);
		im = wtap_block_get_mandatory_data(b);
		im->wtap_encap = out_encap(m);
		im->time_units_per_second = NS_PER_SEC;
		im->tsprecision = WTAP_TSPREC_NSEC;
		im->snap_len = PCAP_OUT_SNAPLEN;
		out_str(b, OPT_IDB_NAME, m->ifs[i].name);
		out_str(b, OPT_IDB_DESCRIPTION, m->ifs[i].args[0] != '\0' ?
		    m->ifs[i].args : m->ifs[i].exe);
		wtap_block_add_uint8_option(b, OPT_IDB_TSRESOL, 9);
		if (m->ifs[i].has_stats) {
			s = out_isb(m, i);
			im->interface_statistics = g_array_new(FALSE, FALSE,
			    sizeof (wtap_block_t));
			g_array_append_val(im->interface_statistics, s);
			im->num_stat_entries = 1;
		}
		g_array_append_val(d->interface_data, b);
	}
	return (d);
}

/* The Decryption Secrets Block: the key log, as TLSK. */
static GArray *
out_dsbs(const struct pcapng_meta *m)
{
	wtapng_dsb_mandatory_t	*dm;
	GArray			*a;
	wtap_block_t		 b;

	if (m->nkeys == 0 || m->nkeys > UINT32_MAX)
		return (NULL);
	a = g_array_new(FALSE, FALSE, sizeof (wtap_block_t));
	b = wtap_block_create(WTAP_BLOCK_DECRYPTION_SECRETS);
	dm = wtap_block_get_mandatory_data(b);
	dm->secrets_type = SECRETS_TYPE_TLS;
	dm->secrets_len = (guint32)m->nkeys;
	dm->secrets_data = g_memdup2(m->keys, m->nkeys);
	g_array_append_val(a, b);
	return (a);
}

/* The Name Resolution Block, built here (see the top of the file). */
static int
out_nrb(struct blk *b, const struct pcapng_meta *m)
{
	uint16_t	h[2];
	size_t		i, al, nl;

	blk_begin(b, PCAPNG_NRB);
	for (i = 0; i < m->nnames; i++) {
		al = m->names[i].family == AF_INET ? 4 : 16;
		nl = strlen(m->names[i].name) + 1;
		if (al + nl > 65535)
			continue;
		h[0] = m->names[i].family == AF_INET ? NRB_IPV4 : NRB_IPV6;
		h[1] = (uint16_t)(al + nl);
		blk_put(b, h, 4);
		/* The address and the name are one padded value. */
		blk_raw(b, m->names[i].ip, al);
		blk_put(b, m->names[i].name, nl);
	}
	h[0] = NRB_END;
	h[1] = 0;
	blk_put(b, h, 4);
	blk_u32(b, 0);		/* no options */
	return (blk_end(b));
}

/* Write the Name Resolution Block after what libwiretap has written. */
static int
out_names(struct pcapng_meta *m)
{
	struct blk	 b;
	size_t		 off = 0;
	ssize_t		 n;
	int		 err;

	if (m->nnames == 0)
		return (0);
	if (!wtap_dump_flush(m->wd, &err)) {
		errno = err > 0 ? err : EIO;
		return (-1);
	}
	memset(&b, 0, sizeof b);
	if (out_nrb(&b, m) == -1) {
		free(b.p);
		return (-1);
	}
	while (off < b.len) {
		n = write(m->wfd, b.p + off, b.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			free(b.p);
			return (-1);
		}
		off += (size_t)n;
	}
	wtap_set_bytes_dumped(m->wd, wtap_get_bytes_dumped(m->wd) +
	    (gint64)b.len);
	free(b.p);
	return (0);
}

/* Free the header blocks of the file just closed. */
static void
out_free_blocks(struct pcapng_meta *m)
{
	if (m->shb != NULL)
		wtap_block_array_free(m->shb);
	if (m->idb != NULL)
		wtap_free_idb_info(m->idb);
	m->shb = m->idb = NULL;
}

/*
 * Give up the file libwiretap is writing (a write failed, the run was
 * stopped): what it still holds goes to /dev/null, not into the file.
 */
static void
out_discard(struct pcapng_meta *m)
{
	gboolean	 reload;
	gchar		*info = NULL;
	int		 err, fd;

	if (m->wd != NULL) {
		if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
			(void)dup2(fd, m->wfd);
			close(fd);
		}
		(void)wtap_dump_close(m->wd, &reload, &err, &info);
		g_free(info);
		m->wd = NULL;
	}
	out_free_blocks(m);
}

/*
 * Move a new section's header blocks from the memfd libwiretap wrote them
 * to onto the end of o, then point the dumper's descriptor there: its
 * wtap_dump_fdopen() seeks a seekable descriptor to offset 0 (it undoes
 * its lseek(fd, 1, SEEK_CUR) probe with lseek(fd, 0, SEEK_SET)), which
 * would write the section over the file's start.
 */
static int
out_move(struct pcap_out *o, struct pcapng_meta *m)
{
	uint8_t	 buf[65536];
	off_t	 at = 0;
	ssize_t	 n, w, done;
	int	 err, fd;

	if (!wtap_dump_flush(m->wd, &err)) {
		errno = err > 0 ? err : EIO;
		return (-1);
	}
	while ((n = pread(m->wfd, buf, sizeof buf, at)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (-1);
		for (done = 0; done < n; done += w) {
			w = write(o->fd, buf + done, (size_t)(n - done));
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w <= 0) {
				if (w == 0)
					errno = EIO;
				return (-1);
			}
		}
		at += n;
	}
	if ((fd = dup(o->fd)) == -1)
		return (-1);
	if (dup2(fd, m->wfd) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * Start a section at o's descriptor's offset, base bytes into the file:
 * libwiretap's dumper on a dup of it writes the header blocks (the first
 * of the file, or of a new section), then the names. Errors go to errbuf
 * (PCAP_ERRBUF_SIZE); the file is left to the caller.
 */
static int
out_start(struct pcap_out *o, struct pcapng_meta *m, off_t base,
    int section, char *errbuf)
{
	wtap_dump_params	 p = WTAP_DUMP_PARAMS_INIT;
	const char		*path = o->path != NULL ? o->path : "-";
	gchar			*info = NULL;
	int			 err = 0;

	out_init();
	/* A new section's header blocks go first to a memfd (out_move()). */
	m->wfd = section ? memfd_create("pcapng-section", MFD_CLOEXEC) :
	    dup(o->fd);
	if (m->wfd == -1) {
		err = errno;
		goto fail;
	}
	m->shb = out_shb();
	m->idb = out_idbs(m);
	p.encap = WTAP_ENCAP_PER_PACKET;
	p.snaplen = PCAP_OUT_SNAPLEN;
	p.tsprec = WTAP_TSPREC_NSEC;
	p.shb_hdrs = m->shb;
	p.idb_inf = m->idb;
	p.dsbs_initial = out_dsbs(m);
	m->wd = wtap_dump_fdopen(m->wfd, wtap_pcapng_file_type_subtype(),
	    WTAP_UNCOMPRESSED, &p, &err, &info);
	if (m->wd == NULL) {
		/* The descriptor may be closed already: it is left. */
		if (p.dsbs_initial != NULL)
			wtap_block_array_free(p.dsbs_initial);
		goto fail;
	}
	if ((section && out_move(o, m) == -1) || out_names(m) == -1) {
		err = errno;
		goto fail;
	}
	o->off = base + (off_t)wtap_get_bytes_dumped(m->wd);
	m->fresh = 1;	/* its first packet says who made it */
	m->last_info = NULL;
	return (0);

fail:
	if (err > 0)
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s", path,
		    strerror(err));
	else
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: libwiretap: %s%s%s",
		    path, wtap_strerror(err), info != NULL ? ": " : "",
		    info != NULL ? info : "");
	g_free(info);
	out_discard(m);
	return (-1);
}

/*
 * End the section being written: libwiretap writes its statistics and
 * closes its descriptor; o stays open.
 */
static int
out_end(struct pcap_out *o, struct pcapng_meta *m, char *errbuf)
{
	gboolean	 reload;
	gchar		*info = NULL;
	int		 err = 0, ok;

	ok = m->wd != NULL && wtap_dump_close(m->wd, &reload, &err, &info);
	m->wd = NULL;
	g_free(info);
	out_free_blocks(m);
	if (!ok) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: write error: %s",
		    o->path != NULL ? o->path : "-",
		    err > 0 ? strerror(err) : wtap_strerror(err));
		return (-1);
	}
	return (0);
}

/*
 * Start a pcapng capture at path ("-" for stdout): its header blocks,
 * written again at the head of every file of a rotation. The statistics
 * written at its end are those m holds now: libwiretap 4.0 copies them
 * with the interfaces when it opens, and has no call to add one later.
 * Errors go to errbuf (PCAP_ERRBUF_SIZE).
 */
int
pcapng_out_open(struct pcap_out *o, struct pcapng_meta *m, const char *path,
    char *errbuf)
{
	off_t	pos;

	out_discard(m);
	if (pcap_out_open_raw(o, path, errbuf) == -1)
		return (-1);
	/* Standard output may be a file already written to: see out_move(). */
	if ((pos = lseek(o->fd, 0, SEEK_CUR)) == -1)
		pos = 0;
	if (out_start(o, m, pos, pos > 0, errbuf) == -1) {
		pcap_out_abort(o);
		return (-1);
	}
	return (0);
}

/*
 * Start a new section in the open capture o, with the interfaces m has
 * now (a live capture met a new process): the section being written ends
 * with its statistics, and libwiretap writes the new one's header blocks
 * after it, as it does a file's.
 */
int
pcapng_out_section(struct pcap_out *o, struct pcapng_meta *m, char *errbuf)
{
	off_t	base;

	if (out_end(o, m, errbuf) == -1)
		return (-1);
	if ((base = lseek(o->fd, 0, SEEK_CUR)) == -1)
		base = o->off;
	return (out_start(o, m, base, 1, errbuf));
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
	wtap_rec	 rec;
	gchar		*info = NULL;
	size_t		 cap = hlen + caplen;
	void		*np;
	int		 err;

	/* libwiretap takes a frame in one piece. */
	if (cap > m->pktcap) {
		if ((np = realloc(m->pkt, cap)) == NULL)
			return (-1);
		m->pkt = np;
		m->pktcap = cap;
	}
	memcpy(m->pkt, head, hlen);
	if (caplen > 0)
		memcpy(m->pkt + hlen, data, caplen);
	memset(&rec, 0, sizeof rec);
	rec.rec_type = REC_TYPE_PACKET;
	rec.presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN |
	    WTAP_HAS_INTERFACE_ID;
	rec.ts.secs = (time_t)sec;
	rec.ts.nsecs = (int)nsec;
	rec.tsprec = WTAP_TSPREC_NSEC;
	rec.rec_header.packet_header.caplen = (guint32)cap;
	rec.rec_header.packet_header.len = (guint32)(hlen + len);
	rec.rec_header.packet_header.pkt_encap = out_encap(m);
	rec.rec_header.packet_header.interface_id =
	    frame_if(m, m->sy->stream->info);
	if (m->clen) {
		if (m->pblk == NULL) {
			m->pblk = wtap_block_create(WTAP_BLOCK_PACKET);
			wtap_block_add_string_option(m->pblk, OPT_COMMENT,
			    m->comment, m->clen);
		} else
			wtap_block_set_nth_string_option_value(m->pblk,
			    OPT_COMMENT, 0, m->comment, m->clen);
		rec.block = m->pblk;
	}
	o->packets++;
	if (!wtap_dump(m->wd, &rec, m->pkt, &err, &info)) {
		g_free(info);
		errno = err > 0 ? err : EIO;
		return (-1);
	}
	return (0);
}

/*
 * Close the file: libwiretap writes the statistics and closes its
 * descriptor; then flush and close as pcap_out_close() does.
 */
int
pcapng_out_close(struct pcap_out *o, struct pcapng_meta *m, char *errbuf)
{
	if (out_end(o, m, errbuf) == -1) {
		pcap_out_abort(o);
		return (-1);
	}
	return (pcap_out_close(o, errbuf));
}
