/* The fd table: what each file descriptor is, readable without locks. */

#include "config.h"

#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>

#include "fdtab.h"

/*
 * Two levels of slots, pages mapped on first use: no malloc (a hook may
 * run inside an allocator, or a signal handler) and no lock to read.
 * interposition-pitfalls.md, row 20.
 */
#define FDTAB_PAGE	4096
#define FDTAB_PAGES	(FDTAB_MAX_FD / FDTAB_PAGE)

static struct conn	**fdtab_pages[FDTAB_PAGES];

/* The slot for fd, mapping its page if create is set; NULL if none. */
static struct conn **
fdtab_slot(int fd, int create)
{
	struct conn	**page, **expect = NULL;
	size_t		  i;

	if (fd < 0 || fd >= FDTAB_MAX_FD)
		return (NULL);
	i = (size_t)fd / FDTAB_PAGE;
	page = __atomic_load_n(&fdtab_pages[i], __ATOMIC_ACQUIRE);
	if (page == NULL && create) {
		page = mmap(NULL, FDTAB_PAGE * sizeof *page, PROT_READ |
		    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			return (NULL);
		if (!__atomic_compare_exchange_n(&fdtab_pages[i], &expect,
		    page, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			munmap(page, FDTAB_PAGE * sizeof *page);
			page = expect;
		}
	}
	return (page == NULL ? NULL : &page[(size_t)fd % FDTAB_PAGE]);
}

/* What fd is: NULL if not known. */
struct conn *
fdtab_get(int fd)
{
	struct conn	**s = fdtab_slot(fd, 0);

	return (s == NULL ? NULL : __atomic_load_n(s, __ATOMIC_ACQUIRE));
}

/* Set what fd is; return what it was. */
struct conn *
fdtab_swap(int fd, struct conn *c)
{
	struct conn	**s = fdtab_slot(fd, c != NULL);

	if (s == NULL)
		return (NULL);
	return (__atomic_exchange_n(s, c, __ATOMIC_ACQ_REL));
}

/* Set fd to c only if it still is old; 1 if it was set. */
int
fdtab_replace(int fd, struct conn *old, struct conn *c)
{
	struct conn	**s = fdtab_slot(fd, 1);

	if (s == NULL)
		return (0);
	return (__atomic_compare_exchange_n(s, &old, c, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE));
}

/* Is a slot's value a connection (tagged or not)? */
int
fdtab_is_conn(const struct conn *c)
{
	return (c != NULL && c != FDTAB_OTHER);
}

/*
 * In a forked child: every connection becomes its parent's, tagged, so
 * the child traces its own use of the socket into its own file.
 */
void
fdtab_inherit(void)
{
	struct conn	**page, *c;
	size_t		  i, j;

	for (i = 0; i < FDTAB_PAGES; i++) {
		if ((page = fdtab_pages[i]) == NULL)
			continue;
		for (j = 0; j < FDTAB_PAGE; j++) {
			c = page[j];
			if (fdtab_is_conn(c))
				page[j] = (struct conn *)((uintptr_t)c |
				    FDTAB_INHERITED);
		}
	}
}

/*
 * The first fd at or after fd whose page is mapped (fds in unmapped pages
 * were never seen), or FDTAB_MAX_FD: walks cost the pages in use, not
 * the million slots.
 */
int
fdtab_next(int fd)
{
	size_t	i;

	if (fd < 0)
		fd = 0;
	for (i = (size_t)fd / FDTAB_PAGE; i < FDTAB_PAGES; i++) {
		if (__atomic_load_n(&fdtab_pages[i], __ATOMIC_ACQUIRE) == NULL)
			continue;
		return (i == (size_t)fd / FDTAB_PAGE ? fd :
		    (int)(i * FDTAB_PAGE));
	}
	return (FDTAB_MAX_FD);
}
