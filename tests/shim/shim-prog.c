/* The program of tests/shim-prog.sh: every hooked socket call, each family. */

/*
 * shim-prog OUTDIR SOCKPATH
 *
 * For IPv4 (127.0.0.1), IPv6 (::1) and AF_UNIX (a stream socket at
 * SOCKPATH), the parent as client and a forked server move distinct,
 * deterministic messages both ways over two connections. The first,
 * taken by accept4(), uses every data call the shim hooks (the table
 * conn1_steps), part of it through dup(), dup2(), dup3() and
 * fcntl(F_DUPFD_CLOEXEC) copies, the client's original fd closed; then
 * the client shuts down writing, the server reads end of file, sends a
 * last message and shuts down too; close_range() and close() end it. The
 * second, taken by accept(), is a message each way, the server closing
 * first and the client reading end of file with recvmmsg(). Each side
 * writes the bytes it sent to OUTDIR/FAMILY[-accept].c2s
 * (client) or .s2c (server), and the client its address to .client.
 * Every message is checked on arrival; the exit status is 1 if any call
 * misbehaved. stdout is the same with and without the shim.
 */

#include "config.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim-prog.h"

/* A hung call must not hang make check: each process dies after this. */
#define PROG_TIMEOUT	30
/* Where the copies go: numbers the program does not otherwise use. */
#define PROG_DUP2_FD	50
#define PROG_DUP3_FD	55
#define PROG_FCNTL_MIN	60

/* One message: who sends it, with which calls, on which fds, how long. */
struct step {
	int		 from_client;
	enum call	 send, recv;
	enum slot	 cfd, sfd;	/* the client's fd, the server's */
	size_t		 len;
};

/* The first connection; the copies are made before step DUP_STEP. */
#define DUP_STEP	10
static const struct step conn1_steps[] = {
	{ 1, CALL_WRITE, CALL_READ, FD_MAIN, FD_MAIN, 1000 },
	{ 0, CALL_WRITE, CALL_READ, FD_MAIN, FD_MAIN, 70000 },
	{ 1, CALL_SEND, CALL_RECV, FD_MAIN, FD_MAIN, 5000 },
	{ 0, CALL_SEND, CALL_RECV, FD_MAIN, FD_MAIN, 3000 },
	{ 1, CALL_SENDTO, CALL_RECVFROM, FD_MAIN, FD_MAIN, 2000 },
	{ 0, CALL_SENDTO, CALL_RECVFROM, FD_MAIN, FD_MAIN, 100000 },
	{ 1, CALL_SENDMSG, CALL_RECVMSG, FD_MAIN, FD_MAIN, 9001 },
	{ 0, CALL_SENDMSG, CALL_RECVMSG, FD_MAIN, FD_MAIN, 20000 },
	{ 1, CALL_WRITEV, CALL_READV, FD_MAIN, FD_MAIN, 40000 },
	{ 0, CALL_WRITEV, CALL_READV, FD_MAIN, FD_MAIN, 333 },
	/* DUP_STEP: the client has closed FD_MAIN. */
	{ 1, CALL_WRITE, CALL_READ, FD_DUP, FD_DUP2, 777 },
	{ 0, CALL_WRITE, CALL_READ, FD_DUP2, FD_DUP, 888 },
	{ 1, CALL_SEND, CALL_RECV, FD_DUP2, FD_FCNTL, 4096 },
	{ 0, CALL_SEND, CALL_RECV, FD_FCNTL, FD_DUP2, 4097 },
	{ 1, CALL_SENDMMSG, CALL_RECVMMSG, FD_DUP3, FD_DUP3, 6000 },
	{ 0, CALL_SENDMMSG, CALL_RECVMMSG, FD_DUP3, FD_DUP3, 9000 },
	{ 1, CALL_SENDFILE, CALL_READ_CHK, FD_DUP3, FD_FCNTL, 3333 },
	{ 0, CALL_SENDFILE, CALL_READ_CHK, FD_DUP, FD_DUP3, 50000 },
	{ 1, CALL_WRITE, CALL_RECV_CHK, FD_DUP, FD_MAIN, 1234 },
	{ 0, CALL_WRITE, CALL_RECVFROM_CHK, FD_FCNTL, FD_FCNTL, 4321 },
	{ 1, CALL_WRITE, CALL_PEEK, FD_FCNTL, FD_MAIN, 1500 },
	{ 0, CALL_WRITE, CALL_PEEK, FD_FCNTL, FD_FCNTL, 1501 },
	/* The client shuts down writing; the server reads EOF, then: */
	{ 0, CALL_WRITEV, CALL_READ, FD_FCNTL, FD_MAIN, 2222 }
};
#define CONN1_STEPS	(sizeof conn1_steps / sizeof conn1_steps[0])

static const struct step conn2_steps[] = {
	{ 1, CALL_SEND, CALL_READ, FD_MAIN, FD_MAIN, 300 },
	{ 0, CALL_WRITE, CALL_RECV, FD_MAIN, FD_MAIN, 400 }
};
#define CONN2_STEPS	(sizeof conn2_steps / sizeof conn2_steps[0])

