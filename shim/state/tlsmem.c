/*
 * TLS sessions over memory BIOs (Python's ssl.SSLObject: asyncio, aiohttp,
 * httpx): the program moves the records between the session's BIOs and
 * a socket itself. The ciphertext the session's write BIO gave the
 * program is matched with the thread's next socket write, and what the
 * program put into its read BIO with the thread's last socket read; the
 * first match ties the session to that socket for good. The socket's
 * trace then carries the session's plaintext and metadata, and not its
 * records.
 */

#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "shim.h"
#include "tlsmem.h"
#include "tlssess.h"

#define TLSMEM_MAX	256
#define TLSMEM_HEAD	16	/* bytes compared */
#define TLSMEM_PENDING	4	/* a thread's untied outputs */

/* The memory BIOs sessions were given; bio atomic, NULL when free. */
static struct {
	void	*bio;
	void	*ssl;
	int	 out;			/* the session's write BIO */
} tlsmem_bio[TLSMEM_MAX];

/* Sockets tied to a session; ssl atomic, NULL when free. */
static struct {
	void	*ssl;
	int	 fd;
} tlsmem_tie[TLSMEM_MAX];

static int		tlsmem_live;	/* tlsmem_bio entries; atomic */
static pthread_mutex_t	tlsmem_lock = PTHREAD_MUTEX_INITIALIZER;

struct tlsmem_head {
	void		*ssl;		/* NULL: none */
	int		 fd;
	size_t		 n;
	unsigned char	 b[TLSMEM_HEAD];
};

/* Ciphertext read from write BIOs of untied sessions, not yet sent. */
static __thread struct tlsmem_head	tlsmem_out[TLSMEM_PENDING]
    __attribute__((tls_model("initial-exec")));
static __thread unsigned		tlsmem_next
    __attribute__((tls_model("initial-exec")));
/* The thread's last socket read while some session was untied. */
static __thread struct tlsmem_head	tlsmem_in
    __attribute__((tls_model("initial-exec")));

/* Is any session over memory BIOs known? The hooks' cheap test. */
int
tlsmem_any(void)
{
	return (__atomic_load_n(&tlsmem_live, __ATOMIC_RELAXED) != 0);
}

static void
tlsmem_add_bio(void *ssl, void *bio, int out)
{
	size_t	i;

	for (i = 0; i < TLSMEM_MAX; i++) {
		if (tlsmem_bio[i].bio == NULL) {
			tlsmem_bio[i].ssl = ssl;
			tlsmem_bio[i].out = out;
			__atomic_store_n(&tlsmem_bio[i].bio, bio,
			    __ATOMIC_RELEASE);
			__atomic_add_fetch(&tlsmem_live, 1, __ATOMIC_RELEASE);
			return;
		}
	}
}

static void
tlsmem_forget(void *ssl)
{
	size_t	i;

	for (i = 0; i < TLSMEM_MAX; i++) {
		if (tlsmem_bio[i].bio != NULL && tlsmem_bio[i].ssl == ssl) {
			__atomic_store_n(&tlsmem_bio[i].bio, NULL,
			    __ATOMIC_RELEASE);
			__atomic_sub_fetch(&tlsmem_live, 1, __ATOMIC_RELEASE);
		}
		if (tlsmem_tie[i].ssl == ssl)
			__atomic_store_n(&tlsmem_tie[i].ssl, NULL,
			    __ATOMIC_RELEASE);
	}
}

/*
 * The program gave ssl its BIOs; rmem, wmem: each is a memory BIO. A
 * session that runs over a memory BIO has its socket found by matching.
 */
void
tlsmem_set(void *ssl, void *rbio, int rmem, void *wbio, int wmem)
{
	struct tlssess	*s;
	int		 outer = shim_enter();

	if (outer && ssl != NULL && shim_tracing()) {
		pthread_mutex_lock(&tlsmem_lock);
		tlsmem_forget(ssl);
		if (rmem && rbio != NULL)
			tlsmem_add_bio(ssl, rbio, 0);
		if (wmem && wbio != NULL)
			tlsmem_add_bio(ssl, wbio, 1);
		pthread_mutex_unlock(&tlsmem_lock);
		if ((rmem || wmem) &&
		    (s = tlssess_add(ssl, TLSSESS_OPENSSL, shim_now())) != NULL) {
			s->fd = -1;
			s->mem = 1;
		}
	}
	shim_leave();
}

/* The session bio belongs to (out: as its write BIO), or NULL. */
static void *
tlsmem_find(void *bio, int out)
{
	size_t	i;

	for (i = 0; i < TLSMEM_MAX; i++) {
		if (__atomic_load_n(&tlsmem_bio[i].bio, __ATOMIC_ACQUIRE) ==
		    bio && tlsmem_bio[i].out == out)
			return (tlsmem_bio[i].ssl);
	}
	return (NULL);
}

