/* UDP datagrams: each one event, whole, with its peer address. */
#ifndef TAPSHIM_DGRAM_H
#define TAPSHIM_DGRAM_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "encode.h"

/* Bytes of a datagram spread over several iovecs gathered on the stack. */
#define DGRAM_GATHER	8192

struct conn;

void	dgram_record(struct conn *, enum enc_kind, const struct iovec *,
	    size_t, size_t, const struct sockaddr *, socklen_t);

#endif
