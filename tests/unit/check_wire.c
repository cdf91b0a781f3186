/* Check suite for wire.c: varints and schema-less field walking. */

#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkmain.h"
#include "wire.h"

static Suite	*wire_suite(void);

/* A varint and the bytes the protobuf encoding spec gives for it. */
struct varint_case {
	uint64_t	value;
	size_t		len;
	uint8_t		bytes[WIRE_VARINT_MAX];
};

static const struct varint_case varint_cases[] = {
	{ 0, 1, { 0x00 } },
	{ 1, 1, { 0x01 } },
	{ 127, 1, { 0x7f } },
	{ 128, 2, { 0x80, 0x01 } },
	{ 300, 2, { 0xac, 0x02 } },	/* the spec's own example */
	{ 1ULL << 32, 5, { 0x80, 0x80, 0x80, 0x80, 0x10 } },
	{ UINT64_MAX, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0x01 } }
};
#define NVARINT	(sizeof varint_cases / sizeof varint_cases[0])

/* Walk one field of buf from *pos, failing the test on damage. */
static void
next_ok(const uint8_t *buf, size_t n, size_t *pos, struct wire_field *f)
{
	const char	*why = NULL;
	int		 r;

	r = wire_next(buf, n, pos, f, &why);
	ck_assert_msg(r == 1, "wire_next: %d (%s)", r, why ? why : "-");
}

