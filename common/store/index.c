/* index.c: the index of a mailbox, SPOOL/.NAME.idx: what a scan found (the
 * message records) and the state of the file it found it in, so a login
 * reads the records instead of the whole mailbox: a full scan of a big one
 * costs as much as reading it, and most logins find nothing new.  The index
 * is a cache, never the truth.  The rule: it is believed only when nothing
 * but appends can have happened to the mailbox since it was written.  So
 * its stamp (inode, size, mtime, ctime: no other writer can keep ctime)
 * must be final: taken after the file system's clock had moved past the
 * file's last change, so that any later change shows in it.  Then the
 * mailbox must be exactly as the stamp says, or the same file grown by an
 * append whose old part still reads as the index describes (its last 4 KiB
 * and a sample of its messages: see extend()); only the new bytes are then
 * scanned.  It must also be a file we trust (trust.h) whose records pass
 * their checksum and bounds.  Anything else costs a scan and a new index.
 * smtpd keeps it current as it appends, under the lock it holds anyway.
 * Runs as the locker (pop3d as the owner, smtpd's delivery side). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "log.h"
#include "mbox.h"
#include "store.h"
#include "store_int.h"
#include "trust.h"

/* The header, then COUNT records of struct mbox_msg (dup always 0: it is
 * numbered again at load, over all records).  Native byte order: an index
 * read on a host of another byte order fails its magic and costs a scan. */
#define INDEX_MAGIC	0x78646961626d69ULL	/* "imbaidx", little-endian */
#define INDEX_VERSION	1
struct index_head {
	uint64_t	 magic;
	uint32_t	 version, recsize;
	struct mbox_stamp stamp;	/* the mailbox the records describe */
	uint64_t	 count;
	uint64_t	 total;		/* sum of the records' sizes */
	uint64_t	 sum[2];	/* chained hash of the records, in order */
	uint64_t	 tail[2];	/* hash of the mailbox's last TAIL bytes */
	uint32_t	 racy;		/* stamp taken within a tick of a change */
	uint32_t	 pad;
};

#define TAIL		4096

/* The hash of the last TAIL bytes of the mailbox FD of SIZE bytes. */
static int
tail_hash(int fd, uint64_t size, uint64_t out[2])
{
	char buf[TAIL];
	size_t n = size < TAIL ? (size_t)size : TAIL;

	if (n > 0 && pread(fd, buf, n, (off_t)(size - n)) != (ssize_t)n)
		return -1;
	mbox_hash(buf, n, out);
	return 0;
}

static int
index_path(const struct store_box *b, char *buf, size_t cap, const char *sfx)
{
	int n = snprintf(buf, cap, "%.*s/.%s.idx%s", (int)(b->namepos - 1),
	    b->path, b->path + b->namepos, sfx);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Chain the hash SUM over N records at R. */
static void
chain(uint64_t sum[2], const struct mbox_msg *r, size_t n)
{
	uint64_t h[2];
	size_t i;

	for (i = 0; i < n; i++) {
		mbox_hash(&r[i], sizeof(r[i]), h);
		sum[0] = (sum[0] ^ h[0]) * 0x9e3779b97f4a7c15ULL + h[1];
		sum[1] = (sum[1] + h[1]) * 0xc2b2ae3d27d4eb4fULL ^ h[0];
	}
}

/* The records must describe the mailbox they claim to: in order, inside
 * the file, each one's From_ line inside it. */
static int
sane(const struct mbox_msg *r, size_t n, uint64_t size, uint64_t *total)
{
	uint64_t next = 0, t = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (r[i].off < next || r[i].len == 0 || r[i].len > size ||
		    r[i].off > size - r[i].len || r[i].fromlen > r[i].len ||
		    r[i].dup != 0 || (i == 0 && r[i].off != 0))
			return 0;
		next = r[i].off + r[i].len;
		t += r[i].size;
	}
	*total = t;
	return 1;
}

