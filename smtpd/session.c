/* session.c: one SMTP session: greeting, the command loop, the error limits
 * and the end.  Runs in the session process, unprivileged (main.c); tests
 * and fuzzers call smtp_session() on memory I/O, with a delivery side at
 * the other end of a real seam. */
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "smtpd.h"

/* A line that is answered before it is parsed (too long, NUL byte). */
static void
refuse_line(struct smtp *s, enum reply r, const char *line, size_t len)
{
	s->verb = "line";
	s->arg = line;
	s->arglen = len;
	smtp_reply(s, r);
	s->verb = NULL;
	s->arg = NULL;
	s->arglen = 0;
}

int
smtp_session(const struct smtpd_conf *c, struct io *io, struct smtp_link *link)
{
	/* RFC 5321 4.5.3.1.4: 512 octets with CRLF; a bare LF ends a line too,
	 * so 510 bytes of text whichever end the client uses; and room for
	 * the NUL the dispatcher puts after it. */
	char line[SMTP_LINE_MAX - 2 + 1];
	struct smtp s;
	size_t len;

	memset(&s, 0, sizeof(s));
	s.conf = c;
	s.io = io;
	s.link = link;
	s.state = ST_GREET;
	s.end = "eof";
	s.tls = c->o.tls;
	/* params.h: refused recipients in the whole session, so that no
	 * valid recipient (postmaster) resets the count of a probe; a list
	 * message within -n never reaches it. */
	s.rcpterrmax = c->maxrcpt > SMTPD_RCPT_ERRORS_MAX ? (unsigned)c->maxrcpt :
	    SMTPD_RCPT_ERRORS_MAX;
	/* haproxy checks every few seconds: only a check that goes wrong is
	 * worth a line. */
	if (!c->o.healthcheck)
		log_info("connect%s%s", c->o.via[0] != '\0' ? " via=" : "",
		    c->o.via);
	smtp_reply(&s, R_GREET);
	while (!s.quit) {
		/* A command line within -t of its first byte (slow drip:
		 * params.h, before SMTP_DATA_DEADLINE_MUL). */
		switch (io_getline_within(io, line, sizeof(line) - 1, &len,
		    c->o.timeout)) {
		case IO_OK:
			if (io->nul)
				refuse_line(&s, R_NUL, line, len);
			else
				smtp_cmd_dispatch(&s, line, len);
			break;
		case IO_TOOLONG:
			refuse_line(&s, R_TOOLONG, line, len);
			break;
		case IO_TIMEOUT:
			s.quit = 1;
			s.end = io_expired(io) ? "lifetime" : "timeout";
			smtp_reply(&s, io_expired(io) ? R_LIFETIME : R_TIMEOUT);
			break;
		case IO_PART:	/* not asked for: cannot happen */
		case IO_EOF:
		case IO_ERROR:
			s.quit = 1;
			break;
		}
		if (!s.quit && (s.errors >= SMTPD_ERRORS_MAX ||
		    s.rcpterrors > s.rcpterrmax)) {
			smtp_reply(&s, R_ERRORS);
			s.quit = 1;
			s.end = "too-many-errors";
		}
	}
	if (s.state >= ST_MAIL)
		smtp_set_state(&s, ST_READY);	/* logs it abandoned */
	(void)io_flush(io);
	if (!c->o.healthcheck || strcmp(s.end, "quit") != 0 || s.errors > 0)
		log_info("disconnect end=%s errors=%u rcpt_errors=%u", s.end,
		    s.errors, s.rcpterrors);
	return EX_OK;
}
