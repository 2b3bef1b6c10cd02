/* tail.c: an append of ours that a power cut tore, found by its form when
 * no record of it survived.  Runs as the locker, under the mailbox lock.
 *
 * A delivery records its append in its dotlock, but neither the lock's
 * name nor its record is synced (that would cost every delivery two more
 * fsyncs): after a power cut the record may be gone while a part of the
 * message is on disk.  File systems that lose the end of a file write it
 * back in pages, so a torn append ends at a multiple of TEAR_BLOCK, and
 * what is left is the separator, our From_ line and trace fields, and the
 * message, cut there.  The next locker knows it by three things:
 *   - the file ends at a multiple of TEAR_BLOCK, in the middle of a line
 *     (every message ends in an empty line, ours always; one of ours that
 *     another program rewrote without it still ends a line, and is kept);
 *   - its last message begins as mbox_trace writes (From_ line, then
 *     Return-Path, Received and its two continuation lines), whole or cut
 *     short in them, so another program's mail is never taken for it;
 *   - or the file ends in an empty line and the start of "From ": a
 *     From_ line torn after at most four bytes.
 * It is cut back to where that message began.  The tears this cannot see
 * are those that leave the file at the end of a line, or in an empty line
 * and the start of "From ", inside the message: such a piece looks whole.
 * A delivery that could be torn there syncs its record first (deliver.c),
 * and the record then says what to cut. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params.h"
#include "log.h"
#include "mbox.h"
#include "store.h"
#include "store_int.h"

#define BACK_CHUNK	(64 * 1024)

/* The offset of the last "\n\nFrom " in FD's first SIZE bytes, plus 2
 * (where that From_ line begins); 0 when the file begins with "From " and
 * has no other; -1 when none (or a read error). */
static int64_t
last_from(int fd, uint64_t size)
{
	static const char pat[] = "\n\nFrom ";
	char buf[BACK_CHUNK + sizeof(pat)];
	uint64_t end = size, start;
	size_t n, keep = 0, i;

	while (end > 0) {
		start = end > BACK_CHUNK ? end - BACK_CHUNK : 0;
		n = (size_t)(end - start);
		/* The first bytes of the chunk after this one follow it, so a
		 * pattern across the two is seen. */
		memmove(buf + n, buf, keep);
		if (pread(fd, buf, n, (off_t)start) != (ssize_t)n)
			return -1;
		for (i = n + keep; i >= sizeof(pat) - 1; i--)
			if (memcmp(buf + i - (sizeof(pat) - 1), pat,
			    sizeof(pat) - 1) == 0)
				return (int64_t)(start + i - (sizeof(pat) - 1) + 2);
		keep = n < sizeof(pat) - 2 ? n : sizeof(pat) - 2;
		end = start;
	}
	return keep >= 5 && memcmp(buf, "From ", 5) == 0 ? 0 : -1;
}

/* Where the torn append in B's mailbox of SIZE bytes begins, or -1 when
 * its end is not one. */
static int64_t
torn_at(int fd, uint64_t size)
{
	char tail[6], head[HEAD_MAX];
	size_t n = size < sizeof(tail) ? (size_t)size : sizeof(tail), k;
	int64_t at;

	if (pread(fd, tail, n, (off_t)(size - n)) != (ssize_t)n)
		return -1;
	if (tail[n - 1] == '\n')
		return -1;			/* ends a line: not a tear of ours */
	/* An empty line (or the start of the file) and 1 to 4 bytes of
	 * "From ": a From_ line torn at its start. */
	for (k = 1; k <= 4 && k <= n; k++)
		if (memcmp(tail + n - k, "From ", k) == 0 &&
		    (k == size || (k + 2 <= n && tail[n - k - 1] == '\n' &&
		    tail[n - k - 2] == '\n')))
			return (int64_t)(size - k);
	if ((at = last_from(fd, size)) < 0)
		return -1;
	n = size - (uint64_t)at < sizeof(head) ? (size_t)(size - (uint64_t)at) :
	    sizeof(head);
	if (pread(fd, head, n, (off_t)at) != (ssize_t)n ||
	    !mbox_trace_start(head, n))
		return -1;
	return at;
}

int
store_tail_recover(struct store_box *b)
{
	struct stat st;
	int64_t at;

	if (fstat(b->fd, &st) == -1)
		return STORE_EIO;
	if (st.st_size == 0 || st.st_size % TEAR_BLOCK != 0 ||
	    (at = torn_at(b->fd, (uint64_t)st.st_size)) < 0)
		return STORE_OK;
	if (ftruncate(b->fd, (off_t)at) == -1 || fsync(b->fd) == -1) {
		log_warn("mailbox=%s cut torn append", b->path);
		return STORE_EIO;
	}
	log_info("mailbox=%s recovered=torn-tail size=%lld was=%lld", b->path,
	    (long long)at, (long long)st.st_size);
	return STORE_OK;
}
