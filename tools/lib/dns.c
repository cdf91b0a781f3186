/* Decoding DNS messages (RFC 1035) from datagrams: bounds-checked. */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "escape.h"

/* Compression pointers followed at most this often (RFC 1035, 4.1.4). */
#define DNS_HOPS_MAX	32

/* A 16-bit big-endian number at p. */
static uint16_t
dns_u16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

/*
 * Read the name at *pos into out (dotted, "." for the root); *pos moves
 * past it in the message (not past what pointers point at). -1 when it
 * runs off the end, loops, or is too long.
 */
static int
dns_name(const uint8_t *m, size_t n, size_t *pos, char *out, size_t outsz)
{
	char		label[ESC_SIZE(63)];
	size_t		at = *pos, o = 0, end = 0, raw = 1;
	unsigned int	hops = 0, len;
	int		jumped = 0;

	for (;;) {
		if (at >= n)
			return (-1);
		len = m[at];
		if ((len & 0xc0) == 0xc0) {
			if (at + 1 >= n || ++hops > DNS_HOPS_MAX)
				return (-1);
			if (!jumped)
				end = at + 2;
			jumped = 1;
			at = (size_t)(len & 0x3f) << 8 | m[at + 1];
			continue;
		}
		if ((len & 0xc0) != 0)
			return (-1);	/* extended label types: not ours */
		if (len == 0)
			break;
		/* RFC 1035, 2.3.4: 255 octets in all, on the wire. */
		if (at + 1 + len > n || (raw += len + 1) > 255)
			return (-1);
		/* A label's bytes are any bytes: escaped (escape.c). */
		esc_mem(label, sizeof label, m + at + 1, len, ESC_SPACE);
		if (o + strlen(label) + 2 > outsz)
			return (-1);
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, label, strlen(label));
		o += strlen(label);
		at += 1 + len;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*pos = jumped ? end : at + 1;
	return (0);
}

/* Show a record's data: addresses, names, else its bytes in hex. */
static int
dns_rdata(const uint8_t *m, size_t n, size_t at, struct dns_rr *rr,
    size_t rdlen)
{
	size_t	pos = at, i, o = 0;

	rr->data[0] = '\0';
	if (rr->type == 1 && rdlen == 4)
		inet_ntop(AF_INET, m + at, rr->data, sizeof rr->data);
	else if (rr->type == 28 && rdlen == 16)
		inet_ntop(AF_INET6, m + at, rr->data, sizeof rr->data);
	else if (rr->type == 5 || rr->type == 2 || rr->type == 12) {
		if (dns_name(m, n, &pos, rr->data, sizeof rr->data) == -1 ||
		    pos > at + rdlen)
			return (-1);
	} else {
		for (i = 0; i < rdlen && o + 3 < sizeof rr->data; i++)
			o += (size_t)snprintf(rr->data + o, sizeof rr->data - o,
			    "%02x", m[at + i]);
	}
	return (0);
}

/*
 * Decode the DNS message in m[0..n). Returns 0, or -1 with *why saying
 * what is wrong; what was decoded before the damage stays in *d.
 */
int
dns_parse(const uint8_t *m, size_t n, struct dns_msg *d, const char **why)
{
	size_t		pos = 12, rdlen;
	unsigned int	i;
	uint16_t	flags;
	struct dns_rr	rr;

	memset(d, 0, sizeof *d);
	if (n < 12) {
		*why = "shorter than a DNS header";
		return (-1);
	}
	d->id = dns_u16(m);
	flags = dns_u16(m + 2);
	d->response = (flags & 0x8000) != 0;
	d->opcode = (flags >> 11) & 0xf;
	d->truncated = (flags & 0x0200) != 0;
	d->rcode = flags & 0xf;
	d->qdcount = dns_u16(m + 4);
	d->ancount = dns_u16(m + 6);
	d->nscount = dns_u16(m + 8);
	d->arcount = dns_u16(m + 10);
	for (i = 0; i < d->qdcount; i++) {
		struct dns_question	q;

		if (dns_name(m, n, &pos, q.name, sizeof q.name) == -1 ||
		    pos + 4 > n) {
			*why = "question runs past the end";
			return (-1);
		}
		q.type = dns_u16(m + pos);
		q.class = dns_u16(m + pos + 2);
		pos += 4;
		if (d->nqd < DNS_QD_MAX)
			d->qd[d->nqd++] = q;
	}
	for (i = 0; i < d->ancount; i++) {
		memset(&rr, 0, sizeof rr);
		if (dns_name(m, n, &pos, rr.name, sizeof rr.name) == -1 ||
		    pos + 10 > n) {
			*why = "answer runs past the end";
			return (-1);
		}
		rr.type = dns_u16(m + pos);
		rr.class = dns_u16(m + pos + 2);
		rr.ttl = (uint32_t)dns_u16(m + pos + 4) << 16 |
		    dns_u16(m + pos + 6);
		rdlen = dns_u16(m + pos + 8);
		pos += 10;
		if (pos + rdlen > n || dns_rdata(m, n, pos, &rr, rdlen) == -1) {
			*why = "answer data runs past the end";
			return (-1);
		}
		pos += rdlen;
		if (d->nan < DNS_AN_MAX)
			d->an[d->nan++] = rr;
	}
	return (0);
}

/* A record type's mnemonic (RFC 1035, 3.2.2; RFC 3596), else TYPEnnn. */
const char *
dns_type_name(uint16_t t, char *buf, size_t n)
{
	static const struct {
		uint16_t	 type;
		const char	*name;
	} types[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" }, { 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" },
		{ 33, "SRV" }, { 41, "OPT" }, { 64, "SVCB" }, { 65, "HTTPS" },
		{ 255, "ANY" }
	};
	size_t	i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (types[i].type == t)
			return (types[i].name);
	}
	snprintf(buf, n, "TYPE%u", t);	/* RFC 3597 */
	return (buf);
}

/* An RCODE's name (RFC 1035, 4.1.1; RFC 6895). */
const char *
dns_rcode_name(int rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
	    "NXRRSET", "NOTAUTH", "NOTZONE" };

	if (rcode >= 0 && rcode < (int)(sizeof names / sizeof names[0]))
		return (names[rcode]);
	return ("RCODE?");
}
