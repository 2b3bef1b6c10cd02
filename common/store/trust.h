/* trust.h: internal to the store: which spool files it believes, and the
 * removal of the ones it does not.  Anyone who may write the spool (a
 * sticky 1777 one: every local user) can plant a file under any name, so a
 * file's name says nothing; its type and owner do. */
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
 * ROLE names the file in the log ("journal", "dotlock" ...); NULL logs
 * nothing.  Returns the descriptor (*ST filled when ST is not NULL); -1
 * with errno set when it could not be opened (ENOENT: there is none); -2
 * when it exists but is not to be trusted, which is logged here, once.  A
 * file we may not open (EACCES) is judged by its lstat: another user's
 * file is -2, not an I/O error. */
int trust_open(const char *path, int flags, mode_t mode, uid_t owner,
    const char *role, struct stat *st);

/* trust_open, but a file that is not to be trusted is removed when we may
 * (root, or a directory that lets us), logged once with ROLE, and then
 * treated as absent: -1 with ENOENT, or with O_CREAT a new file of ours.
 * -2 only when it could not be removed.  Only for names whose loss never
 * costs mail: see clear() in trust.c for when the caller must hold the
 * mailbox lock. */
int trust_open_clear(const char *path, int flags, mode_t mode, uid_t owner,
    const char *role, struct stat *st);

/* The same for a name that is not to be opened: lstat PATH, and remove it
 * when it is not to be trusted.  Returns 0 (none, or trusted), 1 removed
 * (logged), -1 (an error, or could not remove it: logged). */
int trust_clear_name(const char *path, uid_t owner, const char *role);

/* The same check on a file already open (or lstat'ed): ST describes it.
 * Returns 1 trusted, 0 not (logged with PATH and ROLE; NULL: silent). */
int trust_check(const struct stat *st, uid_t owner, const char *path,
    const char *role);

#endif
