/* The shim's configuration, read from TAPSHIM_ environment variables. */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"

/* Envoy's OutputSink.Format names, and short ones. */
static const struct {
	const char		*name;
	int			 ok;
	enum conf_format	 format;
} conf_formats[] = {
	{ "PROTO_BINARY", 1, CONF_FORMAT_BINARY },
	{ "pb", 1, CONF_FORMAT_BINARY },
	{ "binary", 1, CONF_FORMAT_BINARY },
	{ "PROTO_BINARY_LENGTH_DELIMITED", 1, CONF_FORMAT_DELIMITED },
	{ "pb_length_delimited", 1, CONF_FORMAT_DELIMITED },
	{ "ld", 1, CONF_FORMAT_DELIMITED },
	{ "delimited", 1, CONF_FORMAT_DELIMITED },
	{ "PROTO_TEXT", 0, CONF_FORMAT_BINARY },
	{ "JSON_BODY_AS_BYTES", 0, CONF_FORMAT_BINARY },
	{ "JSON_BODY_AS_STRING", 0, CONF_FORMAT_BINARY }
};

static int	conf_fail(char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Say what is wrong into errbuf; return -1. */
static int
conf_fail(char *errbuf, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, CONF_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
	return (-1);
}

/* TAPSHIM_PATH_PREFIX, made absolute against the working directory now. */
static int
conf_prefix(struct conf *c, const char *v, char *errbuf)
{
	size_t	n;

	if (v == NULL)
		v = "./tap";
	if (*v == '\0' || v[strlen(v) - 1] == '/')
		return (conf_fail(errbuf, "TAPSHIM_PATH_PREFIX: \"%s\" names "
		    "no file prefix (for example /tmp/trace)", v));
	if (*v == '/') {
		n = (size_t)snprintf(c->prefix, sizeof c->prefix, "%s", v);
	} else {
		if (getcwd(c->prefix, sizeof c->prefix) == NULL)
			return (conf_fail(errbuf, "TAPSHIM_PATH_PREFIX: cannot "
			    "make \"%s\" absolute: no working directory", v));
		while (v[0] == '.' && v[1] == '/')
			v += 2;
		n = strlen(c->prefix);
		n += (size_t)snprintf(c->prefix + n, sizeof c->prefix - n, "%s%s",
		    n > 1 ? "/" : "", v);
	}
	/* Room for "_<N>.pb_length_delimited" after the prefix. */
	if (n + 48 >= sizeof c->prefix)
		return (conf_fail(errbuf, "TAPSHIM_PATH_PREFIX: too long"));
	return (0);
}

/*
 * TAPSHIM_FALLBACK_PREFIX: where a process that may not create files at
 * the prefix (a server's worker that dropped privileges) makes its
 * traces; absolute, or unset.
 */
static int
conf_fallback(struct conf *c, const char *v, char *errbuf)
{
	if (v == NULL || *v == '\0')
		return (0);
	if (*v != '/' || v[strlen(v) - 1] == '/' ||
	    strlen(v) + 48 >= sizeof c->fallback)
		return (conf_fail(errbuf, "TAPSHIM_FALLBACK_PREFIX: \"%s\" is no "
		    "absolute file prefix", v));
	snprintf(c->fallback, sizeof c->fallback, "%s", v);
	return (0);
}

/* TAPSHIM_FORMAT. */
static int
conf_format(struct conf *c, const char *v, char *errbuf)
{
	size_t	i;

	if (v == NULL) {
		c->format = CONF_FORMAT_BINARY;
		return (0);
	}
	for (i = 0; i < sizeof conf_formats / sizeof conf_formats[0];
	    i++) {
		if (strcmp(v, conf_formats[i].name) != 0)
			continue;
		if (!conf_formats[i].ok)
			break;
		c->format = conf_formats[i].format;
		return (0);
	}
	return (conf_fail(errbuf, "TAPSHIM_FORMAT: \"%s\" is not a format "
	    "tapshim writes (PROTO_BINARY or pb, PROTO_BINARY_LENGTH_DELIMITED "
	    "or ld)", v));
}

/*
 * A byte count: decimal digits with an optional K, M or G (powers of
 * 1024), or "unlimited". Unset means unlimited.
 */
static int
conf_bytes(uint64_t *out, const char *name, const char *v, char *errbuf)
{
	uint64_t	n = 0, mult = 1;
	const char	*p = v;

	if (v == NULL || strcasecmp(v, "unlimited") == 0) {
		*out = CONF_UNLIMITED;
		return (0);
	}
	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		/* Up to UINT64_MAX itself (which means unlimited). */
		if (n > UINT64_MAX / 10 || (n == UINT64_MAX / 10 &&
		    (uint64_t)(*p - '0') > UINT64_MAX % 10))
			goto bad;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0') {
		if (p[1] != '\0' || strchr("kKmMgG", *p) == NULL)
			goto bad;
		mult = *p == 'k' || *p == 'K' ? 1024 : *p == 'm' || *p == 'M' ?
		    1024 * 1024 : 1024 * 1024 * 1024;
		if (n > UINT64_MAX / mult)
			goto bad;
	}
	*out = n * mult;
	return (0);
bad:
	return (conf_fail(errbuf, "%s: \"%s\" is not a byte count (digits, "
	    "optionally followed by K, M or G, or \"unlimited\")", name, v));
}

