/* Check suite for pcap-out.c: libpcap's bytes, its own buffer, its errors. */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkmain.h"
#include "frame.h"
#include "pcap-out.h"
#include "pcapng-out.h"

static Suite	*pcapout_suite(void);

/* Records that cross the 256 KiB buffer every way: empty, odd, huge. */
static const size_t	rec_data[] = { 0, 1, 1460, 65495, 262144, 300001, 7,
			    262100, 0, 99 };
static const int64_t	rec_sec[] = { 0, 1, 1700000000, 4294967296LL + 5,
			    -1, 2147483648LL, 86400, 3, 4, 5 };

static uint8_t	data[300001];

/* The test's scratch file name, in the current directory. */
static char	path_a[64], path_b[64];

static void
setup(void)
{
	size_t	i;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 131 + 17);
	snprintf(path_a, sizeof path_a, "pcapout-a.%ld.pcap", (long)getpid());
	snprintf(path_b, sizeof path_b, "pcapout-b.%ld.pcap", (long)getpid());
}

static void
teardown(void)
{
	unlink(path_a);
	unlink(path_b);
}

/* Read a whole file; its length to *n. */
static uint8_t *
slurp(const char *path, size_t *n)
{
	struct stat	 st;
	uint8_t		*b;
	FILE		*f;

	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_int_eq(fstat(fileno(f), &st), 0);
	*n = (size_t)st.st_size;
	ck_assert_ptr_nonnull(b = malloc(*n + 1));
	ck_assert_uint_eq(fread(b, 1, *n, f), *n);
	fclose(f);
	return (b);
}

/* The records through pcap_out into path; headers of 14 bytes each. */
static void
write_ours(const char *path)
{
	struct pcap_out	o;
	char		errbuf[PCAP_ERRBUF_SIZE];
	uint8_t		head[14];
	size_t		i;

	ck_assert_int_eq(pcap_out_open(&o, path, FRAME_LINK_ETHER, errbuf),
	    0);
	for (i = 0; i < sizeof rec_data / sizeof rec_data[0]; i++) {
		memset(head, (int)i, sizeof head);
		ck_assert_int_eq(pcap_out_write(&o, rec_sec[i],
		    (uint32_t)(i * 999999), head, sizeof head, data,
		    rec_data[i], rec_data[i] + i), 0);
	}
	ck_assert_uint_eq(o.packets, i);
	ck_assert_int_eq(pcap_out_finish(&o, errbuf), 0);
}

/*
 * The same records through libpcap's own pcap_dump(), the bytes
 * pcap_out must match: the file header and every record.
 */
static void
write_libpcap(const char *path)
{
	struct pcap_pkthdr	 h;
	pcap_dumper_t		*d;
	pcap_t			*p;
	uint8_t			*frame;
	size_t			 i;

	ck_assert_ptr_nonnull(frame = malloc(14 + sizeof data));
	p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB,
	    PCAP_OUT_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(d = pcap_dump_open(p, path));
	for (i = 0; i < sizeof rec_data / sizeof rec_data[0]; i++) {
		memset(frame, (int)i, 14);
		memcpy(frame + 14, data, rec_data[i]);
		h.ts.tv_sec = (time_t)rec_sec[i];
		h.ts.tv_usec = (suseconds_t)(i * 999999);
		h.caplen = (bpf_u_int32)(14 + rec_data[i]);
		h.len = (bpf_u_int32)(14 + rec_data[i] + i);
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);
	free(frame);
}

