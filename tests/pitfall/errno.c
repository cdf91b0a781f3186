/*
 * Pitfall 7 (errno): failing calls through every hook, and successful
 * ones after errno was set, print what they return and errno. The
 * output must be the same with and without the shim; each line also
 * says whether errno is what the kernel gives.
 */

#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

#define SENTINEL	4242

static void	show(const char *, long, int, int);
static int	refused_port(int *);

static int	mismatches;

/* One line: the call, its result, errno by name, and whether as expected. */
static void
show(const char *what, long r, int err, int want)
{
	const char	*name = err == SENTINEL ? "kept" : strerrorname_np(err);

	printf("%-28s -> %ld, errno %s%s\n", what, r, name ? name : "?",
	    err == want ? "" : " (UNEXPECTED)");
	mismatches += err != want;
}

/* A bound, not listening port: connecting to it is refused. */
static int
refused_port(int *keep)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	if ((*keep = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		pit_die("socket");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(*keep, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(*keep, (struct sockaddr *)&sin, &len) == -1)
		pit_die("bind");
	return (ntohs(sin.sin_port));
}

#define CALL(what, call, want) do {					\
	long	r_;							\
	errno = SENTINEL;						\
	r_ = (long)(call);						\
	show(what, r_, errno, want);					\
} while (0)

int
main(void)
{
	struct sockaddr_in	sin;
	struct iovec		iov;
	struct msghdr		m;
	char			buf[64];
	int			s, u, keep, pipefd[2], file, fl, d;

	pit_setprog("errno");
	signal(SIGPIPE, SIG_IGN);
	iov.iov_base = buf;
	iov.iov_len = sizeof buf;
	memset(&m, 0, sizeof m);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (pipe(pipefd) == -1 || (file = open("/dev/null", O_RDWR)) == -1)
		pit_die("pipe");

	/* Bad fds. */
	CALL("read(-1)", read(-1, buf, 1), EBADF);
	CALL("read(9999)", read(9999, buf, 1), EBADF);
	CALL("write(9999)", write(9999, "x", 1), EBADF);
	CALL("readv(9999)", readv(9999, &iov, 1), EBADF);
	CALL("writev(9999)", writev(9999, &iov, 1), EBADF);
	CALL("recv(9999)", recv(9999, buf, 1, 0), EBADF);
	CALL("send(9999)", send(9999, "x", 1, 0), EBADF);
	CALL("close(9999)", close(9999), EBADF);
	CALL("dup(9999)", dup(9999), EBADF);
	CALL("dup2(9999, 50)", dup2(9999, 50), EBADF);
	CALL("dup3(0, 0, 0)", dup3(0, 0, 0), EINVAL);
	CALL("fcntl(9999, F_DUPFD)", fcntl(9999, F_DUPFD, 0), EBADF);
	CALL("shutdown(9999)", shutdown(9999, SHUT_WR), EBADF);
	CALL("accept(9999)", accept(9999, NULL, NULL), EBADF);

	/* Not sockets. */
	CALL("recv(pipe)", recv(pipefd[0], buf, 1, MSG_DONTWAIT), ENOTSOCK);
	CALL("recvfrom(file)", recvfrom(file, buf, 1, 0, NULL, NULL),
	    ENOTSOCK);
	CALL("recvmsg(file)", recvmsg(file, &m, 0), ENOTSOCK);
	CALL("send(pipe)", send(pipefd[1], "x", 1, 0), ENOTSOCK);
	CALL("sendto(file)", sendto(file, "x", 1, 0, NULL, 0), ENOTSOCK);
	CALL("sendmsg(file)", sendmsg(file, &m, 0), ENOTSOCK);
	CALL("shutdown(file)", shutdown(file, SHUT_RD), ENOTSOCK);
	CALL("accept4(pipe)", accept4(pipefd[0], NULL, NULL, 0), ENOTSOCK);
	CALL("connect(file)", connect(file, (struct sockaddr *)&sin,
	    sizeof sin), ENOTSOCK);

	/* Refused, not connected, not listening. */
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)refused_port(&keep));
	s = socket(AF_INET, SOCK_STREAM, 0);
	CALL("connect(refused)", connect(s, (struct sockaddr *)&sin,
	    sizeof sin), ECONNREFUSED);
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	CALL("shutdown(unconnected)", shutdown(s, SHUT_WR), ENOTCONN);
	CALL("accept(unlistening)", accept(s, NULL, NULL), EINVAL);
	CALL("accept4(bad flags)", accept4(s, NULL, NULL, -1), EINVAL);
	CALL("send(unconnected)", send(s, "x", 1, 0), EPIPE);
	close(s);

	/* A traced connection, non-blocking, nothing to read yet. */
	sin.sin_port = htons((uint16_t)pit_port());
	u = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CALL("connect(non-blocking)", connect(u, (struct sockaddr *)&sin,
	    sizeof sin), EINPROGRESS);
	close(u);
	s = pit_connect(pit_port());
	fl = fcntl(s, F_GETFL);
	CALL("fcntl(F_SETFL, O_NONBLOCK)", fcntl(s, F_SETFL, fl | O_NONBLOCK),
	    SENTINEL);
	CALL("read(empty)", read(s, buf, sizeof buf), EAGAIN);
	CALL("recv(empty)", recv(s, buf, sizeof buf, 0), EAGAIN);
	CALL("recv(empty, MSG_PEEK)", recv(s, buf, 1, MSG_PEEK), EAGAIN);
	CALL("recvfrom(empty)", recvfrom(s, buf, 1, 0, NULL, NULL), EAGAIN);
	CALL("recvmsg(empty)", recvmsg(s, &m, 0), EAGAIN);
	CALL("readv(empty)", readv(s, &iov, 1), EAGAIN);

	/* Successful calls leave errno alone. */
	CALL("write(ok)", write(s, "ping", 4), SENTINEL);
	usleep(100000);
	CALL("recv(ok, MSG_PEEK)", recv(s, buf, 4, MSG_PEEK), SENTINEL);
	CALL("read(ok)", read(s, buf, 4), SENTINEL);
	CALL("send(ok)", send(s, "pong", 4, 0), SENTINEL);
	usleep(100000);
	CALL("recv(ok)", recv(s, buf, 4, 0), SENTINEL);
	CALL("dup(ok) > 0", dup(s) > 0, SENTINEL);
	d = fcntl(s, F_DUPFD_CLOEXEC, 100);
	CALL("fcntl(F_DUPFD_CLOEXEC) ok", d >= 100, SENTINEL);
	CALL("close(dup)", close(d), SENTINEL);
	CALL("shutdown(ok)", shutdown(s, SHUT_WR), SENTINEL);
	CALL("write(after shutdown)", write(s, "x", 1), EPIPE);
	usleep(100000);
	CALL("read(end of file)", read(s, buf, sizeof buf), SENTINEL);
	CALL("close(ok)", close(s), SENTINEL);
	CALL("connect(ok) == 0", pit_connect(pit_port()) > 0, SENTINEL);
	close(keep);
	printf("errno: %d unexpected\n", mismatches);
	return (0);
}
