/* test_num.c: the strict decimal parser: digits only, no sign, no overflow;
 * and sizes with a K, M or G suffix. */
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

static int
size(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	return num_parse_size(s, strlen(s), min, max, v);
}

START_TEST(test_size_suffixes)
{
	uint64_t v = 0;

	ck_assert_int_eq(size("1000", 1, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 1000);
	/* Powers of 1024, as Dovecot reads them; either case. */
	ck_assert_int_eq(size("10M", 1, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 10485760);
	ck_assert_int_eq(size("10m", 1, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 10485760);
	ck_assert_int_eq(size("2k", 1, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 2048);
	ck_assert_int_eq(size("2K", 1, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 2048);
	ck_assert_int_eq(size("1G", 1, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 1073741824);
	ck_assert_int_eq(size("3g", 1, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 3ull << 30);
	ck_assert_int_eq(size("0K", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	/* The limits hold for the product: 1G is the most -s takes. */
	ck_assert_int_eq(size("1G", 1, 1073741824, &v), 0);
	ck_assert_int_eq(size("1048576K", 1, 1073741824, &v), 0);
	ck_assert_int_eq(size("1048577K", 1, 1073741824, &v), -1);
	ck_assert_int_eq(size("2G", 1, 1073741824, &v), -1);
	ck_assert_int_eq(size("0M", 1, 100, &v), -1);
	/* -q's ceiling, 2^62, exactly and one unit past it. */
	ck_assert_int_eq(size("4294967296G", 1, 1ull << 62, &v), 0);
	ck_assert_uint_eq(v, 1ull << 62);
	ck_assert_int_eq(size("4294967297G", 1, 1ull << 62, &v), -1);
}
END_TEST

START_TEST(test_size_junk)
{
	uint64_t v = 5;

	/* Products past 2^64 never wrap into a small size. */
	ck_assert_int_eq(size("17179869184G", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("18014398509481984K", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("99999999999999999999999M", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("", 1, 100, &v), -1);
	ck_assert_int_eq(num_parse_size(NULL, 0, 1, 100, &v), -1);
	ck_assert_int_eq(size("M", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("k", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("10MB", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("10MiB", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("10B", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("10T", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("10KK", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("10 M", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("1.5M", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("-1M", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("+1M", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("M10", 1, UINT64_MAX, &v), -1);
	ck_assert_int_eq(size("0x10", 1, UINT64_MAX, &v), -1);
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
	tc = tcase_create("size");
	tcase_add_test(tc, test_size_suffixes);
	tcase_add_test(tc, test_size_junk);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(num_suite)
