/* test_opts.c: the shared options (a contract), the client address from a
 * socket on fd 0 or the environment, session ids, and the privilege drop. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "params.h"
#include "listen.h"
#include "opts.h"
#include "priv.h"
#include "check_main.h"

static struct opts o;
static const char *err;

static int
opt(int ch, const char *arg)
{
	err = NULL;
	return opts_handle(&o, ch, arg, &err);
}

START_TEST(test_defaults)
{
	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	ck_assert_str_eq(o.spool, "/var/mail");
	ck_assert_ptr_null(o.users);
	ck_assert_int_eq(o.timeout, 300);
	ck_assert_int_eq(o.logto, LOG_SYSLOG);
	ck_assert_ptr_null(o.chroot);
	ck_assert_ptr_null(o.user);
	ck_assert_ptr_null(o.listen);
	ck_assert_int_eq(o.maxconn, LISTEN_CONN_DEFAULT);
	ck_assert_int_eq(o.maxperip, LISTEN_PERIP_DEFAULT);
	ck_assert_int_eq(o.firstuid, 1000);
	ck_assert_int_eq(o.lastuid, 60000);
	ck_assert_str_eq(o.client, "unknown");
	ck_assert_int_eq(opts_finish(&o, &err), 0);
	/* gethostname() fills -h when not given. */
	ck_assert_uint_gt(strlen(o.host), 0);
}
END_TEST

START_TEST(test_good_options)
{
	opts_init(&o, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	ck_assert_int_eq(opt('h', "mail.example.org"), 1);
	ck_assert_int_eq(opt('m', "/srv/spool"), 1);
	ck_assert_int_eq(opt('p', "/etc/inetmail/users"), 1);
	ck_assert_int_eq(opt('t', "1"), 1);
	ck_assert_int_eq(o.timeout, 1);
	ck_assert_int_eq(opt('t', "86400"), 1);
	ck_assert_int_eq(o.timeout, TIMEOUT_MAX);
	ck_assert_int_eq(opt('l', "stderr"), 1);
	ck_assert_int_eq(o.logto, LOG_STDERR);
	ck_assert_int_eq(opt('l', "syslog"), 1);
	ck_assert_int_eq(o.logto, LOG_SYSLOG);
	ck_assert_int_eq(opt('r', "/var/jail"), 1);
	ck_assert_int_eq(opt('u', "mail"), 1);
	ck_assert_int_eq(opt('L', "127.0.0.1:2525"), 1);
	ck_assert_int_eq(opt('L', "[::1]:110"), 1);
	ck_assert_int_eq(opt('c', "1"), 1);
	ck_assert_int_eq(opt('C', "4096"), 1);
	ck_assert_int_eq(o.maxconn, 1);
	ck_assert_int_eq(o.maxperip, LISTEN_CONN_MAX);
	ck_assert_int_eq(opt('F', "500"), 1);
	ck_assert_int_eq(opt('M', "65534"), 1);
	ck_assert_int_eq(o.firstuid, 500);
	ck_assert_int_eq(o.lastuid, 65534);
	ck_assert_int_eq(opt('M', "4294967294"), 1);
	ck_assert_int_eq(o.lastuid, (uid_t)-2);
	ck_assert_str_eq(o.host, "mail.example.org");
	ck_assert_str_eq(o.spool, "/srv/spool");
	ck_assert_str_eq(o.users, "/etc/inetmail/users");
	ck_assert_str_eq(o.chroot, "/var/jail");
	ck_assert_str_eq(o.user, "mail");
	ck_assert_str_eq(o.listen, "[::1]:110");
	/* Not a shared option: left to the program. */
	ck_assert_int_eq(opt('z', "x"), 0);
	ck_assert_int_eq(opt('s', "10"), 0);
}
END_TEST

START_TEST(test_bad_options)
{
	static const struct { int ch; const char *arg; } bad[] = {
		{ 't', "0" }, { 't', "86401" }, { 't', "-5" }, { 't', "+5" },
		{ 't', "5s" }, { 't', "" }, { 't', " 5" },
		{ 'l', "file" }, { 'l', "" }, { 'l', "STDERR" },
		{ 'h', "" }, { 'h', "a b" }, { 'h', "evil\r\n250 ok" },
		{ 'm', "" }, { 'p', "" }, { 'r', "" }, { 'u', "" },
		{ 'L', "" }, { 'L', "127.0.0.1" }, { 'L', ":25" },
		{ 'L', "127.0.0.1:0" }, { 'L', "127.0.0.1:65536" },
		{ 'L', "127.0.0.1:smtp" },
		{ 'c', "0" }, { 'c', "4097" }, { 'c', "" }, { 'C', "-1" },
		{ 'C', "10x" },
		/* (uid_t)-1 means "no change" to setuid: never a uid. */
		{ 'M', "4294967295" }, { 'M', "-1" }, { 'M', "" }, { 'M', "6e4" },
		{ 'F', "4294967295" },
	};
	size_t i;

	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(opt(bad[i].ch, bad[i].arg) == -1, "-%c '%s' accepted",
		    bad[i].ch, bad[i].arg);
		ck_assert_ptr_nonnull(err);
	}
	/* A rejected value changed nothing. */
	ck_assert_int_eq(o.timeout, SMTP_TIMEOUT_DEFAULT);
	ck_assert_int_eq(o.logto, LOG_SYSLOG);
	ck_assert_int_eq(o.lastuid, LAST_UID_DEFAULT);
}
END_TEST

