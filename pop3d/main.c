/* main.c: pop3d's start-up: options (a contract: see pop3d(8)), -V and -T,
 * logging, the chroot, the users file, the APOP timestamp, then the split
 * (priv_split): the session on fds 0/1 as the unprivileged session account
 * (-U), and the login checker (checker.c), which checks logins and becomes
 * the mailbox owner at the first good one. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "io.h"
#include "listen.h"
#include "log.h"
#include "opts.h"
#include "priv.h"
#include "proxyconn.h"
#include "startup.h"
#include "users.h"
#include "pop3d.h"

static const char usage[] =
    "usage: pop3d [-aSTV] [-h name] [-m dir] [-p file] [-t seconds] [-E seconds]\n"
    "             [-F uid] [-M uid] [-l syslog|stderr] [-r dir] [-u user]\n"
    "             [-U user] [-L addr:port [-c n] [-C n]] [-P cidr[,cidr]...]...";

static struct opts o;
static struct pop3_conf conf;
static struct io io;	/* 80 KiB of buffers: not on the stack */

/* -T: the configuration as the server would see it. */
static int
check(void)
{
	struct cfgcheck c = { "pop3d", 0, 0 };

	if (priv_chroot(&o) < 0)
		cfg_report(&c, 1, o.chroot, 0, "cannot chroot there (-r): %s",
		    strerror(errno));
	else
		cfg_check_common(&c, &o, 1);
	return cfg_done(&c);
}

/* The command line into o and conf; the first problem is reported once -l
 * is known (getopt() must not print: under inetd fd 2 is the client). */
static void
options(int argc, char **argv)
{
	const char *err = NULL, *what = NULL, *e;
	char ebuf[64];
	int ch, r;

	/* --help, --version; any other --word is refused, never read as
	 * "-h elp". */
	if (opts_long_words(argc, argv, usage, ebuf, sizeof(ebuf)) == -1) {
		log_init("pop3d", LOG_SYSLOG);
		startup_usage(ebuf, NULL);
	}
	opterr = 0;
	while ((ch = getopt(argc, argv, ":" OPTS_SHARED "a")) != -1) {
		if (err != NULL)
			continue;
		if (ch == '?' || ch == ':')
			err = opts_getopt_error(ch, optopt, ebuf, sizeof(ebuf));
		else if (ch == 'a')
			conf.apop = 1;
		else if ((r = opts_handle(&o, ch, optarg, &e)) == 0)
			err = opts_getopt_error('?', ch, ebuf, sizeof(ebuf));
		else if (r == -1) {
			err = e;
			what = optarg;
		}
	}
	if (err == NULL && optind != argc)
		err = "unexpected argument", what = argv[optind];
	/* -T reports on stderr; a server whose fd 2 is the client logs to
	 * syslog whatever -l says (log.h). */
	if (o.test)
		log_init("pop3d", LOG_STDERR);
	else
		o.logto = log_init("pop3d", o.logto);
	/* -u drops before any login, so the system accounts' hashes (shadow,
	 * root only) could never be read: -u without -p would refuse every
	 * password.  Say so now rather than at each login. */
	if (err == NULL && o.user != NULL && o.users == NULL)
		err = "-u needs -p FILE: after the drop to -u the system "
		    "accounts' passwords cannot be read";
	/* APOP needs the plain password, which only a users file can hold. */
	if (err == NULL && conf.apop && o.users == NULL)
		err = "-a (APOP) needs -p FILE";
	if (err != NULL)
		startup_usage(err, what);
}

/* After the chroot, as the checker will be: -p names a file inside the
 * jail, read with the -u user's rights. */
static void
read_files(void)
{
	int r = 0;

	if (priv_as_user(&o, 1) == -1)
		startup_fail(EX_OSERR, "privilege switch for the files", NULL);
	if (o.users != NULL)
		r = users_check_file(o.users);	/* logs why */
	/* Back to the start-up ids first, on a failure too: the process
	 * ends as itself, not as the -u user it borrowed the ids of. */
	if (priv_as_user(&o, 0) == -1)
		startup_fail(EX_OSERR, "privilege switch for the files", NULL);
	if (r < 0)
		startup_fail(r == -1 ? EX_NOINPUT : EX_CONFIG, NULL, NULL);
}

/* The login checker: the client named by a PROXY header first, then the
 * logins. */
static int
checker(struct priv_seam *ps)
{
	int k;

	if (o.proxied && (k = proxy_priv_begin(&o, ps)) != 1)
		return priv_finish(ps, k == 0 ? PRIV_EOF : PRIV_BAD);
	return pop3_checker_serve(&conf, ps);
}

/* The session: the PROXY header, then POP3 until the login. */
static int
session(struct priv_seam *ps)
{
	int r = EX_OK;

	io_init_fd(&io, 0, 1, o.timeout);
	io_lifetime(&io, o.lifetime);
	io_nodelay(1);
	if (!o.proxied || proxy_session_begin(&o, &io, ps,
	    "-ERR [SYS/TEMP] too many connections\r\n") == 0)
		r = pop3_session(&conf, &io, ps);
	/* The close after 3 failed logins, or a QUIT, may leave pipelined
	 * input unread: don't let the kernel reset the last reply away. */
	io_linger(&io, LINGER_MS);
	return r;
}

int
main(int argc, char *argv[])
{
	struct priv_seam ps;
	const char *err;
	char sid[16];
	int k;

	opts_init(&o, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	conf.o = &o;
	conf.fail_delay_ms = POP3_FAIL_DELAY_MS;
	conf.drop = priv_drop;
	startup_init("pop3d", usage, "-ERR [SYS/TEMP] service unavailable", &o);
	options(argc, argv);
	if (o.version) {
		printf("pop3d %s\n", INETMAIL_VERSION);
		return EX_OK;
	}
	if (opts_finish(&o, &err) == -1)
		startup_usage(err, NULL);
	if (o.test)
		return check();
	/* -L: bind before the chroot (a port below 1024 needs root); each
	 * connection's child returns here and goes on as under inetd. */
	if (o.listen != NULL) {
		char why[256];

		log_listen_fallback("pop3d", &o.logto);
		if (listen_serve(&o, "-ERR [SYS/TEMP] too many connections\r\n",
		    why, sizeof(why)) < 0)
			startup_fail(EX_OSERR, "cannot listen", why);
	}
	opts_client(&o);
	session_id(sid, sizeof(sid));
	log_session(sid, o.client);
	if (priv_chroot(&o) == -1)
		startup_fail(EX_OSERR, "chroot", NULL);
	read_files();
	/* A client that goes away mid-reply gives EPIPE, not a silent death;
	 * a file size limit gives EFBIG, handled by the store. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (conf.apop)
		pop3_make_stamp(conf.stamp, o.host);
	/* The time zone once, for both parts: each would read it again for
	 * its first log line or date. */
	tzset();
	/* No process that reads the client's bytes runs as root, or as the
	 * -u owner of the mailboxes: the AUTHORIZATION dialogue goes on as
	 * the session account, and the checker never holds the connection
	 * while privileged. */
	if ((k = priv_split(&o, &ps)) == -1)
		startup_fail(EX_OSERR, NULL, NULL);
	return k == 1 ? checker(&ps) : session(&ps);
}
