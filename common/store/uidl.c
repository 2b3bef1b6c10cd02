/* uidl.c: the UIDL hash of a message: its first UIDL_HASH_BYTES and its
 * length, leaving out the header fields that mail readers rewrite (mutt's
 * Status, X-Status, Content-Length, Lines; mailutils' and Dovecot's X-UID,
 * X-IMAP, X-IMAPbase, X-Keywords), so marking mail read in a reader on the
 * same spool does not move a UIDL (a moved UIDL makes a POP3 client
 * download the message again).  A message that has none of
 * them hashes exactly as before the rule.  No privileges, no locking. */
#define _GNU_SOURCE	/* memmem */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "mbox.h"

/* Fields whose lines (with their continuation lines) are left out. */
static const struct {
	const char	*name;
	size_t		 len;
} reader_fields[] = {
	{ "status:", 7 },
	{ "x-status:", 9 },
	{ "x-uid:", 6 },
	{ "x-imap:", 7 },
	{ "x-imapbase:", 11 },
	{ "x-keywords:", 11 },
	{ "content-length:", 15 },
	{ "lines:", 6 },
};

/* 1 when the line at P (LEN bytes to its end) starts a reader field. */
static int
reader_field(const char *p, size_t len)
{
	size_t i, k;
	char c;

	/* Most lines are rejected on their first byte. */
	c = p[0] | 0x20;
	if (c != 's' && c != 'x' && c != 'c' && c != 'l')
		return 0;
	for (i = 0; i < sizeof(reader_fields) / sizeof(reader_fields[0]); i++) {
		if (reader_fields[i].len > len)
			continue;
		for (k = 0; k < reader_fields[i].len; k++) {
			c = p[k];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (c != reader_fields[i].name[k])
				break;
		}
		if (k == reader_fields[i].len)
			return 1;
	}
	return 0;
}

/* Walk the header section of the message in H (HLEN bytes from the From_
 * line on): copy what the UIDL hashes of it into OUT (room for CAP bytes;
 * OUT may be NULL) and return the bytes left out.  *END is set to the end
 * of the header section (the empty line's offset, or HLEN). */
static uint64_t
filter(const char *h, size_t hlen, char *out, size_t cap, size_t *used,
    size_t *end)
{
	size_t pos, next, n = 0;
	const char *nl;
	uint64_t removed = 0;
	int skip = 0;

	/* The From_ line first: always hashed. */
	nl = memchr(h, '\n', hlen);
	pos = nl != NULL ? (size_t)(nl - h) + 1 : hlen;
	if (out != NULL) {
		n = pos < cap ? pos : cap;
		memcpy(out, h, n);
	}
	while (pos < hlen && h[pos] != '\n') {
		nl = memchr(h + pos, '\n', hlen - pos);
		next = nl != NULL ? (size_t)(nl - h) + 1 : hlen;
		/* A continuation line (RFC 5322 2.2.3) goes with its field. */
		if (h[pos] != ' ' && h[pos] != '\t')
			skip = reader_field(h + pos, next - pos);
		if (skip)
			removed += next - pos;
		else if (out != NULL && n < cap) {
			size_t k = next - pos < cap - n ? next - pos : cap - n;

			memcpy(out + n, h + pos, k);
			n += k;
		}
		pos = next;
	}
	*end = pos;
	if (used != NULL)
		*used = n;
	return removed;
}

int
mbox_uidl_hash(int fd, uint64_t off, uint64_t norm, const char *buf,
    size_t avail, uint64_t out[2])
{
	char tmp[UIDL_HASH_BYTES], *h = NULL;
	size_t hlen, end, n;
	uint64_t removed;
	ssize_t r;
	int e = 0;

	/* The header section, up to UIDL_HEADER_MAX of it: in BUF when it is
	 * all there, else read. */
	hlen = norm < UIDL_HEADER_MAX ? (size_t)norm : UIDL_HEADER_MAX;
	if (buf != NULL && avail >= hlen)
		h = (char *)buf;
	else if (buf != NULL && avail > 0 && memmem(buf, avail, "\n\n", 2) != NULL)
		h = (char *)buf, hlen = avail;	/* the header ends in BUF */
	else {
		if ((h = malloc(hlen > 0 ? hlen : 1)) == NULL)
			return -1;
		/* A header section is a few KiB: read that much first, and
		 * all of HLEN only when it does not end there (a full scan
		 * meets this for every message that began in an earlier
		 * window, and 64 KiB each doubled what it read). */
		n = hlen < UIDL_HEADER_PEEK ? hlen : UIDL_HEADER_PEEK;
		if ((r = pread(fd, h, n, (off_t)off)) != (ssize_t)n) {
			free(h);
			return -1;
		}
		if (n < hlen) {
			(void)filter(h, n, NULL, 0, NULL, &end);
			if (end < n)
				hlen = n;	/* the header ends in it */
			else if (pread(fd, h + n, hlen - n, (off_t)(off + n)) !=
			    (ssize_t)(hlen - n)) {
				free(h);
				return -1;
			}
		}
	}
	removed = filter(h, hlen, NULL, 0, NULL, &end);
	if (removed == 0) {
		/* The common case, and every message before the rule: the
		 * first bytes as they are. */
		n = norm < UIDL_HASH_BYTES ? (size_t)norm : UIDL_HASH_BYTES;
		if (n <= hlen)
			mbox_msg_hash(h, norm, out);
		else if (pread(fd, tmp, n, (off_t)off) == (ssize_t)n)
			mbox_msg_hash(tmp, norm, out);
		else
			e = -1;
	} else {
		/* The kept header lines, then the body, up to the first
		 * UIDL_HASH_BYTES; the length without the left-out lines. */
		filter(h, end, tmp, sizeof(tmp), &n, &end);
		if (n < sizeof(tmp) && end < norm) {
			size_t want = sizeof(tmp) - n;

			if (want > norm - end)
				want = (size_t)(norm - end);
			if (end + want <= hlen)
				memcpy(tmp + n, h + end, want);
			else if (pread(fd, tmp + n, want, (off_t)(off + end)) !=
			    (ssize_t)want)
				e = -1;
			n += want;
		}
		if (e == 0)
			mbox_msg_hash(tmp, norm - removed, out);
	}
	if (h != buf)
		free(h);
	return e;
}
