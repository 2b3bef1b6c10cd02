/* test_log.c: log_quote escaping and cutting, and the line format on stderr
 * (captured by putting a temporary file on fd 2). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "params.h"
#include "log.h"
#include "check_main.h"

/* fd 2 capture: everything logged between cap_start and cap_end. */
static int cap_saved = -1;
static FILE *cap_fp;
static char cap_buf[8192];

static void
cap_start(void)
{
	cap_fp = tmpfile();
	ck_assert_ptr_nonnull(cap_fp);
	cap_saved = dup(2);
	ck_assert_int_ge(cap_saved, 0);
	ck_assert_int_eq(dup2(fileno(cap_fp), 2), 2);
}

static const char *
cap_end(void)
{
	size_t n;

	ck_assert_int_eq(dup2(cap_saved, 2), 2);
	close(cap_saved);
	rewind(cap_fp);
	n = fread(cap_buf, 1, sizeof(cap_buf) - 1, cap_fp);
	cap_buf[n] = '\0';
	fclose(cap_fp);
	return cap_buf;
}

static const char *
quote(const char *s, size_t len, size_t cap)
{
	static char buf[LOG_QUOTE_SIZE];

	ck_assert_uint_le(cap, sizeof(buf));
	return log_quote(buf, cap, s, len);
}

START_TEST(test_quote_plain)
{
	ck_assert_str_eq(quote("bob", 3, LOG_QUOTE_SIZE), "\"bob\"");
	ck_assert_str_eq(quote("", 0, LOG_QUOTE_SIZE), "\"\"");
	ck_assert_str_eq(quote(NULL, 5, LOG_QUOTE_SIZE), "\"\"");
	ck_assert_str_eq(quote("a b=c", 5, LOG_QUOTE_SIZE), "\"a b=c\"");
	/* Only LEN bytes: the rest of the line is not the user's name. */
	ck_assert_str_eq(quote("bob rest", 3, LOG_QUOTE_SIZE), "\"bob\"");
}
END_TEST

START_TEST(test_quote_escapes)
{
	/* CR LF would start a forged log line; ESC could drive a terminal. */
	ck_assert_str_eq(quote("a\r\nb", 4, LOG_QUOTE_SIZE), "\"a\\x0d\\x0ab\"");
	ck_assert_str_eq(quote("\033[2J", 4, LOG_QUOTE_SIZE), "\"\\x1b[2J\"");
	/* A quote would end the field early and let the rest pose as fields. */
	ck_assert_str_eq(quote("x\" result=ok", 12, LOG_QUOTE_SIZE),
	    "\"x\\x22 result=ok\"");
	ck_assert_str_eq(quote("a\\b", 3, LOG_QUOTE_SIZE), "\"a\\x5cb\"");
	ck_assert_str_eq(quote("\0\t\x7f\xff", 4, LOG_QUOTE_SIZE),
	    "\"\\x00\\x09\\x7f\\xff\"");
}
END_TEST

START_TEST(test_quote_cuts)
{
	char in[400], want[LOG_QUOTE_SIZE];
	const char *q;

	memset(in, 'a', sizeof(in));
	/* Longer than LOG_FIELD_MAX: cut there, and the cut shows. */
	q = quote(in, sizeof(in), LOG_QUOTE_SIZE);
	want[0] = '"';
	memset(want + 1, 'a', LOG_FIELD_MAX);
	strcpy(want + 1 + LOG_FIELD_MAX, "\"...");
	ck_assert_str_eq(q, want);
	/* Exactly LOG_FIELD_MAX: whole, no "...". */
	q = quote(in, LOG_FIELD_MAX, LOG_QUOTE_SIZE);
	ck_assert_uint_eq(strlen(q), LOG_FIELD_MAX + 2);
	/* Every byte escaped: still fits the documented size. */
	memset(in, '\n', sizeof(in));
	q = quote(in, sizeof(in), LOG_QUOTE_SIZE);
	ck_assert_uint_eq(strlen(q), 4 * LOG_FIELD_MAX + 5);
	ck_assert_str_eq(q + strlen(q) - 4, "\"...");
	/* A small buffer: cut, never overflowing, never splitting an escape. */
	ck_assert_str_eq(quote("abcdefghij", 10, 10), "\"abcd\"...");
	ck_assert_str_eq(quote("abcdefg", 7, 10), "\"abcdefg\"");
	ck_assert_str_eq(quote("a\nbcdefgh", 9, 10), "\"a\"...");
	ck_assert_str_eq(quote("abc", 3, 5), "");
}
END_TEST

