/* Check suite for frame.c: checksums and TCP/UDP frame layout. */

#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "frame.h"

static Suite	*frame_suite(void);

/* Where the IP header starts for each link type. */
#define ETHER_LEN	14

static uint8_t	buf[FRAME_HEADROOM + 70000];

/* Read a big-endian 16-bit value. */
static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

/* Read a big-endian 32-bit value. */
static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* RFC 1071 done the slow way: network-order words, an odd byte padded. */
static uint32_t
ref_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return (sum);
}

/* Fold a ref_sum() to 16 bits, not complemented. */
static uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)sum);
}

/* frame_fold()'s result as the two bytes it puts on the wire. */
static void
fold_bytes(uint64_t sum, uint8_t out[2])
{
	uint16_t	ck = frame_fold(sum);

	memcpy(out, &ck, 2);
}

/* An endpoint with a 4- or 16-byte address filled from a seed byte. */
static struct frame_ep
ep(int family, uint8_t seed, uint16_t port)
{
	struct frame_ep	e;
	int		i;

	memset(&e, 0, sizeof e);
	e.family = family;
	for (i = 0; i < (family == AF_INET6 ? 16 : 4); i++)
		e.ip[i] = (uint8_t)(seed + i * 17);
	e.port = port;
	e.mac[0] = 0x02;
	e.mac[5] = seed;
	return (e);
}

/*
 * Check the link and IP headers of a frame whose L4 part is l4len bytes
 * on the wire; return the offset of the L4 header.
 */
static size_t
check_ip(const uint8_t *b, int link, const struct frame_ep *src,
    const struct frame_ep *dst, uint8_t proto, size_t l4len)
{
	size_t	h = 0;

	if (link == FRAME_LINK_ETHER) {
		ck_assert_mem_eq(b, dst->mac, 6);
		ck_assert_mem_eq(b + 6, src->mac, 6);
		ck_assert_uint_eq(get16(b + 12), src->family == AF_INET6 ?
		    0x86dd : 0x0800);
		h = ETHER_LEN;
	}
	if (src->family == AF_INET6) {
		ck_assert_uint_eq(b[h] >> 4, 6);
		ck_assert_uint_eq(get16(b + h + 4), l4len);
		ck_assert_uint_eq(b[h + 6], proto);
		ck_assert_uint_ne(b[h + 7], 0);
		ck_assert_mem_eq(b + h + 8, src->ip, 16);
		ck_assert_mem_eq(b + h + 24, dst->ip, 16);
		return (h + 40);
	}
	ck_assert_uint_eq(b[h], 0x45);
	ck_assert_uint_eq(get16(b + h + 2), 20 + l4len);
	ck_assert_uint_ne(b[h + 8], 0);
	ck_assert_uint_eq(b[h + 9], proto);
	ck_assert_mem_eq(b + h + 12, src->ip, 4);
	ck_assert_mem_eq(b + h + 16, dst->ip, 4);
	/* The whole header, checksum included, sums to 0xffff. */
	ck_assert_uint_eq(ref_fold(ref_sum(0, b + h, 20)), 0xffff);
	return (h + 20);
}

/*
 * Check the L4 checksum: pseudo-header plus the segment (caplen bytes
 * captured, the rest of len counted as zeros) sums to 0xffff.
 */
static void
check_l4_sum(const uint8_t *l4, const struct frame_ep *src,
    const struct frame_ep *dst, uint8_t proto, size_t hlen, size_t caplen,
    size_t len)
{
	uint8_t		ph[40];
	uint32_t	sum;
	size_t		l4len = hlen + len;

	memset(ph, 0, sizeof ph);
	if (src->family == AF_INET6) {
		memcpy(ph, src->ip, 16);
		memcpy(ph + 16, dst->ip, 16);
		ph[32] = (uint8_t)(l4len >> 24);
		ph[33] = (uint8_t)(l4len >> 16);
		ph[34] = (uint8_t)(l4len >> 8);
		ph[35] = (uint8_t)l4len;
		ph[39] = proto;
		sum = ref_sum(0, ph, 40);
	} else {
		memcpy(ph, src->ip, 4);
		memcpy(ph + 4, dst->ip, 4);
		ph[9] = proto;
		ph[10] = (uint8_t)(l4len >> 8);
		ph[11] = (uint8_t)l4len;
		sum = ref_sum(0, ph, 12);
	}
	sum = ref_sum(sum, l4, hlen + caplen);
	ck_assert_uint_eq(ref_fold(sum), 0xffff);
}

