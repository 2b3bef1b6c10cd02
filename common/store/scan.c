/* scan.c: the one-pass index scan of a mailbox: message boundaries, POP3
 * sizes and UIDL hashes, near the speed of reading the file.  No locking and
 * no privileges: the caller holds the mailbox lock. */
#define _GNU_SOURCE	/* memrchr: the last line end of a window */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "mbox.h"
#include "mbox_int.h"

int mbox_scan_portable;

/* Read windows (params.h): small enough to stay in the CPU's cache while
 * scanned, big enough that the per-read cost is small. */
#define SCAN_BUF	SCAN_WINDOW_BYTES

/* On x86-64, a second hot loop with AVX2 when the CPU has it (checked once
 * at run time): the full scan is the fallback of a login whose index is
 * gone, and should cost little more than reading the file. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define SCAN_AVX2	1
#endif

/* Identical messages (resent mail, another MDA's fan-out) hash alike: number
 * the later copies so every UIDL in the maildrop is unique.  A table of
 * 4-byte slots holds, per hash, the latest record seen; one
 * pass in file order numbers each copy one more than the copy before it.
 * A login on an indexed mailbox of 20,000 messages paid more for the sort
 * this replaced than for reading its records. */
int
mbox_index_dups(struct mbox_index *ix)
{
	uint32_t *slot, k;
	size_t i, cap, mask;
	const struct mbox_msg *m;

	for (i = 0; i < ix->n; i++)
		ix->msg[i].dup = 0;
	if (ix->n < 2)
		return MBOX_OK;
	/* At most two thirds full: short probes, and 128 KiB for 20,000. */
	for (cap = 4; cap < ix->n + ix->n / 2; cap *= 2)
		;
	if (cap > UINT32_MAX || (slot = calloc(cap, sizeof(*slot))) == NULL)
		return MBOX_ENOMEM;
	mask = cap - 1;
	/* Slots hold record number + 1; 0 is empty. */
	for (i = 0; i < ix->n; i++) {
		m = &ix->msg[i];
		for (k = (uint32_t)(m->hash[0] & mask); slot[k] != 0;
		    k = (uint32_t)((k + 1) & mask)) {
			const struct mbox_msg *o = &ix->msg[slot[k] - 1];

			if (o->hash[0] == m->hash[0] && o->hash[1] == m->hash[1]) {
				ix->msg[i].dup = o->dup + 1;
				break;
			}
		}
		slot[k] = (uint32_t)(i + 1);
	}
	free(slot);
	return MBOX_OK;
}

/* The scanner's state: a window read from the file, global LF counts, and
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
	/* The first bytes of the open message when it began in an earlier
	 * window: its UIDL hash needs them, and rereading them cost a
	 * pread per message on a full scan. */
	uint64_t	 headoff;
	size_t		 headn;
	char		 head[UIDL_HEADER_PEEK];
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
	uint64_t body, lines, sep, norm;
	int e;

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
	if (m->off >= s->base)
		e = mbox_uidl_hash(s->fd, m->off, norm, s->buf + (m->off -
		    s->base), (size_t)(s->base + s->n - m->off), m->hash);
	else if (s->headn > 0 && s->headoff == m->off)
		e = mbox_uidl_hash(s->fd, m->off, norm, s->head, s->headn,
		    m->hash);
	else
		e = mbox_uidl_hash(s->fd, m->off, norm, NULL, 0, m->hash);
	if (e == -1) {
		errno = EIO;
		return MBOX_EIO;
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
		if ((e = mbox_gt_run_from(s->fd, s->base + k, s->end)) == -1)
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

#ifdef SCAN_AVX2
/* 64 bytes a round: a bit mask of the LFs and one of the bytes that may
 * start a line of interest ('F', '>'); a line starts where the byte before
 * is an LF, so the LF mask shifted by one (and the last LF of the round
 * before) picks the candidates.  LFs are counted by popcount.  Scans
 * buf[*IP, LIM) in whole rounds; *IP, *LFP and *CARRY (the last byte of
 * the last round was an LF) tell the caller where it stopped. */
__attribute__((target("avx2,popcnt")))
static int
scan_avx2(struct scan *s, size_t lim, size_t *ip, uint64_t *lfp, int *carry)
{
	const __m256i vnl = _mm256_set1_epi8('\n');
	const __m256i vf = _mm256_set1_epi8('F'), vgt = _mm256_set1_epi8('>');
	__m256i a0, a1;
	uint64_t nl, fg, c, lf = *lfp, in = (uint64_t)*carry;
	size_t i = *ip;
	unsigned k;
	int e;

	for (; i + 64 <= lim; i += 64) {
		a0 = _mm256_loadu_si256((const void *)(s->buf + i));
		a1 = _mm256_loadu_si256((const void *)(s->buf + i + 32));
		nl = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a0, vnl)) |
		    (uint64_t)(uint32_t)_mm256_movemask_epi8(
		    _mm256_cmpeq_epi8(a1, vnl)) << 32;
		c = (nl << 1 | in);
		in = nl >> 63;
		if (c == 0) {
			lf += in;
			continue;
		}
		fg = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(
		    _mm256_cmpeq_epi8(a0, vf), _mm256_cmpeq_epi8(a0, vgt))) |
		    (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(
		    _mm256_cmpeq_epi8(a1, vf), _mm256_cmpeq_epi8(a1, vgt))) << 32;
		for (c &= fg; c != 0; c &= c - 1) {
			k = (unsigned)__builtin_ctzll(c);
			/* The LFs before the line: this round's below bit K. */
			if ((e = line_start(s, i + k, lim, lf + (uint64_t)
			    __builtin_popcountll(nl & ((1ULL << k) - 1)))) !=
			    MBOX_OK)
				return e;
		}
		lf += (uint64_t)__builtin_popcountll(nl);
	}
	*ip = i;
	*lfp = lf;
	*carry = (int)in;
	return MBOX_OK;
}

