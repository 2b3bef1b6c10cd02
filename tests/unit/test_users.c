/* test_users.c: users-file lines, password schemes, file lookup (comments,
 * case folding, malformed and over-long lines, unreadable files), system accounts. */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "pass.h"
#include "users.h"
#include "check_main.h"

/* A known pair: crypt("davepw", "$6$saltsalt$"). */
#define DAVE_HASH "$6$saltsalt$Y4mMAaWU.hm1kEXQxIG/B2RFU5IwQbZL0XMVAYWo/bJ5mLvjKOiML2YnP3DRa6FHW/c5lLoPxRcxLg1T4lXtk."

static int
parse(const char *line, struct user *u)
{
	return users_parse_line(line, strlen(line), u, NULL);
}

START_TEST(test_parse_entries)
{
	struct user u;

	ck_assert_int_eq(parse("bob:{PLAIN}secret", &u), 1);
	ck_assert_str_eq(u.name, "bob");
	ck_assert_str_eq(u.pass, "{PLAIN}secret");
	ck_assert_int_eq(u.has_ids, 0);

	ck_assert_int_eq(parse("dave:" DAVE_HASH ":1000:1001:Dave:/home/dave:/bin/sh", &u), 1);
	ck_assert_str_eq(u.pass, DAVE_HASH);
	ck_assert_int_eq(u.has_ids, 1);
	ck_assert_uint_eq(u.uid, 1000);
	ck_assert_uint_eq(u.gid, 1001);

	/* Dovecot leaves uid and gid empty when the defaults apply. */
	ck_assert_int_eq(parse("carol:{PLAIN}x::", &u), 1);
	ck_assert_int_eq(u.has_ids, 0);
	ck_assert_int_eq(parse("carol:{PLAIN}x:::::", &u), 1);
	ck_assert_int_eq(u.has_ids, 0);
	ck_assert_int_eq(parse("Erin@example.org:{PLAIN}x:0:0", &u), 1);
	ck_assert_str_eq(u.name, "Erin@example.org");
	ck_assert_int_eq(u.has_ids, 1);
	ck_assert_uint_eq(u.uid, 0);
}
END_TEST

START_TEST(test_parse_skipped)
{
	struct user u;

	ck_assert_int_eq(parse("", &u), 0);
	ck_assert_int_eq(parse("   \t", &u), 0);
	ck_assert_int_eq(parse("# a comment: with:colons", &u), 0);
	ck_assert_int_eq(parse("  # indented comment", &u), 0);
}
END_TEST

START_TEST(test_parse_malformed)
{
	static const char *const bad[] = {
		"bob",				/* no password field */
		":{PLAIN}x",			/* no name */
		"bob:",				/* empty password */
		"bob:{PLAIN}x:1000",		/* uid without gid */
		"bob:{PLAIN}x:1000:",		/* empty gid */
		"bob:{PLAIN}x::1000",		/* gid without uid */
		"bob:{PLAIN}x:10x0:1000",	/* junk in the uid */
		"bob:{PLAIN}x:-1:1000",		/* a sign */
		"bob:{PLAIN}x:4294967295:1",	/* (uid_t)-1 */
		"bob:{PLAIN}x:1:99999999999",	/* out of range */
		"b ob:{PLAIN}x",		/* space in the name */
		"../etc:{PLAIN}x",		/* a path, not a mailbox name */
		"b\033ob:{PLAIN}x",		/* control character */
		" bob:{PLAIN}x",		/* leading blank */
	};
	char line[USERS_LINE_MAX + 10];
	struct user u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &u) == -1, "accepted: %s", bad[i]);

	/* A NUL inside the line. */
	ck_assert_int_eq(users_parse_line("bob:{PLAIN}a\0b", 14, &u, NULL), -1);
	/* Name longer than USER_MAX. */
	memset(line, 'n', USER_MAX + 1);
	strcpy(line + USER_MAX + 1, ":{PLAIN}x");
	ck_assert_int_eq(parse(line, &u), -1);
	strcpy(line + USER_MAX, ":{PLAIN}x");
	ck_assert_int_eq(parse(line, &u), 1);
	/* Password longer than the field. */
	strcpy(line, "bob:{PLAIN}");
	memset(line + 11, 'p', 300);
	line[311] = '\0';
	ck_assert_int_eq(parse(line, &u), -1);
	/* Line longer than USERS_LINE_MAX. */
	memset(line, '#', sizeof(line));
	ck_assert_int_eq(users_parse_line(line, USERS_LINE_MAX, &u, NULL), 0);
	ck_assert_int_eq(users_parse_line(line, USERS_LINE_MAX + 1, &u, NULL), -1);
}
END_TEST

