/* Check tests for shim/bpf.c: the same answers as libpcap, bad programs. */

#include "config.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "bpf.h"
#include "frame.h"

#define NPACKETS	64
#define TEXT_MAX	(BPF_PROG_MAX * 24)

/* Expressions users write, and some that exercise every instruction. */
static const char *const exprs[] = {
	"", "tcp", "udp", "ip", "ip6", "port 80", "tcp port 443",
	"udp port 53", "host 127.0.0.1", "src host 10.0.0.1",
	"dst host 10.0.0.2 and dst port 8080", "not port 22",
	"net 10.0.0.0/8", "net 192.168.0.0/16 or net 172.16.0.0/12",
	"portrange 8000-8100", "tcp[tcpflags] & tcp-syn != 0",
	"tcp[13] = 2", "ip[8] > 32", "len > 60", "len <= 54",
	"ip6 and tcp port 443", "host ::1", "src net 2001:db8::/32",
	"tcp and (port 80 or port 8080) and not host 10.9.9.9",
	"ether src 02:00:00:00:00:01", "ip[2:2] - ((ip[0] & 0xf) << 2) > 20",
	"tcp[(tcp[12] >> 4) * 4] = 0x16", "ip[6] & 0x1f != 0 or ip[7] != 0",
	"udp[0:2] % 7 = 3", "ip[1] ^ 0xff = 0xff", "ip[4:2] * 3 > 10",
	"ip[4:2] / 3 > 10", "tcp[0:2] << 1 > 60000", "vlan"
};

/* A packet for the tests: a SYN or a datagram between varied ends. */
static size_t
make_packet(uint8_t *buf, unsigned int i)
{
	static const char *const	 ips4[] = { "127.0.0.1", "10.0.0.1",
					    "10.0.0.2", "192.168.1.5",
					    "172.16.3.4" };
	static const char *const	 ips6[] = { "::1", "2001:db8::5",
					    "fe80::1" };
	static const uint16_t		 ports[] = { 80, 443, 53, 8080, 22,
					    8050, 40000, 5353 };
	struct frame_ep			 a, b;
	struct frame_tcp		 t;
	int				 v6 = i % 3 == 2;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.family = b.family = v6 ? AF_INET6 : AF_INET;
	inet_pton(a.family, v6 ? ips6[i % 3] : ips4[i % 5], a.ip);
	inet_pton(b.family, v6 ? ips6[(i / 3) % 3] : ips4[(i / 5) % 5], b.ip);
	a.port = ports[i % 8];
	b.port = ports[(i / 8) % 8];
	a.mac[0] = b.mac[0] = 2;
	a.mac[5] = 1;
	b.mac[5] = 2;
	if (i % 4 == 3)
		return (frame_udp(buf, FRAME_LINK_ETHER, &a, &b, (uint16_t)i,
		    NULL, 0, 0));
	memset(&t, 0, sizeof t);
	t.seq = i * 7919u;
	t.flags = i % 5 == 0 ? TCP_ACK : TCP_SYN;
	t.window = 65535;
	return (frame_tcp(buf, FRAME_LINK_ETHER, &a, &b, (uint16_t)i, &t,
	    NULL, 0, 0));
}

/* Write a compiled program as tcpdump -ddd does (commas on odd runs). */
static void
format_prog(const struct bpf_program *p, char *text, int commas)
{
	size_t	len;
	u_int	i;

	len = (size_t)snprintf(text, TEXT_MAX, "%u\n", p->bf_len);
	for (i = 0; i < p->bf_len; i++)
		len += (size_t)snprintf(text + len, TEXT_MAX - len,
		    commas ? "%u %u %u %u," : "%u %u %u %u\n",
		    p->bf_insns[i].code, p->bf_insns[i].jt, p->bf_insns[i].jf,
		    p->bf_insns[i].k);
}

