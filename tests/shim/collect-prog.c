/*
 * What tests/shim/collect.sh runs under the launcher's collector:
 *   fork100 PORT      100 children, each one connection, "child N\n"
 *   one PORT          one connection, "one\n"
 *   exec PORT         one connection, then exec's itself as "one"
 *   kill PORT N       sends N bytes in 64 KiB writes, then SIGKILLs itself
 *   closeall PORT     one connection, close_range() of every fd, another
 *   setuid PORT       (root) one connection, setuid(65534), another
 *   stream PORT N     sends N bytes in 64 KiB writes, prints "done N"
 * Every connection sends, shuts down writing and reads the peer's answer.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
dial(int port)
{
	struct sockaddr_in	sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		exit(2);
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		perror("connect");
		exit(2);
	}
	return (fd);
}

static void
sendall(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			perror("write");
			exit(2);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* One connection: say msg, shut down, read the answer to its end. */
static void
talk(int port, const char *msg)
{
	char	buf[256];
	int	fd = dial(port);

	sendall(fd, msg, strlen(msg));
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
}

static void
stream(int port, long n, int die)
{
	static char	buf[65536];
	long		left = n;
	size_t		k;
	int		fd = dial(port), i;

	for (i = 0; i < (int)sizeof buf; i++)
		buf[i] = (char)('a' + i % 26);
	while (left > 0) {
		k = left < (long)sizeof buf ? (size_t)left : sizeof buf;
		sendall(fd, buf, k);
		left -= (long)k;
	}
	if (die)
		kill(getpid(), SIGKILL);
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	printf("done %ld\n", n);
}

int
main(int argc, char **argv)
{
	char	msg[64];
	int	port, i, st, bad = 0;
	pid_t	pid;

	if (argc < 3)
		return (2);
	port = atoi(argv[2]);
	if (strcmp(argv[1], "fork100") == 0) {
		for (i = 0; i < 100; i++) {
			if ((pid = fork()) == -1)
				return (2);
			if (pid == 0) {
				snprintf(msg, sizeof msg, "child %d\n", i);
				talk(port, msg);
				_exit(0);
			}
		}
		while (wait(&st) > 0)
			bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		return (bad != 0);
	}
	if (strcmp(argv[1], "one") == 0) {
		talk(port, "one\n");
		return (0);
	}
	if (strcmp(argv[1], "exec") == 0) {
		talk(port, "before exec\n");
		execl("/proc/self/exe", argv[0], "one", argv[2], (char *)NULL);
		perror("exec");
		return (2);
	}
	if (strcmp(argv[1], "kill") == 0 && argc > 3)
		stream(port, atol(argv[3]), 1);
	if (strcmp(argv[1], "stream") == 0 && argc > 3) {
		stream(port, atol(argv[3]), 0);
		return (0);
	}
	if (strcmp(argv[1], "closeall") == 0) {
		talk(port, "before close_range\n");
		if (syscall(SYS_close_range, 0U, ~0U, 0) != 0)
			return (2);
		talk(port, "after close_range\n");
		return (0);
	}
	if (strcmp(argv[1], "setuid") == 0) {
		talk(port, "as root\n");
		if (setgid(65534) != 0 || setuid(65534) != 0) {
			perror("setuid");
			return (2);
		}
		talk(port, "as nobody\n");
		return (0);
	}
	return (2);
}
