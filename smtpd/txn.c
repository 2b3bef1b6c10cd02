/* txn.c: the mail transaction of a session: MAIL, RCPT and DATA, the
 * messages that carry them to the delivery side (link.c), and the
 * transaction's one log line.  Runs in the session, unprivileged: it names no mailbox and
 * writes no file; the delivery side (priv.c) resolves and delivers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtpd.h"

/* The transaction's one line, however it ended (see smtp_set_state). */
static void
txn_log(struct smtp *s, const char *result)
{
	char helo[LOG_QUOTE_SIZE], from[LOG_QUOTE_SIZE], to[LOG_QUOTE_SIZE];

	log_info("message qid=%s helo=%s from=%s to=%s nrcpt=%zu size=%llu "
	    "tls=%s result=\"%s\"", s->qid[0] != '\0' ? s->qid : "-",
	    log_quote(helo, sizeof(helo), s->helo, strlen(s->helo)),
	    log_quote(from, sizeof(from), s->from.text, strlen(s->from.text)),
	    log_quote(to, sizeof(to), s->boxes, strlen(s->boxes)), s->nrcpt,
	    (unsigned long long)s->size, s->tls.on ? "yes" : "no", result);
}

void
smtp_set_state(struct smtp *s, enum smtp_state st)
{
	/* One line per transaction, however it ended: delivered, refused,
	 * failed, or abandoned by RSET, HELO, QUIT, EOF, timeout or 421. */
	if (st <= ST_READY && s->state >= ST_MAIL)
		txn_log(s, s->result != NULL ? s->result : "abandoned");
	/* Back to no transaction: forget sender, recipients and message (RFC
	 * 5321 4.1.1.5).  The delivery side forgets at the next MAIL. */
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
		s->boxes[0] = '\0';
		s->rcptcmds = 0;
		s->toomany = 0;
		s->size = 0;
		smtp_link_forget(s->link);
	}
	/* A new transaction has no queue id until its message is stored. */
	if (st == ST_MAIL)
		s->qid[0] = '\0';
	s->state = st;
}

/* The delivery side cannot be reached (it died, or refused a request of
 * ours): nothing more can be accepted.  Logged once; the session ends. */
static enum reply
link_failed(struct smtp *s)
{
	if (!s->quit)
		log_warnx("delivery side unreachable, closing the session");
	s->quit = 1;
	s->end = "link-failed";
	return R_UNAVAIL;
}

/* "FROM:" or "TO:" then the path.  Spaces after the colon are a common
 * deviation (RFC 5321 forbids them) that costs nothing to accept. */
static int
path_start(const char *arg, size_t len, const char *kw, size_t *off)
{
	size_t k = strlen(kw);

	if (len < k || strncasecmp(arg, kw, k) != 0)
		return 0;
	while (k < len && arg[k] == ' ')
		k++;
	if (k >= len || arg[k] != '<')
		return 0;
	*off = k;
	return 1;
}

enum reply
smtp_txn_mail(struct smtp *s, char *arg, size_t len)
{
	struct mail_params mp;
	struct sm_mail m;
	struct addr a;
	enum reply r;
	size_t off, end, i;

	if (!path_start(arg, len, "FROM:", &off))
		return R_MAIL_SYNTAX;
	switch (smtp_addr_parse(arg + off, len - off, &a, &end)) {
	case ADDR_OK:
		break;
	case ADDR_ELONG:
		return R_PATH_LONG;
	default:
		return R_BAD_SENDER;
	}
	/* RFC 5321 4.1.2: a sender is a Mailbox, with a domain.  Control
	 * bytes (legal only inside quotes) would land in Return-Path. */
	if (!a.null && a.domain[0] == '\0')
		return R_BAD_SENDER;
	for (i = 0; i < a.locallen; i++)
		if ((unsigned char)a.local[i] < 0x20 || a.local[i] == 0x7f)
			return R_BAD_SENDER;
	off += end;
	if ((r = smtp_params_parse(arg + off, len - off, &mp)) != R_NONE)
		return r;
	/* RFC 6531 3.4: non-ASCII addresses only with SMTPUTF8. */
	if (a.utf8 && !mp.utf8)
		return R_NEED_UTF8;
	/* RFC 1870 6.1: refuse a declared size over the limit at once. */
	if (mp.has_size && mp.size > s->conf->maxsize)
		return R_SIZE;
	s->from = a;
	s->mp = mp;
	smtp_set_state(s, ST_MAIL);
	/* The envelope: the delivery side checks each field again. */
	memcpy(m.helo, s->helo, sizeof(m.helo));
	snprintf(m.sender, sizeof(m.sender), "%s", a.null ? "" : a.text);
	m.esmtp = (uint32_t)s->esmtp;
	m.tls = (uint32_t)s->tls.on;
	if (smtp_link_mail(s->link, &m) == -1)
		return link_failed(s);
	return R_SENDER_OK;
}

