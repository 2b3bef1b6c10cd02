/* index.c: the index of a mailbox, SPOOL/.NAME.idx: what a scan found (the
 * message records) and the state of the file it found it in, so a login
 * reads the records instead of the whole mailbox: a full scan of a big one
 * costs as much as reading it, and most logins find nothing new.  The index is
 * a cache, never the truth: it is believed only when the mailbox is exactly
 * as it last saw it (inode, size, mtime, ctime: no other writer can keep
 * ctime), when it is a file we trust (trust.h), and when its records pass
 * their checksum and bounds; anything else costs a scan and a new index.
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

/* File times come from a coarse clock (a tick of up to 10 ms on older
 * kernels): a change within the same tick as the last one keeps ctime.  A
 * stamp taken that close to a change is "racy": the index it goes with is
 * still checked against the mailbox's last bytes, and an expunge does not
 * skip its check on the strength of it. */
#define RACY_NS		(100 * 1000000LL)
#define RACY_COARSE_NS	(2 * 1000000000LL)
#define TAIL		4096

void
store_stamp(const struct stat *st, struct mbox_stamp *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->ino = (uint64_t)st->st_ino;
	sp->size = (uint64_t)st->st_size;
	sp->mtime = (int64_t)st->st_mtim.tv_sec;
	sp->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
	sp->ctime = (int64_t)st->st_ctim.tv_sec;
	sp->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
}

int
store_stamp_racy(const struct mbox_stamp *sp)
{
	struct timespec now;
	int64_t d;

	clock_gettime(CLOCK_REALTIME, &now);
	d = ((int64_t)now.tv_sec - sp->ctime) * 1000000000LL +
	    ((int64_t)now.tv_nsec - sp->ctime_ns);
	/* Whole seconds in both times: a file system that keeps times to
	 * the second (ext3, some NFS servers), where a tick is a second. */
	if (sp->ctime_ns == 0 && sp->mtime_ns == 0)
		return d < RACY_COARSE_NS;
	return d < RACY_NS;
}

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

int
store_stamp_eq(const struct mbox_stamp *a, const struct mbox_stamp *b)
{
	return a->ino == b->ino && a->size == b->size && a->mtime == b->mtime &&
	    a->mtime_ns == b->mtime_ns && a->ctime == b->ctime &&
	    a->ctime_ns == b->ctime_ns;
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

int
store_index_load(struct store_box *b, struct mbox_index *ix)
{
	char path[PATH_MAX];
	struct index_head h;
	struct stat st, ms;
	struct mbox_stamp now;
	uint64_t sum[2] = { 0, 0 }, tail[2], total;
	size_t bytes;
	ssize_t r;
	int fd;

	if (index_path(b, path, sizeof(path), "") == -1 || fstat(b->fd, &ms) == -1)
		return -1;
	/* Under the lock: a planted one is removed when we may (as root),
	 * else it costs a scan until a login clears it (store_clear). */
	fd = trust_open_clear(path, O_RDONLY, 0, b->owner, "index", &st);
	if (fd < 0)
		return -1;	/* none, or planted (logged): a scan */
	store_stamp(&ms, &now);
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != INDEX_MAGIC || h.version != INDEX_VERSION ||
	    h.recsize != sizeof(struct mbox_msg) || h.count > MBOX_MSGS_MAX ||
	    (uint64_t)st.st_size != sizeof(h) + h.count * sizeof(struct mbox_msg) ||
	    !store_stamp_eq(&h.stamp, &now) ||
	    tail_hash(b->fd, now.size, tail) == -1 ||
	    tail[0] != h.tail[0] || tail[1] != h.tail[1]) {
		close(fd);
		return -1;	/* stale or not ours: a scan */
	}
	bytes = (size_t)h.count * sizeof(struct mbox_msg);
	memset(ix, 0, sizeof(*ix));
	if (h.count > 0 && (ix->msg = malloc(bytes)) == NULL) {
		close(fd);
		return -1;
	}
	r = bytes > 0 ? pread(fd, ix->msg, bytes, sizeof(h)) : 0;
	close(fd);
	if (r != (ssize_t)bytes)
		goto bad;
	chain(sum, ix->msg, (size_t)h.count);
	if (sum[0] != h.sum[0] || sum[1] != h.sum[1] ||
	    !sane(ix->msg, (size_t)h.count, now.size, &total) || total != h.total)
		goto bad;
	ix->n = ix->cap = (size_t)h.count;
	ix->end = now.size;
	ix->total = total;
	ix->stamp = now;
	ix->racy = h.racy != 0;
	if (mbox_index_dups(ix) != MBOX_OK)
		goto bad;
	return 0;
bad:
	log_warnx("index=%s does not hold together, a scan replaces it", path);
	mbox_index_free(ix);
	return -1;
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
	h.racy = ix->racy || store_stamp_racy(&ix->stamp);
	if (tail_hash(b->fd, ix->stamp.size, h.tail) == -1)
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

	if (index_path(b, path, sizeof(path), "") == -1 || fstat(b->fd, &ms) == -1)
		return;
	store_stamp(before, &was);
	memset(&add, 0, sizeof(add));
	if (was.size == 0) {
		/* A new or empty mailbox: the index starts here. */
		if (mbox_scan(b->fd, (uint64_t)ms.st_size, &add) == MBOX_OK) {
			store_stamp(&ms, &add.stamp);
			add.racy = 1;
			store_index_save(b, &add);
		}
		mbox_index_free(&add);
		return;
	}
	/* Only an index of the mailbox exactly as it was before our append
	 * is carried on; any other is left stale for the next login to
	 * replace.  Only a whole message of ours goes in: the file ended in
	 * an empty line, so the messages before keep their records. */
	fd = trust_open_clear(path, O_RDWR, 0, b->owner, "index", &st);
	if (fd < 0)
		return;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != INDEX_MAGIC || h.version != INDEX_VERSION ||
	    h.recsize != sizeof(struct mbox_msg) ||
	    (uint64_t)st.st_size != sizeof(h) + h.count * sizeof(struct mbox_msg) ||
	    !store_stamp_eq(&h.stamp, &was) ||
	    mbox_scan_from(b->fd, was.size, (uint64_t)ms.st_size, &add) != MBOX_OK ||
	    h.count + add.n > MBOX_MSGS_MAX) {
		close(fd);
		mbox_index_free(&add);
		return;
	}
	bytes = add.n * sizeof(struct mbox_msg);
	chain(h.sum, add.msg, add.n);
	h.count += add.n;
	h.total += add.total;
	store_stamp(&ms, &h.stamp);
	/* Our own write is the file's last change: racy by definition. */
	h.racy = 1;
	if (tail_hash(b->fd, h.stamp.size, h.tail) == -1) {
		close(fd);
		mbox_index_free(&add);
		return;
	}
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