/* Asked with cpuid the first time a scan needs it, not by libgcc's
 * __builtin_cpu_supports, whose constructor would run cpuid in every
 * process at start-up: on a virtual machine each cpuid is a trap, and
 * every connection starts a process.  AVX2 needs the OS to save the YMM
 * registers too (OSXSAVE, XCR0 bits 1 and 2). */
static int
have_avx2(void)
{
	static int known = -1;
	unsigned a, b, c, d, lo, hi;

	if (known != -1)
		return known;
	known = 0;
	if (__get_cpuid(1, &a, &b, &c, &d) == 0 ||
	    (c & (1u << 27)) == 0 || (c & (1u << 28)) == 0 ||	/* OSXSAVE, AVX */
	    (c & (1u << 23)) == 0)				/* POPCNT */
		return known;
	__asm__ volatile ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6)
		return known;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0 ||
	    (b & (1u << 5)) == 0)				/* AVX2 */
		return known;
	known = 1;
	return known;
}
#endif

static int
scan_window(struct scan *s, size_t lim)
{
	const v16 zero = { 0 };
	const v16 vnl = zero + '\n', vf = zero + 'F', vgt = zero + '>';
	v16 a[4], b[4], nl[4], c[4], acc = zero, any;
	uint64_t w[2], base_lf = s->lf;
	size_t i = 0, j, k, rounds = 0;
	int e;

#ifdef SCAN_AVX2
	if (!mbox_scan_portable && have_avx2()) {
		int carry = 0;

		/* Buf[0] was looked at by the caller (the window's start). */
		if ((e = scan_avx2(s, lim, &i, &base_lf, &carry)) != MBOX_OK)
			return e;
		/* A line that starts right after the last round. */
		if (carry && i < lim && (s->buf[i] == 'F' || s->buf[i] == '>') &&
		    (e = line_start(s, i, lim, base_lf)) != MBOX_OK)
			return e;
	}
#endif
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
	int e;

	ix->end = end;
	if ((e = mbox_scan_from(fd, 0, end, ix)) != MBOX_OK)
		return e;
	if ((e = mbox_index_dups(ix)) != MBOX_OK)
		mbox_index_free(ix);
	return e;
}

/* The read side of a scan: a page-aligned buffer whose last BUFSIZE bytes
 * take each read, with HEAD bytes before them for the unfinished line of
 * the window before (CARRY bytes of it). */
struct window {
	char		*buf;
	size_t		 head, bufsize, carry;
	uint64_t	 start, rpos;	/* the scan's start; the next read */
};

/* A small window that stays in the CPU cache while it is scanned; no
 * bigger than the range (a delivery's index update scans 4 KiB).  Reads go
 * to a page-aligned place, whole windows at file offsets that stay
 * page-aligned, as cat's do: the kernel copies those fastest.  The
 * unfinished line of a window (less than half a window, see window_lim)
 * moves into the HEAD bytes just before it. */
