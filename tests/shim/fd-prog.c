/* Test program for tests/shim/fd.sh: fd reuse, connects, exact events. */

#define _GNU_SOURCE

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What each client connection sends, and the echo server returns. */
#define MSG		"0123456789abcdef"
#define MSGLEN		16

static struct sockaddr_in	peer;

static void
die(const char *what)
{
	fprintf(stderr, "fd-prog: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Read exactly n bytes, or die. */
static void
read_all(int fd, char *buf, size_t n)
{
	ssize_t	r;

	while (n > 0) {
		if ((r = read(fd, buf, n)) <= 0)
			die(r == 0 ? "read: early end of file" : "read");
		buf += r;
		n -= (size_t)r;
	}
}

/* A connected TCP socket to peer. */
static int
dial(void)
{
	int	fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&peer, sizeof peer) == -1)
		die("connect");
	return (fd);
}

/* One echo connection: what comes back until end of file. */
static void *
serve_one(void *arg)
{
	char	buf[4096];
	ssize_t	r;
	int	fd = (int)(intptr_t)arg;

	while ((r = read(fd, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)r) != r)
			break;
	close(fd);
	return (NULL);
}

/*
 * serve PORTFILE: an echo server on 127.0.0.1 (TCP Fast Open allowed),
 * a thread per connection; its port goes to PORTFILE.
 */
static __attribute__((noreturn)) int
serve(const char *portfile)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	pthread_t		t;
	FILE			*f;
	int			fd, c, one = 1, qlen = 16;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, len) == -1 ||
	    listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("listen");
	if ((f = fopen(portfile, "w")) == NULL)
		die(portfile);
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	fclose(f);
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1)
			continue;
		if (pthread_create(&t, NULL, serve_one, (void *)(intptr_t)c))
			die("pthread_create");
		pthread_detach(t);
	}
}

/*
 * fdopen FILE: a connection written through stdio and fclose()d, then
 * FILE opened: it gets the same number; its bytes go to the file only.
 */
static int
fdopen_case(const char *path)
{
	char	 buf[MSGLEN];
	FILE	*f;
	int	 fd, fd2;

	fd = dial();
	if ((f = fdopen(fd, "r+")) == NULL)
		die("fdopen");
	fprintf(f, "%s", MSG);
	fflush(f);
	read_all(fd, buf, MSGLEN);
	fclose(f);
	if ((fd2 = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		die(path);
	if (write(fd2, "FILE-BYTES-NOT-SOCKET", 21) != 21)
		die("write");
	close(fd2);
	printf("%s\n", fd == fd2 ? "same fd" : "other fd");
	return (0);
}

static int	rounds;

/* One client connection: MSG out, its echo back, closed. */
static void
client_once(void)
{
	char	buf[MSGLEN];
	int	fd = dial();

	if (write(fd, MSG, MSGLEN) != MSGLEN)
		die("write");
	read_all(fd, buf, MSGLEN);
	if (memcmp(buf, MSG, MSGLEN) != 0) {
		fprintf(stderr, "fd-prog: echo differs\n");
		exit(1);
	}
	close(fd);
}

static void *
client_thread(void *arg)
{
	int	i;

	(void)arg;
	for (i = 0; i < rounds; i++)
		client_once();
	return (NULL);
}

/* A thread opening, writing and closing /dev/null. */
static void *
file_thread(void *arg)
{
	int	i, fd;

	(void)arg;
	for (i = 0; i < rounds * 4; i++) {
		if ((fd = open("/dev/null", O_WRONLY)) == -1)
			die("/dev/null");
		if (write(fd, "FILE-BYTES-NOT-SOCKET", 21) != 21)
			die("write");
		close(fd);
	}
	return (NULL);
}

/* clients T N [F]: T client threads, N connections each; F file threads. */
static int
threads_case(int nclients, int n, int nfiles)
{
	pthread_t	t[256];
	int		i, nt = nclients + nfiles;

	if (nt > 256)
		nt = 256;
	rounds = n;
	for (i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, i < nclients ? client_thread :
		    file_thread, NULL))
			die("pthread_create");
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	return (0);
}

/*
 * again: a non-blocking connect, connect() again at once (EALREADY while
 * pending), poll, connect() again (0), once more (EISCONN), then an
 * echo. Says what each call returned.
 */
static int
again_case(void)
{
	struct pollfd	pfd;
	char		buf[MSGLEN];
	int		fd, r, i;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		die("socket");
	for (i = 0; i < 4; i++) {
		r = connect(fd, (struct sockaddr *)&peer, sizeof peer);
		printf("connect %d: %s\n", i, r == 0 ? "0" :
		    strerrorname_np(errno));
		if (r == -1 && errno != EINPROGRESS && errno != EALREADY &&
		    errno != EISCONN)
			die("connect");
		if (i == 1) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 5000) != 1)
				die("poll");
		}
	}
	if (fcntl(fd, F_SETFL, 0) == -1)
		die("fcntl");
	if (write(fd, MSG, MSGLEN) != MSGLEN)
		die("write");
	read_all(fd, buf, MSGLEN);
	close(fd);
	return (0);
}