START_TEST(test_pass_plain)
{
	ck_assert_int_eq(pass_check("{PLAIN}secret", "secret"), 1);
	ck_assert_int_eq(pass_check("{plain}secret", "secret"), 1);
	ck_assert_int_eq(pass_check("{PLAIN}secret", "Secret"), 0);
	ck_assert_int_eq(pass_check("{PLAIN}secret", "secre"), 0);
	ck_assert_int_eq(pass_check("{PLAIN}secret", "secrets"), 0);
	ck_assert_int_eq(pass_check("{PLAIN}secret", ""), 0);
	/* An empty {PLAIN} password never matches, not even an empty one. */
	ck_assert_int_eq(pass_check("{PLAIN}", ""), 0);
	/* A password may itself contain braces and colons' neighbours. */
	ck_assert_int_eq(pass_check("{PLAIN}a}b{c", "a}b{c"), 1);
}
END_TEST

START_TEST(test_plain_password)
{
	/* the plain schemes of pass_check, in any case, and no other */
	ck_assert_str_eq(pass_plain("{PLAIN}secret"), "secret");
	ck_assert_str_eq(pass_plain("{plain}secret"), "secret");
	ck_assert_str_eq(pass_plain("{CLEAR}secret"), "secret");
	ck_assert_str_eq(pass_plain("{ClearText}a}b"), "a}b");
	ck_assert_str_eq(pass_plain("{PLAIN}"), "");
	ck_assert_ptr_null(pass_plain(DAVE_HASH));
	ck_assert_ptr_null(pass_plain("{SHA512-CRYPT}" DAVE_HASH));
	ck_assert_ptr_null(pass_plain("{PLAINTEXT}secret"));
	ck_assert_ptr_null(pass_plain("{MD5}secret"));
	ck_assert_ptr_null(pass_plain("{PLAIN"));
	ck_assert_ptr_null(pass_plain(NULL));
}
END_TEST

START_TEST(test_pass_crypt)
{
	struct crypt_data cd;
	const char *h;
	char h5[CRYPT_OUTPUT_SIZE];

	ck_assert_int_eq(pass_check(DAVE_HASH, "davepw"), 1);
	ck_assert_int_eq(pass_check(DAVE_HASH, "davepW"), 0);
	ck_assert_int_eq(pass_check(DAVE_HASH, ""), 0);
	ck_assert_int_eq(pass_check("{CRYPT}" DAVE_HASH, "davepw"), 1);
	ck_assert_int_eq(pass_check("{SHA512-CRYPT}" DAVE_HASH, "davepw"), 1);
	ck_assert_int_eq(pass_check("{sha512-crypt}" DAVE_HASH, "davepw"), 1);
	ck_assert_int_eq(pass_check("{SHA512-CRYPT}" DAVE_HASH, "nope"), 0);

	/* $5$ and $y$ made here, so the test follows the system's libcrypt. */
	memset(&cd, 0, sizeof(cd));
	h = crypt_r("pw5", "$5$abcdefgh$", &cd);
	ck_assert_ptr_nonnull(h);
	strcpy(h5, h);
	ck_assert_int_eq(pass_check(h5, "pw5"), 1);
	ck_assert_int_eq(pass_check(h5, "pw6"), 0);
	ck_assert_int_eq(pass_check("{SHA256-CRYPT}" "$5$abcdefgh$", "pw5"), 0);
	memset(&cd, 0, sizeof(cd));
	h = crypt_r("pwy", "$y$j9T$saltsaltsaltsaltsalt", &cd);
	if (h != NULL && h[0] == '$') {
		strcpy(h5, h);
		ck_assert_int_eq(pass_check(h5, "pwy"), 1);
		ck_assert_int_eq(pass_check(h5, "pwz"), 0);
	}
}
END_TEST

