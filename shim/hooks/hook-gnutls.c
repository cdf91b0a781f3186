/* Hooks on GnuTLS: plaintext, session to socket, metadata, key log. */

#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>

#include "hook.h"
#include "keylog.h"
#include "tls.h"
#include "tlsreal.h"

/* GnuTLS's types, opaque or as its ABI has them: no header needed. */
struct gtls_datum {
	unsigned char	*data;
	unsigned int	 size;
};
typedef int (*gtls_keylog_fn)(void *, const char *,
    const struct gtls_datum *);

ssize_t	gnutls_record_recv(void *, void *, size_t);
ssize_t	gnutls_record_recv_seq(void *, void *, size_t, unsigned char *);
ssize_t	gnutls_record_send(void *, const void *, size_t);
ssize_t	gnutls_record_send2(void *, const void *, size_t, size_t, unsigned);
int	gnutls_record_uncork(void *, unsigned int);
int	gnutls_handshake(void *);
int	gnutls_bye(void *, int);
void	gnutls_deinit(void *);
int	gnutls_init(void **, unsigned int);
int	gnutls_server_name_set(void *, int, const void *, size_t);
void	gnutls_session_set_keylog_function(void *, gtls_keylog_fn);
int	gnutls_session_get_data(void *, void *, size_t *);
int	gnutls_session_get_data2(void *, struct gtls_datum *);

/* Every GnuTLS function the shim calls, hooked or not. */
#define GTLS_LIST(X)							\
	X(gnutls_record_recv) X(gnutls_record_recv_seq)			\
	X(gnutls_record_send) X(gnutls_record_send2)			\
	X(gnutls_record_uncork) X(gnutls_handshake) X(gnutls_bye)	\
	X(gnutls_deinit) X(gnutls_init) X(gnutls_server_name_set)	\
	X(gnutls_session_set_keylog_function)				\
	X(gnutls_session_get_keylog_function)				\
	X(gnutls_session_get_random) X(gnutls_transport_get_int)	\
	X(gnutls_check_version) X(gnutls_protocol_get_version)		\
	X(gnutls_protocol_get_name) X(gnutls_ciphersuite_get)		\
	X(gnutls_cipher_get) X(gnutls_cipher_get_name)			\
	X(gnutls_server_name_get) X(gnutls_alpn_get_selected_protocol)	\
	X(gnutls_session_is_resumed) X(gnutls_certificate_get_peers)	\
	X(gnutls_x509_crt_init) X(gnutls_x509_crt_import)		\
	X(gnutls_x509_crt_get_dn) X(gnutls_x509_crt_get_issuer_dn)	\
	X(gnutls_x509_crt_get_activation_time)				\
	X(gnutls_x509_crt_get_expiration_time)				\
	X(gnutls_x509_crt_get_basic_constraints)			\
	X(gnutls_x509_crt_deinit) X(gnutls_error_is_fatal)		\
	X(gnutls_strerror) X(gnutls_session_get_data)			\
	X(gnutls_session_get_data2)

#define GTLS_ENUM(f)	GTLS_##f,
enum gtls { GTLS_LIST(GTLS_ENUM) GTLS_COUNT };
#undef GTLS_ENUM
#define GTLS_NAME(f)	#f,
static const char *const gtls_names[] = { GTLS_LIST(GTLS_NAME) };
#undef GTLS_NAME

static void	*gtls_ptr[GTLS_COUNT];

#define GTLS(f, type)	((type)tlsreal_get(&gtls_ptr[GTLS_##f], #f))

#define GTLS_E_INTERNAL_ERROR	(-59)
#define GTLS_SHUT_RDWR		0

/* A function GnuTLS lacks: fail as GnuTLS fails. */
static int
gtls_missing(void)
{
	errno = ENOSYS;
	return (GTLS_E_INTERNAL_ERROR);
}

/* The session's socket, as GnuTLS knows it (-1 with custom push/pull). */
static int
gtls_fd(void *session)
{
	int	(*get)(void *) = GTLS(gnutls_transport_get_int, int (*)(void *));

	return (get != NULL ? get(session) : -1);
}