/*
 * pending: a non-blocking connect to a listener whose accept queue is
 * full (Linux drops the SYN), connect() again while it is pending
 * (EALREADY); the queue emptied, the SYN's retransmission gets through,
 * connect() again (0), and 16 bytes sent and accepted.
 */
static int
pending_case(void)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		len = sizeof sin;
	char			buf[MSGLEN];
	int			l, filler, fd, a, b, r;

	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    (filler = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    (fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		die("socket");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, len) == -1 || listen(l, 0) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &len) == -1)
		die("listen");
	if (connect(filler, (struct sockaddr *)&sin, len) == -1)
		die("connect");
	r = connect(fd, (struct sockaddr *)&sin, len);
	printf("connect 0: %s\n", r == 0 ? "0" : strerrorname_np(errno));
	r = connect(fd, (struct sockaddr *)&sin, len);
	printf("connect 1: %s\n", r == 0 ? "0" : strerrorname_np(errno));
	if ((a = accept(l, NULL, NULL)) == -1)
		die("accept");
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 10000) != 1)
		die("poll");
	r = connect(fd, (struct sockaddr *)&sin, len);
	printf("connect 2: %s\n", r == 0 ? "0" : strerrorname_np(errno));
	if (fcntl(fd, F_SETFL, 0) == -1 || write(fd, MSG, MSGLEN) != MSGLEN)
		die("write");
	if ((b = accept(l, NULL, NULL)) == -1)
		die("accept");
	read_all(b, buf, MSGLEN);
	close(b);
	close(a);
	close(fd);
	close(filler);
	close(l);
	return (0);
}

/*
 * tfo: sendto(MSG_FASTOPEN), the connect and the first data at once,
 * then the echo.
 */
static int
tfo_case(void)
{
	char	buf[MSGLEN];
	int	fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (sendto(fd, MSG, MSGLEN, MSG_FASTOPEN, (struct sockaddr *)&peer,
	    sizeof peer) != MSGLEN)
		die("sendto");
	read_all(fd, buf, MSGLEN);
	close(fd);
	return (0);
}

/*
 * tfo-refused: sendto(MSG_FASTOPEN) to a port bound but not listening:
 * ECONNREFUSED, as a connect() would get.
 */
static int
tfo_refused_case(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, closed;

	if ((closed = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(closed, (struct sockaddr *)&sin, len) == -1 ||
	    getsockname(closed, (struct sockaddr *)&sin, &len) == -1)
		die("bind");
	if (sendto(fd, MSG, MSGLEN, MSG_FASTOPEN, (struct sockaddr *)&sin,
	    len) != -1 || errno != ECONNREFUSED)
		die("sendto: expected ECONNREFUSED");
	printf("%d\n", ntohs(sin.sin_port));
	close(fd);
	close(closed);
	return (0);
}

/* A UDP socket on 127.0.0.1, any port; its address in sin. */
static int
udp_bound(struct sockaddr_in *sin)
{
	socklen_t	len = sizeof *sin;
	int		fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("socket");
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1)
		die("bind");
	return (fd);
}

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

/*
 * udp-shutdown: a connected UDP socket sends one datagram, then
 * shutdown(SHUT_WR), which sends nothing. udp-first: the first sendto of
 * a socket the shim has not seen, its time as this program measured it
 * (ns) on standard output.
 */
