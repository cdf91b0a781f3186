/* Hooks on OpenSSL (1.1, 3.x): plaintext, session to socket, key log. */

#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "hook.h"
#include "sslfn.h"
#include "tlsmem.h"

/* OpenSSL's prototypes, with its types opaque: no header needed. */
int	SSL_read(void *, void *, int);
int	SSL_peek(void *, void *, int);
int	SSL_write(void *, const void *, int);
int	SSL_read_ex(void *, void *, size_t, size_t *);
int	SSL_peek_ex(void *, void *, size_t, size_t *);
int	SSL_write_ex(void *, const void *, size_t, size_t *);
int	SSL_connect(void *);
int	SSL_accept(void *);
int	SSL_do_handshake(void *);
int	SSL_shutdown(void *);
void	SSL_free(void *);
int	SSL_set_fd(void *, int);
void	SSL_set_bio(void *, void *, void *);
void	*SSL_new(void *);
void	SSL_CTX_set_keylog_callback(void *, void *);
void	*SSL_set_SSL_CTX(void *, void *);
int	BIO_read(void *, void *, int);
int	BIO_write(void *, const void *, int);

#define SSLCALL(f, type)	((type)sslfn_get(SSLFN_##f))

/* A function OpenSSL lacks: fail as OpenSSL fails (no error queued). */
static int
ssl_missing(void)
{
	errno = ENOSYS;
	return (-1);
}

/*
 * SSL_read, SSL_peek, SSL_write: the real call inside the session's
 * marker, then what it moved (a peek moved nothing), its end of stream
 * and, once, the handshake's metadata.
 */
static int
ssl_rw(enum sslfn f, void *ssl, void *buf, int num)
{
	int		(*fn)(void *, void *, int) = (int (*)(void *, void *,
			    int))sslfn_get(f);
	struct tls_call	 tc;
	int		 r;

	if (fn == NULL)
		return (ssl_missing());
	tls_begin(&tc, ssl, TLSSESS_OPENSSL, sslfn_fd);
	r = fn(ssl, buf, num);
	tls_end(&tc);
	if (tc.s != NULL) {
		if (r > 0 && f != SSLFN_SSL_peek)
			tls_data(&tc, f == SSLFN_SSL_write ? ENC_WRITE :
			    ENC_READ, buf, (size_t)r);
		if (r <= 0 && f == SSLFN_SSL_read)
			tls_eof(&tc, sslfn_error(ssl, r) ==
			    SSLFN_ERROR_ZERO_RETURN);
		sslfn_after(&tc, ssl, r);
	}
	tls_done(&tc);
	return (r);
}

/* SSL_read_ex, SSL_peek_ex, SSL_write_ex: the same, counts in *done. */
static int
ssl_rw_ex(enum sslfn f, void *ssl, void *buf, size_t num, size_t *done)
{
	int		(*fn)(void *, void *, size_t, size_t *) = (int (*)(void *,
			    void *, size_t, size_t *))sslfn_get(f);
	struct tls_call	 tc;
	int		 r;

	if (fn == NULL)
		return (ssl_missing() + 1);
	tls_begin(&tc, ssl, TLSSESS_OPENSSL, sslfn_fd);
	r = fn(ssl, buf, num, done);
	tls_end(&tc);
	if (tc.s != NULL) {
		if (r == 1 && done != NULL && f != SSLFN_SSL_peek_ex)
			tls_data(&tc, f == SSLFN_SSL_write_ex ? ENC_WRITE :
			    ENC_READ, buf, *done);
		if (r != 1 && f == SSLFN_SSL_read_ex)
			tls_eof(&tc, sslfn_error(ssl, r) ==
			    SSLFN_ERROR_ZERO_RETURN);
		sslfn_after(&tc, ssl, r);
	}
	tls_done(&tc);
	return (r);
}

