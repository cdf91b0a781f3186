/* OpenSSL's functions, found at first use; its metadata and key log. */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sslfn.h"
#include "tlsreal.h"

#define SSLFN_NAME(f)	#f,
static const char *const sslfn_names[] = { SSLFN_LIST(SSLFN_NAME) };
#undef SSLFN_NAME

static void	*sslfn_ptr[SSLFN_COUNT];

/* The program's own key log callback per SSL_CTX (TAPSHIM_KEYLOG). */
#define SSLFN_CTX_MAX	256
static struct {
	void	*ctx;			/* atomic */
	void	*cb;
} sslfn_ctx[SSLFN_CTX_MAX];

typedef void (*sslfn_keylog_fn)(const void *, const char *);

/* OpenSSL's function f, or NULL when this version has none. */
void *
sslfn_get(enum sslfn f)
{
	return (tlsreal_get(&sslfn_ptr[f], sslfn_names[f]));
}

#define SSLFN(f, type)	((type)sslfn_get(SSLFN_##f))

/* The session's socket, as OpenSSL knows it (-1 behind a custom BIO). */
int
sslfn_fd(void *ssl)
{
	int	(*get)(void *) = SSLFN(SSL_get_fd, int (*)(void *));

	return (get != NULL ? get(ssl) : -1);
}

/* SSL_get_error(), or 0 when it cannot be found. */
int
sslfn_error(void *ssl, int r)
{
	int	(*get)(void *, int) = SSLFN(SSL_get_error, int (*)(void *, int));

	return (get != NULL ? get(ssl, r) : 0);
}

/* Copy a string OpenSSL returned (NULL allowed) into dst. */
static void
sslfn_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* An ASN1_TIME as seconds since the epoch; 0 when it cannot be read. */
static int64_t
sslfn_time(const void *t)
{
	int	(*to_tm)(const void *, struct tm *) =
	    SSLFN(ASN1_TIME_to_tm, int (*)(const void *, struct tm *));
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	if (t == NULL || to_tm == NULL || to_tm(t, &tm) != 1)
		return (0);
	return ((int64_t)timegm(&tm));
}

/* One X509's subject, issuer, validity and CA flag. */
static void
sslfn_cert(struct tlsmeta_cert *c, void *x)
{
	void	*(*name)(void *);
	char	*(*oneline)(void *, char *, int) =
	    SSLFN(X509_NAME_oneline, char *(*)(void *, char *, int));
	void	*(*nb)(void *) = SSLFN(X509_get0_notBefore, void *(*)(void *));
	void	*(*na)(void *) = SSLFN(X509_get0_notAfter, void *(*)(void *));
	int	(*ca)(void *) = SSLFN(X509_check_ca, int (*)(void *));

	memset(c, 0, sizeof *c);
	if (oneline != NULL) {
		name = SSLFN(X509_get_subject_name, void *(*)(void *));
		if (name != NULL)
			oneline(name(x), c->subject, sizeof c->subject);
		name = SSLFN(X509_get_issuer_name, void *(*)(void *));
		if (name != NULL)
			oneline(name(x), c->issuer, sizeof c->issuer);
	}
	if (nb != NULL && na != NULL) {
		c->not_before = sslfn_time(nb(x));
		c->not_after = sslfn_time(na(x));
		c->has_times = c->not_before != 0 || c->not_after != 0;
	}
	c->ca = ca != NULL && ca(x) > 0;
}

