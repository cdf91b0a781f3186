/* Telling Wireshark how to decode TLS plaintext on its real ports. */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "decode-as.h"
#include "outfile.h"

/*
 * Note a connection whose trace holds TLS plaintext: its server's port,
 * and HTTP/2 when ALPN chose h2 (HTTP/1 otherwise). Once per port.
 */
void
decodeas_add(struct decodeas *d, const struct trace_conn *c)
{
	const struct trace_addr	*srv;
	size_t			 i;
	int			 h2;

	if (c->tls != TRACE_TLS_PLAINTEXT)
		return;
	srv = c->role == TRACE_ROLE_SERVER ? &c->local : &c->remote;
	if (srv->family != AF_INET && srv->family != AF_INET6)
		return;
	h2 = strcmp(c->alpn, "h2") == 0;
	for (i = 0; i < d->n; i++) {
		if (d->e[i].port == srv->port) {
			d->e[i].h2 |= h2;
			return;
		}
	}
	if (d->n == DECODEAS_MAX)
		return;
	d->e[d->n].port = srv->port;
	d->e[d->n++].h2 = h2;
}

/* tshark's name for the protocol on entry i: "http2" or "http". */
const char *
decodeas_proto(const struct decodeas *d, size_t i)
{
	return (d->e[i].h2 ? "http2" : "http");
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
		    (unsigned int)d->e[i].port, d->e[i].h2 ? "HTTP2" : "HTTP");
	if (n >= sizeof buf) {
		snprintf(errbuf, size, "%s: too many ports", path);
		return (-1);
	}
	return (outfile_write(path, buf, n, errbuf, size));
}
