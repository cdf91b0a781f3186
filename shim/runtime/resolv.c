/* Recent name lookups, to tie a connect to the answer it used. */

#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "resolv.h"

/* Lookups remembered by the process: the most recent win. */
#define RESOLV_RING	16

static pthread_mutex_t		resolv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct resolv_entry	resolv_ring[RESOLV_RING];
static uint64_t			resolv_seq;

/* Remember a lookup (copied; no call is made under the lock). */
void
resolv_add(const struct resolv_entry *e)
{
	struct resolv_entry	*slot;

	pthread_mutex_lock(&resolv_lock);
	slot = &resolv_ring[resolv_seq % RESOLV_RING];
	*slot = *e;
	slot->seq = ++resolv_seq;
	pthread_mutex_unlock(&resolv_lock);
}

/* The address sa holds (4 or 16 bytes), and its family; 0 if not IP. */
static int
resolv_ip(const struct sockaddr *sa, socklen_t len, uint8_t *ip)
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;

	if (sa->sa_family == AF_INET && len >= sizeof *sin) {
		memcpy(ip, &sin->sin_addr, 4);
		return (AF_INET);
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof *sin6) {
		memcpy(ip, &sin6->sin6_addr, 16);
		return (AF_INET6);
	}
	return (0);
}

/*
 * The most recent lookup whose answers hold sa's address, copied into
 * *out; 0 when none does.
 */
int
resolv_match(const struct sockaddr *sa, socklen_t len,
    struct resolv_entry *out)
{
	struct resolv_entry	*e, *best = NULL;
	uint8_t			 ip[16];
	int			 family, i, j;

	if (sa == NULL || (family = resolv_ip(sa, len, ip)) == 0)
		return (0);
	pthread_mutex_lock(&resolv_lock);
	for (i = 0; i < RESOLV_RING; i++) {
		e = &resolv_ring[i];
		if (e->seq == 0 || (best != NULL && e->seq < best->seq))
			continue;
		for (j = 0; j < e->nanswers; j++) {
			if (e->family[j] == family && memcmp(e->ip[j], ip,
			    family == AF_INET ? 4 : 16) == 0) {
				best = e;
				break;
			}
		}
	}
	if (best != NULL)
		*out = *best;
	pthread_mutex_unlock(&resolv_lock);
	return (best != NULL);
}

/* In a forked child: the lock may have been held by another thread. */
void
resolv_fork_child(void)
{
	pthread_mutex_init(&resolv_lock, NULL);
}
