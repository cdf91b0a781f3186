/* Test program for tests/udp.sh: UDP in every call, failed connects. */

#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void	udpprog_dial(int, const struct sockaddr *, socklen_t);

static void
die(const char *what)
{
	fprintf(stderr, "udp-prog: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A UDP socket bound to the loopback address of family af, any port. */
static int
udp_socket(int af, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	int			 fd;

	memset(ss, 0, sizeof *ss);
	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof *sin;
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*len = sizeof *sin6;
	}
	if ((fd = socket(af, SOCK_DGRAM, 0)) == -1)
		die("socket");
	if (bind(fd, (struct sockaddr *)ss, *len) == -1 ||
	    getsockname(fd, (struct sockaddr *)ss, len) == -1)
		die("bind");
	return (fd);
}

/*
 * A TCP socket bound to 127.0.0.1, any port, its address in sin; listening
 * with this backlog unless it is negative.
 */
static int
tcp_socket(struct sockaddr_in *sin, int backlog)
{
	socklen_t	len = sizeof *sin;
	int		fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, len) == -1 ||
	    (backlog >= 0 && listen(fd, backlog) == -1) ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1)
		die(backlog >= 0 ? "listen" : "bind");
	return (fd);
}

static int
port_of(const struct sockaddr_storage *ss)
{
	return (ntohs(ss->ss_family == AF_INET ?
	    ((const struct sockaddr_in *)ss)->sin_port :
	    ((const struct sockaddr_in6 *)ss)->sin6_port));
}

/* Say a datagram went from port a to port b: "SRC DST HEX". */
static void
said(int a, int b, const void *p, size_t n)
{
	const unsigned char	*c = p;
	size_t			 i;

	printf("%d %d ", a, b);
	for (i = 0; i < n; i++)
		printf("%02x", c[i]);
	printf("%s\n", n == 0 ? "-" : "");
}

/* Every UDP call, between two sockets of family af. */
static void
udp_all(int af)
{
	struct sockaddr_storage	 a, b, from, froms[3];
	struct mmsghdr		 mm[3];
	struct iovec		 iov[3];
	struct msghdr		 m;
	socklen_t		 alen, blen, flen;
	char			 buf[256], *msgs[3] = { "mmsg-one", "mmsg-two",
				    "mmsg-three" };
	int			 x, y, i, pa, pb;

	x = udp_socket(af, &a, &alen);
	y = udp_socket(af, &b, &blen);
	pa = port_of(&a);
	pb = port_of(&b);
	/* sendto / recvfrom, unconnected both ways. */
	if (sendto(x, "ping", 4, 0, (struct sockaddr *)&b, blen) != 4)
		die("sendto");
	said(pa, pb, "ping", 4);
	flen = sizeof from;
	if (recvfrom(y, buf, sizeof buf, 0, (struct sockaddr *)&from,
	    &flen) != 4)
		die("recvfrom");
	if (sendto(y, "pong!", 5, 0, (struct sockaddr *)&from, flen) != 5)
		die("sendto");
	said(pb, pa, "pong!", 5);
	if (recvfrom(x, buf, sizeof buf, 0, NULL, NULL) != 5)
		die("recvfrom");
	/* sendmsg with two pieces: one datagram; recvmsg into two. */
	iov[0].iov_base = "two ";
	iov[0].iov_len = 4;
	iov[1].iov_base = "pieces";
	iov[1].iov_len = 6;
	memset(&m, 0, sizeof m);
	m.msg_name = &b;
	m.msg_namelen = blen;
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	if (sendmsg(x, &m, 0) != 10)
		die("sendmsg");
	said(pa, pb, "two pieces", 10);
	iov[0].iov_base = buf;
	iov[0].iov_len = 3;
	iov[1].iov_base = buf + 3;
	iov[1].iov_len = sizeof buf - 3;
	memset(&m, 0, sizeof m);
	m.msg_name = &from;
	m.msg_namelen = sizeof from;
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	if (recvmsg(y, &m, 0) != 10)
		die("recvmsg");
	/* sendmmsg three, recvmmsg them. */
	memset(mm, 0, sizeof mm);
	for (i = 0; i < 3; i++) {
		iov[i].iov_base = msgs[i];
		iov[i].iov_len = strlen(msgs[i]);
		mm[i].msg_hdr.msg_name = &a;
		mm[i].msg_hdr.msg_namelen = alen;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		said(pb, pa, msgs[i], strlen(msgs[i]));
	}
	if (sendmmsg(y, mm, 3, 0) != 3)
		die("sendmmsg");
	/* recvmmsg writes each source into its msg_name: not into a. */
	for (i = 0; i < 3; i++) {
		mm[i].msg_hdr.msg_iov->iov_base = buf + 64 * i;
		mm[i].msg_hdr.msg_iov->iov_len = 64;
		mm[i].msg_hdr.msg_name = &froms[i];
		mm[i].msg_hdr.msg_namelen = sizeof froms[i];
	}
	if (recvmmsg(x, mm, 3, MSG_WAITFORONE, NULL) < 1)
		die("recvmmsg");
	/* Drain what recvmmsg may have left (it returns what is queued). */
	while (recv(x, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
	/* An empty datagram. */
	if (sendto(x, "", 0, 0, (struct sockaddr *)&b, blen) != 0)
		die("sendto empty");
	said(pa, pb, "", 0);
	if (recv(y, buf, sizeof buf, 0) != 0)
		die("recv empty");
	/* Connected: write/read, send/recv. */
	if (connect(x, (struct sockaddr *)&b, blen) == -1 ||
	    connect(y, (struct sockaddr *)&a, alen) == -1)
		die("connect");
	if (write(x, "written", 7) != 7)
		die("write");
	said(pa, pb, "written", 7);
	if (read(y, buf, sizeof buf) != 7)
		die("read");
	if (send(y, "sent back", 9, 0) != 9)
		die("send");
	said(pb, pa, "sent back", 9);
	if (recv(x, buf, sizeof buf, 0) != 9)
		die("recv");
	close(x);
	close(y);
}

/* A connect to a port nobody listens on: ECONNREFUSED. */
static void
refused(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd;

	fd = tcp_socket(&sin, -1);
	close(fd);		/* the port is now closed */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, len) != -1 ||
	    errno != ECONNREFUSED)
		die("connect to a closed port did not fail with ECONNREFUSED");
	printf("refused %d\n", ntohs(sin.sin_port));
	close(fd);
}

