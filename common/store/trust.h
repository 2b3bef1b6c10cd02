/* trust.h: internal to the store: which spool files it believes.  Anyone
 * who may write the spool (a sticky 1777 one: every local user) can plant a
 * file under any name, so a file's name says nothing; its type and owner do. */
#ifndef INETMAIL_TRUST_H
#define INETMAIL_TRUST_H

#include <sys/stat.h>
#include <sys/types.h>

/* 1 when a spool file owned by FILE_UID may be acted on in the work on a
 * mailbox owned by OWNER: root, the running user, or that owner. */
int trust_owner_ok(uid_t file_uid, uid_t owner);

/* Open spool file PATH with FLAGS (and MODE when FLAGS has O_CREAT), never
 * following a link and never blocking (a FIFO), then check with fstat that
 * it is a regular file with one link whose owner trust_owner_ok() accepts.
 * ROLE names the file in the log ("journal", "dotlock" ...).  Returns the
 * descriptor (*ST filled when ST is not NULL); -1 with errno set when it
 * could not be opened (ENOENT: there is none); -2 when it exists but is not
 * to be trusted, which is logged here, once. */
int trust_open(const char *path, int flags, mode_t mode, uid_t owner,
    const char *role, struct stat *st);

/* The same check on a file already open (or lstat'ed): ST describes it.
 * Returns 1 trusted, 0 not (logged, with PATH and ROLE). */
int trust_check(const struct stat *st, uid_t owner, const char *path,
    const char *role);

#endif