/* The peer's certificates: its own first, then the rest of its chain. */
static void
sslfn_certs(struct tlsmeta *m, void *ssl)
{
	void	*(*leaf_fn)(void *) =
	    SSLFN(SSL_get0_peer_certificate, void *(*)(void *));
	void	*(*chain_fn)(void *) =
	    SSLFN(SSL_get_peer_cert_chain, void *(*)(void *));
	int	(*num)(void *) = SSLFN(OPENSSL_sk_num, int (*)(void *));
	void	*(*val)(void *, int) =
	    SSLFN(OPENSSL_sk_value, void *(*)(void *, int));
	void	*leaf = NULL, *chain, *x;
	int	 i, n;

	if (leaf_fn != NULL && (leaf = leaf_fn(ssl)) != NULL)
		sslfn_cert(&m->certs[m->ncerts++], leaf);
	if (chain_fn == NULL || num == NULL || val == NULL ||
	    (chain = chain_fn(ssl)) == NULL)
		return;
	n = num(chain);
	for (i = 0; i < n && m->ncerts < TLSMETA_CERTS; i++) {
		if ((x = val(chain, i)) != NULL && x != leaf)
			sslfn_cert(&m->certs[m->ncerts++], x);
	}
}

/* "OpenSSL 3.0.19 27 Jan 2026", or "OpenSSL" when it cannot say. */
static void
sslfn_library(struct tlsmeta *m)
{
	const char	*(*ver)(int) = SSLFN(OpenSSL_version,
			    const char *(*)(int));

	sslfn_copy(m->library, sizeof m->library, ver != NULL ? ver(0) :
	    "OpenSSL");
}

/* What OpenSSL says of the handshake that just ended. */
static void
sslfn_meta(struct tlsmeta *m, void *ssl)
{
	const char	*(*str)(void *);
	const char	*(*sname)(void *, int);
	void		(*alpn)(void *, const unsigned char **, unsigned int *);
	int		(*reused)(void *);
	long		(*ctrl)(void *, int, long, void *);
	void		*(*cipher)(void *);
	void		*ci;
	const unsigned char *p = NULL;
	unsigned int	 n = 0;

	sslfn_library(m);
	if ((str = SSLFN(SSL_get_version, const char *(*)(void *))) != NULL)
		sslfn_copy(m->version, sizeof m->version, str(ssl));
	cipher = SSLFN(SSL_get_current_cipher, void *(*)(void *));
	if (cipher != NULL && (ci = cipher(ssl)) != NULL) {
		str = SSLFN(SSL_CIPHER_standard_name, const char *(*)(void *));
		if (str == NULL)
			str = SSLFN(SSL_CIPHER_get_name, const char *(*)(void *));
		if (str != NULL)
			sslfn_copy(m->cipher, sizeof m->cipher, str(ci));
	}
	sname = SSLFN(SSL_get_servername, const char *(*)(void *, int));
	if (sname != NULL)
		sslfn_copy(m->sni, sizeof m->sni, sname(ssl, 0));
	alpn = SSLFN(SSL_get0_alpn_selected, void (*)(void *,
	    const unsigned char **, unsigned int *));
	if (alpn != NULL) {
		alpn(ssl, &p, &n);
		if (p != NULL)
			snprintf(m->alpn, sizeof m->alpn, "%.*s", (int)n, p);
	}
	/* A macro over SSL_ctrl (SSL_CTRL_GET_SESSION_REUSED) before 3.0. */
	if ((reused = SSLFN(SSL_session_reused, int (*)(void *))) != NULL)
		m->resumed = reused(ssl) != 0;
	else if ((ctrl = SSLFN(SSL_ctrl, long (*)(void *, int, long,
	    void *))) != NULL)
		m->resumed = ctrl(ssl, 8, 0, NULL) != 0;
	sslfn_certs(m, ssl);
}

/* Why the handshake failed: OpenSSL's error, or the system's. */
static void
sslfn_failure(struct tlsmeta *m, int err)
{
	unsigned long	(*peek)(void) =
	    SSLFN(ERR_peek_last_error, unsigned long (*)(void));
	void		(*text)(unsigned long, char *, size_t) =
	    SSLFN(ERR_error_string_n, void (*)(unsigned long, char *, size_t));
	unsigned long	 e;

	if (err == SSLFN_ERROR_SSL && peek != NULL && text != NULL &&
	    (e = peek()) != 0)
		text(e, m->error, sizeof m->error);
	else
		sslfn_copy(m->error, sizeof m->error, err == SSLFN_ERROR_SYSCALL ?
		    "connection closed or failed during the handshake" :
		    "handshake failed");
}

