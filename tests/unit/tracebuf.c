/* Building protobuf trace bytes by hand, for tests. */

#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracebuf.h"

/* Make room for n more bytes, exactly; tests have no use for slack. */
static uint8_t *
tb_grow(struct tracebuf *tb, size_t n)
{
	uint8_t	*p;

	if ((p = realloc(tb->data, tb->len + n)) == NULL) {
		perror("tracebuf");
		abort();
	}
	tb->data = p;
	tb->len += n;
	return (p + tb->len - n);
}

/* Start with nothing. */
void
tb_init(struct tracebuf *tb)
{
	memset(tb, 0, sizeof *tb);
}

/* Release the bytes. */
void
tb_free(struct tracebuf *tb)
{
	free(tb->data);
	tb_init(tb);
}

/* Drop the last n bytes: a file cut short. */
void
tb_cut(struct tracebuf *tb, size_t n)
{
	uint8_t	*p;

	tb->len -= n < tb->len ? n : tb->len;
	if (tb->len > 0 && (p = realloc(tb->data, tb->len)) != NULL)
		tb->data = p;
}

/* Append bytes as they are. */
void
tb_raw(struct tracebuf *tb, const void *p, size_t n)
{
	if (n > 0)
		memcpy(tb_grow(tb, n), p, n);
}

/* Append a varint. */
void
tb_varint(struct tracebuf *tb, uint64_t v)
{
	while (v >= 0x80) {
		*tb_grow(tb, 1) = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*tb_grow(tb, 1) = (uint8_t)v;
}

/* Append a field's tag: its number and wire type. */
void
tb_tag(struct tracebuf *tb, uint32_t field, int type)
{
	tb_varint(tb, (uint64_t)field << 3 | (uint64_t)type);
}

/* Append a varint field. */
void
tb_uint(struct tracebuf *tb, uint32_t field, uint64_t v)
{
	tb_tag(tb, field, TB_VARINT);
	tb_varint(tb, v);
}

/* Append a length-delimited field holding n bytes. */
void
tb_bytes(struct tracebuf *tb, uint32_t field, const void *p, size_t n)
{
	tb_tag(tb, field, TB_LEN);
	tb_varint(tb, n);
	tb_raw(tb, p, n);
}

/* Append a string field. */
void
tb_string(struct tracebuf *tb, uint32_t field, const char *s)
{
	tb_bytes(tb, field, s, strlen(s));
}

/*
 * Open a nested message as field (TB_RECORD: a bare length prefix). One
 * byte is kept for its length, which tb_end() widens when needed.
 */
void
tb_begin(struct tracebuf *tb, uint32_t field)
{
	if (tb->depth == TB_DEPTH)
		abort();
	if (field != TB_RECORD)
		tb_tag(tb, field, TB_LEN);
	tb_grow(tb, 1);
	tb->open[tb->depth++] = tb->len;
}

/*
 * Close the innermost message; returns where its payload starts. That
 * offset holds while every enclosing message stays under 128 bytes.
 */
size_t
tb_end(struct tracebuf *tb)
{
	uint8_t	 tmp[10];
	size_t	 start, n, k = 0;
	uint64_t v;

	if (tb->depth == 0)
		abort();
	start = tb->open[--tb->depth];
	v = n = tb->len - start;
	do {
		tmp[k++] = (uint8_t)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
		v >>= 7;
	} while (v > 0);
	if (k > 1) {
		tb_grow(tb, k - 1);
		memmove(tb->data + start + k - 1, tb->data + start, n);
	}
	memcpy(tb->data + start - 1, tmp, k);
	return (start + k - 1);
}

/* Append a SocketEvent's timestamp (field 1); zero values left out. */
void
tb_timestamp(struct tracebuf *tb, int64_t sec, int32_t nsec)
{
	tb_begin(tb, 1);
	if (sec != 0)
		tb_uint(tb, 1, (uint64_t)sec);
	if (nsec != 0)
		tb_uint(tb, 2, (uint64_t)(int64_t)nsec);
	tb_end(tb);
}

/* Append a SocketEvent's read, write or closed, with an as_bytes body. */
void
tb_op(struct tracebuf *tb, uint32_t op, const void *data, size_t n)
{
	tb_begin(tb, op);
	if (op != TB_CLOSED && data != NULL) {
		tb_begin(tb, 1);
		tb_bytes(tb, 1, data, n);
		tb_end(tb);
	}
	tb_end(tb);
}

/* Append a whole SocketEvent as field: a timestamp and one operation. */
void
tb_event(struct tracebuf *tb, uint32_t field, int64_t sec, int32_t nsec,
    uint32_t op, const void *data, size_t n)
{
	tb_begin(tb, field);
	tb_timestamp(tb, sec, nsec);
	tb_op(tb, op, data, n);
	tb_end(tb);
}

/* Append an Address{socket_address{protocol, address, port_value}}. */
void
tb_inet(struct tracebuf *tb, uint32_t field, int proto, const char *host,
    uint32_t port)
{
	tb_begin(tb, field);
	tb_begin(tb, 1);
	if (proto != TB_TCP)
		tb_uint(tb, 1, (uint64_t)proto);
	tb_string(tb, 2, host);
	if (port != 0)
		tb_uint(tb, 3, port);
	tb_end(tb);
	tb_end(tb);
}

/* Append an Address{pipe{path}}. */
void
tb_pipe(struct tracebuf *tb, uint32_t field, const char *path)
{
	tb_begin(tb, field);
	tb_begin(tb, 2);
	tb_string(tb, 1, path);
	tb_end(tb);
	tb_end(tb);
}

/* Append a TCP Connection, current numbering (local 1, remote 2). */
void
tb_conn(struct tracebuf *tb, uint32_t field, const char *lhost,
    uint32_t lport, const char *rhost, uint32_t rport)
{
	tb_begin(tb, field);
	if (lhost != NULL)
		tb_inet(tb, 1, TB_TCP, lhost, lport);
	if (rhost != NULL)
		tb_inet(tb, 2, TB_TCP, rhost, rport);
	tb_end(tb);
}

/* Append a TCP Connection, Envoy <= 1.27 numbering (id 1, local 2, remote 3). */
void
tb_conn_old(struct tracebuf *tb, uint32_t field, uint64_t id,
    const char *lhost, uint32_t lport, const char *rhost, uint32_t rport)
{
	tb_begin(tb, field);
	tb_uint(tb, 1, id);
	if (lhost != NULL)
		tb_inet(tb, 2, TB_TCP, lhost, lport);
	if (rhost != NULL)
		tb_inet(tb, 3, TB_TCP, rhost, rport);
	tb_end(tb);
}

/* Save the bytes to path; 0, or -1 with errno set. */
int
tb_write_file(const struct tracebuf *tb, const char *path)
{
	size_t	done = 0;
	ssize_t	r;
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		return (-1);
	while (done < tb->len) {
		if ((r = write(fd, tb->data + done, tb->len - done)) == -1) {
			close(fd);
			return (-1);
		}
		done += (size_t)r;
	}
	return (close(fd));
}
