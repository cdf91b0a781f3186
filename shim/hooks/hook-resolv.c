/* Hooks on name lookups: getaddrinfo, gethostbyname, gethostbyname2. */

#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "hook.h"
#include "resolv.h"
#include "shim.h"

/* The real lookups: resolved on first use, not with the socket calls. */
static int		(*resolv_real_gai)(const char *, const char *,
			    const struct addrinfo *, struct addrinfo **);
static struct hostent	*(*resolv_real_ghbn)(const char *);
static struct hostent	*(*resolv_real_ghbn2)(const char *, int);

/* Find the real functions (dlsym may call hooks: they pass through). */
static void
resolv_init(void)
{
	void	*p;

	if (resolv_real_gai == NULL && (p = dlsym(RTLD_NEXT,
	    "getaddrinfo")) != NULL)
		__atomic_store_n((void **)&resolv_real_gai, p,
		    __ATOMIC_RELEASE);
	if (resolv_real_ghbn == NULL && (p = dlsym(RTLD_NEXT,
	    "gethostbyname")) != NULL)
		__atomic_store_n((void **)&resolv_real_ghbn, p,
		    __ATOMIC_RELEASE);
	if (resolv_real_ghbn2 == NULL && (p = dlsym(RTLD_NEXT,
	    "gethostbyname2")) != NULL)
		__atomic_store_n((void **)&resolv_real_ghbn2, p,
		    __ATOMIC_RELEASE);
}

/* getaddrinfo's error as its EAI_ name (netdb.h). */
static const char *
resolv_eai(int e)
{
	switch (e) {
	case EAI_AGAIN:		return ("EAI_AGAIN");
	case EAI_BADFLAGS:	return ("EAI_BADFLAGS");
	case EAI_FAIL:		return ("EAI_FAIL");
	case EAI_FAMILY:	return ("EAI_FAMILY");
	case EAI_MEMORY:	return ("EAI_MEMORY");
	case EAI_NONAME:	return ("EAI_NONAME");
	case EAI_SERVICE:	return ("EAI_SERVICE");
	case EAI_SOCKTYPE:	return ("EAI_SOCKTYPE");
	case EAI_SYSTEM:	return ("EAI_SYSTEM");
#ifdef EAI_NODATA
	case EAI_NODATA:	return ("EAI_NODATA");
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:	return ("EAI_ADDRFAMILY");
#endif
	default:		return ("EAI_OTHER");
	}
}

/* gethostbyname's h_errno as its name (netdb.h). */
static const char *
resolv_herr(int e)
{
	switch (e) {
	case HOST_NOT_FOUND:	return ("HOST_NOT_FOUND");
	case TRY_AGAIN:		return ("TRY_AGAIN");
	case NO_RECOVERY:	return ("NO_RECOVERY");
	case NO_DATA:		return ("NO_DATA");
	default:		return ("NETDB_INTERNAL");
	}
}

/* Add one answer address (4 or 16 bytes), skipping repeats. */
static void
resolv_answer(struct resolv_entry *e, int family, const void *ip)
{
	int	i, n = family == AF_INET ? 4 : 16;

	for (i = 0; i < e->nanswers; i++) {
		if (e->family[i] == family && memcmp(e->ip[i], ip, n) == 0)
			return;
	}
	if (e->nanswers == RESOLV_ANSWERS)
		return;
	e->family[e->nanswers] = family;
	memcpy(e->ip[e->nanswers], ip, n);
	inet_ntop(family, ip, e->answers[e->nanswers],
	    sizeof e->answers[0]);
	e->nanswers++;
}

/* Start an entry: the function, the name asked, when it started. */
static void
resolv_begin(struct resolv_entry *e, const char *fn, const char *name)
{
	memset(e, 0, sizeof *e);
	e->function = fn;
	if (name != NULL)
		snprintf(e->name, sizeof e->name, "%s", name);
}

/* Finish an entry started at t0 (ns) and remember it. */
static void
resolv_end(struct resolv_entry *e, int64_t t0)
{
	int64_t	now = shim_now();

	e->duration_ns = (uint64_t)(now - t0);
	e->sec = now / 1000000000LL;
	e->nsec = (int32_t)(now % 1000000000LL);
	resolv_add(e);
}

static int
hook_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct resolv_entry	 e;
	struct addrinfo		*ai;
	int64_t			 t0;
	int			 r, saved, outer = shim_enter();

	resolv_init();
	if (resolv_real_gai == NULL) {
		shim_leave();
		return (EAI_SYSTEM);
	}
	t0 = shim_call_start();
	r = resolv_real_gai(node, service, hints, res);
	saved = errno;
	if (outer && node != NULL && shim_tracing()) {
		resolv_begin(&e, "getaddrinfo", node);
		if (r != 0)
			e.error = resolv_eai(r);
		for (ai = r == 0 ? *res : NULL; ai != NULL; ai = ai->ai_next) {
			if (ai->ai_family == AF_INET)
				resolv_answer(&e, AF_INET, &((struct
				    sockaddr_in *)(void *)ai->ai_addr)->sin_addr);
			else if (ai->ai_family == AF_INET6)
				resolv_answer(&e, AF_INET6, &((struct
				    sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr);
		}
		resolv_end(&e, t0);
	}
	shim_leave();
	errno = saved;
	return (r);
}

/* gethostbyname and gethostbyname2 (af: -1 for the first). */
static struct hostent *
hook_gethostbyname(const char *name, int af)
{
	struct resolv_entry	 e;
	struct hostent		*h;
	int64_t			 t0;
	int			 i, saved, outer = shim_enter();

	resolv_init();
	if ((af < 0 ? (void *)resolv_real_ghbn : (void *)resolv_real_ghbn2) ==
	    NULL) {
		shim_leave();
		h_errno = NO_RECOVERY;
		return (NULL);
	}
	t0 = shim_call_start();
	h = af < 0 ? resolv_real_ghbn(name) : resolv_real_ghbn2(name, af);
	saved = errno;
	if (outer && name != NULL && shim_tracing()) {
		resolv_begin(&e, af < 0 ? "gethostbyname" : "gethostbyname2",
		    name);
		if (h == NULL)
			e.error = resolv_herr(h_errno);
		for (i = 0; h != NULL && h->h_addr_list[i] != NULL; i++) {
			if (h->h_addrtype == AF_INET || h->h_addrtype ==
			    AF_INET6)
				resolv_answer(&e, h->h_addrtype,
				    h->h_addr_list[i]);
		}
		resolv_end(&e, t0);
	}
	shim_leave();
	errno = saved;
	return (h);
}

HOOK int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	return (hook_getaddrinfo(node, service, hints, res));
}

HOOK struct hostent *
gethostbyname(const char *name)
{
	return (hook_gethostbyname(name, -1));
}

HOOK struct hostent *
gethostbyname2(const char *name, int af)
{
	return (hook_gethostbyname(name, af));
}