/* One DER certificate: subject, issuer, validity, CA flag. */
static void
gtls_cert(struct tlsmeta_cert *c, const struct gtls_datum *der)
{
	int	(*init)(void **) = GTLS(gnutls_x509_crt_init, int (*)(void **));
	int	(*import)(void *, const struct gtls_datum *, int) =
	    GTLS(gnutls_x509_crt_import, int (*)(void *,
	    const struct gtls_datum *, int));
	int	(*dn)(void *, char *, size_t *);
	time_t	(*when)(void *);
	int	(*bc)(void *, unsigned int *, unsigned int *, int *) =
	    GTLS(gnutls_x509_crt_get_basic_constraints, int (*)(void *,
	    unsigned int *, unsigned int *, int *));
	void	(*deinit)(void *) = GTLS(gnutls_x509_crt_deinit,
		    void (*)(void *));
	void		*crt = NULL;
	size_t		 n;
	unsigned int	 crit = 0, ca = 0;
	int		 len = 0;

	memset(c, 0, sizeof *c);
	if (init == NULL || import == NULL || deinit == NULL ||
	    init(&crt) < 0)
		return;
	if (import(crt, der, 0) >= 0) {
		if ((dn = GTLS(gnutls_x509_crt_get_dn, int (*)(void *, char *,
		    size_t *))) != NULL) {
			n = sizeof c->subject;
			if (dn(crt, c->subject, &n) < 0)
				c->subject[0] = '\0';
		}
		if ((dn = GTLS(gnutls_x509_crt_get_issuer_dn, int (*)(void *,
		    char *, size_t *))) != NULL) {
			n = sizeof c->issuer;
			if (dn(crt, c->issuer, &n) < 0)
				c->issuer[0] = '\0';
		}
		if ((when = GTLS(gnutls_x509_crt_get_activation_time,
		    time_t (*)(void *))) != NULL) {
			c->not_before = (int64_t)when(crt);
			when = GTLS(gnutls_x509_crt_get_expiration_time,
			    time_t (*)(void *));
			c->not_after = when != NULL ? (int64_t)when(crt) : 0;
			c->has_times = c->not_before > 0 && c->not_after > 0;
		}
		c->ca = bc != NULL && bc(crt, &crit, &ca, &len) >= 0 && ca;
	}
	deinit(crt);
}

/* "GnuTLS 3.7.9". */
static void
gtls_library(struct tlsmeta *m)
{
	const char	*(*ver)(void *) = GTLS(gnutls_check_version,
			    const char *(*)(void *));
	const char	*v = ver != NULL ? ver(NULL) : NULL;

	snprintf(m->library, sizeof m->library, "GnuTLS%s%s", v != NULL ?
	    " " : "", v != NULL ? v : "");
}

