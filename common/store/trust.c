/* trust.c: the store's rule for spool files: open without following links
 * or blocking, then believe only a regular file with one link owned by root,
 * by us or by the mailbox's owner; and the removal of one that fails it.
 * Runs with the caller's privileges: the removal works as root (the
 * privileged half at login and at delivery), or where the directory lets
 * the caller remove the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "trust.h"

int
trust_owner_ok(uid_t file_uid, uid_t owner)
{
	return file_uid == 0 || file_uid == geteuid() ||
	    (owner != (uid_t)-1 && file_uid == owner);
}

/* Why ST is not to be trusted for OWNER's mailbox, into WHY; NULL when it
 * is.  A FIFO blocks, a device has side effects, a directory or a second
 * link makes us write where another user reads.  A file of another user,
 * whatever it says, is that user's word, not ours: a planted one, or one
 * left by a former owner of the same name (a user removed and made again
 * with a new uid). */
static const char *
trust_why(const struct stat *st, uid_t owner, char *why, size_t cap)
{
	if (S_ISLNK(st->st_mode))
		return "a symbolic link";
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1)
		return "not a regular file with one link";
	if (!trust_owner_ok(st->st_uid, owner)) {
		snprintf(why, cap, "owner uid=%ld is neither root, uid=%ld nor "
		    "the mailbox owner uid=%ld", (long)st->st_uid,
		    (long)geteuid(), (long)owner);
		return why;
	}
	return NULL;
}

int
trust_check(const struct stat *st, uid_t owner, const char *path,
    const char *role)
{
	char buf[160];
	const char *why = trust_why(st, owner, buf, sizeof(buf));

	if (why == NULL)
		return 1;
	if (role != NULL)
		log_warnx("%s=%s not trusted: %s", role, path, why);
	return 0;
}

/* Open PATH and judge it: the descriptor, -1 (errno), or -2 with *WHY set
 * (nothing logged).  *ST describes what was judged. */
static int
open_judged(const char *path, int flags, mode_t mode, uid_t owner,
    struct stat *st, char *buf, size_t cap, const char **why)
{
	int fd, e;

	fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		e = errno;
		/* O_NOFOLLOW meets a symbolic link with ELOOP: planted.  A
		 * file we may not open (another user's 0600 marker) is
		 * judged by its lstat, so it is not taken for an I/O error. */
		if ((e == ELOOP || e == EACCES || e == EPERM || e == ENXIO) &&
		    lstat(path, st) == 0 &&
		    (*why = trust_why(st, owner, buf, cap)) != NULL)
			return -2;
		errno = e;
		return -1;
	}
	if (fstat(fd, st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if ((*why = trust_why(st, owner, buf, cap)) != NULL) {
		close(fd);
		return -2;
	}
	/* Blocking again: it is a regular file, and our writes must finish. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int
trust_open(const char *path, int flags, mode_t mode, uid_t owner,
    const char *role, struct stat *stp)
{
	struct stat st;
	const char *why;
	char buf[160];
	int fd;

	fd = open_judged(path, flags, mode, owner, &st, buf, sizeof(buf), &why);
	if (fd == -2 && role != NULL)
		log_warnx("%s=%s not trusted: %s", role, path, why);
	if (fd >= 0 && stp != NULL)
		*stp = st;
	return fd;
}

/* Remove the untrusted file PATH that was judged as ST.  unlink() never
 * follows a link, and in a sticky spool only root (or the file's owner)
 * may remove another user's file, so this is the privileged half's job.
 * A directory cannot be unlinked: it is renamed out of the way instead.
 * Why this is safe as root in a directory that users write: the name may
 * be changed between the judgement and the unlink, but in a sticky spool
 * only its owner can do that, so what we remove is the untrusted file, a
 * file its owner put there instead (as untrusted), or a trusted one that
 * a store process of root's or the mailbox owner's made meanwhile.  The
 * callers make the last case harmless: the journal is only cleared under
 * the mailbox lock (no trusted one can appear then), the index is a cache
 * (its loss costs a scan), and the session marker is made by a login of
 * the same user, whose lost marker lets two sessions run, where the
 * expunge's check that the maildrop is as scanned still holds.  Logs once
 * and returns 1 when it is gone. */
static int
clear(const char *path, const struct stat *st, const char *role,
    const char *why)
{
	char aside[4096];
	int e;

	if (unlink(path) == 0 || errno == ENOENT) {
		log_warnx("%s=%s not trusted: %s; removed", role, path, why);
		return 1;
	}
	e = errno;
	if ((e == EISDIR || (e == EPERM && S_ISDIR(st->st_mode))) &&
	    snprintf(aside, sizeof(aside), "%s.untrusted.%lld", path,
	    (long long)st->st_ino) < (int)sizeof(aside) &&
	    rename(path, aside) == 0) {
		log_warnx("%s=%s not trusted: %s; moved to %s", role, path, why,
		    aside);
		return 1;
	}
	errno = e;
	log_warn("%s=%s not trusted: %s; cannot remove it", role, path, why);
	return 0;
}

int
trust_open_clear(const char *path, int flags, mode_t mode, uid_t owner,
    const char *role, struct stat *stp)
{
	struct stat st;
	const char *why;
	char buf[160];
	int fd;

	fd = open_judged(path, flags, mode, owner, &st, buf, sizeof(buf), &why);
	if (fd == -2) {
		if (!clear(path, &st, role, why))
			return -2;
		if ((flags & O_CREAT) == 0) {
			errno = ENOENT;
			return -1;
		}
		/* The name is free again: make ours.  Another plant in the
		 * meantime is refused (and logged) as the first was. */
		fd = trust_open(path, flags, mode, owner, role, &st);
	}
	if (fd >= 0 && stp != NULL)
		*stp = st;
	return fd;
}

int
trust_clear_name(const char *path, uid_t owner, const char *role)
{
	struct stat st;
	const char *why;
	char buf[160];

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((why = trust_why(&st, owner, buf, sizeof(buf))) == NULL)
		return 0;
	return clear(path, &st, role, why) ? 1 : -1;
}
