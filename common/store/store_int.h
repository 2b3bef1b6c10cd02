/* store_int.h: shared between the store's own files, not for the servers.
 * The files call downward only, never back, so each can be read and tested
 * on top of the ones below it:
 *   deliver.c, expunge.c -> store.c -> journal.c, index.c, sweep.c ->
 *   lock.c -> trust.c -> util.c;  index.c -> stamp.c -> util.c;
 *   index.c -> scan.c -> uidl.c -> mbox.c -> format.c;
 *   store.c -> tail.c -> format.c */
#ifndef INETMAIL_STORE_INT_H
#define INETMAIL_STORE_INT_H

#include <sys/stat.h>

#include "store.h"

/* A STORE_* result for errno value E of a failed write. */
int store_errno(int e);

/* Release B's locks (dotlock, then fcntl), keeping the file open.
 * Returns 0, or -1 when the dotlock could not be removed (logged). */
int store_release(struct store_box *b);

/* A monotonic clock in milliseconds, for lock waits, and a sleep. */
long store_now_ms(void);
void store_sleep_ms(long ms);

/* fsync directory DIR, so names created or removed in it survive a power
 * cut.  Returns 0 or -1. */
int sync_dir(const char *dir);

/* The spool directory of B, for sync_dir, into BUF. */
const char *store_spool(const struct store_box *b, char *buf, size_t cap);

/* Create a new file DIR/PREFIX<16 random hex digits> with open FLAGS
 * (O_CREAT|O_EXCL|O_NOFOLLOW added) and MODE, its path into PATH (CAP
 * bytes), drawing another name on a clash.  Returns the descriptor, or -1
 * (errno).  The names of the store's temporary files (".lk.", ".new.",
 * ".txn.") are made here and nowhere else. */
#define STORE_TMP_RANDOM	8	/* random bytes in a name */
/* 64 random bits (for sampling: no secret). */
uint64_t store_random(void);
/* Just the name: PREFIX and the random digits into BUF.  Returns 0 or -1. */
int store_tmp_name(char *buf, size_t cap, const char *prefix);
int store_tmp_create(const char *dir, const char *prefix, int flags,
    mode_t mode, char *path, size_t cap);
/* 1 when NAME is PREFIX followed by exactly the hex digits
 * store_tmp_create puts there. */
int store_tmp_name_ok(const char *name, const char *prefix);

/* stamp.c: the state of a mailbox file that an index describes. */
/* The stamp of the file ST describes. */
void store_stamp(const struct stat *st, struct mbox_stamp *sp);
int store_stamp_eq(const struct mbox_stamp *a, const struct mbox_stamp *b);
/* 1 when SP is racy: the clock that stamps files has not moved past its
 * ctime yet, so a change now could leave the same stamp. */
int store_stamp_racy(const struct mbox_stamp *sp);
/* Wait, up to STAMP_SETTLE_MS and holding the lock, until the stamp of
 * B's mailbox is final: not racy, or on a file system that gives every
 * change after a stat a ctime of its own (no wait there).  Returns 0 (*ST
 * and *SP the file now) or -1 (a file system whose times are whole
 * seconds, or fstat failed). */
int store_stamp_settle(struct store_box *b, struct stat *st,
    struct mbox_stamp *sp);
/* 1 when SP, read from B's mailbox just now, is final: not racy, or on a
 * file system that gives every change after a stat a ctime of its own. */
int store_stamp_final(const struct store_box *b, const struct mbox_stamp *sp);

/* index.c: the mailbox index SPOOL/.NAME.idx (a cache of a scan). */
/* Load B's index into *IX when it describes the locked mailbox exactly, or
 * the same file grown by an append (then only the new bytes are scanned,
 * and the extended index is written), and holds together.  Returns 0 (*IX
 * filled, duplicates numbered) or -1. */
int store_index_load(struct store_box *b, struct mbox_index *ix);
/* B's index when it describes the locked mailbox exactly as it is (no
 * extension, nothing written; duplicates not numbered).  0 or -1. */
int store_index_current(struct store_box *b, struct mbox_index *ix);
/* Write IX (with its stamp) as B's index; best effort, never synced. */
void store_index_save(struct store_box *b, const struct mbox_index *ix);
/* B's index, if any, describes nothing any more. */
void store_index_drop(struct store_box *b);
/* After a delivery appended to B (BEFORE: the file before it, locked all
 * along): carry an index that was current on with the new messages; start
 * one for a mailbox that was empty.  Best effort. */
void store_index_append(struct store_box *b, const struct stat *before);

/* sweep.c: remove what killed processes left in SPOOL (.lk*, .new.*, and
 * .txn.* that no lock names), once it is LOCK_STALE_S old, looking at
 * SWEEP_ENTRIES directory entries from where the last sweep stopped.  Best
 * effort, logged per removal. */
void store_sweep(const char *spool);
/* The first line of a commit marker; the mailbox names follow, one a line. */
#define TXN_MAGIC	"inetmail-txn 1\n"

/* tail.c: an append torn by a power cut, found by its form.  File systems
 * write a file's end back in pages: a piece of an append that a power cut
 * left ends at a multiple of TEAR_BLOCK (4 KiB pages, or bigger ones,
 * which are multiples of it). */
#define TEAR_BLOCK	4096
/* Under the lock of B: cut off the piece of an append of ours that a
 * power cut left at the end of the mailbox with no record of it (see
 * tail.c for how it is known).  Returns 0 or STORE_EIO (logged). */
int store_tail_recover(struct store_box *b);

/* journal.c: the expunge journal SPOOL/.NAME.redo of box B. */
#define JOURNAL_HEAD	256	/* header bytes; the data follows */
/* Its path into BUF.  Returns 0, or -1 when too long. */
int journal_path(const struct store_box *b, char *buf, size_t cap);
/* Under the lock of B: finish or drop a journal left by a dead process, if
 * it is a file we trust (else it is ignored, logged).  Returns 0 or a
 * STORE_* error. */
int journal_recover(struct store_box *b);
/* Copy LEN bytes from IN at IOFF to OUT at OOFF through BUF (JOURNAL_CHUNK
 * bytes), refreshing B's dotlock as it goes.  Returns 0, or -1 (errno). */
#define JOURNAL_CHUNK	(1024 * 1024)
int journal_copy(struct store_box *b, int in, uint64_t ioff, int out,
    uint64_t ooff, uint64_t len, char *buf);
/* Apply journal JFD (LEN data bytes) to B's mailbox at X: copy, truncate
 * to X + LEN, fsync.  Idempotent.  Returns 0, or -1 (logged). */
int journal_apply(struct store_box *b, int jfd, uint64_t x, uint64_t len,
    char *buf);

/* Give the tests a chance to crash here (see store_fault_hook). */
#define FAULT(point, fd) \
	(store_fault_hook ? store_fault_hook(point, fd) : (void)0)

#endif
