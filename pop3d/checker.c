/* checker.c: pop3d's login checker, the privileged part of the split (root
 * under inetd, or the -u user).  It never holds the client connection
 * while it has privileges: it checks the logins the session sends
 * (pop3seam.h, creds.c), and it alone decides how fast and how often they
 * may fail: every failure, whatever its reason, gets the same answer after
 * the same delay, and after POP3_FAILS_MAX no more logins are served.  At
 * the first good login it switches to the mailbox owner for good
 * (owner.c), only then takes the connection from the session, and runs the
 * TRANSACTION as that owner. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "clock.h"
#include "log.h"
#include "pass.h"
#include "pop3d.h"

/* The connection, once taken over: 80 KiB of buffers, not on the stack;
 * and room for the largest message, the hand-over's input. */
static struct io io;
static unsigned char frame[IO_RBUF + PM_MSG_MAX];

struct checker {
	const struct pop3_conf *c;
	struct priv_seam *ps;
	int		 fails;
	int		 owner;		/* a login succeeded: we are its owner,
					 * and only the hand-over may come */
	int		 taken;		/* the connection is ours (io) */
	int		 tls;		/* and it is encrypted */
	int		 pipes[2];	/* the TLS wrapper's control pipes,
					 * kept open while we serve: -1 none */
	char		 user[USER_MAX + 1];
	enum pm_method	 method;
	struct timespec	 got;		/* when the login came */
};

/* Answer the session.  Returns 1 to go on serving, 0 when done (the
 * session ends), as a priv_handler. */
static int
answer(struct checker *k, enum pm_result res, const char *text, int more)
{
	unsigned char buf[PM_TEXT_SIZE + 16];
	struct pm_reply r;
	size_t n;

	r.result = res;
	snprintf(r.text, sizeof(r.text), "%s", text);
	n = pm_put_reply(buf, sizeof(buf), &r);
	if (chan_send(k->ps->fd, &k->ps->end, PM_LOGIN_REP, buf, n, NULL, 0)
	    == -1) {
		log_warn("login checker: reply");
		return 0;
	}
	return more;
}

/* A failed login: one log line, the fixed delay counted from when it came
 * (so that crypt(3) time does not tell known users from unknown ones), the
 * same answer for every reason, and no more logins after the last. */
static int
failure(struct checker *k, enum pm_method method, const char *name,
    const char *reason)
{
	char q[LOG_QUOTE_SIZE];
	struct timespec until = k->got;
	int last;

	k->fails++;
	last = k->fails >= POP3_FAILS_MAX;
	log_info("login failed user=%s method=%s reason=%s fails=%d",
	    log_quote(q, sizeof(q), name, strlen(name)),
	    pm_method_name(method), reason, k->fails);
	until.tv_sec += k->c->fail_delay_ms / 1000;
	until.tv_nsec += (long)(k->c->fail_delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)
	    == EINTR)
		;
	return answer(k, last ? PM_AUTH_LAST : PM_AUTH, "", !last);
}

/* PM_LOGIN: check it; at a good one become the owner. */
static int
on_login(struct checker *k, struct priv_frame *f)
{
	static struct pm_login l;	/* 2 KiB; wiped after use */
	char quser[LOG_QUOTE_SIZE];
	const char *reason, *why = NULL;
	struct user u;
	int rc;

	if (pm_get_login(f->p, f->len, &l) == -1) {
		pass_wipe(&l, sizeof(l));
		f->why = "login fields";
		return -1;
	}
	rc = pop3_check_login(k->c, l.method, l.name, l.secret, k->c->stamp,
	    &u, &reason);
	pass_wipe(l.secret, sizeof(l.secret));
	if (rc == 0)
		return failure(k, l.method, l.name, reason);
	if (rc == -1)
		return answer(k, PM_TEMP, "user database unavailable", 0);
	log_quote(quser, sizeof(quser), u.name, strlen(u.name));
	if (pop3_owner_switch(k->c, &u, quser, &why) == -1)
		return answer(k, PM_PERM, why, 0);
	/* The name as the client wrote it is the maildrop's: a login is
	 * exact (users_lookup without case), so they are the same. */
	snprintf(k->user, sizeof(k->user), "%s", u.name);
	k->method = l.method;
	k->owner = 1;
	return answer(k, PM_OK, "", 1);
}

