/* Tracing TLS sessions: their socket, their plaintext, their metadata. */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "keylog.h"
#include "shim.h"
#include "tls.h"
#include "tlsmem.h"

/*
 * The session whose library call this thread is in: socket I/O nested in
 * it is that session's records (pitfalls, row 13). initial-exec: no
 * allocation on first access.
 */
static __thread struct tlssess	*tls_cur
    __attribute__((tls_model("initial-exec")));
/* A session when the table is full: known for one call only. */
static __thread struct tlssess	 tls_spare
    __attribute__((tls_model("initial-exec")));

/*
 * Before the real call: find the session and mark this thread as inside
 * it. The real call runs outside the hooks' depth guard, so the socket
 * hooks under it see the marker.
 */
void
tls_begin(struct tls_call *tc, void *key, int lib, tls_fd_fn getfd)
{
	int	outer, saved = errno;

	memset(tc, 0, sizeof *tc);
	tc->key = key;
	tc->getfd = getfd;
	tc->t0 = shim_now();
	outer = shim_enter();
	/*
	 * A call the library makes to itself through the PLT on the same
	 * session (gnutls_record_send -> gnutls_record_send2, SSL_write ->
	 * SSL_write_ex): the outer call records it, once (pitfalls, row 24).
	 */
	if (tls_cur != NULL && tls_cur->key == key)
		outer = 0;
	if (outer && key != NULL && shim_tracing()) {
		if ((tc->s = tlssess_add(key, lib, shim_now())) != NULL &&
		    !tc->s->begun) {
			tc->s->begun = 1;
			tc->s->begin = shim_now();
		}
		if (tc->s == NULL) {
			memset(&tls_spare, 0, sizeof tls_spare);
			tls_spare.key = key;
			tls_spare.fd = -1;
			tls_spare.done = 1;	/* no metadata without a slot */
			tc->s = &tls_spare;
		}
		tc->prev = tls_cur;
		tls_cur = tc->s;
	}
	shim_leave();
	errno = saved;
}

/* After the real call: the thread is out of it. */
void
tls_end(struct tls_call *tc)
{
	tc->err = errno;
	if (tc->s != NULL)
		tls_cur = tc->prev;
}

/* Last: errno as the real call left it. Returns 0, for tail calls. */
int
tls_done(struct tls_call *tc)
{
	errno = tc->err;
	return (0);
}

/* The session's socket: learnt from nested I/O, else the library's. */
static int
tls_fd(struct tls_call *tc)
{
	if (tc->s->fd < 0 && tc->getfd != NULL)
		tc->s->fd = tc->getfd(tc->key);
	return (tc->s->fd);
}

/*
 * The trace the plaintext goes to: the socket's own (referenced: *put
 * set), or with TAPSHIM_TLS=both a second one the session owns; none
 * with ciphertext.
 */
static struct conn *
tls_plain_conn(struct tls_call *tc, int *put)
{
	struct conn	*c;
	int		 fd;

	*put = 0;
	if (shim_conf.tls == CONF_TLS_CIPHERTEXT || (fd = tls_fd(tc)) < 0 ||
	    (c = conn_get(fd)) == NULL)
		return (NULL);
	if (shim_conf.tls == CONF_TLS_PLAINTEXT) {
		*put = 1;
		return (c);
	}
	if (tc->s->twin == NULL && tc->s != &tls_spare)
		tc->s->twin = conn_twin(c);
	conn_put(c);
	return (tc->s->twin);
}

/* n bytes of plaintext the program wrote or read through the session. */
void
tls_data(struct tls_call *tc, enum enc_kind kind, const void *buf, size_t n)
{
	struct conn	*c;
	int		 put;

	if (tc->s == NULL || n == 0)
		return;
	/* The event's duration is the TLS call's, not this hook's. */
	if (shim_enter() && (shim_call_began(tc->t0), 1) &&
	    (c = tls_plain_conn(tc, &put)) != NULL) {
		conn_record(c, kind, buf, n, 0);
		if (put)
			conn_put(c);
	}
	shim_leave();
}

/*
 * After a read call: the peer's close_notify (closed), or the socket's
 * end of file seen under the call, ends the plaintext's read direction.
 */
void
tls_eof(struct tls_call *tc, int closed)
{
	struct conn	*c;
	int		 put;

	if (tc->s == NULL || (!closed && !tc->s->eof))
		return;
	if (shim_enter() && (shim_call_began(tc->t0), 1) &&
	    (c = tls_plain_conn(tc, &put)) != NULL) {
		conn_record(c, ENC_READ, NULL, 0, 1);
		if (put)
			conn_put(c);
	}
	shim_leave();
}

/* Is the session's metadata still to be written? */
int
tls_want_meta(const struct tls_call *tc)
{
	return (tc->s != NULL && !tc->s->done);
}

/*
 * The handshake ended (m->end set) or failed (m->error): the metadata
 * goes to each trace of the session, merged into its connection.
 */
