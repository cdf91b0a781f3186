/* A TLS library's functions, found at first use without linking it. */

#include "config.h"

#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsreal.h"

#define TLSREAL_OBJS	512		/* loaded objects looked at */
#define TLSREAL_NONE	((void *)-1)	/* looked for, not found */

/* Names of the loaded objects, gathered by tlsreal_list(). */
struct tlsreal_names {
	const char	*name[TLSREAL_OBJS];
	size_t		 n;
};

/* dl_iterate_phdr() callback: note each named object. */
static int
tlsreal_list(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct tlsreal_names	*l = arg;

	(void)size;
	if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0' &&
	    l->n < TLSREAL_OBJS)
		l->name[l->n++] = info->dlpi_name;
	return (0);
}

/* Is p inside the object this code is in (the shim's own hook)? */
static int
tlsreal_ours(void *p)
{
	Dl_info	a, b;

	return (dladdr(p, &a) != 0 && dladdr((void *)(uintptr_t)tlsreal_ours,
	    &b) != 0 && a.dli_fbase == b.dli_fbase);
}

/*
 * The definition of name that is not ours: the next one in the
 * global scope, or, when the library was loaded with RTLD_LOCAL (Python's
 * _ssl module), the one a loaded object's own scope finds (pitfalls, row
 * 12). The program called our definition, so the library is loaded.
 */
static void *
tlsreal_find(const char *name)
{
	struct tlsreal_names	 l;
	void			*h, *p;
	size_t			 i;

	p = dlsym(RTLD_NEXT, name);
	if (p != NULL && !tlsreal_ours(p))
		return (p);
	/* dlopen() is not called from inside dl_iterate_phdr(). */
	l.n = 0;
	dl_iterate_phdr(tlsreal_list, &l);
	for (i = 0; i < l.n; i++) {
		if ((h = dlopen(l.name[i], RTLD_LAZY | RTLD_NOLOAD)) == NULL)
			continue;
		p = dlsym(h, name);
		dlclose(h);
		if (p != NULL && !tlsreal_ours(p))
			return (p);
	}
	return (NULL);
}

/*
 * The function in *slot, found the first time. Threads may race to find
 * it; they store the same pointer. NULL when there is none (an optional
 * function this library version lacks).
 */
void *
tlsreal_get(void **slot, const char *name)
{
	void	*p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p == NULL) {
		p = tlsreal_find(name);
		__atomic_store_n(slot, p != NULL ? p : TLSREAL_NONE,
		    __ATOMIC_RELEASE);
	}
	return (p == TLSREAL_NONE ? NULL : p);
}
