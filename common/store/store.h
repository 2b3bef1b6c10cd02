/* store.h: the mailbox store: safe open, dotlock + fcntl locking, all-or-
 * nothing append, crash-safe expunge, the POP3 session marker.
 * Runs with whatever privileges the caller has; never needs root itself.
 *
 * Trust: every spool file the store opens or acts on -- mailbox,
 * dotlock, journal, session marker, commit marker -- is opened without
 * following links or blocking and believed only when it is a regular file
 * with one link owned by root, by the running user or by the mailbox's
 * owner; a mailbox itself only when its owner is its user.  Anything else is
 * ignored or makes the operation fail temporarily, and is logged once. */
#ifndef INETMAIL_STORE_H
#define INETMAIL_STORE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "mbox.h"

/* Results: 0 or one of these.  TEMP ones are worth retrying later. */
#define STORE_OK	0
#define STORE_ENAME	(-1)	/* invalid mailbox name (permanent) */
#define STORE_ETYPE	(-2)	/* not a regular file, a link, many links (temp) */
#define STORE_ELOCK	(-3)	/* lock not obtained in time (temp) */
#define STORE_EIO	(-4)	/* I/O error (temp) */
#define STORE_ENOSPC	(-5)	/* disk full, quota, file size limit (temp) */
#define STORE_ECHANGED	(-6)	/* the maildrop changed since the scan (temp) */
#define STORE_ENOTMBOX	(-7)	/* not an mbox file (permanent) */
#define STORE_EINUSE	(-8)	/* another POP3 session holds it (temp) */
#define STORE_ENOENT	(-9)	/* no such mailbox (and not asked to create) */
#define STORE_EOWNER	(-10)	/* the mailbox belongs to someone else (temp) */
#define STORE_ETRUST	(-11)	/* a spool file in the way is not ours (temp) */
#define STORE_EQUOTA	(-12)	/* the message would take a mailbox past its
				   quota (temp) */

/* A short text for a STORE_* result, for replies and logs. */
const char *store_strerror(int err);

/* 1 when NAME (LEN bytes) is a valid mailbox name: 1..USER_MAX bytes, no '/',
 * no leading '.', no control bytes, NUL or space, and not ending in ".lock". */
int store_name_ok(const char *name, size_t len);

struct store_box {
	int		 fd;		/* -1 when closed */
	int		 locked;	/* fcntl lock and dotlock held */
	int		 lockfd;	/* our dotlock, open while locked */
	uid_t		 owner;		/* who owns the mailbox (its user) */
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 size;		/* size when the lock was taken */
	time_t		 touched;	/* last dotlock refresh */
	char		 path[PATH_MAX];	/* SPOOL/NAME */
	size_t		 namepos;	/* NAME's offset in path */
	char		 lock[PATH_MAX];	/* SPOOL/NAME.lock */
};

/* Open mailbox NAME in SPOOL and lock it.  OWNER is the mailbox's user
 * ((uid_t)-1: the running user): an existing mailbox must belong to OWNER
 * (else STORE_EOWNER, logged), and a missing one is created 0600 and, as
 * root, given to OWNER:GROUP when CREATE is set (else STORE_ENOENT).
 * Interrupted work of a dead process found under the lock (a torn append,
 * an expunge journal) is finished or undone first, when its record is in a
 * file we trust; so is a piece of an append of ours that a power cut left
 * without its record, known by its form (tail.c). */
int store_open(struct store_box *b, const char *spool, const char *name,
    uid_t owner, gid_t group, int create);
/* Release the locks, keep the file open for reading. */
void store_unlock(struct store_box *b);
/* Take the locks again; STORE_ECHANGED when the path no longer names our file. */
int store_relock(struct store_box *b);
/* Touch the dotlock when LOCK_REFRESH_S have passed, so peers never break it. */
void store_refresh(struct store_box *b);
/* Unlock (if locked) and close. */
void store_close(struct store_box *b);

/* One recipient mailbox of a delivery, with its own trace header block HEAD
 * (From_ line, Return-Path, Received..., LF line ends). */
