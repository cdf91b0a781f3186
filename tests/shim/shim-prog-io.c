/* shim-prog's messages: made, sent and received with each hooked call. */

#include "config.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim-prog.h"

/* The fortified entry points (_FORTIFY_SOURCE), called as such. */
ssize_t	__read_chk(int, void *, size_t, size_t);
ssize_t	__recv_chk(int, void *, size_t, size_t, int);
ssize_t	__recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *,
	    socklen_t *);

static const char *const call_names[] = {
	"write", "send", "sendto", "sendmsg", "writev", "sendmmsg", "sendfile",
	"read", "recv", "recvfrom", "recvmsg", "readv", "recvmmsg",
	"__read_chk", "__recv_chk", "__recvfrom_chk", "recv(MSG_PEEK)"
};

static uint8_t		 inbuf[PROG_MAXMSG];
static int		 sendfile_fd = -1;
static pid_t		 sendfile_pid;

/* Message `step` of connection `conn` of a family: its exact bytes. */
void
msg_make(uint8_t *buf, size_t len, const char *fam, int conn, size_t step,
    int from_client)
{
	char		head[64];
	uint32_t	x = 2166136261u;
	size_t		i;
	int		n;

	for (i = 0; fam[i] != '\0'; i++)
		x = (x ^ (uint8_t)fam[i]) * 16777619u;
	x ^= (uint32_t)(conn * 1000 + (int)step * 2 + from_client) * 2654435761u;
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)(x >> 11);
	}
	/* A readable start, for whoever reads a capture. */
	n = snprintf(head, sizeof head, "<%s %d.%zu %s> ", fam, conn, step,
	    from_client ? "c2s" : "s2c");
	memcpy(buf, head, (size_t)n < len ? (size_t)n : len);
}

/* Cut buf into n pieces, the first never empty: an iovec array. */
static int
iov_split(struct iovec *iov, uint8_t *buf, size_t len, int n)
{
	size_t	at = 0;
	int	i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = buf + at;
		iov[i].iov_len = len / (size_t)n;
		if (i == 0)
			iov[i].iov_len = len - (size_t)(n - 1) * (len / (size_t)n);
		at += iov[i].iov_len;
	}
	return (n);
}

/* Two messages of a batch over iov (two pieces each when sending). */
static void
mmsg_split(struct mmsghdr *mm, struct iovec *iov, uint8_t *buf, size_t len,
    int pieces)
{
	int	i;

	memset(mm, 0, 2 * sizeof *mm);
	iov_split(iov, buf, len, 2 * pieces);
	for (i = 0; i < 2; i++) {
		mm[i].msg_hdr.msg_iov = iov + i * pieces;
		mm[i].msg_hdr.msg_iovlen = (size_t)pieces;
	}
}

/* The bytes a batch call moved: -1 for an error, as other calls. */
static ssize_t
mmsg_total(const struct mmsghdr *mm, int r)
{
	ssize_t	n = 0;
	int	i;

	for (i = 0; i < r; i++)
		n += (ssize_t)mm[i].msg_len;
	return (r < 0 ? -1 : n);
}

/*
 * sendfile from a file of this process's own (the shim reads the range
 * back after the call, so the other side must not rewrite it then). The
 * client names the offset; the server uses the file's position.
 */
static ssize_t
send_file(const struct side *s, int fd, const uint8_t *buf, size_t len)
{
	FILE	*f;
	off_t	 off = 0;

	if (sendfile_fd == -1 || sendfile_pid != getpid()) {
		if ((f = tmpfile()) == NULL)
			return (-1);
		sendfile_fd = fileno(f);
		sendfile_pid = getpid();
	}
	if (pwrite(sendfile_fd, buf, len, 0) != (ssize_t)len ||
	    lseek(sendfile_fd, 0, SEEK_SET) == -1)
		return (-1);
	return (sendfile(fd, sendfile_fd, s->client ? &off : NULL, len));
}