START_TEST(test_pass_never)
{
	/* Locked accounts, junk and unknown schemes never match anything. */
	ck_assert_int_eq(pass_check("*", ""), 0);
	ck_assert_int_eq(pass_check("!", "!"), 0);
	ck_assert_int_eq(pass_check("!" DAVE_HASH, "davepw"), 0);
	ck_assert_int_eq(pass_check("x", "x"), 0);
	ck_assert_int_eq(pass_check("", ""), 0);
	ck_assert_int_eq(pass_check("{CRYPT}", ""), 0);
	ck_assert_int_eq(pass_check("{MD4}secret", "secret"), 0);
	ck_assert_int_eq(pass_check("{PLAIN secret", "secret"), 0);
	ck_assert_int_eq(pass_check(NULL, "x"), 0);
	/* The dummy check only has to return, having done the work. */
	pass_dummy_check("anything");
	pass_dummy_check(NULL);
}
END_TEST

/* Users files in a private directory. */
static char dir[64];
static char path[128];

static void
files_setup(void)
{
	strcpy(dir, "/tmp/test_users.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/passwd", dir);
}

static void
files_teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void
write_file(const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}
#define WRITE(s)	write_file((s), sizeof(s) - 1)

static int
lookup(const char *name, int fold, struct user *u)
{
	return users_lookup(path, name, strlen(name), fold, u);
}

START_TEST(test_file_lookup)
{
	struct user u;

	WRITE("# users of the test\n"
	    "\n"
	    "alice:{PLAIN}alicepw:1000:1000::/home/alice:/bin/false\n"
	    "   \n"
	    "Dave:" DAVE_HASH "\n"
	    "crlf:{PLAIN}crlfpw\r\n"
	    "alice:{PLAIN}second\n"
	    "last:{SHA512-CRYPT}" DAVE_HASH);
	ck_assert_int_eq(users_check_file(path), 0);

	ck_assert_int_eq(lookup("alice", 0, &u), 1);
	ck_assert_str_eq(u.name, "alice");
	/* The first entry wins. */
	ck_assert_str_eq(u.pass, "{PLAIN}alicepw");
	ck_assert_int_eq(u.has_ids, 1);
	ck_assert_uint_eq(u.uid, 1000);
	ck_assert_int_eq(pass_check(u.pass, "alicepw"), 1);

	ck_assert_int_eq(lookup("Dave", 0, &u), 1);
	ck_assert_int_eq(pass_check(u.pass, "davepw"), 1);
	/* A CRLF file still gives the password without the CR. */
	ck_assert_int_eq(lookup("crlf", 0, &u), 1);
	ck_assert_int_eq(pass_check(u.pass, "crlfpw"), 1);
	/* The last line needs no newline. */
	ck_assert_int_eq(lookup("last", 0, &u), 1);
	ck_assert_int_eq(pass_check(u.pass, "davepw"), 1);

	ck_assert_int_eq(lookup("nobody", 0, &u), 0);
	ck_assert_int_eq(lookup("alic", 0, &u), 0);
	ck_assert_int_eq(lookup("alicex", 0, &u), 0);
	ck_assert_int_eq(lookup("", 0, &u), 0);
	ck_assert_int_eq(users_lookup(path, "alice\0x", 7, 0, &u), 0);
	/* LEN counts, not the NUL. */
	ck_assert_int_eq(users_lookup(path, "alice-and-more", 5, 0, &u), 1);
}
END_TEST

START_TEST(test_file_fold)
{
	struct user u;

	WRITE("Dave:{PLAIN}x\nbob:{PLAIN}y\n");
	ck_assert_int_eq(lookup("dave", 0, &u), 0);
	ck_assert_int_eq(lookup("DAVE", 0, &u), 0);
	ck_assert_int_eq(lookup("dave", 1, &u), 1);
	/* The name as the file spells it. */
	ck_assert_str_eq(u.name, "Dave");
	ck_assert_int_eq(lookup("BoB", 1, &u), 1);
	ck_assert_str_eq(u.name, "bob");
}
END_TEST

