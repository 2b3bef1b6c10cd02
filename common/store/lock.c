/* lock.c: fcntl locks and dotlocks, as Debian policy 11.6 asks, interoperable
 * with Python's mailbox module, mutt and procmail, and the record a dotlock
 * of ours carries.  Needs write access to the spool directory (root, the
 * spool's group, or a sticky world-writable spool). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "lock.h"
#include "log.h"
#include "num.h"
#include "store.h"
#include "store_int.h"
#include "trust.h"

int
lock_fcntl(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;		/* start 0, length 0: the whole file */
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return 1;
	return -1;
}

void
unlock_fcntl(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_UNLCK;
	fl.l_whence = SEEK_SET;
	(void)fcntl(fd, F_SETLK, &fl);
}

/* The host name of the records, asked once per process. */
static void
host_name(char *buf, size_t cap)
{
	static char name[256];
	char *p;

	if (name[0] == '\0') {
		if (gethostname(name, sizeof(name)) == -1)
			snprintf(name, sizeof(name), "localhost");
		name[sizeof(name) - 1] = '\0';
		/* One word in the record. */
		for (p = name; *p; p++)
			if (*p <= ' ' || *p == 0x7f)
				*p = '_';
	}
	snprintf(buf, cap, "%s", name);
}

int
lock_txn_name_ok(const char *name)
{
	size_t len = strlen(name);

	/* Digits and dots: the names of earlier versions (pid, time, ms),
	 * which a record written before an upgrade may still carry; hex
	 * digits: the random ones of store_tmp_create. */
	if (len <= 5 || len >= sizeof(((struct lockrec *)0)->txn) ||
	    strncmp(name, ".txn.", 5) != 0)
		return 0;
	return strspn(name + 5, "0123456789abcdef.") == len - 5;
}

/* The record: "PID\n" first, as liblockfile writes, so other tools can read
 * the pid; then our own line.  Other tools ignore the second line.  The
 * lock's first record names the unique file it was linked from (LK), so a
 * lock left with two links by a locker killed between link() and unlink()
 * names its twin: one lstat finds it, whatever else the spool holds. */
static int
write_record(int fd, const struct lockrec *r)
{
	char buf[512], host[256];
	int n;

	host_name(host, sizeof(host));
	if (r->append)
		n = snprintf(buf, sizeof(buf), "%ld\ninetmail %s %llu %llu %s %llu %llu\n",
		    r->pid, host, (unsigned long long)r->size,
		    (unsigned long long)r->len, r->txn[0] ? r->txn : "-", r->dev,
		    r->ino);
	else
		n = snprintf(buf, sizeof(buf), "%ld\ninetmail %s - - -%s%s\n",
		    r->pid, host, r->lk[0] ? " " : "", r->lk);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) == -1)
		return -1;
	return 0;
}

/* Split the next space-separated word off *P (NUL-terminated); NULL when
 * there is none. */
static char *
word(char **p)
{
	char *w = *p, *sp;

	if (*w == '\0')
		return NULL;
	if ((sp = strchr(w, ' ')) != NULL) {
		*sp = '\0';
		*p = sp + 1;
	} else
		*p = w + strlen(w);
	return w;
}

static int
num(const char *s, uint64_t *v)
{
	return num_parse(s, strlen(s), 0, UINT64_MAX, v);
}

/* Parse a trusted dotlock's content BUF into *R.  Only a record of ours
 * that parses whole is acted on; anything else leaves *R as "not ours"
 * (the pid aside, for the log).  A record of another host of a cluster
 * counts too, once its lock is stale by age: its append is as unfinished
 * as ours would be; only its pid means nothing here. */
