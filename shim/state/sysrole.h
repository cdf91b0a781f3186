/* A socket's role from what the system knows: its listeners, its ports. */
#ifndef TAPSHIM_SYSROLE_H
#define TAPSHIM_SYSROLE_H

#include <sys/socket.h>

#include "encode.h"

enum enc_role	sysrole_guess(const struct sockaddr_storage *,
		    const struct sockaddr_storage *);
enum enc_role	sysrole_guess_udp(const struct sockaddr_storage *,
		    const struct sockaddr_storage *, socklen_t);

#endif
