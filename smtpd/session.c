/* session.c: one SMTP session: greeting, the command loop, the error limit
 * and the end.  Runs after main() has dropped what it drops; tests and
 * fuzzers call smtp_session() directly on memory I/O. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtpd.h"

void
smtp_set_state(struct smtp *s, enum smtp_state st)
{
	/* One line per transaction, however it ended: delivered, refused,
	 * failed, or abandoned by RSET, HELO, QUIT, EOF, timeout or 421. */
	if (st <= ST_READY && s->state >= ST_MAIL)
		smtp_deliver_log(s, s->result != NULL ? s->result :
		    "abandoned");
	/* Back to no transaction: forget sender, recipients and message (RFC
	 * 5321 4.1.1.5).  The body buffer is kept for the next message. */
	if (st <= ST_READY) {
		/* A transaction that found not one recipient is a probe (a
		 * dictionary attack spreads over many): one error. */
		if (s->state >= ST_MAIL && s->txrcpterrors > 0 && s->nrcpt == 0)
			s->errors++;
		s->txrcpterrors = 0;
		s->result = NULL;
		memset(&s->from, 0, sizeof(s->from));
		memset(&s->mp, 0, sizeof(s->mp));
		s->nrcpt = 0;
		s->rcptcmds = 0;
		s->toomany = 0;
		s->body.len = 0;
		s->size = 0;
	}
	/* A new transaction has no queue id until its message is stored. */
	if (st == ST_MAIL)
		s->qid[0] = '\0';
	s->state = st;
}

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
smtp_session(const struct smtpd_conf *c, struct io *io)
{
	/* RFC 5321 4.5.3.1.4: 512 octets with CRLF; a bare LF ends a line too,
	 * so 510 bytes of text whichever end the client uses. */
	char line[SMTP_LINE_MAX - 2];
	struct smtp s;
	size_t len, rcpterrmax;

	memset(&s, 0, sizeof(s));
	s.conf = c;
	s.io = io;
	s.state = ST_GREET;
	s.why = "eof";
	s.rcpt = calloc(c->maxrcpt, sizeof(*s.rcpt));
	if (s.rcpt == NULL) {
		log_warn("session start failed");
		smtp_reply(&s, R_UNAVAIL);
		(void)io_flush(io);
		return -1;
	}
	/* params.h: a list message within -n never passes this bound. */
	rcpterrmax = c->maxrcpt > SMTPD_RCPT_ERRORS_MAX ? c->maxrcpt :
	    SMTPD_RCPT_ERRORS_MAX;
	log_info("connect");
	smtp_reply(&s, R_GREET);
	while (!s.quit) {
		/* A command line within -t of its first byte (slow drip:
		 * params.h, before SMTP_DATA_DEADLINE_MUL). */
		switch (io_getline_within(io, line, sizeof(line), &len,
		    c->o.timeout)) {
		case IO_OK:
			if (io->nul)
				refuse_line(&s, R_NUL, line, len);
			else
				smtp_cmd_dispatch(&s, line, len);
			if (s.state == ST_DATA)
				smtp_reply(&s, smtp_cmd_data_end(&s));
			break;
		case IO_TOOLONG:
			refuse_line(&s, R_TOOLONG, line, len);
			break;
		case IO_TIMEOUT:
			smtp_reply(&s, R_TIMEOUT);
			s.quit = 1;
			s.why = "timeout";
			break;
		case IO_PART:	/* not asked for: cannot happen */
		case IO_EOF:
		case IO_ERROR:
			s.quit = 1;
			break;
		}
		if (!s.quit && (s.errors >= SMTPD_ERRORS_MAX ||
		    s.txrcpterrors > rcpterrmax)) {
			smtp_reply(&s, R_ERRORS);
			s.quit = 1;
			s.why = "too many errors";
		}
	}
	if (s.state >= ST_MAIL)
		smtp_set_state(&s, ST_READY);	/* logs it abandoned */
	(void)io_flush(io);
	log_info("disconnect reason=\"%s\" errors=%u rcpt_errors=%u", s.why,
	    s.errors, s.rcpterrors);
	free(s.rcpt);
	free(s.body.p);
	return 0;
}
