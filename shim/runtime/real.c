/* The real functions behind the hooks: one table, resolved once. */

#include "config.h"

#include <dlfcn.h>
#include <stddef.h>

#include "real.h"

struct real_fns	real;

/*
 * Set while dlsym() runs: dlsym may allocate, and an allocator's own
 * start-up may call a hooked function, which must then go straight to the
 * kernel (interposition-pitfalls.md, row 1). initial-exec: no allocation
 * on first access from a preloaded library.
 */
static __thread int	real_busy __attribute__((tls_model("initial-exec")));

/* Every symbol, with where its pointer goes. */
static const struct {
	const char	*name;
	size_t		 offset;
} real_symbols[] = {
#define REAL(f) { #f, offsetof(struct real_fns, f) }
	REAL(connect), REAL(accept), REAL(accept4), REAL(read), REAL(write),
	REAL(readv), REAL(writev), REAL(recvfrom), REAL(recvmsg),
	REAL(sendto), REAL(sendmsg), REAL(shutdown), REAL(getsockopt), REAL(close),
	REAL(dup), REAL(dup2), REAL(dup3), REAL(fcntl), REAL(fcntl64),
	REAL(__recvmsg64), REAL(__sendmsg64), REAL(__recvmmsg64),
	REAL(__sendmmsg64), REAL(__getsockopt64), REAL(__fcntl_time64),
	REAL(recvmmsg), REAL(sendmmsg), REAL(sendfile), REAL(sendfile64),
	REAL(__read_chk), REAL(__recv_chk), REAL(__recvfrom_chk),
	REAL(close_range), REAL(closefrom),
	REAL(open), REAL(open64), REAL(openat), REAL(openat64),
	REAL(__open_2), REAL(__open64_2), REAL(__openat_2),
	REAL(__openat64_2), REAL(creat), REAL(creat64), REAL(socket),
	REAL(socketpair), REAL(pipe), REAL(pipe2), REAL(epoll_create),
	REAL(epoll_create1), REAL(eventfd), REAL(signalfd),
	REAL(timerfd_create), REAL(inotify_init), REAL(inotify_init1),
	REAL(memfd_create), REAL(fopen), REAL(fopen64), REAL(freopen),
	REAL(freopen64), REAL(tmpfile), REAL(tmpfile64), REAL(fclose)
#undef REAL
};

/* Is this thread inside real_init()? Then hooks use raw syscalls. */
int
real_resolving(void)
{
	return (real_busy);
}

/*
 * Find the next definition of every hooked symbol. Threads may race to
 * do it; they store the same pointers, so that is harmless.
 */
void
real_init(void)
{
	void	*p;
	size_t	 i;

	if (real_busy)
		return;
	real_busy = 1;
	for (i = 0; i < sizeof real_symbols / sizeof real_symbols[0]; i++) {
		p = dlsym(RTLD_NEXT, real_symbols[i].name);
		__atomic_store_n((void **)((char *)&real +
		    real_symbols[i].offset), p, __ATOMIC_RELEASE);
	}
	real_busy = 0;
}