/* TAPSHIM_DEBUG: empty, 0 or 1. */
static int
conf_debug(struct conf *c, const char *v, char *errbuf)
{
	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0) {
		c->debug = 0;
		return (0);
	}
	if (strcmp(v, "1") == 0) {
		c->debug = 1;
		return (0);
	}
	return (conf_fail(errbuf, "TAPSHIM_DEBUG: \"%s\" is not 0 or 1", v));
}

/* TAPSHIM_TLS: plaintext (unset), ciphertext or both. */
static int
conf_tls(struct conf *c, const char *v, char *errbuf)
{
	if (v == NULL || strcmp(v, "plaintext") == 0)
		c->tls = CONF_TLS_PLAINTEXT;
	else if (strcmp(v, "ciphertext") == 0)
		c->tls = CONF_TLS_CIPHERTEXT;
	else if (strcmp(v, "both") == 0)
		c->tls = CONF_TLS_BOTH;
	else
		return (conf_fail(errbuf, "TAPSHIM_TLS: \"%s\" is not "
		    "plaintext, ciphertext or both", v));
	return (0);
}

/*
 * A file the shim appends to (TAPSHIM_KEYLOG, TAPSHIM_LOG), named by
 * variable name, made absolute now (the program may change directory)
 * into out (PATH_MAX); "" when unset.
 */
static int
conf_file(char *out, const char *name, const char *v, char *errbuf)
{
	char	cwd[PATH_MAX];
	int	n;

	if (v == NULL || *v == '\0')
		return (0);
	if (v[strlen(v) - 1] == '/')
		return (conf_fail(errbuf, "%s: \"%s\" names a directory, not "
		    "a file", name, v));
	if (*v == '/')
		n = snprintf(out, PATH_MAX, "%s", v);
	else if (getcwd(cwd, sizeof cwd) != NULL)
		n = snprintf(out, PATH_MAX, "%s/%s", cwd, v);
	else
		return (conf_fail(errbuf, "%s: cannot make \"%s\" absolute: "
		    "no working directory", name, v));
	if (n < 0 || n >= PATH_MAX) {
		out[0] = '\0';
		return (conf_fail(errbuf, "%s: too long", name));
	}
	return (0);
}

/* TAPSHIM_BACKTRACE: off (the default), connect or all. */
static int
conf_backtrace(struct conf *c, const char *v, char *errbuf)
{
	if (v == NULL || *v == '\0' || strcmp(v, "off") == 0)
		c->backtrace = CONF_BT_OFF;
	else if (strcmp(v, "connect") == 0)
		c->backtrace = CONF_BT_CONNECT;
	else if (strcmp(v, "all") == 0)
		c->backtrace = CONF_BT_ALL;
	else
		return (conf_fail(errbuf, "TAPSHIM_BACKTRACE: \"%s\" is not "
		    "off, connect or all", v));
	return (0);
}