/* Add the names the delivery side reported (P) to the log's list, cut
 * where the log cuts. */
static void
note_boxes(struct smtp *s, const char *p)
{
	size_t have = strlen(s->boxes), room, len = strlen(p);

	if (len == 0 || have >= SMTPD_LOG_BOXES_MAX)
		return;
	if (have > 0)
		s->boxes[have++] = ',';
	room = SMTPD_LOG_BOXES_MAX - have;
	if (len > room)
		len = room;
	memcpy(s->boxes + have, p, len);
	s->boxes[have + len] = '\0';
}

enum reply
smtp_txn_rcpt(struct smtp *s, char *arg, size_t len)
{
	struct sm_rcpt_rep rep;
	struct sm_rcpt rc;
	struct addr a;
	enum reply r;
	size_t off, end;

	/* params.h, SMTPD_RCPT_SLACK: duplicates never fill the table. */
	if (++s->rcptcmds > 2 * s->conf->maxrcpt + SMTPD_RCPT_SLACK)
		return R_TOO_MANY;
	if (!path_start(arg, len, "TO:", &off))
		return R_RCPT_SYNTAX;
	switch (smtp_addr_parse(arg + off, len - off, &a, &end)) {
	case ADDR_OK:
		break;
	case ADDR_ELONG:
		return R_PATH_LONG;
	default:
		return R_BAD_RCPT;
	}
	if (a.null)
		return R_BAD_RCPT;
	off += end;
	if ((r = smtp_params_parse(arg + off, len - off, NULL)) != R_NONE)
		return r;
	if (a.utf8 && !s->mp.utf8)
		return R_NEED_UTF8;
	/* The domain, then the name, as smtpd -T asks them too. */
	if ((r = smtp_rcpt_check(s->conf, &a)) != R_NONE)
		return r;
	memcpy(rc.local, a.local, a.locallen);
	rc.local[a.locallen] = '\0';
	memcpy(rc.addr, a.text, sizeof(rc.addr));
	if (smtp_link_rcpt(s->link, &rc, &rep) == -1)
		return link_failed(s);
	s->nrcpt = rep.count;
	note_boxes(s, rep.boxes);
	if (rep.reply == R_RCPT_OK)
		smtp_set_state(s, ST_RCPT);
	return rep.reply;
}

/* The message is read: its last piece, then the request to deliver it.
 * Returns the delivery side's reply. */
static enum reply
deliver(struct smtp *s)
{
	struct sm_end_rep rep;

	if (smtp_link_end(s->link, &rep) == -1) {
		s->result = "failed";
		return link_failed(s);
	}
	memcpy(s->qid, rep.qid, sizeof(s->qid));
	memcpy(s->resbuf, rep.result, sizeof(s->resbuf));
	s->result = s->resbuf;
	return rep.reply;
}

/* RFC 5321 4.1.1.4: 354, the message, its delivery, and the reply to it. */
enum reply
smtp_txn_data(struct smtp *s, char *arg, size_t len)
{
	enum reply r;
	int rc;

	(void)arg;
	if (len > 0)
		return R_NOARGS;
	smtp_set_state(s, ST_DATA);
	smtp_reply(s, R_DATA_GO);
	/* The DATA line's end (io->crlf, untouched since) starts the end
	 * mark.  The whole message within a deadline (params.h). */
	io_deadline(s->io, s->conf->o.timeout * SMTP_DATA_DEADLINE_MUL);
	rc = smtp_data_read(s, s->io->crlf);
	io_deadline(s->io, 0);
	if (rc < 0) {
		/* EOF or a read error mid-message: nothing is stored. */
		r = R_NONE;
		s->result = "eof";
		s->quit = 1;
		s->end = "eof-in-data";
	} else if ((r = (enum reply)rc) == R_TIMEOUT) {
		s->result = "timeout";
		s->quit = 1;
		s->end = io_expired(s->io) ? "lifetime" : "timeout-in-data";
		if (io_expired(s->io))
			r = R_LIFETIME;
	} else if (r == R_UNAVAIL) {
		s->result = "failed";
		r = link_failed(s);
	} else if (r == R_NONE)
		r = deliver(s);
	else
		s->result = "too-big";
	smtp_set_state(s, ST_READY);
	/* The reply to a message is no command's reply: the transaction's
	 * line has logged it (smtp_reply logs no line without a verb). */
	s->verb = NULL;
	return r;
}
