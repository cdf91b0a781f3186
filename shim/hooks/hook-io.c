/* Hooks that move data: read, write, recv, send and their variants. */

#include "config.h"

#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "conn.h"
#include "fdtab.h"
#include "hook.h"
#include "shim.h"

/* i386's recvmmsg with a 64-bit timeout; x86-64's is 64-bit already. */
#ifdef SYS_recvmmsg_time64
#define IO_SYS_RECVMMSG64	SYS_recvmmsg_time64
#else
#define IO_SYS_RECVMMSG64	SYS_recvmmsg
#endif

/* After a call that read r bytes into buf (or failed, or hit EOF). */
static void
io_read_done(int fd, const void *buf, size_t n, ssize_t r)
{
	if (r > 0)
		hook_data(fd, ENC_READ, buf, r, 0);
	else if (r == 0 && n > 0)
		hook_eof(fd);
	else if (r < 0)
		hook_error(fd, errno);
}

/*
 * After a recv that named its source (sa, *salen long): a datagram's
 * peer; a stream's bytes as io_read_done() does. MSG_TRUNC's bytes are
 * not all in buf: a length only. *salen is read only after a success
 * (the kernel wrote it); dgram.c takes only a whole IPv4 or IPv6 one.
 */
static void
io_recv_done(int fd, const void *buf, size_t n, ssize_t r, int flags,
    const struct sockaddr *sa, const socklen_t *salen)
{
	socklen_t	len = 0;

	if (r >= 0 && sa != NULL && salen != NULL)
		len = *salen;
	if (r > 0)
		hook_data_peer(fd, ENC_READ, (flags & MSG_TRUNC) ? NULL : buf,
		    r, len > 0 ? sa : NULL, len);
	else if (r == 0 && n > 0)
		hook_eof_peer(fd, len > 0 ? sa : NULL, len);
	else if (r < 0)
		hook_error(fd, errno);
}

/*
 * recv flags that do not consume stream data: a peek is read again
 * later, and the error queue is not the stream (pitfalls, row 15).
 */
static int
io_not_data(int flags)
{
	return ((flags & (MSG_PEEK | MSG_ERRQUEUE)) != 0);
}

static ssize_t
hook_read(int fd, void *buf, size_t n)
{
	ssize_t	r;
	int	outer;

	outer = shim_enter();
	r = REAL(read, SYS_read, fd, buf, n);
	if (!outer) {
		shim_leave();
		return (r);
	}
	io_read_done(fd, buf, n, r);
	shim_leave();
	return (r);
}

static ssize_t
hook_write(int fd, const void *buf, size_t n)
{
	ssize_t	r;
	int	outer;

	outer = shim_enter();
	r = REAL(write, SYS_write, fd, buf, n);
	if (!outer) {
		shim_leave();
		return (r);
	}
	if (r > 0)
		hook_data(fd, ENC_WRITE, buf, r, 0);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

static ssize_t
hook_readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t	r;
	int	outer;

	outer = shim_enter();
	r = REAL(readv, SYS_readv, fd, iov, cnt);
	if (!outer) {
		shim_leave();
		return (r);
	}
	if (r > 0)
		hook_iov(fd, ENC_READ, iov, (size_t)cnt, r, 0);
	else
		io_read_done(fd, NULL, cnt > 0 ? 1 : 0, r);
	shim_leave();
	return (r);
}

static ssize_t
hook_writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t	r;
	int	outer;

	outer = shim_enter();
	r = REAL(writev, SYS_writev, fd, iov, cnt);
	if (!outer) {
		shim_leave();
		return (r);
	}
	if (r > 0)
		hook_iov(fd, ENC_WRITE, iov, (size_t)cnt, r, 0);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

static ssize_t
hook_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
    socklen_t *salen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	ssize_t			 r;
	int			 outer;

	outer = shim_enter();
	if (!outer) {
		r = REAL(recvfrom, SYS_recvfrom, fd, buf, n, flags, sa, salen);
		shim_leave();
		return (r);
	}
	/*
	 * recv() names no source: ask for it all the same, for a datagram's
	 * peer; the program sees the same result (pitfalls: none).
	 */
	if (sa == NULL) {
		sa = (struct sockaddr *)&ss;
		salen = &sslen;
	}
	r = REAL(recvfrom, SYS_recvfrom, fd, buf, n, flags, sa, salen);
	/* TCP MSG_TRUNC discards r bytes: a gap, not data. */
	if (!io_not_data(flags))
		io_recv_done(fd, buf, n, r, flags, sa, salen);
	shim_leave();
	return (r);
}

