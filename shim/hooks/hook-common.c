/* What the hook files share: recording helpers around conn.c. */

#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "conn.h"
#include "dgram.h"
#include "hook.h"
#include "tls.h"

/*
 * Record r bytes moved on fd (r > 0; for UDP, r == 0 is an empty
 * datagram), to or from peer when the call named one; errno is kept.
 */
void
hook_data_peer(int fd, enum enc_kind kind, const void *buf, ssize_t r,
    const struct sockaddr *peer, socklen_t peerlen)
{
	struct iovec	 iov;
	struct conn	*c;
	size_t		 skip;
	int		 saved = errno;

	if (r >= 0 && (c = conn_get(fd)) != NULL) {
		if (conn_udp(c)) {
			iov.iov_base = (void *)(uintptr_t)buf;
			iov.iov_len = (size_t)r;
			dgram_record(c, kind, &iov, buf != NULL ? 1 : 0,
			    (size_t)r, peer, peerlen);
		} else if (r > 0 &&
		    !tls_nested(fd, kind, buf, (size_t)r, 0) &&
		    (skip = tls_leftover(c, buf, (size_t)r)) < (size_t)r)
			conn_record(c, kind, (const char *)buf + skip,
			    (size_t)r - skip, 0);
		conn_put(c);
	}
	errno = saved;
}

/* Record r > 0 bytes moved on fd; errno is kept. */
void
hook_data(int fd, enum enc_kind kind, const void *buf, ssize_t r, int eos)
{
	struct iovec	 iov;
	struct conn	*c;
	size_t		 skip;
	int		 saved = errno;

	if (r > 0 && (c = conn_get(fd)) != NULL) {
		iov.iov_base = (void *)(uintptr_t)buf;
		iov.iov_len = (size_t)r;
		if (conn_udp(c))
			dgram_record(c, kind, &iov, buf != NULL ? 1 : 0,
			    (size_t)r, NULL, 0);
		else if (!tls_nested(fd, kind, buf, (size_t)r, 0) &&
		    (skip = tls_leftover(c, buf, (size_t)r)) < (size_t)r)
			conn_record(c, kind, (const char *)buf + skip,
			    (size_t)r - skip, eos);
		conn_put(c);
	}
	errno = saved;
}

/*
 * The r bytes an iovec call moved: a stream's piece by piece (eos with
 * the last), a datagram (peer: its address, if the call named it) as
 * one event, even an empty one.
 */
static void
hook_iov_any(int fd, enum enc_kind kind, const struct iovec *iov,
    size_t cnt, ssize_t r, int eos, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct conn	*c;
	size_t		 i, n, left;
	int		 saved = errno;

	if (r < 0 || (c = conn_get(fd)) == NULL) {
		errno = saved;
		return;
	}
	if (conn_udp(c))
		dgram_record(c, kind, iov, cnt, (size_t)r, peer, peerlen);
	else if (tls_nested(fd, kind, cnt > 0 ? iov[0].iov_base : NULL,
	    cnt > 0 && iov[0].iov_len < (size_t)r ? iov[0].iov_len :
	    (size_t)r, 0) || (cnt > 0 && iov[0].iov_len >=
	    (size_t)r && tls_leftover(c, iov[0].iov_base, (size_t)r) ==
	    (size_t)r)) {
		conn_put(c);
		errno = saved;
		return;
	}
	left = conn_udp(c) ? 0 : (size_t)r;
	for (i = 0; i < cnt && left > 0; i++) {
		n = iov[i].iov_len < left ? iov[i].iov_len : left;
		if (n > 0)
			conn_record(c, kind, iov[i].iov_base, n, eos &&
			    n == left);
		left -= n;
	}
	conn_put(c);
	errno = saved;
}

void
hook_iov_peer(int fd, enum enc_kind kind, const struct iovec *iov,
    size_t cnt, ssize_t r, const struct sockaddr *peer, socklen_t peerlen)
{
	hook_iov_any(fd, kind, iov, cnt, r, 0, peer, peerlen);
}

/* Record the r > 0 bytes an iovec call moved. */
void
hook_iov(int fd, enum enc_kind kind, const struct iovec *iov, size_t cnt,
    ssize_t r, int eos)
{
	if (r > 0)
		hook_iov_any(fd, kind, iov, cnt, r, eos, NULL, 0);
}

/*
 * fd read nothing: the peer shut its direction, or, on a UDP socket, an
 * empty datagram came (from peer, if the call said).
 */
void
hook_eof_peer(int fd, const struct sockaddr *peer, socklen_t peerlen)
{
	struct conn	*c;
	int		 saved = errno;

	if ((c = conn_get(fd)) != NULL) {
		if (conn_udp(c))
			dgram_record(c, ENC_READ, NULL, 0, 0, peer, peerlen);
		else if (!tls_nested(fd, ENC_READ, NULL, 0, 1))
			conn_record(c, ENC_READ, NULL, 0, 1);
		conn_put(c);
	}
	errno = saved;
}

void
hook_eof(int fd)
{
	hook_eof_peer(fd, NULL, 0);
}

/*
 * A call on fd failed with err: a reset, a broken pipe or a timeout is
 * worth noting (the closed event names it).
 */
void
hook_error(int fd, int err)
{
	struct conn	*c;

	if ((err == ECONNRESET || err == EPIPE || err == ETIMEDOUT) &&
	    (c = conn_get(fd)) != NULL) {
		if (err == ECONNRESET)
			conn_note_reset(c);
		else
			conn_note_error(c, err);
		conn_put(c);
	}
	errno = err;
}
