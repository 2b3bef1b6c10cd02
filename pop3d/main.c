/* main.c: pop3d start-up: options (a contract: see pop3d(8)), -V and -T,
 * logging, chroot and -u (priv_startup), signals, the APOP timestamp, then
 * the split (priv_split): the session on fds 0/1 as the unprivileged
 * session account, and the privileged part (priv.c), which checks logins
 * and becomes the mailbox owner at the first good one. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "cfgcheck.h"
#include "proxyconn.h"
#include "io.h"
#include "listen.h"
#include "log.h"
#include "opts.h"
#include "pop3d.h"
#include "users.h"

static const char usage[] =
    "usage: pop3d [-aTV] [-h name] [-m dir] [-p file] [-t seconds] [-E seconds]\n"
    "             [-F uid] [-l syslog|stderr] [-r dir] [-u user] [-U user]\n"
    "             [-L addr:port [-c n] [-C n]] [-P cidr[,cidr]...]...";

static struct opts o;
static struct io io;	/* 80 KiB of buffers: not on the stack */

/* A start-up failure: one log line, one -ERR line for the client (under
 * inetd stdout is the socket), a <sysexits.h> status. */
static _Noreturn void
startup_fail(int status, const char *why, const char *what)
{
	/* WHY NULL: the cause is logged where it was found. */
	if (why != NULL && what != NULL)
		log_warnx("startup failed: %s: %s", why, what);
	else if (why != NULL)
		log_warnx("startup failed: %s", why);
	printf("-ERR [SYS/TEMP] service unavailable\r\n");
	fflush(stdout);
	_exit(status);
}

/* A bad command line: said on stderr (when it is no socket) and in the
 * log; the client still gets its -ERR. */
static _Noreturn void
usage_fail(const char *why, const char *what)
{
	cfg_usage_fail(o.test, "pop3d", usage, why, what,
	    "-ERR [SYS/TEMP] service unavailable\r\n");
}

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

int
main(int argc, char *argv[])
{
	struct pop3_conf conf;
	const char *err = NULL, *what = NULL, *why = NULL;
	char ebuf[64];
	pid_t pid;
	int ch, r, apop = 0;

	opts_init(&o, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	/* --help, --version; any other --word is refused, never read as
	 * "-h elp". */
	if (opts_long_words(argc, argv, usage, ebuf, sizeof(ebuf)) == -1) {
		log_init("pop3d", LOG_SYSLOG);
		usage_fail(ebuf, NULL);
	}
	opterr = 0;	/* getopt must not write to fd 2: it may be the client */
	/* Parse everything first: -l decides where the error is logged. */
	while ((ch = getopt(argc, argv, ":" OPTS_SHARED "a")) != -1) {
		if (ch == '?' || ch == ':') {
			if (why == NULL)
				why = opts_getopt_error(ch, optopt, ebuf,
				    sizeof(ebuf)), what = NULL;
			continue;
		}
		if (ch == 'a') {
			apop = 1;
			continue;
		}
		r = opts_handle(&o, ch, optarg, &err);
		if (r == 0 && why == NULL)
			why = opts_getopt_error('?', ch, ebuf, sizeof(ebuf));
		else if (r == -1 && why == NULL)
			why = err, what = optarg;
	}
	if (why == NULL && optind != argc)
		why = "unexpected argument", what = argv[optind];
	log_init("pop3d", o.test ? LOG_STDERR : o.logto);
	/* -u drops before any login, so the system accounts' hashes (shadow,
	 * root only) could never be read: -u without -p would refuse every
	 * password.  Say so now rather than at each login. */
	if (why == NULL && o.user != NULL && o.users == NULL)
		why = "-u needs -p FILE: after the drop to -u the system "
		    "accounts' passwords cannot be read";
	/* APOP needs the plain password, which only a users file can hold. */
	if (why == NULL && apop && o.users == NULL)
		why = "-a (APOP) needs -p FILE";
	if (why != NULL)
		usage_fail(why, what);
	if (o.version) {
		printf("pop3d %s\n", INETMAIL_VERSION);
		return EX_OK;
	}
	if (opts_finish(&o, &err) == -1)
		usage_fail(err, NULL);
	if (o.test)
		return check();
	/* -L: bind before the chroot (a port below 1024 needs root); each
	 * connection's child returns here and goes on as under inetd. */
	if (o.listen != NULL) {
		log_listen_fallback("pop3d", &o.logto);
		if (listen_serve(&o, "-ERR [SYS/TEMP] too many connections\r\n") < 0)
			startup_fail(EX_OSERR, "cannot listen", o.listen);
	}

	opts_client(&o);
	{
		char sid[16];

		session_id(sid, sizeof(sid));
		log_session(sid, o.client);
	}
	if (priv_startup(&o) == -1)
		startup_fail(EX_OSERR, "chroot or privilege drop", NULL);
	if (o.users != NULL && (r = users_check_file(o.users)) < 0)
		startup_fail(r == -1 ? EX_NOINPUT : EX_CONFIG, NULL, NULL);

	/* A client that goes away mid-reply gives EPIPE, not a silent death;
	 * a file size limit gives EFBIG, handled by the store. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);

	memset(&conf, 0, sizeof(conf));
	conf.o = &o;
	conf.apop = apop;
	conf.fail_delay_ms = POP3_FAIL_DELAY_MS;
	conf.drop = priv_drop;
	if (apop)
		pop3_make_stamp(conf.stamp, o.host);
	/* No process that reads the client's bytes runs as root: the
	 * AUTHORIZATION dialogue goes on as the session account, and the
	 * privileged part never holds the connection while privileged. */
	/* The time zone once, for both parts: each would read it again for
	 * its first log line or date. */
	tzset();
	pid = priv_split(&o, &conf.link);
	if (pid == -1)
		startup_fail(EX_OSERR, NULL, NULL);
	if (pid > 0) {
		/* -P: the session reads the header; we take its client. */
		if (o.proxied && proxy_priv_begin(&o, conf.link, pid) == -1) {
			close(conf.link);
			return priv_wait(pid);
		}
		return pop3_priv_serve(&conf, conf.link, pid);
	}
	io_init_fd(&io, 0, 1, o.timeout);
	io_lifetime(&io, o.lifetime);
	io_nodelay(1);
	if (o.proxied && proxy_session_begin(&o, &io, conf.link,
	    "-ERR [SYS/TEMP] too many connections\r\n") == -1) {
		io_linger(&io, LINGER_MS);
		return EX_OK;
	}
	r = pop3_session(&conf, &io);
	/* The close after 3 failed logins, or a QUIT, may leave pipelined
	 * input unread: don't let the kernel reset the last reply away. */
	io_linger(&io, LINGER_MS);
	return r;
}