static int
window_init(struct window *w, uint64_t start, uint64_t end)
{
	w->bufsize = end - start < SCAN_BUF ? (size_t)(end - start) : SCAN_BUF;
	w->head = w->bufsize < SCAN_BUF ? w->bufsize : SCAN_BUF / 2;
	w->carry = 0;
	w->start = w->rpos = start;
	if (posix_memalign((void **)&w->buf, 4096, w->head + w->bufsize) != 0)
		return MBOX_ENOMEM;
	return MBOX_OK;
}

/* Read the next window of the file at POS into S: the carried bytes, then
 * what the read brought. */
static int
window_read(struct window *w, struct scan *s, uint64_t pos)
{
	size_t want = w->bufsize;
	ssize_t r;

	/* The first read ends on a page boundary of the file. */
	if (w->rpos == w->start && w->bufsize == SCAN_BUF &&
	    (w->start & 4095) != 0)
		want -= (size_t)(w->start & 4095);
	if (want > s->end - w->rpos)
		want = (size_t)(s->end - w->rpos);
	r = pread(s->fd, w->buf + w->head, want, (off_t)w->rpos);
	if (r <= 0) {
		if (r == 0)
			errno = EIO;	/* the file shrank under the lock */
		return MBOX_EIO;
	}
	w->rpos += (size_t)r;
	s->buf = w->buf + w->head - w->carry;
	s->base = pos;
	s->n = w->carry + (size_t)r;
	return MBOX_OK;
}

/* How much of the window to scan now: whole lines only, unless the window
 * holds no line end late enough (a giant line): then all of it. */
static size_t
window_lim(const struct window *w, const struct scan *s)
{
	const char *last;

	if (s->base + s->n >= s->end)
		return s->n;
	last = memrchr(s->buf, '\n', s->n);
	if (last != NULL && s->n - (size_t)(last - s->buf + 1) < w->head)
		return (size_t)(last - s->buf) + 1;
	return s->n;
}

/* The rest of a From_ line longer than a window. */
static void
from_goes_on(struct scan *s, size_t lim)
{
	const char *nl = memchr(s->buf, '\n', lim);

	s->fromlen += nl ? (uint64_t)(nl - s->buf) + 1 : lim;
	s->fromnl = nl != NULL;
	s->frompending = nl == NULL && s->base + lim < s->end;
}

/* A message that began in this window and goes on: keep its first bytes
 * for its UIDL hash. */
static void
keep_head(struct scan *s)
{
	if (s->open && s->off >= s->base && s->off - s->base < s->n) {
		s->headoff = s->off;
		s->headn = s->n - (size_t)(s->off - s->base);
		if (s->headn > sizeof(s->head))
			s->headn = sizeof(s->head);
		memcpy(s->head, s->buf + (s->off - s->base), s->headn);
	}
}

/* Scan the window in S up to LIM; LINESTART: its first byte starts a line. */
static int
window_scan(struct scan *s, size_t lim, int linestart)
{
	int e;

	if (s->frompending)
		from_goes_on(s, lim);
	if (linestart && (s->buf[0] == 'F' || s->buf[0] == '>') &&
	    (e = line_start(s, 0, lim, s->lf)) != MBOX_OK)
		return e;
	return scan_window(s, lim);
}

int
mbox_scan_from(int fd, uint64_t start, uint64_t end, struct mbox_index *ix)
{
	struct window w;
	struct scan s;
	uint64_t pos = start;
	int linestart = 1, e;
	size_t lim;

	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.ix = ix;
	s.end = end;
	ix->end = end;
	if (end <= start)
		return MBOX_OK;
	if ((e = window_init(&w, start, end)) != MBOX_OK)
		return e;
	s.prev[0] = s.prev[1] = '\n';
	while (pos < end) {
		if ((e = window_read(&w, &s, pos)) != MBOX_OK)
			break;
		if (pos == start && (s.n < 5 || memcmp(s.buf, "From ", 5) != 0)) {
			e = MBOX_ENOTMBOX;
			break;
		}
		lim = window_lim(&w, &s);
		if ((e = window_scan(&s, lim, linestart)) != MBOX_OK)
			break;
		s.prev[0] = lim >= 2 ? s.buf[lim - 2] : s.prev[1];
		s.prev[1] = s.buf[lim - 1];
		linestart = s.buf[lim - 1] == '\n';
		pos += lim;
		if (pos == end) {
			s.n = lim;
			if ((e = finish(&s, end, s.lf, s.prev)) != MBOX_OK)
				break;
		}
		keep_head(&s);
		w.carry = s.n - lim;
		memmove(w.buf + w.head - w.carry, s.buf + lim, w.carry);
	}
	free(w.buf);
	if (e != MBOX_OK)
		mbox_index_free(ix);
	return e;
}