static void
parse_record(char *buf, struct lockrec *r)
{
	char host[256], *nl, *p, *f[8];
	uint64_t pid, v[4];
	size_t n;

	memset(r, 0, sizeof(*r));
	if ((nl = strchr(buf, '\n')) == NULL)
		return;
	*nl = '\0';
	if (num(buf, &pid) == -1 || pid == 0 || pid > 0x7fffffff)
		return;
	r->pid = (long)pid;
	p = nl + 1;
	if ((nl = strchr(p, '\n')) == NULL || nl[1] != '\0')
		return;
	*nl = '\0';
	for (n = 0; n < 8 && (f[n] = word(&p)) != NULL; n++)
		;
	host_name(host, sizeof(host));
	if (n < 5 || *p != '\0' || strcmp(f[0], "inetmail") != 0)
		return;
	r->here = strcmp(f[1], host) == 0;
	/* No append: "- - -", and the unique file's name (none from earlier
	 * versions, which wrote five fields). */
	if ((n == 5 || n == 6) && strcmp(f[2], "-") == 0 &&
	    strcmp(f[3], "-") == 0 && strcmp(f[4], "-") == 0) {
		if (n == 6 && store_tmp_name_ok(f[5], ".lk."))
			snprintf(r->lk, sizeof(r->lk), "%s", f[5]);
		r->ours = n == 5 || r->lk[0] != '\0';
		return;
	}
	/* An append: SIZE LEN TXN DEV INO, every field checked.  A commit
	 * marker's name comes back to us as a path: a plain name only. */
	if (n != 7 || num(f[2], &v[0]) == -1 || num(f[3], &v[1]) == -1 ||
	    num(f[5], &v[2]) == -1 || num(f[6], &v[3]) == -1 ||
	    v[0] > UINT64_MAX - v[1] ||
	    (strcmp(f[4], "-") != 0 && !lock_txn_name_ok(f[4])))
		return;
	r->ours = 1;
	r->append = 1;
	r->size = v[0];
	r->len = v[1];
	r->dev = v[2];
	r->ino = v[3];
	if (strcmp(f[4], "-") != 0)
		snprintf(r->txn, sizeof(r->txn), "%s", f[4]);
}

/* A dotlock with two links whose other name is a locker's unique file
 * (".lk.*" beside it): its locker was killed between link() and unlink(),
 * or is just there.  The unique name is removed, so the lock has one link
 * again and its record can be trusted; a live locker loses nothing (it holds
 * the lock by its name and its fd).  Without this, one kill at that instant
 * would leave a lock judged by age only: the mailbox shut for LOCK_STALE_S.
 * The twin's name comes from the lock's own record, read here whatever the
 * lock's owner (it is only a name, checked strictly, and only a second name
 * of the lock's own inode is ever removed): one lstat, where a scan of the
 * directory cost a delivery seconds in a spool of 50,000 planted names.
 * Returns 1 when a twin was removed. */
