/* reply.c: every pop3d reply text, and the one place that turns a handler's
 * result into a status line.  Unprivileged (runs in any state). */
#include <stdarg.h>
#include <stdio.h>
#include "log.h"
#include "pop3d.h"

/* RFC 2449 8 and RFC 3206: [AUTH], [SYS/TEMP], [SYS/PERM] and [IN-USE] tell a
 * client whether to ask the user for a new password or simply retry later.
 * The [AUTH] text is the same for an unknown user and a wrong password. */
static const char *const texts[PR_NRES] = {
	[PR_OK_USER]	= "send PASS",
	[PR_OK_NOOP]	= "nothing done",
	[PR_BYE_AUTH]	= "bye",
	[PR_ERR_UNKNOWN]	= "unknown command",
	[PR_ERR_STATE]	= "command not valid in this state",
	[PR_ERR_TOOLONG]	= "command line too long",
	[PR_ERR_NUL]	= "NUL byte in command line",
	[PR_ERR_TIMEOUT]	= "idle timeout, closing connection",
	[PR_ERR_LIFETIME]	= "session time limit reached, closing connection",
	[PR_ERR_SYNTAX]	= "syntax error",
	[PR_ERR_ARG]	= "invalid message number",
	[PR_ERR_NOMSG]	= "no such message",
	[PR_ERR_DELETED]	= "message already deleted",
	[PR_ERR_NAME]	= "invalid user name",
	[PR_ERR_AUTH]	= "[AUTH] authentication failed",
	[PR_ERR_B64]	= "invalid base64 data",
	[PR_ERR_MECH]	= "unsupported authentication mechanism",
	[PR_ERR_CANCEL]	= "authentication cancelled",
	[PR_ERR_APOP]	= "APOP not available",
	[PR_ERR_INUSE]	= "[IN-USE] maildrop is in use by another session",
	[PR_ERR_TEMP]	= "[SYS/TEMP] maildrop unavailable",
	[PR_ERR_PERM]	= "[SYS/PERM] maildrop unavailable",
	[PR_ERR_COMMIT]	= "[SYS/TEMP] deletions not committed, nothing removed",
	[PR_ERR_IO]	= "[SYS/TEMP] cannot read message",
	[PR_ERR_TLS_ACTIVE]	= "TLS already active",
	[PR_ERR_TLS_NONE]	= "STLS not available",
	/* RFC 3206: [AUTH] tells the client to change how it logs in. */
	[PR_ERR_CLEARTEXT]	= "[AUTH] cleartext login only over TLS: use STLS",
};

_Static_assert(sizeof(((struct opts *)0)->host) <= 256,
    "POP3_STAMP_SIZE and POP3_REPLY_TEXT_MAX assume a host of 255 octets");

/* A text that did not fit its buffer: never sent cut without a word. */
static void
too_long(const char *fmt, int n, size_t cap)
{
	log_warnx("reply too long format=\"%.40s\" len=%d cut=%zu", fmt, n,
	    cap - 1);
}

void
pop3_reply_ok(struct pop3 *s, const char *fmt, ...)
{
	char buf[POP3_REPLY_TEXT_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= sizeof(buf))
		too_long(fmt, n, sizeof(buf));
	io_printf(s->io, "+OK %s\r\n", buf);
}

void
pop3_reply_text(struct pop3 *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->text, sizeof(s->text), fmt, ap);
	va_end(ap);
	if (n < 0)
		s->text[0] = '\0';
	else if ((size_t)n >= sizeof(s->text))
		too_long(fmt, n, sizeof(s->text));
}

void
pop3_reply_result(struct pop3 *s, enum pop3_res r)
{
	switch (r) {
	case PR_DONE:
		break;
	case PR_BYE:
	case PR_OK:
		if (r == PR_BYE)
			s->close = 1;
		io_printf(s->io, "+OK %s\r\n", s->text);
		break;
	case PR_BYE_AUTH:
	case PR_OK_USER:
	case PR_OK_NOOP:
		if (r == PR_BYE_AUTH)
			s->close = 1;
		io_printf(s->io, "+OK %s\r\n", texts[r]);
		break;
	default:
		/* s->why is a store_strerror() text or a fixed string of ours,
		 * never client data: a reply line cannot be forged through it. */
		if (s->why != NULL)
			io_printf(s->io, "-ERR %s: %s\r\n", texts[r], s->why);
		else
			io_printf(s->io, "-ERR %s\r\n", texts[r]);
		break;
	}
	s->text[0] = '\0';
	s->why = NULL;
}