START_TEST(test_finish_user)
{
	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	ck_assert_int_eq(opt('u', "no-such-user-here"), 1);
	ck_assert_int_eq(opts_finish(&o, &err), -1);
	ck_assert_ptr_nonnull(err);

	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	ck_assert_int_eq(opt('u', "root"), 1);
	ck_assert_int_eq(opts_finish(&o, &err), -1);

	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	ck_assert_int_eq(opt('u', "mail"), 1);
	if (geteuid() == 0) {
		ck_assert_int_eq(opts_finish(&o, &err), 0);
		ck_assert_uint_ne(o.uid, 0);
		ck_assert_uint_ne(o.uid, (uid_t)-1);
		/* -u keeps the separation: the session is still -U's */
		ck_assert_uint_eq(o.sessuid, 65534);
		ck_assert_uint_ne(o.sessuid, o.uid);
	} else {
		/* -u is for root only. */
		ck_assert_int_eq(opts_finish(&o, &err), -1);
	}

	/* -u and -U the same account: no separation, no service. */
	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	ck_assert_int_eq(opt('u', "nobody"), 1);
	if (geteuid() == 0) {
		ck_assert_int_eq(opts_finish(&o, &err), -1);
		ck_assert_ptr_nonnull(strstr(err, "same"));
		ck_assert_int_eq(opt('U', "mail"), 1);
		ck_assert_int_eq(opts_finish(&o, &err), 0);
	}
}
END_TEST

/* Put a connected TCP socket of FAMILY on fd 0; the peer connects from
 * LOOPBACK (an IPv4 address, so with AF_INET6 it arrives v4-mapped). */
static int
client_on_fd0(int family)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(ss);
	int l, c, s, off = 0;

	l = socket(family, SOCK_STREAM, 0);
	if (l < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		len = sizeof(*sin6);
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(struct sockaddr_in);
	}
	if (bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&ss, &len) < 0) {
		close(l);
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = family == AF_INET6 ? sin6->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port;
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	s = accept(l, NULL, NULL);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(dup2(s, 0), 0);
	close(s);
	close(l);
	return c;
}

static int saved0 = -1;

static void
fd0_setup(void)
{
	saved0 = dup(0);
	unsetenv("TCPREMOTEIP");
	unsetenv("REMOTE_ADDR");
	unsetenv("REMOTE_HOST");
	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
}

static void
fd0_teardown(void)
{
	dup2(saved0, 0);
	close(saved0);
}

START_TEST(test_client_socket)
{
	int c;

	/* The socket wins over the environment. */
	setenv("TCPREMOTEIP", "192.0.2.1", 1);
	c = client_on_fd0(AF_INET);
	ck_assert_int_ge(c, 0);
	opts_client(&o);
	ck_assert_str_eq(o.client, "127.0.0.1");
	close(c);
}
END_TEST

START_TEST(test_client_mapped)
{
	int c;

	c = client_on_fd0(AF_INET6);
	if (c < 0)
		return;		/* no IPv6 here */
	opts_client(&o);
	ck_assert_str_eq(o.client, "127.0.0.1");
	close(c);
}
END_TEST

START_TEST(test_client_env)
{
	int fd = open("/dev/null", O_RDONLY);

	/* fd 0 is no socket: ucspi-tcp's variable, then CGI-style REMOTE_ADDR. */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 0), 0);
	close(fd);
	opts_client(&o);
	ck_assert_str_eq(o.client, "unknown");

	setenv("REMOTE_ADDR", "2001:db8::7", 1);
	opts_client(&o);
	ck_assert_str_eq(o.client, "2001:db8::7");

	setenv("TCPREMOTEIP", "192.0.2.7", 1);
	opts_client(&o);
	ck_assert_str_eq(o.client, "192.0.2.7");

	/* Whoever set the environment may lie; a value that is no address is
	 * skipped, never copied into every log line. */
	setenv("TCPREMOTEIP", "1.2.3.4 client=forged\nx", 1);
	opts_client(&o);
	ck_assert_str_eq(o.client, "2001:db8::7");
	setenv("REMOTE_ADDR", "example.org", 1);
	opts_client(&o);
	ck_assert_str_eq(o.client, "unknown");
	/* stunnel's exec mode passes the address as REMOTE_HOST. */
	setenv("REMOTE_HOST", "198.51.100.9", 1);
	opts_client(&o);
	ck_assert_str_eq(o.client, "198.51.100.9");
	unsetenv("REMOTE_HOST");
}
END_TEST