/* Byte for byte what pcap_dump() writes, across buffer boundaries. */
START_TEST(test_same_as_pcap_dump)
{
	uint8_t	*a, *b;
	size_t	 na, nb;

	write_ours(path_a);
	write_libpcap(path_b);
	a = slurp(path_a, &na);
	b = slurp(path_b, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert_uint_gt(na, 2 * 256 * 1024);
	ck_assert_mem_eq(a, b, na);
	free(a);
	free(b);
}
END_TEST

/*
 * Standard output as a pipe: widened to the record buffer; a capture
 * given up keeps what was gathered for it (stdio flushed it at exit).
 */
START_TEST(test_stdout_pipe)
{
	struct pcap_out	 o;
	char		 errbuf[PCAP_ERRBUF_SIZE];
	uint8_t		 head[14] = { 0 }, *got;
	int		 fds[2];
	ssize_t		 n;
	size_t		 len = 0;

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ne(dup2(fds[1], STDOUT_FILENO), -1);
	close(fds[1]);
	ck_assert_int_eq(pcap_out_open(&o, "-", FRAME_LINK_RAW, errbuf), 0);
	ck_assert_int_ge(fcntl(fds[0], F_GETPIPE_SZ), 256 * 1024);
	ck_assert_int_eq(pcap_out_write(&o, 1, 2, head, sizeof head, data,
	    1000, 1000), 0);
	ck_assert_int_eq(pcap_out_write(&o, 3, 4, head, sizeof head, data, 10,
	    2000), 0);
	pcap_out_abort(&o);
	close(STDOUT_FILENO);
	ck_assert_ptr_nonnull(got = malloc(65536));
	while ((n = read(fds[0], got + len, 65536 - len)) > 0)
		len += (size_t)n;
	ck_assert_uint_eq(len, 24 + 16 + 14 + 1000 + 16 + 14 + 10);
	ck_assert_mem_eq(got + len - 10, data, 10);
	free(got);
	close(fds[0]);
}
END_TEST

/*
 * A write that fails (the file outgrows RLIMIT_FSIZE): pcap_out_write()
 * or the close says so, and the temporary file goes.
 */
START_TEST(test_write_error)
{
	struct rlimit	rl = { 100000, 100000 };
	struct pcap_out	o;
	char		errbuf[PCAP_ERRBUF_SIZE], want[128];
	uint8_t		head[14] = { 0 };
	int		i, bad = 0;

	ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(pcap_out_open(&o, path_a, FRAME_LINK_ETHER, errbuf),
	    0);
	for (i = 0; i < 4 && !bad; i++)
		bad = pcap_out_write(&o, 0, 0, head, sizeof head, data,
		    sizeof data, sizeof data) == -1;
	ck_assert_int_eq(bad, 1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(pcap_out_finish(&o, errbuf), -1);
	snprintf(want, sizeof want, "%s: write error: %s", path_a,
	    strerror(EFBIG));
	ck_assert_str_eq(errbuf, want);
	ck_assert_int_eq(access(path_a, F_OK), -1);
}
END_TEST

/* A device that takes nothing: the file header already fails, at open. */
START_TEST(test_open_full)
{
	struct pcap_out	o;
	char		errbuf[PCAP_ERRBUF_SIZE];

	ck_assert_int_eq(pcap_out_open(&o, "/dev/full", FRAME_LINK_ETHER,
	    errbuf), -1);
	ck_assert_str_eq(errbuf, "/dev/full: write error: No space left on "
	    "device");
}
END_TEST

/*
 * pcapng_out_section(): a process met after the capture started gets a
 * new section; the file holds SHB, IDB, EPB, then SHB, two IDBs, EPB, the
 * second packet on the new process's interface (1).
 */
START_TEST(test_pcapng_section)
{
	static const uint32_t	 want[] = { 0x0a0d0d0a, 1, 6, 0x0a0d0d0a, 1,
				    1, 6 };
	struct pcapng_meta	 m;
	struct pcap_out		 o;
	struct trace_info	 ti[2];
	struct trace_event	 ev;
	struct synth_stream	 st;
	struct synth		 sy;
	char			 errbuf[PCAP_ERRBUF_SIZE];
	uint8_t			 head[14] = { 0 }, *b;
	uint32_t		 t, len;
	size_t			 n, off = 0, k = 0;

	memset(&m, 0, sizeof m);
	memset(ti, 0, sizeof ti);
	memset(&ev, 0, sizeof ev);
	memset(&st, 0, sizeof st);
	memset(&sy, 0, sizeof sy);
	ti[0].conn.pid = 10;
	ti[1].conn.pid = 20;
	ev.kind = TRACE_EV_WRITE;
	st.info = &ti[0];
	sy.stream = &st;
	sy.event = &ev;
	m.link = FRAME_LINK_ETHER;
	m.sy = &sy;
	ck_assert_int_eq(pcapng_meta_add(&m, &ti[0]), 0);
	ck_assert_int_eq(pcapng_out_open(&o, &m, path_a, errbuf), 0);
	(void)pcapng_out_prepare(&m, sizeof head, 4, 4);
	ck_assert_int_eq(pcapng_out_write(&o, &m, 1, 2, head, sizeof head,
	    data, 4, 4), 0);
	ck_assert_int_eq(pcapng_meta_add(&m, &ti[1]), 0);
	ck_assert_int_eq(pcapng_out_section(&o, &m, errbuf), 0);
	st.info = &ti[1];
	(void)pcapng_out_prepare(&m, sizeof head, 4, 4);
	ck_assert_int_eq(pcapng_out_write(&o, &m, 3, 4, head, sizeof head,
	    data, 4, 4), 0);
	ck_assert_int_eq(pcapng_out_close(&o, &m, errbuf), 0);
	ck_assert_int_eq(pcap_out_commit(&o, errbuf), 0);
	pcapng_meta_free(&m);
	b = slurp(path_a, &n);
	while (off + 12 <= n && k < sizeof want / sizeof want[0]) {
		memcpy(&t, b + off, 4);
		memcpy(&len, b + off + 4, 4);
		ck_assert_uint_eq(t, want[k]);
		if (k == 6) {
			memcpy(&t, b + off + 8, 4);
			ck_assert_uint_eq(t, 1);
		}
		off += len;
		k++;
	}
	ck_assert_uint_eq(k, 7);
	ck_assert_uint_eq(off, n);
	free(b);
}
END_TEST

static Suite *
pcapout_suite(void)
{
	Suite	*s = suite_create("pcapout");
	TCase	*tc;

	tc = tcase_create("pcapout");
	tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, test_same_as_pcap_dump, test_stdout_pipe,
	    test_write_error, test_open_full, test_pcapng_section, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { pcapout_suite, NULL };