/* Read B's index at PATH: its header into *H and its records into *IX,
 * which must hold together (checksum, bounds, total) for the file the
 * header's stamp describes.  Returns 0, or -1 (none, not ours, or not
 * holding together: logged). */
static int
read_index(struct store_box *b, const char *path, struct index_head *h,
    struct mbox_index *ix)
{
	uint64_t sum[2] = { 0, 0 }, total;
	struct stat st;
	size_t bytes;
	ssize_t r;
	int fd;

	memset(ix, 0, sizeof(*ix));
	/* Under the lock: a planted one is removed when we may (as root),
	 * else it costs a scan until a login clears it (store_clear). */
	fd = trust_open_clear(path, O_RDONLY, 0, b->owner, "index", &st);
	if (fd < 0)
		return -1;	/* none, or planted (logged): a scan */
	if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) ||
	    h->magic != INDEX_MAGIC || h->version != INDEX_VERSION ||
	    h->recsize != sizeof(struct mbox_msg) || h->count > MBOX_MSGS_MAX ||
	    (uint64_t)st.st_size != sizeof(*h) + h->count * sizeof(struct mbox_msg)) {
		close(fd);
		return -1;	/* stale or not ours: a scan */
	}
	bytes = (size_t)h->count * sizeof(struct mbox_msg);
	if (h->count > 0 && (ix->msg = malloc(bytes)) == NULL) {
		close(fd);
		return -1;
	}
	r = bytes > 0 ? pread(fd, ix->msg, bytes, sizeof(*h)) : 0;
	close(fd);
	if (r != (ssize_t)bytes)
		goto bad;
	chain(sum, ix->msg, (size_t)h->count);
	if (sum[0] != h->sum[0] || sum[1] != h->sum[1] ||
	    !sane(ix->msg, (size_t)h->count, h->stamp.size, &total) ||
	    total != h->total)
		goto bad;
	ix->n = ix->cap = (size_t)h->count;
	ix->end = h->stamp.size;
	ix->total = total;
	return 0;
bad:
	log_warnx("index=%s does not hold together, a scan replaces it", path);
	mbox_index_free(ix);
	return -1;
}

/* 1 when the message of record M still hashes as the record says, read
 * from the file (its first UIDL_HASH_BYTES and its length). */
static int
msg_unchanged(int fd, const struct mbox_msg *m)
{
	uint64_t h[2], norm;
	char last;

	if (pread(fd, &last, 1, (off_t)(m->off + m->len - 1)) != 1)
		return 0;
	norm = m->len - (last == '\n');
	return mbox_uidl_hash(fd, m->off, norm, NULL, 0, h) == 0 &&
	    h[0] == m->hash[0] && h[1] == m->hash[1];
}

/* Where the bytes appended after the old end OLD begin a message: at OLD
 * when the old part ended in an empty line; at OLD + 1 when it ended in
 * one LF and the appender added the empty line (its last message's record
 * stays the same: the separator is never part of a message).  -1 when
 * neither: then the old last message is scanned again with the new bytes
 * (an appender that wrote no From_ line made them part of it). */
static int64_t
append_start(int fd, uint64_t old, uint64_t size)
{
	char pre[2], post[6];
	size_t n = size - old < sizeof(post) ? (size_t)(size - old) : sizeof(post);

	if (old < 2 || pread(fd, pre, 2, (off_t)old - 2) != 2 ||
	    pread(fd, post, n, (off_t)old) != (ssize_t)n)
		return -1;
	if (pre[0] == '\n' && pre[1] == '\n' && n >= 5 &&
	    memcmp(post, "From ", 5) == 0)
		return (int64_t)old;
	if (pre[0] != '\n' && pre[1] == '\n' && n >= 6 && post[0] == '\n' &&
	    memcmp(post + 1, "From ", 5) == 0)
		return (int64_t)old + 1;
	return -1;
}

