/* The call site of connect and accept: a libunwind backtrace, symbolized. */

#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "backtrace.h"

/* Frames looked at: ours are skipped, then BACKTRACE_MAX are kept. */
#define BACKTRACE_DEPTH		(BACKTRACE_MAX + 8)

static enum conf_backtrace	backtrace_mode;

/* Remember TAPSHIM_BACKTRACE; off costs one comparison per connect. */
void
backtrace_init(const struct conf *c)
{
	backtrace_mode = c->backtrace;
}

/* Is a backtrace wanted at connect (server 0) or accept (server 1)? */
int
backtrace_wanted(int server)
{
	return (backtrace_mode == CONF_BT_ALL ||
	    (backtrace_mode == CONF_BT_CONNECT && !server));
}

/* Is pc in libtapshim.so itself? */
static int
backtrace_ours(const Dl_info *self, const Dl_info *dl)
{
	return (self->dli_fbase != NULL && dl->dli_fbase == self->dli_fbase);
}

/*
 * The program's stack above the hook, innermost first, each frame as
 * "function+0xoff (object)", or "0xpc (object)" without a symbol.
 * Not async-signal-safe (dladdr): hooks run outside signal handlers,
 * and a nested hook (a handler's) never records.
 */
void
backtrace_take(struct backtrace *bt)
{
	void		*pcs[BACKTRACE_DEPTH];
	Dl_info		 self, dl;
	const char	*obj;
	int		 i, n;

	bt->n = 0;
	memset(&self, 0, sizeof self);
	(void)dladdr((void *)(uintptr_t)backtrace_take, &self);
	n = unw_backtrace(pcs, BACKTRACE_DEPTH);
	for (i = 0; i < n && bt->n < BACKTRACE_MAX; i++) {
		memset(&dl, 0, sizeof dl);
		if (dladdr(pcs[i], &dl) == 0) {
			snprintf(bt->line[bt->n], BACKTRACE_LINE, "%p", pcs[i]);
		} else if (backtrace_ours(&self, &dl)) {
			continue;
		} else {
			obj = dl.dli_fname != NULL ? strrchr(dl.dli_fname, '/') :
			    NULL;
			obj = obj != NULL ? obj + 1 : dl.dli_fname != NULL ?
			    dl.dli_fname : "?";
			if (dl.dli_sname != NULL)
				snprintf(bt->line[bt->n], BACKTRACE_LINE,
				    "%s+0x%lx (%s)", dl.dli_sname,
				    (unsigned long)((uintptr_t)pcs[i] -
				    (uintptr_t)dl.dli_saddr), obj);
			else
				snprintf(bt->line[bt->n], BACKTRACE_LINE,
				    "0x%lx (%s)", (unsigned long)
				    ((uintptr_t)pcs[i] -
				    (uintptr_t)dl.dli_fbase), obj);
		}
		bt->ptr[bt->n] = bt->line[bt->n];
		bt->n++;
	}
}
