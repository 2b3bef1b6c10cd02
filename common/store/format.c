/* format.c: what a delivery writes around a message: the From_ line, the
 * trace fields, and mboxrd quoting.  The store owns the mbox format, so
 * smtpd's delivery side formats here what it checked, never what the
 * session sent formatted.  No privileges, no I/O. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mbox.h"

size_t
mbox_from_line(char *buf, size_t cap, const char *sender, time_t t)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	size_t len, i;
	int n;

	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	if (localtime_r(&t, &tm) == NULL)
		return 0;
	/* asctime(3) form, spelled out so the locale cannot change it. */
	n = snprintf(buf, cap, "From %s %s %s %2d %02d:%02d:%02d %d\n", sender,
	    day[tm.tm_wday % 7], mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	/* The sender is one word of the From_ line: a space or control byte in
	 * it (legal inside a quoted local part) would make readers misparse. */
	for (i = 5, n = (int)strlen(sender); i < 5 + (size_t)n; i++)
		if ((unsigned char)buf[i] <= ' ' || buf[i] == 0x7f)
			buf[i] = '_';
	return len;
}

int
mbox_is_fromish(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] == '>')
		i++;
	return len - i >= 5 && memcmp(line + i, "From ", 5) == 0;
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

size_t
mbox_trace(char *buf, size_t cap, const struct mbox_env *e, const char *rcpt)
{
	struct tm tm;
	char ip[96], date[64];
	size_t n;
	int m;

	n = mbox_from_line(buf, cap, e->sender, e->t);
	if (n == 0)
		return 0;
	if (localtime_r(&e->t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(date, sizeof(date), "%s", "Thu, 01 Jan 1970 00:00:00 +0000");
	client_literal(e->client, ip, sizeof(ip));
	/* RFC 5321 4.4: Return-Path at final delivery; the Received clauses
	 * of 4.4 with the "with" keyword of RFC 3848. */
	m = snprintf(buf + n, cap - n,
	    "Return-Path: <%s>\n"
	    "Received: from %s (%s)\n"
	    "\tby %s with %s id %s\n"
	    "\tfor <%s>; %s\n",
	    e->sender, e->helo, ip, e->host, e->proto, e->qid, rcpt, date);
	if (m < 0 || (size_t)m >= cap - n)
		return 0;
	return n + (size_t)m;
}

/* Does LINE (LEN bytes, no LF) end in an asctime date, "Www Mmm dd
 * hh:mm:ss yyyy", as mbox_from_line writes it? */
static int
from_date(const char *line, size_t len)
{
	const char *d = line + len - 24;

	return len >= 5 + 1 + 24 && d[-1] == ' ' && d[3] == ' ' && d[7] == ' ' &&
	    d[10] == ' ' && d[13] == ':' && d[16] == ':' && d[19] == ' ';
}

/* Is LINE (LEN bytes) exactly WORDS words, each non-empty, one space
 * apart, with the words WANT names (NULL: any) where it names them? */
static int
words_are(const char *line, size_t len, const char *const *want, size_t nwords)
{
	const char *p = line, *end = line + len, *sp;
	size_t w, n;

	for (w = 0; w < nwords; w++) {
		sp = memchr(p, ' ', (size_t)(end - p));
		n = sp ? (size_t)(sp - p) : (size_t)(end - p);
		if (n == 0 || (want[w] != NULL && (n != strlen(want[w]) ||
		    memcmp(p, want[w], n) != 0)) || (sp == NULL) != (w + 1 == nwords))
			return 0;
		p = sp ? sp + 1 : end;
	}
	return 1;
}

/* Does the whole trace line I (LEN bytes, no LF) have the form mbox_trace
 * gives it?  Its start is checked by the caller. */
static int
trace_line(size_t i, const char *line, size_t len)
{
	static const char *const by[] = { "by", NULL, "with", NULL, "id", NULL };
	size_t k;

	switch (i) {
	case 0:				/* From SENDER DATE */
		return from_date(line, len);
	case 1:				/* Return-Path: <SENDER> */
		return line[len - 1] == '>';
	case 2:				/* Received: from HELO (LITERAL) */
		return line[len - 1] == ')' && memchr(line, '(', len) != NULL;
	case 3:				/* \tby HOST with PROTO id QID */
		return words_are(line + 1, len - 1, by, 6);
	default:			/* \tfor <RCPT>; DATE */
		for (k = 0; k + 3 <= len; k++)
			if (memcmp(line + k, ">; ", 3) == 0)
				return 1;
		return 0;
	}
}

int
mbox_trace_start(const char *p, size_t len)
{
	static const char *const start[] = { "From ", "Return-Path: <",
	    "Received: from ", "\tby ", "\tfor <" };
	const char *nl, *end = p + len;
	size_t i, n, k;

	for (i = 0; i < sizeof(start) / sizeof(start[0]); i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		k = strlen(start[i]);
		/* The line must begin as this field does, as far as it goes. */
		if (memcmp(p, start[i], n < k ? n : k) != 0)
			return 0;
		if (nl == NULL)
			return 1;		/* cut short in this line */
		if (n < k || !trace_line(i, p, n))
			return 0;
		p = nl + 1;
	}
	return 1;
}

size_t
mbox_quoted_len(const char *p, size_t len)
{
	const char *end, *nl;
	size_t add = 0;

	if (len == 0)
		return 0;	/* P may be NULL: no buffer for an empty message */
	end = p + len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((*p == 'F' || *p == '>') && mbox_is_fromish(p, (size_t)(nl - p)))
			add++;
		p = nl + (nl < end);
	}
	return len + add;
}

void
mbox_quote(char *p, size_t len, size_t newlen)
{
	size_t src = len, dst = newlen, start, k, text;

	/* From the end backwards, each line (with its LF) moved once: a line
	 * that reads as a From_ line gets its '>' in front as it moves.  When
	 * every '>' is in, the rest is already where it belongs. */
	while (dst > src) {
		start = src;
		if (start > 0 && p[start - 1] == '\n')
			start--;
		while (start > 0 && p[start - 1] != '\n')
			start--;
		k = src - start;
		text = k - (p[src - 1] == '\n');
		dst -= k;
		memmove(p + dst, p + start, k);
		if (mbox_is_fromish(p + dst, text))
			p[--dst] = '>';
		src = start;
	}
}