/*
 * After any call on ssl that returned r: once the handshake is over, or
 * has failed, write the metadata. OpenSSL's error queue is left as the
 * call left it (ERR_set_mark / ERR_pop_to_mark).
 */
void
sslfn_after(struct tls_call *tc, void *ssl, int r)
{
	int		(*done)(void *) =
	    SSLFN(SSL_is_init_finished, int (*)(void *));
	int		(*mark)(void) = SSLFN(ERR_set_mark, int (*)(void));
	int		(*pop)(void) = SSLFN(ERR_pop_to_mark, int (*)(void));
	struct tlsmeta	 m;
	struct timespec	 ts;
	int		 err;

	if (!tls_want_meta(tc) || done == NULL)
		return;
	memset(&m, 0, sizeof m);
	if (done(ssl)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		m.end = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		if (mark != NULL)
			mark();
		sslfn_meta(&m, ssl);
		if (pop != NULL)
			pop();
	} else if (r <= 0) {
		err = sslfn_error(ssl, r);
		if (err != SSLFN_ERROR_SSL && err != SSLFN_ERROR_SYSCALL)
			return;		/* not over: it wants I/O */
		sslfn_library(&m);
		sslfn_failure(&m, err);
	} else
		return;
	tls_meta(tc, &m);
}

/* The program's callback for ctx, or NULL. */
static sslfn_keylog_fn
sslfn_ctx_cb(const void *ctx)
{
	size_t	i;

	for (i = 0; i < SSLFN_CTX_MAX; i++) {
		if (__atomic_load_n(&sslfn_ctx[i].ctx, __ATOMIC_ACQUIRE) ==
		    ctx)
			return ((sslfn_keylog_fn)__atomic_load_n(&sslfn_ctx[i].cb,
			    __ATOMIC_ACQUIRE));
	}
	return (NULL);
}

/* Our key log callback: the line to TAPSHIM_KEYLOG, then the program's. */
static void
sslfn_keylog_cb(const void *ssl, const char *line)
{
	void		*(*getctx)(const void *) =
	    SSLFN(SSL_get_SSL_CTX, void *(*)(const void *));
	sslfn_keylog_fn	 cb;

	tls_keylog(line, strlen(line));
	if (getctx != NULL && (cb = sslfn_ctx_cb(getctx(ssl))) != NULL)
		cb(ssl, line);
}

/*
 * Make ctx log keys to TAPSHIM_KEYLOG, keeping cb (the program's, set is
 * 1) or the one ctx has now (set 0: at SSL_new) to call after ours.
 */
void
sslfn_keylog_ctx(void *ctx, void *cb, int set)
{
	void	(*setcb)(void *, sslfn_keylog_fn) =
	    SSLFN(SSL_CTX_set_keylog_callback, void (*)(void *,
	    sslfn_keylog_fn));
	void	*(*getcb)(void *) =
	    SSLFN(SSL_CTX_get_keylog_callback, void *(*)(void *));
	void	*k;
	size_t	 i;

	if (ctx == NULL || setcb == NULL)
		return;
	if (!set) {
		if (getcb == NULL)
			return;
		if ((cb = getcb(ctx)) == (void *)(uintptr_t)sslfn_keylog_cb)
			return;		/* already ours */
	}
	for (i = 0; i < SSLFN_CTX_MAX; i++) {
		k = __atomic_load_n(&sslfn_ctx[i].ctx, __ATOMIC_ACQUIRE);
		if (k == ctx)
			break;
		if (k == NULL) {
			if (__atomic_compare_exchange_n(&sslfn_ctx[i].ctx, &k,
			    ctx, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
			    k == ctx)
				break;
		}
	}
	if (i == SSLFN_CTX_MAX && cb != NULL)
		return;			/* no room: the program's stays */
	if (i < SSLFN_CTX_MAX)
		__atomic_store_n(&sslfn_ctx[i].cb, cb, __ATOMIC_RELEASE);
	setcb(ctx, sslfn_keylog_cb);
}
