/* What tests/shim-prog.c and shim-prog-io.c share: calls, sides, messages. */

#ifndef SHIM_PROG_H
#define SHIM_PROG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROG_MAXMSG	(128 * 1024)

enum call {
	CALL_WRITE, CALL_SEND, CALL_SENDTO, CALL_SENDMSG, CALL_WRITEV,
	CALL_SENDMMSG, CALL_SENDFILE,
	CALL_READ, CALL_RECV, CALL_RECVFROM, CALL_RECVMSG, CALL_READV,
	CALL_RECVMMSG, CALL_READ_CHK, CALL_RECV_CHK, CALL_RECVFROM_CHK,
	CALL_PEEK		/* recv(MSG_PEEK), then recv until complete */
};

/* Each side's fds for one connection: the socket and its copies. */
enum slot { FD_MAIN, FD_DUP, FD_DUP2, FD_DUP3, FD_FCNTL, FD_SLOTS };

/* One end of one connection. */
struct side {
	const char	*fam;
	int		 client;
	int		 conn;		/* 1: accept4()'s, 2: accept()'s */
	int		 fd[FD_SLOTS];
	FILE		*sent;		/* the bytes this side sent */
	size_t		 nsent, nrecv;
};

int	fail(const struct side *, const char *, int);
void	msg_make(uint8_t *, size_t, const char *, int, size_t, int);
int	msg_send(struct side *, int, enum call, uint8_t *, size_t);
int	msg_recv(struct side *, int, enum call, const uint8_t *, size_t);
int	side_eof(struct side *, int, enum call);

#endif