struct store_rcpt {
	const char	*name;
	uid_t		 uid;		/* the mailbox's owner, or (uid_t)-1 for
					   the running user (store_open) */
	gid_t		 gid;
	const char	*head;
	size_t		 headlen;
};
/* What the store writes after BODY (LEN bytes): the empty line that ends
 * every message of ours, and before it the newline of a last line that has
 * none (only a session taken over sends one).  tail.c takes a message of
 * ours that does not end a line for a torn piece of an append. */
const char *store_ending(const char *body, size_t len);

/* Append HEAD + BODY + store_ending() to every mailbox: BODY is already in
 * mbox form (LF line ends, quoted).  All or nothing: on success every
 * copy is fsync'ed; on failure none is left.  With QUOTA (bytes, 0 for
 * none), a mailbox the message would take past it refuses the whole
 * delivery (STORE_EQUOTA), checked under the locks before anything is
 * written.  Returns 0 or a STORE_* error (logged with the mailbox name). */
int store_deliver(const char *spool, const struct store_rcpt *r, size_t n,
    const char *body, size_t bodylen, uint64_t quota);

/* The snapshot of a locked box B at login: its messages, from its index
 * when that describes the mailbox exactly (a read of the index instead of
 * the whole mailbox), else from a scan, which then writes a new index.
 * *IX is zeroed first; free it with mbox_index_free.  Returns MBOX_OK or
 * an MBOX_* error. */
int store_scan(struct store_box *b, struct mbox_index *ix);

/* Mark mailbox NAME as used by this POP3 session: an fcntl lock on SPOOL/.NAME.pop,
 * released by the kernel when the process dies.  The marker must be one we
 * trust for OWNER's mailbox ((uid_t)-1: the running user).  Returns 0 (*FD
 * set) or STORE_EINUSE / STORE_ETRUST / STORE_EIO. */
int store_session(const char *spool, const char *name, uid_t owner, int *fd);

/* Clear mailbox NAME's spool files in SPOOL that are not to be trusted for
 * OWNER's mailbox ((uid_t)-1: the running user): its session marker
 * (.NAME.pop), index (.NAME.idx) and expunge journal (.NAME.redo), when one
 * is another user's (planted, or left by a former owner of the name: a
 * user removed and made again with a new uid), not a regular file, or has
 * more than one link.  Each one removed is logged once; trusted ones are
 * left as they are (a committed journal is replayed, under the mailbox
 * lock, as every locker does).  Then a bounded sweep of what killed
 * processes left in SPOOL.
 * Contract: call it in the privileged half, as root, BEFORE the process
 * drops to the mailbox owner (pop3d, at each login): in a sticky spool only
 * root may remove another user's file, and the session marker and the
 * journal are then used as the owner.  Without root it removes only what
 * the directory lets it.  It never creates a mailbox.  Returns 0, or
 * STORE_ENAME, STORE_ETRUST (something could not be removed), or a
 * store_open error (locking the mailbox for the journal); all logged.
 * The caller may go on after an error: what is still in the way is judged
 * again, and refused, where it is used. */
int store_clear(const char *spool, const char *name, uid_t owner);

/* On a locked box scanned into IX, remove the messages I with DEL[I] != 0 and
 * keep everything appended after the scan.  Verifies first that the maildrop
 * still holds what was scanned (else STORE_ECHANGED, nothing changed).
 * Crash-safe; see DESIGN.md.  Returns 0 or a STORE_* error. */
int store_expunge(struct store_box *b, const struct mbox_index *ix,
    const unsigned char *del);

/* Test instrumentation, set only by the unit tests: called at each step of a
 * delivery or an expunge where a crash must be survivable (POINT names it, FD
 * is the mailbox), so a test can kill the process exactly there.  The lock
 * wait bound (LOCK_WAIT_MS) can be shortened the same way. */
extern void (*store_fault_hook)(const char *point, int fd);
extern int store_lock_wait_ms;

#endif
