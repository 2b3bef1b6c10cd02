/* owner.c: the switch to the mailbox owner: whose ids the maildrop is
 * worked on with, and the drop to them, the login checker's last act with
 * privileges (root under inetd).  Nothing after it can regain them. */
#include <unistd.h>

#include "log.h"
#include "pop3d.h"

/* Which uid/gid the mailbox work runs as: the ids the users file (or the
 * system account) gives, else the -u user, else -- when we were started
 * without root -- who we are.  Returns 0, or -1 with *WHY set. */
static int
identity(const struct pop3_conf *c, const struct user *u, uid_t *uid,
    gid_t *gid, const char **why)
{
	const struct opts *o = c->o;

	if (u->has_ids) {
		*uid = u->uid;
		*gid = u->gid;
	} else if (o->user != NULL) {
		*uid = o->uid;
		*gid = o->gid;
	} else if (geteuid() != 0) {
		*uid = geteuid();
		*gid = getegid();
	} else {
		*why = "no user id for this account";
		return -1;
	}
	/* A root-owned process writing into a spool directory that users can
	 * write to is how mail servers get owned (symlink and hard link
	 * races); mailbox work is never done as root. */
	if (*uid == 0) {
		*why = "refusing to work as root";
		return -1;
	}
	/* Group root is as good as root: /etc/shadow, /root, most of /var
	 * are readable or writable by gid 0. */
	if (*gid == 0) {
		*why = "refusing to work as group root";
		return -1;
	}
	return 0;
}

int
pop3_owner_switch(const struct pop3_conf *c, const struct user *u,
    const char *quser, const char **why)
{
	gid_t gid;
	uid_t uid;

	if (identity(c, u, &uid, &gid, why) == -1) {
		log_warnx("maildrop user=%s error=\"%s\"", quser, *why);
		return -1;
	}
	if (geteuid() != uid || getegid() != gid || getuid() == 0) {
		/* As root, the last time: spool files planted against this
		 * mailbox, which the owner might not be able to remove (a
		 * sticky spool), go now. */
		(void)store_clear(c->o->spool, u->name, uid);
		if (c->drop(uid, gid, priv_spool_group(c->o->spool, uid,
		    gid)) == -1) {
			*why = "cannot switch to the mailbox owner";
			return -1;
		}
	}
	return 0;
}
