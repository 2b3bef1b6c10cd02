/* sweep.c: removing what killed processes and finished deliveries left in
 * the spool: a dotlock's unique file (.lk*), a mailbox or an index never
 * renamed into place (.new.*), a commit marker that no dotlock can name
 * any more (.txn.*: every delivery to several mailboxes leaves its own),
 * each once it is LOCK_STALE_S old (no live process keeps any of them
 * that long); and at once a .new.* name that a power cut left as a second
 * link of a new mailbox.  Each call looks at SWEEP_ENTRIES directory
 * entries, from where the call before stopped (SPOOL/.sweep keeps the
 * place), so every delivery and login pays the same, whatever the spool
 * holds, and all of it is gone through in turn.  Runs in the privileged
 * half (root under inetd: it may remove what any user left), or as
 * smtpd's -u user. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "log.h"
#include "num.h"
#include "store.h"
#include "store_int.h"
#include "trust.h"

/* A marker names at most SMTPD_RCPT_MAX mailboxes of USER_MAX bytes. */
#define TXN_LIST_MAX	(1024 * 1024)

/* Does a dotlock that may name the commit marker NAME (open as FD) still
 * exist?  The marker lists its delivery's mailboxes; while any of their
 * dotlocks is there (a stale one of the killed delivery, not broken yet),
 * its breaker must find the marker to keep the committed message.  A
 * list we cannot read (an earlier version's empty marker, one cut by a
 * power loss) keeps the marker: removing it could cost a message. */
static int
txn_in_use(int dfd, int fd)
{
	char *buf, *p, *nl, lock[USER_MAX + 8];
	struct stat st;
	ssize_t n;
	int used = 1;

	if ((buf = malloc(TXN_LIST_MAX + 1)) == NULL)
		return 1;
	n = pread(fd, buf, TXN_LIST_MAX, 0);
	if (n <= 0 || n == TXN_LIST_MAX || buf[n - 1] != '\n' ||
	    strncmp(buf, TXN_MAGIC, strlen(TXN_MAGIC)) != 0)
		goto out;
	buf[n] = '\0';
	used = 0;
	for (p = buf + strlen(TXN_MAGIC); !used && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		if (!store_name_ok(p, (size_t)(nl - p))) {
			used = 1;	/* not a list of ours */
			break;
		}
		snprintf(lock, sizeof(lock), "%s.lock", p);
		used = fstatat(dfd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT;
	}
out:
	free(buf);
	return used;
}

/* One directory entry NAME: removed when it is a leftover of ours (by its
 * name) and older than LOCK_STALE_S.  A directory under such a name is
 * not ours to remove.  Before the first commit marker goes, the spool
 * directory is synced (*SYNCED then set): the marker was found unused
 * because no dotlock of its delivery is there any more, and those
 * removals must be on disk before the marker's is.  A dotlock that came
 * back after a power cut, naming a marker that did not, would take the
 * delivery for one that never committed and cut it. */
static void
sweep_one(const char *spool, int dfd, const char *name, time_t now,
    int *synced)
{
	struct stat st;
	int fd, keep = 0;

	if (strncmp(name, ".lk", 3) != 0 && strncmp(name, ".new.", 5) != 0 &&
	    strncmp(name, ".txn.", 5) != 0)
		return;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    S_ISDIR(st.st_mode))
		return;
	/* A new mailbox is made under a ".new." name and linked to its own:
	 * when a power cut kept the link but lost the unlink, the mailbox has
	 * two links, and is refused as a hard link until this name goes.  It
	 * goes at once: a second name of a file, the other one kept. */
	if (now - st.st_mtime <= LOCK_STALE_S && !(S_ISREG(st.st_mode) &&
	    st.st_nlink > 1 && strncmp(name, ".new.", 5) == 0))
		return;
	if (strncmp(name, ".txn.", 5) == 0 && S_ISREG(st.st_mode)) {
		/* One of ours (root's or our own, one link) may still be
		 * needed; anyone else's is junk under our names. */
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC);
		if (fd != -1) {
			if (fstat(fd, &st) == 0 && st.st_nlink == 1 &&
			    trust_owner_ok(st.st_uid, (uid_t)-1))
				keep = txn_in_use(dfd, fd);
			close(fd);
		}
		if (keep)
			return;
		if (!*synced && fsync(dfd) == -1 && errno != EINVAL)
			return;
		*synced = 1;
	}
	if (unlinkat(dfd, name, 0) == 0)
		log_info("spool=%s swept=%s age=%lds", spool, name,
		    (long)(now - st.st_mtime));
}

/* The place where the last sweep stopped, from SPOOL/.sweep (FD); 0 for
 * the start. */
static long
cursor_read(int fd)
{
	char buf[32];
	uint64_t v;
	ssize_t n;

	if (fd < 0 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 1 ||
	    buf[n - 1] != '\n' ||
	    num_parse(buf, (size_t)n - 1, 0, LONG_MAX, &v) == -1)
		return 0;
	return (long)v;
}

static void
cursor_write(int fd, long pos)
{
	char buf[32];
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%ld\n", pos);
	if (pwrite(fd, buf, (size_t)n, 0) == n)
		(void)ftruncate(fd, n);
}

void
store_sweep(const char *spool)
{
	char path[PATH_MAX];
	struct dirent *de;
	time_t now = time(NULL);
	long pos;
	int fd = -1, i, synced = 0;
	DIR *d;

	if ((d = opendir(spool)) == NULL)
		return;
	/* The place is a hint, never a path or a size: an untrusted file in
	 * its name is removed (or ignored), and a wrong number costs only a
	 * sweep that starts elsewhere.  A spool that one sweep reads whole
	 * needs no place: the file is made only for a bigger one. */
	if (snprintf(path, sizeof(path), "%s/.sweep", spool) >= (int)sizeof(path))
		path[0] = '\0';
	else
		fd = trust_open_clear(path, O_RDWR, 0, (uid_t)-1, "sweep cursor",
		    NULL);
	/* telldir's values are positions the file system gives (a hash on
	 * ext4): seekdir to one from another process's stream works on the
	 * local and network file systems we know; where it does not, the
	 * read finds nothing and the next sweep starts again from 0. */
	if ((pos = cursor_read(fd)) > 0)
		seekdir(d, pos);
	for (i = 0; i < SWEEP_ENTRIES; i++) {
		if ((de = readdir(d)) == NULL)
			break;
		sweep_one(spool, dirfd(d), de->d_name, now, &synced);
	}
	if (i == SWEEP_ENTRIES && fd < 0 && path[0] != '\0')
		fd = trust_open_clear(path, O_RDWR | O_CREAT, 0600, (uid_t)-1,
		    "sweep cursor", NULL);
	cursor_write(fd, i < SWEEP_ENTRIES ? 0 : telldir(d));
	if (fd >= 0)
		close(fd);
	closedir(d);
}
