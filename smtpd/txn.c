/* txn.c: the mail transaction of a session: MAIL, RCPT and DATA, the
 * requests that carry them to the delivery side, and the transaction's one
 * log line.  Runs in the session, unprivileged: it names no mailbox and
 * writes no file; the delivery side (priv.c) resolves and delivers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chan.h"
#include "log.h"
#include "smtpd.h"

/* The transaction's one line, however it ended (see smtp_set_state). */
static void
txn_log(struct smtp *s, const char *result)
{
	char helo[LOG_QUOTE_SIZE], from[LOG_QUOTE_SIZE], to[LOG_QUOTE_SIZE];

	log_info("message qid=%s helo=%s from=%s to=%s nrcpt=%zu size=%llu "
	    "result=\"%s\"", s->qid[0] != '\0' ? s->qid : "-",
	    log_quote(helo, sizeof(helo), s->helo, strlen(s->helo)),
	    log_quote(from, sizeof(from), s->from.text, strlen(s->from.text)),
	    log_quote(to, sizeof(to), s->boxes, strlen(s->boxes)), s->nrcpt,
	    (unsigned long long)s->size, result);
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
		s->chunklen = 0;
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

/* Send request TYPE (LEN bytes at P).  With REP set, wait for its reply of
 * type WANT into REP (REP_MAX bytes, *RLEN).  Returns 0, or -1 when the
 * link failed. */
static int
ask(struct smtp *s, uint32_t type, const void *p, size_t len, uint32_t want,
    unsigned char *rep, size_t *rlen)
{
	struct smtp_link *l = s->link;
	unsigned char tmp[REP_MAX];
	uint32_t rt = 0;
	size_t n;
	int k;

	if (l->fd < 0) {
		k = smtp_priv_handle(l->local, type, p, len, &rt,
		    rep != NULL ? rep : tmp, rlen != NULL ? rlen : &n);
		if (k < 0 || (rep != NULL && (k == 0 || rt != want)))
			return -1;
		return 0;
	}
	/* No answer wanted: it can wait for the next request that wants
	 * one, so the delivery side wakes once for both. */
	if (rep == NULL && (n = chan_frame(l->hold + l->held,
	    sizeof(l->hold) - l->held, type, p, len)) > 0) {
		l->held += n;
		return 0;
	}
	k = chan_send_after(l->fd, l->hold, l->held, type, p, len);
	l->held = 0;
	if (k == -1)
		return -1;
	if (rep == NULL)
		return 0;
	k = chan_recv(l->fd, &rt, rep, REP_MAX, rlen, NULL, NULL);
	return k == 1 && rt == want && *rlen >= 8 ? 0 : -1;
}

/* A reply's code and count. */
static void
rep_head(const unsigned char *rep, enum reply *r, uint32_t *count)
{
	uint32_t v;

	memcpy(&v, rep, 4);
	*r = v > R_NONE && v < R__COUNT ? (enum reply)v : R_FAIL;
	memcpy(count, rep + 4, 4);
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
smtp_txn_mail(struct smtp *s, const char *arg, size_t len)
{
	char req[HELO_MAX + ADDR_PATH_MAX + 96];
	struct mail_params mp;
	struct addr a;
	enum reply r;
	size_t off, end, i;
	int n;

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
	n = snprintf(req, sizeof(req), "%s%c%s%c%s%c%s%c", s->helo, 0,
	    s->conf->o.client, 0, a.null ? "" : a.text, 0,
	    s->esmtp ? "ESMTP" : "SMTP", 0);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    ask(s, REQ_MAIL, req, (size_t)n, 0, NULL, NULL) == -1)
		return link_failed(s);
	return R_SENDER_OK;
}

static int
is_postmaster(const char *name, size_t len)
{
	return len == 10 && strncasecmp(name, "postmaster", 10) == 0;
}

/* Add the names the delivery side reported (P, LEN bytes) to the log's
 * list, cut where the log cuts. */
static void
note_boxes(struct smtp *s, const unsigned char *p, size_t len)
{
	size_t have = strlen(s->boxes), room;

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
smtp_txn_rcpt(struct smtp *s, const char *arg, size_t len)
{
	char req[ADDR_LOCAL_MAX + ADDR_PATH_MAX + 2];
	unsigned char rep[REP_MAX];
	struct addr a;
	enum reply r;
	uint32_t count;
	size_t off, end, rlen;

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
	/* RFC 5321 4.1.1.3: <postmaster> without a domain must be accepted. */
	if (a.domain[0] == '\0') {
		if (!is_postmaster(a.local, a.locallen))
			return R_BAD_RCPT;
	} else if (!smtp_rcpt_domain_ok(s->conf, a.domain))
		return R_RELAY;
	/* Before any lookup: '/', "..", NUL, controls. */
	if (!smtp_rcpt_name_ok(a.local, a.locallen))
		return R_BAD_NAME;
	memcpy(req, a.local, a.locallen);
	req[a.locallen] = '\0';
	memcpy(req + a.locallen + 1, a.text, strlen(a.text) + 1);
	if (ask(s, REQ_RCPT, req, a.locallen + 2 + strlen(a.text), REP_RCPT,
	    rep, &rlen) == -1)
		return link_failed(s);
	rep_head(rep, &r, &count);
	s->nrcpt = count;
	note_boxes(s, rep + 8, rlen - 8);
	if (r == R_RCPT_OK)
		smtp_set_state(s, ST_RCPT);
	return r;
}

int
smtp_txn_body(struct smtp *s, const void *p, size_t len)
{
	size_t k;

	while (len > 0) {
		if (s->chunklen == SMTP_CHUNK) {
			if (ask(s, REQ_BODY, s->chunk, s->chunklen, 0, NULL,
			    NULL) == -1)
				return -1;
			s->chunklen = 0;
		}
		k = SMTP_CHUNK - s->chunklen;
		if (k > len)
			k = len;
		memcpy(s->chunk + s->chunklen, p, k);
		s->chunklen += k;
		p = (const char *)p + k;
		len -= k;
	}
	return 0;
}

/* The message is read: its last piece, then the request to deliver it.
 * Returns the delivery side's reply. */
static enum reply
deliver(struct smtp *s)
{
	unsigned char rep[REP_MAX + 1];
	const char *qid, *res;
	enum reply r;
	uint32_t count;
	size_t rlen;

	if ((s->chunklen > 0 && ask(s, REQ_BODY, s->chunk, s->chunklen, 0,
	    NULL, NULL) == -1) ||
	    ask(s, REQ_END, NULL, 0, REP_END, rep, &rlen) == -1) {
		s->result = "failed";
		return link_failed(s);
	}
	s->chunklen = 0;
	rep_head(rep, &r, &count);
	rep[rlen] = '\0';
	qid = (const char *)rep + 8;
	res = qid + strlen(qid) + 1;
	if (res > (const char *)rep + rlen)
		res = "failed";
	/* Cut to our buffers: the delivery side's own words. */
	snprintf(s->qid, sizeof(s->qid), "%.*s", (int)sizeof(s->qid) - 1, qid);
	snprintf(s->resbuf, sizeof(s->resbuf), "%.*s", (int)sizeof(s->resbuf) - 1,
	    res);
	s->result = s->resbuf;
	return r;
}

/* RFC 5321 4.1.1.4: 354, the message, its delivery, and the reply to it. */
enum reply
smtp_txn_data(struct smtp *s, const char *arg, size_t len)
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