static ssize_t
hook_sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	ssize_t	r;
	int	outer;

	outer = shim_enter();
	r = REAL(sendto, SYS_sendto, fd, buf, n, flags, sa, salen);
	if (!outer) {
		shim_leave();
		return (r);
	}
	/* TCP Fast Open: a connect and the first data at once (row 17). */
	if ((flags & MSG_FASTOPEN) && sa != NULL)
		hook_fastopen(fd, r, sa, salen);
	if (r > 0 || (r == 0 && sa != NULL))
		hook_data_peer(fd, ENC_WRITE, buf, r, sa, salen);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

static ssize_t
hook_recvmsg(int fd, struct msghdr *m, int flags, int t64)
{
	ssize_t	r;
	int	outer;

	outer = shim_enter();
	r = REAL64(t64, recvmsg, SYS_recvmsg, __recvmsg64, SYS_recvmsg, fd, m,
	    flags);
	if (!outer) {
		shim_leave();
		return (r);
	}
	if (r >= 0 && m->msg_controllen > 0 && shim_tracing())
		hook_fds_received(m);
	if (io_not_data(flags))
		;
	else if (r > 0 && !(flags & MSG_TRUNC))
		hook_iov_peer(fd, ENC_READ, m->msg_iov, m->msg_iovlen, r,
		    m->msg_name, m->msg_name != NULL ? m->msg_namelen : 0);
	else
		io_recv_done(fd, NULL, m->msg_iovlen > 0 ? 1 : 0, r, MSG_TRUNC,
		    m->msg_name, &m->msg_namelen);
	shim_leave();
	return (r);
}

static ssize_t
hook_sendmsg(int fd, const struct msghdr *m, int flags, int t64)
{
	ssize_t	r;
	int	outer;

	outer = shim_enter();
	r = REAL64(t64, sendmsg, SYS_sendmsg, __sendmsg64, SYS_sendmsg, fd, m,
	    flags);
	if (!outer) {
		shim_leave();
		return (r);
	}
	if ((flags & MSG_FASTOPEN) && m->msg_name != NULL)
		hook_fastopen(fd, r, m->msg_name, m->msg_namelen);
	if (r > 0 || (r == 0 && m->msg_name != NULL))
		hook_iov_peer(fd, ENC_WRITE, m->msg_iov, m->msg_iovlen, r,
		    m->msg_name, m->msg_namelen);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

/*
 * Each message of a recvmmsg/sendmmsg batch, as its own call would be.
 * recvmmsg's msg_namelen is the source's length, not the room the
 * program gave (reading v before the call could fault where the kernel
 * says EFAULT): dgram.c takes only a whole sockaddr_in or _in6.
 */
static void
io_mmsg(int fd, enum enc_kind kind, const struct mmsghdr *v, int r)
{
	const struct msghdr	*h;
	socklen_t		 len;
	int			 i;

	for (i = 0; i < r; i++) {
		h = &v[i].msg_hdr;
		len = h->msg_name != NULL ? h->msg_namelen : 0;
		/* An empty message with room for data: end of file. */
		if (kind == ENC_READ && v[i].msg_len == 0 && h->msg_iovlen > 0)
			hook_eof_peer(fd, len > 0 ? h->msg_name : NULL, len);
		else
			hook_iov_peer(fd, kind, h->msg_iov, h->msg_iovlen,
			    (ssize_t)v[i].msg_len, len > 0 ? h->msg_name :
			    NULL, len);
	}
}

static int
hook_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, void *t,
    int t64)
{
	int	r, outer;

	outer = shim_enter();
	r = REAL64(t64, recvmmsg, SYS_recvmmsg, __recvmmsg64, IO_SYS_RECVMMSG64,
	    fd, v, n, flags, t);
	if (!outer) {
		shim_leave();
		return (r);
	}
	if (r > 0 && !io_not_data(flags) && !(flags & MSG_TRUNC))
		io_mmsg(fd, ENC_READ, v, r);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

static int
hook_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
    int t64)
{
	int	r, outer;

	outer = shim_enter();
	r = REAL64(t64, sendmmsg, SYS_sendmmsg, __sendmmsg64, SYS_sendmmsg, fd,
	    v, n, flags);
	if (!outer) {
		shim_leave();
		return (r);
	}
	if (r > 0)
		io_mmsg(fd, ENC_WRITE, v, r);
	else if (r < 0)
		hook_error(fd, errno);
	shim_leave();
	return (r);
}

