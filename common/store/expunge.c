/* expunge.c: removing messages from a mailbox crash-safely, in place, with a
 * redo journal (journal.c).  Runs as the mailbox owner (pop3d after login).
 *
 * The inode is kept (other programs, Python's mailbox module among them, may
 * hold the file open across their locks), so the new content is written over
 * the old.  To survive a crash at any instant, the new content from the first
 * deleted message on is first written to SPOOL/.NAME.redo and made durable;
 * only then is a header marking it complete written and synced, and only then
 * is the mailbox touched.  Whoever locks the mailbox next finds a complete
 * journal and replays it (replay is idempotent), or an incomplete one and
 * deletes it (the mailbox was never touched).  DESIGN.md has the analysis. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params.h"
#include "log.h"
#include "store.h"
#include "store_int.h"

/* Messages up to this size are checked from reads of JOURNAL_CHUNK that
 * take many at once; a bigger one alone, reading its header only. */
#define VERIFY_SMALL	(16 * 1024)

/* The maildrop must still hold what was scanned: every message from the
 * first one we change on starts where it did, with the same bytes (its
 * UIDL hash, taken as the scan took it: without a final LF).  BUF has
 * JOURNAL_CHUNK bytes.  A DELE of every message of a maildrop of small
 * ones cost two preads a message before: now it reads the file in pieces
 * of a MiB. */
static int
verify(struct store_box *b, const struct mbox_index *ix, size_t first, char *buf)
{
	uint64_t h[2], norm, base = 0, got = 0, want;
	const char *p;
	ssize_t r;
	size_t i;
	char last;

	if (b->size < ix->end)
		return -1;
	for (i = first; i < ix->n; i++) {
		const struct mbox_msg *m = &ix->msg[i];

		if ((m->off < base || m->off + m->len > base + got) &&
		    m->len <= VERIFY_SMALL) {
			want = ix->end - m->off;
			if (want > JOURNAL_CHUNK)
				want = JOURNAL_CHUNK;
			if ((r = pread(b->fd, buf, (size_t)want, (off_t)m->off)) <
			    (ssize_t)m->len)
				return -1;
			base = m->off;
			got = (uint64_t)r;
		}
		if (m->off >= base && m->off + m->len <= base + got) {
			p = buf + (m->off - base);
			norm = m->len - (p[m->len - 1] == '\n');
			if (mbox_uidl_hash(b->fd, m->off, norm, p,
			    (size_t)(base + got - m->off), h) == -1)
				return -1;
		} else {
			if (pread(b->fd, &last, 1, (off_t)(m->off + m->len - 1)) != 1)
				return -1;
			norm = m->len - (last == '\n');
			if (mbox_uidl_hash(b->fd, m->off, norm, NULL, 0, h) == -1)
				return -1;
		}
		if (h[0] != m->hash[0] || h[1] != m->hash[1])
			return -1;
	}
	return 0;
}

/* The index of the mailbox after an expunge that removed the messages I <
 * NDEL with DEL[I] from BASE: the kept records, moved up.  BASE describes
 * the file as it was just before the expunge; its records from NDEL on are
 * mail appended after the scan (at END), which moved up by the deleted
 * spans and the SKIPPED blank bytes.  The stamp is taken once the clock
 * tick of our own change is over; without one (seconds-only times) the
 * index goes, and the next login scans.  Best effort. */
static void
new_index(struct store_box *b, const struct mbox_index *base,
    const unsigned char *del, size_t ndel, uint64_t end, uint64_t skipped)
{
	struct mbox_index nx;
	struct stat st;
	uint64_t moved = 0, span;
	size_t i;

	memset(&nx, 0, sizeof(nx));
	if (store_stamp_settle(b, &st, &nx.stamp) == -1 ||
	    (nx.msg = malloc((base->n + 1) * sizeof(*nx.msg))) == NULL) {
		store_index_drop(b);
		return;
	}
	for (i = 0; i < base->n; i++) {
		if (i < ndel) {
			span = (i + 1 < ndel ? base->msg[i + 1].off : end) -
			    base->msg[i].off;
			if (del[i]) {
				moved += span;
				continue;
			}
		}
		nx.msg[nx.n] = base->msg[i];
		nx.msg[nx.n].off -= moved + (i < ndel ? 0 : skipped);
		nx.total += base->msg[i].size;
		nx.n++;
	}
	nx.end = (uint64_t)st.st_size;
	store_index_save(b, &nx);
	mbox_index_free(&nx);
}