START_TEST(test_same_as_libpcap)
{
	static struct bpf_prog	 bp;
	static char		 text[TEXT_MAX];
	struct bpf_program	 prog;
	struct pcap_pkthdr	 h;
	uint8_t			 buf[FRAME_HEADROOM + 64];
	char			 err[BPF_ERRBUF_SIZE];
	pcap_t			*p;
	unsigned int		 i, cut;
	size_t			 n;

	ck_assert_ptr_nonnull(p = pcap_open_dead(DLT_EN10MB, 65535));
	ck_assert_msg(pcap_compile(p, &prog, exprs[_i], 1,
	    PCAP_NETMASK_UNKNOWN) == 0, "%s: %s", exprs[_i], pcap_geterr(p));
	format_prog(&prog, text, _i % 2);
	ck_assert_msg(bpf_parse(&bp, text, err) == 0, "'%s': %s", exprs[_i],
	    err);
	for (i = 0; i < NPACKETS; i++) {
		n = make_packet(buf, i);
		/* Cut packets too: loads past the end fail alike. */
		for (cut = 0; cut < 3; cut++) {
			memset(&h, 0, sizeof h);
			h.caplen = h.len = (bpf_u_int32)(cut == 0 ? n :
			    cut == 1 ? n - 10 : 13);
			ck_assert_msg(bpf_run(&bp, buf, h.len) ==
			    (uint32_t)pcap_offline_filter(&prog, &h, buf),
			    "'%s', packet %u (%u bytes): libpcap says %d",
			    exprs[_i], i, h.len, pcap_offline_filter(&prog, &h,
			    buf));
		}
	}
	pcap_freecode(&prog);
	pcap_close(p);
}
END_TEST

/* Programs bpf_parse() must refuse, and what it says. */
static const struct bad_case {
	const char	*text;
	const char	*err;
} bad_cases[] = {
	{ "", "not a BPF program" },
	{ "tcp port 80", "not a BPF program" },
	{ "0", "not a BPF program" },
	{ "4097", "not a BPF program" },
	{ "2\n6 0 0 1\n", "instruction 2 of 2: not 4 numbers" },
	{ "1\n6 0 0", "instruction 1 of 1: not 4 numbers" },
	{ "1\n65536 0 0 1", "instruction 1 of 1: not 4 numbers" },
	{ "1\n6 256 0 1", "instruction 1 of 1: not 4 numbers" },
	{ "1\n6 0 0 1\n6 0 0 1", "more than the 1 instructions" },
	{ "1\n40 0 0 12", "the last instruction is not a return" },
	{ "2\n21 1 0 2048\n6 0 0 1", "instruction 1 of 2 is not valid" },
	{ "2\n5 0 0 1\n6 0 0 1", "instruction 1 of 2 is not valid" },
	{ "2\n52 0 0 0\n6 0 0 1", "instruction 1 of 2 is not valid" },
	{ "2\n2 0 0 16\n6 0 0 1", "instruction 1 of 2 is not valid" },
	{ "2\n96 0 0 16\n6 0 0 1", "instruction 1 of 2 is not valid" },
	{ "2\n161 0 0 0\n6 0 0 1", "instruction 1 of 2 is not valid" },
	{ "2\n56 0 0 0\n6 0 0 1", "instruction 1 of 2 is not valid" },
	{ "1\n14 0 0 0", "instruction 1 of 1 is not valid" },
	{ "2\n7 0 0 0\n6 0 0 1\n", NULL },
	{ "2,177,0,0,14,22,0,0,0", NULL }
};

START_TEST(test_bad_programs)
{
	static struct bpf_prog	bp;
	char			err[BPF_ERRBUF_SIZE];
	int			rc;

	err[0] = '\0';
	rc = bpf_parse(&bp, bad_cases[_i].text, err);
	if (bad_cases[_i].err == NULL) {
		ck_assert_msg(rc == 0, "'%s': %s", bad_cases[_i].text, err);
		return;
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(err, bad_cases[_i].err) != NULL, "'%s': %s",
	    bad_cases[_i].text, err);
}
END_TEST

START_TEST(test_divide_by_zero)
{
	static struct bpf_prog	 bp;
	static const char	 prog[] = "6,48 0 0 0,20 0 0 1,7 0 0 0,"
				    "0 0 0 7,60 0 0 0,6 0 0 9";
	char			 err[BPF_ERRBUF_SIZE];
	uint8_t			 pkt[4] = { 1, 2, 3, 4 };

	/* X = pkt[0] - 1, then 7 / X: zero is no match, as in libpcap. */
	ck_assert_int_eq(bpf_parse(&bp, prog, err), 0);
	ck_assert_uint_eq(bpf_run(&bp, pkt, 4), 0);
	pkt[0] = 2;
	ck_assert_uint_eq(bpf_run(&bp, pkt, 4), 9);
}
END_TEST

/* The BPF interpreter's suite. */
static Suite *
bpf_suite(void)
{
	Suite	*s = suite_create("bpf");
	TCase	*tc = tcase_create("bpf");

	tcase_add_loop_test(tc, test_same_as_libpcap, 0,
	    (int)(sizeof exprs / sizeof exprs[0]));
	tcase_add_loop_test(tc, test_bad_programs, 0,
	    (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, test_divide_by_zero);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { bpf_suite, NULL };
