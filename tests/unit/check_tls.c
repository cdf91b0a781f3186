/* Check tests for TLS tracing's parts: sessions, key log, metadata. */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "proto/tapshim.pb-c.h"
#include "conf.h"
#include "encode.h"
#include "keylog.h"
#include "tlsmeta.h"
#include "tlssess.h"
#include "decode-as.h"

static const char	**env;

static const char *
fake_getenv(const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return (env[i] + n + 1);
	}
	return (NULL);
}

START_TEST(test_conf_tls)
{
	static const char	*plain[] = { NULL }, *ct[] = {
	    "TAPSHIM_TLS=ciphertext", NULL }, *both[] = { "TAPSHIM_TLS=both",
	    NULL }, *bad[] = { "TAPSHIM_TLS=Plaintext", NULL }, *kl[] = {
	    "TAPSHIM_KEYLOG=/tmp/k", NULL }, *kldir[] = {
	    "TAPSHIM_KEYLOG=/tmp/", NULL };
	struct conf		c;
	char			errbuf[CONF_ERRBUF_SIZE];

	env = plain;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), 0);
	ck_assert_int_eq(c.tls, CONF_TLS_PLAINTEXT);
	ck_assert_str_eq(c.keylog, "");
	env = ct;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), 0);
	ck_assert_int_eq(c.tls, CONF_TLS_CIPHERTEXT);
	env = both;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), 0);
	ck_assert_int_eq(c.tls, CONF_TLS_BOTH);
	env = bad;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), -1);
	ck_assert_str_eq(errbuf, "TAPSHIM_TLS: \"Plaintext\" is not "
	    "plaintext, ciphertext or both");
	env = kl;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), 0);
	ck_assert_str_eq(c.keylog, "/tmp/k");
	env = kldir;
	ck_assert_int_eq(conf_read(&c, fake_getenv, errbuf), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "TAPSHIM_KEYLOG"));
}
END_TEST

/* Sessions: added once, found, taken out, their slots reused. */
START_TEST(test_sess)
{
	static char	 keys[TLSSESS_MAX + 1];
	struct tlssess	*s, *t;
	size_t		 i;

	ck_assert_ptr_null(tlssess_get(&keys[0]));
	s = tlssess_add(&keys[0], TLSSESS_OPENSSL, 42);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->fd, -1);
	ck_assert_int_eq(s->lib, TLSSESS_OPENSSL);
	ck_assert(s->begin == 42);
	s->fd = 7;
	ck_assert_ptr_eq(tlssess_add(&keys[0], TLSSESS_OPENSSL, 43), s);
	ck_assert_ptr_eq(tlssess_get(&keys[0]), s);
	ck_assert_ptr_eq(tlssess_next(NULL), s);
	ck_assert_ptr_null(tlssess_next(s));
	/* Fill the table: the one past it is not remembered. */
	for (i = 1; i < TLSSESS_MAX; i++)
		ck_assert_ptr_nonnull(tlssess_add(&keys[i], TLSSESS_GNUTLS, 0));
	ck_assert_ptr_null(tlssess_add(&keys[TLSSESS_MAX], TLSSESS_GNUTLS, 0));
	for (i = 0; i < TLSSESS_MAX; i++)
		ck_assert_ptr_eq(tlssess_get(&keys[i])->key, &keys[i]);
	ck_assert_int_eq(tlssess_get(&keys[0])->fd, 7);
	/* Taken out: gone, and its slot serves the next one. */
	t = tlssess_take(&keys[5]);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(tlssess_take(&keys[5]));
	tlssess_release(t);
	ck_assert_ptr_null(tlssess_get(&keys[5]));
	ck_assert_ptr_eq(tlssess_add(&keys[TLSSESS_MAX], TLSSESS_GNUTLS, 0),
	    t);
	ck_assert_int_eq(t->fd, -1);
	for (i = 0; i < TLSSESS_MAX; i++) {
		if (i != 5)
			ck_assert_ptr_nonnull(tlssess_get(&keys[i]));
	}
	for (i = 0; i <= TLSSESS_MAX; i++) {
		if ((t = tlssess_take(&keys[i])) != NULL)
			tlssess_release(t);
	}
	ck_assert_ptr_null(tlssess_next(NULL));
}
END_TEST

START_TEST(test_keylog_format)
{
	static const uint8_t	rnd[32] = { 0x00, 0x01, 0xab, 0xff };
	static const uint8_t	sec[48] = { 0x10, 0xfe };
	char			line[KEYLOG_LINE_MAX];
	int			n;

	n = keylog_format(line, sizeof line, "CLIENT_RANDOM", rnd, sizeof rnd,
	    sec, sizeof sec);
	ck_assert_int_eq(n, 13 + 1 + 64 + 1 + 96);
	ck_assert_int_eq(strncmp(line, "CLIENT_RANDOM 0001abff0000", 26), 0);
	ck_assert_int_eq(strncmp(line + 13 + 1 + 64, " 10fe00", 7), 0);
	ck_assert_int_eq((int)strlen(line), n);
	ck_assert_int_eq(keylog_format(line, 100, "CLIENT_RANDOM", rnd,
	    sizeof rnd, sec, sizeof sec), -1);
}
END_TEST

