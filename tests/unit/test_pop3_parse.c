/* test_pop3_parse.c: the small parsers of pop3d: argument splitting, strict
 * base64, SASL PLAIN messages, MD5 and the APOP digest check. */
#include <stdio.h>
#include <string.h>

#include "pop3d.h"
#include "check_main.h"

START_TEST(split_words)
{
	char buf[64], *argv[3];

	strcpy(buf, "");
	ck_assert_int_eq(pop3_split(buf, argv, 2), 0);
	strcpy(buf, "1");
	ck_assert_int_eq(pop3_split(buf, argv, 2), 1);
	ck_assert_str_eq(argv[0], "1");
	strcpy(buf, "1 20");
	ck_assert_int_eq(pop3_split(buf, argv, 2), 2);
	ck_assert_str_eq(argv[0], "1");
	ck_assert_str_eq(argv[1], "20");
	/* runs of spaces and trailing spaces change nothing */
	strcpy(buf, "  3   4  ");
	ck_assert_int_eq(pop3_split(buf, argv, 2), 2);
	ck_assert_str_eq(argv[0], "3");
	ck_assert_str_eq(argv[1], "4");
	strcpy(buf, "1 2 3");
	ck_assert_int_eq(pop3_split(buf, argv, 2), -1);
	strcpy(buf, "   ");
	ck_assert_int_eq(pop3_split(buf, argv, 1), 0);
}
END_TEST

START_TEST(base64_strict)
{
	unsigned char out[64];

	ck_assert_int_eq(pop3_b64_decode("", 0, out, sizeof(out)), 0);
	ck_assert_int_eq(pop3_b64_decode("YWJj", 4, out, sizeof(out)), 3);
	ck_assert(memcmp(out, "abc", 3) == 0);
	ck_assert_int_eq(pop3_b64_decode("YWI=", 4, out, sizeof(out)), 2);
	ck_assert(memcmp(out, "ab", 2) == 0);
	ck_assert_int_eq(pop3_b64_decode("YQ==", 4, out, sizeof(out)), 1);
	ck_assert_int_eq(out[0], 'a');
	ck_assert_int_eq(pop3_b64_decode("AGFsaWNlAHB3", 12, out, sizeof(out)), 9);
	ck_assert(memcmp(out, "\0alice\0pw", 9) == 0);
	/* not a whole quantum, bad characters, padding in the wrong place */
	ck_assert_int_eq(pop3_b64_decode("YWJ", 3, out, sizeof(out)), -1);
	ck_assert_int_eq(pop3_b64_decode("YW!j", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(pop3_b64_decode("Y===", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(pop3_b64_decode("YQ==YWJj", 8, out, sizeof(out)), -1);
	ck_assert_int_eq(pop3_b64_decode("YW=j", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(pop3_b64_decode("YW J", 4, out, sizeof(out)), -1);
	/* never past the output buffer */
	ck_assert_int_eq(pop3_b64_decode("YWJjYWJj", 8, out, 5), -1);
	ck_assert_int_eq(pop3_b64_decode("YWJjYWI=", 8, out, 5), 5);
}
END_TEST

static int
plain(const char *msg, size_t len, const char **u, const char **p)
{
	static char buf[128];
	char *user, *pass;
	int r;

	memcpy(buf, msg, len);
	r = pop3_sasl_plain(buf, len, &user, &pass);
	*u = user;
	*p = pass;
	return r;
}

START_TEST(sasl_plain_forms)
{
	const char *u, *p;

	ck_assert_int_eq(plain("\0alice\0pw", 9, &u, &p), 0);
	ck_assert_str_eq(u, "alice");
	ck_assert_str_eq(p, "pw");
	ck_assert_int_eq(plain("alice\0alice\0pw", 14, &u, &p), 0);
	ck_assert_str_eq(u, "alice");
	ck_assert_int_eq(plain("\0alice\0", 7, &u, &p), 0);
	ck_assert_str_eq(p, "");
	/* acting for another user is not offered; the log still learns who
	 * asked */
	ck_assert_int_eq(plain("bob\0alice\0pw", 12, &u, &p), -2);
	ck_assert_str_eq(u, "alice");
	/* malformed: too few or too many fields, no user; the authcid is
	 * known whenever there are two NULs */
	ck_assert_int_eq(plain("alicepw", 7, &u, &p), -1);
	ck_assert_ptr_null(u);
	ck_assert_int_eq(plain("\0alicepw", 8, &u, &p), -1);
	ck_assert_ptr_null(u);
	ck_assert_int_eq(plain("\0alice\0p\0w", 10, &u, &p), -1);
	ck_assert_str_eq(u, "alice");
	ck_assert_int_eq(plain("\0\0pw", 4, &u, &p), -1);
	ck_assert_str_eq(u, "");
	ck_assert_int_eq(plain("", 0, &u, &p), -1);
	ck_assert_ptr_null(u);
}
END_TEST

static void
hex(const unsigned char d[16], char out[33])
{
	int i;

	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

START_TEST(md5_rfc1321)
{
	/* RFC 1321 A.5 test suite */
	static const char *const v[][2] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz",
		  "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890"
		  "1234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	unsigned char d[16];
	char h[33];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pop3_md5(v[i][0], strlen(v[i][0]), d);
		hex(d, h);
		ck_assert_str_eq(h, v[i][1]);
	}
}
END_TEST

START_TEST(apop_digest)
{
	/* RFC 1939 7's example */
	const char *stamp = "<1896.697170952@dbc.mtview.ca.us>";

	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb"), 1);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaf",
	    "C4C9334BAC560ECC979E58001B3E22FB"), 1);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaF",
	    "c4c9334bac560ecc979e58001b3e22fb"), 0);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22f"), 0);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaf", ""), 0);
	/* every plain scheme pass_check knows, in any case */
	ck_assert_int_eq(pop3_apop_check(stamp, "{plain}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb"), 1);
	ck_assert_int_eq(pop3_apop_check(stamp, "{CLEAR}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb"), 1);
	ck_assert_int_eq(pop3_apop_check(stamp, "{CLEARTEXT}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb"), 1);
	ck_assert_int_eq(pop3_apop_check(stamp, "{Cleartext}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb"), 1);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAINX}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb"), 0);
	ck_assert_int_eq(pop3_apop_check(stamp, "{SHA512-CRYPT}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb"), 0);
	/* a crypt hash cannot answer an APOP challenge */
	ck_assert_int_eq(pop3_apop_check(stamp, "$6$salt$hash",
	    "c4c9334bac560ecc979e58001b3e22fb"), 0);
}
END_TEST

