/* lock.h: internal to the store: the fcntl lock and the dotlock of a mailbox,
 * and what a dead holder's dotlock says about its unfinished work. */
#ifndef INETMAIL_LOCK_H
#define INETMAIL_LOCK_H

#include <stdint.h>
#include <sys/types.h>

/* Try the fcntl write lock on the whole file, without waiting.
 * Returns 0 taken, 1 held by someone else, -1 error (errno set). */
int lock_fcntl(int fd);
void unlock_fcntl(int fd);

/* What our dotlock records, so whoever breaks it after our death can undo a
 * torn append: the mailbox size before it, the bytes we meant to add, and the
 * commit marker of a multi-mailbox delivery ("-" for none). */
struct lockrec {
	int		 ours;		/* written by inetmail */
	long		 pid;
	int		 append;	/* an append was under way */
	uint64_t	 size;		/* mailbox size before it */
	uint64_t	 len;		/* bytes it was to add */
	char		 txn[128];	/* commit marker name in the spool, or "" */
	int		 has_ino;	/* dev and ino below are known */
	unsigned long long dev, ino;	/* the mailbox file it describes */
};

/* Try to create dotlock PATH (NFS-safe: a unique file, link(), link count).
 * Returns 0 taken, 1 held by a live owner, 2 stale (its record in *OLD; the
 * caller undoes the holder's work, then calls dotlock_break), -1 error. */
int dotlock_take(const char *path, struct lockrec *old);
/* Remove the stale dotlock PATH that dotlock_take reported. */
int dotlock_break(const char *path);
/* Record in our dotlock PATH that an append of LEN bytes starts at SIZE of
 * the mailbox file DEV/INO. */
int dotlock_record(const char *path, uint64_t size, uint64_t len, const char *txn,
    dev_t dev, ino_t ino);
/* Refresh our dotlock's time so peers do not take it for stale. */
void dotlock_touch(const char *path);
/* Remove our dotlock.  Returns 0, or -1 (logged). */
int dotlock_drop(const char *path);

#endif