static const char	*outdir;
static uint8_t		 msgbuf[PROG_MAXMSG];

/* Say what went wrong, as "shim-prog: ipv4 client 1: ..."; -1. */
int
fail(const struct side *s, const char *what, int err)
{
	fprintf(stderr, "shim-prog: %s %s %d: %s%s%s\n", s->fam,
	    s->client ? "client" : "server", s->conn, what, err ? ": " : "",
	    err ? strerror(err) : "");
	return (-1);
}

/* This side's part in one step: send or receive. */
static int
step_run(struct side *s, const struct step *st, size_t i)
{
	int	fd = s->fd[s->client ? st->cfd : st->sfd];

	msg_make(msgbuf, st->len, s->fam, s->conn, i, st->from_client);
	if (st->from_client == s->client)
		return (msg_send(s, fd, st->send, msgbuf, st->len));
	return (msg_recv(s, fd, st->recv, msgbuf, st->len));
}

/* The copies; the client goes on with them only. */
static int
side_dup(struct side *s)
{
	int	fd = s->fd[FD_MAIN];

	if ((s->fd[FD_DUP] = dup(fd)) == -1)
		return (fail(s, "dup", errno));
	if ((s->fd[FD_DUP2] = dup2(fd, PROG_DUP2_FD)) != PROG_DUP2_FD)
		return (fail(s, "dup2", errno));
	if ((s->fd[FD_DUP3] = dup3(fd, PROG_DUP3_FD, O_CLOEXEC)) == -1)
		return (fail(s, "dup3", errno));
	if ((s->fd[FD_FCNTL] = fcntl(fd, F_DUPFD_CLOEXEC, PROG_FCNTL_MIN)) ==
	    -1)
		return (fail(s, "fcntl(F_DUPFD_CLOEXEC)", errno));
	if (s->client) {
		s->fd[FD_MAIN] = -1;
		if (close(fd) == -1)
			return (fail(s, "close", errno));
	}
	return (0);
}

/*
 * Close every fd of the side still open: the server's high copies at
 * once with close_range() (nothing else of the child's is there).
 */
static int
side_close(struct side *s)
{
	int	i, rc = 0;

	if (!s->client && s->fd[FD_FCNTL] != -1) {
		if (close_range(PROG_DUP2_FD, (unsigned int)s->fd[FD_FCNTL],
		    0) == -1)
			rc = fail(s, "close_range", errno);
		s->fd[FD_DUP2] = s->fd[FD_DUP3] = s->fd[FD_FCNTL] = -1;
	}
	for (i = FD_SLOTS - 1; i >= 0; i--) {
		if (s->fd[i] != -1 && close(s->fd[i]) == -1)
			rc = fail(s, "close", errno);
		s->fd[i] = -1;
	}
	return (rc);
}

/* The first connection, from either end: the steps, the half-closes. */
static int
conn1_run(struct side *s)
{
	size_t	i;
	int	fd;

	for (i = 0; i < CONN1_STEPS; i++) {
		if (i == DUP_STEP && side_dup(s) == -1)
			return (-1);
		fd = s->fd[s->client ? FD_FCNTL : FD_MAIN];
		if (i == CONN1_STEPS - 1 && s->client &&
		    shutdown(fd, SHUT_WR) == -1)
			return (fail(s, "shutdown", errno));
		if (i == CONN1_STEPS - 1 && !s->client &&
		    side_eof(s, fd, CALL_READ) == -1)
			return (-1);
		if (step_run(s, &conn1_steps[i], i) == -1)
			return (-1);
	}
	if (!s->client && shutdown(fd, SHUT_WR) == -1)
		return (fail(s, "shutdown", errno));
	if (s->client && side_eof(s, fd, CALL_READ) == -1)
		return (-1);
	return (side_close(s));
}

/*
 * The second connection: a message each way; the server closes first,
 * the client sees it with recvmmsg (a message of length 0).
 */
static int
conn2_run(struct side *s)
{
	size_t	i;

	for (i = 0; i < CONN2_STEPS; i++) {
		if (step_run(s, &conn2_steps[i], i) == -1)
			return (-1);
	}
	if (s->client && side_eof(s, s->fd[FD_MAIN], CALL_RECVMMSG) == -1)
		return (-1);
	return (side_close(s));
}

/* OUTDIR/FAMILY[-accept].EXT, opened for writing. */
static FILE *
out_open(const char *fam, int conn, const char *ext)
{
	char	path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s%s.%s", outdir, fam,
	    conn == 2 ? "-accept" : "", ext);
	if ((f = fopen(path, "w")) == NULL)
		fprintf(stderr, "shim-prog: %s: %s\n", path, strerror(errno));
	return (f);
}

/* Run connection conn from one end, on a connected fd. */
static int
side_run(const char *fam, int client, int conn, int fd, size_t *nsent,
    size_t *nrecv)
{
	struct side	s;
	int		i, rc;

	memset(&s, 0, sizeof s);
	s.fam = fam;
	s.client = client;
	s.conn = conn;
	s.fd[FD_MAIN] = fd;
	for (i = 1; i < FD_SLOTS; i++)
		s.fd[i] = -1;
	if ((s.sent = out_open(fam, conn, client ? "c2s" : "s2c")) == NULL)
		return (-1);
	rc = conn == 1 ? conn1_run(&s) : conn2_run(&s);
	if (fclose(s.sent) == EOF && rc == 0)
		rc = fail(&s, "recording what was sent", errno);
	*nsent += s.nsent;
	*nrecv += s.nrecv;
	return (rc);
}

