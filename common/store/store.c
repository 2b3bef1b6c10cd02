/* store.c: opening and locking mailboxes, recovering a dead holder's work,
 * and the POP3 session marker.  Runs as whoever calls it; it never needs
 * root, but as root it gives a new mailbox to its user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "lock.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "trust.h"

static int
set_paths(struct store_box *b, const char *spool, const char *name)
{
	int n, m;

	n = snprintf(b->path, sizeof(b->path), "%s/%s", spool, name);
	m = snprintf(b->lock, sizeof(b->lock), "%s/%s.lock", spool, name);
	if (n < 0 || m < 0 || (size_t)m >= sizeof(b->lock))
		return -1;
	b->namepos = strlen(spool) + 1;
	return 0;
}

/* Create the missing mailbox: 0600, as root given to its user.  It is made
 * under a hidden name, given away, and only then linked into place, so no
 * one ever sees it under its own name before it is its user's (a login
 * racing the delivery would otherwise find a root-owned file).  Returns
 * the descriptor, -1 (logged) or -2 when someone made it meanwhile. */
static int
create_file(struct store_box *b, gid_t group)
{
	char tmp[PATH_MAX], spool[PATH_MAX];
	struct stat st;
	int fd, r, e;

	/* Not root, we can only make files of our own. */
	if (geteuid() != 0 && b->owner != geteuid()) {
		log_warnx("mailbox=%s missing, and uid=%ld cannot create one for "
		    "uid=%ld", b->path, (long)geteuid(), (long)b->owner);
		errno = EPERM;
		return -1;
	}
	fd = store_tmp_create(store_spool(b, spool, sizeof(spool)), ".new.",
	    O_RDWR, 0600, tmp, sizeof(tmp));
	if (fd == -1) {
		log_warn("mailbox=%s create", b->path);
		return -1;
	}
	if (b->owner != geteuid() && fchown(fd, b->owner, group) == -1) {
		log_warn("mailbox=%s chown", b->path);
		close(fd);
		unlink(tmp);
		return -1;
	}
	r = link(tmp, b->path);
	e = errno;
	/* link() may succeed on an NFS server yet report failure: our
	 * file's link count is the truth. */
	if (fstat(fd, &st) == 0 && st.st_nlink == 2)
		r = 0;
	unlink(tmp);
	if (r == -1) {
		close(fd);
		if (e == EEXIST)
			return -2;
		errno = e;
		log_warn("mailbox=%s create", b->path);
		return -1;
	}
	/* The new name must outlive a power cut like the message that will
	 * be fsync'ed into it: the spool directory is synced once, here.
	 * EINVAL: a file system that cannot fsync a directory. */
	if (sync_dir(store_spool(b, tmp, sizeof(tmp))) == -1 &&
	    errno != EINVAL) {
		log_warn("mailbox=%s create: fsync of the spool", b->path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Open the mailbox file itself: no symlink, a regular file with one link,
 * owned by its user; created when missing and CREATE is set. */
static int
open_file(struct store_box *b, gid_t group, int create)
{
	struct stat ls, fs;
	int fd, e;

	/* lstat first: never open a device or a FIFO planted as a mailbox. */
	if (lstat(b->path, &ls) == -1) {
		if (errno != ENOENT) {
			log_warn("mailbox=%s lstat", b->path);
			return STORE_EIO;
		}
		if (!create)
			return STORE_ENOENT;
		memset(&ls, 0, sizeof(ls));	/* nothing looked at before */
		fd = create_file(b, group);
		if (fd == -2)
			return open_file(b, group, 0);	/* made meanwhile */
		if (fd == -1)
			return store_errno(errno);
	} else {
		if (!S_ISREG(ls.st_mode) || ls.st_nlink != 1) {
			log_warnx("mailbox=%s not a regular file with one link",
			    b->path);
			return STORE_ETYPE;
		}
		fd = open(b->path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC);
		if (fd == -1) {
			e = errno;
			log_warn("mailbox=%s open", b->path);
			return e == ELOOP ? STORE_ETYPE : STORE_EIO;
		}
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	}
	/* The file we opened must be the one we looked at (a swap between
	 * the lstat and the open is refused), and it must be its user's: a
	 * file another user made under that name is never written to or
	 * served, as procmail and mail.local refuse it: in a sticky spool any
	 * local user could otherwise make a file that collects a victim's
	 * mail. */
	if (fstat(fd, &fs) == -1 || !S_ISREG(fs.st_mode) || fs.st_nlink != 1 ||
	    (ls.st_ino != 0 && (fs.st_dev != ls.st_dev || fs.st_ino != ls.st_ino))) {
		log_warnx("mailbox=%s changed while opening", b->path);
		close(fd);
		return STORE_ETYPE;
	}
	if (fs.st_uid != b->owner) {
		log_warnx("mailbox=%s owned by uid=%ld, not its user uid=%ld: "
		    "neither written nor served", b->path, (long)fs.st_uid,
		    (long)b->owner);
		close(fd);
		return STORE_EOWNER;
	}
	b->fd = fd;
	b->dev = fs.st_dev;
	b->ino = fs.st_ino;
	return STORE_OK;
}

/* Did the multi-mailbox delivery with commit marker TXN commit?  Only a
 * marker that is surely absent, or one we do not trust, means "no". */
static int
committed(const struct store_box *b, const char *txn)
{
	char marker[PATH_MAX];
	int fd;

	if (snprintf(marker, sizeof(marker), "%.*s/%s", (int)(b->namepos - 1),
	    b->path, txn) >= (int)sizeof(marker))
		return 1;
	fd = trust_open(marker, O_RDONLY, 0, b->owner, "commit marker", NULL);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return fd == -1 && errno != ENOENT;
}

/* Undo a dead writer's unfinished append recorded in its dotlock R (read
 * from a lock file we trust).  Only a torn message (some but not all of its
 * LEN bytes) is cut off.  A whole one stays, unless it belongs to a
 * multi-mailbox delivery that never committed.  When the file grew past
 * SIZE + LEN, someone who ignored the dotlock appended after it: we cannot
 * tell the bytes apart, so nothing is cut and the admin is told.
 * Returns 1 when the file was cut, 0 when not, -1 on an error. */
static int
undo_append(struct store_box *b, const struct lockrec *r)
{
	struct stat st;
	uint64_t size;

	if (!r->append || fstat(b->fd, &st) == -1)
		return 0;
	size = (uint64_t)st.st_size;
	if (size <= r->size)
		return 0;
	/* The record is about another file.  Only the inode number counts:
	 * the record may come from another host of a cluster, whose mount of
	 * the same volume has a st_dev of its own (contrib/cluster). */
	if (r->ino != (unsigned long long)st.st_ino)
		return 0;
	if (size > r->size + r->len) {
		log_warnx("mailbox=%s grew past a dead writer's append (pid=%ld "
		    "size=%llu len=%llu now=%llu), nothing cut", b->path, r->pid,
		    (unsigned long long)r->size, (unsigned long long)r->len,
		    (unsigned long long)size);
		return 0;
	}
	if (size == r->size + r->len && (r->txn[0] == '\0' ||
	    committed(b, r->txn))) {
		log_info("mailbox=%s recovered=kept bytes=%llu pid=%ld", b->path,
		    (unsigned long long)r->len, r->pid);
		return 0;
	}
	if (ftruncate(b->fd, (off_t)r->size) == -1 || fsync(b->fd) == -1) {
		log_warn("mailbox=%s undo torn append", b->path);
		return -1;
	}
	log_info("mailbox=%s recovered=truncated size=%llu pid=%ld", b->path,
	    (unsigned long long)r->size, r->pid);
	return 1;
}

/* The removal of B's dotlock, whose record told us to cut an append, on
 * disk: after a power cut it must not come back, for the file may by then
 * have grown into the append it records again, with mail that got a 250
 * (see cut_tail in expunge.c).  Returns 0 or -1. */
static int
sync_break(struct store_box *b)
{
	char spool[PATH_MAX];

	return sync_dir(store_spool(b, spool, sizeof(spool))) == -1 &&
	    errno != EINVAL ? -1 : 0;
}

/* Take the fcntl lock, then the dotlock, both without blocking; when the
 * dotlock is busy let go of both and retry, so two lockers never hold one
 * each.  Bounded by LOCK_WAIT_MS, whatever file is in the way. */
static int
take_locks(struct store_box *b)
{
	long deadline = store_now_ms() + store_lock_wait_ms;
	struct lockrec old;
	int r, cut, untrusted = 0;

	for (;;) {
		r = lock_fcntl(b->fd);
		if (r == -1) {
			log_warn("mailbox=%s fcntl lock", b->path);
			return STORE_EIO;
		}
		if (r == 0) {
			r = dotlock_take(b->lock, b->owner, &old, &untrusted,
			    &b->lockfd);
			if (r == DOTLOCK_TAKEN)
				break;
			if (r == DOTLOCK_STALE) {
				/* Its holder is gone and we hold the kernel
				 * lock: finish its business, then take over. */
				if ((cut = undo_append(b, &old)) == -1) {
					unlock_fcntl(b->fd);
					return STORE_EIO;
				}
				log_info("dotlock=%s broken=stale pid=%ld", b->lock,
				    old.pid);
				if (dotlock_break(b->lock) == -1 ||
				    (cut && sync_break(b) == -1)) {
					log_warn("dotlock=%s break", b->lock);
					unlock_fcntl(b->fd);
					return STORE_ELOCK;
				}
				if (store_now_ms() < deadline)
					continue;
				r = DOTLOCK_BUSY;	/* out of time */
			}
			unlock_fcntl(b->fd);
			if (r == DOTLOCK_ERROR) {
				log_warn("dotlock=%s create", b->lock);
				return STORE_EIO;
			}
		}
		if (store_now_ms() >= deadline) {
			log_warnx("mailbox=%s lock timeout ms=%d", b->path,
			    store_lock_wait_ms);
			return STORE_ELOCK;
		}
		store_sleep_ms(LOCK_RETRY_MS);
	}
	b->locked = 1;
	b->touched = time(NULL);
	return STORE_OK;
}

int
store_release(struct store_box *b)
{
	int r;

	if (!b->locked)
		return 0;
	r = dotlock_drop(b->lock);
	close(b->lockfd);
	b->lockfd = -1;
	unlock_fcntl(b->fd);
	b->locked = 0;
	return r;
}

/* Lock the open box; then make sure the path still names the file we locked
 * (an updater may have renamed a new file into place), finish any
 * interrupted expunge and cut off an append a power cut tore.  Returns 0, 1
 * (the file was replaced: reopen), or an error. */
static int
lock_box(struct store_box *b)
{
	struct stat ls, fs;
	int e;

	if ((e = take_locks(b)) != STORE_OK)
		return e;
	if (lstat(b->path, &ls) == -1 || fstat(b->fd, &fs) == -1 ||
	    ls.st_dev != fs.st_dev || ls.st_ino != fs.st_ino) {
		store_release(b);
		return 1;
	}
	if ((e = journal_recover(b)) != STORE_OK ||
	    (e = store_tail_recover(b)) != STORE_OK) {
		store_release(b);
		return e;
	}
	if (fstat(b->fd, &fs) == -1) {
		store_release(b);
		return STORE_EIO;
	}
	b->size = (uint64_t)fs.st_size;
	return STORE_OK;
}

int
store_open(struct store_box *b, const char *spool, const char *name,
    uid_t owner, gid_t group, int create)
{
	int e, tries;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->owner = owner == (uid_t)-1 ? geteuid() : owner;
	if (!store_name_ok(name, strlen(name)))
		return STORE_ENAME;
	if (set_paths(b, spool, name) == -1)
		return STORE_ENAME;
	for (tries = 0; tries < LOCK_REOPEN_MAX; tries++) {
		if ((e = open_file(b, group, create)) != STORE_OK)
			return e;
		e = lock_box(b);
		if (e != 1) {
			if (e != STORE_OK) {
				close(b->fd);
				b->fd = -1;
			}
			return e;
		}
		close(b->fd);
		b->fd = -1;
	}
	log_warnx("mailbox=%s keeps being replaced", b->path);
	return STORE_ELOCK;
}

void
store_unlock(struct store_box *b)
{
	(void)store_release(b);
}

int
store_relock(struct store_box *b)
{
	int e;

	e = lock_box(b);
	if (e == 1) {
		log_warnx("mailbox=%s replaced since the scan", b->path);
		return STORE_ECHANGED;
	}
	return e;
}

void
store_close(struct store_box *b)
{
	(void)store_release(b);
	if (b->fd != -1)
		close(b->fd);
	b->fd = -1;
}

int
store_session(const char *spool, const char *name, uid_t owner, int *fdp)
{
	char path[PATH_MAX];
	int fd, r;

	if (!store_name_ok(name, strlen(name)))
		return STORE_ENAME;
	r = snprintf(path, sizeof(path), "%s/.%s.pop", spool, name);
	if (r < 0 || (size_t)r >= sizeof(path))
		return STORE_ENAME;
	/* A marker planted by another user could be held locked by them for
	 * ever, or be a FIFO: only one we trust is used, and one we do not is
	 * removed when we may (store_clear, as root, does it before a login). */
	fd = trust_open_clear(path, O_RDWR | O_CREAT, 0600,
	    owner == (uid_t)-1 ? geteuid() : owner, "session marker", NULL);
	if (fd == -2)
		return STORE_ETRUST;
	if (fd == -1) {
		log_warn("session marker=%s open", path);
		return STORE_EIO;
	}
	/* A kernel lock: a session that dies, however, frees it at once. */
	r = lock_fcntl(fd);
	if (r != 0) {
		if (r == -1)
			log_warn("session marker=%s lock", path);
		close(fd);
		return r == 1 ? STORE_EINUSE : STORE_EIO;
	}
	*fdp = fd;
	return STORE_OK;
}

int
store_scan(struct store_box *b, struct mbox_index *ix)
{
	struct mbox_stamp now;
	struct stat st;
	int e;

	memset(ix, 0, sizeof(*ix));
	if (fstat(b->fd, &st) == -1)
		return MBOX_EIO;
	if (store_index_load(b, ix) == 0)
		return MBOX_OK;
	if ((e = mbox_scan(b->fd, b->size, ix)) != MBOX_OK)
		return e;
	store_stamp(&st, &ix->stamp);
	ix->racy = store_stamp_racy(&ix->stamp);
	/* A mailbox changed within the last clock tick: wait the tick out
	 * (a few ms, under the lock; none where the file system gives every
	 * change after a stat a time of its own), so the index gets a final
	 * stamp.  The file must not have changed under the lock: then the
	 * stamp is the scan's. */
	if (ix->racy && store_stamp_settle(b, &st, &now) == 0 &&
	    store_stamp_eq(&now, &ix->stamp))
		ix->racy = 0;
	if (!ix->racy && (uint64_t)st.st_size == b->size)
		store_index_save(b, ix);
	return MBOX_OK;
}

/* The journal is cleared only under the mailbox lock: an expunge makes a
 * trusted one only under that lock, so none can appear between our
 * judgement and the removal (trust.c, clear()).  The recovery that
 * store_open runs under the lock does it. */
static int
clear_journal(const char *spool, const char *name, uid_t owner)
{
	char path[PATH_MAX];
	struct store_box b;
	struct stat st;
	int e;

	if (snprintf(path, sizeof(path), "%s/.%s.redo", spool, name) >=
	    (int)sizeof(path))
		return STORE_ENAME;
	if (lstat(path, &st) == -1 || trust_check(&st, owner, path, NULL))
		return STORE_OK;	/* none, or one to replay as usual */
	e = store_open(&b, spool, name, owner, (gid_t)-1, 0);
	if (e == STORE_OK)
		store_close(&b);
	else if (e == STORE_ENOENT)	/* no mailbox, no expunge to race */
		e = trust_clear_name(path, owner, "journal") == -1 ?
		    STORE_ETRUST : STORE_OK;
	return e;
}

int
store_clear(const char *spool, const char *name, uid_t owner)
{
	static const char *const what[][2] = {
		{ "pop", "session marker" }, { "idx", "index" } };
	char path[PATH_MAX];
	size_t i;
	int e;

	if (!store_name_ok(name, strlen(name)))
		return STORE_ENAME;
	if (owner == (uid_t)-1)
		owner = geteuid();
	e = clear_journal(spool, name, owner);
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/.%s.%s", spool, name,
		    what[i][0]) >= (int)sizeof(path))
			return STORE_ENAME;
		if (trust_clear_name(path, owner, what[i][1]) == -1 &&
		    e == STORE_OK)
			e = STORE_ETRUST;
	}
	store_sweep(spool);
	return e;
}