/* 1 when the first N records of A and B describe the same messages. */
static int
same_records(const struct mbox_index *a, const struct mbox_index *b, size_t n)
{
	size_t i;

	if (a->n < n || b->n < n)
		return 0;
	for (i = 0; i < n; i++)
		if (a->msg[i].off != b->msg[i].off ||
		    a->msg[i].len != b->msg[i].len ||
		    a->msg[i].size != b->msg[i].size ||
		    a->msg[i].fromlen != b->msg[i].fromlen ||
		    a->msg[i].hash[0] != b->msg[i].hash[0] ||
		    a->msg[i].hash[1] != b->msg[i].hash[1])
			return 0;
	return 1;
}

/* One expunge under way: B's maildrop as scanned (IX) and what goes (DEL),
 * the first message that changes and its offset X, and the journal. */
struct expunge {
	struct store_box	*b;
	const struct mbox_index	*ix;
	const unsigned char	*del;
	size_t			 first;
	uint64_t		 x;		/* where the new content starts */
	uint64_t		 jlen;		/* journal data bytes */
	int			 jfd;
	char			 path[PATH_MAX];	/* the journal */
	char			 spool[PATH_MAX];
	char			*buf;		/* JOURNAL_CHUNK bytes */
	uint64_t		 skipped;	/* blank bytes left out after
						   the scan's end */
	/* What the new index is made from: IX when the file is as scanned;
	 * else the index of the file as it is (smtpd kept it on while we
	 * were unlocked) when its first records are IX's; else none, and
	 * the index goes. */
	const struct mbox_index	*base;
	struct mbox_index	 cur;
};

/* Step 1: the maildrop must still hold what was scanned.  Unchanged since
 * the scan (the same inode, size and times: no writer can keep ctime)
 * needs no reading; otherwise every message from the first we change on
 * must still hash as scanned. */
static int
check_unchanged(struct expunge *e)
{
	struct mbox_stamp now;
	struct stat st;

	if (fstat(e->b->fd, &st) == -1)
		return STORE_EIO;
	store_stamp(&st, &now);
	if (e->ix->stamp.ino != 0 && !e->ix->racy &&
	    store_stamp_eq(&now, &e->ix->stamp)) {
		e->base = e->ix;
		return STORE_OK;
	}
	if (verify(e->b, e->ix, e->first, e->buf) == -1) {
		log_warnx("mailbox=%s changed since the scan, nothing removed",
		    e->b->path);
		return STORE_ECHANGED;
	}
	/* Changed, and the check above covers only what we are about to
	 * move: an index of our scan would describe messages before the
	 * first deleted one that someone may have rewritten.  Only an index
	 * that describes the file as it is now may be carried on. */
	if (store_index_current(e->b, &e->cur) == 0) {
		if (same_records(&e->cur, e->ix, e->ix->n))
			e->base = &e->cur;
		else
			mbox_index_free(&e->cur);
	}
	return STORE_OK;
}

/* The index after the expunge, from E's base, or none. */
static void
carry_index(struct expunge *e)
{
	if (e->base == NULL)
		store_index_drop(e->b);
	else
		new_index(e->b, e->base, e->del, e->ix->n, e->ix->end,
		    e->skipped);
}

/* Step 2: only a tail goes and nothing came after the scan: cut it off.
 * The spool directory is synced first, so that the removal of every
 * earlier dotlock is on disk before the file is shorter: a delivery's
 * dotlock that came back after a power cut would otherwise find the file
 * inside the append it records (SIZE < size < SIZE + LEN) once a later
 * delivery has grown it again, and cut that delivery.  (The journal's
 * commit syncs the directory before its apply for the same reason.) */
static int
cut_tail(struct expunge *e)
{
	if (sync_dir(e->spool) == -1 && errno != EINVAL) {
		log_warn("mailbox=%s expunge: fsync of the spool", e->b->path);
		return STORE_EIO;
	}
	FAULT("expunge.truncate", e->b->fd);
	if (ftruncate(e->b->fd, (off_t)e->x) == -1 || fsync(e->b->fd) == -1) {
		log_warn("mailbox=%s expunge truncate", e->b->path);
		return store_errno(errno);
	}
	e->b->size = e->x;
	carry_index(e);
	return STORE_OK;
}

/* Step 3: the new content from X on into the journal, after a header of
 * zeros: the kept messages, then what arrived after the scan.  Synced.
 * Returns 0, or -1 (errno). */
