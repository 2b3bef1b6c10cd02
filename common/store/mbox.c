/* mbox.c: the mboxrd format: From_ lines, quoting, UIDL hashes and the
 * message reader.  No locking and no privileges: callers hold the locks. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "mbox.h"
#include "mbox_int.h"


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

/* See mbox_int.h. */
int
mbox_gt_run_from(int fd, uint64_t off, uint64_t end)
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
			q = mbox_gt_run_from(r->fd, r->pos - (r->blen - r->bpos) -
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