/* RFC 1071 section 3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
START_TEST(test_sum_rfc1071)
{
	static const uint8_t	b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
				    0xf6, 0xf7 };
	uint8_t			out[2];
	uint16_t		sum;

	fold_bytes(frame_sum(0, b, sizeof b), out);
	ck_assert_uint_eq(out[0], 0x22);
	ck_assert_uint_eq(out[1], 0x0d);
	/* The uncomplemented sum, stored the same way, is dd f2. */
	sum = (uint16_t)~frame_fold(frame_sum(0, b, sizeof b));
	memcpy(out, &sum, 2);
	ck_assert_uint_eq(out[0], 0xdd);
	ck_assert_uint_eq(out[1], 0xf2);
}
END_TEST

/* The classic IPv4 header example: checksum b8 61, then it verifies. */
START_TEST(test_sum_ipv4_header)
{
	uint8_t	h[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
		    0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
		    0x00, 0xc7 };

	fold_bytes(frame_sum(0, h, sizeof h), h + 10);
	ck_assert_uint_eq(h[10], 0xb8);
	ck_assert_uint_eq(h[11], 0x61);
	ck_assert_uint_eq(frame_fold(frame_sum(0, h, sizeof h)), 0);
}
END_TEST

/* Odd lengths, at odd addresses, match the reference byte for byte. */
START_TEST(test_sum_odd)
{
	static const uint8_t	three[] = { 0x01, 0x02, 0x03 };
	uint8_t			b[64], out[2];
	size_t			n, i;

	fold_bytes(frame_sum(0, three, 3), out);
	ck_assert_uint_eq(get16(out), 0xfbfd);	/* ~(0x0102 + 0x0300) */
	for (i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)(i * 37 + 200);
	for (n = 1; n < sizeof b - 1; n += 2) {
		fold_bytes(frame_sum(0, b + 1, n), out);
		ck_assert_uint_eq(get16(out),
		    (uint16_t)~ref_fold(ref_sum(0, b + 1, n)));
	}
}
END_TEST

/* All 0xff: carries everywhere, folded back in. */
START_TEST(test_sum_carries)
{
	static uint8_t	b[4097];
	uint8_t		out[2];

	memset(b, 0xff, sizeof b);
	fold_bytes(frame_sum(0, b, 4096), out);
	ck_assert_uint_eq(get16(out), 0x0000);
	fold_bytes(frame_sum(0, b, 4097), out);
	ck_assert_uint_eq(get16(out), (uint16_t)~ref_fold(ref_sum(0, b, 4097)));
}
END_TEST

/* A sum split across calls at even lengths equals one call. */
START_TEST(test_sum_split)
{
	uint8_t		b[101];
	uint16_t	whole;
	size_t		cut, i;

	for (i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)(i * 151 + 7);
	whole = frame_fold(frame_sum(0, b, sizeof b));
	for (cut = 0; cut < sizeof b; cut += 2)
		ck_assert_uint_eq(frame_fold(frame_sum(frame_sum(0, b, cut),
		    b + cut, sizeof b - cut)), whole);
	ck_assert_uint_eq(frame_fold(frame_sum(frame_sum(frame_sum(0, b, 2),
	    b + 2, 10), b + 12, sizeof b - 12)), whole);
}
END_TEST

/*
 * Random lengths at random alignments, split at a random even point, on
 * bytes that are random or mostly 0xff (carries out of every lane): the
 * vector sum folds to the reference's 16 bits each time.
 */