void
tls_meta(struct tls_call *tc, struct tlsmeta *m)
{
	struct conn	*c, *plain;
	int		 put, fd;

	if (tc->s == NULL || tc->s->done)
		return;
	tc->s->done = 1;
	m->begin = tc->s->begin;
	if (!shim_enter() || (fd = tls_fd(tc)) < 0) {
		/* Over memory BIOs: at a later call, once tied to a socket. */
		if (tc->s->mem && tc->s != &tls_spare)
			tc->s->done = 0;
		shim_leave();
		return;
	}
	plain = tls_plain_conn(tc, &put);
	if (put)
		conn_put(plain);	/* the socket's: written below */
	if ((c = conn_get(fd)) != NULL) {
		m->data = shim_conf.tls == CONF_TLS_PLAINTEXT ?
		    TLSMETA_PLAINTEXT : TLSMETA_CIPHERTEXT;
		conn_add_info(c, tlsmeta_encode, m);
		conn_put(c);
	}
	if (plain != NULL && !put) {
		m->data = TLSMETA_PLAINTEXT;
		conn_add_info(plain, tlsmeta_encode, m);
	}
	shim_leave();
}

/*
 * The session on fd is shut down or freed: with plaintext tracing, the
 * TLS records the socket still carries (the peer's close_notify, read
 * raw by openssl s_server's drain after SSL_shutdown) are not plaintext.
 */
static void
tls_over(int fd)
{
	struct conn	*c;

	if (fd < 0 || shim_conf.tls != CONF_TLS_PLAINTEXT)
		return;
	if (shim_enter() && (c = conn_get(fd)) != NULL) {
		conn_tls_ended(c);
		conn_put(c);
	}
	shim_leave();
}

/* After SSL_shutdown or gnutls_bye: the session's plaintext is over. */
void
tls_shutdown(struct tls_call *tc)
{
	if (tc->s != NULL)
		tls_over(tls_fd(tc));
}

/*
 * Socket bytes read or written outside any TLS call: after the socket's
 * plaintext-traced session ended, whole TLS records at their start (a
 * record's header: content type 20-23, version 3.x, a length) are its
 * leftovers, not data. Returns how many leading bytes the hook must not
 * record.
 */
size_t
tls_leftover(struct conn *c, const void *buf, size_t n)
{
	const unsigned char	*p = buf;
	size_t			 at = 0, len;

	if (buf == NULL || n < 5 || !conn_tls_over(c))
		return (0);
	while (n - at >= 5 && p[at] >= 20 && p[at] <= 23 && p[at + 1] == 3 &&
	    p[at + 2] <= 4) {
		len = 5 + ((size_t)p[at + 3] << 8 | p[at + 4]);
		if (len > n - at)
			return (n);	/* a record cut by the read */
		at += len;
	}
	return (at);
}

/* The library freed the session: forget it, end its second trace. */
void
tls_free(void *key)
{
	struct tlssess	*s;
	struct conn	*twin;
	int		 saved = errno;

	if (key == NULL)
		return;
	tlsmem_free(key);
	if ((s = tlssess_take(key)) == NULL)
		return;
	tls_over(s->fd);
	twin = s->twin;
	s->twin = NULL;
	tlssess_release(s);
	if (twin != NULL) {
		shim_enter();
		conn_put(twin);
		shim_leave();
	}
	errno = saved;
}

/* The program gave the session a socket (fd), or a BIO (-1). */
void
tls_set_fd(void *key, int lib, int fd)
{
	struct tlssess	*s;
	int		 outer = shim_enter();

	if (outer && key != NULL && shim_tracing() &&
	    (s = tlssess_add(key, lib, shim_now())) != NULL)
		s->fd = fd;
	shim_leave();
}

/*
 * The session's slot, made if need be, for the program's own key log
 * function (GnuTLS: one per session); NULL when not tracing or full.
 */
struct tlssess *
tls_session(void *key, int lib)
{
	struct tlssess	*s = NULL;
	int		 outer = shim_enter();

	if (outer && key != NULL && shim_tracing())
		s = tlssess_add(key, lib, shim_now());
	shim_leave();
	return (s);
}

/*
 * Socket I/O on the traced fd, from a hook: inside a TLS call, it ties
 * the session to fd, and with plaintext tracing its bytes (and its end of
 * file, recorded after the plaintext) are not recorded as data. Returns
 * 1 when the hook must not record it.
 */
int
tls_nested(int fd, enum enc_kind kind, const void *buf, size_t n, int eof)
{
	struct tlssess	*s = tls_cur;

	if (s == NULL)
		return (tlsmem_sock(fd, kind, eof ? NULL : buf, n,
		    shim_conf.tls == CONF_TLS_PLAINTEXT));
	s->fd = fd;
	if (eof)
		s->eof = 1;
	return (shim_conf.tls == CONF_TLS_PLAINTEXT);
}

/* At exit: end the second traces (TAPSHIM_TLS=both) too. */
void
tls_end_all(void)
{
	struct tlssess	*s = NULL;
	struct conn	*twin;

	while ((s = tlssess_next(s)) != NULL) {
		if ((twin = __atomic_load_n(&s->twin, __ATOMIC_ACQUIRE)) !=
		    NULL)
			conn_end_exit(twin);
	}
}

/* Is TAPSHIM_KEYLOG set, in a process that traces? */
int
tls_keylog_on(void)
{
	int	on, outer = shim_enter();

	on = outer && shim_tracing() && shim_conf.keylog[0] != '\0';
	shim_leave();
	return (on);
}

/* One SSLKEYLOGFILE line (no newline) to TAPSHIM_KEYLOG. */
void
tls_keylog(const char *line, size_t n)
{
	if (shim_conf.keylog[0] != '\0')
		(void)keylog_write(shim_conf.keylog, line, n);
}
