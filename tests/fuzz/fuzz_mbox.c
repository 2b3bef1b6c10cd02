/* fuzz_mbox.c: libFuzzer harness for the mbox scanner and reader on
 * arbitrary file contents.  Each input is scanned as a file; about half of
 * them also a second time behind a From_ line and some 64 or 256 KiB of
 * filler (lines, one giant line, a '>' run, or lines and a blank line),
 * so what the input holds meets the reader's 64 KiB buffer and the
 * scanner's 256 KiB window at an edge.
 * Oracles besides ASan/UBSan, for every scan:
 *  - the result is MBOX_OK exactly when the file is empty or starts with
 *    "From ", else MBOX_ENOTMBOX;
 *  - messages are in order, inside the file, from offset 0, and their
 *    sizes add up to the index's total;
 *  - for every message the lines mbox_reader_line gives, each with CRLF,
 *    total exactly its size (what LIST says is what RETR sends);
 *  - UIDLs are unique, and scanning again gives the same index.
 * And mbox_is_fromish and mbox_from_line on the input as a line/sender. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "mbox.h"
#include "fuzz.h"

#define READER_BUF	65536		/* sizeof(struct mbox_reader.buf) */
#define SCAN_WINDOW	SCAN_WINDOW_BYTES	/* the scanner's window */
#define PREFIX		"From pad@example.org Mon Jan  1 10:00:00 2024\n"

static int fd = -1;
static char *pad, *filler[4];
static size_t padcap;
static struct mbox_reader rd;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[PATH_MAX];
	size_t i, k;

	(void)argc;
	(void)argv;
	fuzz_log_init("mbox-fuzz");
	snprintf(path, sizeof(path), "%s/mbox", fuzz_scratch("mbox"));
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		fuzz_fail("open %s: %s", path, strerror(errno));
	padcap = SCAN_WINDOW + 256 + 65536;
	if ((pad = malloc(padcap)) == NULL)
		fuzz_fail("malloc");
	/* Lines; one giant line; a '>' run after a line end; lines (a blank
	 * line is put at the end when used). */
	for (k = 0; k < 4; k++) {
		if ((filler[k] = malloc(padcap)) == NULL)
			fuzz_fail("malloc");
		for (i = 0; i < padcap; i++)
			filler[k][i] = k == 1 ? 'a' : k == 2 ? (i == 0 ? '\n' :
			    '>') : i % 72 == 71 ? '\n' : 'a';
	}
	return 0;
}

static void
put(const void *p, size_t len)
{
	const char *c = p;
	size_t off = 0;
	ssize_t n;

	if (ftruncate(fd, 0) < 0)
		fuzz_fail("ftruncate: %s", strerror(errno));
	while (off < len) {
		n = pwrite(fd, c + off, len - off, (off_t)off);
		if (n <= 0)
			fuzz_fail("pwrite: %s", strerror(errno));
		off += (size_t)n;
	}
}

static int
cmp_uidl(const void *a, const void *b)
{
	const struct mbox_msg *x = a, *y = b;

	if (x->hash[0] != y->hash[0])
		return x->hash[0] < y->hash[0] ? -1 : 1;
	if (x->hash[1] != y->hash[1])
		return x->hash[1] < y->hash[1] ? -1 : 1;
	return (x->dup > y->dup) - (x->dup < y->dup);
}

/* The bytes RETR would send for message I (before byte-stuffing). */
static uint64_t
retr_bytes(const struct mbox_index *ix, size_t i)
{
	const char *line;
	uint64_t total = 0, lines = 0;
	size_t len;
	int more, r;

	mbox_reader_open(&rd, fd, &ix->msg[i]);
	while ((r = mbox_reader_line(&rd, &line, &len, &more)) == 1) {
		total += len + (more ? 0 : 2);
		if (++lines > ix->msg[i].len + 2)
			fuzz_fail("message %zu: reader does not stop", i + 1);
	}
	if (r != 0)
		fuzz_fail("message %zu: reader error: %s", i + 1,
		    strerror(errno));
	return total;
}

