/* main.c: smtpd's start-up: options (a contract: see smtpd(8)), -V and -T,
 * logging, chroot and -u drop (common priv_startup), the users and aliases
 * files, then the split (priv_split): the session on fds 0/1 as the
 * unprivileged session account, and the delivery side (priv.c), which
 * keeps the start-up identity -- root under inetd, for users' 0600
 * mailboxes -- unless -u names the one user everything runs as. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "proxyconn.h"
#include "chan.h"
#include "listen.h"
#include "log.h"
#include "num.h"
#include "opts.h"
#include "users.h"
#include "smtpd.h"

static const char usage[] =
    "usage: smtpd [-TV] [-h name] [-m dir] [-p file] [-a file] [-d domain]...\n"
    "             [-s bytes] [-n count] [-q bytes] [-t seconds] [-E seconds]\n"
    "             [-F uid] [-l syslog|stderr] [-r dir] [-u user] [-U user]\n"
    "             [-L addr:port [-c n] [-C n]] [-P cidr[,cidr]...]...";

static struct smtpd_conf conf;
static struct io io;
static struct smtp_link session_link;

/* A start-up failure: one log line (WHY NULL: the callee that found it
 * has logged it), a 421 for the client (never garbage on the socket), and
 * a <sysexits.h> status for inetd's log. */
static _Noreturn void
startup_fail(int status, const char *why, const char *what)
{
	struct smtp s;

	if (why != NULL && what != NULL)
		log_warnx("startup failed: %s: %s", why, what);
	else if (why != NULL)
		log_warnx("startup failed: %s", why);
	if (conf.o.host[0] == '\0')
		strcpy(conf.o.host, "localhost");
	memset(&s, 0, sizeof(s));
	s.conf = &conf;
	s.io = &io;
	s.link = &session_link;
	io_init_fd(&io, 0, 1, conf.o.timeout);
	smtp_reply(&s, R_UNAVAIL);
	(void)io_flush(&io);
	io_linger(&io, LINGER_MS);
	exit(status);
}

/* A bad command line: said on stderr (when it is no socket) and in the
 * log; the client still gets its 421. */
static _Noreturn void
usage_fail(const char *why, const char *what)
{
	char reply[sizeof(conf.o.host) + 64];

	snprintf(reply, sizeof(reply), "421 4.3.0 %s Service not available, "
	    "closing connection\r\n", conf.o.host[0] != '\0' ? conf.o.host :
	    "localhost");
	cfg_usage_fail(conf.o.test, "smtpd", usage, why, what, reply);
}

/* -d, /etc/mailname: a domain as RFC 5321 writes one, letters, digits, '-'
 * and '.'. */
static int
domain_ok(const char *d, size_t len)
{
	return len > 0 && len <= ADDR_DOMAIN_MAX &&
	    strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") >= len;
}

/* Debian policy 11.6: /etc/mailname names the domain of this system's
 * mail; without -d it is one of ours, beside the host name.  Read before
 * the chroot.  A file that holds no domain is logged and ignored. */
