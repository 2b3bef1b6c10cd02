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
 * commit marker of a multi-mailbox delivery ("" for none).  Only ever read
 * from a dotlock the store trusts (trust.h), and checked strictly. */
struct lockrec {
	int		 ours;		/* written by inetmail (any host) */
	int		 here;		/* by this host: its pid can be asked */
	long		 pid;
	int		 append;	/* an append was under way */
	uint64_t	 size;		/* mailbox size before it */
	uint64_t	 len;		/* bytes it was to add */
	char		 txn[64];	/* commit marker: a plain ".txn.*" name */
	char		 lk[32];	/* the unique file it was linked from */
	unsigned long long dev, ino;	/* the mailbox file it describes */
};

/* Dotlock results. */
#define DOTLOCK_TAKEN	0
#define DOTLOCK_BUSY	1	/* held by a live owner, or not ours to judge */
#define DOTLOCK_STALE	2	/* its holder is gone: *OLD has its record */
#define DOTLOCK_ERROR	(-1)	/* errno set */

/* Try to create dotlock PATH (NFS-safe: a unique file, link(), link count).
 * As root, the lock is given to OWNER (the mailbox's owner), so that the
 * owner's own programs can break it if we die in a sticky spool.  When it
 * exists, judge it: *OLD gets its record when the lock file is one we trust
 * for OWNER's mailbox, else stays empty.  *UNTRUSTED is set when the lock
 * is held by a file we do not trust (logged the first time only: pass the
 * same flag on every retry).  A lock taken stays open for writing in *FDP
 * (dotlock_record writes through it; close it when the lock is dropped). */
int dotlock_take(const char *path, uid_t owner, struct lockrec *old,
    int *untrusted, int *fdp);
/* Remove the stale dotlock PATH that dotlock_take reported. */
int dotlock_break(const char *path);
/* Record in our dotlock (FD, from dotlock_take) that an append of LEN
 * bytes starts at SIZE of the mailbox file DEV/INO, with commit marker TXN
 * ("" or NULL: none).  Through our own descriptor, never the path: a lock
 * someone broke and replaced is not ours to write. */
int dotlock_record(int fd, uint64_t size, uint64_t len, const char *txn,
    dev_t dev, ino_t ino);
/* Refresh our dotlock's time so peers do not take it for stale. */
void dotlock_touch(const char *path);
/* Remove our dotlock.  Returns 0, or -1 (logged). */
int dotlock_drop(const char *path);

/* 1 when NAME (a record's commit marker) is a plain ".txn." name of ours:
 * hex digits and dots after the prefix, no '/', so it names a file in the
 * spool and nothing else. */
int lock_txn_name_ok(const char *name);

#endif
