/* UDP datagrams: each one event, whole, with its peer address. */

#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "conn.h"
#include "dgram.h"

/*
 * The peer a call named (sendto's address, recvfrom's source), copied
 * and checked: NULL when it is not a whole IPv4 or IPv6 address.
 */
static const struct sockaddr *
dgram_peer(const struct sockaddr *sa, socklen_t len,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	sa_family_t	family;
	socklen_t	want;

	if (sa == NULL || len < sizeof family)
		return (NULL);
	memcpy(&family, sa, sizeof family);
	want = family == AF_INET ? sizeof(struct sockaddr_in) :
	    family == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
	if (want == 0 || len < want)
		return (NULL);
	memset(ss, 0, sizeof *ss);
	memcpy(ss, sa, want);
	*sslen = want;
	return ((const struct sockaddr *)ss);
}

/*
 * Record one datagram of len bytes, held in iov[0..cnt): one event, never
 * split or merged (an empty datagram too). One piece is kept where it
 * is; several are gathered, DGRAM_GATHER bytes at most (Body.length then
 * says how long it was).
 */
void
dgram_record(struct conn *c, enum enc_kind kind, const struct iovec *iov,
    size_t cnt, size_t len, const struct sockaddr *sa, socklen_t salen)
{
	struct sockaddr_storage	 ss;
	struct enc_event	 ev;
	uint8_t			 buf[DGRAM_GATHER];
	size_t			 i, n, got = 0;

	memset(&ev, 0, sizeof ev);
	ev.kind = kind;
	ev.len = len;
	ev.peer = dgram_peer(sa, salen, &ss, &ev.peer_len);
	if (cnt == 1 || len == 0) {
		ev.data = cnt > 0 ? iov[0].iov_base : NULL;
		ev.caplen = cnt > 0 ? (len < iov[0].iov_len ? len :
		    iov[0].iov_len) : 0;
	} else {
		for (i = 0; i < cnt && got < len && got < sizeof buf; i++) {
			n = iov[i].iov_len;
			if (n > len - got)
				n = len - got;
			if (n > sizeof buf - got)
				n = sizeof buf - got;
			memcpy(buf + got, iov[i].iov_base, n);
			got += n;
		}
		ev.data = buf;
		ev.caplen = got;
	}
	conn_record_event(c, &ev);
}
