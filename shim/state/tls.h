/* Tracing TLS sessions: their socket, their plaintext, their metadata. */
#ifndef TAPSHIM_TLS_H
#define TAPSHIM_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "encode.h"
#include "tlsmeta.h"
#include "tlssess.h"

/* The library's own way to the session's socket: -1 if none. */
typedef int (*tls_fd_fn)(void *);

/* One call into the TLS library, from before it to after it. */
struct tls_call {
	void		*key;
	struct tlssess	*s;		/* NULL when not tracing */
	struct tlssess	*prev;		/* the thread's outer call's */
	tls_fd_fn	 getfd;
	int		 err;		/* errno after the real call */
	int64_t		 t0;		/* when the call was made, ns */
};

void	tls_begin(struct tls_call *, void *, int, tls_fd_fn);
void	tls_end(struct tls_call *);
int	tls_done(struct tls_call *);
void	tls_data(struct tls_call *, enum enc_kind, const void *, size_t);
void	tls_eof(struct tls_call *, int);
int	tls_want_meta(const struct tls_call *);
void	tls_meta(struct tls_call *, struct tlsmeta *);
void	tls_free(void *);
void	tls_set_fd(void *, int, int);
struct tlssess	*tls_session(void *, int);
int	tls_nested(int, enum enc_kind, const void *, size_t, int);
void	tls_shutdown(struct tls_call *);
struct conn;
size_t	tls_leftover(struct conn *, const void *, size_t);
void	tls_end_all(void);
int	tls_keylog_on(void);
void	tls_keylog(const char *, size_t);

#endif
