/* rcpt.c: which mailboxes a recipient's local part stands for: aliases
 * (nested, as /etc/aliases has them), user+tag, users (file or system),
 * postmaster; the rules on who may receive mail (the first and last valid
 * uids, a users-file entry without an owner, the quota); the delivery
 * side's table of them; and what a resolution met on its way (a bad alias
 * target, postmaster's own mailbox), told to the caller as it is met: the
 * delivery side logs it once a connection, smtpd -T reports it.  Runs in
 * the delivery side (root under inetd), and under -T: reads the users
 * file, writes nothing. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "users.h"
#include "smtpd.h"

static int
is_postmaster(const char *name, size_t len)
{
	return len == 10 && strncasecmp(name, "postmaster", 10) == 0;
}

/* One RCPT's work: the names it added (for the session's log) and the
 * alias expansion's budget. */
struct work {
	const struct smtpd_conf *c;
	struct rcpt_table *t;
	const struct rcpt_notes *notes;
	const char	*addr;
	char		*buf;
	size_t		 cap, len;
	unsigned	 steps;		/* alias targets looked at */
};

/* Tell the caller what was met: event EV of alias A (target X). */
static void
event(struct work *w, enum rcpt_event ev, const struct alias *a,
    const struct alias_target *x)
{
	if (w->notes != NULL && w->notes->fn != NULL)
		w->notes->fn(w->notes->ctx, ev, a, x);
}

static void
note(struct work *w, const char *box, size_t len)
{
	size_t room;

	if (w->len > 0 && w->len < w->cap)
		w->buf[w->len++] = ',';
	room = w->cap - w->len;
	if (len > room)
		len = room;
	memcpy(w->buf + w->len, box, len);
	w->len += len;
}

/* Add mailbox BOX (LEN bytes, a checked name) owned by UID:GID.  A mailbox
 * already listed is not added again: duplicates deliver once.  Returns
 * R_RCPT_OK or R_TOO_MANY. */
static enum reply
add_box(struct work *w, const char *box, size_t len, uid_t uid, gid_t gid)
{
	struct rcpt_table *t = w->t;
	struct rcpt *r;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strlen(t->r[i].box) == len &&
		    memcmp(t->r[i].box, box, len) == 0)
			return R_RCPT_OK;
	if (t->n >= t->cap)
		return R_TOO_MANY;
	r = &t->r[t->n++];
	memcpy(r->box, box, len);
	r->box[len] = '\0';
	/* "for <...>" in Received: the address as given, route dropped. */
	snprintf(r->addr, sizeof(r->addr), "%s", w->addr);
	r->uid = uid;
	r->gid = gid;
	note(w, box, len);
	return R_RCPT_OK;
}

#define U_FOUND		1
#define U_UNKNOWN	0
#define U_LOOKUP	(-1)	/* the users file cannot be read */
#define U_NOIDS		(-2)	/* as root without -u: no owner known */
#define U_SYSTEM	(-3)	/* uid below the first valid uid (-F), or a
				   system account above the last (-M) */