/* What GnuTLS says of the handshake that just ended. */
static void
gtls_meta(struct tlsmeta *m, void *session)
{
	const char	*(*str)(void *);
	const char	*(*name)(int);
	int		 (*num)(void *);
	int		 (*sni)(void *, void *, size_t *, unsigned int *,
			    unsigned int);
	int		 (*alpn)(void *, struct gtls_datum *);
	const struct gtls_datum *(*peers)(void *, unsigned int *);
	const struct gtls_datum *der;
	struct gtls_datum	 d;
	unsigned int		 i, n = 0, type = 0;
	size_t			 len;

	gtls_library(m);
	num = GTLS(gnutls_protocol_get_version, int (*)(void *));
	name = GTLS(gnutls_protocol_get_name, const char *(*)(int));
	if (num != NULL && name != NULL && name(num(session)) != NULL)
		snprintf(m->version, sizeof m->version, "%s",
		    name(num(session)));
	if ((str = GTLS(gnutls_ciphersuite_get, const char *(*)(void *))) !=
	    NULL && str(session) != NULL)
		snprintf(m->cipher, sizeof m->cipher, "%s", str(session));
	else if ((num = GTLS(gnutls_cipher_get, int (*)(void *))) != NULL &&
	    (name = GTLS(gnutls_cipher_get_name, const char *(*)(int))) !=
	    NULL && name(num(session)) != NULL)
		snprintf(m->cipher, sizeof m->cipher, "%s", name(num(session)));
	sni = GTLS(gnutls_server_name_get, int (*)(void *, void *, size_t *,
	    unsigned int *, unsigned int));
	len = sizeof m->sni - 1;
	if (sni != NULL && sni(session, m->sni, &len, &type, 0) < 0)
		m->sni[0] = '\0';
	m->sni[sizeof m->sni - 1] = '\0';
	alpn = GTLS(gnutls_alpn_get_selected_protocol, int (*)(void *,
	    struct gtls_datum *));
	if (alpn != NULL && alpn(session, &d) >= 0 && d.data != NULL)
		snprintf(m->alpn, sizeof m->alpn, "%.*s", (int)d.size,
		    (const char *)d.data);
	if ((num = GTLS(gnutls_session_is_resumed, int (*)(void *))) != NULL)
		m->resumed = num(session) != 0;
	peers = GTLS(gnutls_certificate_get_peers,
	    const struct gtls_datum *(*)(void *, unsigned int *));
	if (peers != NULL && (der = peers(session, &n)) != NULL) {
		for (i = 0; i < n && m->ncerts < TLSMETA_CERTS; i++)
			gtls_cert(&m->certs[m->ncerts++], &der[i]);
	}
}

/* After gnutls_handshake() returned r: metadata, once it is over. */
static void
gtls_after(struct tls_call *tc, void *session, int r)
{
	int		(*fatal)(int) = GTLS(gnutls_error_is_fatal, int (*)(int));
	const char	*(*text)(int) = GTLS(gnutls_strerror,
			    const char *(*)(int));
	struct tlsmeta	 m;
	struct timespec	 ts;

	if (!tls_want_meta(tc))
		return;
	memset(&m, 0, sizeof m);
	if (r == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		m.end = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		gtls_meta(&m, session);
		if (m.sni[0] == '\0')	/* a client: what it asked for */
			memcpy(m.sni, tc->s->sni, sizeof m.sni);
	} else if (fatal != NULL && fatal(r)) {
		gtls_library(&m);
		snprintf(m.error, sizeof m.error, "%s", text != NULL &&
		    text(r) != NULL ? text(r) : "handshake failed");
	} else
		return;
	tls_meta(tc, &m);
}

/* Our key log function: the line to TAPSHIM_KEYLOG, then the program's. */
static int
gtls_keylog_cb(void *session, const char *label,
    const struct gtls_datum *secret)
{
	void		(*rnd)(void *, struct gtls_datum *,
			    struct gtls_datum *) = GTLS(gnutls_session_get_random,
			    void (*)(void *, struct gtls_datum *,
			    struct gtls_datum *));
	struct gtls_datum client, server;
	struct tlssess	*s;
	char		 line[KEYLOG_LINE_MAX];
	int		 n;

	if (rnd != NULL && secret != NULL) {
		memset(&client, 0, sizeof client);
		rnd(session, &client, &server);
		n = keylog_format(line, sizeof line, label, client.data,
		    client.size, secret->data, secret->size);
		if (n > 0)
			tls_keylog(line, (size_t)n);
	}
	if ((s = tlssess_get(session)) != NULL && s->chain != NULL)
		return (((gtls_keylog_fn)s->chain)(session, label, secret));
	return (0);
}

/* Make session log keys through us, keeping fn (or its own) to chain. */
static void
gtls_keylog_set(void *session, gtls_keylog_fn fn, int have)
{
	void		(*set)(void *, gtls_keylog_fn) =
	    GTLS(gnutls_session_set_keylog_function, void (*)(void *,
	    gtls_keylog_fn));
	gtls_keylog_fn	(*get)(void *) =
	    GTLS(gnutls_session_get_keylog_function,
	    gtls_keylog_fn (*)(void *));
	struct tlssess	*s;

	if (set == NULL)
		return;
	if (!have)
		fn = get != NULL ? get(session) : NULL;
	if ((s = tls_session(session, TLSSESS_GNUTLS)) == NULL) {
		if (have)
			set(session, fn);	/* no room: the program's */
		return;
	}
	s->chain = fn == gtls_keylog_cb ? NULL : (void *)fn;
	set(session, gtls_keylog_cb);
}

