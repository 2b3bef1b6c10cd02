/* reply.h: every reply smtpd sends, by name.  The texts, with their RFC 3463
 * enhanced status codes, are in reply.c, the one place that writes replies. */
#ifndef SMTPD_REPLY_H
#define SMTPD_REPLY_H

enum reply {
	R_NONE = 0,	/* the handler has nothing more to say */
	/* greeting and the command replies that succeed */
	R_GREET,	/* 220: RFC 2034 exempts greetings from status codes */
	R_HELO,		/* 250 HOST (HELO: no extensions) */
	R_EHLO,		/* 250-HOST and the extension list */
	R_EHLO_TLS,	/* the same with STARTTLS, while it can start */
	R_TLS_GO,	/* 220: RFC 3207 4, the last plaintext line */
	R_ACK,		/* NOOP, RSET */
	R_SENDER_OK,
	R_RCPT_OK,
	R_DATA_GO,	/* 354: no status code (RFC 3463 has no class 3) */
	R_QUEUED,	/* the message is fsync'ed in every mailbox */
	R_QUIT,
	R_HELP,
	R_VRFY,		/* 252: never says whether a user exists */
	R_EXPN,
	/* command errors: RFC 5321 4.2.4 (500, 501, 503) and 4.5.3.1.4 */
	R_UNKNOWN,
	R_TOOLONG,
	R_NUL,
	R_NOHELO,
	R_NESTED,
	R_NOMAIL,
	R_NORCPT,
	R_NOARGS,
	R_HELO_SYNTAX,
	R_VRFY_SYNTAX,
	R_MAIL_SYNTAX,
	R_RCPT_SYNTAX,
	R_BAD_SENDER,
	R_BAD_RCPT,
	R_PATH_LONG,
	R_PARAM_SYNTAX,
	R_PARAM_UNKNOWN,
	R_NEED_UTF8,
	/* STARTTLS (RFC 3207) */
	R_TLS_ACTIVE,
	R_TLS_NONE,
	R_TLS_TXN,
	/* recipients and size */
	R_SIZE,
	R_TOO_MANY,
	R_NO_USER,
	R_RELAY,
	R_BAD_NAME,
	R_LOOKUP,
	R_NO_IDS,
	R_QUOTA,
	/* delivery failures: always 451 and the message is in no mailbox */
	R_NOMEM,
	R_FAIL,
	R_BUSY,
	R_FULL,
	/* 421: the session ends after these */
	R_ERRORS,
	R_TIMEOUT,
	R_LIFETIME,
	R_UNAVAIL,
	R__COUNT
};

/* The text of reply R, "%h" standing for the host name, "%q" for the queue
 * id and "%s" for the size limit; NULL for R_NONE.  R_EHLO's lines are
 * separated by '\n'.  smtp_reply() (smtpd.h) writes them. */
const char *smtp_reply_text(enum reply r);

#endif
