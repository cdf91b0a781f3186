/* Request/response round trips over one loopback TCP connection. */

/*
 * usage: rr server          listen on 127.0.0.1, print the port, serve one
 *                           connection: every 64-byte request gets the
 *                           same bytes back, until end of file; then
 *                           print "rusage MAXRSS_KIB CPU_SECONDS"
 *        rr client PORT [N] N round trips (default 100000), each a
 *                           64-byte request and a 64-byte response
 *
 * Plain read() and write(), one message per call, TCP_NODELAY on both
 * ends: what bench/shim.sh times with and without libtapshim.so.
 * Exit status: 0 when every response came back right, 1 otherwise.
 */

#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RR_SIZE		64	/* bytes in a request, and in a response */
#define RR_DEFAULT_N	100000

static void	rr_die(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static int	rr_nodelay(int);
static int	rr_read_full(int, unsigned char *, size_t);
static int	rr_write_full(int, const unsigned char *, size_t);
static void	rr_rusage(void);
static int	rr_server(void);
static int	rr_client(const char *, const char *);

/* "rr: message" on stderr, then exit 1. */
static void
rr_die(const char *fmt, ...)
{
	va_list	ap;

	fputs("rr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Send each message at once: no Nagle wait between round trips. */
static int
rr_nodelay(int fd)
{
	int	on = 1;

	return (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
}

/* Read exactly n bytes: 1 when done, 0 at end of file first, -1 on error. */
static int
rr_read_full(int fd, unsigned char *buf, size_t n)
{
	size_t	got = 0;
	ssize_t	r;

	while (got < n) {
		r = read(fd, buf + got, n - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			errno = 0;	/* end of file: no error to show */
		if (r <= 0)
			return (r == 0 && got == 0 ? 0 : -1);
		got += (size_t)r;
	}
	return (1);
}

/* Write all n bytes: 0, or -1 on error. */
static int
rr_write_full(int fd, const unsigned char *buf, size_t n)
{
	size_t	done = 0;
	ssize_t	r;

	while (done < n) {
		r = write(fd, buf + done, n - done);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		done += (size_t)r;
	}
	return (0);
}

/* The server's own peak RSS and CPU time: no wrapper to find its pid. */
static void
rr_rusage(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		rr_die("getrusage: %s", strerror(errno));
	printf("rusage %ld %.3f\n", ru.ru_maxrss, (double)(ru.ru_utime.tv_sec +
	    ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) /
	    1e6);
}

/* Serve one connection, echoing each request, until end of file. */
static int
rr_server(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	unsigned char		buf[RR_SIZE];
	int			lfd, fd, r;

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		rr_die("socket: %s", strerror(errno));
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		rr_die("127.0.0.1: %s", strerror(errno));
	printf("%u\n", ntohs(sin.sin_port));
	if (fflush(stdout) == EOF)
		rr_die("stdout: %s", strerror(errno));
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		rr_die("accept: %s", strerror(errno));
	close(lfd);
	if (rr_nodelay(fd) == -1)
		rr_die("TCP_NODELAY: %s", strerror(errno));
	while ((r = rr_read_full(fd, buf, sizeof buf)) == 1) {
		if (rr_write_full(fd, buf, sizeof buf) == -1)
			rr_die("write: %s", strerror(errno));
	}
	if (r == -1)
		rr_die("read: %s", errno ? strerror(errno) : "short request");
	close(fd);
	rr_rusage();
	return (fflush(stdout) == EOF);
}

/* Make n round trips to port, checking every response. */
static int
rr_client(const char *port, const char *count)
{
	struct sockaddr_in	 sin;
	unsigned char		 req[RR_SIZE], resp[RR_SIZE];
	unsigned long		 i, n = RR_DEFAULT_N, p;
	char			*end;
	int			 fd;

	p = strtoul(port, &end, 10);
	if (*port == '\0' || *end != '\0' || p == 0 || p > 65535)
		rr_die("%s: not a port number", port);
	if (count != NULL) {
		n = strtoul(count, &end, 10);
		if (*count == '\0' || *end != '\0')
			rr_die("%s: not a number of round trips", count);
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		rr_die("socket: %s", strerror(errno));
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)p);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
		rr_die("127.0.0.1:%lu: %s", p, strerror(errno));
	if (rr_nodelay(fd) == -1)
		rr_die("TCP_NODELAY: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		/* A different request each time, so an echo proves order. */
		memset(req, (int)(i & 0xff), sizeof req);
		memcpy(req, &i, sizeof i);
		if (rr_write_full(fd, req, sizeof req) == -1)
			rr_die("write: %s", strerror(errno));
		if (rr_read_full(fd, resp, sizeof resp) != 1)
			rr_die("read: %s", errno ? strerror(errno) :
			    "short response");
		if (memcmp(req, resp, sizeof req) != 0)
			rr_die("round trip %lu: wrong response", i);
	}
	close(fd);
	return (0);
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "server") == 0)
		return (rr_server());
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "client") == 0)
		return (rr_client(argv[2], argc == 4 ? argv[3] : NULL));
	fprintf(stderr, "usage: rr server\n       rr client PORT [N]\n");
	return (1);
}