/* The most of one sendfile call read back into one event. */
#define IO_SENDFILE_MAX	(64UL << 20)

/*
 * Read r bytes of in from from into buf; what is short (a file cut
 * meanwhile) is left for a length-only record. Returns what was read.
 */
static size_t
io_pread_all(int in, char *buf, size_t r, off64_t from)
{
	size_t	n;
	ssize_t	got;

	for (n = 0; n < r; n += (size_t)got) {
		got = pread64(in, buf + n, r - n, from + (off64_t)n);
		if (got <= 0)
			break;
	}
	return (n);
}

/*
 * sendfile moves file bytes the hooks never see: read the same range
 * back from the file (pitfalls, row 16) into a mapping of its own (no
 * malloc in a hook), so the call is one event with its own duration;
 * what cannot be read back is kept as a length. Only a call over
 * IO_SENDFILE_MAX is recorded in pieces of that size.
 */
static void
io_sendfile_done(int out, int in, off64_t from, ssize_t r)
{
	char	 small[8192], *buf;
	size_t	 n, want, got, room;
	int	 saved = errno;

	for (n = 0; n < (size_t)r; n += want) {
		want = (size_t)r - n < IO_SENDFILE_MAX ? (size_t)r - n :
		    IO_SENDFILE_MAX;
		room = (want + 4095) & ~(size_t)4095;
		buf = want <= sizeof small ? small : mmap(NULL, room,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED) {
			hook_data(out, ENC_WRITE, NULL, (ssize_t)want, 0);
			continue;
		}
		got = io_pread_all(in, buf, want, from + (off64_t)n);
		if (got > 0)
			hook_data(out, ENC_WRITE, buf, (ssize_t)got, 0);
		if (got < want)
			hook_data(out, ENC_WRITE, NULL, (ssize_t)(want - got),
			    0);
		if (buf != small)
			munmap(buf, room);
	}
	errno = saved;
}

/*
 * Is out a traced socket? Only then is a sendfile's range read back: a
 * copy between two files (cp, a backup tool) must not read it twice.
 */
static int
io_sendfile_traced(int out)
{
	struct conn	*c;
	int		 saved = errno;

	if ((c = conn_get(out)) != NULL)
		conn_put(c);
	errno = saved;
	return (c != NULL);
}

/* i386 has a sendfile64 system call; x86-64's sendfile is 64-bit. */
#ifdef SYS_sendfile64
#define IO_SYS_SENDFILE64	SYS_sendfile64
#else
#define IO_SYS_SENDFILE64	SYS_sendfile
#endif

/* The real sendfile, or sendfile64 (off is then 64 bits on every ABI). */
static ssize_t
io_sendfile_real(int out, int in, void *off, size_t n, int is64)
{
	if (is64)
		return (REAL(sendfile64, IO_SYS_SENDFILE64, out, in,
		    (off64_t *)off, n));
	return (REAL(sendfile, SYS_sendfile, out, in, (off_t *)off, n));
}

static ssize_t
hook_sendfile(int out, int in, void *off, size_t n, int is64)
{
	off64_t	from;
	ssize_t	r;
	int	saved;

	if (!shim_enter() || !io_sendfile_traced(out)) {
		r = io_sendfile_real(out, in, off, n, is64);
		shim_leave();
		return (r);
	}
	/* Where the file's bytes come from; errno is the program's. */
	saved = errno;
	from = off == NULL ? lseek64(in, 0, SEEK_CUR) : is64 ?
	    *(off64_t *)off : *(off_t *)off;
	errno = saved;
	r = io_sendfile_real(out, in, off, n, is64);
	if (r > 0)
		io_sendfile_done(out, in, from, r);
	else if (r < 0)
		hook_error(out, errno);
	shim_leave();
	return (r);
}

