/* TLS sessions the shim has seen: which socket each runs over. */
#ifndef TAPSHIM_TLSSESS_H
#define TAPSHIM_TLSSESS_H

#include <stdint.h>

#define TLSSESS_MAX	4096

enum tlssess_lib {
	TLSSESS_OPENSSL = 1,
	TLSSESS_GNUTLS
};

struct conn;

/*
 * One session. A TLS library lets one thread at a time use a session, so
 * only the key is shared between threads; the rest belongs to the thread
 * in the session's call.
 */
struct tlssess {
	void		*key;		/* SSL * or gnutls_session_t; atomic */
	int		 fd;		/* its socket, or -1 */
	int		 lib;
	int		 done;		/* metadata written */
	int		 eof;		/* its socket read end of file */
	int		 mem;		/* over memory BIOs: socket by matching */
	int		 begun;		/* a handshake or I/O call was made */
	int64_t		 begin;		/* its first call, ns (CLOCK_REALTIME) */
	void		*chain;		/* the program's key log function */
	char		 sni[256];	/* GnuTLS client: the name it set */
	struct conn	*twin;		/* TAPSHIM_TLS=both: the plaintext */
};

struct tlssess	*tlssess_get(void *);
struct tlssess	*tlssess_add(void *, int, int64_t);
struct tlssess	*tlssess_take(void *);
void		 tlssess_release(struct tlssess *);
struct tlssess	*tlssess_next(struct tlssess *);

#endif
