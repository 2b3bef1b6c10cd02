/* deliver.c: the trace block of each recipient (From_, Return-Path,
 * Received), the all-or-nothing store_deliver() call and the transaction's
 * log line (written as it ends, smtp_set_state()).  Runs with the identity
 * that writes the mailboxes (main.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mbox.h"
#include "store.h"
#include "smtpd.h"

void
smtp_deliver_log(struct smtp *s, const char *result)
{
	char helo[LOG_QUOTE_SIZE], from[LOG_QUOTE_SIZE], to[LOG_QUOTE_SIZE];
	char list[LOG_FIELD_MAX + 1];
	size_t i, n = 0, l;

	/* The mailboxes, comma-separated, cut where the log would cut them. */
	for (i = 0; i < s->nrcpt && n < LOG_FIELD_MAX; i++) {
		l = strlen(s->rcpt[i].box);
		if (l + 1 > LOG_FIELD_MAX - n)
			l = LOG_FIELD_MAX - n - 1;
		if (i > 0)
			list[n++] = ',';
		memcpy(list + n, s->rcpt[i].box, l);
		n += l;
	}
	log_info("message qid=%s helo=%s from=%s to=%s nrcpt=%zu size=%llu "
	    "result=\"%s\"", s->qid[0] != '\0' ? s->qid : "-",
	    log_quote(helo, sizeof(helo), s->helo, strlen(s->helo)),
	    log_quote(from, sizeof(from), s->from.text, strlen(s->from.text)),
	    log_quote(to, sizeof(to), list, n), s->nrcpt,
	    (unsigned long long)s->size, result);
}

/* The client as an RFC 5321 4.1.3 address literal for Received. */
static void
client_literal(const char *client, char *buf, size_t cap)
{
	if (strchr(client, ':') != NULL)
		snprintf(buf, cap, "[IPv6:%s]", client);
	else if (strspn(client, "0123456789.") == strlen(client) &&
	    client[0] != '\0')
		snprintf(buf, cap, "[%s]", client);
	else
		snprintf(buf, cap, "%s", "unknown");
}

/* The trace block of recipient R into BUF.  Returns its length, or 0 when
 * it does not fit (cannot happen within the RFC 5321 limits). */
static size_t
head(const struct smtp *s, const struct rcpt *r, time_t now,
    const char *date, char *buf, size_t cap)
{
	char ip[96];
	size_t n;
	int m;

	n = mbox_from_line(buf, cap, s->from.null ? NULL : s->from.text, now);
	if (n == 0)
		return 0;
	client_literal(s->conf->o.client, ip, sizeof(ip));
	/* RFC 5321 4.4: Return-Path at final delivery; the Received clauses
	 * of 4.4 with the "with" keyword of RFC 3848. */
	m = snprintf(buf + n, cap - n,
	    "Return-Path: <%s>\n"
	    "Received: from %s (%s)\n"
	    "\tby %s with %s id %s\n"
	    "\tfor <%s>; %s\n",
	    s->from.text, s->helo, ip, s->conf->o.host,
	    s->esmtp ? "ESMTP" : "SMTP", s->qid, r->addr, date);
	if (m < 0 || (size_t)m >= cap - n)
		return 0;
	return n + (size_t)m;
}

enum reply
smtp_deliver(struct smtp *s)
{
	struct store_rcpt *sr;
	struct tm tm;
	char *heads, date[64];
	time_t now;
	size_t i;
	enum reply r;
	int rc;

	session_id(s->qid, sizeof(s->qid));
	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(date, sizeof(date), "%s", "Thu, 01 Jan 1970 00:00:00 +0000");
	heads = malloc(s->nrcpt * HEAD_MAX);
	sr = calloc(s->nrcpt, sizeof(*sr));
	if (heads == NULL || sr == NULL) {
		free(heads);
		free(sr);
		s->result = "no-memory";
		return R_NOMEM;
	}
	for (i = 0; i < s->nrcpt; i++) {
		sr[i].name = s->rcpt[i].box;
		sr[i].uid = s->rcpt[i].uid;
		sr[i].gid = s->rcpt[i].gid;
		sr[i].head = heads + i * HEAD_MAX;
		sr[i].headlen = head(s, &s->rcpt[i], now, date,
		    heads + i * HEAD_MAX, HEAD_MAX);
		if (sr[i].headlen == 0) {
			free(heads);
			free(sr);
			log_warnx("trace header too long");
			s->result = "failed";
			return R_FAIL;
		}
	}
	/* An empty message still gets its header block; the store adds the
	 * separating empty line.  250 only once every copy is fsync'ed. */
	rc = store_deliver(s->conf->o.spool, sr, s->nrcpt,
	    s->body.len > 0 ? s->body.p : "", s->body.len);
	free(heads);
	free(sr);
	switch (rc) {
	case STORE_OK:
		r = R_QUEUED;
		break;
	case STORE_ELOCK:
		r = R_BUSY;
		break;
	case STORE_ENOSPC:
		r = R_FULL;
		break;
	default:
		r = R_FAIL;
		break;
	}
	s->result = rc == STORE_OK ? "delivered" : store_strerror(rc);
	return r;
}
