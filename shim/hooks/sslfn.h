/* OpenSSL's functions, found at first use; its metadata and key log. */
#ifndef TAPSHIM_SSLFN_H
#define TAPSHIM_SSLFN_H

#include "tls.h"

/* Every OpenSSL function the shim calls, hooked or not. */
#define SSLFN_LIST(X)							\
	X(SSL_read) X(SSL_read_ex) X(SSL_peek) X(SSL_peek_ex)		\
	X(SSL_write) X(SSL_write_ex) X(SSL_connect) X(SSL_accept)	\
	X(SSL_do_handshake) X(SSL_shutdown) X(SSL_free) X(SSL_set_fd)	\
	X(SSL_set_bio) X(SSL_new) X(SSL_CTX_set_keylog_callback)	\
	X(SSL_set_SSL_CTX)						\
	X(SSL_CTX_get_keylog_callback) X(SSL_get_SSL_CTX) X(SSL_get_fd)	\
	X(SSL_get_error) X(SSL_is_init_finished) X(SSL_get_version)	\
	X(SSL_get_current_cipher) X(SSL_CIPHER_standard_name)		\
	X(SSL_CIPHER_get_name) X(SSL_get_servername)			\
	X(SSL_get0_alpn_selected) X(SSL_session_reused) X(SSL_ctrl)	\
	X(SSL_get0_peer_certificate) X(SSL_get_peer_cert_chain)		\
	X(OPENSSL_sk_num) X(OPENSSL_sk_value) X(X509_get_subject_name)	\
	X(X509_get_issuer_name) X(X509_NAME_oneline)			\
	X(X509_get0_notBefore) X(X509_get0_notAfter) X(ASN1_TIME_to_tm)	\
	X(X509_check_ca) X(OpenSSL_version) X(ERR_set_mark)		\
	X(ERR_pop_to_mark) X(ERR_peek_last_error) X(ERR_error_string_n)	\
	X(BIO_read) X(BIO_write) X(BIO_method_type)

#define SSLFN_ENUM(f)	SSLFN_##f,
enum sslfn { SSLFN_LIST(SSLFN_ENUM) SSLFN_COUNT };
#undef SSLFN_ENUM

/* OpenSSL's constants the shim needs. */
#define SSLFN_ERROR_SSL		1
#define SSLFN_ERROR_SYSCALL	5
#define SSLFN_ERROR_ZERO_RETURN	6

void	*sslfn_get(enum sslfn);
int	 sslfn_fd(void *);
int	 sslfn_error(void *, int);
void	 sslfn_after(struct tls_call *, void *, int);
void	 sslfn_keylog_ctx(void *, void *, int);

#endif
