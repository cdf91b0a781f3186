/* The shim's configuration, read from TAPSHIM_ environment variables. */
#ifndef TAPSHIM_CONF_H
#define TAPSHIM_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_ERRBUF_SIZE	256
#define CONF_UNLIMITED	UINT64_MAX

enum conf_format {
	CONF_FORMAT_BINARY,		/* PROTO_BINARY: <prefix>_<N>.pb */
	CONF_FORMAT_DELIMITED		/* PROTO_BINARY_LENGTH_DELIMITED */
};

struct conf {
	char			prefix[PATH_MAX];	/* absolute */
	enum conf_format	format;
	uint64_t		max_rx;		/* bytes of reads kept */
	uint64_t		max_tx;		/* bytes of writes kept */
	int			debug;
};

typedef const char *(*conf_getenv_fn)(const char *);

int		 conf_read(struct conf *, conf_getenv_fn, char *);
const char	*conf_extension(enum conf_format);

#endif