START_TEST(test_sum_random)
{
	static uint8_t	b[70016];
	uint8_t		out[2];
	uint16_t	want;
	size_t		n, off, cut, i;
	int		round;

	srandom(1071);
	for (round = 0; round < 3000; round++) {
		off = (size_t)random() % 16;
		n = round % 3 == 0 ? (size_t)random() % 300 :
		    (size_t)random() % (sizeof b - 16);
		for (i = 0; i < n; i++)
			b[off + i] = round % 4 == 1 && random() % 8 != 0 ?
			    0xff : (uint8_t)random();
		want = (uint16_t)~ref_fold(ref_sum(0, b + off, n));
		fold_bytes(frame_sum(0, b + off, n), out);
		ck_assert_msg(get16(out) == want, "n %zu at offset %zu: "
		    "%04x, want %04x", n, off, get16(out), want);
		cut = n == 0 ? 0 : ((size_t)random() % n) & ~(size_t)1;
		fold_bytes(frame_sum(frame_sum(0, b + off, cut),
		    b + off + cut, n - cut), out);
		ck_assert_msg(get16(out) == want, "n %zu cut at %zu: %04x, "
		    "want %04x", n, cut, get16(out), want);
	}
}
END_TEST

/* A large sum carried in (a caller's running total) still folds right. */
START_TEST(test_sum_carry_in)
{
	static uint8_t	b[4096];
	uint64_t	big = 0xffffffffffff0101ULL;
	uint8_t		out[2];
	size_t		i;

	for (i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)(i * 251 + 3);
	/* big is 0x0101 mod 0xffff (either byte order): it wraps 64 bits. */
	fold_bytes(frame_sum(big, b, sizeof b), out);
	ck_assert_uint_eq(get16(out),
	    (uint16_t)~ref_fold(ref_sum(0x0101, b, sizeof b)));
}
END_TEST

/* Build a TCP segment over each family and link and check every layer. */
static void
tcp_case(int family, int link, size_t caplen, size_t len)
{
	static const uint8_t	opt[] = { 2, 4, 0x05, 0xb4 };
	struct frame_ep		src, dst;
	struct frame_tcp	t;
	uint8_t			payload[200];
	size_t			h, l4, i;

	for (i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i ^ 0x5a);
	src = ep(family, 10, 40000);
	dst = ep(family, 20, 443);
	memset(&t, 0, sizeof t);
	t.seq = 0xfffffff0;
	t.ack = 0x01020304;
	t.flags = TCP_PSH | TCP_ACK;
	t.window = 65535;
	t.opt = opt;
	t.optlen = sizeof opt;
	memset(buf, 0xcc, sizeof buf);
	h = frame_tcp(buf, link, &src, &dst, 0x1234, &t, payload, caplen,
	    len);
	l4 = check_ip(buf, link, &src, &dst, IPPROTO_TCP, 24 + len);
	ck_assert_uint_eq(h, l4 + 24);
	if (family == AF_INET)
		ck_assert_uint_eq(get16(buf + l4 - 16), 0x1234);
	ck_assert_uint_eq(get16(buf + l4), 40000);
	ck_assert_uint_eq(get16(buf + l4 + 2), 443);
	ck_assert_uint_eq(get32(buf + l4 + 4), 0xfffffff0);
	ck_assert_uint_eq(get32(buf + l4 + 8), 0x01020304);
	ck_assert_uint_eq(buf[l4 + 12] >> 4, 6);	/* 24 bytes */
	ck_assert_uint_eq(buf[l4 + 13], TCP_PSH | TCP_ACK);
	ck_assert_uint_eq(get16(buf + l4 + 14), 65535);
	ck_assert_uint_eq(get16(buf + l4 + 18), 0);
	ck_assert_mem_eq(buf + l4 + 20, opt, sizeof opt);
	if (caplen > 0)
		ck_assert_mem_eq(buf + h, payload, caplen);
	ck_assert_uint_eq(buf[h + caplen], 0xcc);	/* nothing more */
	check_l4_sum(buf + l4, &src, &dst, IPPROTO_TCP, 24, caplen, len);
}

