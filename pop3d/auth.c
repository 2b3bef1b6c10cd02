/* auth.c: the AUTHORIZATION state: USER/PASS, AUTH PLAIN (RFC 5034, 4616),
 * APOP (RFC 1939 7).  Runs in the session process, unprivileged: the
 * credentials go to the privileged part (priv.c) to be checked, and on
 * success the connection goes with them. */
#include <errno.h>
#include <unistd.h>
#include "chan.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "log.h"
#include "pop3d.h"

/* A failed login: one log line, the fixed delay counted from START, the same
 * reply for every reason (RFC 3206 [AUTH]), and the end after three. */
static enum pop3_res
failed(struct pop3 *s, const struct timespec *start, const char *name,
    const char *method, const char *reason)
{
	char q[LOG_QUOTE_SIZE];
	struct timespec until = *start;

	s->fails++;
	log_info("login failed user=%s method=%s reason=%s fails=%d",
	    log_quote(q, sizeof(q), name, strlen(name)), method, reason,
	    s->fails);
	/* Sleeping to a deadline rather than for a period hides how long the
	 * check took: crypt(3) of a real hash against the dummy one. */
	until.tv_sec += s->conf->fail_delay_ms / 1000;
	until.tv_nsec += (long)(s->conf->fail_delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)
	    == EINTR)
		;
	if (s->fails >= POP3_FAILS_MAX) {
		s->close = 1;
		s->end = "auth-failures";
	}
	pop3_set_state(s, ST_AUTH);
	return PR_ERR_AUTH;
}

/* The connection goes to the privileged part, which has switched to the
 * mailbox owner: first our replies so far, then the descriptors with the
 * input we read but did not use (pipelined commands after the login).
 * This process then holds the connection no more. */
static enum pop3_res
hand_over(struct pop3 *s)
{
	static const int fds[2] = { 0, 1 };
	struct io *io = s->io;
	int nul;

	if (io_flush(io) == -1) {
		s->close = 1;
		s->end = "write-error";
		return PR_DONE;
	}
	if (chan_send(s->conf->link, REQ_HANDOVER, io->rbuf + io->rpos,
	    io->rlen - io->rpos, fds, 2) == -1) {
		log_warn("login: handing the connection over");
		s->why = "login failed";
		s->close = 1;
		s->end = "login-error";
		return PR_ERR_TEMP;
	}
	if ((nul = priv_nullfd()) != -1) {
		(void)dup2(nul, 0);
		(void)dup2(nul, 1);
		if (nul > 2)
			close(nul);
	}
	s->handed = 1;
	s->close = 1;
	return PR_DONE;
}

/* Ask the privileged part to check the credentials.  Returns what to
 * reply, after the hand-over on success. */
static enum pop3_res
ask(struct pop3 *s, const struct timespec *start, const char *name,
    const char *secret, const char *method)
{
	char req[16 + USER_MAX + POP3_AUTH_LINE_MAX + 8], rep[128];
	size_t nl = strlen(name), sl = strlen(secret), ml = strlen(method), len;
	uint32_t type, res;
	int n;

	if (ml + nl + sl + 3 > sizeof(req))
		return failed(s, start, name, method, "too-long");
	memcpy(req, method, ml + 1);
	memcpy(req + ml + 1, name, nl + 1);
	memcpy(req + ml + nl + 2, secret, sl + 1);
	n = chan_send(s->conf->link, REQ_LOGIN, req, ml + nl + sl + 3, NULL, 0);
	pop3_wipe(req, sizeof(req));
	if (n == -1 || chan_recv(s->conf->link, &type, rep, sizeof(rep) - 1, &len,
	    NULL, NULL) != 1 || type != REP_LOGIN || len < 5) {
		log_warnx("login: no answer from the privileged part");
		s->why = "login failed";
		s->close = 1;
		s->end = "login-error";
		return PR_ERR_TEMP;
	}
	rep[len] = '\0';
	memcpy(&res, rep, 4);
	switch (res) {
	case PR_OK:
		return hand_over(s);
	case PR_ERR_AUTH:
		return failed(s, start, name, method, rep + 4);
	default:
		/* Its own text: no client byte is in it. */
		snprintf(s->whybuf, sizeof(s->whybuf), "%.*s",
		    (int)sizeof(s->whybuf) - 1, rep + 4);
		s->why = s->whybuf;
		s->close = 1;
		s->end = "login-error";
		return res == PR_ERR_PERM ? PR_ERR_PERM : PR_ERR_TEMP;
	}
}

/* Check NAME's password or APOP digest (SECRET) and log in: through the
 * privileged part, or in this process (tests, fuzzers: conf->link -1). */