static int
udp_case(int first)
{
	struct sockaddr_in	sin;
	int			rx, tx, dummy;
	int64_t			t0;
	char			buf[16];

	rx = udp_bound(&sin);
	if ((tx = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("socket");
	if (first) {
		t0 = now_ns();
		if (sendto(tx, "first", 5, 0, (struct sockaddr *)&sin,
		    sizeof sin) != 5)
			die("sendto");
		printf("%lld\n", (long long)(now_ns() - t0));
	} else {
		if (connect(tx, (struct sockaddr *)&sin, sizeof sin) == -1)
			die("connect");
		if (send(tx, "ping", 4, 0) != 4)
			die("send");
		if (shutdown(tx, SHUT_WR) == -1)
			die("shutdown");
	}
	if (recv(rx, buf, sizeof buf, 0) <= 0)
		die("recv");
	dummy = close(tx) + close(rx);
	return (dummy != 0);
}

/*
 * shut: MSG out, shutdown(SHUT_WR), the echo read to its end: one write,
 * one read.
 */
static int
shut_case(void)
{
	char	buf[MSGLEN];
	int	fd = dial();

	if (write(fd, MSG, MSGLEN) != MSGLEN)
		die("write");
	if (shutdown(fd, SHUT_WR) == -1)
		die("shutdown");
	read_all(fd, buf, MSGLEN);
	if (read(fd, buf, 1) != 0)
		die("read: expected end of file");
	close(fd);
	return (0);
}

/*
 * sendfile FILE: FILE sent with sendfile() (each call's count on
 * standard output), its echo read back.
 */
static int
sendfile_case(const char *path)
{
	struct stat	 st;
	char		*buf;
	off_t		 off = 0;
	ssize_t		 r;
	int		 fd, in, calls = 0;

	if ((in = open(path, O_RDONLY)) == -1 || fstat(in, &st) == -1)
		die(path);
	if ((buf = malloc((size_t)st.st_size)) == NULL)
		die("malloc");
	fd = dial();
	while (off < st.st_size) {
		if ((r = sendfile(fd, in, &off, (size_t)(st.st_size - off))) <=
		    0)
			die("sendfile");
		calls++;
	}
	read_all(fd, buf, (size_t)st.st_size);
	printf("%d\n", calls);
	free(buf);
	close(in);
	close(fd);
	return (0);
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return (serve(argv[2]));
	if (argc == 2 && strcmp(argv[1], "tfo-refused") == 0)
		return (tfo_refused_case());
	if (argc == 2 && strcmp(argv[1], "pending") == 0)
		return (pending_case());
	if (argc == 2 && strcmp(argv[1], "udp-shutdown") == 0)
		return (udp_case(0));
	if (argc == 2 && strcmp(argv[1], "udp-first") == 0)
		return (udp_case(1));
	if (argc < 3)
		goto usage;
	memset(&peer, 0, sizeof peer);
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	peer.sin_port = htons((uint16_t)atoi(argv[2]));
	if (argc == 4 && strcmp(argv[1], "fdopen") == 0)
		return (fdopen_case(argv[3]));
	if (argc == 5 && strcmp(argv[1], "clients") == 0)
		return (threads_case(atoi(argv[3]), atoi(argv[4]), 0));
	if (argc == 5 && strcmp(argv[1], "mixed") == 0)
		return (threads_case(4, atoi(argv[4]), atoi(argv[3])));
	if (argc == 3 && strcmp(argv[1], "again") == 0)
		return (again_case());
	if (argc == 3 && strcmp(argv[1], "tfo") == 0)
		return (tfo_case());
	if (argc == 3 && strcmp(argv[1], "shut") == 0)
		return (shut_case());
	if (argc == 4 && strcmp(argv[1], "sendfile") == 0)
		return (sendfile_case(argv[3]));
usage:
	fprintf(stderr, "usage: fd-prog serve PORTFILE | fdopen PORT FILE | "
	    "clients PORT THREADS N | mixed PORT FILETHREADS N | again PORT | "
	    "tfo PORT | tfo-refused | pending | udp-shutdown | udp-first | shut PORT | "
	    "sendfile PORT FILE\n");
	return (2);
}
