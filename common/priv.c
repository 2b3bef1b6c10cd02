/* priv.c: chroot and privilege drop in a fixed, checked order.  Runs as root
 * at start-up; after priv_startup/priv_drop nothing can regain root. */
/* chroot() and setgroups() are not POSIX: ask glibc for them. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "log.h"
#include "opts.h"

/* After a drop to a non-root UID, setuid(0) must fail: if it works, the saved
 * set-user-id still holds root and a later bug could take it back. */
static int
verify_dropped(uid_t uid, gid_t gid)
{
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid) {
		log_warnx("privilege drop incomplete uid=%ld gid=%ld",
		    (long)uid, (long)gid);
		return -1;
	}
	if (setuid(0) != -1) {
		log_warnx("privilege drop failed: root regained uid=%ld",
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
	if (uid == 0) {
		log_warnx("refusing mailbox work as uid=0");
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