static void
check(const uint8_t *p, size_t len)
{
	struct mbox_index ix, again;
	struct mbox_msg *v;
	uint64_t total = 0, got;
	char uidl[MBOX_UIDL_SIZE];
	int r, want;
	size_t i;

	put(p, len);
	want = len == 0 || (len >= 5 && memcmp(p, "From ", 5) == 0) ?
	    MBOX_OK : MBOX_ENOTMBOX;
	memset(&ix, 0, sizeof(ix));
	r = mbox_scan(fd, len, &ix);
	if (r != want)
		fuzz_fail("mbox_scan returned %d, not %d", r, want);
	if (r != MBOX_OK)
		return;
	if (ix.end != len || (len > 0 && ix.n == 0) || (ix.n > 0 &&
	    ix.msg[0].off != 0))
		fuzz_fail("index does not cover the file");
	for (i = 0; i < ix.n; i++) {
		const struct mbox_msg *m = &ix.msg[i];

		if (m->fromlen > m->len || m->off + m->len > len ||
		    (i > 0 && m->off < ix.msg[i - 1].off + ix.msg[i - 1].len))
			fuzz_fail("message %zu out of place", i + 1);
		if (memcmp(p + m->off, "From ", 5) != 0)
			fuzz_fail("message %zu does not start with From_", i + 1);
		total += m->size;
		got = retr_bytes(&ix, i);
		if (got != m->size)
			fuzz_fail("message %zu: size %llu but the reader gives "
			    "%llu bytes with CRLF", i + 1,
			    (unsigned long long)m->size,
			    (unsigned long long)got);
		mbox_uidl(m, uidl);
		if (strlen(uidl) < 32)
			fuzz_fail("message %zu: UIDL %s", i + 1, uidl);
	}
	if (total != ix.total)
		fuzz_fail("sizes add up to %llu, index total %llu",
		    (unsigned long long)total, (unsigned long long)ix.total);
	if (ix.n > 1) {
		if ((v = malloc(ix.n * sizeof(*v))) == NULL)
			fuzz_fail("malloc");
		memcpy(v, ix.msg, ix.n * sizeof(*v));
		qsort(v, ix.n, sizeof(*v), cmp_uidl);
		for (i = 1; i < ix.n; i++)
			if (cmp_uidl(&v[i - 1], &v[i]) == 0)
				fuzz_fail("two messages with one UIDL");
		free(v);
	}
	/* The second scan takes the portable hot loop: where the CPU has
	 * AVX2 the first took that one, and the two must agree. */
	memset(&again, 0, sizeof(again));
	mbox_scan_portable = 1;
	r = mbox_scan(fd, len, &again);
	mbox_scan_portable = 0;
	if (r != MBOX_OK || again.n != ix.n ||
	    again.total != ix.total || again.end != ix.end ||
	    (ix.n > 0 && memcmp(again.msg, ix.msg, ix.n * sizeof(*ix.msg))))
		fuzz_fail("a second scan (portable loop) differs");
	mbox_index_free(&again);
	mbox_index_free(&ix);
}

/* The input behind PREFIX and filler that ends near a buffer edge. */
static void
check_padded(const uint8_t *p, size_t len, uint32_t h)
{
	size_t pre = sizeof(PREFIX) - 1, edge, k;
	int kind = (int)(h & 3);

	edge = (h >> 2) & 1 ? SCAN_WINDOW : pre + READER_BUF;
	k = edge - pre - 48 + ((h >> 3) % 96);
	if (pre + k + len > padcap)
		len = padcap - pre - k;
	memcpy(pad, PREFIX, pre);
	memcpy(pad + pre, filler[kind], k);
	if (kind == 3 && k >= 2)
		pad[pre + k - 2] = pad[pre + k - 1] = '\n';
	memcpy(pad + pre + k, p, len);
	check((const uint8_t *)pad, pre + k + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[600], sender[300];
	uint32_t h = 2166136261u;
	size_t i, n, k;

	check(data, size);
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	if ((h >> 12) & 1)
		check_padded(data, size, h);

	/* mbox_is_fromish: ^>*From  */
	for (k = 0; k < size && data[k] == '>'; k++)
		;
	if (mbox_is_fromish((const char *)data, size) !=
	    (size - k >= 5 && memcmp(data + k, "From ", 5) == 0))
		fuzz_fail("mbox_is_fromish wrong");
	/* mbox_from_line: one line, "From ", the sender one word. */
	n = size < sizeof(sender) - 1 ? size : sizeof(sender) - 1;
	memcpy(sender, data, n);
	sender[n] = '\0';
	n = mbox_from_line(line, sizeof(line), sender, (time_t)h);
	if (n == 0 || n >= sizeof(line) || line[n - 1] != '\n' ||
	    memchr(line, '\n', n - 1) != NULL || memcmp(line, "From ", 5) != 0 ||
	    line[5] == ' ')
		fuzz_fail("mbox_from_line: bad From_ line");
	return 0;
}