/* Expect damage at *pos: -1, a reason, the tag's offset, pos unmoved. */
static void
next_bad(const uint8_t *buf, size_t n, size_t pos, size_t tag)
{
	struct wire_field	 f;
	const char		*why = NULL;
	size_t			 p = pos;

	memset(&f, 0, sizeof f);
	ck_assert_int_eq(wire_next(buf, n, &p, &f, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(f.offset, tag);
	ck_assert_uint_eq(p, pos);
}

/* wire_put_varint writes the spec's bytes; wire_get_varint reads them. */
START_TEST(test_varint_round_trip)
{
	const struct varint_case	*c = &varint_cases[_i];
	uint8_t				 b[WIRE_VARINT_MAX + 4];
	uint64_t			 v = 12345;

	memset(b, 0xee, sizeof b);
	ck_assert_uint_eq(wire_put_varint(b, c->value), c->len);
	ck_assert_mem_eq(b, c->bytes, c->len);
	ck_assert_uint_eq(b[c->len], 0xee);
	ck_assert_uint_eq(wire_get_varint(b, sizeof b, &v), c->len);
	ck_assert_uint_eq(v, c->value);
	/* Exactly the bytes it needs is enough. */
	v = 12345;
	ck_assert_uint_eq(wire_get_varint(b, c->len, &v), c->len);
	ck_assert_uint_eq(v, c->value);
}
END_TEST

/* Every prefix of a multi-byte varint is cut short. */
START_TEST(test_varint_cut_short)
{
	uint8_t		b[WIRE_VARINT_MAX];
	uint64_t	v = 7;
	size_t		len, i;

	len = wire_put_varint(b, UINT64_MAX);
	for (i = 0; i < len; i++)
		ck_assert_uint_eq(wire_get_varint(b, i, &v), 0);
	ck_assert_uint_eq(v, 7);
	b[0] = 0x80;
	ck_assert_uint_eq(wire_get_varint(b, 1, &v), 0);
}
END_TEST

/* Eleven bytes (ten with the high bit set) are longer than any varint. */
START_TEST(test_varint_over_long)
{
	uint8_t		b[WIRE_VARINT_MAX + 1];
	uint64_t	v = 7;

	memset(b, 0x80, sizeof b);
	b[WIRE_VARINT_MAX] = 0x01;
	ck_assert_uint_eq(wire_get_varint(b, sizeof b, &v), 0);
	ck_assert_uint_eq(v, 7);
	/* Ten bytes that all continue: over-long even when more follow. */
	ck_assert_uint_eq(wire_get_varint(b, WIRE_VARINT_MAX, &v), 0);
}
END_TEST

/* A varint field: field 1 = 150, the spec's "08 96 01". */
START_TEST(test_next_varint)
{
	static const uint8_t	buf[] = { 0x08, 0x96, 0x01 };
	struct wire_field	f;
	size_t			pos = 0;

	next_ok(buf, sizeof buf, &pos, &f);
	ck_assert_uint_eq(f.number, 1);
	ck_assert_int_eq(f.type, WIRE_VARINT);
	ck_assert_uint_eq(f.value, 150);
	ck_assert_uint_eq(f.offset, 0);
	ck_assert_ptr_null(f.data);
	ck_assert_uint_eq(pos, 3);
}
END_TEST

/* Fixed 64-bit and 32-bit fields are little-endian. */
START_TEST(test_next_fixed)
{
	static const uint8_t	buf[] = {
		0x11, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x25, 0x78, 0x56, 0x34, 0x12
	};
	struct wire_field	f;
	size_t			pos = 0;

	next_ok(buf, sizeof buf, &pos, &f);
	ck_assert_uint_eq(f.number, 2);
	ck_assert_int_eq(f.type, WIRE_I64);
	ck_assert_uint_eq(f.value, 0x0102030405060708ULL);
	ck_assert_uint_eq(pos, 9);
	next_ok(buf, sizeof buf, &pos, &f);
	ck_assert_uint_eq(f.number, 4);
	ck_assert_int_eq(f.type, WIRE_I32);
	ck_assert_uint_eq(f.value, 0x12345678);
	ck_assert_uint_eq(f.offset, 9);
	ck_assert_uint_eq(pos, sizeof buf);
}
END_TEST

/* A length-delimited field points into the buffer, not at a copy. */
START_TEST(test_next_len)
{
	static const uint8_t	buf[] = { 0x1a, 0x03, 'a', 'b', 'c', 0x22,
				    0x00 };
	struct wire_field	f;
	size_t			pos = 0;

	next_ok(buf, sizeof buf, &pos, &f);
	ck_assert_uint_eq(f.number, 3);
	ck_assert_int_eq(f.type, WIRE_LEN);
	ck_assert_ptr_eq(f.data, buf + 2);
	ck_assert_uint_eq(f.len, 3);
	ck_assert_uint_eq(pos, 5);
	/* An empty one is fine too. */
	next_ok(buf, sizeof buf, &pos, &f);
	ck_assert_uint_eq(f.number, 4);
	ck_assert_uint_eq(f.len, 0);
	ck_assert_uint_eq(pos, sizeof buf);
}
END_TEST

/* Fields of every type in a row, then 0 at the end and pos at n. */
START_TEST(test_next_walk)
{
	uint8_t			buf[64];
	struct wire_field	f;
	const char		*why = NULL;
	size_t			n = 0, pos = 0;

	n += wire_put_varint(buf + n, (5 << 3) | WIRE_VARINT);
	n += wire_put_varint(buf + n, 1ULL << 32);
	buf[n++] = (6 << 3) | WIRE_I32;
	memset(buf + n, 0xff, 4);
	n += 4;
	n += wire_put_varint(buf + n, (536870911ULL << 3) | WIRE_LEN);
	buf[n++] = 1;
	buf[n++] = 'x';
	next_ok(buf, n, &pos, &f);
	ck_assert_uint_eq(f.value, 1ULL << 32);
	next_ok(buf, n, &pos, &f);
	ck_assert_uint_eq(f.value, 0xffffffffULL);
	next_ok(buf, n, &pos, &f);
	ck_assert_uint_eq(f.number, 536870911);	/* the largest allowed */
	ck_assert_uint_eq(f.len, 1);
	ck_assert_uint_eq(pos, n);
	ck_assert_int_eq(wire_next(buf, n, &pos, &f, &why), 0);
	ck_assert_uint_eq(pos, n);
}
END_TEST

/* An empty buffer, or pos at its end, is the end: 0, not damage. */
START_TEST(test_next_end)
{
	static const uint8_t	buf[] = { 0x08, 0x01 };
	struct wire_field	f;
	const char		*why = NULL;
	size_t			pos = 0;

	ck_assert_int_eq(wire_next(buf, 0, &pos, &f, &why), 0);
	ck_assert_uint_eq(pos, 0);
	pos = sizeof buf;
	ck_assert_int_eq(wire_next(buf, sizeof buf, &pos, &f, &why), 0);
	ck_assert_ptr_null(why);
}
END_TEST

/* Field number 0 and numbers past 2^29 - 1 are out of range. */
START_TEST(test_next_bad_number)
{
	uint8_t	buf[16];
	size_t	n;

	buf[0] = 0x08;
	buf[1] = 0x01;
	buf[2] = 0x00 | WIRE_VARINT;	/* field 0 */
	buf[3] = 0x01;
	next_bad(buf, 4, 2, 2);
	buf[2] = 0x00 | WIRE_LEN;
	next_bad(buf, 4, 2, 2);
	n = wire_put_varint(buf, (536870912ULL << 3) | WIRE_VARINT);
	buf[n++] = 0x01;
	next_bad(buf, n, 0, 0);
}
END_TEST

/* A length past the end is caught, and f->offset names the tag. */
START_TEST(test_next_len_past_end)
{
	static const uint8_t	buf[] = { 0x08, 0x96, 0x01, 0x1a, 0x05, 'a',
				    'b' };
	static const uint8_t	huge[] = { 0x0a, 0xff, 0xff, 0xff, 0xff,
				    0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };

	next_bad(buf, sizeof buf, 3, 3);
	/* One byte short of fitting. */
	next_bad(buf, sizeof buf - 1, 3, 3);
	/* A 2^64 - 1 length must not wrap around. */
	next_bad(huge, sizeof huge, 0, 0);
}
END_TEST

/* Groups (wire types 3 and 4) and the unused types 6 and 7. */
START_TEST(test_next_groups)
{
	static const int	types[] = { 3, 4, 6, 7 };
	uint8_t			buf[4];
	size_t			i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		buf[0] = 0x08;
		buf[1] = 0x00;
		buf[2] = (uint8_t)((2 << 3) | types[i]);
		buf[3] = 0x00;
		next_bad(buf, sizeof buf, 2, 2);
	}
}
END_TEST

/* A tag, varint value or fixed value cut off by the buffer's end. */
START_TEST(test_next_cut_short)
{
	static const uint8_t	tag[] = { 0x80, 0x80 };
	static const uint8_t	value[] = { 0x08, 0x96 };
	static const uint8_t	i64[] = { 0x09, 1, 2, 3, 4, 5, 6, 7 };
	static const uint8_t	i32[] = { 0x0d, 1, 2, 3 };
	static const uint8_t	len[] = { 0x0a, 0x80 };

	next_bad(tag, sizeof tag, 0, 0);
	next_bad(value, sizeof value, 0, 0);
	next_bad(i64, sizeof i64, 0, 0);
	next_bad(i32, sizeof i32, 0, 0);
	next_bad(len, sizeof len, 0, 0);
}
END_TEST

/* Varints, then field walking. */
static Suite *
wire_suite(void)
{
	Suite	*s = suite_create("wire");
	TCase	*tc;

	tc = tcase_create("varint");
	tcase_add_loop_test(tc, test_varint_round_trip, 0, (int)NVARINT);
	check_add_tests(tc, test_varint_cut_short, test_varint_over_long,
	    NULL);
	suite_add_tcase(s, tc);

	tc = tcase_create("next");
	check_add_tests(tc, test_next_varint, test_next_fixed, test_next_len,
	    test_next_walk, test_next_end, test_next_bad_number,
	    test_next_len_past_end, test_next_groups, test_next_cut_short,
	    NULL);
	suite_add_tcase(s, tc);
	return (s);
}

const check_suite_fn	check_suites[] = { wire_suite, NULL };
