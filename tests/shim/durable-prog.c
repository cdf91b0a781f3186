/*
 * durable-prog: the programs tests/shim/durable.sh traces, each ending
 * its connection one way (a kill, a crash, _exit, exec, a full disk), and
 * the untraced peer that keeps what it received.
 *
 * usage: durable-prog peer PORTFILE RECVFILE REPLY
 *        durable-prog MODE PORT [BYTES]
 * peer: listen on 127.0.0.1, write the port to PORTFILE, take one
 * connection, append what it receives to RECVFILE as it comes, and after
 * the first bytes answer REPLY bytes (also written to RECVFILE.sent).
 * MODEs connect to PORT and then:
 *   big      write 100000-byte chunks until killed
 *   wait     send a request, then block reading the answer
 *   idle     send a request, read the answer, say "ready", wait
 *   segv, abort, exit, return, exec
 *            send a request, read the answer, then crash (SIGSEGV),
 *            abort(), _exit(3), return from main with the socket open,
 *            or exec /bin/true
 *   fork     a child sends the request and _exits; the parent reads
 *   send     send BYTES in 65536-byte writes, close, exit 0 (however
 *            the trace fares: a full disk, RLIMIT_FSIZE)
 *   lowfd    with fds 1 and 2 closed, connect (the socket takes fd 1)
 *            and send 3 MB (the trace grows, taking fds for a moment),
 *            then open a file: it must get fd 2
 *   nfile    (no PORT) connect to itself until out of fds; print how many
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUEST		"GET /durable HTTP/1.0\r\n\r\n"
#define CHUNK		100000

static void
die(const char *what)
{
	fprintf(stderr, "durable-prog: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* A TCP socket connected to 127.0.0.1:port. */
static int
dial(int port)
{
	struct sockaddr_in	sin;
	int			fd;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Write all of buf. */
static void
put(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Read exactly n bytes (the peer's answer). */
static void
get(int fd, size_t n)
{
	char	buf[4096];
	ssize_t	r;

	while (n > 0) {
		r = read(fd, buf, n < sizeof buf ? n : sizeof buf);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read");
		n -= (size_t)r;
	}
}

/* Bytes that say where they are in the stream, so a prefix shows. */
static void
fill(char *buf, size_t n, size_t at)
{
	size_t	i;

	for (i = 0; i < n; i++)
		buf[i] = (char)('a' + (at + i) / 7 % 26);
}

static int
peer(const char *portfile, const char *recvfile, size_t reply)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	char			buf[65536], tmp[4096];
	int			ls, fd, out, first = 1;
	ssize_t			r;
	FILE			*f;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1)
		die("listen");
	snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
	if ((f = fopen(tmp, "w")) == NULL)
		die(tmp);
	fprintf(f, "%d\n", ntohs(sin.sin_port));
	if (fclose(f) == EOF || rename(tmp, portfile) == -1)
		die(portfile);
	if ((out = open(recvfile, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		die(recvfile);
	if ((fd = accept(ls, NULL, NULL)) == -1)
		die("accept");
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			break;		/* a reset: what came is kept */
		put(out, buf, (size_t)r);
		if (first && reply > 0) {
			snprintf(tmp, sizeof tmp, "%s.sent", recvfile);
			if ((ls = open(tmp, O_WRONLY | O_CREAT | O_TRUNC,
			    0644)) == -1)
				die(tmp);
			fill(buf, reply < sizeof buf ? reply : sizeof buf, 0);
			put(fd, buf, reply < sizeof buf ? reply : sizeof buf);
			put(ls, buf, reply < sizeof buf ? reply : sizeof buf);
			close(ls);
		}
		first = 0;
	}
	close(out);
	return (0);
}

/* Connect to ourselves until the fds run out; how many connected. */
static int
nfile(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			ls, n = 0;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(ls, 4096) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1)
		die("listen");
	while (dial(ntohs(sin.sin_port)) != -1)
		n++;
	printf("%d\n", n);
	return (0);
}

int
main(int argc, char **argv)
{
	static char	 buf[CHUNK];
	const char	*mode;
	size_t		 at = 0, total;
	pid_t		 pid;
	int		 fd, status;

	if (argc == 5 && strcmp(argv[1], "peer") == 0)
		return (peer(argv[2], argv[3], strtoul(argv[4], NULL, 10)));
	if (argc == 2 && strcmp(argv[1], "nfile") == 0)
		return (nfile());
	if (argc < 3) {
		fprintf(stderr, "usage: durable-prog MODE PORT [BYTES]\n");
		return (2);
	}
	mode = argv[1];
	if (strcmp(mode, "lowfd") == 0) {
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
	}
	if ((fd = dial(atoi(argv[2]))) == -1)
		die("connect");
	if (strcmp(mode, "big") == 0) {
		for (;; at += CHUNK) {
			fill(buf, CHUNK, at);
			put(fd, buf, CHUNK);
		}
	}
	if (strcmp(mode, "send") == 0 || strcmp(mode, "lowfd") == 0) {
		total = argc > 3 ? strtoul(argv[3], NULL, 10) : 3000000;
		for (; at < total; at += 65536) {
			fill(buf, 65536, at);
			put(fd, buf, total - at < 65536 ? total - at : 65536);
		}
		if (strcmp(mode, "lowfd") == 0) {
			status = open("lowfd.out", O_WRONLY | O_CREAT | O_TRUNC,
			    0644);
			dprintf(status, "fd %d\n", status);
			close(fd);
			return (status == STDERR_FILENO ? 0 : 1);
		}
		close(fd);
		return (0);
	}
	if (strcmp(mode, "fork") == 0) {
		if ((pid = fork()) == -1)
			die("fork");
		if (pid == 0) {
			put(fd, REQUEST, sizeof REQUEST - 1);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) == -1)
			die("waitpid");
		get(fd, 1000);
		close(fd);
		return (0);
	}
	put(fd, REQUEST, sizeof REQUEST - 1);
	if (strcmp(mode, "wait") == 0) {
		get(fd, 1);		/* the peer never answers */
		return (0);
	}
	get(fd, 1000);
	if (strcmp(mode, "idle") == 0) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (strcmp(mode, "segv") == 0) {
		*(volatile int *)(uintptr_t)argc = 0;	/* a bad address */
		return (0);
	}
	if (strcmp(mode, "abort") == 0)
		abort();
	if (strcmp(mode, "exit") == 0)
		_exit(3);
	if (strcmp(mode, "return") == 0)
		return (0);
	if (strcmp(mode, "exec") == 0) {
		execl("/bin/true", "true", (char *)NULL);
		die("exec");
	}
	fprintf(stderr, "durable-prog: %s: unknown mode\n", mode);
	return (2);
}
