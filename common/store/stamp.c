/* stamp.c: the state of a mailbox file that an index describes (inode,
 * size, mtime, ctime), and when a stamp is final: when any later change of
 * the file must show in it.  Runs as the locker; the waits are under the
 * mailbox lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "mbox.h"
#include "store.h"
#include "store_int.h"

/* File times come from the kernel's coarse clock (a tick of 1 to 10 ms): a
 * change within the same tick as the last one keeps ctime.  A stamp taken
 * before that clock moved past the file's ctime is "racy": a change after
 * it could leave the same stamp.  A racy index is never believed; our own
 * writers wait out the tick under the lock (store_stamp_settle) before
 * they stamp one, unless the file system gives every change after a stat
 * a ctime of its own (fine_after_stat).  On a file system that keeps whole
 * seconds (ext3, some NFS servers) the tick is a second; two are allowed,
 * and no writer waits that long: there the index after our own change is
 * not written, and the next login scans. */
#define RACY_COARSE_NS	(2 * 1000000000LL)

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

	/* Whole seconds in both times: a file system that keeps times to
	 * the second, where a tick is a second. */
	if (sp->ctime_ns == 0 && sp->mtime_ns == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		d = ((int64_t)now.tv_sec - sp->ctime) * 1000000000LL +
		    ((int64_t)now.tv_nsec - sp->ctime_ns);
		return d < RACY_COARSE_NS;
	}
	/* The clock the kernel stamps files with: once it is past ctime, a
	 * change gets a later one.  (A network file system stamps with the
	 * server's clock: this holds there as well as the clocks agree.) */
#ifdef CLOCK_REALTIME_COARSE
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
#else
	clock_gettime(CLOCK_REALTIME, &now);
#endif
	return (int64_t)now.tv_sec < sp->ctime ||
	    ((int64_t)now.tv_sec == sp->ctime &&
	    (int64_t)now.tv_nsec <= sp->ctime_ns);
}

/* Does the file system of B's spool give a change made after a stat a
 * ctime of its own, even within one tick of the clock?  Linux's multigrain
 * timestamps (since 6.13, on ext4, xfs, btrfs, tmpfs) do: there a stamp is
 * final as soon as it has been read, and no writer need wait out a tick (5
 * ms a delivery on a 250 Hz kernel).  Asked once per process, of an
 * unlinked scratch file in the spool: four changes, each after a stat.  A
 * clock that ticks keeps one ctime for two changes microseconds apart, so
 * a file system without the guarantee shows it (all four pairs apart by
 * chance: about one in 10^12). */
static int
fine_after_stat(const struct store_box *b)
{
	static int known = -1;
	static dev_t dev;
	char spool[PATH_MAX], tmp[PATH_MAX];
	struct stat s1, s2;
	int fd, i;

	if (known != -1 && dev == b->dev)
		return known;
	fd = store_tmp_create(store_spool(b, spool, sizeof(spool)), ".new.",
	    O_RDWR, 0600, tmp, sizeof(tmp));
	if (fd == -1)
		return 0;
	(void)unlink(tmp);	/* nothing left behind, whatever happens */
	known = 1;
	for (i = 0; i < 4 && known; i++)
		if (write(fd, "x", 1) != 1 || fstat(fd, &s1) == -1 ||
		    write(fd, "x", 1) != 1 || fstat(fd, &s2) == -1 ||
		    (s1.st_ctim.tv_sec == s2.st_ctim.tv_sec &&
		    s1.st_ctim.tv_nsec == s2.st_ctim.tv_nsec))
			known = 0;
	close(fd);
	dev = b->dev;
	return known;
}

int
store_stamp_final(const struct store_box *b, const struct mbox_stamp *sp)
{
	return !store_stamp_racy(sp) || fine_after_stat(b);
}

int
store_stamp_settle(struct store_box *b, struct stat *st, struct mbox_stamp *sp)
{
	long deadline = store_now_ms() + STAMP_SETTLE_MS;

	for (;;) {
		if (fstat(b->fd, st) == -1)
			return -1;
		store_stamp(st, sp);
		/* The fstat above was the stat: from here on a change gets a
		 * ctime of its own where fine_after_stat holds. */
		if (store_stamp_final(b, sp))
			return 0;
		if (store_now_ms() >= deadline)
			return -1;
		store_sleep_ms(1);
	}
}

int
store_stamp_eq(const struct mbox_stamp *a, const struct mbox_stamp *b)
{
	return a->ino == b->ino && a->size == b->size && a->mtime == b->mtime &&
	    a->mtime_ns == b->mtime_ns && a->ctime == b->ctime &&
	    a->ctime_ns == b->ctime_ns;
}
