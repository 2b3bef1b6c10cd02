/* priv.c: chroot and privilege drop in a fixed, checked order.  Runs as root
 * at start-up; after priv_startup/priv_drop nothing can regain root. */
/* chroot() and setgroups() are not POSIX: ask glibc for them. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"

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
priv_startup(const struct opts *o)
{
	if (o->chroot != NULL) {
		if (chroot(o->chroot) < 0) {
			log_warn("chroot dir=%s", o->chroot);
			return -1;
		}
		/* Without this the old cwd still reaches outside the jail. */
		if (chdir("/") < 0) {
			log_warn("chdir dir=/ after chroot");
			return -1;
		}
	}
	if (o->user == NULL)
		return 0;
	/* Groups first: once the uid is gone we may no longer change them, and
	 * root's supplementary groups (disk, shadow ...) must not survive. */
	if (setgroups(1, &o->gid) < 0) {
		log_warn("setgroups gid=%ld", (long)o->gid);
		return -1;
	}
	if (setgid(o->gid) < 0) {
		log_warn("setgid gid=%ld", (long)o->gid);
		return -1;
	}
	if (setuid(o->uid) < 0) {
		log_warn("setuid uid=%ld", (long)o->uid);
		return -1;
	}
	return verify_dropped(o->uid, o->gid);
}

int
priv_drop(uid_t uid, gid_t gid, gid_t extra_gid)
{
	if (uid == 0 || gid == 0 || extra_gid == 0) {
		log_warnx("refusing mailbox work as uid=%ld gid=%ld group=%ld",
		    (long)uid, (long)gid, (long)extra_gid);
		return -1;
	}
	/* Not root (tests, or -u already dropped): there is nothing to give up,
	 * and it only works when we already are the user. */
	if (geteuid() != 0) {
		if (geteuid() == uid && getegid() == gid)
			return 0;
		log_warnx("cannot switch to uid=%ld gid=%ld without root",
		    (long)uid, (long)gid);
		return -1;
	}
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
