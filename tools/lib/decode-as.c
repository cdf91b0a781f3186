/* Telling Wireshark how to decode TLS plaintext on its real ports. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include "decode-as.h"
#include "escape.h"
#include "outfile.h"

/* PostgreSQL's SSLRequest (protocol 1234.5679), what a client sends first. */
static const uint8_t	pg_sslrequest[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16,
			    0x2f };

/*
 * Does this TLS plaintext start with a STARTTLS negotiation in the clear,
 * which makes Wireshark's dissector expect TLS after it? 1: PostgreSQL
 * (SSLRequest, then the server's 'S'); 2: MySQL or MariaDB (a greeting,
 * protocol 10, from the server); else 0.
 */
int
decodeas_starttls(const struct trace_info *t)
{
	int	cl = t->conn.role == TRACE_ROLE_SERVER ? 0 : 1;

	if (t->headlen[cl] == sizeof pg_sslrequest &&
	    memcmp(t->head[cl], pg_sslrequest, sizeof pg_sslrequest) == 0)
		return (1);
	if (t->headlen[!cl] >= 5 && t->head[!cl][3] == 0 &&
	    t->head[!cl][4] == 10)
		return (2);
	return (0);
}

/* The protocol of a TLS plaintext trace, tshark's name; *st: STARTTLS. */
static const char *
decodeas_proto_of(const struct trace_info *t, int *st)
{
	*st = decodeas_starttls(t);
	return (*st == 1 ? "pgsql" : *st == 2 ? "mysql" :
	    strcmp(t->conn.alpn, "h2") == 0 ? "http2" : "http");
}

/*
 * Note a TLS plaintext trace (pt, in the file pname) whose connection's
 * TLS records are another trace (ct, in cname) of the same addresses:
 * TAPSHIM_TLS=both. The capture shows them as two streams on one server
 * port, so a hint by that port would decode the records as plaintext
 * too: the entry is the plaintext stream's, by the client port it is
 * drawn on (plain, cipher: the two streams' ends as drawn, client then
 * server; they are read when the hint is made, after the capture).
 */
void
decodeas_add_stream(struct decodeas *d, const struct trace_info *pt,
    const char *pname, const struct frame_ep *const plain[2],
    const struct trace_info *ct, const char *cname,
    const struct frame_ep *const cipher[2])
{
	int	st;

	if (d->n == DECODEAS_MAX)
		return;
	memset(&d->e[d->n], 0, sizeof d->e[d->n]);
	d->e[d->n].proto = decodeas_proto_of(pt, &st);
	d->e[d->n].starttls = st;
	d->e[d->n].plain[0] = plain[0];
	d->e[d->n].plain[1] = plain[1];
	d->e[d->n].cipher[0] = cipher[0];
	d->e[d->n].cipher[1] = cipher[1];
	d->e[d->n].pt = pt;
	d->e[d->n].ct = ct;
	d->e[d->n].pname = pname;
	d->e[d->n].cname = cname;
	d->n++;
}

/* "127.0.0.1:40100", "[::1]:40100": an end as the capture shows it. */
static void
decodeas_ep(const struct frame_ep *ep, char *buf, size_t size)
{
	char	ip[INET6_ADDRSTRLEN];

	if (inet_ntop(ep->family, ep->ip, ip, sizeof ip) == NULL)
		snprintf(ip, sizeof ip, "?");
	snprintf(buf, size, ep->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
	    (unsigned int)ep->port);
}

/*
 * The hint for entry i, for tap2pcap to say: "TLS plaintext on port
 * 8443: decode it with tshark -d tcp.port==8443,http2", and for one
 * stream (decodeas_add_stream()) which stream, by its ends, which is its
 * twin of TLS records, and the plaintext's client port to decode by.
 * omitted: --starttls-omit was given.
 */