/* SSL_connect, SSL_accept, SSL_do_handshake, SSL_shutdown. */
static int
ssl_call(enum sslfn f, void *ssl)
{
	int		(*fn)(void *) = (int (*)(void *))sslfn_get(f);
	struct tls_call	 tc;
	int		 r;

	if (fn == NULL)
		return (ssl_missing());
	tls_begin(&tc, ssl, TLSSESS_OPENSSL, sslfn_fd);
	r = fn(ssl);
	tls_end(&tc);
	if (tc.s != NULL && f != SSLFN_SSL_shutdown)
		sslfn_after(&tc, ssl, r);
	else if (tc.s != NULL) {
		tls_eof(&tc, 0);	/* its socket's end, if it read it */
		tls_shutdown(&tc);
	}
	tls_done(&tc);
	return (r);
}

static void
ssl_free(void *ssl)
{
	void	(*fn)(void *) = SSLCALL(SSL_free, void (*)(void *));

	tls_free(ssl);
	if (fn != NULL)
		fn(ssl);
}

static int
ssl_set_fd(void *ssl, int fd)
{
	int	(*fn)(void *, int) = SSLCALL(SSL_set_fd, int (*)(void *, int));
	int	r;

	if (fn == NULL)
		return (ssl_missing() + 1);
	r = fn(ssl, fd);
	if (r == 1)
		tls_set_fd(ssl, TLSSESS_OPENSSL, fd);
	return (r);
}

/* Is bio an OpenSSL memory BIO (BIO_TYPE_MEM)? */
static int
ssl_bio_mem(void *bio)
{
	int	(*type)(const void *) = SSLCALL(BIO_method_type,
		    int (*)(const void *));

	return (bio != NULL && type != NULL && type(bio) == (1 | 0x0400));
}

static void
ssl_set_bio(void *ssl, void *rbio, void *wbio)
{
	void	(*fn)(void *, void *, void *) = SSLCALL(SSL_set_bio,
		    void (*)(void *, void *, void *));

	if (fn != NULL)
		fn(ssl, rbio, wbio);
	tls_set_fd(ssl, TLSSESS_OPENSSL, -1);	/* learnt from its I/O */
	tlsmem_set(ssl, rbio, ssl_bio_mem(rbio), wbio, ssl_bio_mem(wbio));
}

/* BIO_read: ciphertext a session's memory BIO gives the program. */
static int
ssl_bio_read(void *bio, void *buf, int len)
{
	int	(*fn)(void *, void *, int) = SSLCALL(BIO_read,
		    int (*)(void *, void *, int));
	int	r, saved;

	if (fn == NULL)
		return (ssl_missing());
	r = fn(bio, buf, len);
	if (r > 0 && tlsmem_any()) {
		saved = errno;
		tlsmem_produced(bio, buf, (size_t)r);
		errno = saved;
	}
	return (r);
}

/* BIO_write: ciphertext the program gives a session's memory BIO. */
static int
ssl_bio_write(void *bio, const void *buf, int len)
{
	int	(*fn)(void *, const void *, int) = SSLCALL(BIO_write,
		    int (*)(void *, const void *, int));
	int	saved;

	if (fn == NULL)
		return (ssl_missing());
	if (len > 0 && buf != NULL && tlsmem_any()) {
		saved = errno;
		tlsmem_consumed(bio, buf, (size_t)len);
		errno = saved;
	}
	return (fn(bio, buf, len));
}

/* SSL_new: with TAPSHIM_KEYLOG, the new session's context logs keys. */
static void *
ssl_new(void *ctx)
{
	void	*(*fn)(void *) = SSLCALL(SSL_new, void *(*)(void *));
	void	*ssl;
	int	 saved;

	if (fn == NULL) {
		errno = ENOSYS;
		return (NULL);
	}
	ssl = fn(ctx);
	saved = errno;
	if (ssl != NULL && tls_keylog_on())
		sslfn_keylog_ctx(ctx, NULL, 0);
	errno = saved;
	return (ssl);
}