static void
read_mailname(void)
{
	char buf[ADDR_DOMAIN_MAX + 2];
	size_t n;
	FILE *f;

	if ((f = fopen(MAILNAME_FILE, "r")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		n = strcspn(buf, "\r\n");
		buf[n] = '\0';
		if (domain_ok(buf, n))
			memcpy(conf.mailname, buf, n + 1);
		else
			log_warnx("mailname file=%s holds no domain, ignored",
			    MAILNAME_FILE);
	}
	fclose(f);
}

/* -T: the configuration as the server would see it. */
static int
check(void)
{
	struct cfgcheck c = { "smtpd", 0, 0 };

	if (priv_chroot(&conf.o) < 0)
		cfg_report(&c, 1, conf.o.chroot, 0, "cannot chroot there (-r): %s",
		    strerror(errno));
	else {
		cfg_check_common(&c, &conf.o, 0);
		smtp_aliases_check(&c, &conf);
	}
	return cfg_done(&c);
}

int
main(int argc, char **argv)
{
	const char *err = NULL, *what = NULL, *e;
	char sid[16], ebuf[64];
	uint64_t v;
	pid_t pid;
	int ch, rc;

	/* A vanished client or a file size limit must come back as EPIPE or
	 * EFBIG, so the store can roll back and we can answer 451. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	opts_init(&conf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	conf.maxsize = SMTPD_SIZE_DEFAULT;
	conf.maxrcpt = SMTPD_RCPT_DEFAULT;
	/* --help, --version; any other --word is refused, never read as
	 * "-h elp". */
	if (opts_long_words(argc, argv, usage, ebuf, sizeof(ebuf)) == -1) {
		log_init("smtpd", LOG_SYSLOG);
		usage_fail(ebuf, NULL);
	}
	/* getopt() must not print: under inetd fd 2 is the client.  The first
	 * error is kept and reported once -l is known. */
	opterr = 0;
	while ((ch = getopt(argc, argv, ":" OPTS_SHARED "d:s:n:a:q:")) != -1) {
		if (ch == '?' || ch == ':') {
			if (err == NULL)
				err = opts_getopt_error(ch, optopt, ebuf,
				    sizeof(ebuf)), what = NULL;
			continue;
		}
		rc = opts_handle(&conf.o, ch, optarg, &e);
		if (rc > 0)
			continue;
		if (rc < 0) {
			if (err == NULL)
				err = e, what = optarg;
			continue;
		}
		switch (ch) {
		case 'd':
			if (conf.ndomain < SMTPD_DOMAINS_MAX &&
			    domain_ok(optarg, strlen(optarg)))
				conf.domain[conf.ndomain++] = optarg;
			else if (err == NULL)
				err = "bad domain (-d), or more than 32", what = optarg;
			break;
		case 's':
			if (num_parse(optarg, strlen(optarg), 1, SMTPD_SIZE_MAX,
			    &v) == 0)
				conf.maxsize = v;
			else if (err == NULL)
				err = "bad size (-s), want bytes 1..1073741824",
				    what = optarg;
			break;
		case 'n':
			if (num_parse(optarg, strlen(optarg), 1, SMTPD_RCPT_MAX,
			    &v) == 0)
				conf.maxrcpt = (size_t)v;
			else if (err == NULL)
				err = "bad recipient count (-n), want 1..10000",
				    what = optarg;
			break;
		case 'q':
			if (num_parse(optarg, strlen(optarg), 1, SMTPD_QUOTA_MAX,
			    &v) == 0)
				conf.quota = v;
			else if (err == NULL)
				err = "bad quota (-q), want bytes 1..2^62", what = optarg;
			break;
		case 'a':
			conf.aliases_path = optarg;
			break;
		default:	/* a shared letter opts_handle did not take */
			if (err == NULL)
				err = opts_getopt_error('?', ch, ebuf, sizeof(ebuf));
			break;
		}
	}
	if (err == NULL && optind < argc)
		err = "unexpected argument", what = argv[optind];
	log_init("smtpd", conf.o.test ? LOG_STDERR : conf.o.logto);
	if (err != NULL)
		usage_fail(err, what);
	if (conf.o.version) {
		printf("smtpd %s\n", INETMAIL_VERSION);
		return EX_OK;
	}
	if (opts_finish(&conf.o, &e) < 0)
		usage_fail(e, NULL);
	if (conf.ndomain == 0)
		read_mailname();
	if (conf.o.test)
		return check();
	/* -L: bind before the chroot and the drop (a port below 1024 needs
	 * root).  Each connection's child returns here and goes on as under
	 * inetd; the listener itself never gets past this line. */
	if (conf.o.listen != NULL) {
		char busy[sizeof(conf.o.host) + 64];

		log_listen_fallback("smtpd", &conf.o.logto);
		snprintf(busy, sizeof(busy), "421 4.3.2 %s Too many connections,"
		    " try again later\r\n", conf.o.host);
		if (listen_serve(&conf.o, busy) < 0)
			startup_fail(EX_OSERR, "cannot listen", conf.o.listen);
	}
	opts_client(&conf.o);
	session_id(sid, sizeof(sid));
	log_session(sid, conf.o.client);
	if (priv_startup(&conf.o) < 0)
		startup_fail(EX_OSERR, "chroot or privilege drop", NULL);
	/* After the chroot: -p and -a name files inside it. */
	if (conf.o.users != NULL) {
		rc = users_check_file(conf.o.users);	/* logs why */
		if (rc == -1)
			startup_fail(EX_NOINPUT, NULL, NULL);
		if (rc < 0)
			startup_fail(EX_CONFIG, NULL, NULL);
	}
	if (conf.aliases_path != NULL) {
		/* Each problem is logged; unsupported targets are skipped. */
		rc = smtp_aliases_load(&conf, conf.aliases_path, &conf.aliases,
		    NULL, NULL);
		if (rc == -1)
			startup_fail(EX_NOINPUT, "aliases file unreadable",
			    strerror(errno));
		if (rc < 0)
			startup_fail(EX_CONFIG, NULL, NULL);
	}
	/* No process that reads the client's bytes runs as root: the session
	 * goes on as the session account, the delivery side never sees the
	 * connection (issue 9). */
	/* The time zone once, for both parts: each would read it again for
	 * its first log line or date. */
	tzset();
	pid = priv_split(&conf.o, &session_link.fd);
	if (pid == -1)
		startup_fail(EX_OSERR, NULL, NULL);
	if (pid > 0) {
		/* -P: the session reads the header; we take its client. */
		if (conf.o.proxied &&
		    proxy_priv_begin(&conf.o, session_link.fd, pid) == -1) {
			close(session_link.fd);
			return priv_wait(pid);
		}
		return smtp_priv_serve(&conf, session_link.fd, pid);
	}
	io_nodelay(1);
	io_init_fd(&io, 0, 1, conf.o.timeout);
	io_lifetime(&io, conf.o.lifetime);
	if (conf.o.proxied) {
		char busy[sizeof(conf.o.host) + 64];

		snprintf(busy, sizeof(busy), "421 4.3.2 %s Too many "
		    "connections, try again later\r\n", conf.o.host);
		if (proxy_session_begin(&conf.o, &io, session_link.fd,
		    busy) == -1) {
			io_linger(&io, LINGER_MS);
			return EX_OK;
		}
	}
	rc = smtp_session(&conf, &io, &session_link);
	/* A 421 or a 221 may leave pipelined input unread. */
	io_linger(&io, LINGER_MS);
	return rc;
}