static enum pop3_res
login(struct pop3 *s, const char *name, const char *secret, const char *method)
{
	struct timespec start;
	const char *reason;
	struct user u;
	enum pop3_res r;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (s->conf->link >= 0)
		return ask(s, &start, name, secret, method);
	rc = pop3_check_login(s->conf, method, name, secret, s->stamp, &u,
	    &reason);
	if (rc == 0)
		return failed(s, &start, name, method, reason);
	if (rc == -1) {
		s->why = "user database unavailable";
		s->close = 1;
		s->end = "login-error";
		return PR_ERR_TEMP;
	}
	snprintf(s->user, sizeof(s->user), "%s", name);
	log_quote(s->quser, sizeof(s->quser), name, strlen(name));
	if ((r = pop3_drop_switch(s->conf, &u, s->quser, &s->why)) != PR_OK) {
		s->close = 1;
		s->end = "login-error";
		return r;
	}
	return pop3_drop_login(s, method);
}

enum pop3_res
pop3_cmd_user(struct pop3 *s, char *args)
{
	/* RFC 1939 7: +OK for any well-formed name, known or not. */
	if (!store_name_ok(args, strlen(args)))
		return PR_ERR_NAME;
	snprintf(s->user, sizeof(s->user), "%s", args);
	pop3_set_state(s, ST_USER);
	return PR_OK_USER;
}

enum pop3_res
pop3_cmd_pass(struct pop3 *s, char *args)
{
	char name[USER_MAX + 1];
	enum pop3_res r;

	/* RFC 1939 7: the whole rest of the line is the password, spaces and
	 * all. */
	snprintf(name, sizeof(name), "%s", s->user);
	r = login(s, name, args, "pass");
	pop3_wipe(args, strlen(args));
	return r;
}

/* RFC 4616 2: [authzid] NUL authcid NUL passwd.  Acting for someone else is
 * not supported, so an authzid must be empty or the authcid itself.  The
 * authcid is found first, so that even a refused message names its user in
 * the log. */
int
pop3_sasl_plain(char *msg, size_t len, char **user, char **pass)
{
	char *nul1, *nul2;

	*user = NULL;
	*pass = NULL;
	msg[len] = '\0';
	if ((nul1 = memchr(msg, '\0', len)) == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg));
	if (nul2 == NULL)
		return -1;
	*user = nul1 + 1;
	if (memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - msg)) != NULL)
		return -1;
	if (**user == '\0')
		return -1;
	*pass = nul2 + 1;
	if (nul1 != msg && strcmp(msg, *user) != 0)
		return -2;
	return 0;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
pop3_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t i, o = 0;
	int v[4], k, pad;

	/* RFC 4648 4, strictly: whole quanta, padding only at the end. */
	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				pad++;
				v[k] = 0;
				continue;
			}
			if (pad > 0 || (v[k] = b64_val((unsigned char)in[i + k])) < 0)
				return -1;
		}
		if (o + 3 - (size_t)pad > cap)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}

enum pop3_res
pop3_cmd_auth(struct pop3 *s, char *args)
{
	char line[POP3_AUTH_LINE_MAX + 1];
	unsigned char msg[POP3_AUTH_LINE_MAX];
	char *argv[2], *resp, *user, *pass;
	struct timespec start;
	size_t len;
	long n;
	int argc, k;
	enum pop3_res r;

	if ((argc = pop3_split(args, argv, 2)) == -1)
		return PR_ERR_SYNTAX;
	if (argc == 0) {
		/* The pre-RFC 5034 "AUTH" listing that some clients still send. */
		pop3_reply_ok(s, "SASL mechanisms follow");
		io_printf(s->io, "PLAIN\r\n.\r\n");
		return PR_DONE;
	}
	if (strcasecmp(argv[0], "PLAIN") != 0)
		return PR_ERR_MECH;
	if (argc == 2) {
		resp = argv[1];
	} else {
		/* RFC 5034 4: an empty challenge, then one line of response. */
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
		resp = line;
	}
	if (strcmp(resp, "*") == 0)
		return PR_ERR_CANCEL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	/* RFC 5034 4: "=" is an empty initial response. */
	n = strcmp(resp, "=") == 0 ? 0 :
	    pop3_b64_decode(resp, strlen(resp), msg, sizeof(msg) - 1);
	pop3_wipe(resp, strlen(resp));
	if (n < 0) {
		r = failed(s, &start, "", "plain", "bad-base64");
		return r == PR_ERR_AUTH ? PR_ERR_B64 : r;
	}
	if ((k = pop3_sasl_plain((char *)msg, (size_t)n, &user, &pass)) != 0) {
		r = failed(s, &start, user != NULL ? user : "", "plain",
		    k == -2 ? "authzid" : "malformed");
		pop3_wipe(msg, sizeof(msg));
		return r;
	}
	r = login(s, user, pass, "plain");
	pop3_wipe(msg, sizeof(msg));
	return r;
}

enum pop3_res
pop3_cmd_apop(struct pop3 *s, char *args)
{
	char *argv[2];

	if (s->stamp[0] == '\0')
		return PR_ERR_APOP;
	if (pop3_split(args, argv, 2) != 2)
		return PR_ERR_SYNTAX;
	return login(s, argv[0], argv[1], "apop");
}