static int
tlsmem_tied_fd(int fd)
{
	size_t	i;

	for (i = 0; i < TLSMEM_MAX; i++) {
		if (__atomic_load_n(&tlsmem_tie[i].ssl, __ATOMIC_ACQUIRE) !=
		    NULL && tlsmem_tie[i].fd == fd)
			return (1);
	}
	return (0);
}

static int
tlsmem_tied_ssl(void *ssl)
{
	size_t	i;

	for (i = 0; i < TLSMEM_MAX; i++) {
		if (__atomic_load_n(&tlsmem_tie[i].ssl, __ATOMIC_ACQUIRE) ==
		    ssl)
			return (1);
	}
	return (0);
}

/* Tie ssl to fd: its plaintext and metadata go to fd's trace. */
static void
tlsmem_do_tie(void *ssl, int fd)
{
	struct tlssess	*s;
	size_t		 i;

	pthread_mutex_lock(&tlsmem_lock);
	if (!tlsmem_tied_ssl(ssl)) {
		for (i = 0; i < TLSMEM_MAX; i++) {
			if (tlsmem_tie[i].ssl == NULL) {
				tlsmem_tie[i].fd = fd;
				__atomic_store_n(&tlsmem_tie[i].ssl, ssl,
				    __ATOMIC_RELEASE);
				break;
			}
		}
	}
	pthread_mutex_unlock(&tlsmem_lock);
	if ((s = tlssess_get(ssl)) != NULL)
		s->fd = fd;
	for (i = 0; i < TLSMEM_PENDING; i++) {
		if (tlsmem_out[i].ssl == ssl)
			tlsmem_out[i].ssl = NULL;
	}
}

static void
tlsmem_keep(struct tlsmem_head *h, void *ssl, int fd, const void *buf,
    size_t n)
{
	h->ssl = ssl;
	h->fd = fd;
	h->n = n < TLSMEM_HEAD ? n : TLSMEM_HEAD;
	memcpy(h->b, buf, h->n);
}

/* Does buf (n bytes) begin as h does? */
static int
tlsmem_match(const struct tlsmem_head *h, const void *buf, size_t n)
{
	return (h->n > 0 && n >= h->n && memcmp(h->b, buf, h->n) == 0);
}

/* The program read n > 0 bytes of ciphertext from bio. */
void
tlsmem_produced(void *bio, const void *buf, size_t n)
{
	void	*ssl;

	if ((ssl = tlsmem_find(bio, 1)) == NULL || tlsmem_tied_ssl(ssl))
		return;
	tlsmem_keep(&tlsmem_out[tlsmem_next++ % TLSMEM_PENDING], ssl, -1,
	    buf, n);
}

/* The program wrote n > 0 bytes of ciphertext into bio. */
void
tlsmem_consumed(void *bio, const void *buf, size_t n)
{
	void	*ssl;

	if ((ssl = tlsmem_find(bio, 0)) == NULL || tlsmem_tied_ssl(ssl))
		return;
	if (tlsmem_in.ssl != NULL && tlsmem_match(&tlsmem_in, buf, n)) {
		tlsmem_in.ssl = NULL;
		tlsmem_do_tie(ssl, tlsmem_in.fd);
	}
}

/*
 * Socket I/O on the traced stream fd outside any TLS call (buf NULL: its
 * end of file). Returns 1 when the bytes are the records of a session
 * traced in plaintext, which the hook must not record.
 */
int
tlsmem_sock(int fd, enum enc_kind kind, const void *buf, size_t n,
    int plain)
{
	size_t	i;

	if (!tlsmem_any())
		return (0);
	if (tlsmem_tied_fd(fd))
		return (plain && buf != NULL);
	if (buf == NULL || n == 0)
		return (0);
	if (kind == ENC_WRITE) {
		for (i = 0; i < TLSMEM_PENDING; i++) {
			if (tlsmem_out[i].ssl != NULL &&
			    tlsmem_match(&tlsmem_out[i], buf, n)) {
				tlsmem_do_tie(tlsmem_out[i].ssl, fd);
				return (plain);
			}
		}
	} else
		tlsmem_keep(&tlsmem_in, (void *)1, fd, buf, n);
	return (0);
}

/* The library freed ssl. */
void
tlsmem_free(void *ssl)
{
	size_t	i;

	if (!tlsmem_any())
		return;
	pthread_mutex_lock(&tlsmem_lock);
	tlsmem_forget(ssl);
	pthread_mutex_unlock(&tlsmem_lock);
	for (i = 0; i < TLSMEM_PENDING; i++) {
		if (tlsmem_out[i].ssl == ssl)
			tlsmem_out[i].ssl = NULL;
	}
}
