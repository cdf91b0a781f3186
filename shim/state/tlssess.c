/* TLS sessions the shim has seen: which socket each runs over. */

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "tlssess.h"

/* A slot given back: lookups go on past it, additions reuse it. */
#define TLSSESS_GONE	((void *)1)
/* A slot taken by tlssess_take(), not yet released. */
#define TLSSESS_BUSY	((void *)2)

/*
 * Open addressing over a fixed table: no allocation, lock-free. Past
 * TLSSESS_MAX sessions at once, a new one is not remembered, and its
 * socket is found through the library each time.
 */
static struct tlssess	tlssess_tab[TLSSESS_MAX];

static size_t
tlssess_hash(const void *key)
{
	uintptr_t	k = (uintptr_t)key;

	k ^= k >> 17;
	k *= 0x9e3779b97f4a7c15ULL;
	return ((size_t)(k >> 20) % TLSSESS_MAX);
}

/* The session of key, or NULL when not seen. */
struct tlssess *
tlssess_get(void *key)
{
	size_t	 i, h = tlssess_hash(key);
	void	*k;

	for (i = 0; i < TLSSESS_MAX; i++) {
		k = __atomic_load_n(&tlssess_tab[(h + i) % TLSSESS_MAX].key,
		    __ATOMIC_ACQUIRE);
		if (k == key)
			return (&tlssess_tab[(h + i) % TLSSESS_MAX]);
		if (k == NULL)
			break;
	}
	return (NULL);
}

/* The session of key, added (socket unknown) if new; NULL when full. */
struct tlssess *
tlssess_add(void *key, int lib, int64_t now)
{
	struct tlssess	*s;
	size_t		 i, h = tlssess_hash(key);
	void		*k;

	if ((s = tlssess_get(key)) != NULL)
		return (s);
	for (i = 0; i < TLSSESS_MAX; i++) {
		s = &tlssess_tab[(h + i) % TLSSESS_MAX];
		k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		if (k != NULL && k != TLSSESS_GONE)
			continue;
		if (!__atomic_compare_exchange_n(&s->key, &k, TLSSESS_BUSY, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		s->fd = -1;
		s->lib = lib;
		s->done = s->eof = s->begun = s->mem = 0;
		s->begin = now;
		s->chain = NULL;
		s->sni[0] = '\0';
		s->twin = NULL;
		__atomic_store_n(&s->key, key, __ATOMIC_RELEASE);
		return (s);
	}
	return (NULL);
}

/*
 * Take key's session out of the table (the library freed it); the caller
 * reads what it needs, then tlssess_release(). NULL if not there.
 */
struct tlssess *
tlssess_take(void *key)
{
	struct tlssess	*s;
	void		*k = key;

	if ((s = tlssess_get(key)) == NULL ||
	    !__atomic_compare_exchange_n(&s->key, &k, TLSSESS_BUSY, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return (NULL);
	return (s);
}

void
tlssess_release(struct tlssess *s)
{
	__atomic_store_n(&s->key, TLSSESS_GONE, __ATOMIC_RELEASE);
}

/* The sessions in use, one by one from NULL (at exit). */
struct tlssess *
tlssess_next(struct tlssess *s)
{
	void	*k;

	for (s = s == NULL ? tlssess_tab : s + 1;
	    s < tlssess_tab + TLSSESS_MAX; s++) {
		k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
		if (k != NULL && k != TLSSESS_GONE && k != TLSSESS_BUSY)
			return (s);
	}
	return (NULL);
}
