/* main.c: smtpd's start-up: options (a contract: see smtpd(8)), -V and -T,
 * logging, the chroot, the users and aliases files, then the split
 * (priv_split): the session on fds 0/1 as the unprivileged session account
 * (-U), and the delivery side (delivery.c), which keeps the start-up
 * identity -- root under inetd, for users' 0600 mailboxes -- or becomes
 * the -u user, the one owner of every mailbox. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "listen.h"
#include "log.h"
#include "num.h"
#include "opts.h"
#include "priv.h"
#include "proxyconn.h"
#include "startup.h"
#include "users.h"
#include "smtpd.h"

static const char usage[] =
    "usage: smtpd [-STV] [-h name] [-m dir] [-p file] [-a file] [-d domain]...\n"
    "             [-s bytes] [-n count] [-q bytes] [-t seconds] [-E seconds]\n"
    "             [-F uid] [-M uid] [-l syslog|stderr] [-r dir] [-u user]\n"
    "             [-U user] [-L addr:port [-c n] [-C n]] [-P cidr[,cidr]...]...\n"
    "       smtpd -T [option ...] [address ...]";

static struct smtpd_conf conf;
static struct io io;		/* 80 KiB of buffers: not on the stack */

/* -T: the configuration as the server would see it, and what it would
 * answer RCPT for each of the NADDR addresses ADDRS. */
static int
check(char *const *addrs, int naddr)
{
	struct cfgcheck c = { "smtpd", 0, 0 };
	char mailname[ADDR_DOMAIN_MAX + 1];
	int mrc;

	/* Read before the chroot, as the server reads it: with -d too, to
	 * see whether -d leaves it out. */
	mrc = smtp_mailname_read(mailname, sizeof(mailname));
	if (priv_chroot(&conf.o) < 0)
		cfg_report(&c, 1, conf.o.chroot, 0, "cannot chroot there (-r): %s",
		    strerror(errno));
	else {
		cfg_check_common(&c, &conf.o, 0);
		smtp_verify(&c, &conf, mrc, mailname, addrs, naddr);
	}
	return cfg_done(&c);
}

/* smtpd's own options.  Returns NULL, or what is wrong with ARG. */
static const char *
option(int ch, const char *arg)
{
	uint64_t v;

	switch (ch) {
	case 'd':
		if (conf.ndomain >= SMTPD_DOMAINS_MAX ||
		    !smtp_domain_ok(arg, strlen(arg)))
			return "bad domain (-d), or more than 32";
		conf.domain[conf.ndomain++] = arg;
		return NULL;
	case 's':
		/* 10M, as Dovecot's settings have it (num.h). */
		if (num_parse_size(arg, strlen(arg), 1, SMTPD_SIZE_MAX, &v) < 0)
			return "bad size (-s), want bytes 1..1073741824, or with "
			    "K, M, G (KiB, MiB, GiB): 1K..1G";
		conf.maxsize = v;
		return NULL;
	case 'n':
		if (num_parse(arg, strlen(arg), 1, SMTPD_RCPT_MAX, &v) < 0)
			return "bad recipient count (-n), want 1..10000";
		conf.maxrcpt = (size_t)v;
		return NULL;
	case 'q':
		if (num_parse_size(arg, strlen(arg), 1, SMTPD_QUOTA_MAX, &v) < 0)
			return "bad quota (-q), want bytes 1..2^62, or with K, M, "
			    "G (KiB, MiB, GiB)";
		conf.quota = v;
		return NULL;
	case 'a':
		conf.aliases_path = arg;
		return NULL;
	default:
		return "";
	}
}

/* The command line into conf; the first problem is reported once -l is
 * known (getopt() must not print: under inetd fd 2 is the client). */
static void
options(int argc, char **argv)
{
	const char *err = NULL, *what = NULL, *e;
	char ebuf[64];
	int ch, rc;

	/* --help, --version; any other --word is refused, never read as
	 * "-h elp". */
	if (opts_long_words(argc, argv, usage, ebuf, sizeof(ebuf)) == -1) {
		log_init("smtpd", LOG_SYSLOG);
		startup_usage(ebuf, NULL);
	}
	opterr = 0;
	while ((ch = getopt(argc, argv, ":" OPTS_SHARED "d:s:n:a:q:")) != -1) {
		if (err != NULL)
			continue;
		if (ch == '?' || ch == ':') {
			err = opts_getopt_error(ch, optopt, ebuf, sizeof(ebuf));
			continue;
		}
		if ((rc = opts_handle(&conf.o, ch, optarg, &e)) > 0)
			continue;
		if (rc < 0) {
			err = e;
			what = optarg;
		} else if ((e = option(ch, optarg)) != NULL && e[0] != '\0') {
			err = e;
			what = optarg;
		} else if (e != NULL)	/* a shared letter, not taken */
			err = opts_getopt_error('?', ch, ebuf, sizeof(ebuf));
	}
	/* After -T: addresses to answer for, as RCPT would. */
	if (err == NULL && optind < argc && !conf.o.test)
		err = "unexpected argument", what = argv[optind];
	/* -T reports on stderr; a server whose fd 2 is the client logs to
	 * syslog whatever -l says (log.h). */
	if (conf.o.test)
		log_init("smtpd", LOG_STDERR);
	else
		conf.o.logto = log_init("smtpd", conf.o.logto);
	if (err != NULL)
		startup_usage(err, what);
}

