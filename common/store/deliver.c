/* deliver.c: the all-or-nothing delivery of one message into several
 * mailboxes, and its commit marker.  Runs in smtpd's delivery side: root
 * under inetd (to write users' mailboxes), or the -u user. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "trust.h"

/* Write all of IOV, looping over short writes, at the end of FD. */
static int
write_all(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			cnt--;
			continue;
		}
		if ((n = writev(fd, iov, cnt)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0) {
			size_t k = (size_t)n < iov->iov_len ? (size_t)n : iov->iov_len;

			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= k;
			n -= (ssize_t)k;
			if (iov->iov_len == 0 && n > 0) {
				iov++;
				cnt--;
			}
		}
	}
	return 0;
}

/* The bytes that must precede a new From_ line so it follows an empty line. */
static const char *
separator(int fd, uint64_t size)
{
	char t[2];

	if (size == 0)
		return "";
	if (size == 1 || pread(fd, t, 2, (off_t)size - 2) != 2)
		return size == 1 ? "\n" : "\n\n";
	if (t[1] != '\n')
		return "\n\n";
	return t[0] == '\n' ? "" : "\n";
}

static int
cmp_rcpt(const void *a, const void *b)
{
	return strcmp((*(const struct store_rcpt *const *)a)->name,
	    (*(const struct store_rcpt *const *)b)->name);
}

/* Put the undo back: cut every written mailbox back to its old size. */
static void
rollback(struct store_box *box, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ftruncate(box[i].fd, (off_t)box[i].size) == -1 ||
		    fsync(box[i].fd) == -1)
			log_warn("mailbox=%s rollback", box[i].path);
}

/* One delivery under way: the recipients in lock order, their boxes, the
 * files as they were before our append (for the index update), and the
 * commit marker of a delivery to several mailboxes. */
struct delivery {
	const char		 *spool;
	const struct store_rcpt	**v;
	struct store_box	 *box;
	struct stat		 *before;
	size_t			  n;
	size_t			  opened;	/* boxes open and locked */
	size_t			  written;	/* boxes that may hold our bytes */
	char			  txn[128];	/* "" for a single mailbox */
	char			  marker[PATH_MAX];
};

static void
delivery_free(struct delivery *d)
{
	free(d->v);
	free(d->box);
	free(d->before);
}

/* Everyone locks in name order, so two deliveries to the same pair of
 * mailboxes cannot wait on each other. */
static int
delivery_init(struct delivery *d, const char *spool, const struct store_rcpt *r,
    size_t n)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->spool = spool;
	d->n = n;
	d->v = calloc(n, sizeof(*d->v));
	d->box = calloc(n, sizeof(*d->box));
	d->before = calloc(n, sizeof(*d->before));
	if (d->v == NULL || d->box == NULL || d->before == NULL) {
		delivery_free(d);
		log_warnx("delivery out of memory");
		return STORE_EIO;
	}
	for (i = 0; i < n; i++)
		d->v[i] = &r[i];
	qsort(d->v, n, sizeof(*d->v), cmp_rcpt);
	/* The commit marker's name is random: it goes into every dotlock's
	 * record before the marker exists, and one planted in advance would
	 * fail the commit. */
	if (n > 1 && store_tmp_name(d->txn, sizeof(d->txn), ".txn.") == -1) {
		log_warn("delivery commit marker name");
		delivery_free(d);
		return STORE_EIO;
	}
	snprintf(d->marker, sizeof(d->marker), "%s/%s", spool, d->txn);
	return STORE_OK;
}

const char *
store_ending(const char *body, size_t len)
{
	return len > 0 && body[len - 1] != '\n' ? "\n\n" : "\n";
}

/* Step 1: open and lock every mailbox, and refuse the whole delivery if
 * one of them would go past QUOTA.  The exact size, under the lock: the
 * separator and the ending count, as they take room too. */
