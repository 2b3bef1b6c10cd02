/* mbox.c: the mboxrd format: From_ lines, quoting, the one-pass index scan and
 * the message reader.  No locking and no privileges: callers hold the locks. */
#define _GNU_SOURCE	/* memmem, memrchr: the scan's two searches */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "mbox.h"

/* A line is "From-ish" when it is at most MBOX_QUOTE_MAX '>' and then "From ".
 * The writer, the scanner and the reader all apply this same bound, so the
 * quoting round-trips exactly while no reader ever has to look further than
 * MBOX_QUOTE_MAX + 5 bytes into a line to classify it. */
#define MBOX_QUOTE_MAX	1000
#define LOOKAHEAD	(MBOX_QUOTE_MAX + 5)
#define SCAN_BUF	(1024 * 1024)

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
	for (i = 5; i < 5 + strlen(sender); i++)
		if ((unsigned char)buf[i] <= ' ' || buf[i] == 0x7f)
			buf[i] = '_';
	return len;
}

int
mbox_is_fromish(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && i < MBOX_QUOTE_MAX && line[i] == '>')
		i++;
	return len - i >= 5 && memcmp(line + i, "From ", 5) == 0;
}

/* Count LF bytes, eight at a time: the scan's hot loop. */
static uint64_t
count_lf(const char *p, size_t n)
{
	const uint64_t ones7 = 0x7f7f7f7f7f7f7f7fULL, lf = 0x0a0a0a0a0a0a0a0aULL;
	uint64_t c = 0, w, x, t;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		x = w ^ lf;			/* zero bytes where p[] == '\n' */
		t = ((x & ones7) + ones7) | x;	/* high bit set where byte != 0 */
		c += (uint64_t)__builtin_popcountll(~t & ~ones7);
	}
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}

void
mbox_hash(const void *p, size_t len, uint64_t out[2])
{
	const unsigned char *s = p;
	uint64_t a = 0x9e3779b97f4a7c15ULL ^ len, b = 0xc2b2ae3d27d4eb4fULL + len;
	uint64_t w;
	size_t i;

	/* Not cryptographic: UIDLs must be stable and distinct, and a sender
	 * cannot see the trace fields (queue id, time) that feed it. */
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		a = (a ^ w) * 0xff51afd7ed558ccdULL;
		a ^= a >> 32;
		b = (b + w) * 0xc4ceb9fe1a85ec53ULL;
		b ^= b >> 29;
	}
	w = 0;
	memcpy(&w, s + i, len - i);
	a = (a ^ w ^ (uint64_t)len) * 0xff51afd7ed558ccdULL;
	b = (b + w) * 0xc4ceb9fe1a85ec53ULL;
	a ^= a >> 33; a *= 0xc4ceb9fe1a85ec53ULL; a ^= a >> 29;
	b ^= b >> 31; b *= 0xff51afd7ed558ccdULL; b ^= b >> 33;
	out[0] = a;
	out[1] = b ^ a;
}

void
mbox_uidl(const struct mbox_msg *m, char buf[MBOX_UIDL_SIZE])
{
	if (m->dup)
		snprintf(buf, MBOX_UIDL_SIZE, "%016llx%016llx.%u",
		    (unsigned long long)m->hash[0],
		    (unsigned long long)m->hash[1], m->dup);
	else
		snprintf(buf, MBOX_UIDL_SIZE, "%016llx%016llx",
		    (unsigned long long)m->hash[0],
		    (unsigned long long)m->hash[1]);
}

void
mbox_index_free(struct mbox_index *ix)
{
	free(ix->msg);
	memset(ix, 0, sizeof(*ix));
}

static int
cmp_hash(const void *a, const void *b)
{
	const struct mbox_msg *x = *(struct mbox_msg *const *)a;
	const struct mbox_msg *y = *(struct mbox_msg *const *)b;

	if (x->hash[0] != y->hash[0])
		return x->hash[0] < y->hash[0] ? -1 : 1;
	if (x->hash[1] != y->hash[1])
		return x->hash[1] < y->hash[1] ? -1 : 1;
	return x < y ? -1 : x > y;	/* file order among equals */
}

/* Identical messages (resent mail, another MDA's fan-out) hash alike: number
 * the later copies so every UIDL in the maildrop is unique. */
static int
mark_dups(struct mbox_index *ix)
{
	struct mbox_msg **v;
	size_t i;

	if (ix->n < 2)
		return MBOX_OK;
	if ((v = malloc(ix->n * sizeof(*v))) == NULL)
		return MBOX_ENOMEM;
	for (i = 0; i < ix->n; i++)
		v[i] = &ix->msg[i];
	qsort(v, ix->n, sizeof(*v), cmp_hash);
	for (i = 1; i < ix->n; i++)
		if (v[i]->hash[0] == v[i - 1]->hash[0] &&
		    v[i]->hash[1] == v[i - 1]->hash[1])
			v[i]->dup = v[i - 1]->dup + 1;
	free(v);
	return MBOX_OK;
}