/*
 * TAPSHIM_FILTER: which sockets to trace, a classic BPF program as
 * tcpdump -ddd prints it (tapshim -f compiles one), run on each socket's
 * first packet.
 */
static int
conf_filter(struct conf *c, const char *v, char *errbuf)
{
	char	err[BPF_ERRBUF_SIZE];

	if (v == NULL || *v == '\0')
		return (0);
	if (bpf_parse(&c->filter, v, err) == -1)
		return (conf_fail(errbuf, "TAPSHIM_FILTER: %s", err));
	c->has_filter = 1;
	return (0);
}

/* TAPSHIM_RUN: the run state file the launcher made (runstate.c). */
static int
conf_run(struct conf *c, const char *v, char *errbuf)
{
	if (v == NULL || *v == '\0')
		return (0);
	if (*v != '/' || strlen(v) >= sizeof c->run)
		return (conf_fail(errbuf, "TAPSHIM_RUN: \"%s\" is not an "
		    "absolute path", v));
	memcpy(c->run, v, strlen(v) + 1);
	return (0);
}

/* TAPSHIM_COLLECTOR: the name the launcher's collector listens on. */
static int
conf_collector(struct conf *c, const char *v, char *errbuf)
{
	const char	*p;

	if (v == NULL || *v == '\0')
		return (0);
	for (p = v; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~')
			break;
	}
	if (*p != '\0' || strlen(v) >= sizeof c->collector)
		return (conf_fail(errbuf, "TAPSHIM_COLLECTOR: \"%.64s\" is not "
		    "a collector's name", v));
	memcpy(c->collector, v, strlen(v) + 1);
	return (0);
}

/*
 * Read the configuration through getenv_fn (getenv, or a test's). On a
 * bad value, errbuf (CONF_ERRBUF_SIZE) names the variable and says what
 * is wrong, and -1 is returned: the caller turns tracing off.
 */
int
conf_read(struct conf *c, conf_getenv_fn get, char *errbuf)
{
	memset(c, 0, sizeof *c);
	/* The log first: it is where the message about a bad value goes. */
	if (conf_file(c->log, "TAPSHIM_LOG", get("TAPSHIM_LOG"), errbuf) == -1 ||
	    conf_prefix(c, get("TAPSHIM_PATH_PREFIX"), errbuf) == -1 ||
	    conf_fallback(c, get("TAPSHIM_FALLBACK_PREFIX"), errbuf) == -1 ||
	    conf_format(c, get("TAPSHIM_FORMAT"), errbuf) == -1 ||
	    conf_bytes(&c->max_rx, "TAPSHIM_MAX_BUFFERED_RX_BYTES",
	    get("TAPSHIM_MAX_BUFFERED_RX_BYTES"), errbuf) == -1 ||
	    conf_bytes(&c->max_tx, "TAPSHIM_MAX_BUFFERED_TX_BYTES",
	    get("TAPSHIM_MAX_BUFFERED_TX_BYTES"), errbuf) == -1 ||
	    conf_debug(c, get("TAPSHIM_DEBUG"), errbuf) == -1 ||
	    conf_tls(c, get("TAPSHIM_TLS"), errbuf) == -1 ||
	    conf_file(c->keylog, "TAPSHIM_KEYLOG", get("TAPSHIM_KEYLOG"),
	    errbuf) == -1 ||
	    conf_backtrace(c, get("TAPSHIM_BACKTRACE"), errbuf) == -1 ||
	    conf_filter(c, get("TAPSHIM_FILTER"), errbuf) == -1 ||
	    conf_run(c, get("TAPSHIM_RUN"), errbuf) == -1 ||
	    conf_collector(c, get("TAPSHIM_COLLECTOR"), errbuf) == -1)
		return (-1);
	return (0);
}

/* The file name extension for a format (trace-format.md, "Files"). */
const char *
conf_extension(enum conf_format f)
{
	return (f == CONF_FORMAT_DELIMITED ? ".pb_length_delimited" : ".pb");
}
