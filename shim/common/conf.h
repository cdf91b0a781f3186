/* The shim's configuration, read from TAPSHIM_ environment variables. */
#ifndef TAPSHIM_CONF_H
#define TAPSHIM_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf.h"

#define CONF_ERRBUF_SIZE	256
#define CONF_UNLIMITED	UINT64_MAX

enum conf_format {
	CONF_FORMAT_BINARY,		/* PROTO_BINARY: <prefix>_<N>.pb */
	CONF_FORMAT_DELIMITED		/* PROTO_BINARY_LENGTH_DELIMITED */
};

/* TAPSHIM_TLS: what a TLS connection's trace carries. */
enum conf_tls {
	CONF_TLS_PLAINTEXT,
	CONF_TLS_CIPHERTEXT,
	CONF_TLS_BOTH			/* two traces */
};

/* TAPSHIM_BACKTRACE: where call sites are taken. */
enum conf_backtrace {
	CONF_BT_OFF,			/* the default */
	CONF_BT_CONNECT,		/* at connect */
	CONF_BT_ALL			/* at connect and accept */
};

struct conf {
	char			prefix[PATH_MAX];	/* absolute */
	/* Where a process that may not create files at prefix makes its
	 * traces instead (the launcher's, for servers that drop
	 * privileges); "" for none. */
	char			fallback[PATH_MAX];
	enum conf_format	format;
	uint64_t		max_rx;		/* bytes of reads kept */
	uint64_t		max_tx;		/* bytes of writes kept */
	int			debug;
	enum conf_tls		tls;
	char			keylog[PATH_MAX];	/* "" when off */
	enum conf_backtrace	backtrace;
	int			has_filter;	/* TAPSHIM_FILTER set */
	struct bpf_prog		filter;		/* tcpdump -ddd's program */
	char			run[PATH_MAX];	/* TAPSHIM_RUN, "" if none */
	char			log[PATH_MAX];	/* TAPSHIM_LOG, "" if none */
	/* TAPSHIM_COLLECTOR: the launcher's abstract socket; "" for
	 * direct mode (each process writes its own trace files). */
	char			collector[100];
};

typedef const char *(*conf_getenv_fn)(const char *);

int		 conf_read(struct conf *, conf_getenv_fn, char *);
const char	*conf_extension(enum conf_format);

#endif