/* One sending call of kind how. */
static ssize_t
send_once(const struct side *s, int fd, enum call how, uint8_t *buf,
    size_t len)
{
	struct mmsghdr	mm[2];
	struct iovec	iov[4];
	struct msghdr	m;

	memset(&m, 0, sizeof m);
	switch (how) {
	case CALL_WRITE:
		return (write(fd, buf, len));
	case CALL_SEND:
		return (send(fd, buf, len, 0));
	case CALL_SENDTO:
		return (sendto(fd, buf, len, 0, NULL, 0));
	case CALL_SENDMSG:
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)iov_split(iov, buf, len, 3);
		return (sendmsg(fd, &m, 0));
	case CALL_WRITEV:
		return (writev(fd, iov, iov_split(iov, buf, len, 3)));
	case CALL_SENDMMSG:
		mmsg_split(mm, iov, buf, len, 2);
		return (mmsg_total(mm, sendmmsg(fd, mm, 2, 0)));
	case CALL_SENDFILE:
		return (send_file(s, fd, buf, len));
	default:
		errno = EINVAL;
		return (-1);
	}
}

/* One receiving call of kind how (after a peek: a plain recv). */
static ssize_t
recv_once(int fd, enum call how, uint8_t *buf, size_t len)
{
	struct sockaddr_storage	ss;
	struct mmsghdr		mm[2];
	struct iovec		iov[2];
	struct msghdr		m;
	socklen_t		sl = sizeof ss;

	memset(&m, 0, sizeof m);
	switch (how) {
	case CALL_READ:
		return (read(fd, buf, len));
	case CALL_RECV:
	case CALL_PEEK:
		return (recv(fd, buf, len, 0));
	case CALL_RECVFROM:
		return (recvfrom(fd, buf, len, 0, (struct sockaddr *)&ss, &sl));
	case CALL_RECVMSG:
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)iov_split(iov, buf, len, 2);
		return (recvmsg(fd, &m, 0));
	case CALL_READV:
		return (readv(fd, iov, iov_split(iov, buf, len, 2)));
	case CALL_RECVMMSG:
		mmsg_split(mm, iov, buf, len, 1);
		return (mmsg_total(mm, recvmmsg(fd, mm, 2, MSG_WAITFORONE,
		    NULL)));
	case CALL_READ_CHK:
		return (__read_chk(fd, buf, len, len));
	case CALL_RECV_CHK:
		return (__recv_chk(fd, buf, len, len, 0));
	case CALL_RECVFROM_CHK:
		return (__recvfrom_chk(fd, buf, len, len, 0,
		    (struct sockaddr *)&ss, &sl));
	default:
		errno = EINVAL;
		return (-1);
	}
}

/* Send all of a message, again after a short count; keep what went. */
int
msg_send(struct side *s, int fd, enum call how, uint8_t *buf, size_t len)
{
	size_t	off = 0;
	ssize_t	r;

	while (off < len) {
		r = send_once(s, fd, how, buf + off, len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (fail(s, call_names[how], r == 0 ? 0 : errno));
		if (fwrite(buf + off, 1, (size_t)r, s->sent) != (size_t)r)
			return (fail(s, "recording what was sent", errno));
		off += (size_t)r;
		s->nsent += (size_t)r;
	}
	return (0);
}

/* Receive a whole message, however the kernel cuts it, and check it. */
int
msg_recv(struct side *s, int fd, enum call how, const uint8_t *want,
    size_t len)
{
	size_t	got = 0;
	ssize_t	r;

	/* A peek shows the first bytes and consumes nothing. */
	if (how == CALL_PEEK) {
		while ((r = recv(fd, inbuf, len, MSG_PEEK)) == -1 &&
		    errno == EINTR)
			;
		if (r <= 0)
			return (fail(s, "recv(MSG_PEEK)", r == 0 ? 0 : errno));
		if (memcmp(inbuf, want, (size_t)r) != 0)
			return (fail(s, "recv(MSG_PEEK) saw other bytes", 0));
	}
	while (got < len) {
		r = recv_once(fd, how, inbuf + got, len - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (fail(s, r == 0 ? "early end of file" :
			    call_names[how], r == 0 ? 0 : errno));
		got += (size_t)r;
	}
	s->nrecv += len;
	if (memcmp(inbuf, want, len) != 0)
		return (fail(s, "received other bytes than were sent", 0));
	return (0);
}

/* A read call (how) returns 0: the peer shut its direction down. */
int
side_eof(struct side *s, int fd, enum call how)
{
	ssize_t	r;

	while ((r = recv_once(fd, how, inbuf, sizeof inbuf)) == -1 &&
	    errno == EINTR)
		;
	if (r == 0)
		return (0);
	return (fail(s, r > 0 ? "data where end of file was expected" :
	    "read at end of file", r > 0 ? 0 : errno));
}
