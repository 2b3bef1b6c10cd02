/* auth.c: the AUTHORIZATION state: USER/PASS, AUTH PLAIN (RFC 5034, 4616),
 * APOP (RFC 1939 7).  Runs in the session process, unprivileged: every
 * login goes to the login checker (pop3seam.h), which checks it, delays
 * and counts a failure, and answers; on success the connection goes to the
 * checker with the input not yet used. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"
#include "pass.h"
#include "tls.h"
#include "pop3d.h"

/* The checker cannot be reached or answered nonsense: no login is
 * possible.  Logged once; the session ends. */
static enum pop3_res
link_failed(struct pop3 *s)
{
	log_warnx("login: no answer from the login checker");
	s->why = "login failed";
	s->close = 1;
	s->end = "login-error";
	return PR_ERR_TEMP;
}

/* The connection goes to the checker, which has switched to the mailbox
 * owner: first our replies so far, then the descriptors with the input we
 * read but did not use (pipelined commands after the login).  This
 * process then holds the connection no more. */
static enum pop3_res
hand_over(struct pop3 *s)
{
	unsigned char buf[IO_RBUF + 16];
	struct io *io = s->io;
	int fds[4] = { io->rfd, io->wfd, TLS_CTL_FD, TLS_ACK_FD }, nfds, nul;
	size_t n;

	if (io_flush(io) == -1) {
		s->close = 1;
		s->end = "write-error";
		return PR_DONE;
	}
	/* The TLS wrapper's control pipes go too, while TLS has not started:
	 * they must stay open as long as the client is served. */
	nfds = s->tls.offer == TLS_ACK ? 4 : s->tls.offer == TLS_CLOSE ? 3 : 2;
	n = pm_put_handover(buf, sizeof(buf), io->rbuf + io->rpos,
	    io->rlen - io->rpos, s->tls.on);
	if (n == 0 || chan_send(s->ps->fd, &s->ps->end, PM_HANDOVER, buf, n,
	    fds, nfds) == -1)
		return link_failed(s);
	tls_close_copies(&s->tls);
	s->tls.offer = TLS_NONE;
	if ((nul = priv_nullfd()) != -1) {
		(void)dup2(nul, io->rfd);
		(void)dup2(nul, io->wfd);
		if (nul != io->rfd && nul != io->wfd)
			close(nul);
	}
	io->rpos = io->rlen = 0;
	s->handed = 1;
	s->close = 1;
	return PR_DONE;
}

/* Send message TYPE (LEN bytes packed in BUF, wiped after) and read the
 * checker's answer into *R.  Returns 0 or -1. */
static int
ask(struct pop3 *s, uint32_t type, unsigned char *buf, size_t len,
    struct pm_reply *r)
{
	unsigned char rep[PM_TEXT_SIZE + 16];
	uint32_t rt;
	size_t rlen;
	int k;

	k = len > 0 ? chan_send(s->ps->fd, &s->ps->end, type, buf, len, NULL,
	    0) : -1;
	pass_wipe(buf, len);
	if (k == -1 || chan_recv(s->ps->fd, &s->ps->end, &rt, rep, sizeof(rep),
	    &rlen, NULL, NULL) != 1 || rt != PM_LOGIN_REP ||
	    pm_get_reply(rep, rlen, r) == -1)
		return -1;
	return 0;
}

/* What the checker answered, as the reply to the client. */
static enum pop3_res
answer(struct pop3 *s, const struct pm_reply *r, enum pop3_res failure)
{
	switch (r->result) {
	case PM_OK:
		return hand_over(s);
	case PM_AUTH_LAST:
		/* The checker serves no more logins: three failures. */
		s->close = 1;
		s->end = "auth-failures";
		/* FALLTHROUGH */
	case PM_AUTH:
		pop3_set_state(s, ST_AUTH);
		return failure;
	default:
		/* Its own words: no client byte is in them. */
		snprintf(s->whybuf, sizeof(s->whybuf), "%s", r->text);
		s->why = s->whybuf;
		s->close = 1;
		s->end = "login-error";
		return r->result == PM_PERM ? PR_ERR_PERM : PR_ERR_TEMP;
	}
}

/* A login: NAME's password or APOP digest (SECRET) to the checker. */
static enum pop3_res
login(struct pop3 *s, enum pm_method method, const char *name,
    const char *secret)
{
	static struct pm_login l;	/* 2 KiB; wiped after use */
	unsigned char buf[PM_MSG_MAX];
	struct pm_reply r;
	size_t n;
	int k;

	l.method = method;
	snprintf(l.name, sizeof(l.name), "%s", name);
	snprintf(l.secret, sizeof(l.secret), "%s", secret);
	n = pm_put_login(buf, sizeof(buf), &l);
	pass_wipe(&l, sizeof(l));
	k = ask(s, PM_LOGIN, buf, n, &r);
	if (k == -1)
		return link_failed(s);
	return answer(s, &r, PR_ERR_AUTH);
}

/* A login refused here, before any check (REASON for the checker's log):
 * it goes to the checker all the same, which delays and counts it like
 * any other failure.  FAILURE is the reply. */
static enum pop3_res
refused(struct pop3 *s, enum pm_method method, const char *name,
    const char *reason, enum pop3_res failure)
{
	unsigned char buf[PM_MSG_MAX];
	struct pm_failed f;
	struct pm_reply r;

	f.method = method;
	snprintf(f.name, sizeof(f.name), "%s", name);
	snprintf(f.reason, sizeof(f.reason), "%s", reason);
	if (ask(s, PM_FAILED, buf, pm_put_failed(buf, sizeof(buf), &f), &r) ==
	    -1)
		return link_failed(s);
	return answer(s, &r, failure);
}