/* IPv4 over Ethernet: with data, empty, and an odd length. */
START_TEST(test_tcp4_ether)
{
	tcp_case(AF_INET, FRAME_LINK_ETHER, 100, 100);
	tcp_case(AF_INET, FRAME_LINK_ETHER, 0, 0);
	tcp_case(AF_INET, FRAME_LINK_ETHER, 101, 101);
}
END_TEST

/* IPv4 with no link header. */
START_TEST(test_tcp4_raw)
{
	tcp_case(AF_INET, FRAME_LINK_RAW, 99, 99);
}
END_TEST

/* IPv6 over Ethernet: payload length counts TCP only. */
START_TEST(test_tcp6_ether)
{
	tcp_case(AF_INET6, FRAME_LINK_ETHER, 100, 100);
	tcp_case(AF_INET6, FRAME_LINK_ETHER, 0, 0);
}
END_TEST

/* IPv6 with no link header. */
START_TEST(test_tcp6_raw)
{
	tcp_case(AF_INET6, FRAME_LINK_RAW, 77, 77);
}
END_TEST

/* caplen < len: the headers give the wire length, the frame stops short. */
START_TEST(test_tcp_truncated)
{
	tcp_case(AF_INET, FRAME_LINK_ETHER, 10, 1000);
	tcp_case(AF_INET6, FRAME_LINK_RAW, 0, 65000);
	tcp_case(AF_INET, FRAME_LINK_RAW, 33, 65491);	/* total 65535 */
}
END_TEST

/* No options: a 20-byte header, data offset 5. */
START_TEST(test_tcp_no_options)
{
	struct frame_ep		src = ep(AF_INET, 1, 1);
	struct frame_ep		dst = ep(AF_INET, 2, 2);
	struct frame_tcp	t;
	size_t			h;

	memset(&t, 0, sizeof t);
	t.flags = TCP_SYN;
	h = frame_tcp(buf, FRAME_LINK_RAW, &src, &dst, 0, &t, NULL, 0, 0);
	ck_assert_uint_eq(h, 40);
	ck_assert_uint_eq(buf[32] >> 4, 5);
	ck_assert_uint_eq(buf[33], TCP_SYN);
	check_l4_sum(buf + 20, &src, &dst, IPPROTO_TCP, 20, 0, 0);
}
END_TEST

/* Build a UDP datagram and check every layer. */
static void
udp_case(int family, int link, size_t caplen, size_t len)
{
	struct frame_ep	src, dst;
	uint8_t		payload[300];
	size_t		h, l4, i;

	for (i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 3);
	src = ep(family, 30, 5353);
	dst = ep(family, 40, 53);
	memset(buf, 0xcc, sizeof buf);
	h = frame_udp(buf, link, &src, &dst, 7, payload, caplen, len);
	l4 = check_ip(buf, link, &src, &dst, IPPROTO_UDP, 8 + len);
	ck_assert_uint_eq(h, l4 + 8);
	ck_assert_uint_eq(get16(buf + l4), 5353);
	ck_assert_uint_eq(get16(buf + l4 + 2), 53);
	ck_assert_uint_eq(get16(buf + l4 + 4), 8 + len);
	ck_assert_uint_ne(get16(buf + l4 + 6), 0);
	if (caplen > 0)
		ck_assert_mem_eq(buf + h, payload, caplen);
	ck_assert_uint_eq(buf[h + caplen], 0xcc);
	check_l4_sum(buf + l4, &src, &dst, IPPROTO_UDP, 8, caplen, len);
}

/*
 * frame_tcp_head() and frame_udp_head() write the headers only, summing
 * a payload that stays where it is (here at an odd address): the same
 * headers as the whole frame's, and nothing written after them.
 */
