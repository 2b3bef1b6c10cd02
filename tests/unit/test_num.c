/* test_num.c: the strict decimal parser: digits only, no sign, no overflow. */
#include <stdint.h>
#include <string.h>

#include "num.h"
#include "check_main.h"

static int
parse(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	return num_parse(s, strlen(s), min, max, v);
}

START_TEST(test_accepts_digits)
{
	uint64_t v = 99;

	ck_assert_int_eq(parse("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse("12345", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 12345);
	/* Leading zeros are still a decimal number (RFC 5321 SIZE=0010). */
	ck_assert_int_eq(parse("007", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(parse("18446744073709551615", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	/* Only LEN bytes count: a number inside a longer line. */
	ck_assert_int_eq(num_parse("42 rest", 2, 0, 100, &v), 0);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(test_rejects_junk)
{
	uint64_t v = 5;

	ck_assert_int_eq(parse("", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse(NULL, 0, 0, 10, &v), -1);
	ck_assert_int_eq(parse("-1", 0, 10, &v), -1);
	ck_assert_int_eq(parse("+1", 0, 10, &v), -1);
	ck_assert_int_eq(parse(" 1", 0, 10, &v), -1);
	ck_assert_int_eq(parse("1 ", 0, 10, &v), -1);
	ck_assert_int_eq(parse("1a", 0, 10, &v), -1);
	ck_assert_int_eq(parse("0x1", 0, 10, &v), -1);
	ck_assert_int_eq(num_parse("1\0" "2", 3, 0, 100, &v), -1);
	/* A failed parse leaves the output alone. */
	ck_assert_uint_eq(v, 5);
}
END_TEST

START_TEST(test_range_and_overflow)
{
	uint64_t v;

	ck_assert_int_eq(parse("18446744073709551616", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(parse("99999999999999999999999", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(parse("0", 1, 86400, &v), -1);
	ck_assert_int_eq(parse("86401", 1, 86400, &v), -1);
	ck_assert_int_eq(parse("86400", 1, 86400, &v), 0);
	ck_assert_int_eq(parse("1", 1, 86400, &v), 0);
}
END_TEST

static int
sat(const char *s, uint64_t max, uint64_t *v)
{
	return num_parse_sat(s, strlen(s), max, v);
}

START_TEST(test_saturating)
{
	uint64_t v = 5;

	ck_assert_int_eq(sat("0", UINT64_MAX - 1, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(sat("10", UINT64_MAX - 1, &v), 0);
	ck_assert_uint_eq(v, 10);
	/* the edges of the 64-bit range, and far past it */
	ck_assert_int_eq(sat("18446744073709551614", UINT64_MAX - 1, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX - 1);
	ck_assert_int_eq(sat("18446744073709551615", UINT64_MAX - 1, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX - 1);
	ck_assert_int_eq(sat("18446744073709551615", UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(sat("18446744073709551616", UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(sat("99999999999999999999", UINT64_MAX - 1, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX - 1);
	ck_assert_int_eq(sat("000000000000000000000000000000007", 100, &v), 0);
	ck_assert_uint_eq(v, 7);
	/* small ceilings, exactly at and just past them */
	ck_assert_int_eq(sat("100", 100, &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(sat("101", 100, &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(sat("109", 100, &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(sat("7", 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	/* junk is junk however large the number before it */
	v = 5;
	ck_assert_int_eq(sat("", 100, &v), -1);
	ck_assert_int_eq(num_parse_sat(NULL, 0, 100, &v), -1);
	ck_assert_int_eq(sat("-1", 100, &v), -1);
	ck_assert_int_eq(sat("+1", 100, &v), -1);
	ck_assert_int_eq(sat(" 1", 100, &v), -1);
	ck_assert_int_eq(sat("99999999999999999999x", UINT64_MAX, &v), -1);
	ck_assert_int_eq(sat("99999999999999999999 ", UINT64_MAX, &v), -1);
	ck_assert_uint_eq(v, 5);
}
END_TEST

static Suite *
num_suite(void)
{
	Suite *s = suite_create("num");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_accepts_digits);
	tcase_add_test(tc, test_rejects_junk);
	tcase_add_test(tc, test_range_and_overflow);
	suite_add_tcase(s, tc);
	tc = tcase_create("saturating");
	tcase_add_test(tc, test_saturating);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(num_suite)
