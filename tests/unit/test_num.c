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

static Suite *
num_suite(void)
{
	Suite *s = suite_create("num");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_accepts_digits);
	tcase_add_test(tc, test_rejects_junk);
	tcase_add_test(tc, test_range_and_overflow);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(num_suite)