/* After the chroot, as the delivery side will be: -p and -a name files
 * inside the jail, read with the -u user's rights. */
static void
read_files(void)
{
	char why[128] = "";
	int rc, status = 0;

	if (priv_as_user(&conf.o, 1) == -1)
		startup_fail(EX_OSERR, "privilege switch for the files", NULL);
	if (conf.o.users != NULL &&
	    (rc = users_check_file(conf.o.users)) < 0)	/* logs why */
		status = rc == -1 ? EX_NOINPUT : EX_CONFIG;
	else if (conf.aliases_path != NULL) {
		/* A malformed line is logged; what a legal entry will not
		 * deliver is logged when mail goes through it. */
		rc = smtp_aliases_load(&conf, conf.aliases_path, &conf.aliases,
		    NULL, NULL);
		if (rc == -1)
			snprintf(why, sizeof(why), "%s", strerror(errno));
		if (rc < 0)
			status = rc == -1 ? EX_NOINPUT : EX_CONFIG;
	}
	/* Back to the start-up ids first, on a failure too: the process
	 * ends as itself, not as the -u user it borrowed the ids of. */
	if (priv_as_user(&conf.o, 0) == -1)
		startup_fail(EX_OSERR, "privilege switch for the files", NULL);
	if (status != 0 && why[0] != '\0')
		startup_fail(status, "aliases file unreadable", why);
	if (status != 0)
		startup_fail(status, NULL, NULL);
}

/* The delivery side: the client named by a PROXY header first, then the
 * session's requests until it ends. */
static int
delivery(struct priv_seam *ps)
{
	enum priv_end how = PRIV_EOF;
	int k = 1;

	if (conf.o.proxied && (k = proxy_priv_begin(&conf.o, ps)) != 1)
		how = k == 0 ? PRIV_EOF : PRIV_BAD;
	if (k == 1)
		how = smtp_delivery_serve(&conf, ps);
	return priv_finish(ps, how);
}

/* The session: the PROXY header, then SMTP. */
static int
session(struct priv_seam *ps)
{
	static struct smtp_link link;
	char busy[sizeof(conf.o.host) + 64];
	int rc = EX_OK;

	io_nodelay(1);
	io_init_fd(&io, 0, 1, conf.o.timeout);
	io_lifetime(&io, conf.o.lifetime);
	snprintf(busy, sizeof(busy), "421 4.3.2 %s Too many connections, try "
	    "again later\r\n", conf.o.host);
	if (smtp_link_open(&link, ps) == -1)
		startup_fail(EX_OSERR, "session: out of memory", NULL);
	if (!conf.o.proxied || proxy_session_begin(&conf.o, &io, ps, busy) == 0)
		rc = smtp_session(&conf, &io, &link);
	/* A 421 or a 221 may leave pipelined input unread. */
	io_linger(&io, LINGER_MS);
	return rc;
}

int
main(int argc, char **argv)
{
	struct priv_seam ps;
	const char *e;
	char sid[16];
	int k;

	/* A vanished client or a file size limit must come back as EPIPE or
	 * EFBIG, so the store can roll back and we can answer 451. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	opts_init(&conf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	conf.maxsize = SMTPD_SIZE_DEFAULT;
	conf.maxrcpt = SMTPD_RCPT_DEFAULT;
	startup_init("smtpd", usage, "421 4.3.0 %s Service not available, "
	    "closing connection", &conf.o);
	options(argc, argv);
	if (conf.o.version) {
		printf("smtpd %s\n", INETMAIL_VERSION);
		return EX_OK;
	}
	if (opts_finish(&conf.o, &e) < 0)
		startup_usage(e, NULL);
	/* Debian policy 11.6: /etc/mailname names the domain of this
	 * system's mail; without -d it is one of ours, beside the host
	 * name.  Read before the chroot.  A file that holds no domain is
	 * ignored, in silence: -T says so, once, not every connection. */
	if (conf.ndomain == 0 &&
	    smtp_mailname_read(conf.mailname, sizeof(conf.mailname)) != 1)
		conf.mailname[0] = '\0';
	if (conf.o.test)
		return check(argv + optind, argc - optind);
	/* -L: bind before the chroot and the drop (a port below 1024 needs
	 * root).  Each connection's child returns here and goes on as under
	 * inetd; the listener itself never gets past this line. */
	if (conf.o.listen != NULL) {
		char busy[sizeof(conf.o.host) + 64], err[256];

		log_listen_fallback("smtpd", &conf.o.logto);
		snprintf(busy, sizeof(busy), "421 4.3.2 %s Too many connections,"
		    " try again later\r\n", conf.o.host);
		if (listen_serve(&conf.o, busy, err, sizeof(err)) < 0)
			startup_fail(EX_OSERR, "cannot listen", err);
	}
	opts_client(&conf.o);
	session_id(sid, sizeof(sid));
	log_session(sid, conf.o.client);
	if (priv_chroot(&conf.o) < 0)
		startup_fail(EX_OSERR, "chroot", NULL);
	read_files();
	/* The time zone once, for both parts: each would read it again for
	 * its first log line or date. */
	tzset();
	/* No process that reads the client's bytes runs as root, or as the
	 * -u owner of the mailboxes: the session goes on as the session
	 * account, the delivery side never sees the connection. */
	if ((k = priv_split(&conf.o, &ps)) == -1)
		startup_fail(EX_OSERR, NULL, NULL);
	return k == 1 ? delivery(&ps) : session(&ps);
}
