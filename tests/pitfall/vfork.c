/*
 * Pitfall 5 (vfork): the child shares the parent's memory and no fork
 * handler runs. It writes to the parent's traced socket, or closes it,
 * or dup2()s it onto stdout, then execs /bin/true or _exit()s. The
 * parent must go on with one complete trace of its own use.
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pit.h"

static const char	child_bytes[] = "vfork child bytes\n";

/* vfork write|close|dup2 */
int
main(int argc, char *argv[])
{
	struct sockaddr_in	sin;
	struct pit_log		l;
	char			buf[sizeof child_bytes];
	pid_t			pid;
	int			p, c, st, port, mode;

	pit_setprog("vfork");
	if (argc != 2)
		pit_die("usage: vfork write|close|dup2");
	mode = argv[1][0];
	port = pit_port();
	p = pit_connect(port);
	pit_log_init(&l, p);
	pit_echo(p, &l, 3000, 71, PIT_RW);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fflush(stdout);
	if ((pid = vfork()) == -1)
		pit_die("vfork");
	if (pid == 0) {
		if (mode == 'w') {
			/* A connection of its own, and the parent's socket. */
			c = socket(AF_INET, SOCK_STREAM, 0);
			if (c == -1 || connect(c, (struct sockaddr *)&sin,
			    sizeof sin) == -1 || write(c, "x", 1) != 1)
				_exit(2);
			(void)write(p, child_bytes, sizeof child_bytes - 1);
			_exit(0);
		} else if (mode == 'c') {
			(void)close(p);
		} else {
			(void)dup2(p, 1);
			(void)close(p);
		}
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		pit_die("waitpid");
	if (mode == 'w')
		pit_recv(p, buf, sizeof child_bytes - 1, PIT_RW, &l);
	printf("vfork %s: child exit status %d\n", argv[1],
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	fflush(stdout);
	pit_echo(p, &l, 2000, 72, PIT_SENDRECV);
	pit_drain(p, &l);
	close(p);
	pit_log_save(&l);
	printf("vfork %s: done\n", argv[1]);
	return (0);
}