/* The mailbox grew since the index H (records in *IX) was written: an
 * append by another program (procmail, Python's mailbox) or by smtpd after
 * one.  Believe the old records only when the old part still reads as they
 * describe: the same inode, the old last TAIL bytes hash as recorded, and
 * INDEX_SAMPLES messages (the first, the last, others at random) still
 * hash as their records say.  Then scan only the new bytes.  What this
 * cannot see: a rewrite of the old part that keeps every message's place
 * and its first UIDL_HASH_BYTES, or touches only messages not sampled this
 * time, made together with an append.  Mail programs that rewrite (mutt,
 * Python's mailbox) change sizes, so the old end moves, or write a new
 * file (another inode); a login that samples a changed message scans.
 * Returns 0 (*IX now describes the file of stamp NOW, its first *KEEP
 * records as they were) or -1. */
static int
extend(struct store_box *b, const struct index_head *h, struct mbox_index *ix,
    const struct mbox_stamp *now, size_t *keep)
{
	uint64_t tail[2], old = h->stamp.size, start;
	int64_t at;
	size_t i, k;

	if (now->ino != h->stamp.ino || now->size <= old || ix->n == 0 ||
	    tail_hash(b->fd, old, tail) == -1 ||
	    tail[0] != h->tail[0] || tail[1] != h->tail[1])
		return -1;
	for (k = 0; k < INDEX_SAMPLES && k < ix->n; k++) {
		i = k == 0 ? 0 : k == 1 ? ix->n - 1 :
		    (size_t)(store_random() % ix->n);
		if (!msg_unchanged(b->fd, &ix->msg[i]))
			return -1;
	}
	if ((at = append_start(b->fd, old, now->size)) >= 0)
		start = (uint64_t)at;
	else {
		/* The old last message is measured again, with what follows. */
		ix->n--;
		ix->total -= ix->msg[ix->n].size;
		start = ix->msg[ix->n].off;
	}
	*keep = ix->n;
	/* mbox_scan_from frees *IX on an error. */
	return mbox_scan_from(b->fd, start, now->size, ix) == MBOX_OK ? 0 : -1;
}

/* Write the extension of the index at PATH (header H as read) in place:
 * the records from KEEP on, then the header that counts them, so the
 * cost is the new records, not the whole index.  A crash between leaves
 * the old header with a file of another size: a scan.  Records of IX must
 * not be numbered yet (dup 0, as stored).  Best effort. */
