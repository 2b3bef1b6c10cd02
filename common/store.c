/* store.c: opening and locking mailboxes, recovering a dead holder's work,
 * and the POP3 session marker.  Runs as whoever calls it; it never needs root, but as
 * root it gives a new mailbox to its user. */
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

void (*store_fault_hook)(const char *, int);
int store_lock_wait_ms = LOCK_WAIT_MS;

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK:		return "ok";
	case STORE_ENAME:	return "invalid mailbox name";
	case STORE_ETYPE:	return "mailbox is not a regular file";
	case STORE_ELOCK:	return "mailbox is locked";
	case STORE_EIO:		return "I/O error";
	case STORE_ENOSPC:	return "no space for the mailbox";
	case STORE_ECHANGED:	return "mailbox changed";
	case STORE_ENOTMBOX:	return "mailbox is not in mbox format";
	case STORE_EINUSE:	return "mailbox in use";
	case STORE_ENOENT:	return "no mailbox";
	default:		return "unknown error";
	}
}

int
store_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EFBIG:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return STORE_ENOSPC;
	default:
		return STORE_EIO;
	}
}

int
store_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > USER_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* '/' would leave the spool; controls and space break the
		 * From_ line and the logs; 8-bit names are not portable. */
		if (c <= ' ' || c == '/' || c >= 0x7f)
			return 0;
	}
	/* NAME.lock is the dotlock of mailbox NAME. */
	if (len >= 5 && memcmp(name + len - 5, ".lock", 5) == 0)
		return 0;
	return 1;
}

static int
set_paths(struct store_box *b, const char *spool, const char *name)
{
	int n, m;

	n = snprintf(b->path, sizeof(b->path), "%s/%s", spool, name);
	m = snprintf(b->lock, sizeof(b->lock), "%s/%s.lock", spool, name);
	if (n < 0 || m < 0 || (size_t)m >= sizeof(b->lock))
		return -1;
	return 0;
}

/* Open the mailbox file itself: no symlink, a regular file with one link,
 * created 0600 for its user when missing and CREATE is set. */
