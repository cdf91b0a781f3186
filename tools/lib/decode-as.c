/* Telling Wireshark how to decode TLS plaintext on its real ports. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "decode-as.h"
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
	st = decodeas_starttls(t);
	proto = st == 1 ? "pgsql" : st == 2 ? "mysql" :
	    strcmp(c->alpn, "h2") == 0 ? "http2" : "http";
	for (i = 0; i < d->n; i++) {
		if (d->e[i].port == srv->port) {
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
		    (unsigned int)d->e[i].port, strcmp(d->e[i].proto,
		    "http2") == 0 ? "HTTP2" : strcmp(d->e[i].proto, "pgsql") ==
		    0 ? "PGSQL" : strcmp(d->e[i].proto, "mysql") == 0 ?
		    "MySQL" : "HTTP");
	if (n >= sizeof buf) {
		snprintf(errbuf, size, "%s: too many ports", path);
		return (-1);
	}
	return (outfile_write(path, buf, n, errbuf, size));
}