/* Look NAME up as a user and decide whose its mailbox is. */
static int
user(const struct smtpd_conf *c, const char *name, size_t len, struct user *u)
{
	char q[LOG_QUOTE_SIZE];
	int rc, owned, account;

	rc = users_lookup(c->o.users, name, len, 1, u);
	if (rc <= 0)
		return rc;
	/* A name we would refuse from a client is refused from a file too. */
	if (!smtp_rcpt_name_ok(u->name, strlen(u->name))) {
		log_warnx("user name not usable as a mailbox, skipped");
		return U_UNKNOWN;
	}
	log_quote(q, sizeof(q), u->name, strlen(u->name));
	/* As root, a mailbox belongs to its user; otherwise the -u user (or
	 * a test run) owns every mailbox it makes. */
	owned = geteuid() == 0 && c->o.user == NULL;
	/* A users-file entry with no uid:gid has no user to give one to: a
	 * mailbox of root's would take mail no one can fetch. */
	if (owned && !u->has_ids) {
		log_warnx("user=%s has no uid:gid in the users file: mail "
		    "refused (add :UID:GID to the entry, or run with -u)", q);
		return U_NOIDS;
	}
	/* System accounts (root, daemon, www-data ...) take no mail from the
	 * network, as Dovecot's first_valid_uid has it; an alias may still
	 * route their names to someone, or name them.  Above Debian's
	 * UID_MAX live nobody (65534) and other ids that no person logs in
	 * as.  An account's uid says what it is whoever owns the mailbox; a
	 * users-file entry names its uid on purpose, which counts (against
	 * -F only) where it owns the mailbox.  The caller decides, and logs. */
	account = c->o.users == NULL;	/* a system account, not an entry */
	if (u->has_ids && (account || owned) &&
	    (u->uid < c->o.firstuid || (account && u->uid > c->o.lastuid)))
		return U_SYSTEM;
	if (!owned) {
		u->has_ids = 0;
		u->uid = (uid_t)-1;
		u->gid = (gid_t)-1;
	}
	return U_FOUND;
}

/* The refusal of system account U as a recipient, for the log. */
static void
log_system(const struct smtpd_conf *c, const struct user *u)
{
	char q[LOG_QUOTE_SIZE];

	log_quote(q, sizeof(q), u->name, strlen(u->name));
	if (u->uid < c->o.firstuid)
		log_info("user=%s uid=%ld is below the first valid uid %ld (-F): "
		    "refused", q, (long)u->uid, (long)c->o.firstuid);
	else
		log_info("user=%s uid=%ld is above the last valid uid %ld (-M): "
		    "refused", q, (long)u->uid, (long)c->o.lastuid);
}

/* A user NAME, or NAME's part before '+' (RFC 5233 subaddress). */
static int
user_or_base(const struct smtpd_conf *c, const char *name, size_t len,
    struct user *u)
{
	const char *plus;
	int rc;

	rc = user(c, name, len, u);
	if (rc == U_UNKNOWN && (plus = memchr(name, '+', len)) != NULL &&
	    plus > name)
		rc = user(c, name, (size_t)(plus - name), u);
	return rc;
}

static enum reply resolve(struct work *w, const char *name, size_t len,
    int depth);

/* Expand alias A: every local target that is an alias again (to a depth
 * of ALIAS_DEPTH_MAX) or a user.  Targets that are not supported, or name
 * no user, deliver nothing, and are told to the caller (RCPT_EV_*) as
 * they are met.  All of the alias or none of it. */
static enum reply
expand(struct work *w, const struct alias *a, int depth)
{
	const struct aliases *al = &w->c->aliases;
	const struct alias_target *x;
	struct user u;
	size_t i, n0 = w->t->n, len0 = w->len;
	enum reply r = R_NO_USER, k;
	int rc;

	if (a->dupline != 0)
		event(w, RCPT_EV_DUPLICATE, a, NULL);
	for (i = 0; i < a->count; i++) {
		x = &al->t[a->first + i];
		if (x->kind != AT_LOCAL) {
			event(w, RCPT_EV_UNSUPPORTED, a, x);
			continue;
		}
		if (++w->steps > ALIAS_STEPS_MAX) {
			event(w, RCPT_EV_FANOUT, a, NULL);
			r = R_LOOKUP;
			break;
		}
		/* "alice: alice, bob" delivers to alice herself; "\\alice"
		 * too; deeper than the bound, the name is taken as a user. */
		if (!x->noalias && depth < ALIAS_DEPTH_MAX &&
		    strcasecmp(x->name, a->name) != 0 &&
		    smtp_aliases_find(al, x->name, strlen(x->name)) != NULL)
			k = resolve(w, x->name, strlen(x->name), depth + 1);
		else {
			rc = user_or_base(w->c, x->name, strlen(x->name), &u);
			/* The administrator routed it here: a system account
			 * is a fine target (root: alice; postmaster: root),
			 * though no POP3 login can fetch its mail. */
			if (rc == U_SYSTEM) {
				event(w, RCPT_EV_SYSTEM, a, x);
				rc = U_FOUND;
			} else if (rc == U_UNKNOWN)
				event(w, RCPT_EV_DEAD, a, x);
			k = rc == U_FOUND ? add_box(w, u.name, strlen(u.name),
			    u.uid, u.gid) : rc == U_LOOKUP ? R_LOOKUP :
			    rc == U_NOIDS ? R_NO_IDS : R_NO_USER;
		}
		if (k == R_RCPT_OK)
			r = R_RCPT_OK;
		else if (k != R_NO_USER) {
			r = k;
			break;
		}
	}
	if (r == R_NO_USER)
		event(w, RCPT_EV_EMPTY, a, NULL);
	if (r != R_RCPT_OK) {
		w->t->n = n0;
		w->len = len0;
	}
	return r;
}