/* 1 when the client address is on this host (127.0.0.0/8, ::1, or an IPv4
 * one of those written v4-mapped). */
static int
loopback(const char *client)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, client, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, client, a) != 1)
		return 0;
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return a[12] == 127;
	return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
}

int
pop3_cleartext_refused(const struct pop3 *s)
{
	return tls_can_start(&s->tls) && !loopback(s->conf->o->client);
}

enum pop3_res
pop3_cmd_stls(struct pop3 *s, char *arg, size_t len)
{
	char reply[] = "+OK begin TLS negotiation\r\n";

	(void)arg;
	if (len > 0)
		return PR_ERR_SYNTAX;
	if (s->tls.on)
		return PR_ERR_TLS_ACTIVE;
	if (!tls_can_start(&s->tls))
		return PR_ERR_TLS_NONE;
	if (tls_start(&s->tls, s->io, reply, sizeof(reply) - 1) == -1) {
		/* The client may already speak TLS: no reply can reach it. */
		s->close = 1;
		s->end = "tls-failed";
		return PR_DONE;
	}
	log_info("stls");
	/* RFC 2595 4: still AUTHORIZATION, and a USER given before is gone. */
	s->user[0] = '\0';
	pop3_set_state(s, ST_AUTH);
	return PR_DONE;
}

enum pop3_res
pop3_cmd_user(struct pop3 *s, char *arg, size_t len)
{
	if (pop3_cleartext_refused(s))
		return PR_ERR_CLEARTEXT;
	/* RFC 1939 7: +OK for any well-formed name, known or not. */
	if (!store_name_ok(arg, len))
		return PR_ERR_NAME;
	snprintf(s->user, sizeof(s->user), "%s", arg);
	pop3_set_state(s, ST_USER);
	return PR_OK_USER;
}

enum pop3_res
pop3_cmd_pass(struct pop3 *s, char *arg, size_t len)
{
	enum pop3_res r;

	/* RFC 1939 7: the whole rest of the line is the password, spaces and
	 * all. */
	r = pop3_cleartext_refused(s) ? PR_ERR_CLEARTEXT :
	    login(s, PM_PASS, s->user, arg);
	pass_wipe(arg, len);
	return r;
}

/* RFC 5034 4: the response to AUTH PLAIN's empty challenge, one line, into
 * LINE (POP3_AUTH_LINE_MAX + 1 bytes).  Returns PR_OK, or the result that
 * ends the command. */
static enum pop3_res
sasl_response(struct pop3 *s, char *line)
{
	size_t len;

	io_printf(s->io, "+ \r\n");
	switch (pop3_getline(s, line, POP3_AUTH_LINE_MAX, &len)) {
	case IO_OK:
		break;
	case IO_PART:
	case IO_TOOLONG:
		return PR_ERR_TOOLONG;
	case IO_TIMEOUT:
		/* As between commands: said, logged, no login. */
		s->close = 1;
		s->end = "timeout";
		return PR_ERR_TIMEOUT;
	case IO_EOF:
		s->close = 1;
		s->end = "eof";
		return PR_DONE;
	case IO_ERROR:
	default:
		s->close = 1;
		s->end = "error";
		return PR_DONE;
	}
	if (s->io->nul)
		return PR_ERR_NUL;
	line[len] = '\0';
	return PR_OK;
}

enum pop3_res
pop3_cmd_auth(struct pop3 *s, char *arg, size_t len)
{
	char line[POP3_AUTH_LINE_MAX + 1];
	unsigned char msg[POP3_AUTH_LINE_MAX];
	char *argv[2], *resp, *user, *pass;
	enum pop3_res r;
	long n;
	int argc, k;

	(void)len;
	if (pop3_cleartext_refused(s))
		return PR_ERR_CLEARTEXT;
	if ((argc = pop3_split(arg, argv, 2)) == -1)
		return PR_ERR_SYNTAX;
	if (argc == 0) {
		/* The pre-RFC 5034 "AUTH" listing that some clients still send. */
		pop3_reply_ok(s, "SASL mechanisms follow");
		io_printf(s->io, "PLAIN\r\n.\r\n");
		return PR_DONE;
	}
	if (strcasecmp(argv[0], "PLAIN") != 0)
		return PR_ERR_MECH;
	resp = argv[1];
	if (argc == 1) {
		if ((r = sasl_response(s, line)) != PR_OK)
			return r;
		resp = line;
	}
	if (strcmp(resp, "*") == 0)
		return PR_ERR_CANCEL;
	/* RFC 5034 4: "=" is an empty initial response. */
	n = strcmp(resp, "=") == 0 ? 0 :
	    pop3_b64_decode(resp, strlen(resp), msg, sizeof(msg) - 1);
	pass_wipe(resp, strlen(resp));
	if (n < 0)
		return refused(s, PM_PLAIN, "", "bad-base64", PR_ERR_B64);
	if ((k = pop3_sasl_plain((char *)msg, (size_t)n, &user, &pass)) != 0)
		r = refused(s, PM_PLAIN, user != NULL ? user : "",
		    k == -2 ? "authzid" : "malformed", PR_ERR_AUTH);
	else
		r = login(s, PM_PLAIN, user, pass);
	pass_wipe(msg, sizeof(msg));
	return r;
}

enum pop3_res
pop3_cmd_apop(struct pop3 *s, char *arg, size_t len)
{
	char *argv[2];

	(void)len;
	if (s->stamp[0] == '\0')
		return PR_ERR_APOP;
	if (pop3_cleartext_refused(s))
		return PR_ERR_CLEARTEXT;
	if (pop3_split(arg, argv, 2) != 2)
		return PR_ERR_SYNTAX;
	return login(s, PM_APOP, argv[0], argv[1]);
}