START_TEST(md5_incremental)
{
	static char text[300];
	unsigned char one[16], inc[16];
	struct pop3_md5 m;
	size_t len, cut, i;

	for (i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	/* every length around the block and padding edges, cut anywhere */
	for (len = 0; len <= 200; len++) {
		pop3_md5(text, len, one);
		for (cut = 0; cut <= len; cut += len < 70 ? 1 : 13) {
			pop3_md5_init(&m);
			pop3_md5_update(&m, text, cut);
			pop3_md5_update(&m, text + cut, len - cut);
			pop3_md5_final(&m, inc);
			ck_assert(memcmp(one, inc, 16) == 0);
		}
	}
}
END_TEST

/* The APOP answer for STAMP and password PW, computed the plain way. */
static void
apop_answer(const char *stamp, const char *pw, char h[33])
{
	static char buf[4096];
	unsigned char d[16];
	int n;

	n = snprintf(buf, sizeof(buf), "%s%s", stamp, pw);
	ck_assert(n > 0 && (size_t)n < sizeof(buf));
	pop3_md5(buf, (size_t)n, d);
	hex(d, h);
}

START_TEST(apop_long_stamp_and_password)
{
	/* A 250-octet host (-h) makes a stamp of about 290 octets; with a
	 * 240-octet password the two no longer fit in 512 bytes.  That once
	 * made the check hash the empty string, so MD5("") logged anyone in. */
	char host[251], pw[241], stored[260], stamp[320], h[33];

	memset(host, 'h', 250);
	host[250] = '\0';
	memset(pw, 'p', 240);
	pw[240] = '\0';
	snprintf(stamp, sizeof(stamp), "<4194304.1798761600.999999999@%s>", host);
	snprintf(stored, sizeof(stored), "{PLAIN}%s", pw);
	ck_assert_uint_gt(strlen(stamp) + strlen(pw), 512);
	ck_assert_int_eq(pop3_apop_check(stamp, stored,
	    "d41d8cd98f00b204e9800998ecf8427e"), 0);
	apop_answer(stamp, pw, h);
	ck_assert_int_eq(pop3_apop_check(stamp, stored, h), 1);
	/* the digest of the stamp alone, or of the password alone, is no
	 * answer either */
	apop_answer(stamp, "", h);
	ck_assert_int_eq(pop3_apop_check(stamp, stored, h), 0);
	apop_answer("", pw, h);
	ck_assert_int_eq(pop3_apop_check(stamp, stored, h), 0);
}
END_TEST

START_TEST(apop_fails_closed)
{
	const char *stamp = "<1896.697170952@dbc.mtview.ca.us>";
	char h[33];

	/* an empty {PLAIN} password never matches, not even MD5(stamp) */
	apop_answer(stamp, "", h);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}", h), 0);
	/* no timestamp (APOP not offered): nothing matches */
	apop_answer("", "tanstaaf", h);
	ck_assert_int_eq(pop3_apop_check("", "{PLAIN}tanstaaf", h), 0);
	ck_assert_int_eq(pop3_apop_check(NULL, "{PLAIN}tanstaaf", h), 0);
	ck_assert_int_eq(pop3_apop_check(stamp, NULL, h), 0);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaf", NULL), 0);
	/* digests of the wrong length, or with junk */
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22fb0"), 0);
	ck_assert_int_eq(pop3_apop_check(stamp, "{PLAIN}tanstaaf",
	    "c4c9334bac560ecc979e58001b3e22f\xfb"), 0);
}
END_TEST

static Suite *
pop3_parse_suite(void)
{
	Suite *s = suite_create("pop3_parse");
	TCase *tc;

	tc = tcase_create("args");
	tcase_add_test(tc, split_words);
	suite_add_tcase(s, tc);
	tc = tcase_create("sasl");
	tcase_add_test(tc, base64_strict);
	tcase_add_test(tc, sasl_plain_forms);
	suite_add_tcase(s, tc);
	tc = tcase_create("apop");
	tcase_add_test(tc, md5_rfc1321);
	tcase_add_test(tc, md5_incremental);
	tcase_add_test(tc, apop_digest);
	tcase_add_test(tc, apop_long_stamp_and_password);
	tcase_add_test(tc, apop_fails_closed);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pop3_parse_suite)
