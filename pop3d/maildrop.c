/* maildrop.c: the maildrop of a session, as its owner: the IN-USE marker,
 * the snapshot scan at login and the commit at QUIT. */
#include <stdlib.h>
#include "log.h"
#include "pop3d.h"

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
	 * made under our name is never served. */
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