/* gnutls_record_recv(_seq), gnutls_record_send(2): data calls. */
static ssize_t
gtls_rw(enum gtls f, void *session, void *buf, size_t n, unsigned char *seq,
    size_t pad, unsigned int flags)
{
	struct tls_call	tc;
	ssize_t		r;
	void		*fn = tlsreal_get(&gtls_ptr[f], gtls_names[f]);

	if (fn == NULL)
		return (gtls_missing());
	tls_begin(&tc, session, TLSSESS_GNUTLS, gtls_fd);
	if (f == GTLS_gnutls_record_recv)
		r = ((ssize_t (*)(void *, void *, size_t))fn)(session, buf, n);
	else if (f == GTLS_gnutls_record_recv_seq)
		r = ((ssize_t (*)(void *, void *, size_t, unsigned char *))fn)(
		    session, buf, n, seq);
	else if (f == GTLS_gnutls_record_send)
		r = ((ssize_t (*)(void *, void *, size_t))fn)(session, buf, n);
	else
		r = ((ssize_t (*)(void *, void *, size_t, size_t,
		    unsigned int))fn)(session, buf, n, pad, flags);
	tls_end(&tc);
	if (tc.s != NULL) {
		if (r > 0)
			tls_data(&tc, f == GTLS_gnutls_record_recv ||
			    f == GTLS_gnutls_record_recv_seq ? ENC_READ :
			    ENC_WRITE, buf, (size_t)r);
		else if (f == GTLS_gnutls_record_recv ||
		    f == GTLS_gnutls_record_recv_seq)
			tls_eof(&tc, r == 0);
	}
	tls_done(&tc);
	return (r);
}

/* gnutls_handshake, gnutls_bye, gnutls_record_uncork. */
static int
gtls_call(enum gtls f, void *session, int arg)
{
	struct tls_call	tc;
	void		*fn = tlsreal_get(&gtls_ptr[f], gtls_names[f]);
	int		 r;

	if (fn == NULL)
		return (gtls_missing());
	tls_begin(&tc, session, TLSSESS_GNUTLS, gtls_fd);
	if (f == GTLS_gnutls_handshake)
		r = ((int (*)(void *))fn)(session);
	else
		r = ((int (*)(void *, int))fn)(session, arg);
	tls_end(&tc);
	if (tc.s != NULL && f == GTLS_gnutls_handshake)
		gtls_after(&tc, session, r);
	else if (tc.s != NULL && f == GTLS_gnutls_bye) {
		tls_eof(&tc, 0);
		tls_shutdown(&tc);
	}
	tls_done(&tc);
	return (r);
}

/* A client names the server: kept for the metadata. */
static int
gtls_server_name_set(void *session, int type, const void *name, size_t n)
{
	int		(*fn)(void *, int, const void *, size_t) =
	    GTLS(gnutls_server_name_set, int (*)(void *, int, const void *,
	    size_t));
	struct tlssess	*s;
	int		 r, saved;

	if (fn == NULL)
		return (gtls_missing());
	r = fn(session, type, name, n);
	saved = errno;
	/* GNUTLS_NAME_DNS */
	if (r == 0 && type == 1 && name != NULL &&
	    (s = tls_session(session, TLSSESS_GNUTLS)) != NULL)
		snprintf(s->sni, sizeof s->sni, "%.*s", (int)(n < sizeof s->sni ?
		    n : sizeof s->sni - 1), (const char *)name);
	errno = saved;
	return (r);
}