static int
lock_all(struct delivery *d, const char *body, size_t bodylen, uint64_t quota)
{
	size_t end = strlen(store_ending(body, bodylen));
	struct store_box *b;
	int e;

	for (d->opened = 0; d->opened < d->n; d->opened++) {
		b = &d->box[d->opened];
		e = store_open(b, d->spool, d->v[d->opened]->name,
		    d->v[d->opened]->uid, d->v[d->opened]->gid, 1);
		if (e != STORE_OK)
			return e;
		if (quota > 0 && b->size + strlen(separator(b->fd, b->size)) +
		    d->v[d->opened]->headlen + bodylen + end > quota) {
			log_info("mailbox=%s over quota size=%llu quota=%llu "
			    "message=%zu", b->path, (unsigned long long)b->size,
			    (unsigned long long)quota,
			    d->v[d->opened]->headlen + bodylen);
			d->opened++;
			return STORE_EQUOTA;
		}
	}
	return STORE_OK;
}

/* Byte OFF of the append IOV (CNT parts). */
static char
byte_at(const struct iovec *iov, int cnt, uint64_t off)
{
	int i;

	for (i = 0; i < cnt && off >= iov[i].iov_len; i++)
		off -= iov[i].iov_len;
	return i < cnt ? ((const char *)iov[i].iov_base)[off] : '\0';
}

/* Could a power cut tear the append IOV (CNT parts, LEN bytes, SEP of
 * them the separator) at SIZE so that tail.c does not see it?  A file
 * system keeps the end of a file in pages: a torn append ends at a
 * multiple of TEAR_BLOCK.  tail.c knows such a piece by its end: in the
 * middle of a line, or an empty line and the start of a From_ line that
 * follows ours.  A piece that ends at the end of a line looks whole
 * instead (as a message of ours does after another program rewrote the
 * mailbox without its last empty line), and so does one that ends in an
 * empty line and at most "From", the start of a body line: for an append
 * that such a boundary crosses, the record must survive. */
static int
tear_unseen(const struct iovec *iov, int cnt, uint64_t size, uint64_t len,
    uint64_t sep)
{
	static const char from[] = "From";
	uint64_t k, j, t;

	for (k = TEAR_BLOCK - size % TEAR_BLOCK; k < len; k += TEAR_BLOCK) {
		/* The piece up to K ends a line of the message. */
		if (k > sep && byte_at(iov, cnt, k - 1) == '\n')
			return 1;
		/* It ends in "\n\n" and J bytes of "From", that empty line
		 * after the From_ line's first byte (at SEP). */
		for (j = 1; j <= 4 && k >= sep + j + 3; j++) {
			for (t = 0; t < j && byte_at(iov, cnt, k - j + t) == from[t]; t++)
				;
			if (t == j && byte_at(iov, cnt, k - j - 1) == '\n' &&
			    byte_at(iov, cnt, k - j - 2) == '\n')
				return 1;
		}
	}
	return 0;
}

/* Step 2, for box I: record the append in its dotlock, then write and
 * fsync it.  The record goes first: if we die mid-write, whoever breaks
 * our lock knows what to cut off.  It is not synced (a power cut may take
 * it, and tail.c then knows the piece by its form), unless the append is
 * one that a power cut could tear unseen: then the record and the lock's
 * name are synced before the first byte is written. */
static int
append_one(struct delivery *d, size_t i, const char *body, size_t bodylen)
{
	struct store_box *b = &d->box[i];
	const char *sep = separator(b->fd, b->size);
	const char *end = store_ending(body, bodylen);
	struct iovec iov[4] = {
		{ (void *)sep, strlen(sep) },
		{ (void *)d->v[i]->head, d->v[i]->headlen },
		{ (void *)body, bodylen },
		{ (void *)end, strlen(end) },
	};
	uint64_t len = strlen(sep) + d->v[i]->headlen + bodylen + strlen(end);
	int e;

	/* The file as it was goes to the index update. */
	if (fstat(b->fd, &d->before[i]) == -1) {
		log_warn("mailbox=%s fstat", b->path);
		return STORE_EIO;
	}
	if (dotlock_record(b->lockfd, b->size, len, d->txn, b->dev,
	    b->ino) == -1 || (tear_unseen(iov, 4, b->size, len, strlen(sep)) &&
	    (fdatasync(b->lockfd) == -1 || (sync_dir(d->spool) == -1 &&
	    errno != EINVAL)))) {
		log_warn("dotlock=%s record", b->lock);
		return STORE_EIO;
	}
	FAULT("deliver.record", b->fd);
	if (lseek(b->fd, 0, SEEK_END) == -1 || write_all(b->fd, iov, 4) == -1 ||
	    (FAULT("deliver.written", b->fd), fsync(b->fd)) == -1) {
		e = store_errno(errno);
		log_warn("mailbox=%s append", b->path);
		d->written = i + 1;	/* some bytes may be in: roll it back */
		return e;
	}
	return STORE_OK;
}