/*
 * A blackhole on loopback without firewall rules: a listener with a
 * backlog of 0 whose accept queue is full (one connection nobody
 * accepts) drops every further SYN (Linux tcp_conn_request). A
 * non-blocking connect then waits; the program gives up after 300 ms.
 */
static void
blackhole(void)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		len = sizeof sin;
	int			l, first, fd, r, i;

	l = tcp_socket(&sin, 0);
	first = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(first, (struct sockaddr *)&sin, len) == -1)
		die("connect");
	/* Its handshake may still be settling: a few tries, bounded. */
	for (i = 0; i < 20; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (connect(fd, (struct sockaddr *)&sin, len) != -1 ||
		    errno != EINPROGRESS)
			die("non-blocking connect");
		pfd.fd = fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, 300);
		if (r == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		die("no blackhole: every connect completed");
	printf("blackhole %d\n", ntohs(sin.sin_port));
	close(fd);
	close(first);
	close(l);
}

/*
 * The call site a backtrace must name (exported: the program is linked
 * with -rdynamic, so dladdr finds it).
 */
void
udpprog_dial(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (connect(fd, sa, len) == -1)
		die("connect");
}

/* getaddrinfo, then a connect to its answer, and a few bytes. */
static void
resolve(void)
{
	struct addrinfo		 hints, *ai;
	struct sockaddr_in	 sin;
	char			 port[16], buf[16];
	int			 l, fd, s, e;

	l = tcp_socket(&sin, 4);
	snprintf(port, sizeof port, "%d", ntohs(sin.sin_port));
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo("localhost", port, &hints, &ai)) != 0) {
		fprintf(stderr, "udp-prog: getaddrinfo: %s\n", gai_strerror(e));
		exit(1);
	}
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	udpprog_dial(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if ((s = accept(l, NULL, NULL)) == -1)
		die("accept");
	if (write(fd, "hello", 5) != 5 || read(s, buf, sizeof buf) != 5)
		die("write");
	printf("resolved localhost %s\n", port);
	close(s);
	close(fd);
	close(l);
}

/*
 * A peer that aborts (SO_LINGER 0: a RST): the client's read fails with
 * ECONNRESET; then a write to a server that closed normally fails with
 * EPIPE (MSG_NOSIGNAL: no SIGPIPE).
 */
static void
reset(void)
{
	struct sockaddr_in	sin;
	struct linger		lg = { 1, 0 };
	socklen_t		len = sizeof sin;
	char			buf[16];
	int			l, fd, s, i, r;

	l = tcp_socket(&sin, 4);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, len) == -1 ||
	    (s = accept(l, NULL, NULL)) == -1)
		die("connect");
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(s);
	if (read(fd, buf, sizeof buf) != -1 || errno != ECONNRESET)
		die("read after a reset did not fail with ECONNRESET");
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sin, len) == -1 ||
	    (s = accept(l, NULL, NULL)) == -1)
		die("connect");
	shutdown(s, SHUT_RDWR);
	close(s);
	/* The first write may still go out (and draw a RST): bounded. */
	for (i = 0, r = 0; i < 100 && r != -1; i++)
		r = (int)send(fd, "x", 1, MSG_NOSIGNAL);
	if (r != -1 || (errno != EPIPE && errno != ECONNRESET))
		die("send to a closed peer did not fail with EPIPE");
	printf("reset %d %s\n", ntohs(sin.sin_port), strerrorname_np(errno));
	close(fd);
	close(l);
}

int
main(int argc, char **argv)
{
	socklen_t	len = sizeof(int);
	int		quiet, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: udp-prog udp|refused|blackhole|resolve|reset\n");
		return (2);
	}
	if (strcmp(argv[1], "udp") == 0) {
		/* A UDP socket that moves nothing: no trace, even asked. */
		quiet = socket(AF_INET, SOCK_DGRAM, 0);
		(void)getsockopt(quiet, SOL_SOCKET, SO_ERROR, &err, &len);
		udp_all(AF_INET);
		udp_all(AF_INET6);
		close(quiet);
	} else if (strcmp(argv[1], "refused") == 0)
		refused();
	else if (strcmp(argv[1], "blackhole") == 0)
		blackhole();
	else if (strcmp(argv[1], "resolve") == 0)
		resolve();
	else if (strcmp(argv[1], "reset") == 0)
		reset();
	else
		return (2);
	return (0);
}
