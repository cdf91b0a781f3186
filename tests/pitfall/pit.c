/* Helpers shared by the pitfall test programs (tests/pitfalls.sh). */

#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

static const char	*pit_prog = "pitfall";

/* Name the program in pit_die()'s messages. */
void
pit_setprog(const char *name)
{
	pit_prog = name;
}

/* "prog: message[: strerror]" on stderr, exit 1. */
void
pit_die(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	fprintf(stderr, "%s: ", pit_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (saved != 0)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	exit(1);
}

/* The echo server's port, from $PIT_PORT. */
int
pit_port(void)
{
	const char	*v = getenv("PIT_PORT");

	if (v == NULL || atoi(v) <= 0) {
		errno = 0;
		pit_die("PIT_PORT is not set");
	}
	return (atoi(v));
}

/* A TCP connection to 127.0.0.1:port. */
int
pit_connect(int port)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		pit_die("socket");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		pit_die("connect 127.0.0.1:%d", port);
	return (fd);
}

/* The port of a socket address. */
static int
pit_sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
	return (ntohs(((const struct sockaddr_in *)ss)->sin_port));
}

/* Start the log of connection fd: this process, both ports. */
void
pit_log_init(struct pit_log *l, int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;

	memset(l, 0, sizeof *l);
	l->pid = getpid();
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		pit_die("getsockname");
	l->lport = pit_sa_port(&ss);
	len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		pit_die("getpeername");
	l->rport = pit_sa_port(&ss);
}

/* Note n bytes moved: dir 0 written, 1 read. */
void
pit_log_add(struct pit_log *l, int dir, const void *p, size_t n)
{
	if (l == NULL || n == 0)
		return;
	if (l->len[dir] + n > l->cap[dir]) {
		l->cap[dir] = (l->len[dir] + n) * 2 + 4096;
		if ((l->b[dir] = realloc(l->b[dir], l->cap[dir])) == NULL)
			pit_die("realloc");
	}
	memcpy(l->b[dir] + l->len[dir], p, n);
	l->len[dir] += n;
}

/* Write all of buf to a new file path. */
static void
pit_save_file(const char *path, const void *buf, size_t n)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		pit_die("%s", path);
	if (n > 0 && write(fd, buf, n) != (ssize_t)n)
		pit_die("%s: write", path);
	close(fd);
}

/* Save the log under $PIT_EXP, if set. */
void
pit_log_save(const struct pit_log *l)
{
	const char	*dir = getenv("PIT_EXP");
	char		 path[4096];
	int		 i;

	if (dir == NULL || *dir == '\0')
		return;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%ld.%d.%d.%c", dir,
		    (long)l->pid, l->lport, l->rport, i ? 'r' : 'w');
		pit_save_file(path, l->b[i], l->len[i]);
	}
}

void
pit_log_free(struct pit_log *l)
{
	free(l->b[0]);
	free(l->b[1]);
	memset(l, 0, sizeof *l);
}

/*
 * Deterministic payload: bytes off.. of stream seed, lower-case letters,
 * digits and newlines only (the signal test's '!' never occurs).
 */
void
pit_fill(unsigned char *buf, size_t n, unsigned int seed, size_t off)
{
	static const char	 abc[] = "abcdefghijklmnopqrstuvwxyz0123456789\n";
	size_t			 i;
	unsigned int		 x;

	for (i = 0; i < n; i++) {
		x = (unsigned int)(off + i) * 2654435761u ^ seed * 40503u;
		x ^= x >> 13;
		buf[i] = (unsigned char)abc[x % (sizeof abc - 1)];
	}
}

/* One call of the chosen family, writing. */
static ssize_t
pit_send_once(int fd, const unsigned char *p, size_t n, enum pit_how how)
{
	struct iovec	iov[2];
	struct msghdr	m;
	size_t		h = n / 2;

	iov[0].iov_base = (void *)p;
	iov[0].iov_len = h;
	iov[1].iov_base = (void *)(p + h);
	iov[1].iov_len = n - h;
	switch (how) {
	case PIT_SENDRECV:
		return (send(fd, p, n, 0));
	case PIT_VEC:
		return (writev(fd, iov, 2));
	case PIT_MSG:
		memset(&m, 0, sizeof m);
		m.msg_iov = iov;
		m.msg_iovlen = 2;
		return (sendmsg(fd, &m, 0));
	default:
		return (write(fd, p, n));
	}
}

/* One call of the chosen family, reading. */
static ssize_t
pit_recv_once(int fd, unsigned char *p, size_t n, enum pit_how how)
{
	struct iovec	iov[2];
	struct msghdr	m;
	size_t		h = n / 2;

	iov[0].iov_base = p;
	iov[0].iov_len = h;
	iov[1].iov_base = p + h;
	iov[1].iov_len = n - h;
	switch (how) {
	case PIT_SENDRECV:
		return (recv(fd, p, n, 0));
	case PIT_VEC:
		return (readv(fd, iov, 2));
	case PIT_MSG:
		memset(&m, 0, sizeof m);
		m.msg_iov = iov;
		m.msg_iovlen = 2;
		return (recvmsg(fd, &m, 0));
	default:
		return (read(fd, p, n));
	}
}

/* Send all n bytes, logging them. */
void
pit_send(int fd, const void *buf, size_t n, enum pit_how how,
    struct pit_log *l)
{
	const unsigned char	*p = buf;
	ssize_t			 r;

	while (n > 0) {
		r = pit_send_once(fd, p, n, how);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			pit_die("send on fd %d", fd);
		pit_log_add(l, 0, p, (size_t)r);
		p += r;
		n -= (size_t)r;
	}
}

/* Receive exactly n bytes, logging them. */
void
pit_recv(int fd, void *buf, size_t n, enum pit_how how, struct pit_log *l)
{
	unsigned char	*p = buf;
	ssize_t		 r;

	while (n > 0) {
		r = pit_recv_once(fd, p, n, how);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			errno = 0;
		if (r <= 0)
			pit_die("recv on fd %d", fd);
		pit_log_add(l, 1, p, (size_t)r);
		p += r;
		n -= (size_t)r;
	}
}

/*
 * Send n payload bytes of stream seed to the echo server while reading
 * its echo back (in slices, so neither side's buffers fill), and check
 * that the echo is what was sent.
 */
void
pit_echo(int fd, struct pit_log *l, size_t n, unsigned int seed,
    enum pit_how how)
{
	unsigned char	*out, *in;
	size_t		 done, k;

	if ((out = malloc(n + 1)) == NULL || (in = malloc(n + 1)) == NULL)
		pit_die("malloc");
	pit_fill(out, n, seed, 0);
	for (done = 0; done < n; done += k) {
		k = n - done < 32768 ? n - done : 32768;
		pit_send(fd, out + done, k, how, l);
		pit_recv(fd, in + done, k, how, l);
	}
	if (memcmp(out, in, n) != 0) {
		errno = 0;
		pit_die("fd %d: the echo differs from what was sent", fd);
	}
	free(out);
	free(in);
}

/* Shut down writing and read to end of file, logging what comes. */
void
pit_drain(int fd, struct pit_log *l)
{
	unsigned char	buf[4096];
	ssize_t		r;

	if (shutdown(fd, SHUT_WR) == -1)
		pit_die("shutdown");
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			pit_die("read to end of file");
		pit_log_add(l, 1, buf, (size_t)r);
	}
}

/* Write a string to a program file (not a socket), all of it. */
void
pit_write_file(int fd, const char *s)
{
	size_t	n = strlen(s);

	if (write(fd, s, n) != (ssize_t)n)
		pit_die("write to file fd %d", fd);
}
