/* Hooks on the calls that make fds: a new fd's slot starts afresh. */

#include "config.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "conn.h"
#include "hook.h"
#include "shim.h"

/*
 * glibc's fortified and large-file entry points; the 64-bit ones are
 * only declared under _LARGEFILE64_SOURCE.
 */
int	__open_2(const char *, int);
int	__open64_2(const char *, int);
int	__openat_2(int, const char *, int);
int	__openat64_2(int, const char *, int);
int	open64(const char *, int, ...);
int	openat64(int, const char *, int, ...);
int	creat64(const char *, mode_t);
FILE	*fopen64(const char *, const char *);
FILE	*freopen64(const char *, const char *, FILE *);
FILE	*tmpfile64(void);

/*
 * A call made fd r (socket: it may be a socket), from the outermost hook:
 * the slot of that number is stale by definition (interposition-
 * pitfalls.md, row 27). Returns r; errno is kept.
 */
static int
open_made(int outer, int r, int socket)
{
	int	saved = errno;

	if (outer && r >= 0 && shim_tracing())
		conn_fd_made(r, socket);
	shim_leave();
	errno = saved;
	return (r);
}

/* The same, for the two fds of pipe() and socketpair(). */
static int
open_made2(int outer, int r, const int *fds, int socket)
{
	int	saved = errno;

	if (outer && r == 0 && fds != NULL && shim_tracing()) {
		conn_fd_made(fds[0], socket);
		conn_fd_made(fds[1], socket);
	}
	shim_leave();
	errno = saved;
	return (r);
}

/* The same, for a stream's fd. */
static FILE *
open_made_file(int outer, FILE *fp)
{
	int	saved = errno;

	if (outer && fp != NULL && shim_tracing())
		conn_fd_made(fileno(fp), 0);
	shim_leave();
	errno = saved;
	return (fp);
}

/*
 * fds that came in a recvmsg() control message (SCM_RIGHTS) are new
 * numbers in this process, maybe sockets. Called from the outermost hook.
 */
void
hook_fds_received(const struct msghdr *m)
{
	struct cmsghdr	*cm;
	const int	*fds;
	size_t		 i, n;
	int		 fd;

	if (m->msg_control == NULL || m->msg_controllen < sizeof *cm)
		return;
	for (cm = CMSG_FIRSTHDR(m); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		fds = (const int *)CMSG_DATA(cm);
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof fd;
		for (i = 0; i < n; i++) {
			__builtin_memcpy(&fd, &fds[i], sizeof fd);
			conn_fd_made(fd, 1);
		}
	}
}

/* A mode is passed only with O_CREAT or O_TMPFILE (open(2)). */
#define OPEN_MODE(flags, mode) do {					\
	va_list	ap;							\
	(mode) = 0;							\
	if ((flags) & (O_CREAT | __O_TMPFILE)) {			\
		va_start(ap, flags);					\
		(mode) = (mode_t)va_arg(ap, int);			\
		va_end(ap);						\
	}								\
} while (0)

/* The real functions the FILE hooks call; NULL and ENOSYS if none. */
#define REAL_FILE(fn, ...)						\
	(real.fn == NULL && !real_resolving() ? real_init() : (void)0,	\
	 real.fn != NULL && !real_resolving() ? real.fn(__VA_ARGS__) :	\
	 (errno = ENOSYS, NULL))

HOOK int
open(const char *path, int flags, ...)
{
	mode_t	mode;
	int	outer = shim_enter();

	OPEN_MODE(flags, mode);
	return (open_made(outer, REAL(open, SYS_open, path, flags, mode), 0));
}

HOOK int
open64(const char *path, int flags, ...)
{
	mode_t	mode;
	int	outer = shim_enter();

	OPEN_MODE(flags, mode);
	return (open_made(outer, REAL(open64, SYS_open, path, flags, mode),
	    0));
}

HOOK int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t	mode;
	int	outer = shim_enter();

	OPEN_MODE(flags, mode);
	return (open_made(outer, REAL(openat, SYS_openat, dirfd, path, flags,
	    mode), 0));
}

HOOK int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t	mode;
	int	outer = shim_enter();

	OPEN_MODE(flags, mode);
	return (open_made(outer, REAL(openat64, SYS_openat, dirfd, path,
	    flags, mode), 0));
}

HOOK int
__open_2(const char *path, int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(__open_2, SYS_open, path, flags), 0));
}

HOOK int
__open64_2(const char *path, int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(__open64_2, SYS_open, path, flags), 0));
}

HOOK int
__openat_2(int dirfd, const char *path, int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(__openat_2, SYS_openat, dirfd, path,
	    flags), 0));
}

HOOK int
__openat64_2(int dirfd, const char *path, int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(__openat64_2, SYS_openat, dirfd, path,
	    flags), 0));
}

HOOK int
creat(const char *path, mode_t mode)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(creat, SYS_creat, path, mode), 0));
}

HOOK int
creat64(const char *path, mode_t mode)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(creat64, SYS_creat, path, mode), 0));
}

HOOK int
socket(int domain, int type, int protocol)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(socket, SYS_socket, domain, type,
	    protocol), 1));
}

HOOK int
socketpair(int domain, int type, int protocol, int sv[2])
{
	int	outer = shim_enter();

	return (open_made2(outer, REAL(socketpair, SYS_socketpair, domain,
	    type, protocol, sv), sv, 1));
}

