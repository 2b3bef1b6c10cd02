/* reply.c: the text of every smtpd reply and the one function that writes
 * them, counts the client's errors and logs rejections.  Session side,
 * unprivileged. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "smtpd.h"

/* RFC 3463 codes: X.0.0 other, X.1.1 bad mailbox, X.1.3 bad recipient
 * syntax, X.1.7 bad sender syntax, X.2.0 mailbox status, X.2.2 mailbox
 * full, X.3.0 mail system, X.3.1 system full, X.3.4 message too big, X.4.2
 * connection, X.5.1 invalid command, X.5.2 syntax error, X.5.3 too many
 * recipients, X.5.4 invalid arguments, X.6.7 non-ASCII address (RFC 6531),
 * X.7.0 security, X.7.1 not authorized (relaying). */
static const char *const text[R__COUNT] = {
	[R_GREET]	= "220 %h ESMTP",
	[R_HELO]	= "250 %h",
	/* RFC 1869 4.3: the first line names us, one keyword a line follows. */
	[R_EHLO]	= "250-%h\n250-PIPELINING\n250-SIZE %s\n250-8BITMIME\n"
			  "250-ENHANCEDSTATUSCODES\n250-SMTPUTF8\n250 HELP",
	/* RFC 3207 4: STARTTLS only while TLS can still start. */
	[R_EHLO_TLS]	= "250-%h\n250-PIPELINING\n250-SIZE %s\n250-8BITMIME\n"
			  "250-ENHANCEDSTATUSCODES\n250-SMTPUTF8\n250-STARTTLS\n"
			  "250 HELP",
	[R_TLS_GO]	= "220 2.0.0 Ready to start TLS",
	[R_ACK]		= "250 2.0.0 Ok",
	[R_SENDER_OK]	= "250 2.1.0 Sender ok",
	[R_RCPT_OK]	= "250 2.1.5 Recipient ok",
	[R_DATA_GO]	= "354 End data with <CR><LF>.<CR><LF>",
	[R_QUEUED]	= "250 2.0.0 Ok: queued as %q",
	[R_QUIT]	= "221 2.0.0 %h closing connection",
	[R_HELP]	= "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP "
			  "QUIT HELP VRFY",
	/* RFC 5321 3.5.3: 252 when we will not say; probing learns nothing. */
	[R_VRFY]	= "252 2.5.2 Cannot VRFY user, but will accept message "
			  "and attempt delivery",
	[R_EXPN]	= "502 5.5.1 EXPN not available",
	[R_UNKNOWN]	= "500 5.5.2 Command not recognized",
	[R_TOOLONG]	= "500 5.5.2 Line too long",
	[R_NUL]		= "500 5.5.2 NUL byte in command",
	[R_NOHELO]	= "503 5.5.1 Send HELO or EHLO first",
	[R_NESTED]	= "503 5.5.1 Sender already given",
	[R_NOMAIL]	= "503 5.5.1 Need MAIL before RCPT",
	[R_NORCPT]	= "503 5.5.1 Need MAIL and RCPT before DATA",
	[R_NOARGS]	= "501 5.5.4 Syntax error: no arguments allowed",
	[R_HELO_SYNTAX]	= "501 5.5.4 Syntax: HELO hostname",
	[R_VRFY_SYNTAX]	= "501 5.5.4 Syntax: VRFY address",
	[R_MAIL_SYNTAX]	= "501 5.5.4 Syntax: MAIL FROM:<address>",
	[R_RCPT_SYNTAX]	= "501 5.5.4 Syntax: RCPT TO:<address>",
	[R_BAD_SENDER]	= "501 5.1.7 Bad sender address syntax",
	[R_BAD_RCPT]	= "501 5.1.3 Bad recipient address syntax",
	[R_PATH_LONG]	= "501 5.5.4 Address too long",
	[R_PARAM_SYNTAX] = "501 5.5.4 Bad parameter",
	/* RFC 5321 4.2.2: 555 for parameters not recognized. */
	[R_PARAM_UNKNOWN] = "555 5.5.4 Unsupported parameter",
	[R_NEED_UTF8]	= "553 5.6.7 Non-ASCII address requires SMTPUTF8",
	[R_TLS_ACTIVE]	= "503 5.5.1 TLS already active",
	/* No wrapper in front to do TLS: the command is not implemented. */
	[R_TLS_NONE]	= "502 5.5.1 STARTTLS not available",
	[R_TLS_TXN]	= "503 5.5.1 STARTTLS in a mail transaction",
	/* RFC 1870 6: 552 for a message over the fixed limit. */
	[R_SIZE]	= "552 5.3.4 Message size exceeds fixed limit",
	/* RFC 5321 4.5.3.1.10: 452 so the client sends the rest later. */
	[R_TOO_MANY]	= "452 4.5.3 Too many recipients",
	[R_NO_USER]	= "550 5.1.1 User unknown",
	[R_RELAY]	= "550 5.7.1 Relaying denied",
	[R_BAD_NAME]	= "553 5.1.3 Invalid local part",
	[R_LOOKUP]	= "451 4.3.0 Temporary lookup failure",
	/* A users-file entry without uid:gid as root without -u: the admin's
	 * to fix; the sender retries meanwhile. */
	[R_NO_IDS]	= "451 4.3.0 Mailbox has no owner, try again later",
	/* RFC 3463 X.2.2: mailbox full; 452 (RFC 5321 4.2.2: insufficient
	 * storage) so the sender retries once the user has made room. */
	[R_QUOTA]	= "452 4.2.2 Mailbox full",
	[R_NOMEM]	= "451 4.3.0 Out of memory, try again later",
	[R_FAIL]	= "451 4.3.0 Local delivery failed, try again later",
	[R_BUSY]	= "451 4.2.0 Mailbox busy, try again later",
	[R_FULL]	= "451 4.3.1 Mail system full, try again later",
	[R_ERRORS]	= "421 4.7.0 %h Too many errors, closing connection",
	[R_TIMEOUT]	= "421 4.4.2 %h Timeout, closing connection",
	[R_LIFETIME]	= "421 4.4.2 %h Session time limit reached, closing connection",
	[R_UNAVAIL]	= "421 4.3.0 %h Service not available, closing connection",
};