void
decodeas_hint(const struct decodeas *d, size_t i, int omitted, char *buf,
    size_t size)
{
	char		 pc[64], ps[64], cc[64], cs[64], esc[2][512];
	const char	*after;
	unsigned int	 port;

	after = d->e[i].starttls == 0 || omitted ? "" : " after converting "
	    "with --starttls-omit (the STARTTLS negotiation in the clear "
	    "makes the dissector expect TLS)";
	if (d->e[i].plain[0] == NULL) {
		snprintf(buf, size, "TLS plaintext on port %u: decode it with "
		    "tshark -d tcp.port==%u,%s%s", (unsigned int)d->e[i].port,
		    (unsigned int)d->e[i].port, d->e[i].proto, after);
		return;
	}
	decodeas_ep(d->e[i].plain[0], pc, sizeof pc);
	decodeas_ep(d->e[i].plain[1], ps, sizeof ps);
	decodeas_ep(d->e[i].cipher[0], cc, sizeof cc);
	decodeas_ep(d->e[i].cipher[1], cs, sizeof cs);
	port = d->e[i].plain[0]->port;
	snprintf(buf, size, "TLS plaintext in the stream %s -> %s (%s trace "
	    "%llu; its TLS records are the stream %s -> %s, %s trace %llu): "
	    "decode that stream alone with tshark -d tcp.port==%u,%s%s", pc,
	    ps, esc_str(esc[0], sizeof esc[0], d->e[i].pname),
	    (unsigned long long)d->e[i].pt->trace_id, cc, cs,
	    esc_str(esc[1], sizeof esc[1], d->e[i].cname),
	    (unsigned long long)d->e[i].ct->trace_id, port, d->e[i].proto,
	    after);
}

/*
 * Note a connection whose trace holds TLS plaintext: its server's port,
 * and the protocol, from the plaintext first (PostgreSQL, MySQL), then
 * ALPN (h2), else HTTP/1. Once per port.
 */
void
decodeas_add(struct decodeas *d, const struct trace_info *t)
{
	const struct trace_conn	*c = &t->conn;
	const struct trace_addr	*srv;
	const char		*proto;
	size_t			 i;
	int			 st;

	if (c->tls != TRACE_TLS_PLAINTEXT)
		return;
	srv = c->role == TRACE_ROLE_SERVER ? &c->local : &c->remote;
	if (srv->family != AF_INET && srv->family != AF_INET6)
		return;
	proto = decodeas_proto_of(t, &st);
	for (i = 0; i < d->n; i++) {
		if (d->e[i].plain[0] == NULL && d->e[i].port == srv->port) {
			if (strcmp(proto, "http") != 0)
				d->e[i].proto = proto;
			d->e[i].starttls |= st;
			return;
		}
	}
	if (d->n == DECODEAS_MAX)
		return;
	d->e[d->n].port = srv->port;
	d->e[d->n].starttls = st;
	d->e[d->n++].proto = proto;
}

/* tshark's name for the protocol on entry i: "http2", "pgsql"... */
const char *
decodeas_proto(const struct decodeas *d, size_t i)
{
	return (d->e[i].proto);
}

/*
 * Write Wireshark's decode_as_entries lines for the ports to path (for a
 * profile's decode_as_entries file), as a capture is written (outfile.c:
 * a planted symlink is replaced, never followed). errbuf gets why on
 * failure: -1.
 */
int
decodeas_write(const struct decodeas *d, const char *path, char *errbuf,
    size_t size)
{
	static const char	 head[] =
				    "# TLS plaintext traced by tapshim, on its "
				    "real ports.\n";
	char			 buf[sizeof head + DECODEAS_MAX * 64];
	size_t			 i, n;

	n = (size_t)snprintf(buf, sizeof buf, "%s", head);
	for (i = 0; i < d->n && n < sizeof buf; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n,
		    "decode_as_entry: tcp.port,%u,(none),%s\n",
		    (unsigned int)(d->e[i].plain[0] != NULL ?
		    d->e[i].plain[0]->port : d->e[i].port), strcmp(d->e[i].proto,
		    "http2") == 0 ? "HTTP2" : strcmp(d->e[i].proto, "pgsql") ==
		    0 ? "PGSQL" : strcmp(d->e[i].proto, "mysql") == 0 ?
		    "MySQL" : "HTTP");
	if (n >= sizeof buf) {
		snprintf(errbuf, size, "%s: too many ports", path);
		return (-1);
	}
	return (outfile_write(path, buf, n, errbuf, size));
}