static int
drop_twin(const char *path, const struct stat *lk)
{
	char buf[512], twin[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct lockrec r;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	n = fstat(fd, &st) == 0 && st.st_ino == lk->st_ino &&
	    st.st_dev == lk->st_dev && S_ISREG(st.st_mode) ?
	    read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	parse_record(buf, &r);
	if (r.lk[0] == '\0' || snprintf(twin, sizeof(twin), "%.*s/%s",
	    slash ? (int)(slash - path) : 1, slash ? path : ".", r.lk) >=
	    (int)sizeof(twin))
		return 0;
	if (lstat(twin, &st) == -1 || st.st_ino != lk->st_ino ||
	    st.st_dev != lk->st_dev)
		return 0;
	return unlink(twin) == 0;
}

/* Read and judge an existing dotlock for OWNER's mailbox.  Returns
 * DOTLOCK_BUSY, DOTLOCK_STALE (record in *R), or -1 when it is gone (retry
 * at once). */
static int
judge(const char *path, uid_t owner, struct lockrec *r, int *untrusted)
{
	char buf[512];
	struct stat st;
	ssize_t n;
	int fd, old;

	memset(r, 0, sizeof(*r));
	if (lstat(path, &st) == -1)
		return -1;
	/* Anyone's lock untouched for LOCK_STALE_S is abandoned: live holders
	 * (ours included) refresh theirs much more often.  This holds even
	 * for a lock we cannot read or do not trust. */
	old = time(NULL) - st.st_mtime > LOCK_STALE_S;
	if (S_ISREG(st.st_mode) && st.st_nlink == 2 && drop_twin(path, &st))
		return -1;
	/* The record is believed only from a lock file we trust: a planted
	 * one could otherwise tell us to cut a mailbox. */
	fd = trust_open(path, O_RDONLY, 0, owner, *untrusted ? NULL : "dotlock",
	    NULL);
	if (fd == -2) {
		*untrusted = 1;
		return old ? DOTLOCK_STALE : DOTLOCK_BUSY;
	}
	if (fd == -1)
		return errno == ENOENT ? -1 : old ? DOTLOCK_STALE : DOTLOCK_BUSY;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	parse_record(buf, r);
	if (old)
		return DOTLOCK_STALE;
	/* Our own lock from this host: its holder's death frees it at once.
	 * The age test above still guards against pid reuse. */
	if (r->ours && r->here && kill((pid_t)r->pid, 0) == -1 && errno == ESRCH)
		return DOTLOCK_STALE;
	return DOTLOCK_BUSY;
}

int
dotlock_take(const char *path, uid_t owner, struct lockrec *old,
    int *untrusted, int *fdp)
{
	char tmp[PATH_MAX + 64], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct lockrec me;
	struct stat st;
	int fd, r, e;

	/* The unique file is hidden (a leading '.') so it can never be a
	 * mailbox name, and lives beside the lock so link() works on NFS.
	 * Its name is random: one planted in advance cannot be in the way. */
	if (snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
	    slash ? path : ".") >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return DOTLOCK_ERROR;
	}
	if ((fd = store_tmp_create(dir, ".lk.", O_WRONLY, 0644, tmp,
	    sizeof(tmp))) == -1)
		return DOTLOCK_ERROR;
	memset(&me, 0, sizeof(me));
	me.pid = (long)getpid();
	snprintf(me.lk, sizeof(me.lk), "%s", tmp + strlen(dir) + 1);
	/* As root, the lock belongs to the mailbox's owner: if we die, the
	 * owner's pop3d or mutt can break it even in a sticky spool. */
	if (write_record(fd, &me) == -1 || (geteuid() == 0 &&
	    owner != (uid_t)-1 && owner != 0 && fchown(fd, owner, (gid_t)-1) == -1)) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return DOTLOCK_ERROR;
	}
	r = link(tmp, path);
	e = errno;
	/* link() may succeed on an NFS server yet report failure: the link
	 * count of our file is the truth. */
	if (fstat(fd, &st) == 0 && st.st_nlink == 2)
		r = 0;
	/* Only the lock's first record names its twin: a lock of ours that
	 * keeps two links past here would have no name for it once an append
	 * is recorded, so one we cannot bring back to one link is let go. */
	if (unlink(tmp) == -1 && errno != ENOENT && r == 0) {
		e = errno;
		(void)unlink(path);
		close(fd);
		errno = e;
		return DOTLOCK_ERROR;
	}
	if (r == 0) {
		*fdp = fd;
		return DOTLOCK_TAKEN;
	}
	close(fd);
	if (e != EEXIST) {
		errno = e;
		return DOTLOCK_ERROR;
	}
	/* -1: the lock went away, or lost a killed locker's twin: once more. */
	if ((r = judge(path, owner, old, untrusted)) == -1)
		r = judge(path, owner, old, untrusted);
	return r == -1 ? DOTLOCK_BUSY : r;
}

int
dotlock_break(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

int
dotlock_record(int fd, uint64_t size, uint64_t len, const char *txn,
    dev_t dev, ino_t ino)
{
	struct lockrec me;

	memset(&me, 0, sizeof(me));
	me.pid = (long)getpid();
	me.append = 1;
	me.size = size;
	me.len = len;
	me.dev = (unsigned long long)dev;
	me.ino = (unsigned long long)ino;
	if (txn != NULL && txn[0] != '\0') {
		if (!lock_txn_name_ok(txn)) {
			errno = EINVAL;
			return -1;
		}
		snprintf(me.txn, sizeof(me.txn), "%s", txn);
	}
	return write_record(fd, &me);
}

void
dotlock_touch(const char *path)
{
	(void)utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
}

int
dotlock_drop(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("dotlock=%s unlink", path);
		return -1;
	}
	return 0;
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