/*
 * The fortified variants (_FORTIFY_SOURCE): the real _chk function runs,
 * so its buffer check stays (pitfalls, row 10).
 */
static ssize_t
hook_read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ssize_t	r;
	int	outer = shim_enter();

	if (real.__read_chk == NULL && !real_resolving())
		real_init();
	r = real.__read_chk != NULL && !real_resolving() ?
	    real.__read_chk(fd, buf, n, buflen) : REAL(read, SYS_read, fd, buf,
	    n);
	if (outer)
		io_read_done(fd, buf, n, r);
	shim_leave();
	return (r);
}

static ssize_t
hook_recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
    struct sockaddr *sa, socklen_t *salen, int is_recv)
{
	ssize_t	r;
	int	outer = shim_enter();

	if (real.__recv_chk == NULL && !real_resolving())
		real_init();
	if (is_recv && real.__recv_chk != NULL && !real_resolving())
		r = real.__recv_chk(fd, buf, n, buflen, flags);
	else if (!is_recv && real.__recvfrom_chk != NULL && !real_resolving())
		r = real.__recvfrom_chk(fd, buf, n, buflen, flags, sa, salen);
	else
		r = syscall(SYS_recvfrom, fd, buf, n, flags, sa, salen);
	if (outer && !io_not_data(flags))
		io_read_done(fd, (flags & MSG_TRUNC) ? NULL : buf, n, r);
	shim_leave();
	return (r);
}

HOOK ssize_t
read(int fd, void *buf, size_t n)
{
	return (hook_read(fd, buf, n));
}

HOOK ssize_t
write(int fd, const void *buf, size_t n)
{
	return (hook_write(fd, buf, n));
}

HOOK ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	return (hook_readv(fd, iov, cnt));
}

HOOK ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	return (hook_writev(fd, iov, cnt));
}

HOOK ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	return (hook_recvfrom(fd, buf, n, flags, NULL, NULL));
}

HOOK ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
    socklen_t *salen)
{
	return (hook_recvfrom(fd, buf, n, flags, sa, salen));
}

HOOK ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	return (hook_recvmsg(fd, m, flags, 0));
}

HOOK ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	return (hook_sendto(fd, buf, n, flags, NULL, 0));
}

HOOK ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *sa, socklen_t salen)
{
	return (hook_sendto(fd, buf, n, flags, sa, salen));
}

HOOK ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	return (hook_sendmsg(fd, m, flags, 0));
}

HOOK int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
    struct timespec *t)
{
	return (hook_recvmmsg(fd, v, n, flags, t, 0));
}

HOOK int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	return (hook_sendmmsg(fd, v, n, flags, 0));
}

HOOK ssize_t
sendfile(int out, int in, off_t *off, size_t n)
{
	return (hook_sendfile(out, in, off, n, 0));
}

HOOK ssize_t
sendfile64(int out, int in, off64_t *off, size_t n)
{
	return (hook_sendfile(out, in, off, n, 1));
}

HOOK ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	return (hook_read_chk(fd, buf, n, buflen));
}

HOOK ssize_t
__recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	return (hook_recvfrom_chk(fd, buf, n, buflen, flags, NULL, NULL, 1));
}

HOOK ssize_t
__recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
    struct sockaddr *sa, socklen_t *salen)
{
	return (hook_recvfrom_chk(fd, buf, n, buflen, flags, sa, salen, 0));
}

#if defined(__i386__)
/*
 * i386 programs built with _TIME_BITS=64 call these instead (glibc >=
 * 2.34): the same calls, with 64-bit times in control messages and
 * timeouts; each goes to its own real twin.
 */
HOOK ssize_t
__recvmsg64(int fd, struct msghdr *m, int flags)
{
	return (hook_recvmsg(fd, m, flags, 1));
}

HOOK ssize_t
__sendmsg64(int fd, const struct msghdr *m, int flags)
{
	return (hook_sendmsg(fd, m, flags, 1));
}

HOOK int
__recvmmsg64(int fd, struct mmsghdr *v, unsigned int n, int flags, void *t)
{
	return (hook_recvmmsg(fd, v, n, flags, t, 1));
}

HOOK int
__sendmmsg64(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	return (hook_sendmmsg(fd, v, n, flags, 1));
}
#endif