const char *
smtp_reply_text(enum reply r)
{
	return r > R_NONE && r < R__COUNT ? text[r] : NULL;
}

/* Expand T into one reply (lines end in CRLF) in BUF.  Returns its length.
 * Foreign data never gets here: host and queue id are ours. */
static size_t
expand(const struct smtp *s, const char *t, char *buf, size_t cap)
{
	char num[24];
	const char *v;
	size_t n = 0, vl;

	snprintf(num, sizeof(num), "%llu",
	    (unsigned long long)s->conf->maxsize);
	for (; *t != '\0'; t++) {
		v = NULL;
		if (t[0] == '%' && t[1] != '\0') {
			t++;
			v = *t == 'h' ? s->conf->o.host : *t == 'q' ? s->qid :
			    *t == 's' ? num : "";
		} else if (*t == '\n')
			v = "\r\n";
		if (v == NULL)
			v = t, vl = 1;
		else
			vl = strlen(v);
		if (vl > cap - 3 - n)
			vl = cap - 3 - n;	/* host <= 255: cannot happen */
		memcpy(buf + n, v, vl);
		n += vl;
	}
	memcpy(buf + n, "\r\n", 2);
	return n + 2;
}

size_t
smtp_reply_format(const struct smtp *s, enum reply r, char *buf, size_t cap)
{
	const char *t = smtp_reply_text(r);

	return t != NULL ? expand(s, t, buf, cap) : 0;
}

int
smtp_reply(struct smtp *s, enum reply r)
{
	char buf[1024], q[LOG_QUOTE_SIZE];
	const char *t = smtp_reply_text(r);
	int code;

	if (t == NULL)
		return 0;
	/* A whole reply goes into the output buffer in one piece, so a
	 * multi-line EHLO reply leaves in one write. */
	io_write(s->io, buf, expand(s, t, buf, sizeof(buf)));
	code = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
	/* 452 comes in runs (a pipelined list over -n): one line a
	 * transaction. */
	if (r == R_TOO_MANY && s->toomany++ > 0)
		return code;
	if (code >= 400 && code != 421) {
		/* A 4xx is flow control or our own trouble: not the client's
		 * error (params.h, SMTPD_ERRORS_MAX). */
		if (code >= 500 && s->verb != NULL &&
		    strcmp(s->verb, "RCPT") == 0 &&
		    (code == 550 || code == 553 || r == R_BAD_RCPT)) {
			/* A refused address, not a broken client. */
			s->rcpterrors++;
			s->txrcpterrors++;
		} else if (code >= 500)
			s->errors++;
		/* The reply to a message: the transaction's line has it. */
		if (s->verb == NULL)
			return code;
		log_info("reject cmd=%s reply=\"%.9s\" arg=%s",
		    s->verb != NULL ? s->verb : "-", t,
		    log_quote(q, sizeof(q), s->arg != NULL ? s->arg : "",
		    s->arg != NULL ? s->arglen : 0));
	}
	return code;
}