/* NAME as an alias, else as a user.  Returns R_NO_USER when neither. */
static enum reply
resolve(struct work *w, const char *name, size_t len, int depth)
{
	const struct alias *a;
	struct user u;

	if ((a = smtp_aliases_find(&w->c->aliases, name, len)) != NULL)
		return expand(w, a, depth);
	switch (user(w->c, name, len, &u)) {
	case U_FOUND:
		return add_box(w, u.name, strlen(u.name), u.uid, u.gid);
	case U_LOOKUP:
		return R_LOOKUP;
	case U_NOIDS:
		return R_NO_IDS;
	case U_SYSTEM:
		log_system(w->c, &u);
		return R_NO_USER;
	default:
		return R_NO_USER;
	}
}

/* -q: a mailbox already at or over the quota takes nothing more.  The
 * exact check is the store's, under the lock, at delivery. */
static int
over_quota(const struct smtpd_conf *c, const char *box)
{
	char p[PATH_MAX];
	struct stat st;

	if (c->quota == 0)
		return 0;
	snprintf(p, sizeof(p), "%s/%s", c->o.spool, box);
	return lstat(p, &st) == 0 && (uint64_t)st.st_size >= c->quota;
}

enum reply
smtp_rcpt_resolve(const struct smtpd_conf *c, struct rcpt_table *t,
    const struct rcpt_notes *notes, const char *name, size_t len,
    const char *addr, char *boxes, size_t cap, size_t *blen)
{
	struct work w = { c, t, notes, addr, boxes, cap, 0, 0 };
	const char *plus;
	enum reply r;
	size_t base, i, n0 = t->n;

	/* No "table full" test here: a duplicate of a listed mailbox is
	 * accepted whatever the count (add_box tests after its duplicate
	 * check; an alias is added all or none). */
	r = resolve(&w, name, len, 0);
	plus = memchr(name, '+', len);
	if (r == R_NO_USER && plus != NULL && plus > name) {
		base = (size_t)(plus - name);
		r = resolve(&w, name, base, 0);
	} else
		base = len;
	/* RFC 5321 4.5.1: postmaster always exists.  Without an alias or a
	 * user of that name that takes its mail, it goes to the mailbox
	 * "postmaster", owned by whoever delivers (root under inetd), which
	 * no POP3 login can fetch: kept, never refused, and said. */
	if ((r == R_NO_USER || r == R_NO_IDS) && is_postmaster(name, base)) {
		event(&w, RCPT_EV_POSTMASTER,
		    smtp_aliases_find(&c->aliases, "postmaster", 10), NULL);
		r = add_box(&w, "postmaster", 10, (uid_t)-1, (gid_t)-1);
	}
	for (i = n0; r == R_RCPT_OK && i < t->n; i++)
		if (over_quota(c, t->r[i].box))
			r = R_QUOTA;
	if (r != R_RCPT_OK) {
		t->n = n0;
		w.len = 0;
	}
	*blen = w.len;
	return r;
}