START_TEST(test_file_malformed)
{
	struct user u;

	/* A broken line after the entry still fails the lookup: the file is
	 * wrong and must be fixed, not half-used. */
	WRITE("alice:{PLAIN}a\nbroken line\nbob:{PLAIN}b\n");
	ck_assert_int_eq(users_check_file(path), -2);
	ck_assert_int_eq(lookup("alice", 0, &u), -1);
	ck_assert_int_eq(lookup("bob", 0, &u), -1);
	WRITE("alice:{PLAIN}a:12:\n");
	ck_assert_int_eq(lookup("alice", 0, &u), -1);
}
END_TEST

START_TEST(test_file_long_line)
{
	char text[USERS_LINE_MAX + 200];
	struct user u;
	size_t n;

	/* Exactly USERS_LINE_MAX bytes (a comment) is fine ... */
	memset(text, '#', USERS_LINE_MAX);
	n = USERS_LINE_MAX;
	memcpy(text + n, "\nalice:{PLAIN}a\n", 16);
	write_file(text, n + 16);
	ck_assert_int_eq(users_check_file(path), 0);
	ck_assert_int_eq(lookup("alice", 0, &u), 1);
	/* ... and with a CR before the LF, too ... */
	memcpy(text + n, "\r\nalice:{PLAIN}a\n", 17);
	write_file(text, n + 17);
	ck_assert_int_eq(lookup("alice", 0, &u), 1);
	/* ... one byte more is an error, not a truncated entry. */
	memset(text, '#', USERS_LINE_MAX + 1);
	n = USERS_LINE_MAX + 1;
	memcpy(text + n, "\nalice:{PLAIN}a\n", 16);
	write_file(text, n + 16);
	ck_assert_int_eq(users_check_file(path), -2);
	ck_assert_int_eq(lookup("alice", 0, &u), -1);
}
END_TEST

START_TEST(test_file_unreadable)
{
	struct user u;
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/missing", dir);
	ck_assert_int_eq(users_lookup(missing, "alice", 5, 0, &u), -1);
	ck_assert_int_eq(users_check_file(missing), -1);
	/* A directory opens but cannot be read (and root reads mode 000 files,
	 * so this is the unreadable case that holds for every uid): -1, not
	 * the -2 of a malformed file. */
	ck_assert_int_eq(users_lookup(dir, "alice", 5, 0, &u), -1);
	ck_assert_int_eq(users_check_file(dir), -1);
}
END_TEST

START_TEST(test_system)
{
	struct user u;

	ck_assert_int_eq(users_lookup(NULL, "root", 4, 0, &u), 1);
	ck_assert_str_eq(u.name, "root");
	ck_assert_int_eq(u.has_ids, 1);
	ck_assert_uint_eq(u.uid, 0);
	ck_assert_int_eq(users_lookup(NULL, "ROOT", 4, 1, &u), 1);
	ck_assert_str_eq(u.name, "root");
	ck_assert_int_eq(users_lookup(NULL, "ROOT", 4, 0, &u), 0);
	ck_assert_int_eq(users_lookup(NULL, "no-such-user-here", 17, 0, &u), 0);
	ck_assert_int_eq(users_lookup(NULL, "", 0, 0, &u), 0);
	ck_assert_int_eq(users_lookup(NULL, "root\0x", 6, 0, &u), 0);
}
END_TEST

static Suite *
users_suite(void)
{
	Suite *s = suite_create("users");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_entries);
	tcase_add_test(tc, test_parse_skipped);
	tcase_add_test(tc, test_parse_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("password");
	tcase_add_test(tc, test_pass_plain);
	tcase_add_test(tc, test_plain_password);
	tcase_add_test(tc, test_pass_crypt);
	tcase_add_test(tc, test_pass_never);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, files_setup, files_teardown);
	tcase_add_test(tc, test_file_lookup);
	tcase_add_test(tc, test_file_fold);
	tcase_add_test(tc, test_file_malformed);
	tcase_add_test(tc, test_file_long_line);
	tcase_add_test(tc, test_file_unreadable);
	suite_add_tcase(s, tc);

	tc = tcase_create("system");
	tcase_add_test(tc, test_system);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(users_suite)