/*
 * A server switching a session to another context (by SNI): that one
 * logs keys too, since OpenSSL asks the session's context at each line.
 */
static void *
ssl_set_ssl_ctx(void *ssl, void *ctx)
{
	void	*(*fn)(void *, void *) = SSLCALL(SSL_set_SSL_CTX,
		    void *(*)(void *, void *));
	void	*r;
	int	 saved;

	if (fn == NULL) {
		errno = ENOSYS;
		return (NULL);
	}
	r = fn(ssl, ctx);
	saved = errno;
	if (r != NULL && tls_keylog_on())
		sslfn_keylog_ctx(r, NULL, 0);
	errno = saved;
	return (r);
}

/* The program's own key log callback runs after ours. */
static void
ssl_ctx_set_keylog(void *ctx, void *cb)
{
	void	(*fn)(void *, void *) = SSLCALL(SSL_CTX_set_keylog_callback,
		    void (*)(void *, void *));

	if (tls_keylog_on())
		sslfn_keylog_ctx(ctx, cb, 1);
	else if (fn != NULL)
		fn(ctx, cb);
}

HOOK int
SSL_read(void *ssl, void *buf, int num)
{
	return (ssl_rw(SSLFN_SSL_read, ssl, buf, num));
}

HOOK int
SSL_peek(void *ssl, void *buf, int num)
{
	return (ssl_rw(SSLFN_SSL_peek, ssl, buf, num));
}

HOOK int
SSL_write(void *ssl, const void *buf, int num)
{
	return (ssl_rw(SSLFN_SSL_write, ssl, (void *)(uintptr_t)buf, num));
}

HOOK int
SSL_read_ex(void *ssl, void *buf, size_t num, size_t *n)
{
	return (ssl_rw_ex(SSLFN_SSL_read_ex, ssl, buf, num, n));
}

HOOK int
SSL_peek_ex(void *ssl, void *buf, size_t num, size_t *n)
{
	return (ssl_rw_ex(SSLFN_SSL_peek_ex, ssl, buf, num, n));
}

HOOK int
SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *n)
{
	return (ssl_rw_ex(SSLFN_SSL_write_ex, ssl, (void *)(uintptr_t)buf,
	    num, n));
}

HOOK int
SSL_connect(void *ssl)
{
	return (ssl_call(SSLFN_SSL_connect, ssl));
}

HOOK int
SSL_accept(void *ssl)
{
	return (ssl_call(SSLFN_SSL_accept, ssl));
}

HOOK int
SSL_do_handshake(void *ssl)
{
	return (ssl_call(SSLFN_SSL_do_handshake, ssl));
}

HOOK int
SSL_shutdown(void *ssl)
{
	return (ssl_call(SSLFN_SSL_shutdown, ssl));
}

HOOK void
SSL_free(void *ssl)
{
	ssl_free(ssl);
}

HOOK int
SSL_set_fd(void *ssl, int fd)
{
	return (ssl_set_fd(ssl, fd));
}

HOOK void
SSL_set_bio(void *ssl, void *rbio, void *wbio)
{
	ssl_set_bio(ssl, rbio, wbio);
}

HOOK void *
SSL_new(void *ctx)
{
	return (ssl_new(ctx));
}

HOOK void *
SSL_set_SSL_CTX(void *ssl, void *ctx)
{
	return (ssl_set_ssl_ctx(ssl, ctx));
}

HOOK void
SSL_CTX_set_keylog_callback(void *ctx, void *cb)
{
	ssl_ctx_set_keylog(ctx, cb);
}

HOOK int
BIO_read(void *bio, void *buf, int len)
{
	return (ssl_bio_read(bio, buf, len));
}

HOOK int
BIO_write(void *bio, const void *buf, int len)
{
	return (ssl_bio_write(bio, buf, len));
}
