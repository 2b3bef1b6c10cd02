/* lock.c: fcntl locks and dotlocks, as Debian policy 11.6 asks, interoperable
 * with Python's mailbox module, mutt and procmail.  Needs write access to the
 * spool directory (root, or the spool's group). */
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

static void
host_name(char *buf, size_t cap)
{
	if (gethostname(buf, cap) == -1)
		snprintf(buf, cap, "localhost");
	buf[cap - 1] = '\0';
	/* One word in the record. */
	for (; *buf; buf++)
		if (*buf <= ' ' || *buf == 0x7f)
			*buf = '_';
}

/* The record: "PID\n" first, as liblockfile writes, so other tools can read
 * the pid; then our own line.  Other tools ignore the second line. */
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
		n = snprintf(buf, sizeof(buf), "%ld\ninetmail %s - - -\n", r->pid,
		    host);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) == -1)
		return -1;
	return 0;
}

/* Parse a dotlock's content BUF into *R.  Returns 1 when it is ours and
 * from this host, else 0 (only the pid, if any, is filled in). */
static int
parse_record(const char *buf, struct lockrec *r)
{
	char host[256], rhost[256], size[32], len[32], txn[128];
	const char *nl;
	int n;

	r->pid = strtol(buf, NULL, 10);
	host_name(host, sizeof(host));
	if ((nl = strchr(buf, '\n')) == NULL)
		return 0;
	n = sscanf(nl + 1, "inetmail %255s %31s %31s %127s %llu %llu", rhost,
	    size, len, txn, &r->dev, &r->ino);
	if (n < 4 || strcmp(rhost, host) != 0)
		return 0;
	r->ours = 1;
	r->has_ino = n == 6;
	if (strcmp(size, "-") != 0) {
		r->append = 1;
		r->size = strtoull(size, NULL, 10);
		r->len = strtoull(len, NULL, 10);
		if (strcmp(txn, "-") != 0)
			snprintf(r->txn, sizeof(r->txn), "%s", txn);
	}
	return 1;
}

/* Read and judge an existing dotlock.  Returns 1 live, 2 stale, -1 gone or
 * unreadable (retry). */
static int
judge(const char *path, struct lockrec *r)
{
	char buf[512];
	struct stat st;
	ssize_t n = 0;
	int fd, f;
	time_t now = time(NULL);

	memset(r, 0, sizeof(*r));
	if (lstat(path, &st) == -1)
		return -1;			/* gone: retry at once */
	/* Anyone's lock untouched for LOCK_STALE_S is abandoned: live holders
	 * (ours included) refresh theirs much more often.  This holds even
	 * for a lock we cannot read (another user's 0600 dotlock). */
	if (now - st.st_mtime > LOCK_STALE_S) {
		r->pid = 0;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd != -1 && (n = read(fd, buf, sizeof(buf) - 1)) < 0)
			n = 0;
		if (fd != -1)
			close(fd);
		buf[n] = '\0';
		parse_record(buf, r);
		return 2;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		return 1;			/* unreadable and fresh: busy */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 1;
	buf[n] = '\0';
	f = parse_record(buf, r);
	/* Our own lock from this host: its holder's death frees it at once.
	 * The age test above still guards against pid reuse. */
	if (f && r->pid > 0 && kill((pid_t)r->pid, 0) == -1 && errno == ESRCH)
		return 2;
	return 1;
}

int
dotlock_take(const char *path, struct lockrec *old)
{
	char tmp[4096 + 64];
	const char *slash = strrchr(path, '/');
	struct lockrec me;
	struct stat st;
	int fd, r, e;
	static unsigned counter;

	/* The unique file is hidden (a leading '.') so it can never be a
	 * mailbox name, and lives beside the lock so link() works on NFS. */
	r = snprintf(tmp, sizeof(tmp), "%.*s/.lk%ld.%u.%ld",
	    slash ? (int)(slash - path) : 1, slash ? path : ".", (long)getpid(),
	    counter++, (long)time(NULL));
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	memset(&me, 0, sizeof(me));
	me.pid = (long)getpid();
	if (write_record(fd, &me) == -1) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	close(fd);
	r = link(tmp, path);
	e = errno;
	/* link() may succeed on an NFS server yet report failure: the link
	 * count of our file is the truth. */
	if (stat(tmp, &st) == 0 && st.st_nlink == 2)
		r = 0;
	unlink(tmp);
	if (r == 0)
		return 0;
	if (e != EEXIST) {
		errno = e;
		return -1;
	}
	r = judge(path, old);
	return r == -1 ? 1 : r;
}

int
dotlock_break(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

int
dotlock_record(const char *path, uint64_t size, uint64_t len, const char *txn,
    dev_t dev, ino_t ino)
{
	struct lockrec me;
	int fd, r;

	memset(&me, 0, sizeof(me));
	me.pid = (long)getpid();
	me.append = 1;
	me.size = size;
	me.len = len;
	me.dev = (unsigned long long)dev;
	me.ino = (unsigned long long)ino;
	snprintf(me.txn, sizeof(me.txn), "%s", txn ? txn : "");
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	r = write_record(fd, &me);
	if (close(fd) == -1)
		r = -1;
	return r;
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