/* The scanner's state: one buffer window over the file, plus the message
 * being measured. */
struct scan {
	int		 fd;
	char		*buf;
	uint64_t	 base;		/* file offset of buf[0] */
	size_t		 n;		/* bytes in buf */
	char		 prev[2];	/* the two bytes before buf[0] */
	int		 open;		/* a message is being measured */
	uint64_t	 off;		/* its From_ line offset */
	uint64_t	 fromlen;
	int		 fromnl;	/* its From_ line ended in LF */
	uint64_t	 lf;		/* LF bytes in it so far */
	uint64_t	 fromish;	/* quoted lines in it */
	struct mbox_index *ix;
};

static int
byte_before(const struct scan *s, size_t i, size_t back)
{
	/* buf[i - back], reaching into the previous window when needed. */
	if (i >= back)
		return (unsigned char)s->buf[i - back];
	return (unsigned char)s->prev[2 - (back - i)];
}

/* Close the open message at file offset END; LAST2 are the two bytes before it. */
static int
finish(struct scan *s, uint64_t end, const char last2[2])
{
	struct mbox_msg *m;
	uint64_t body, lines, sep, hlen;
	char tmp[UIDL_HASH_BYTES];

	if (!s->open)
		return MBOX_OK;
	s->open = 0;
	if (s->ix->n == s->ix->cap) {
		size_t ncap = s->ix->cap ? s->ix->cap * 2 : 256;
		void *p;

		if (s->ix->n >= MBOX_MSGS_MAX)
			return MBOX_ETOOMANY;
		if ((p = realloc(s->ix->msg, ncap * sizeof(*m))) == NULL)
			return MBOX_ENOMEM;
		s->ix->msg = p;
		s->ix->cap = ncap;
	}
	m = &s->ix->msg[s->ix->n++];
	memset(m, 0, sizeof(*m));
	m->off = s->off;
	m->fromlen = (uint32_t)s->fromlen;
	/* The blank line before the next From_ line (or at the end of the
	 * file) separates; it is not part of the message. */
	body = end - s->off - s->fromlen;
	sep = body > 0 && last2[0] == '\n' && last2[1] == '\n';
	body -= sep;
	/* LFs counted from the From_ line on, less its own and the separator. */
	lines = s->lf - (uint64_t)s->fromnl - sep;
	m->len = s->fromlen + body;
	m->size = body + lines - s->fromish;
	if (body > 0 && last2[1] != '\n')
		m->size += 2;		/* RETR ends the last line with CRLF */
	hlen = m->len < UIDL_HASH_BYTES ? m->len : UIDL_HASH_BYTES;
	if (m->off >= s->base && m->off + hlen <= s->base + s->n) {
		mbox_hash(s->buf + (m->off - s->base), hlen, m->hash);
	} else {
		if (pread(s->fd, tmp, hlen, (off_t)m->off) != (ssize_t)hlen)
			return MBOX_EIO;
		mbox_hash(tmp, hlen, m->hash);
	}
	s->ix->total += m->size;
	return MBOX_OK;
}

/* Look at one "From " found at buf[q]: a message boundary, a quoted line, or
 * plain text.  LINESTART0 says whether buf[0] starts a line. */
static int
classify(struct scan *s, size_t q, size_t lim, int linestart0, size_t *seg)
{
	size_t i = q, depth = 0;
	uint64_t g;
	const char *nl;
	char last2[2];
	int e;

	while (i > 0 && s->buf[i - 1] == '>' && depth < MBOX_QUOTE_MAX + 1) {
		i--;
		depth++;
	}
	if (depth > MBOX_QUOTE_MAX)
		return MBOX_OK;
	if (i == 0 ? !linestart0 : s->buf[i - 1] != '\n')
		return MBOX_OK;			/* not at a line start */
	if (depth > 0) {
		if (s->open)
			s->fromish++;
		return MBOX_OK;
	}
	g = s->base + i;
	if (g != 0 && byte_before(s, i, 2) != '\n')
		return MBOX_OK;			/* "From " inside a paragraph */
	/* A new message: close the open one at g. */
	s->lf += count_lf(s->buf + *seg, i - *seg);
	*seg = i;
	last2[0] = (char)(g >= 2 ? byte_before(s, i, 2) : 0);
	last2[1] = (char)(g >= 1 ? byte_before(s, i, 1) : 0);
	if ((e = finish(s, g, last2)) != MBOX_OK)
		return e;
	s->open = 1;
	s->off = g;
	s->lf = 0;
	s->fromish = 0;
	nl = memchr(s->buf + i, '\n', lim - i);
	s->fromlen = nl ? (uint64_t)(nl - (s->buf + i)) + 1 : lim - i;
	s->fromnl = nl != NULL;
	return MBOX_OK;
}

