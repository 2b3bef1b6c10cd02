/* privdrop.c: the privilege switch: chroot and the drop to an account in a
 * fixed, checked order, after which root cannot be regained.  Runs as root
 * at start-up and in the privileged parts (priv.h). */
/* chroot() and setgroups() are not POSIX: ask glibc for them. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

/* After a drop to a non-root UID, setuid(0) and setgid(0) must fail: if one
 * works, a saved set-user-id or set-group-id still holds root and a later bug
 * could take it back.  Group root counts as root: no gid 0 may be left, as
 * the real, effective or a supplementary group. */
static int
verify_dropped(uid_t uid, gid_t gid)
{
	gid_t groups[16];	/* we set at most one; more is a failure */
	int i, n;

	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || uid == 0 || gid == 0) {
		log_warnx("privilege drop incomplete uid=%ld gid=%ld",
		    (long)uid, (long)gid);
		return -1;
	}
	if ((n = getgroups((int)(sizeof(groups) / sizeof(groups[0])),
	    groups)) < 0) {
		log_warn("privilege drop check: getgroups");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (groups[i] == 0) {
			log_warnx("privilege drop failed: group root kept "
			    "uid=%ld", (long)uid);
			return -1;
		}
	if (setuid(0) != -1) {
		log_warnx("privilege drop failed: root regained uid=%ld",
		    (long)uid);
		return -1;
	}
	if (setgid(0) != -1) {
		log_warnx("privilege drop failed: group root regained uid=%ld",
		    (long)uid);
		return -1;
	}
	return 0;
}

int
priv_chroot(const struct opts *o)
{
	if (o->chroot == NULL)
		return 0;
	if (chroot(o->chroot) < 0) {
		log_warn("chroot dir=%s", o->chroot);
		return -1;
	}
	/* Without this the old cwd still reaches outside the jail. */
	if (chdir("/") < 0) {
		log_warn("chdir dir=/ after chroot");
		return -1;
	}
	return 0;
}

int
priv_as_user(const struct opts *o, int on)
{
	if (o->user == NULL || getuid() != 0)
		return 0;
	/* Effective ids only, and group first: the saved set-user-id stays
	 * root, so the switch back works; the real drop comes after the
	 * split (priv_split). */
	if (on && (setegid(o->gid) == -1 || seteuid(o->uid) == -1)) {
		log_warn("seteuid uid=%ld gid=%ld", (long)o->uid, (long)o->gid);
		return -1;
	}
	if (!on && (seteuid(0) == -1 || setegid(0) == -1)) {
		log_warn("seteuid back to root");
		return -1;
	}
	return 0;
}

int
priv_drop(uid_t uid, gid_t gid, gid_t extra_gid)
{
	if (uid == 0 || gid == 0 || extra_gid == 0) {
		log_warnx("refusing to run as uid=%ld gid=%ld group=%ld",
		    (long)uid, (long)gid, (long)extra_gid);
		return -1;
	}
	/* Not root (tests): there is nothing to give up, and it only works
	 * when we already are the user. */
	if (geteuid() != 0) {
		if (geteuid() == uid && getegid() == gid)
			return 0;
		log_warnx("cannot switch to uid=%ld gid=%ld without root",
		    (long)uid, (long)gid);
		return -1;
	}
	/* Groups first: once the uid is gone we may no longer change them,
	 * and root's supplementary groups (disk, shadow ...) must not
	 * survive. */
	if (setgroups(extra_gid != (gid_t)-1 ? 1 : 0, &extra_gid) < 0) {
		log_warn("setgroups gid=%ld", (long)extra_gid);
		return -1;
	}
	if (setgid(gid) < 0) {
		log_warn("setgid gid=%ld", (long)gid);
		return -1;
	}
	if (setuid(uid) < 0) {
		log_warn("setuid uid=%ld", (long)uid);
		return -1;
	}
	return verify_dropped(uid, gid);
}

/* The spool's group, when UID:GID needs it to create files in the spool
 * (dotlocks, the session marker, the index), else -1.  A 2775 root:mail
 * spool lets the mail group create them, as mutt's and procmail's setgid
 * helpers do; a group that buys nothing is not kept: with write access to
 * the spool it could rename other users' mailboxes where the sticky bit
 * is not set (-T says so), and group root is never kept. */
gid_t
priv_spool_group(const char *spool, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(spool, &st) == -1 || st.st_gid == 0 || st.st_gid == gid ||
	    (st.st_mode & S_IWGRP) == 0 || (st.st_mode & S_IWOTH) != 0 ||
	    (st.st_uid == uid && (st.st_mode & S_IWUSR) != 0))
		return (gid_t)-1;
	return st.st_gid;
}

int
priv_nullfd(void)
{
	int fd;

	/* In a chroot jail (-r) there may be no /dev/null: the jail's root,
	 * opened read-only, fails every read and write just as safely. */
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fd = open("/", O_RDONLY | O_DIRECTORY);
	return fd;
}

/* A session id: 12 base-32 digits of time (30 bits), pid (22 bits) and a
 * per-process counter (8 bits).  Unique across concurrent sessions on one
 * host because a pid is not reused within the same second. */
void
session_id(char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	static unsigned counter;
	char id[13];
	uint64_t v;
	int i;

	if (cap == 0)
		return;
	v = ((uint64_t)time(NULL) & 0x3fffffff) << 30 |
	    ((uint64_t)getpid() & 0x3fffff) << 8 | (counter++ & 0xff);
	for (i = 11; i >= 0; i--) {
		id[i] = digits[v & 31];
		v >>= 5;
	}
	id[12] = '\0';
	for (i = 0; i < 12 && (size_t)i + 1 < cap; i++)
		buf[i] = id[i];
	buf[i] = '\0';
}
