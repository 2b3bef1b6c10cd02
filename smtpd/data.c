/* data.c: the DATA reader: the end mark, dot-stuffing, the SMTP smuggling
 * rules and the size limit; the message goes to the delivery side in
 * pieces as it is read (smtp_link_body), with LF line ends.  Runs in the
 * session, unprivileged; it holds at most one piece of the message. */
#include <stdint.h>
#include <string.h>

#include "smtpd.h"

int
smtp_data_read(struct smtp *s, int prev_crlf)
{
	char line[SMTP_DATA_CHUNK];
	const char *p;
	size_t len, n;
	uint64_t limit = s->conf->maxsize;
	enum io_status st;
	int bol = 1, over = 0, gone = 0;

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
		}
		/* The message is counted as sent (RFC 1870: CRLF line ends,
		 * stuffing undone); its mbox form is never longer: a line
		 * loses a CR to LF, which pays for the one '>' quoting may
		 * add.  So -s bounds what the delivery side holds. */
		s->size += n + (st == IO_OK ? 2 : 0);
		/* Past the limit: read on to the end mark, send nothing more. */
		if (s->size > limit)
			over = 1;
		if (!over && !gone && (smtp_link_body(s->link, p, n) == -1 ||
		    (st == IO_OK && smtp_link_body(s->link, "\n", 1) == -1)))
			gone = 1;
		bol = st == IO_OK;
		if (bol)
			prev_crlf = s->io->crlf;
	}
	if (over)
		return R_SIZE;
	return gone ? R_UNAVAIL : R_NONE;
}
