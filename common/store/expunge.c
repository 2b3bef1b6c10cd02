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

/* The index of the mailbox after an expunge that removed the messages I
 * with DEL[I] from IX and kept nothing else: the kept records, moved up.
 * Best effort: a failure leaves an index that no longer matches. */
static void
new_index(struct store_box *b, const struct mbox_index *ix,
    const unsigned char *del)
{
	struct mbox_index nx;
	struct stat st;
	uint64_t moved = 0, span;
	size_t i;

	memset(&nx, 0, sizeof(nx));
	if (fstat(b->fd, &st) == -1 ||
	    (nx.msg = malloc((ix->n + 1) * sizeof(*nx.msg))) == NULL)
		return;
	for (i = 0; i < ix->n; i++) {
		span = (i + 1 < ix->n ? ix->msg[i + 1].off : ix->end) -
		    ix->msg[i].off;
		if (del[i]) {
			moved += span;
			continue;
		}
		nx.msg[nx.n] = ix->msg[i];
		nx.msg[nx.n].off -= moved;
		nx.total += ix->msg[i].size;
		nx.n++;
	}
	nx.end = (uint64_t)st.st_size;
	store_stamp(&st, &nx.stamp);
	nx.racy = 1;	/* our own change, this instant */
	store_index_save(b, &nx);
	mbox_index_free(&nx);
}

int
store_expunge(struct store_box *b, const struct mbox_index *ix,
    const unsigned char *del)
{
	char path[PATH_MAX], spool[PATH_MAX], head[JOURNAL_HEAD], *buf;
	uint64_t x, jlen = 0, from, to, tail;
	size_t i, first;
	int jfd, e = STORE_OK, lastdel, appended;
	struct mbox_stamp now;
	struct stat st;

	for (first = 0; first < ix->n && !del[first]; first++)
		;
	if (first == ix->n)
		return STORE_OK;
	store_spool(b, spool, sizeof(spool));
	if ((buf = malloc(JOURNAL_CHUNK)) == NULL) {
		log_warnx("mailbox=%s expunge: out of memory", b->path);
		return STORE_EIO;
	}
	/* Unchanged since the scan (the same inode, size and times: no
	 * writer can keep ctime) needs no reading; otherwise every message
	 * from the first we change on must still hash as scanned. */
	if (fstat(b->fd, &st) == -1) {
		free(buf);
		return STORE_EIO;
	}
	store_stamp(&st, &now);
	if ((ix->stamp.ino == 0 || ix->racy || !store_stamp_eq(&now, &ix->stamp)) &&
	    verify(b, ix, first, buf) == -1) {
		log_warnx("mailbox=%s changed since the scan, nothing removed",
		    b->path);
		free(buf);
		return STORE_ECHANGED;
	}
	x = ix->msg[first].off;
	for (i = first; i < ix->n && del[i]; i++)
		;
	/* Only a tail goes and nothing came after the scan: cut it off. */
	if (i == ix->n && b->size == ix->end) {
		free(buf);
		FAULT("expunge.truncate", b->fd);
		if (ftruncate(b->fd, (off_t)x) == -1 || fsync(b->fd) == -1) {
			log_warn("mailbox=%s expunge truncate", b->path);
			return store_errno(errno);
		}
		b->size = x;
		new_index(b, ix, del);
		return STORE_OK;
	}

	if (journal_path(b, path, sizeof(path)) == -1) {
		log_warnx("mailbox=%s journal path too long", b->path);
		free(buf);
		return STORE_ENAME;
	}
	/* O_EXCL: recovery ran under this lock, so a journal still there is
	 * one we did not trust (journal_recover logged it). */
	jfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (jfd == -1) {
		e = errno;
		log_warn("journal=%s create", path);
		free(buf);
		return e == EEXIST || e == ELOOP ? STORE_ETRUST : store_errno(e);
	}
	/* 1. The new content from X on: kept messages, then what arrived after
	 * the scan.  A header of zeros until it is complete. */
	memset(head, 0, sizeof(head));
	if (pwrite(jfd, head, JOURNAL_HEAD, 0) != JOURNAL_HEAD)
		goto jfail;
	for (i = first; i < ix->n; i++) {
		if (del[i])
			continue;
		from = ix->msg[i].off;
		to = i + 1 < ix->n ? ix->msg[i + 1].off : ix->end;
		if (journal_copy(b, b->fd, from, jfd, JOURNAL_HEAD + jlen,
		    to - from, buf) == -1)
			goto jfail;
		jlen += to - from;
	}
	tail = ix->end;
	lastdel = del[ix->n - 1];
	/* The deleted last message may have lent its closing blank line to mail
	 * appended after it; what we put at X already follows an empty line. */
	while (lastdel && tail < b->size && tail - ix->end < 2 &&
	    pread(b->fd, buf, 1, (off_t)tail) == 1 && buf[0] == '\n')
		tail++;
	if (journal_copy(b, b->fd, tail, jfd, JOURNAL_HEAD + jlen,
	    b->size - tail, buf) == -1)
		goto jfail;
	jlen += b->size - tail;
	if (fsync(jfd) == -1 || fstat(b->fd, &st) == -1)
		goto jfail;
	FAULT("expunge.journaled", b->fd);
	/* 2. Commit: the header says the journal is whole.  From here on the
	 * expunge happens, whether we finish it or the next locker does. */
	snprintf(head, sizeof(head), "inetmail-redo 1 %llu %llu %llu %llu %llu\n",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	    (unsigned long long)x, (unsigned long long)jlen,
	    (unsigned long long)b->size);
	if (pwrite(jfd, head, JOURNAL_HEAD, 0) != JOURNAL_HEAD || fsync(jfd) == -1)
		goto jfail;
	/* The journal's name must outlive a power cut too. */
	(void)sync_dir(spool);
	FAULT("expunge.committed", b->fd);
	/* 3. Apply, 4. forget the journal. */
	if (journal_apply(b, jfd, x, jlen, buf) == -1) {
		/* The journal stays: the next locker replays it. */
		e = STORE_EIO;
	} else {
		appended = b->size != ix->end;
		b->size = x + jlen;
		FAULT("expunge.applied", b->fd);
		if (unlink(path) == -1)
			log_warn("journal=%s unlink", path);
		(void)sync_dir(spool);
		/* The kept messages moved; mail appended since the scan is not
		 * in IX: then the next login scans. */
		if (appended)
			store_index_drop(b);
		else
			new_index(b, ix, del);
	}
	close(jfd);
	free(buf);
	return e;
jfail:
	e = store_errno(errno);
	log_warn("journal=%s write", path);
	close(jfd);
	unlink(path);
	free(buf);
	return e;
}