static void
write_extension(struct store_box *b, const char *path,
    const struct index_head *old, const struct mbox_index *ix, size_t keep)
{
	struct index_head h = *old;
	struct stat st;
	size_t bytes = (ix->n - keep) * sizeof(struct mbox_msg);
	int fd;

	fd = trust_open_clear(path, O_RDWR, 0, b->owner, "index", &st);
	if (fd < 0)
		return;
	h.stamp = ix->stamp;
	h.count = ix->n;
	h.total = ix->total;
	h.racy = 0;
	h.sum[0] = h.sum[1] = 0;
	chain(h.sum, ix->msg, ix->n);
	if ((uint64_t)st.st_size != sizeof(h) + old->count *
	    sizeof(struct mbox_msg) ||
	    tail_hash(b->fd, h.stamp.size, h.tail) == -1) {
		close(fd);
		return;
	}
	if (pwrite(fd, ix->msg + keep, bytes, (off_t)(sizeof(h) + keep *
	    sizeof(struct mbox_msg))) != (ssize_t)bytes ||
	    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		(void)ftruncate(fd, 0);	/* unusable: the next login scans */
	close(fd);
}

int
store_index_load(struct store_box *b, struct mbox_index *ix)
{
	char path[PATH_MAX];
	struct index_head h;
	struct mbox_stamp now;
	uint64_t tail[2];
	struct stat ms;
	size_t keep = 0;
	int grown;

	memset(ix, 0, sizeof(*ix));
	if (index_path(b, path, sizeof(path), "") == -1 || fstat(b->fd, &ms) == -1)
		return -1;
	store_stamp(&ms, &now);
	if (read_index(b, path, &h, ix) == -1)
		return -1;
	/* A racy stamp may hide a change made in its clock tick. */
	grown = !store_stamp_eq(&h.stamp, &now);
	if (h.racy || (grown ? extend(b, &h, ix, &now, &keep) == -1 :
	    tail_hash(b->fd, now.size, tail) == -1 ||
	    tail[0] != h.tail[0] || tail[1] != h.tail[1])) {
		mbox_index_free(ix);
		return -1;
	}
	ix->end = now.size;
	ix->stamp = now;
	ix->racy = grown && !store_stamp_final(b, &now);
	/* The extended index, for the next login (not when the append was
	 * this very tick: that stamp may not be final). */
	if (grown && !ix->racy)
		write_extension(b, path, &h, ix, keep);
	if (mbox_index_dups(ix) != MBOX_OK) {
		mbox_index_free(ix);
		return -1;
	}
	return 0;
}

/* The index of B exactly as the file is now, or -1: its stamp must equal
 * the file's (no extension: for a check, not a login). */
int
store_index_current(struct store_box *b, struct mbox_index *ix)
{
	char path[PATH_MAX];
	struct index_head h;
	struct mbox_stamp now;
	uint64_t tail[2];
	struct stat ms;

	memset(ix, 0, sizeof(*ix));
	if (index_path(b, path, sizeof(path), "") == -1 ||
	    fstat(b->fd, &ms) == -1)
		return -1;
	store_stamp(&ms, &now);
	if (read_index(b, path, &h, ix) == -1)
		return -1;
	if (h.racy || !store_stamp_eq(&h.stamp, &now) ||
	    tail_hash(b->fd, now.size, tail) == -1 ||
	    tail[0] != h.tail[0] || tail[1] != h.tail[1]) {
		mbox_index_free(ix);
		return -1;
	}
	ix->stamp = now;
	return 0;
}

/* A new file for an index of B, its name into TMP: a fresh random name
 * made with O_EXCL, so it is ours before anything is written (a fixed
 * name opened with O_TRUNC once let root cut a file hard-linked there
 * before its check noticed the second link). */
static int
open_new(struct store_box *b, char *tmp, size_t cap)
{
	char spool[PATH_MAX];
	int fd;

	fd = store_tmp_create(store_spool(b, spool, sizeof(spool)), ".new.",
	    O_WRONLY, 0600, tmp, cap);
	if (fd < 0)
		return -1;
	/* As root (smtpd), the index is the mailbox owner's, so the owner's
	 * pop3d can replace it even in a sticky spool. */
	if (geteuid() == 0 && b->owner != 0 &&
	    fchown(fd, b->owner, (gid_t)-1) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

void
store_index_save(struct store_box *b, const struct mbox_index *ix)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct index_head h;
	struct mbox_msg *r = NULL;
	size_t i, bytes;
	int fd, ok;

	if (index_path(b, path, sizeof(path), "") == -1)
		return;
	memset(&h, 0, sizeof(h));
	h.magic = INDEX_MAGIC;
	h.version = INDEX_VERSION;
	h.recsize = sizeof(struct mbox_msg);
	h.stamp = ix->stamp;
	h.count = ix->n;
	h.total = ix->total;
	/* A racy stamp could hide a change of its own tick: such an index
	 * would never be believed, so it is not written.  (The flag stays in
	 * the format: an index of an earlier version may carry it.) */
	if (ix->racy || ix->stamp.ino == 0 ||
	    tail_hash(b->fd, ix->stamp.size, h.tail) == -1)
		return;
	bytes = ix->n * sizeof(*r);
	/* dup is not stored: it is numbered again at load. */
	if (ix->n > 0 && (r = malloc(bytes)) == NULL)
		return;
	for (i = 0; i < ix->n; i++) {
		r[i] = ix->msg[i];
		r[i].dup = 0;
	}
	chain(h.sum, r, ix->n);
	/* A whole new file, renamed into place: a crash leaves the old index
	 * or the new one, and any other mismatch costs a scan.  Not synced:
	 * an index lost to a power cut is rebuilt. */
	if ((fd = open_new(b, tmp, sizeof(tmp))) == -1) {
		free(r);
		return;
	}
	ok = pwrite(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	    (FAULT("index.written", fd), bytes == 0 ||
	    pwrite(fd, r, bytes, sizeof(h)) == (ssize_t)bytes);
	if (close(fd) == -1)
		ok = 0;
	free(r);
	if (!ok || rename(tmp, path) == -1)
		unlink(tmp);
}

void
store_index_drop(struct store_box *b)
{
	char path[PATH_MAX];

	if (index_path(b, path, sizeof(path), "") == 0)
		(void)unlink(path);
}

/* Start the index of a mailbox that was empty before our append. */
static void
index_start(struct store_box *b)
{
	struct mbox_index ix;
	struct stat ms;

	memset(&ix, 0, sizeof(ix));
	if (store_stamp_settle(b, &ms, &ix.stamp) == 0 &&
	    mbox_scan(b->fd, (uint64_t)ms.st_size, &ix) == MBOX_OK)
		store_index_save(b, &ix);
	mbox_index_free(&ix);
}

void
store_index_append(struct store_box *b, const struct stat *before)
{
	char path[PATH_MAX];
	struct mbox_index add;
	struct index_head h;
	struct mbox_stamp was;
	struct stat st, ms;
	size_t bytes;
	int fd;

	if (index_path(b, path, sizeof(path), "") == -1)
		return;
	store_stamp(before, &was);
	if (was.size == 0) {
		index_start(b);
		return;
	}
	/* Only an index of the mailbox exactly as it was before our append,
	 * with a final stamp, is carried on; any other is left for the next
	 * login to extend or replace.  Only a whole message of ours goes in:
	 * the file ended in an empty line, so the messages before keep their
	 * records.  Our own write is the file's last change, so its tick is
	 * waited out, under the lock, before the new stamp is taken. */
	memset(&add, 0, sizeof(add));
	fd = trust_open_clear(path, O_RDWR, 0, b->owner, "index", &st);
	if (fd < 0)
		return;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != INDEX_MAGIC || h.version != INDEX_VERSION ||
	    h.recsize != sizeof(struct mbox_msg) || h.racy ||
	    (uint64_t)st.st_size != sizeof(h) + h.count * sizeof(struct mbox_msg) ||
	    !store_stamp_eq(&h.stamp, &was) ||
	    store_stamp_settle(b, &ms, &h.stamp) == -1 ||
	    mbox_scan_from(b->fd, was.size, (uint64_t)ms.st_size, &add) != MBOX_OK ||
	    h.count + add.n > MBOX_MSGS_MAX ||
	    tail_hash(b->fd, h.stamp.size, h.tail) == -1) {
		close(fd);
		mbox_index_free(&add);
		return;
	}
	bytes = add.n * sizeof(struct mbox_msg);
	chain(h.sum, add.msg, add.n);
	h.count += add.n;
	h.total += add.total;
	/* The records first, then the header that counts them: a crash
	 * between leaves a header of the old state, which no longer matches
	 * the mailbox, and costs a scan. */
	if (pwrite(fd, add.msg, bytes, (off_t)(st.st_size)) != (ssize_t)bytes ||
	    (FAULT("index.records", fd), pwrite(fd, &h, sizeof(h), 0)) !=
	    (ssize_t)sizeof(h))
		(void)ftruncate(fd, 0);	/* unusable: the next login scans */
	close(fd);
	mbox_index_free(&add);
}
