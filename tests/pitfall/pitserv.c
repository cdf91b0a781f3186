/* An echo server on 127.0.0.1 for the pitfall tests; it stops by itself. */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pit.h"

static void	*serv_conn(void *);
static void	 serv_port_file(const char *, int);

static int	serv_active;		/* connections being served; atomic */

/* Echo everything back until end of file, then close. */
static void *
serv_conn(void *arg)
{
	unsigned char	buf[65536];
	ssize_t		r, w, off;
	int		fd = (int)(long)arg;

	for (;;) {
		r = read(fd, buf, sizeof buf);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (off = 0; off < r; off += w) {
			w = write(fd, buf + off, (size_t)(r - off));
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				goto out;
		}
	}
out:
	close(fd);
	__atomic_sub_fetch(&serv_active, 1, __ATOMIC_ACQ_REL);
	return (NULL);
}

/* Tell the port through a file, made whole by rename(). */
static void
serv_port_file(const char *path, int port)
{
	char	tmp[4096];
	FILE	*f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		pit_die("%s", tmp);
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) == -1)
		pit_die("%s", path);
}

/*
 * pitserv PORTFILE [SECONDS [MAXCONN]]: listen on a free port and echo;
 * after MAXCONN connections are served, exit normally (a traced server
 * then writes out its traces), and after SECONDS in any case.
 */
int
main(int argc, char *argv[])
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	pthread_attr_t		attr;
	pthread_t		t;
	struct timespec		ms = { 0, 1000000 };
	long			max, n;
	int			ls, fd, one = 1;

	pit_setprog("pitserv");
	if (argc < 2)
		pit_die("usage: pitserv PORTFILE [SECONDS [MAXCONN]]");
	max = argc > 3 ? atol(argv[3]) : -1;
	signal(SIGPIPE, SIG_IGN);
	/* Never outlive the test, whatever happens to the script. */
	alarm(argc > 2 ? (unsigned int)atoi(argv[2]) : 120);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		pit_die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(ls, 512) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1)
		pit_die("bind/listen");
	serv_port_file(argv[1], ntohs(sin.sin_port));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (n = 0; max < 0 || n < max;) {
		if ((fd = accept(ls, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			pit_die("accept");
		}
		n++;
		__atomic_add_fetch(&serv_active, 1, __ATOMIC_ACQ_REL);
		if (pthread_create(&t, &attr, serv_conn, (void *)(long)fd) != 0)
			pit_die("pthread_create");
	}
	while (__atomic_load_n(&serv_active, __ATOMIC_ACQUIRE) > 0)
		nanosleep(&ms, NULL);
	return (0);
}
