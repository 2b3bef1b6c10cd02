/* trust.c: the store's rule for spool files: open without following links
 * or blocking, then believe only a regular file with one link owned by root,
 * by us or by the mailbox's owner.  Runs with the caller's privileges. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "trust.h"

int
trust_owner_ok(uid_t file_uid, uid_t owner)
{
	return file_uid == 0 || file_uid == geteuid() ||
	    (owner != (uid_t)-1 && file_uid == owner);
}

int
trust_check(const struct stat *st, uid_t owner, const char *path,
    const char *role)
{
	/* A FIFO blocks, a device has side effects, a directory or a second
	 * link makes us write where another user reads.  A file of another
	 * user, whatever it says, is that user's word, not ours. */
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1) {
		log_warnx("%s=%s not trusted: not a regular file with one link",
		    role, path);
		return 0;
	}
	if (!trust_owner_ok(st->st_uid, owner)) {
		log_warnx("%s=%s not trusted: owner uid=%ld is neither root, "
		    "uid=%ld nor the mailbox owner uid=%ld", role, path,
		    (long)st->st_uid, (long)geteuid(), (long)owner);
		return 0;
	}
	return 1;
}

int
trust_open(const char *path, int flags, mode_t mode, uid_t owner,
    const char *role, struct stat *stp)
{
	struct stat st;
	int fd, e;

	fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		/* O_NOFOLLOW meets a symbolic link with ELOOP: planted. */
		if (errno == ELOOP) {
			log_warnx("%s=%s not trusted: a symbolic link", role,
			    path);
			return -2;
		}
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!trust_check(&st, owner, path, role)) {
		close(fd);
		return -2;
	}
	/* Blocking again: it is a regular file, and our writes must finish. */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (stp != NULL)
		*stp = st;
	return fd;
}