/* The marker lists its delivery's mailboxes, so a sweep can tell when no
 * dotlock of theirs can name it any more (sweep.c).  Not synced: a list
 * lost to a power cut only keeps the marker. */
static void
write_list(struct delivery *d, int fd)
{
	struct iovec iov[3] = { { TXN_MAGIC, strlen(TXN_MAGIC) } };
	size_t i;

	if (write_all(fd, iov, 1) == -1)
		return;
	for (i = 0; i < d->n; i++) {
		iov[1].iov_base = (void *)d->v[i]->name;
		iov[1].iov_len = strlen(d->v[i]->name);
		iov[2].iov_base = "\n";
		iov[2].iov_len = 1;
		if (write_all(fd, iov + 1, 2) == -1)
			return;
	}
}

/* Step 3, the commit point of a multi-mailbox delivery: from here on, a
 * breaker of any of our locks keeps the message.  The marker's name is
 * synced: after a power cut it must still be there for the 250 we send. */
static int
commit(struct delivery *d)
{
	int fd, e, tries;

	if (d->n < 2)
		return STORE_OK;
	/* Our records named the marker before it existed, and they can be
	 * read: a file planted under its name meanwhile is not ours, and is
	 * removed when we may (as root) before we make ours. */
	for (tries = 0; tries < 2; tries++) {
		fd = open(d->marker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST || trust_clear_name(d->marker,
		    (uid_t)-1, "commit marker") != 1)
			break;
	}
	if (fd == -1) {
		e = store_errno(errno);
		log_warn("delivery commit marker=%s", d->marker);
		return e;
	}
	write_list(d, fd);
	close(fd);
	if (sync_dir(d->spool) == -1) {
		log_warn("delivery commit spool=%s fsync", d->spool);
		unlink(d->marker);
		return STORE_EIO;
	}
	return STORE_OK;
}

/* Step 4, committed: the indexes follow while we still hold the locks,
 * then the locks go.  The marker stays: the sweep removes it once no
 * dotlock of its mailboxes is left, after a sync of the spool directory
 * (sweep.c).  Removed here, its removal could reach the disk before that
 * of a dotlock that names it, and after a power cut that dotlock, back
 * again, would find no marker and cut the message we said 250 for. */
static void
finish(struct delivery *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		store_index_append(&d->box[i], &d->before[i]);
	for (i = 0; i < d->n; i++) {
		(void)store_release(&d->box[i]);
		close(d->box[i].fd);
		d->box[i].fd = -1;
		FAULT("deliver.released", -1);
	}
}

int
store_deliver(const char *spool, const struct store_rcpt *r, size_t n,
    const char *body, size_t bodylen, uint64_t quota)
{
	struct delivery d;
	size_t i;
	int e;

	if (n == 0)
		return STORE_OK;
	if ((e = delivery_init(&d, spool, r, n)) != STORE_OK)
		return e;
	if ((e = lock_all(&d, body, bodylen, quota)) != STORE_OK)
		goto fail;
	for (d.written = 0; d.written < n; d.written++)
		if ((e = append_one(&d, d.written, body, bodylen)) != STORE_OK)
			goto fail;
	if ((e = commit(&d)) != STORE_OK)
		goto fail;
	FAULT("deliver.committed", -1);
	finish(&d);
	delivery_free(&d);
	store_sweep(spool);
	return STORE_OK;
fail:
	rollback(d.box, d.written);
	for (i = 0; i < d.opened; i++)
		store_close(&d.box[i]);
	/* The dotlocks that recorded the appends we cut are gone: that must
	 * be on disk before a later delivery can grow the files into those
	 * records again (see cut_tail in expunge.c). */
	if (d.written > 0)
		(void)sync_dir(spool);
	delivery_free(&d);
	store_sweep(spool);
	return e;
}
