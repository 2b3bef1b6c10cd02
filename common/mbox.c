/* mbox.c: the mboxrd format: From_ lines, quoting, the one-pass index scan and
 * the message reader.  No locking and no privileges: callers hold the locks. */
#define _GNU_SOURCE	/* memmem, memrchr: the scan's two searches */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "params.h"
#include "mbox.h"

#define SCAN_BUF	(128 * 1024)

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

static uint64_t
rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t
avalanche(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

void
mbox_hash(const void *p, size_t len, uint64_t out[2])
{
	static const uint64_t k[4] = { 0x9e3779b97f4a7c15ULL,
	    0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL, 0x27d4eb2f165667c5ULL };
	/* Different rotations per lane also keep compilers from turning the
	 * lanes into SSE2 code, which has no 64-bit multiply. */
	static const int r[4] = { 29, 31, 27, 33 };
	const unsigned char *s = p;
	uint64_t v[4], w;
	size_t i, j;

	/* Four independent lanes, so the multiplies overlap: the scan hashes
	 * the start of every message.  Not cryptographic: UIDLs must be stable
	 * and distinct, and a sender cannot see the trace fields (queue id,
	 * time) inside the hashed bytes. */
	for (j = 0; j < 4; j++)
		v[j] = k[j] ^ len;
	for (i = 0; i + 32 <= len; i += 32)
		for (j = 0; j < 4; j++) {
			memcpy(&w, s + i + 8 * j, 8);
			v[j] = rotl(v[j] ^ w, r[j]) * k[j];
		}
	for (j = 0; i < len; i += 8, j++) {
		w = 0;
		memcpy(&w, s + i, len - i < 8 ? len - i : 8);
		v[j] = rotl(v[j] ^ w, r[j]) * k[j];
	}
	out[0] = avalanche(v[0] ^ rotl(v[1], 17) ^ (uint64_t)len);
	out[1] = avalanche(v[2] ^ rotl(v[3], 41) ^ out[0]);
}

void
mbox_msg_hash(const void *p, uint64_t len, uint64_t out[2])
{
	mbox_hash(p, len < UIDL_HASH_BYTES ? (size_t)len : UIDL_HASH_BYTES, out);
	/* The length too: messages alike in their first bytes still differ. */
	out[0] = avalanche(out[0] ^ len);
	out[1] = avalanche(out[1] + rotl(len, 32));
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

/* Does the file hold '>'s from OFF on and then "From ", before END?  For the
 * rare '>' run that does not fit in a window or the reader's buffer: the
 * writer quotes runs of any length, so readers must see them whole.
 * Returns 1, 0, or -1 on a read error. */
static int
gt_run_then_from(int fd, uint64_t off, uint64_t end)
{
	char buf[4096];
	ssize_t n, i;

	for (;;) {
		n = pread(fd, buf, sizeof(buf), (off_t)off);
		if (n < 0)
			return -1;
		if ((uint64_t)n > end - off)
			n = (ssize_t)(end - off);
		for (i = 0; i < n && buf[i] == '>'; i++)
			;
		if (i < n || n == 0)
			break;
		off += (uint64_t)n;
	}
	off += (uint64_t)i;
	if (end - off < 5 || pread(fd, buf, 5, (off_t)off) != 5)
		return 0;
	return memcmp(buf, "From ", 5) == 0;
}

/* The scanner's state: a window mapped over the file, global LF counts, and
 * the message being measured. */
struct scan {
	int		 fd;
	const char	*buf;		/* window: file bytes [base, base + n) */
	uint64_t	 base;
	size_t		 n;
	uint64_t	 end;		/* bytes to scan */
	char		 prev[2];	/* the two bytes before buf[0] */
	uint64_t	 lf;		/* LFs before the block being looked at */
	int		 open;		/* a message is being measured */
	uint64_t	 off;		/* its From_ line offset */
	uint64_t	 fromlen;
	int		 fromnl;	/* its From_ line ended in LF */
	int		 frompending;	/* its From_ line goes on past the window */
	uint64_t	 lf0;		/* LFs before it */
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

/* Close the open message at file offset END; LF is the LF count before END
 * and LAST2 the two bytes before END. */
static int
finish(struct scan *s, uint64_t end, uint64_t lf, const char last2[2])
{
	struct mbox_msg *m;
	uint64_t body, lines, sep, hlen, norm;
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
	if (s->fromlen > UINT32_MAX)
		return MBOX_ENOTMBOX;	/* a 4 GiB From_ line is no mbox */
	m->fromlen = (uint32_t)s->fromlen;
	/* The blank line before the next From_ line (or at the end of the
	 * file) separates; it is not part of the message. */
	body = end - s->off - s->fromlen;
	sep = body > 0 && last2[0] == '\n' && last2[1] == '\n';
	body -= sep;
	/* LFs from the From_ line on, less its own and the separator. */
	lines = lf - s->lf0 - (uint64_t)s->fromnl - sep;
	m->len = s->fromlen + body;
	m->size = body + lines - s->fromish;
	if (body > 0 && last2[1] != '\n')
		m->size += 2;		/* RETR ends the last line with CRLF */
	/* The UIDL leaves out a final LF: when mail is appended after a
	 * file that lacked one, the LF we add must not change it. */
	norm = m->len - (body > 0 ? (sep || last2[1] == '\n') : s->fromnl);
	hlen = norm < UIDL_HASH_BYTES ? norm : UIDL_HASH_BYTES;
	if (m->off >= s->base && m->off + hlen <= s->base + s->n) {
		mbox_msg_hash(s->buf + (m->off - s->base), norm, m->hash);
	} else {
		if (pread(s->fd, tmp, hlen, (off_t)m->off) != (ssize_t)hlen) {
			errno = EIO;
			return MBOX_EIO;
		}
		mbox_msg_hash(tmp, norm, m->hash);
	}
	s->ix->total += m->size;
	return MBOX_OK;
}

/* Look at the line starting at buf[i] (which starts with 'F' or '>'): a
 * message boundary, a quoted line, or plain text.  LF is the number of LFs
 * in the file before it; LIM ends the bytes we may look at. */
static int
line_start(struct scan *s, size_t i, size_t lim, uint64_t lf)
{
	size_t k = i, depth;
	uint64_t g = s->base + i;
	const char *nl;
	char last2[2];
	int e;

	while (k < lim && s->buf[k] == '>')
		k++;
	depth = k - i;
	if (lim - k < 5 && depth > 0 && s->base + lim < s->end) {
		/* A giant line: its '>' run goes on past the window. */
		if ((e = gt_run_then_from(s->fd, s->base + k, s->end)) == -1)
			return MBOX_EIO;
		s->fromish += e && s->open;
		return MBOX_OK;
	}
	if (lim - k < 5 || memcmp(s->buf + k, "From ", 5) != 0)
		return MBOX_OK;
	if (depth > 0) {
		s->fromish += s->open;
		return MBOX_OK;
	}
	if (g != 0 && byte_before(s, i, 2) != '\n')
		return MBOX_OK;			/* "From " inside a paragraph */
	last2[0] = (char)byte_before(s, i, 2);
	last2[1] = (char)byte_before(s, i, 1);
	if ((e = finish(s, g, lf, last2)) != MBOX_OK)
		return e;
	s->open = 1;
	s->off = g;
	s->lf0 = lf;
	s->fromish = 0;
	nl = memchr(s->buf + i, '\n', lim - i);
	s->fromlen = nl ? (uint64_t)(nl - (s->buf + i)) + 1 : lim - i;
	s->fromnl = nl != NULL;
	s->frompending = nl == NULL && s->base + lim < s->end;
	return MBOX_OK;
}

/* The hot loop: count LFs and find lines that start with 'F' or '>', 16
 * bytes at a time with the compiler's vector extension (plain SSE2 on
 * x86-64, NEON on arm64, scalar code elsewhere). */
typedef unsigned char v16 __attribute__((vector_size(16)));

/* Handle the candidate line starts flagged in C (a block of 16 at buf[i]);
 * NL marks its LFs and *BASE_LF counts the LFs before it. */
static int
block_starts(struct scan *s, size_t i, size_t lim, v16 nl, v16 c,
    uint64_t *base_lf)
{
	uint64_t before = *base_lf;
	size_t j;
	int e;

	for (j = 0; j < 16; j++) {
		before += nl[j] & 1;
		if (c[j] && (e = line_start(s, i + j + 1, lim, before)) != MBOX_OK)
			return e;
	}
	*base_lf = before;
	return MBOX_OK;
}

static uint64_t
hsum(v16 acc)
{
	uint64_t w[2];

	/* Sum 16 byte counters: add pairs of bytes, then words, in a u64. */
	memcpy(w, &acc, 16);
	w[0] = (w[0] & 0x00ff00ff00ff00ffULL) + ((w[0] >> 8) & 0x00ff00ff00ff00ffULL);
	w[1] = (w[1] & 0x00ff00ff00ff00ffULL) + ((w[1] >> 8) & 0x00ff00ff00ff00ffULL);
	w[0] += w[1];
	return (w[0] * 0x0001000100010001ULL) >> 48;
}

static int
scan_window(struct scan *s, size_t lim)
{
	const v16 zero = { 0 };
	const v16 vnl = zero + '\n', vf = zero + 'F', vgt = zero + '>';
	v16 a[4], b[4], nl[4], c[4], acc = zero, any;
	uint64_t w[2], base_lf = s->lf;
	size_t i = 0, j, k, rounds = 0;
	int e;

	for (; i + 65 <= lim; i += 64) {
		for (k = 0; k < 4; k++) {
			memcpy(&a[k], s->buf + i + 16 * k, 16);
			memcpy(&b[k], s->buf + i + 16 * k + 1, 16);
			nl[k] = (v16)(a[k] == vnl);
			c[k] = nl[k] & (v16)((b[k] == vf) | (b[k] == vgt));
		}
		any = c[0] | c[1] | c[2] | c[3];
		memcpy(w, &any, 16);
		if (w[0] | w[1]) {
			base_lf += hsum(acc);
			acc = zero;
			rounds = 0;
			for (k = 0; k < 4; k++)
				if ((e = block_starts(s, i + 16 * k, lim, nl[k], c[k],
				    &base_lf)) != MBOX_OK)
					return e;
		} else {
			/* nl lanes are 0xff: subtracting adds 1 per LF; four
			 * blocks a round, so fold before a byte can wrap. */
			acc -= nl[0] + nl[1] + nl[2] + nl[3];
			if (++rounds == 63) {
				base_lf += hsum(acc);
				acc = zero;
				rounds = 0;
			}
		}
	}
	base_lf += hsum(acc);
	for (j = i; j < lim; j++) {
		if (s->buf[j] != '\n')
			continue;
		base_lf++;
		if (j + 1 < lim && (s->buf[j + 1] == 'F' || s->buf[j + 1] == '>') &&
		    (e = line_start(s, j + 1, lim, base_lf)) != MBOX_OK)
			return e;
	}
	s->lf = base_lf;
	return MBOX_OK;
}

int
mbox_scan(int fd, uint64_t end, struct mbox_index *ix)
{
	struct scan s;
	uint64_t pos = 0;
	size_t carry = 0, want, lim;
	int linestart = 1, e = MBOX_OK;
	char *buf;
	ssize_t r;

	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.ix = ix;
	s.end = end;
	ix->end = end;
	if (end == 0)
		return MBOX_OK;
	/* A small window that stays in the CPU cache while it is scanned. */
	if ((buf = malloc(SCAN_BUF)) == NULL)
		return MBOX_ENOMEM;
	s.buf = buf;
	s.prev[0] = s.prev[1] = '\n';
	while (pos < end) {
		want = SCAN_BUF - carry;
		if (want > end - pos - carry)
			want = (size_t)(end - pos - carry);
		r = pread(fd, buf + carry, want, (off_t)(pos + carry));
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* the file shrank under the lock */
			e = MBOX_EIO;
			goto out;
		}
		s.base = pos;
		s.n = carry + (size_t)r;
		if (pos == 0 && (s.n < 5 || memcmp(s.buf, "From ", 5) != 0)) {
			e = MBOX_ENOTMBOX;
			goto out;
		}
		/* Whole lines only, unless the window holds no line end late
		 * enough (a giant line): then all of it. */
		lim = s.n;
		if (s.base + s.n < end) {
			const char *last = memrchr(s.buf, '\n', s.n);

			if (last != NULL && s.n - (size_t)(last - s.buf + 1) <
			    SCAN_BUF / 2)
				lim = (size_t)(last - s.buf) + 1;
		}
		if (s.frompending) {
			/* The rest of a From_ line longer than a window. */
			const char *nl = memchr(s.buf, '\n', lim);

			s.fromlen += nl ? (uint64_t)(nl - s.buf) + 1 : lim;
			s.fromnl = nl != NULL;
			s.frompending = nl == NULL && s.base + lim < end;
		}
		if (linestart && (s.buf[0] == 'F' || s.buf[0] == '>'))
			e = line_start(&s, 0, lim, s.lf);
		if (e == MBOX_OK)
			e = scan_window(&s, lim);
		if (e != MBOX_OK)
			goto out;
		s.prev[0] = lim >= 2 ? s.buf[lim - 2] : s.prev[1];
		s.prev[1] = s.buf[lim - 1];
		linestart = s.buf[lim - 1] == '\n';
		pos += lim;
		if (pos == end) {
			s.n = lim;
			e = finish(&s, end, s.lf, s.prev);
			if (e != MBOX_OK)
				goto out;
		}
		carry = s.n - lim;
		memmove(buf, buf + lim, carry);
	}
	e = mark_dups(ix);
out:
	free(buf);
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
	if (r->bol && n > 0 && start[0] == '>') {
		size_t k = 0;
		int q;

		while (k < n && start[k] == '>')
			k++;
		if (n - k < 5 && *more) {
			/* The '>' run goes on past our buffer: look ahead. */
			q = gt_run_then_from(r->fd, r->pos - (r->blen - r->bpos) -
			    (n - k), r->end);
			if (q == -1)
				return -1;
		} else
			q = mbox_is_fromish(start, n);
		if (q) {
			start++;
			n--;
		}
	}
	r->bol = !*more;
	*line = start;
	*len = n;
	return 1;
}
