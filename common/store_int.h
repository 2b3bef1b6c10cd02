/* store_int.h: shared between the store's own files, not for the servers. */
#ifndef INETMAIL_STORE_INT_H
#define INETMAIL_STORE_INT_H

#include "store.h"

/* A STORE_* result for errno value E of a failed write. */
int store_errno(int e);

/* Release B's locks (dotlock, then fcntl), keeping the file open.
 * Returns 0, or -1 when the dotlock could not be removed (logged). */
int store_release(struct store_box *b);

/* A monotonic clock in milliseconds, for lock waits. */
long store_now_ms(void);

/* fsync directory DIR, so names created or removed in it survive a power
 * cut.  Returns 0 or -1. */
int sync_dir(const char *dir);

/* Under the lock of B: finish or drop an expunge journal left by a dead
 * process (see expunge.c).  Returns 0 or a STORE_* error. */
int journal_recover(struct store_box *b, const char *spool, const char *name);

/* Give the tests a chance to crash here (see store_fault_hook). */
#define FAULT(point, fd) \
	(store_fault_hook ? store_fault_hook(point, fd) : (void)0)

#endif
