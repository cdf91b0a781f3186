/* Check suite for dns.c: DNS messages decoded, damage refused in bounds. */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "dns.h"

static Suite	*dns_suite(void);

/* A response for www.example.test A 192.0.2.1 (RFC 1035, 4.1). */
static const uint8_t answer[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
	4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1
};

/* Parse, expecting success. */
static void
parse_ok(const uint8_t *m, size_t n, struct dns_msg *d)
{
	const char	*why = NULL;

	ck_assert_msg(dns_parse(m, n, d, &why) == 0, "%s", why);
}

/* Parse, expecting damage to be reported. */
static void
parse_bad(const uint8_t *m, size_t n)
{
	struct dns_msg	 d;
	const char	*why = NULL;

	ck_assert_int_eq(dns_parse(m, n, &d, &why), -1);
	ck_assert_ptr_nonnull(why);
}

START_TEST(test_answer)
{
	struct dns_msg	d;

	parse_ok(answer, sizeof answer, &d);
	ck_assert_uint_eq(d.id, 0x1234);
	ck_assert(d.response);
	ck_assert_int_eq(d.rcode, 0);
	ck_assert_int_eq(d.nqd, 1);
	ck_assert_str_eq(d.qd[0].name, "www.example.test");
	ck_assert_uint_eq(d.qd[0].type, 1);
	ck_assert_int_eq(d.nan, 1);
	ck_assert_str_eq(d.an[0].name, "www.example.test");
	ck_assert_uint_eq(d.an[0].ttl, 60);
	ck_assert_str_eq(d.an[0].data, "192.0.2.1");
}
END_TEST

/* Every prefix of a good message is refused, never read past. */
START_TEST(test_every_cut)
{
	uint8_t	*m = malloc(_i);

	ck_assert_ptr_nonnull(m);
	memcpy(m, answer, (size_t)_i);
	parse_bad(m, (size_t)_i);
	free(m);
}
END_TEST

/* A compression pointer to itself: a loop, refused. */
START_TEST(test_pointer_loop)
{
	uint8_t	m[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1,
		    0, 1 };

	parse_bad(m, sizeof m);
}
END_TEST

/* A pointer past the end, and a label running off it. */
START_TEST(test_pointer_out)
{
	uint8_t	m[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0, 1,
		    0, 1 };
	uint8_t	l[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'a', 'b' };

	parse_bad(m, sizeof m);
	parse_bad(l, sizeof l);
}
END_TEST

/* A name longer than the buffer (labels of 63, many times): refused. */
START_TEST(test_long_name)
{
	uint8_t	m[12 + 5 * 64 + 5];
	size_t	i, at = 12;

	memset(m, 'a', sizeof m);
	memset(m, 0, 12);
	m[5] = 1;
	for (i = 0; i < 5; i++, at += 64)
		m[at] = 63;
	m[at] = 0;
	m[at + 1] = 0;
	m[at + 2] = 1;
	m[at + 3] = 0;
	m[at + 4] = 1;
	parse_bad(m, sizeof m);
}
END_TEST

/* A label's control bytes and spaces come out escaped, never raw. */
START_TEST(test_escaped_label)
{
	static const uint8_t	m[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				    6, 'a', 0x1b, '[', '2', 'J', ' ', 2, 'x',
				    0x07, 0, 0, 1, 0, 1 };
	struct dns_msg		d;

	parse_ok(m, sizeof m, &d);
	ck_assert_str_eq(d.qd[0].name, "a\\e[2J\\x20.x\\a");
}
END_TEST

/* Record data longer than the message: refused. */
START_TEST(test_rdata_past_end)
{
	uint8_t	m[sizeof answer];

	memcpy(m, answer, sizeof m);
	m[sizeof m - 5] = 200;		/* rdlength */
	parse_bad(m, sizeof m);
}
END_TEST

START_TEST(test_names)
{
	char	buf[16];

	ck_assert_str_eq(dns_type_name(28, buf, sizeof buf), "AAAA");
	ck_assert_str_eq(dns_type_name(999, buf, sizeof buf), "TYPE999");
	ck_assert_str_eq(dns_rcode_name(3), "NXDOMAIN");
	ck_assert_str_eq(dns_rcode_name(99), "RCODE?");
}
END_TEST

static Suite *
dns_suite(void)
{
	Suite	*s = suite_create("dns");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, test_answer);
	tcase_add_loop_test(tc, test_every_cut, 1, (int)sizeof answer);
	check_add_tests(tc, test_pointer_loop, test_pointer_out,
	    test_long_name, test_escaped_label, test_rdata_past_end,
	    test_names, NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { dns_suite, NULL };