static int
gtls_init(void **session, unsigned int flags)
{
	int	(*fn)(void **, unsigned int) = GTLS(gnutls_init,
		    int (*)(void **, unsigned int));
	int	r, saved;

	if (fn == NULL)
		return (gtls_missing());
	r = fn(session, flags);
	saved = errno;
	if (r == 0 && session != NULL && tls_keylog_on())
		gtls_keylog_set(*session, NULL, 0);
	errno = saved;
	return (r);
}

static void
gtls_deinit(void *session)
{
	void	(*fn)(void *) = GTLS(gnutls_deinit, void (*)(void *));

	tls_free(session);
	if (fn != NULL)
		fn(session);
}

static void
gtls_set_keylog(void *session, gtls_keylog_fn func)
{
	void	(*fn)(void *, gtls_keylog_fn) =
	    GTLS(gnutls_session_set_keylog_function, void (*)(void *,
	    gtls_keylog_fn));

	if (tls_keylog_on())
		gtls_keylog_set(session, func, 1);
	else if (fn != NULL)
		fn(session, func);
}

HOOK ssize_t
gnutls_record_recv(void *session, void *data, size_t n)
{
	return (gtls_rw(GTLS_gnutls_record_recv, session, data, n, NULL, 0, 0));
}

HOOK ssize_t
gnutls_record_recv_seq(void *session, void *data, size_t n,
    unsigned char *seq)
{
	return (gtls_rw(GTLS_gnutls_record_recv_seq, session, data, n, seq, 0,
	    0));
}

HOOK ssize_t
gnutls_record_send(void *session, const void *data, size_t n)
{
	return (gtls_rw(GTLS_gnutls_record_send, session,
	    (void *)(uintptr_t)data, n, NULL, 0, 0));
}

HOOK ssize_t
gnutls_record_send2(void *session, const void *data, size_t n, size_t pad,
    unsigned flags)
{
	return (gtls_rw(GTLS_gnutls_record_send2, session,
	    (void *)(uintptr_t)data, n, NULL, pad, flags));
}

HOOK int
gnutls_record_uncork(void *session, unsigned int flags)
{
	return (gtls_call(GTLS_gnutls_record_uncork, session, (int)flags));
}

HOOK int
gnutls_handshake(void *session)
{
	return (gtls_call(GTLS_gnutls_handshake, session, 0));
}

HOOK int
gnutls_bye(void *session, int how)
{
	return (gtls_call(GTLS_gnutls_bye, session, how));
}

HOOK void
gnutls_deinit(void *session)
{
	gtls_deinit(session);
}

HOOK int
gnutls_init(void **session, unsigned int flags)
{
	return (gtls_init(session, flags));
}

HOOK int
gnutls_server_name_set(void *session, int type, const void *name, size_t n)
{
	return (gtls_server_name_set(session, type, name, n));
}

/*
 * gnutls_session_get_data(2): with TLS 1.3 it reads the server's session
 * tickets from the socket (wget calls it right after the handshake),
 * records that are not plaintext.
 */
static int
gtls_get_data(enum gtls f, void *session, void *a, void *b)
{
	struct tls_call	tc;
	void		*fn = tlsreal_get(&gtls_ptr[f], gtls_names[f]);
	int		r;

	if (fn == NULL)
		return (gtls_missing());
	tls_begin(&tc, session, TLSSESS_GNUTLS, gtls_fd);
	if (f == GTLS_gnutls_session_get_data)
		r = ((int (*)(void *, void *, void *))fn)(session, a, b);
	else
		r = ((int (*)(void *, void *))fn)(session, a);
	tls_end(&tc);
	tls_done(&tc);
	return (r);
}

HOOK int
gnutls_session_get_data(void *session, void *data, size_t *size)
{
	return (gtls_get_data(GTLS_gnutls_session_get_data, session, data,
	    size));
}

HOOK int
gnutls_session_get_data2(void *session, struct gtls_datum *data)
{
	return (gtls_get_data(GTLS_gnutls_session_get_data2, session, data,
	    NULL));
}

HOOK void
gnutls_session_set_keylog_function(void *session, gtls_keylog_fn func)
{
	gtls_set_keylog(session, func);
}