/* PM_FAILED: a login the session refused itself, counted all the same. */
static int
on_failed(struct checker *k, struct priv_frame *f)
{
	static struct pm_failed fl;

	if (pm_get_failed(f->p, f->len, &fl) == -1) {
		f->why = "failed-login fields";
		return -1;
	}
	return failure(k, fl.method, fl.name, fl.reason);
}

/* PM_HANDOVER: the connection, and the input the session read but did not
 * use, which goes first into our reader. */
static int
on_handover(struct checker *k, struct priv_frame *f)
{
	const struct tls *t = &k->c->o->tls;
	const unsigned char *data;
	size_t len;
	int tls, want;

	if (f->nfds < 2 || pm_get_handover(f->p, f->len, &data, &len,
	    &tls) == -1) {
		f->why = "hand-over without the connection";
		return -1;
	}
	/* TLS is believed only where a wrapper could have made it; its
	 * pipes come along while it has not started. */
	want = 2 + (tls || t->offer == TLS_NONE ? 0 : t->offer == TLS_ACK ?
	    2 : 1);
	if ((tls && t->offer == TLS_NONE && !t->on) || f->nfds != want) {
		f->why = "hand-over with the wrong TLS state";
		return -1;
	}
	k->tls = tls;
	k->pipes[0] = f->nfds > 2 ? f->fds[2] : -1;
	k->pipes[1] = f->nfds > 3 ? f->fds[3] : -1;
	io_init_fd(&io, f->fds[0], f->fds[1], k->c->o->timeout);
	memcpy(io.rbuf, data, len);
	io.rlen = len;
	io_nodelay(io.wfd);
	k->taken = 1;
	return 0;
}

static int
handle(void *ctx, struct priv_frame *f)
{
	struct checker *k = ctx;

	clock_gettime(CLOCK_MONOTONIC, &k->got);
	switch (f->type) {
	case PM_LOGIN:
	case PM_FAILED:
		if (k->owner) {
			f->why = "a login after the login";
			return -1;
		}
		return f->type == PM_LOGIN ? on_login(k, f) : on_failed(k, f);
	case PM_HANDOVER:
		if (!k->owner) {
			f->why = "a hand-over before a login";
			return -1;
		}
		return on_handover(k, f);
	default:
		f->why = "unknown message";
		return -1;
	}
}

/* The session exits once it has handed the connection over; one that does
 * not may still hold the connection, so the TRANSACTION is not served (and
 * as the owner we may no longer be able to stop it).  Returns 0 when it is
 * gone. */
static int
session_gone(struct priv_seam *ps)
{
	struct timespec soon;

	clock_in(&soon, SEAM_GRACE_S * 1000L);
	if (soon.tv_sec < ps->end.tv_sec)
		ps->end = soon;
	(void)priv_finish(ps, PRIV_DONE);
	return ps->pid == 0 ? 0 : -1;
}

int
pop3_checker_serve(const struct pop3_conf *c, struct priv_seam *ps)
{
	struct checker k;
	enum priv_end how;
	struct timespec end = ps->end;
	int st;
	long left;

	memset(&k, 0, sizeof(k));
	k.c = c;
	k.ps = ps;
	k.pipes[0] = k.pipes[1] = -1;
	how = priv_serve(ps, frame, sizeof(frame), 1, handle, &k);
	if (!k.taken)
		return priv_finish(ps, how);
	if (session_gone(ps) == -1) {
		log_warnx("login: the session did not end after the hand-over");
		close(io.rfd);
		close(io.wfd);
		return EX_SOFTWARE;
	}
	/* The session's lifetime counts from the split, not from here. */
	left = clock_left_ms(&end) / 1000 - SEAM_GRACE_S;
	io_lifetime(&io, left > 1 ? (int)left : 1);
	st = pop3_session_resume(c, &io, k.user, k.method, k.tls);
	/* A QUIT may leave pipelined input unread. */
	io_linger(&io, LINGER_MS);
	close(io.rfd);
	if (io.wfd != io.rfd)
		close(io.wfd);
	for (left = 0; left < 2; left++)
		if (k.pipes[left] != -1)
			close(k.pipes[left]);
	return st;
}
