/* TLS metadata, and its encoding as a Connection's tls field. */
#ifndef TAPSHIM_TLSMETA_H
#define TAPSHIM_TLSMETA_H

#include <stdint.h>

#include "encode.h"

#define TLSMETA_CERTS	8

enum tlsmeta_data {
	TLSMETA_PLAINTEXT = 1,
	TLSMETA_CIPHERTEXT = 2
};

struct tlsmeta_cert {
	char	subject[256];
	char	issuer[256];
	int64_t	not_before;		/* seconds; valid when has_times */
	int64_t	not_after;
	int	has_times;
	int	ca;
};

/* Everything is optional: empty strings and zero times are left out. */
struct tlsmeta {
	char			library[64];
	char			version[32];
	char			cipher[64];
	char			sni[256];
	char			alpn[64];
	int			resumed;
	int64_t			begin;		/* ns */
	int64_t			end;		/* ns; 0 when it failed */
	char			error[160];
	enum tlsmeta_data	data;
	int			ncerts;
	struct tlsmeta_cert	certs[TLSMETA_CERTS];
};

int	tlsmeta_encode(struct enc_buf *, enum conf_format, uint64_t,
	    const void *);

#endif
