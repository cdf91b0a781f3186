/* tapdump's TLS summary: Connection.tls decoded, as text and as JSON. */

#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "dump.h"
#include "escape.h"
#include "proto/tapshim.pb-c.h"

/* The longest handshake believed: a day; a longer one is damage. */
#define TLS_SPAN_MAX	(86400 * 1000000000ULL)

/* Is a Timestamp one a tracer could have written (pcap's range)? */
static int
tls_time_ok(const Tapshim__Trace__Timestamp *t)
{
	return (t->seconds >= 0 && t->seconds <= UINT32_MAX &&
	    t->nanos >= 0 && t->nanos <= 999999999);
}

/*
 * Nanoseconds between two Timestamps; 0 when either is missing, out of
 * range, or they run backwards: crafted values must not overflow.
 */
static uint64_t
tls_span(const Tapshim__Trace__Timestamp *a,
    const Tapshim__Trace__Timestamp *b)
{
	uint64_t	an, bn;

	if (a == NULL || b == NULL || !tls_time_ok(a) || !tls_time_ok(b))
		return (0);
	an = (uint64_t)a->seconds * 1000000000ULL + (uint64_t)a->nanos;
	bn = (uint64_t)b->seconds * 1000000000ULL + (uint64_t)b->nanos;
	if (bn <= an || bn - an > TLS_SPAN_MAX)
		return (0);
	return (bn - an);
}

/* Connection.tls, unpacked (free with the protobuf-c call), or NULL. */
static Tapshim__Trace__TlsInfo *
tls_unpack(const struct trace_conn *c)
{
	if (c->tlsinfo.p == NULL)
		return (NULL);
	return (tapshim__trace__tls_info__unpack(NULL, c->tlsinfo.len,
	    c->tlsinfo.p));
}

/* What the trace holds of a TLS connection. */
static const char *
tls_data(const Tapshim__Trace__TlsInfo *m)
{
	switch (m->data) {
	case TAPSHIM__TRACE__TLS_DATA__TLS_DATA_PLAINTEXT:
		return ("plaintext");
	case TAPSHIM__TRACE__TLS_DATA__TLS_DATA_CIPHERTEXT:
		return ("ciphertext");
	default:
		return ("unknown");
	}
}

/* The TLS summary as text lines, under the connection's header. */
void
dump_tls_text(FILE *out, const struct trace_conn *c)
{
	Tapshim__Trace__TlsInfo	*m;
	uint64_t		 ns;
	size_t			 i;
	char			 a[ESC_SIZE(256)], b[ESC_SIZE(256)];

	if ((m = tls_unpack(c)) == NULL)
		return;
	ns = tls_span(m->handshake_begin, m->handshake_end);
	/* Every string is the peer's or the library's: escaped. */
	fprintf(out, "  tls: %s %s", *m->version ? esc_str(a, sizeof a,
	    m->version) : "?", *m->cipher ? esc_str(b, sizeof b, m->cipher) :
	    "?");
	if (*m->sni)
		fprintf(out, ", sni %s", esc_str(a, sizeof a, m->sni));
	if (*m->alpn)
		fprintf(out, ", alpn %s", esc_str(a, sizeof a, m->alpn));
	if (m->resumed)
		fprintf(out, ", resumed");
	fprintf(out, ", %s traced", tls_data(m));
	if (*m->library)
		fprintf(out, " (%s)", esc_str(a, sizeof a, m->library));
	fprintf(out, "\n");
	if (ns != 0 || *m->handshake_error)
		fprintf(out, "  tls handshake: %" PRIu64 ".%03" PRIu64 " ms%s%s\n",
		    ns / 1000000, ns / 1000 % 1000, *m->handshake_error ?
		    ", failed: " : "", esc_str(a, sizeof a,
		    m->handshake_error));
	for (i = 0; i < m->n_peer_certs; i++)
		fprintf(out, "  %s %s%s\n", i == 0 ? "peer certificate:" :
		    "                 ", esc_str(a, sizeof a,
		    m->peer_certs[i]->subject),
		    m->peer_certs[i]->ca ? " (CA)" : "");
	tapshim__trace__tls_info__free_unpacked(m, NULL);
}

/* A string member, unless empty. */
static void
tls_str(json_object *o, const char *key, const char *v)
{
	if (v != NULL && *v != '\0')
		json_object_object_add(o, key, json_object_new_string(v));
}

/* One peer certificate as a JSON object. */
static json_object *
tls_cert(const Tapshim__Trace__TlsCert *p)
{
	json_object	*o = json_object_new_object();

	tls_str(o, "subject", p->subject);
	tls_str(o, "issuer", p->issuer);
	if (p->not_before != NULL)
		json_object_object_add(o, "not_before",
		    json_object_new_int64(p->not_before->seconds));
	if (p->not_after != NULL)
		json_object_object_add(o, "not_after",
		    json_object_new_int64(p->not_after->seconds));
	json_object_object_add(o, "ca", json_object_new_boolean(p->ca));
	return (o);
}

/* The TLS summary as a JSON object, or NULL when the trace has none. */
json_object *
dump_tls_json(const struct trace_conn *c)
{
	Tapshim__Trace__TlsInfo	*m;
	json_object		*o, *a;
	uint64_t		 ns;
	size_t			 i;

	if ((m = tls_unpack(c)) == NULL)
		return (NULL);
	o = json_object_new_object();
	tls_str(o, "library", m->library);
	tls_str(o, "version", m->version);
	tls_str(o, "cipher", m->cipher);
	tls_str(o, "sni", m->sni);
	tls_str(o, "alpn", m->alpn);
	json_object_object_add(o, "resumed",
	    json_object_new_boolean(m->resumed));
	json_object_object_add(o, "data", json_object_new_string(
	    tls_data(m)));
	if ((ns = tls_span(m->handshake_begin, m->handshake_end)) != 0)
		json_object_object_add(o, "handshake_ns",
		    json_object_new_uint64(ns));
	tls_str(o, "handshake_error", m->handshake_error);
	a = json_object_new_array();
	for (i = 0; i < m->n_peer_certs; i++)
		json_object_array_add(a, tls_cert(m->peer_certs[i]));
	json_object_object_add(o, "peer_certificates", a);
	tapshim__trace__tls_info__free_unpacked(m, NULL);
	return (o);
}