START_TEST(test_stderr_format)
{
	char q[LOG_QUOTE_SIZE], want[256];
	const char *out;

	log_init("tlog", LOG_STDERR);
	log_session("abc123def456", "192.0.2.1");
	cap_start();
	log_info("login user=%s result=ok", log_quote(q, sizeof(q), "bob", 3));
	out = cap_end();
	snprintf(want, sizeof(want),
	    "tlog[%ld]: sid=abc123def456 client=192.0.2.1 login user=\"bob\" "
	    "result=ok\n", (long)getpid());
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(log_sid(), "abc123def456");
}
END_TEST

START_TEST(test_stderr_warn_errno)
{
	const char *out;

	log_init("tlog", LOG_STDERR);
	log_session("s1", "2001:db8::1");
	cap_start();
	errno = ENOENT;
	log_warn("open path=%s", "x");
	/* errno survives logging: the caller may still want it. */
	ck_assert_int_eq(errno, ENOENT);
	log_warnx("no errno here");
	out = cap_end();
	ck_assert_ptr_nonnull(strstr(out, "sid=s1 client=2001:db8::1 open path=x: "));
	ck_assert_ptr_nonnull(strstr(out, strerror(ENOENT)));
	ck_assert_ptr_nonnull(strstr(out, "sid=s1 client=2001:db8::1 no errno here\n"));
}
END_TEST

START_TEST(test_stderr_one_line)
{
	const char *out, *nl;
	char big[3000];

	log_init("tlog", LOG_STDERR);
	log_session("", "");
	cap_start();
	/* Unquoted foreign data (a bug in a caller) still cannot forge a line. */
	log_info("helo name=%s", "x\nsid=forged client=1.2.3.4 login result=ok");
	out = cap_end();
	nl = strchr(out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl, "\n");
	/* No session yet: no sid field. */
	ck_assert_ptr_null(strstr(out, "sid=\"\""));
	ck_assert_ptr_nonnull(strstr(out, "]: helo name=x?sid=forged"));

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cap_start();
	log_info("big=%s", big);
	out = cap_end();
	ck_assert_uint_eq(strlen(out), LOG_LINE_MAX);
	ck_assert_str_eq(out + strlen(out) - 4, "...\n");
}
END_TEST

START_TEST(test_syslog_not_fd2)
{
	const char *out;

	/* Under inetd fd 2 is the client: syslog mode must never touch it. */
	cap_start();
	log_init("tlog", LOG_SYSLOG);
	log_session("s2", "192.0.2.9");
	log_info("event=test");
	log_warnx("event=test2");
	out = cap_end();
	ck_assert_str_eq(out, "");
}
END_TEST

/* -l stderr under inetd: fd 2 is the connection, also on fds 0 and 1.
 * Nothing may reach it; the log goes to syslog.  A Unix socket of fd 2's
 * own (journald's stream) is a log and keeps it. */
START_TEST(test_stderr_client)
{
	int sv[2], own[2], save0, save2;
	char buf[256];
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, own), 0);
	save0 = dup(0);
	save2 = dup(2);
	ck_assert_int_eq(dup2(sv[0], 0), 0);
	ck_assert_int_eq(dup2(sv[0], 2), 2);
	ck_assert_int_eq(log_fd2_client(), 1);
	ck_assert_int_eq(log_init("tlog", LOG_STDERR), LOG_SYSLOG);
	log_info("event=client-must-not-see-this");
	ck_assert_int_eq(dup2(own[0], 2), 2);
	ck_assert_int_eq(log_fd2_client(), 0);
	ck_assert_int_eq(log_init("tlog", LOG_STDERR), LOG_STDERR);
	log_info("event=journal");
	ck_assert_int_eq(dup2(save0, 0), 0);
	ck_assert_int_eq(dup2(save2, 2), 2);
	close(save0);
	close(save2);
	close(sv[0]);
	close(own[0]);
	/* Every copy of the client's end is closed: EOF, no byte before it. */
	n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	ck_assert_int_eq(n, 0);
	n = recv(own[1], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "event=journal"));
	close(sv[1]);
	close(own[1]);
}
END_TEST

START_TEST(test_fatal_exits)
{
	log_init("tlog", LOG_SYSLOG);
	fatal(75, "fatal test status=%d", 75);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = tcase_create("quote");
	tcase_add_test(tc, test_quote_plain);
	tcase_add_test(tc, test_quote_escapes);
	tcase_add_test(tc, test_quote_cuts);
	suite_add_tcase(s, tc);

	tc = tcase_create("lines");
	tcase_add_test(tc, test_stderr_format);
	tcase_add_test(tc, test_stderr_warn_errno);
	tcase_add_test(tc, test_stderr_one_line);
	tcase_add_test(tc, test_syslog_not_fd2);
	tcase_add_test(tc, test_stderr_client);
	tcase_add_exit_test(tc, test_fatal_exits, 75);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(log_suite)
