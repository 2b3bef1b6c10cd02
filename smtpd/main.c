/* main.c: smtpd's start-up: options, logging, chroot and -u drop (common
 * priv_startup), the users and aliases files, then the split (priv_split):
 * the session on fds 0/1 as the unprivileged session account, and the
 * delivery side (priv.c), which keeps the start-up identity -- root under
 * inetd, for users' 0600 mailboxes -- unless -u names the one user
 * everything runs as. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "chan.h"
#include "listen.h"
#include "log.h"
#include "num.h"
#include "opts.h"
#include "users.h"
#include "smtpd.h"

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

/* -d: a domain as RFC 5321 writes one, letters, digits, '-' and '.'. */
static int
domain_arg(const char *d)
{
	size_t len = strlen(d);

	return len > 0 && len <= ADDR_DOMAIN_MAX &&
	    strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") == len;
}

int
main(int argc, char **argv)
{
	const char *err = NULL, *what = NULL, *e;
	char sid[16], *al;
	uint64_t v;
	size_t allen;
	pid_t pid;
	int ch, rc;

	/* A vanished client or a file size limit must come back as EPIPE or
	 * EFBIG, so the store can roll back and we can answer 451. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	opts_init(&conf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	conf.maxsize = SMTPD_SIZE_DEFAULT;
	conf.maxrcpt = SMTPD_RCPT_DEFAULT;
	/* getopt() must not print: under inetd fd 2 is the client.  The first
	 * error is kept and logged once -l is known. */
	opterr = 0;
	while ((ch = getopt(argc, argv, OPTS_SHARED "d:s:n:a:")) != -1) {
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
			if (conf.ndomain < SMTPD_DOMAINS_MAX && domain_arg(optarg))
				conf.domain[conf.ndomain++] = optarg;
			else if (err == NULL)
				err = "bad or too many -d", what = optarg;
			break;
		case 's':
			if (num_parse(optarg, strlen(optarg), 1, SMTPD_SIZE_MAX,
			    &v) == 0)
				conf.maxsize = v;
			else if (err == NULL)
				err = "bad -s", what = optarg;
			break;
		case 'n':
			if (num_parse(optarg, strlen(optarg), 1, SMTPD_RCPT_MAX,
			    &v) == 0)
				conf.maxrcpt = (size_t)v;
			else if (err == NULL)
				err = "bad -n", what = optarg;
			break;
		case 'a':
			conf.aliases = optarg;	/* the path, until loaded */
			break;
		default:
			if (err == NULL)
				err = "unknown option or missing argument";
			break;
		}
	}
	if (err == NULL && optind < argc)
		err = "unexpected argument", what = argv[optind];
	log_init("smtpd", conf.o.logto);
	if (err != NULL)
		startup_fail(EX_USAGE, err, what);
	if (opts_finish(&conf.o, &e) < 0)
		startup_fail(EX_USAGE, e, NULL);
	/* -L: bind before the chroot and the drop (a port below 1024 needs
	 * root).  Each connection's child returns here and goes on as under
	 * inetd; the listener itself never gets past this line. */
	if (conf.o.listen != NULL) {
		char busy[sizeof(conf.o.host) + 64];

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
	if (conf.aliases != NULL) {
		rc = smtp_aliases_load(conf.aliases, &al, &allen);
		if (rc == -1)
			startup_fail(EX_NOINPUT, "aliases file unreadable", strerror(errno));
		if (rc < 0)
			startup_fail(EX_CONFIG, NULL, NULL);	/* logged with its line */
		conf.aliases = al;
		conf.aliaseslen = allen;
	}
	/* No process that reads the client's bytes runs as root: the session
	 * goes on as the session account, the delivery side never sees the
	 * connection (issue 9). */
	pid = priv_split(&conf.o, &session_link.fd);
	if (pid == -1)
		startup_fail(EX_OSERR, NULL, NULL);
	if (pid > 0)
		return smtp_priv_serve(&conf, session_link.fd, pid);
	io_nodelay(1);
	io_init_fd(&io, 0, 1, conf.o.timeout);
	io_lifetime(&io, conf.o.lifetime);
	rc = smtp_session(&conf, &io, &session_link);
	/* A 421 or a 221 may leave pipelined input unread. */
	io_linger(&io, LINGER_MS);
	return rc;
}
