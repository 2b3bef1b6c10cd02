/* cmd.c: the SMTP command table (verbs and the states they are allowed in)
 * and the handlers of the commands outside a transaction (txn.c has MAIL,
 * RCPT, DATA).  Only smtp_cmd_dispatch() answers unknown or out-of-state
 * commands; handlers return a reply that smtp_reply() writes.  Session
 * side, unprivileged. */
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "tls.h"
#include "smtpd.h"

#define ANY	(CMD_STATE(ST_GREET) | CMD_STATE(ST_READY) | \
		 CMD_STATE(ST_MAIL) | CMD_STATE(ST_RCPT))

/* RFC 5321 4.1.1.1: the HELO/EHLO argument names the client.  It goes into
 * the Received header, so it must be one printable token. */
static int
helo_ok(const char *arg, size_t len)
{
	size_t i;

	if (len == 0 || len > HELO_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)arg[i] <= 0x20 || (unsigned char)arg[i] >= 0x7f)
			return 0;
	return 1;
}

static enum reply
greet(struct smtp *s, const char *arg, size_t len, int esmtp)
{
	if (!helo_ok(arg, len))
		return R_HELO_SYNTAX;
	/* RFC 5321 4.1.4: a new EHLO/HELO resets the transaction too. */
	smtp_set_state(s, ST_READY);
	memcpy(s->helo, arg, len);
	s->helo[len] = '\0';
	s->esmtp = esmtp;
	return esmtp ? R_EHLO : R_HELO;
}

static enum reply
cmd_helo(struct smtp *s, char *arg, size_t len)
{
	return greet(s, arg, len, 0);
}

static enum reply
cmd_ehlo(struct smtp *s, char *arg, size_t len)
{
	enum reply r = greet(s, arg, len, 1);

	return r == R_EHLO && tls_can_start(&s->tls) ? R_EHLO_TLS : r;
}

/* RFC 3207: STARTTLS.  The 220 is the last plaintext line: it goes over
 * the TLS wrapper's control pipe (tls.c), everything the client sent after
 * the command is thrown away, and the session starts over (4.2: the EHLO
 * name, sender and recipients are forgotten, and STARTTLS is not offered
 * again). */
static enum reply
cmd_starttls(struct smtp *s, char *arg, size_t len)
{
	char buf[128];
	size_t n;

	(void)arg;
	if (len > 0)
		return R_NOARGS;
	if (s->tls.on)
		return R_TLS_ACTIVE;
	if (!tls_can_start(&s->tls))
		return R_TLS_NONE;
	n = smtp_reply_format(s, R_TLS_GO, buf, sizeof(buf));
	if (tls_start(&s->tls, s->io, buf, n) == -1) {
		/* The client may already speak TLS: no reply can reach it. */
		s->quit = 1;
		s->end = "tls-failed";
		return R_NONE;
	}
	log_info("starttls");
	smtp_set_state(s, ST_GREET);
	s->helo[0] = '\0';
	s->esmtp = 0;
	return R_NONE;
}

static enum reply
cmd_rset(struct smtp *s, char *arg, size_t len)
{
	(void)arg;
	if (len > 0)
		return R_NOARGS;
	if (s->state != ST_GREET)
		smtp_set_state(s, ST_READY);
	return R_ACK;
}

/* RFC 5321 4.1.1.9: NOOP may carry an argument, which is ignored. */
static enum reply
cmd_noop(struct smtp *s, char *arg, size_t len)
{
	(void)s, (void)arg, (void)len;
	return R_ACK;
}

static enum reply
cmd_quit(struct smtp *s, char *arg, size_t len)
{
	(void)arg;
	if (len > 0)
		return R_NOARGS;
	s->quit = 1;
	s->end = "quit";
	return R_QUIT;
}

static enum reply
cmd_help(struct smtp *s, char *arg, size_t len)
{
	(void)s, (void)arg, (void)len;
	return R_HELP;
}

static enum reply
cmd_vrfy(struct smtp *s, char *arg, size_t len)
{
	(void)s, (void)arg;
	return len == 0 ? R_VRFY_SYNTAX : R_VRFY;
}

static enum reply
cmd_expn(struct smtp *s, char *arg, size_t len)
{
	(void)s, (void)arg, (void)len;
	return R_EXPN;
}

/* RFC 5321 4.1.4 orders the transaction: MAIL, then RCPT, then DATA.
 * Before HELO/EHLO only session commands are allowed (the dispatcher says
 * R_NOHELO); REFUSE is the reply in the other states. */
static const struct smtp_cmd cmds[] = {
	{ "HELO", ANY,				cmd_helo,	R_NONE },
	{ "EHLO", ANY,				cmd_ehlo,	R_NONE },
	{ "MAIL", CMD_STATE(ST_READY),		smtp_txn_mail,	R_NESTED },
	{ "RCPT", CMD_STATE(ST_MAIL) | CMD_STATE(ST_RCPT), smtp_txn_rcpt, R_NOMAIL },
	{ "DATA", CMD_STATE(ST_RCPT),		smtp_txn_data,	R_NORCPT },
	{ "RSET", ANY,				cmd_rset,	R_NONE },
	{ "NOOP", ANY,				cmd_noop,	R_NONE },
	{ "QUIT", ANY,				cmd_quit,	R_NONE },
	{ "HELP", ANY,				cmd_help,	R_NONE },
	{ "VRFY", ANY,				cmd_vrfy,	R_NONE },
	{ "EXPN", ANY,				cmd_expn,	R_NONE },
	{ "STARTTLS", CMD_STATE(ST_READY),	cmd_starttls,	R_TLS_TXN },
};

const struct smtp_cmd *
smtp_cmd_find(char *line, size_t len, char **arg, size_t *arglen)
{
	size_t vlen;

	cmd_split(line, len, &vlen, arg, arglen);
	/* Trailing spaces change no SMTP argument's meaning. */
	while (*arglen > 0 && (*arg)[*arglen - 1] == ' ')
		(*arg)[--*arglen] = '\0';
	return cmd_find(cmds, sizeof(cmds) / sizeof(cmds[0]), sizeof(cmds[0]),
	    line, vlen);
}

void
smtp_cmd_dispatch(struct smtp *s, char *line, size_t len)
{
	const struct smtp_cmd *c;
	char *arg;
	size_t arglen;
	enum reply r;

	c = smtp_cmd_find(line, len, &arg, &arglen);
	s->verb = c != NULL ? c->verb : "unknown";
	s->arg = c != NULL ? arg : line;
	/* An unknown command is logged whole, without trailing spaces. */
	s->arglen = c != NULL ? arglen : strlen(line);
	if (c == NULL)
		r = R_UNKNOWN;
	else if ((c->states & CMD_STATE(s->state)) == 0)
		r = s->state == ST_GREET ? R_NOHELO : c->refuse;
	else
		r = c->fn(s, arg, arglen);
	smtp_reply(s, r);
	s->verb = NULL;
	s->arg = NULL;
	s->arglen = 0;
}
