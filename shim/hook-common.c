/* What the hook files share: recording helpers around conn.c. */

#include "config.h"

#include <errno.h>

#include "conn.h"
#include "hook.h"

/* Record r > 0 bytes moved on fd; errno is kept. */
void
hook_data(int fd, enum enc_kind kind, const void *buf, ssize_t r, int eos)
{
	struct conn	*c;
	int		 saved = errno;

	if (r > 0 && (c = conn_get(fd)) != NULL) {
		conn_record(c, kind, buf, (size_t)r, eos);
		conn_put(c);
	}
	errno = saved;
}

/* Record the r bytes an iovec call moved, piece by piece. */
void
hook_iov(int fd, enum enc_kind kind, const struct iovec *iov, size_t cnt,
    ssize_t r, int eos)
{
	struct conn	*c;
	size_t		 i, n, left;
	int		 saved = errno;

	if (r <= 0 || (c = conn_get(fd)) == NULL) {
		errno = saved;
		return;
	}
	left = (size_t)r;
	for (i = 0; i < cnt && left > 0; i++) {
		n = iov[i].iov_len < left ? iov[i].iov_len : left;
		if (n > 0)
			conn_record(c, kind, iov[i].iov_base, n, eos &&
			    n == left);
		left -= n;
	}
	conn_put(c);
	errno = saved;
}

/* fd read end of file: the peer shut its direction. */
void
hook_eof(int fd)
{
	struct conn	*c;
	int		 saved = errno;

	if ((c = conn_get(fd)) != NULL) {
		conn_record(c, ENC_READ, NULL, 0, 1);
		conn_put(c);
	}
	errno = saved;
}

/* A call on fd failed with err: a reset is worth noting. */
void
hook_error(int fd, int err)
{
	struct conn	*c;

	if (err == ECONNRESET && (c = conn_get(fd)) != NULL) {
		conn_note_reset(c);
		conn_put(c);
	}
	errno = err;
}