START_TEST(test_head_only)
{
	static uint8_t		whole[FRAME_HEADROOM + 1600];
	static const uint8_t	opt[4] = { 1, 1, 1, 1 };
	struct frame_ep		src, dst;
	struct frame_tcp	t;
	uint8_t			store[1602], *payload = store + 1;
	size_t			h, hw, i;

	for (i = 0; i < 1601; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	src = ep(AF_INET6, 10, 40000);
	dst = ep(AF_INET6, 20, 443);
	memset(&t, 0, sizeof t);
	t.seq = 77;
	t.flags = TCP_ACK;
	t.opt = opt;
	t.optlen = sizeof opt;
	memset(buf, 0xcc, sizeof buf);
	h = frame_tcp_head(buf, FRAME_LINK_ETHER, &src, &dst, 9, &t, payload,
	    1601, 1700);
	hw = frame_tcp(whole, FRAME_LINK_ETHER, &src, &dst, 9, &t, payload,
	    1601, 1700);
	ck_assert_uint_eq(h, hw);
	ck_assert_mem_eq(buf, whole, h);
	ck_assert_uint_eq(buf[h], 0xcc);
	memset(buf, 0xcc, sizeof buf);
	h = frame_udp_head(buf, FRAME_LINK_RAW, &src, &dst, 9, payload, 1601,
	    1601);
	hw = frame_udp(whole, FRAME_LINK_RAW, &src, &dst, 9, payload, 1601,
	    1601);
	ck_assert_uint_eq(h, hw);
	ck_assert_mem_eq(buf, whole, h);
	ck_assert_uint_eq(buf[h], 0xcc);
}
END_TEST

START_TEST(test_udp)
{
	udp_case(AF_INET, FRAME_LINK_ETHER, 300, 300);
	udp_case(AF_INET, FRAME_LINK_RAW, 0, 0);
	udp_case(AF_INET6, FRAME_LINK_ETHER, 13, 13);
	udp_case(AF_INET6, FRAME_LINK_RAW, 299, 299);
	udp_case(AF_INET, FRAME_LINK_ETHER, 20, 5000);
	udp_case(AF_INET6, FRAME_LINK_RAW, 0, 5000);
}
END_TEST

/*
 * A datagram whose checksum computes to 0 goes out as ffff (RFC 768).
 * Two payload bytes equal to the checksum of the same datagram with
 * zeros there bring the sum to exactly ffff.
 */
START_TEST(test_udp_zero_sum)
{
	struct frame_ep	src, dst;
	uint8_t		payload[2] = { 0, 0 };
	size_t		h;

	src = ep(AF_INET, 50, 1000);
	dst = ep(AF_INET, 60, 2000);
	h = frame_udp(buf, FRAME_LINK_RAW, &src, &dst, 0, payload, 2, 2);
	memcpy(payload, buf + 26, 2);
	ck_assert(payload[0] != 0 || payload[1] != 0);
	h = frame_udp(buf, FRAME_LINK_RAW, &src, &dst, 0, payload, 2, 2);
	ck_assert_uint_eq(h, 28);
	ck_assert_uint_eq(get16(buf + 26), 0xffff);
	check_l4_sum(buf + 20, &src, &dst, IPPROTO_UDP, 8, 2, 2);
}
END_TEST

/* Checksums, then TCP and UDP frames. */
static Suite *
frame_suite(void)
{
	Suite	*s = suite_create("frame");
	TCase	*tc;

	tc = tcase_create("checksum");
	check_add_tests(tc, test_sum_rfc1071, test_sum_ipv4_header,
	    test_sum_odd, test_sum_carries, test_sum_split, test_sum_random,
	    test_sum_carry_in, NULL);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	check_add_tests(tc, test_tcp4_ether, test_tcp4_raw, test_tcp6_ether,
	    test_tcp6_raw, test_tcp_truncated, test_tcp_no_options, NULL);
	suite_add_tcase(s, tc);

	tc = tcase_create("udp");
	check_add_tests(tc, test_udp, test_udp_zero_sum, test_head_only, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { frame_suite, NULL };