/* Lines from many processes at once: every one whole, none lost. */
START_TEST(test_keylog_write)
{
	char		path[] = "/tmp/check_tls.XXXXXX", line[200], *buf, *p;
	struct stat	st;
	FILE		*f;
	int		i, j, fd, status, nlines = 0;
	pid_t		pid[8];

	ck_assert_int_ne(fd = mkstemp(path), -1);
	close(fd);
	for (i = 0; i < 8; i++) {
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			for (j = 0; j < 200; j++) {
				memset(line, 'a' + i, sizeof line);
				memcpy(line, "CLIENT_RANDOM ", 14);
				if (keylog_write(path, line, sizeof line) != 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 8 * 200 * 201);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_ptr_nonnull(buf = malloc((size_t)st.st_size));
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_int_eq(fread(buf, 1, (size_t)st.st_size, f), st.st_size);
	fclose(f);
	for (p = buf; p < buf + st.st_size; p += 201, nlines++) {
		ck_assert_int_eq(strncmp(p, "CLIENT_RANDOM ", 14), 0);
		for (j = 14; j < 200; j++)
			ck_assert_int_eq(p[j], p[14]);
		ck_assert_int_eq(p[200], '\n');
	}
	ck_assert_int_eq(nlines, 1600);
	free(buf);
	unlink(path);
	ck_assert_int_eq(keylog_write("/nonexistent/dir/k", "x", 1), -1);
}
END_TEST

/* Metadata: a connection chunk protobuf-c reads back, field by field. */
START_TEST(test_meta_encode)
{
	static struct tlsmeta		 m;
	uint8_t				 mem[16384];
	struct enc_buf			 e;
	struct iovec			*iov;
	uint8_t				 flat[16384];
	size_t				 n = 0;
	int				 i, niov;
	Tapshim__Trace__TraceWrapper	*w;
	Tapshim__Trace__TlsInfo		*t;

	memset(&m, 0, sizeof m);
	strcpy(m.library, "OpenSSL 3.0.19");
	strcpy(m.version, "TLSv1.3");
	strcpy(m.cipher, "TLS_AES_256_GCM_SHA384");
	strcpy(m.sni, "localhost");
	strcpy(m.alpn, "h2");
	m.resumed = 1;
	m.begin = 1700000000123456789LL;
	m.end = 1700000001000000001LL;
	m.data = TLSMETA_PLAINTEXT;
	m.ncerts = 2;
	strcpy(m.certs[0].subject, "/CN=localhost");
	strcpy(m.certs[0].issuer, "/CN=ca");
	m.certs[0].has_times = 1;
	m.certs[0].not_before = 1600000000;
	m.certs[0].not_after = 1900000000;
	strcpy(m.certs[1].subject, "/CN=ca");
	m.certs[1].ca = 1;
	enc_init(&e, mem, sizeof mem);
	ck_assert_int_eq(tlsmeta_encode(&e, CONF_FORMAT_BINARY, 9, &m), 0);
	niov = enc_iov(&e, &iov);
	for (i = 0; i < niov; i++) {
		memcpy(flat + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	w = tapshim__trace__trace_wrapper__unpack(NULL, n, flat);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(w->socket_buffered_trace);
	ck_assert(w->socket_buffered_trace->trace_id == 9);
	ck_assert_ptr_nonnull(w->socket_buffered_trace->connection);
	ck_assert_ptr_null(w->socket_buffered_trace->connection->local_address);
	t = w->socket_buffered_trace->connection->tls;
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->library, "OpenSSL 3.0.19");
	ck_assert_str_eq(t->version, "TLSv1.3");
	ck_assert_str_eq(t->cipher, "TLS_AES_256_GCM_SHA384");
	ck_assert_str_eq(t->sni, "localhost");
	ck_assert_str_eq(t->alpn, "h2");
	ck_assert(t->resumed);
	ck_assert_str_eq(t->handshake_error, "");
	ck_assert(t->handshake_begin->seconds == 1700000000);
	ck_assert_int_eq(t->handshake_begin->nanos, 123456789);
	ck_assert(t->handshake_end->seconds == 1700000001);
	ck_assert_int_eq(t->data, TAPSHIM__TRACE__TLS_DATA__TLS_DATA_PLAINTEXT);
	ck_assert_uint_eq(t->n_peer_certs, 2);
	ck_assert_str_eq(t->peer_certs[0]->subject, "/CN=localhost");
	ck_assert_str_eq(t->peer_certs[0]->issuer, "/CN=ca");
	ck_assert(t->peer_certs[0]->not_before->seconds == 1600000000);
	ck_assert(t->peer_certs[0]->not_after->seconds == 1900000000);
	ck_assert(!t->peer_certs[0]->ca);
	ck_assert(t->peer_certs[1]->ca);
	ck_assert_ptr_null(t->peer_certs[1]->not_before);
	tapshim__trace__trace_wrapper__free_unpacked(w, NULL);

	/* A failed handshake: its error, no end. */
	memset(&m, 0, sizeof m);
	strcpy(m.error, "certificate verify failed");
	enc_reset(&e);
	ck_assert_int_eq(tlsmeta_encode(&e, CONF_FORMAT_DELIMITED, 3, &m), 0);
	niov = enc_iov(&e, &iov);
	ck_assert_int_eq(niov, 1);
	/*
	 * One varint length, then a streamed segment with an event holding
	 * the connection (SocketEvent.connection): not a second connection
	 * segment, which Envoy's readers would take for another trace.
	 */
	w = tapshim__trace__trace_wrapper__unpack(NULL, iov[0].iov_len - 1,
	    (uint8_t *)iov[0].iov_base + 1);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(w->socket_streamed_trace_segment);
	ck_assert_int_eq(w->socket_streamed_trace_segment->message_piece_case,
	    TAPSHIM__TRACE__SOCKET_STREAMED_TRACE_SEGMENT__MESSAGE_PIECE_EVENT);
	ck_assert_int_eq(w->socket_streamed_trace_segment->event->
	    event_selector_case,
	    TAPSHIM__TRACE__SOCKET_EVENT__EVENT_SELECTOR__NOT_SET);
	t = w->socket_streamed_trace_segment->event->connection->tls;
	ck_assert_str_eq(t->handshake_error, "certificate verify failed");
	ck_assert_ptr_null(t->handshake_end);
	tapshim__trace__trace_wrapper__free_unpacked(w, NULL);
}
END_TEST

/* tap2pcap's decode hints: one per server port, h2 from ALPN. */
START_TEST(test_decodeas)
{
	struct decodeas		d;
	struct trace_info	t;
	struct trace_conn	*cp = &t.conn;
	char			path[] = "/tmp/check_tls.XXXXXX", buf[512],
				errbuf[256];
	FILE			*f;
	size_t			n;
	int			fd;

	memset(&d, 0, sizeof d);
	memset(&t, 0, sizeof t);
	cp->local.family = cp->remote.family = AF_INET;
	cp->local.port = 40000;
	cp->remote.port = 443;
	cp->role = TRACE_ROLE_CLIENT;
	decodeas_add(&d, &t);			/* not TLS */
	ck_assert_uint_eq(d.n, 0);
	cp->tls = TRACE_TLS_CIPHERTEXT;
	decodeas_add(&d, &t);			/* records: Wireshark knows */
	ck_assert_uint_eq(d.n, 0);
	cp->tls = TRACE_TLS_PLAINTEXT;
	decodeas_add(&d, &t);
	cp->local.port = 40001;
	decodeas_add(&d, &t);			/* the same server port */
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(decodeas_proto(&d, 0), "http");
	cp->role = TRACE_ROLE_SERVER;
	cp->local.port = 8443;
	strcpy(cp->alpn, "h2");
	decodeas_add(&d, &t);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_uint_eq(d.e[1].port, 8443);
	ck_assert_str_eq(decodeas_proto(&d, 1), "http2");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	close(fd);
	ck_assert_int_eq(decodeas_write(&d, path, errbuf, sizeof errbuf), 0);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	ck_assert_ptr_nonnull(strstr(buf,
	    "\ndecode_as_entry: tcp.port,443,(none),HTTP\n"
	    "decode_as_entry: tcp.port,8443,(none),HTTP2\n"));
	/* PostgreSQL's SSLRequest first: pgsql, and STARTTLS noted. */
	cp->role = TRACE_ROLE_CLIENT;
	cp->remote.port = 5432;
	cp->alpn[0] = '\0';
	memcpy(t.head[1], "\0\0\0\x08\x04\xd2\x16\x2f", 8);
	t.headlen[1] = 8;
	decodeas_add(&d, &t);
	ck_assert_str_eq(decodeas_proto(&d, 2), "pgsql");
	ck_assert_int_eq(d.e[2].starttls, 1);
	/* A MySQL greeting (protocol 10) from the server: mysql. */
	cp->remote.port = 3306;
	t.headlen[1] = 0;
	memcpy(t.head[0], "\x4a\0\0\0\x0a", 5);
	t.headlen[0] = 5;
	decodeas_add(&d, &t);
	ck_assert_str_eq(decodeas_proto(&d, 3), "mysql");
	ck_assert_int_eq(d.e[3].starttls, 2);
	ck_assert_int_eq(decodeas_write(&d, "/nonexistent/x", errbuf,
	    sizeof errbuf), -1);
	ck_assert_str_eq(errbuf, "/nonexistent/x: No such file or directory");
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc = tcase_create("parts");

	check_add_tests(tc, test_conf_tls, test_sess, test_keylog_format,
	    test_keylog_write, test_meta_encode, test_decodeas, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { tls_suite, NULL };