START_TEST(test_session_id)
{
	char a[16], b[16], small[5];
	size_t i;

	session_id(a, sizeof(a));
	session_id(b, sizeof(b));
	ck_assert_uint_eq(strlen(a), 12);
	ck_assert_str_ne(a, b);
	for (i = 0; i < 12; i++)
		ck_assert(strchr("0123456789abcdefghijklmnopqrstuv", a[i]) != NULL);
	session_id(small, sizeof(small));
	ck_assert_uint_eq(strlen(small), 4);
}
END_TEST

START_TEST(test_priv_refuse_root)
{
	ck_assert_int_eq(priv_drop(0, 0, (gid_t)-1), -1);
	/* No -r, no -u: nothing to do. */
	opts_init(&o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	ck_assert_int_eq(priv_chroot(&o), 0);
	ck_assert_int_eq(priv_as_user(&o, 1), 0);
	ck_assert_int_eq(priv_as_user(&o, 0), 0);
}
END_TEST

/* The drop itself, in a child of our own so the test runner keeps root even
 * when check runs without forking. */
static int
in_child(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn());
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int
drop_child(void)
{
	gid_t groups[8];

	if (priv_drop(65534, 65534, 8) < 0)
		return 1;
	if (getuid() != 65534 || geteuid() != 65534 || getegid() != 65534)
		return 2;
	if (getgroups(8, groups) != 1 || groups[0] != 8)
		return 3;
	if (setuid(0) == 0)
		return 4;
	return 0;
}

/* Made and removed by the parent: the child cannot reach it after chroot. */
static char jail[] = "/tmp/test_opts.XXXXXX";

static int
startup_child(void)
{
	struct opts jo;

	opts_init(&jo, 300, 3600);
	jo.chroot = jail;
	jo.user = "nobody";
	jo.uid = 65534;
	jo.gid = 65534;
	if (priv_chroot(&jo) < 0)
		return 2;
	/* Inside the jail: the host's files are gone. */
	if (access("/etc/passwd", F_OK) == 0 || access("/bin", F_OK) == 0)
		return 3;
	/* -u's rights for a while (the start-up checks), then root's again. */
	if (priv_as_user(&jo, 1) < 0 || geteuid() != 65534 || getuid() != 0)
		return 4;
	if (priv_as_user(&jo, 0) < 0 || geteuid() != 0)
		return 5;
	return 0;
}

/* -u keeps the separation: the privileged part becomes the -u user, the
 * session the session account, and neither can come back to root. */
static int
split_child(void)
{
	struct priv_seam ps;
	struct opts so;
	char c = 0;
	int k;

	opts_init(&so, 300, 3600);
	so.user = "nobody";
	so.uid = 65534;
	so.gid = 65534;
	so.sessuid = 1;		/* daemon, on Debian and the BSDs */
	so.sessgid = 1;
	if ((k = priv_split(&so, &ps)) == -1)
		return 2;
	if (k == 0) {
		c = getuid() == 1 && geteuid() == 1 && getgid() == 1 &&
		    setuid(0) == -1 && setuid(65534) == -1 ? 'y' : 'n';
		_exit(write(ps.fd, &c, 1) == 1 ? 0 : 1);
	}
	if (getuid() != 65534 || geteuid() != 65534 || setuid(0) == 0)
		return 3;
	if (read(ps.fd, &c, 1) != 1 || c != 'y')
		return 4;
	return priv_finish(&ps, PRIV_EOF) == 0 ? 0 : 5;
}

START_TEST(test_priv_drop)
{
	if (geteuid() != 0) {
		/* Not root: only "drop" to ourselves succeeds. */
		ck_assert_int_eq(priv_drop(geteuid(), getegid(), (gid_t)-1), 0);
		ck_assert_int_eq(priv_drop(geteuid() + 1, getegid(), (gid_t)-1), -1);
		return;
	}
	ck_assert_int_eq(in_child(drop_child), 0);
	ck_assert_ptr_nonnull(mkdtemp(jail));
	ck_assert_int_eq(in_child(startup_child), 0);
	ck_assert_int_eq(rmdir(jail), 0);
	ck_assert_int_eq(in_child(split_child), 0);
}
END_TEST

static Suite *
opts_suite(void)
{
	Suite *s = suite_create("opts");
	TCase *tc;

	tc = tcase_create("options");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_good_options);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_finish_user);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_checked_fixture(tc, fd0_setup, fd0_teardown);
	tcase_add_test(tc, test_client_socket);
	tcase_add_test(tc, test_client_mapped);
	tcase_add_test(tc, test_client_env);
	suite_add_tcase(s, tc);

	tc = tcase_create("session");
	tcase_add_test(tc, test_session_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("privileges");
	tcase_add_test(tc, test_priv_refuse_root);
	tcase_add_test(tc, test_priv_drop);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(opts_suite)