/* The server, in the child: accept4() then accept(), one at a time. */
static int
serve(const char *fam, int lfd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;
	size_t			n = 0;
	int			fd;

	alarm(PROG_TIMEOUT);
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		perror("shim-prog: accept4");
		return (1);
	}
	if (side_run(fam, 0, 1, fd, &n, &n) == -1)
		return (1);
	if ((fd = accept(lfd, (struct sockaddr *)&ss, &len)) == -1) {
		perror("shim-prog: accept");
		return (1);
	}
	if (side_run(fam, 0, 2, fd, &n, &n) == -1)
		return (1);
	return (close(lfd) == -1);
}

/* Write the client's address ("127.0.0.1:PORT", "[::1]:PORT", "unix"). */
static int
client_name(const char *fam, int conn, int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	char			 host[INET6_ADDRSTRLEN], port[8];
	FILE			*f;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (f = out_open(fam, conn, "client")) == NULL)
		return (-1);
	if (ss.ss_family == AF_UNIX)
		fprintf(f, "unix\n");
	else if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof host,
	    port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		fprintf(f, ss.ss_family == AF_INET6 ? "[%s]:%s\n" : "%s:%s\n",
		    host, port);
	return (fclose(f) == EOF ? -1 : 0);
}

/* The client's end of connection conn. */
static int
client_run(const char *fam, int conn, const struct sockaddr_storage *ss,
    socklen_t len, size_t *nsent, size_t *nrecv)
{
	int	fd;

	if ((fd = socket(ss->ss_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (const struct sockaddr *)ss, len) == -1) {
		fprintf(stderr, "shim-prog: %s client %d: connect: %s\n", fam,
		    conn, strerror(errno));
		return (-1);
	}
	if (client_name(fam, conn, fd) == -1)
		return (-1);
	return (side_run(fam, 1, conn, fd, nsent, nrecv));
}

/* A listening socket for a family; -2 if the system has no such family. */
static int
listen_on(const char *fam, const char *path, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_un	*un = (struct sockaddr_un *)ss;
	int			 fd;

	memset(ss, 0, sizeof *ss);
	if (strcmp(fam, "ipv4") == 0) {
		a4->sin_family = AF_INET;
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof *a4;
	} else if (strcmp(fam, "ipv6") == 0) {
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		*len = sizeof *a6;
	} else {
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof un->sun_path, "%s", path);
		*len = sizeof *un;
		(void)unlink(path);
	}
	if ((fd = socket(ss->ss_family, SOCK_STREAM, 0)) == -1)
		return (errno == EAFNOSUPPORT ? -2 : -1);
	if (bind(fd, (struct sockaddr *)ss, *len) == -1 || listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)ss, len) == -1) {
		close(fd);
		return (errno == EADDRNOTAVAIL ? -2 : -1);
	}
	return (fd);
}

/* Wait for the server; 0 if it exited with status 0. */
static int
server_wait(const char *fam, pid_t pid)
{
	int	st;

	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			perror("shim-prog: waitpid");
			return (-1);
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return (0);
	fprintf(stderr, "shim-prog: %s server: %s %d\n", fam,
	    WIFEXITED(st) ? "exit status" : "killed by signal",
	    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return (-1);
}

/* Both connections of one family; 0 if every call behaved. */
static int
family_run(const char *fam, const char *path)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	size_t			nsent = 0, nrecv = 0;
	pid_t			pid;
	int			lfd, rc;

	if ((lfd = listen_on(fam, path, &ss, &len)) == -2) {
		printf("%s: not available here\n", fam);
		return (0);
	}
	if (lfd == -1) {
		fprintf(stderr, "shim-prog: %s: listen: %s\n", fam,
		    strerror(errno));
		return (-1);
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("shim-prog: fork");
		return (-1);
	}
	if (pid == 0)
		exit(serve(fam, lfd));
	close(lfd);
	rc = client_run(fam, 1, &ss, len, &nsent, &nrecv);
	if (rc == 0)
		rc = client_run(fam, 2, &ss, len, &nsent, &nrecv);
	if (server_wait(fam, pid) == -1)
		rc = -1;
	if (rc == 0)
		printf("%s: 2 connections, client sent %zu bytes, received "
		    "%zu\n", fam, nsent, nrecv);
	return (rc);
}

int
main(int argc, char **argv)
{
	static const char *const fams[] = { "ipv4", "ipv6", "unix" };
	size_t	i;
	int	rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: shim-prog OUTDIR SOCKPATH\n");
		return (2);
	}
	outdir = argv[1];
	alarm(PROG_TIMEOUT);
	for (i = 0; i < sizeof fams / sizeof fams[0]; i++) {
		if (family_run(fams[i], argv[2]) == -1)
			rc = 1;
	}
	return (rc);
}