int
mbox_scan(int fd, uint64_t end, struct mbox_index *ix)
{
	struct scan s;
	size_t carry = 0, lim, seg, q;
	int linestart = 1, e = MBOX_OK;
	char *hit;
	ssize_t r;

	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.ix = ix;
	ix->end = end;
	if (end == 0)
		return MBOX_OK;
	if ((s.buf = malloc(SCAN_BUF)) == NULL)
		return MBOX_ENOMEM;
	s.prev[0] = s.prev[1] = '\n';
	while (s.base + carry < end) {
		size_t want = SCAN_BUF - carry;

		if (want > end - s.base - carry)
			want = (size_t)(end - s.base - carry);
		r = pread(fd, s.buf + carry, want, (off_t)(s.base + carry));
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* the file shrank under the lock */
			e = MBOX_EIO;
			goto out;
		}
		s.n = carry + (size_t)r;
		if (s.base == 0 && (s.n < 5 || memcmp(s.buf, "From ", 5) != 0)) {
			e = MBOX_ENOTMBOX;
			goto out;
		}
		/* Work on whole lines; keep an unfinished last line for the
		 * next window unless the window is full (a giant line). */
		if (s.base + s.n < end) {
			char *last = memrchr(s.buf, '\n', s.n);

			lim = last ? (size_t)(last - s.buf) + 1 : s.n;
			if (s.n - lim > SCAN_BUF - LOOKAHEAD * 2)
				lim = s.n;
		} else
			lim = s.n;
		seg = 0;
		for (q = 0; q + 5 <= lim; q = (size_t)(hit - s.buf) + 1) {
			hit = memmem(s.buf + q, lim - q, "From ", 5);
			if (hit == NULL)
				break;
			e = classify(&s, (size_t)(hit - s.buf), lim, linestart, &seg);
			if (e != MBOX_OK)
				goto out;
		}
		s.lf += count_lf(s.buf + seg, lim - seg);
		if (lim >= 2) {
			s.prev[0] = s.buf[lim - 2];
			s.prev[1] = s.buf[lim - 1];
		} else if (lim == 1) {
			s.prev[0] = s.prev[1];
			s.prev[1] = s.buf[0];
		}
		linestart = s.buf[lim - 1] == '\n';
		carry = s.n - lim;
		memmove(s.buf, s.buf + lim, carry);
		s.base += lim;
		s.n = carry;
	}
	e = finish(&s, end, s.prev);
	if (e == MBOX_OK)
		e = mark_dups(ix);
out:
	free(s.buf);
	if (e != MBOX_OK)
		mbox_index_free(ix);
	return e;
}

void
mbox_reader_open(struct mbox_reader *r, int fd, const struct mbox_msg *m)
{
	r->fd = fd;
	r->pos = m->off + m->fromlen;
	r->end = m->off + m->len;
	r->bpos = r->blen = 0;
	r->bol = 1;
}

/* Read more of the message, after moving the unread rest to the front. */
static int
reader_fill(struct mbox_reader *r)
{
	size_t want;
	ssize_t n;

	if (r->bpos > 0) {
		memmove(r->buf, r->buf + r->bpos, r->blen - r->bpos);
		r->blen -= r->bpos;
		r->bpos = 0;
	}
	while (r->blen < sizeof(r->buf) && r->pos < r->end) {
		want = sizeof(r->buf) - r->blen;
		if (want > r->end - r->pos)
			want = (size_t)(r->end - r->pos);
		n = pread(r->fd, r->buf + r->blen, want, (off_t)r->pos);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* truncated behind our back */
			return -1;
		}
		r->blen += (size_t)n;
		r->pos += (uint64_t)n;
		if (memchr(r->buf + r->blen - (size_t)n, '\n', (size_t)n))
			break;
	}
	return 0;
}

int
mbox_reader_line(struct mbox_reader *r, const char **line, size_t *len,
    int *more)
{
	char *start, *nl;
	size_t avail, n;

	avail = r->blen - r->bpos;
	nl = memchr(r->buf + r->bpos, '\n', avail);
	if (nl == NULL && r->pos < r->end && avail < sizeof(r->buf)) {
		if (reader_fill(r) == -1)
			return -1;
		avail = r->blen;
		nl = memchr(r->buf, '\n', avail);
	}
	if (avail == 0)
		return 0;
	start = r->buf + r->bpos;
	if (nl != NULL) {
		n = (size_t)(nl - start);
		r->bpos += n + 1;
		*more = 0;
	} else {
		n = avail;
		r->bpos += n;
		*more = r->pos < r->end;
	}
	/* A full buffer holds at least MBOX_QUOTE_MAX + 5 bytes of a line, so
	 * this sees what the scanner saw. */
	if (r->bol && n > 0 && start[0] == '>' && mbox_is_fromish(start, n)) {
		start++;
		n--;
	}
	r->bol = !*more;
	*line = start;
	*len = n;
	return 1;
}
