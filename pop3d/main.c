/* main.c: pop3d start-up: options, logging, chroot and -u (priv_startup),
 * signals, the APOP timestamp, then the split (priv_split): the session on
 * fds 0/1 as the unprivileged session account, and the privileged part
 * (priv.c), which checks logins and becomes the mailbox owner at the
 * first good one. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "io.h"
#include "listen.h"
#include "log.h"
#include "opts.h"
#include "pop3d.h"
#include "users.h"

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

int
main(int argc, char *argv[])
{
	struct pop3_conf conf;
	const char *err = NULL, *usage = NULL;
	pid_t pid;
	int ch, r, apop = 0;

	opts_init(&o, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	opterr = 0;	/* getopt must not write to fd 2: it may be the client */
	/* Parse everything first: -l decides where the error is logged. */
	while ((ch = getopt(argc, argv, OPTS_SHARED "a")) != -1) {
		if (ch == 'a') {
			apop = 1;
			continue;
		}
		r = opts_handle(&o, ch, optarg, &err);
		if (r == 0 && usage == NULL)
			usage = "unknown option";
		else if (r == -1 && usage == NULL)
			usage = err;
	}
	if (usage == NULL && optind != argc)
		usage = "unexpected argument";
	log_init("pop3d", o.logto);
	/* -u drops before any login, so the system accounts' hashes (shadow,
	 * root only) could never be read: -u without -p would refuse every
	 * password.  Say so now rather than at each login. */
	if (usage == NULL && o.user != NULL && o.users == NULL)
		usage = "-u needs -p FILE: after the drop to -u the system "
		    "accounts' passwords cannot be read";
	if (usage == NULL && opts_finish(&o, &err) == -1)
		usage = err;
	/* APOP needs the plain password, which only a users file can hold. */
	if (usage == NULL && apop && o.users == NULL)
		usage = "-a (APOP) needs -p FILE";
	if (usage != NULL)
		startup_fail(EX_USAGE, usage, NULL);
	/* -L: bind before the chroot (a port below 1024 needs root); each
	 * connection's child returns here and goes on as under inetd. */
	if (o.listen != NULL &&
	    listen_serve(&o, "-ERR [SYS/TEMP] too many connections\r\n") < 0)
		startup_fail(EX_OSERR, "cannot listen", o.listen);

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
	pid = priv_split(&o, &conf.link);
	if (pid == -1)
		startup_fail(EX_OSERR, NULL, NULL);
	if (pid > 0)
		return pop3_priv_serve(&conf, conf.link, pid);
	io_init_fd(&io, 0, 1, o.timeout);
	io_lifetime(&io, o.lifetime);
	io_nodelay(1);
	r = pop3_session(&conf, &io);
	/* The close after 3 failed logins, or a QUIT, may leave pipelined
	 * input unread: don't let the kernel reset the last reply away. */
	io_linger(&io, LINGER_MS);
	return r;
}