static int
open_file(struct store_box *b, uid_t uid, gid_t gid, int create)
{
	struct stat ls, fs;
	int fd, flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

	if (lstat(b->path, &ls) == -1) {
		if (errno != ENOENT) {
			log_warn("mailbox=%s lstat", b->path);
			return STORE_EIO;
		}
		if (!create)
			return STORE_ENOENT;
		fd = open(b->path, flags | O_CREAT | O_EXCL, 0600);
		if (fd == -1) {
			if (errno == EEXIST)
				return open_file(b, uid, gid, 0);
			log_warn("mailbox=%s create", b->path);
			return store_errno(errno);
		}
		if (uid != (uid_t)-1 && geteuid() == 0 && fchown(fd, uid, gid) == -1) {
			log_warn("mailbox=%s chown", b->path);
			close(fd);
			unlink(b->path);
			return STORE_EIO;
		}
		if (fstat(fd, &ls) == -1) {
			close(fd);
			return STORE_EIO;
		}
	} else {
		/* O_NONBLOCK: opening a FIFO planted as a mailbox must not hang. */
		if (!S_ISREG(ls.st_mode) || ls.st_nlink != 1) {
			log_warnx("mailbox=%s not a regular file with one link",
			    b->path);
			return STORE_ETYPE;
		}
		if ((fd = open(b->path, flags)) == -1) {
			log_warn("mailbox=%s open", b->path);
			return errno == ELOOP ? STORE_ETYPE : STORE_EIO;
		}
	}
	/* The file we opened must be the one we looked at: a swap between the
	 * lstat and the open (symlink, hard link) is refused. */
	if (fstat(fd, &fs) == -1 || fs.st_dev != ls.st_dev ||
	    fs.st_ino != ls.st_ino || !S_ISREG(fs.st_mode) || fs.st_nlink != 1) {
		log_warnx("mailbox=%s changed while opening", b->path);
		close(fd);
		return STORE_ETYPE;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	b->fd = fd;
	b->dev = fs.st_dev;
	b->ino = fs.st_ino;
	return STORE_OK;
}

int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

long
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Undo a dead writer's unfinished append recorded in its dotlock R.  Only
 * a torn message (some but not all of its LEN bytes) is cut off.  A whole
 * one stays, unless it belongs to a multi-mailbox delivery that never
 * committed.  When the file grew past SIZE + LEN, someone who ignored the
 * dotlock appended after it: we cannot tell the bytes apart, so nothing is
 * cut and the admin is told. */
static int
undo_append(struct store_box *b, const struct lockrec *r, const char *spool)
{
	struct stat st;
	char marker[PATH_MAX];
	uint64_t size;
	int keep;

	if (!r->append || fstat(b->fd, &st) == -1)
		return 0;
	size = (uint64_t)st.st_size;
	if (size <= r->size)
		return 0;
	if (r->has_ino && (r->dev != (unsigned long long)st.st_dev ||
	    r->ino != (unsigned long long)st.st_ino))
		return 0;		/* the record is about another file */
	if (size > r->size + r->len) {
		log_warnx("mailbox=%s grew past a dead writer's append (pid=%ld "
		    "size=%llu len=%llu now=%llu), nothing cut", b->path, r->pid,
		    (unsigned long long)r->size, (unsigned long long)r->len,
		    (unsigned long long)size);
		return 0;
	}
	keep = size == r->size + r->len;
	if (keep && r->txn[0]) {
		snprintf(marker, sizeof(marker), "%s/%s", spool, r->txn);
		/* Only a marker that is surely absent means "not committed". */
		keep = access(marker, F_OK) == 0 || errno != ENOENT;
	}
	if (keep) {
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
	return 0;
}

/* Take the fcntl lock, then the dotlock, both without blocking; when the
 * dotlock is busy let go of both and retry, so two lockers never hold one
 * each.  Bounded by LOCK_WAIT_MS. */
static int
take_locks(struct store_box *b, const char *spool)
{
	long deadline = store_now_ms() + store_lock_wait_ms;
	struct lockrec old;
	int r;

	for (;;) {
		r = lock_fcntl(b->fd);
		if (r == -1) {
			log_warn("mailbox=%s fcntl lock", b->path);
			return STORE_EIO;
		}
		if (r == 0) {
			r = dotlock_take(b->lock, &old);
			if (r == 0)
				break;
			if (r == 2) {
				/* Its holder is dead and we hold the kernel
				 * lock: finish its business, then take over. */
				if (undo_append(b, &old, spool) == -1) {
					unlock_fcntl(b->fd);
					return STORE_EIO;
				}
				log_info("dotlock=%s broken=stale pid=%ld", b->lock,
				    old.pid);
				if (dotlock_break(b->lock) == -1) {
					log_warn("dotlock=%s break", b->lock);
					unlock_fcntl(b->fd);
					return STORE_EIO;
				}
				if (store_now_ms() < deadline)
					continue;
				r = 1;		/* out of time: give up below */
			}
			unlock_fcntl(b->fd);
			if (r == -1) {
				log_warn("dotlock=%s create", b->lock);
				return STORE_EIO;
			}
		}
		if (store_now_ms() >= deadline) {
			log_warnx("mailbox=%s lock timeout ms=%d", b->path,
			    store_lock_wait_ms);
			return STORE_ELOCK;
		}
		sleep_ms(LOCK_RETRY_MS);
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
	unlock_fcntl(b->fd);
	b->locked = 0;
	return r;
}

/* Lock the open box; then make sure the path still names the file we locked
 * (an updater may have renamed a new file into place) and finish any
 * interrupted expunge.  Returns 0, 1 (the file was replaced: reopen), or an
 * error. */
static int
lock_box(struct store_box *b, const char *spool, const char *name)
{
	struct stat ls, fs;
	int e;

	if ((e = take_locks(b, spool)) != STORE_OK)
		return e;
	if (lstat(b->path, &ls) == -1 || fstat(b->fd, &fs) == -1 ||
	    ls.st_dev != fs.st_dev || ls.st_ino != fs.st_ino) {
		store_release(b);
		return 1;
	}
	if ((e = journal_recover(b, spool, name)) != STORE_OK) {
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
    uid_t uid, gid_t gid, int create)
{
	int e, tries;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (!store_name_ok(name, strlen(name)))
		return STORE_ENAME;
	if (set_paths(b, spool, name) == -1)
		return STORE_ENAME;
	for (tries = 0; tries < LOCK_REOPEN_MAX; tries++) {
		if ((e = open_file(b, uid, gid, create)) != STORE_OK)
			return e;
		e = lock_box(b, spool, name);
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
	char spool[PATH_MAX];
	const char *slash = strrchr(b->path, '/');
	int e;

	snprintf(spool, sizeof(spool), "%.*s", (int)(slash - b->path), b->path);
	e = lock_box(b, spool, slash + 1);
	if (e == 1) {
		log_warnx("mailbox=%s replaced since the scan", b->path);
		return STORE_ECHANGED;
	}
	return e;
}

void
store_refresh(struct store_box *b)
{
	time_t now = time(NULL);

	if (b->locked && now - b->touched >= LOCK_REFRESH_S) {
		dotlock_touch(b->lock);
		b->touched = now;
	}
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
store_session(const char *spool, const char *name, int *fdp)
{
	char path[PATH_MAX];
	int fd, r;

	if (!store_name_ok(name, strlen(name)))
		return STORE_ENAME;
	r = snprintf(path, sizeof(path), "%s/.%s.pop", spool, name);
	if (r < 0 || (size_t)r >= sizeof(path))
		return STORE_ENAME;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
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