static int
journal_write(struct expunge *e)
{
	const struct mbox_index *ix = e->ix;
	struct store_box *b = e->b;
	uint64_t from, to, tail;
	size_t i;

	memset(e->buf, 0, JOURNAL_HEAD);
	if (pwrite(e->jfd, e->buf, JOURNAL_HEAD, 0) != JOURNAL_HEAD)
		return -1;
	for (i = e->first; i < ix->n; i++) {
		if (e->del[i])
			continue;
		from = ix->msg[i].off;
		to = i + 1 < ix->n ? ix->msg[i + 1].off : ix->end;
		if (journal_copy(b, b->fd, from, e->jfd, JOURNAL_HEAD + e->jlen,
		    to - from, e->buf) == -1)
			return -1;
		e->jlen += to - from;
	}
	/* The deleted last message may have lent its closing blank line to
	 * mail appended after it; what we put at X already follows an empty
	 * line. */
	tail = ix->end;
	while (e->del[ix->n - 1] && tail < b->size && tail - ix->end < 2 &&
	    pread(b->fd, e->buf, 1, (off_t)tail) == 1 && e->buf[0] == '\n')
		tail++;
	e->skipped = tail - ix->end;
	if (journal_copy(b, b->fd, tail, e->jfd, JOURNAL_HEAD + e->jlen,
	    b->size - tail, e->buf) == -1)
		return -1;
	e->jlen += b->size - tail;
	return fsync(e->jfd);
}

/* Step 4, the commit: the header says the journal is whole.  From here on
 * the expunge happens, whether we finish it or the next locker does.
 * Returns 0, or -1 (errno). */
static int
journal_commit(struct expunge *e)
{
	char head[JOURNAL_HEAD];
	struct stat st;

	if (fstat(e->b->fd, &st) == -1)
		return -1;
	FAULT("expunge.journaled", e->b->fd);
	memset(head, 0, sizeof(head));
	snprintf(head, sizeof(head), "inetmail-redo 1 %llu %llu %llu %llu %llu\n",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	    (unsigned long long)e->x, (unsigned long long)e->jlen,
	    (unsigned long long)e->b->size);
	if (pwrite(e->jfd, head, JOURNAL_HEAD, 0) != JOURNAL_HEAD ||
	    fsync(e->jfd) == -1)
		return -1;
	/* The journal's name must outlive a power cut too. */
	(void)sync_dir(e->spool);
	FAULT("expunge.committed", e->b->fd);
	return 0;
}

/* Steps 5 and 6: apply the journal, then forget it.  A failed apply
 * leaves the journal for the next locker, who replays it. */
static int
apply(struct expunge *e)
{
	struct store_box *b = e->b;

	if (journal_apply(b, e->jfd, e->x, e->jlen, e->buf) == -1)
		return STORE_EIO;
	b->size = e->x + e->jlen;
	FAULT("expunge.applied", b->fd);
	if (unlink(e->path) == -1)
		log_warn("journal=%s unlink", e->path);
	(void)sync_dir(e->spool);
	/* The kept messages moved; mail appended since the scan moved with
	 * them, and is in the base only when smtpd kept the index on. */
	carry_index(e);
	return STORE_OK;
}

/* Steps 3 to 6, through the journal. */
static int
through_journal(struct expunge *e)
{
	int r;

	if (journal_path(e->b, e->path, sizeof(e->path)) == -1) {
		log_warnx("mailbox=%s journal path too long", e->b->path);
		return STORE_ENAME;
	}
	/* O_EXCL: recovery ran under this lock, so a journal still there is
	 * one we did not trust (journal_recover logged it). */
	e->jfd = open(e->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (e->jfd == -1) {
		r = errno;
		log_warn("journal=%s create", e->path);
		return r == EEXIST || r == ELOOP ? STORE_ETRUST : store_errno(r);
	}
	if (journal_write(e) == -1 || journal_commit(e) == -1) {
		r = store_errno(errno);
		log_warn("journal=%s write", e->path);
		close(e->jfd);
		unlink(e->path);
		return r;
	}
	r = apply(e);
	close(e->jfd);
	return r;
}

int
store_expunge(struct store_box *b, const struct mbox_index *ix,
    const unsigned char *del)
{
	struct expunge e;
	size_t i;
	int r;

	memset(&e, 0, sizeof(e));
	e.b = b;
	e.ix = ix;
	e.del = del;
	e.jfd = -1;
	for (e.first = 0; e.first < ix->n && !del[e.first]; e.first++)
		;
	if (e.first == ix->n)
		return STORE_OK;
	store_spool(b, e.spool, sizeof(e.spool));
	if ((e.buf = malloc(JOURNAL_CHUNK)) == NULL) {
		log_warnx("mailbox=%s expunge: out of memory", b->path);
		return STORE_EIO;
	}
	if ((r = check_unchanged(&e)) == STORE_OK) {
		e.x = ix->msg[e.first].off;
		for (i = e.first; i < ix->n && del[i]; i++)
			;
		if (i == ix->n && b->size == ix->end)
			r = cut_tail(&e);
		else
			r = through_journal(&e);
	}
	free(e.buf);
	mbox_index_free(&e.cur);
	return r;
}
