/* data.c: the DATA reader: the end mark, dot-stuffing, the SMTP smuggling
 * rules, the size limit and mboxrd quoting into one bounded buffer.
 * Reads the network only; no mailbox is locked while it runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mbox.h"
#include "smtpd.h"

int
smtp_body_add(struct body *b, const void *p, size_t len, size_t max)
{
	size_t cap;
	char *n;

	if (len > max || b->len > max - len)
		return -1;
	if (len == 0)
		return 0;	/* memcpy() may not see the NULL of no buffer */
	if (b->len + len > b->cap) {
		cap = b->cap > 0 ? b->cap : BODY_START;
		while (cap < b->len + len)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if (cap > max)
			cap = max;
		if ((n = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = n;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

/* Finish the line that starts at START: quote it when it reads as a From_
 * line (mboxrd: ^>*From  gets one more '>'), then end it with LF. */
static int
end_line(struct body *b, size_t start, size_t max)
{
	/* An empty line is never From-ish; the buffer may not exist yet. */
	if (b->len > start && mbox_is_fromish(b->p + start, b->len - start)) {
		if (smtp_body_add(b, ">", 1, max) < 0)
			return -1;
		memmove(b->p + start + 1, b->p + start, b->len - 1 - start);
		b->p[start] = '>';
	}
	return smtp_body_add(b, "\n", 1, max);
}

int
smtp_data_read(struct smtp *s, int prev_crlf)
{
	char line[SMTP_DATA_CHUNK];
	const char *p;
	size_t len, n, start = 0, max;
	uint64_t limit = s->conf->maxsize;
	enum io_status st;
	int bol = 1, over = 0, nomem = 0;

	/* The message is counted as sent (CRLF line ends, stuffing undone);
	 * its mbox form is never longer: a line loses a CR to LF, which pays
	 * for the one '>' quoting may add.  So the limit bounds the buffer. */
	max = limit > SIZE_MAX ? SIZE_MAX : (size_t)limit;
	s->body.len = 0;
	s->size = 0;
	for (;;) {
		st = io_getline(s->io, line, sizeof(line), &len, 1);
		if (st == IO_TIMEOUT)
			return R_TIMEOUT;
		if (st != IO_OK && st != IO_PART)
			return -1;
		p = line;
		n = len;
		if (bol) {
			/* RFC 5321 4.1.1.4: only CRLF "." CRLF ends the data.
			 * A dot line framed by a bare LF on either side
			 * (\n.\n, \n.\r\n, \r\n.\n) is text, so no reading of
			 * the stream can see a second message in it (SMTP
			 * smuggling); \r.\r never ends a line at all. */
			if (st == IO_OK && len == 1 && line[0] == '.' &&
			    s->io->crlf && prev_crlf)
				break;
			/* RFC 5321 4.5.2: a leading dot with more after it
			 * was added by the client. */
			if (n > 0 && p[0] == '.' && (n > 1 || st == IO_PART))
				p++, n--;
			start = s->body.len;
		}
		s->size += n + (st == IO_OK ? 2 : 0);
		/* Past the limit: read on to the end mark, keep nothing. */
		if (s->size > limit)
			over = 1;
		if (!over && !nomem) {
			if (smtp_body_add(&s->body, p, n, max) < 0 ||
			    (st == IO_OK && end_line(&s->body, start, max) < 0))
				nomem = 1;
		}
		bol = st == IO_OK;
		if (bol)
			prev_crlf = s->io->crlf;
	}
	if (over)
		return R_SIZE;
	return nomem ? R_NOMEM : R_NONE;
}
