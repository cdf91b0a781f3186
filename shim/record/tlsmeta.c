/* TLS metadata, and its encoding as a Connection's tls field. */

#include "config.h"

#include <stdint.h>

#include "proto/tapshim.pb-c.h"
#include "tlsmeta.h"

/* A string field: NULL (left out) when empty. */
static char *
tlsmeta_str(const char *s)
{
	return (s[0] != '\0' ? (char *)(uintptr_t)s : NULL);
}

/*
 * Append a Connection chunk (or connection segment) holding only m, as
 * TlsInfo: a protobuf parser merges it into the trace's first one.
 * conn_add_info() callback; m is a struct tlsmeta.
 */
int
tlsmeta_encode(struct enc_buf *e, enum conf_format fmt, uint64_t id,
    const void *arg)
{
	const struct tlsmeta		*m = arg;
	Tapshim__Trace__Connection	 conn;
	Tapshim__Trace__TlsInfo		 tls;
	Tapshim__Trace__TlsCert		 cert[TLSMETA_CERTS];
	Tapshim__Trace__TlsCert		*certp[TLSMETA_CERTS];
	Tapshim__Trace__Timestamp	 ts[2 + 2 * TLSMETA_CERTS];
	int				 i, nts = 0;

	tapshim__trace__connection__init(&conn);
	tapshim__trace__tls_info__init(&tls);
	tls.library = tlsmeta_str(m->library);
	tls.version = tlsmeta_str(m->version);
	tls.cipher = tlsmeta_str(m->cipher);
	tls.sni = tlsmeta_str(m->sni);
	tls.alpn = tlsmeta_str(m->alpn);
	tls.resumed = m->resumed != 0;
	tls.handshake_error = tlsmeta_str(m->error);
	tls.data = (Tapshim__Trace__TlsData)m->data;
	if (m->begin != 0) {
		tapshim__trace__timestamp__init(&ts[nts]);
		ts[nts].seconds = m->begin / 1000000000LL;
		ts[nts].nanos = (int32_t)(m->begin % 1000000000LL);
		tls.handshake_begin = &ts[nts++];
	}
	if (m->end != 0) {
		tapshim__trace__timestamp__init(&ts[nts]);
		ts[nts].seconds = m->end / 1000000000LL;
		ts[nts].nanos = (int32_t)(m->end % 1000000000LL);
		tls.handshake_end = &ts[nts++];
	}
	for (i = 0; i < m->ncerts && i < TLSMETA_CERTS; i++) {
		tapshim__trace__tls_cert__init(&cert[i]);
		cert[i].subject = tlsmeta_str(m->certs[i].subject);
		cert[i].issuer = tlsmeta_str(m->certs[i].issuer);
		cert[i].ca = m->certs[i].ca != 0;
		if (m->certs[i].has_times) {
			tapshim__trace__timestamp__init(&ts[nts]);
			ts[nts].seconds = m->certs[i].not_before;
			cert[i].not_before = &ts[nts++];
			tapshim__trace__timestamp__init(&ts[nts]);
			ts[nts].seconds = m->certs[i].not_after;
			cert[i].not_after = &ts[nts++];
		}
		certp[i] = &cert[i];
	}
	tls.n_peer_certs = (size_t)i;
	tls.peer_certs = certp;
	conn.tls = &tls;
	return (enc_conn_piece(e, fmt, id, &conn));
}
