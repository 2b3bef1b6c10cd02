/* priv.c: pop3d's privileged part (root under inetd, or the -u user).  It
 * never holds the client connection while it has privileges: it checks the
 * logins the session sends (check.c), and at the first good one switches
 * to the mailbox owner for good (drop.c), only then takes the connection
 * from the session, and runs the TRANSACTION as that owner. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "chan.h"
#include "log.h"
#include "pop3d.h"

/* The connection, once taken over: 80 KiB of buffers, not on the stack. */
static struct io io;

int
pop3_login_parse(char *req, size_t len, struct pop3_login *l)
{
	const char *f[3];
	char *p = req, *end = req + len, *z;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (p >= end || (z = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return -1;
		f[i] = p;
		p = z + 1;
	}
	if (p != end || (strcmp(f[0], "pass") != 0 &&
	    strcmp(f[0], "plain") != 0 && strcmp(f[0], "apop") != 0) ||
	    strlen(f[1]) > USER_MAX)
		return -1;
	l->method = f[0];
	l->name = f[1];
	l->secret = f[2];
	return 0;
}

static int
reply(int fd, enum pop3_res r, const char *text)
{
	char buf[4 + 96];
	uint32_t v = (uint32_t)r;
	size_t n = strlen(text);

	if (n > sizeof(buf) - 5)
		n = sizeof(buf) - 5;
	memcpy(buf, &v, 4);
	memcpy(buf + 4, text, n);
	buf[4 + n] = '\0';
	return chan_send(fd, REP_LOGIN, buf, 5 + n, NULL, 0);
}

/* Check one login.  Returns 1 when it succeeded and this process is now
 * the mailbox owner (*U filled), 0 when the session goes on (or ends on
 * its own), -1 when the channel failed. */
static int
check(const struct pop3_conf *c, int fd, const struct pop3_login *l,
    struct user *u)
{
	char quser[LOG_QUOTE_SIZE];
	const char *reason, *why = NULL;
	enum pop3_res r;
	int rc;

	rc = pop3_check_login(c, l->method, l->name, l->secret, c->stamp, u,
	    &reason);
	if (rc == -1)
		return reply(fd, PR_ERR_TEMP, "user database unavailable");
	if (rc == 0)
		return reply(fd, PR_ERR_AUTH, reason);
	log_quote(quser, sizeof(quser), l->name, strlen(l->name));
	if ((r = pop3_drop_switch(c, u, quser, &why)) != PR_OK)
		return reply(fd, r, why);
	if (reply(fd, PR_OK, "") == -1)
		return -1;
	return 1;
}

/* Take the connection from the session: the descriptors go to fds 0 and
 * 1, and the input it had read but not used goes first into our reader.
 * Returns 0 or -1 (logged). */
static int
take_over(const struct pop3_conf *c, int fd, const struct timespec *t0)
{
	struct timespec now;
	uint32_t type;
	size_t len;
	int fds[2], nfds = 2, k, left;

	io_init_fd(&io, 0, 1, c->o->timeout);
	k = chan_recv(fd, &type, io.rbuf, sizeof(io.rbuf), &len, fds, &nfds);
	if (k == 0)
		return -1;	/* the client went first: the session said so */
	if (k != 1 || type != REQ_HANDOVER || nfds != 2) {
		log_warnx("login: the session did not hand the connection over");
		for (k = 0; k < nfds; k++)
			close(fds[k]);
		return -1;
	}
	if (dup2(fds[0], 0) == -1 || dup2(fds[1], 1) == -1) {
		log_warn("login: taking the connection over");
		return -1;
	}
	for (k = 0; k < 2; k++)
		if (fds[k] > 1)
			close(fds[k]);
	io.rlen = len;
	io_nodelay(1);
	/* The session's lifetime counts from its start, not from here. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = c->o->lifetime - (int)(now.tv_sec - t0->tv_sec);
	io_lifetime(&io, left > 1 ? left : 1);
	return 0;
}

int
pop3_priv_serve(const struct pop3_conf *c, int fd, pid_t session)
{
	char req[16 + USER_MAX + POP3_AUTH_LINE_MAX + 8], method[8];
	struct timespec t0;
	struct pollfd pfd;
	struct pop3_login l;
	struct user u;
	uint32_t type;
	size_t len;
	long ms;
	int k, st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* The session ends itself within -E; one that does not (a
		 * bug, or taken over) is ended here, a little later. */
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = ((long)c->o->lifetime + 2L * c->o->timeout + 60 -
		    (long)(now.tv_sec - t0.tv_sec)) * 1000;
		pfd.fd = fd;
		pfd.events = POLLIN;
		k = poll(&pfd, 1, ms <= 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == 0 && ms > 3600000)
			continue;
		if (k <= 0) {
			log_warnx("session over its lifetime, killed");
			(void)kill(session, SIGKILL);
			break;
		}
		k = chan_recv(fd, &type, req, sizeof(req), &len, NULL, NULL);
		if (k == 0)
			break;		/* the session ended without a login */
		if (k == -1 || type != REQ_LOGIN || pop3_login_parse(req, len, &l) == -1) {
			/* Broken or taken over: nothing more is believed. */
			log_warnx("privsep: bad request type=%u len=%zu",
			    k == 1 ? type : 0, k == 1 ? len : 0);
			break;
		}
		k = check(c, fd, &l, &u);
		snprintf(method, sizeof(method), "%s", l.method);
		pop3_wipe(req, sizeof(req));
		if (k == -1)
			break;
		if (k == 0)
			continue;
		/* Logged in: we are the owner now.  The session hands the
		 * connection over and exits; the TRANSACTION is ours. */
		st = take_over(c, fd, &t0);
		close(fd);
		k = priv_wait(session);
		if (st == -1)
			return k != 0 ? k : EX_OSERR;
		st = pop3_session_resume(c, &io, u.name, method);
		/* A QUIT may leave pipelined input unread. */
		io_linger(&io, LINGER_MS);
		return st;
	}
	close(fd);
	return priv_wait(session);
}
