/* drop.c: the maildrop of a session: whose identity it is worked on with,
 * the privilege drop (in the privileged part, the last thing it does as
 * root), the IN-USE marker, the snapshot scan at login and the commit at
 * QUIT (as the mailbox owner). */
#include <stdlib.h>
#include <sys/stat.h>
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

enum pop3_res
pop3_drop_switch(const struct pop3_conf *c, const struct user *u,
    const char *quser, const char **why)
{
	struct stat st;
	gid_t gid, extra = (gid_t)-1;
	uid_t uid;

	if (identity(c, u, &uid, &gid, why) == -1) {
		log_warnx("maildrop user=%s error=\"%s\"", quser, *why);
		return PR_ERR_PERM;
	}
	if (geteuid() != uid || getegid() != gid) {
		/* A 2775 root:mail spool lets the mail group create dotlocks;
		 * keep that group so the drop does not cost us locking.  Only
		 * a group that buys that (group-writable) and is not root's:
		 * a root:root spool would otherwise leave gid 0 to the user. */
		if (stat(c->o->spool, &st) == 0 && st.st_gid != 0 &&
		    (st.st_mode & S_IWGRP) != 0)
			extra = st.st_gid;
		/* As root: remove spool files planted against this mailbox. */
		(void)store_clear(c->o->spool, u->name, uid);
		if (c->drop(uid, gid, extra) == -1) {
			*why = "cannot switch to the mailbox owner";
			return PR_ERR_PERM;
		}
	}
	return PR_OK;
}

enum pop3_res
pop3_drop_open(struct pop3 *s)
{
	const struct opts *o = s->conf->o;
	int r;

	/* RFC 1939 8: one session per maildrop.  The marker is a kernel lock,
	 * so a session that died (SIGKILL, power loss) never blocks a login. */
	if ((r = store_session(o->spool, s->user, (uid_t)-1, &s->popfd)) !=
	    STORE_OK) {
		s->popfd = -1;
		if (r == STORE_EINUSE) {
			log_info("maildrop user=%s error=in-use", s->quser);
			return PR_ERR_INUSE;
		}
		s->why = store_strerror(r);
		log_warnx("maildrop user=%s error=\"%s\"", s->quser, s->why);
		return PR_ERR_TEMP;
	}

	/* The snapshot: lock, scan what is there now, unlock.  Deliveries wait
	 * only for the scan; what they add later is for the next session.
	 * The mailbox must be ours (we are its owner now): one another user
	 * made under our name is never served (issue 9). */
	r = store_open(&s->box, o->spool, s->user, (uid_t)-1, (gid_t)-1, 0);
	if (r == STORE_ENOENT) {
		/* No mailbox file yet: an empty maildrop, not an error. */
		s->box.fd = -1;
	} else if (r != STORE_OK) {
		s->box.fd = -1;
		s->why = store_strerror(r);
		log_warnx("maildrop user=%s error=\"%s\"", s->quser, s->why);
		return r == STORE_ENAME || r == STORE_ENOTMBOX ?
		    PR_ERR_PERM : PR_ERR_TEMP;
	} else {
		/* The index when it describes the mailbox exactly, else a
		 * scan (which writes a new index). */
		r = store_scan(&s->box, &s->ix);
		store_unlock(&s->box);
		if (r != MBOX_OK) {
			s->why = r == MBOX_ENOTMBOX ? "not an mbox file" :
			    r == MBOX_ETOOMANY ? "too many messages" :
			    r == MBOX_ENOMEM ? "out of memory" : "read error";
			log_warnx("maildrop user=%s error=\"%s\"", s->quser,
			    s->why);
			return r == MBOX_ENOTMBOX ? PR_ERR_PERM : PR_ERR_TEMP;
		}
	}
	if ((s->del = calloc(s->ix.n + 1, 1)) == NULL) {
		s->why = "out of memory";
		log_warnx("maildrop user=%s error=\"%s\"", s->quser, s->why);
		return PR_ERR_TEMP;
	}
	return PR_OK;
}

enum pop3_res
pop3_drop_login(struct pop3 *s, const char *method)
{
	enum pop3_res r;

	if ((r = pop3_drop_open(s)) != PR_OK) {
		/* Privileges are gone: no second login in this session. */
		s->close = 1;
		s->end = "login-error";
		return r;
	}
	log_info("login user=%s method=%s messages=%zu size=%llu",
	    s->quser, method, s->ix.n, (unsigned long long)s->ix.total);
	pop3_set_state(s, ST_TRANS);
	pop3_reply_text(s, "maildrop has %zu messages (%llu octets)", s->ix.n,
	    (unsigned long long)s->ix.total);
	return PR_OK;
}

enum pop3_res
pop3_drop_commit(struct pop3 *s)
{
	int r;

	if (s->ndel == 0) {
		pop3_reply_text(s, "bye, %zu messages kept", s->ix.n);
		return PR_BYE;
	}
	/* RFC 1939 6: deletions happen only here.  The store verifies the
	 * maildrop still starts with what we scanned, keeps mail appended
	 * since, and commits crash-safely; +OK only once it is durable. */
	r = store_relock(&s->box);
	if (r == STORE_OK)
		r = store_expunge(&s->box, &s->ix, s->del);
	store_close(&s->box);
	s->box.fd = -1;
	if (r != STORE_OK) {
		/* The store logged why, where it found out; the logout line
		 * says that this session removed nothing. */
		s->why = store_strerror(r);
		s->ndel = 0;
		s->close = 1;
		s->end = "update-failed";
		return PR_ERR_COMMIT;
	}
	pop3_reply_text(s, "bye, %zu deleted, %zu kept", s->ndel,
	    s->ix.n - s->ndel);
	return PR_BYE;
}