HOOK int
pipe(int fds[2])
{
	int	outer = shim_enter();

	return (open_made2(outer, REAL(pipe, SYS_pipe, fds), fds, 0));
}

HOOK int
pipe2(int fds[2], int flags)
{
	int	outer = shim_enter();

	return (open_made2(outer, REAL(pipe2, SYS_pipe2, fds, flags), fds, 0));
}

HOOK int
epoll_create(int size)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(epoll_create, SYS_epoll_create, size),
	    0));
}

HOOK int
epoll_create1(int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(epoll_create1, SYS_epoll_create1,
	    flags), 0));
}

HOOK int
eventfd(unsigned int count, int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(eventfd, SYS_eventfd2, count, flags),
	    0));
}

/* The kernel's signalfd4 wants the mask's size: no shared argument list. */
HOOK int
signalfd(int fd, const sigset_t *mask, int flags)
{
	int	r, outer = shim_enter();

	if (real.signalfd == NULL && !real_resolving())
		real_init();
	if (real.signalfd != NULL && !real_resolving())
		r = real.signalfd(fd, mask, flags);
	else
		r = (int)syscall(SYS_signalfd4, fd, mask, (size_t)8, flags);
	/* With fd >= 0 the call changes an existing signalfd's mask. */
	return (open_made(outer && fd < 0, r, 0));
}

HOOK int
timerfd_create(int clock, int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(timerfd_create, SYS_timerfd_create,
	    clock, flags), 0));
}

HOOK int
inotify_init(void)
{
	int	r, outer = shim_enter();

	if (real.inotify_init == NULL && !real_resolving())
		real_init();
	if (real.inotify_init != NULL && !real_resolving())
		r = real.inotify_init();
	else
		r = (int)syscall(SYS_inotify_init1, 0);
	return (open_made(outer, r, 0));
}

HOOK int
inotify_init1(int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(inotify_init1, SYS_inotify_init1,
	    flags), 0));
}

HOOK int
memfd_create(const char *name, unsigned int flags)
{
	int	outer = shim_enter();

	return (open_made(outer, REAL(memfd_create, SYS_memfd_create, name,
	    flags), 0));
}

/* glibc's stdio opens its fds inside libc, where no hook sees it. */
HOOK FILE *
fopen(const char *path, const char *mode)
{
	int	outer = shim_enter();

	return (open_made_file(outer, REAL_FILE(fopen, path, mode)));
}

HOOK FILE *
fopen64(const char *path, const char *mode)
{
	int	outer = shim_enter();

	return (open_made_file(outer, REAL_FILE(fopen64, path, mode)));
}

HOOK FILE *
tmpfile(void)
{
	int	outer = shim_enter();

	if (real.tmpfile == NULL && !real_resolving())
		real_init();
	return (open_made_file(outer, real.tmpfile != NULL &&
	    !real_resolving() ? real.tmpfile() : (errno = ENOSYS, NULL)));
}

HOOK FILE *
tmpfile64(void)
{
	int	outer = shim_enter();

	if (real.tmpfile64 == NULL && !real_resolving())
		real_init();
	return (open_made_file(outer, real.tmpfile64 != NULL &&
	    !real_resolving() ? real.tmpfile64() : (errno = ENOSYS, NULL)));
}

/*
 * freopen closes the stream's fd (inside libc) and opens path, maybe on
 * another number; with path NULL it reopens the same file, which may be
 * a socket.
 */
static FILE *
hook_freopen(const char *path, const char *mode, FILE *fp, int is64)
{
	struct conn	*was = NULL, *held = NULL;
	FILE		*r;
	int		 oldfd = -1, saved, outer = shim_enter();

	if (outer && shim_tracing() && fp != NULL && path != NULL &&
	    (oldfd = fileno(fp)) >= 0)
		was = conn_fd_closing(oldfd, &held);
	r = is64 ? REAL_FILE(freopen64, path, mode, fp) :
	    REAL_FILE(freopen, path, mode, fp);
	saved = errno;
	if (oldfd >= 0)
		conn_fd_ended(oldfd, was, held, 1);
	errno = saved;
	return (open_made_file(outer && path != NULL, r));
}

HOOK FILE *
freopen(const char *path, const char *mode, FILE *fp)
{
	return (hook_freopen(path, mode, fp, 0));
}

HOOK FILE *
freopen64(const char *path, const char *mode, FILE *fp)
{
	return (hook_freopen(path, mode, fp, 1));
}

/*
 * fclose closes its fd inside libc: the close bookkeeping is done here,
 * as close() does it (an fdopen()ed socket ends its connection).
 */
HOOK int
fclose(FILE *fp)
{
	struct conn	*was = NULL, *held = NULL;
	int		 r, fd = -1, saved, outer = shim_enter();

	if (outer && shim_tracing() && fp != NULL && (fd = fileno(fp)) >= 0) {
		/* The kernel's counts before (the last flush is not in them). */
		conn_fd_sample(fd);
		was = conn_fd_closing(fd, &held);
	}
	if (real.fclose == NULL && !real_resolving())
		real_init();
	if (real.fclose != NULL && !real_resolving())
		r = real.fclose(fp);
	else {
		errno = ENOSYS;
		r = EOF;
	}
	saved = errno;
	if (fd >= 0)
		conn_fd_ended(fd, was, held, 1);
	shim_leave();
	errno = saved;
	return (r);
}
