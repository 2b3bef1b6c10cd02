/* rcpt.c: which mailboxes a recipient's local part stands for: aliases,
 * user+tag, users (file or system), postmaster; and the delivery side's
 * table of them.  Runs in the delivery side (root under inetd): reads the
 * users file, writes nothing. */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "users.h"
#include "smtpd.h"

static int
is_postmaster(const char *name, size_t len)
{
	return len == 10 && strncasecmp(name, "postmaster", 10) == 0;
}

/* Names added by one RCPT, for the session's log: comma-separated, cut
 * where the log would cut them. */
struct added {
	char	*buf;
	size_t	 cap, len;
};

static void
note(struct added *a, const char *box, size_t len)
{
	size_t room;

	if (a->len > 0 && a->len < a->cap)
		a->buf[a->len++] = ',';
	room = a->cap - a->len;
	if (len > room)
		len = room;
	memcpy(a->buf + a->len, box, len);
	a->len += len;
}

/* Add mailbox BOX (LEN bytes, a checked name) owned by UID:GID for address
 * ADDR.  A mailbox already listed is not added again: duplicates deliver
 * once.  Returns R_RCPT_OK or R_TOO_MANY. */
static enum reply
add_box(struct rcpt_table *t, struct added *a, const char *addr,
    const char *box, size_t len, uid_t uid, gid_t gid)
{
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
	strcpy(r->addr, addr);
	r->uid = uid;
	r->gid = gid;
	note(a, box, len);
	return R_RCPT_OK;
}

/* Look NAME up as a user.  Returns 1 (mailbox, owner set), 0 unknown, or
 * -1 when the users file cannot be read. */
static int
user(const struct smtpd_conf *c, const char *name, size_t len, struct user *u)
{
	int rc;

	rc = users_lookup(c->o.users, name, len, 1, u);
	if (rc <= 0)
		return rc;
	/* A name we would refuse from a client is refused from a file too. */
	if (!smtp_rcpt_name_ok(u->name, strlen(u->name))) {
		log_warnx("user name not usable as a mailbox, skipped");
		return 0;
	}
	/* As root, a mailbox belongs to its user: the system account's or
	 * the users file's ids.  Otherwise (the -u user, or a test run) we
	 * can only make and keep mailboxes of our own. */
	if (!u->has_ids || geteuid() != 0) {
		u->uid = (uid_t)-1;
		u->gid = (gid_t)-1;
	}
	return 1;
}

/* A user NAME, or NAME's part before '+' (RFC 5233 subaddress). */
static int
user_or_base(const struct smtpd_conf *c, const char *name, size_t len,
    struct user *u)
{
	const char *plus;
	int rc;

	rc = user(c, name, len, u);
	if (rc == 0 && (plus = memchr(name, '+', len)) != NULL && plus > name)
		rc = user(c, name, (size_t)(plus - name), u);
	return rc;
}

/* Expand alias target list TL (TLEN bytes) for ADDR.  A target that is a
 * user gets that user's mailbox; any other target names a mailbox of its
 * own (the aliases file is the administrator's).  Aliases do not nest. */
static enum reply
add_alias(const struct smtpd_conf *c, struct rcpt_table *t, struct added *a,
    const char *addr, const char *tl, size_t tlen)
{
	struct user u;
	const char *name;
	size_t nlen, n0 = t->n, a0 = a->len;
	enum reply r = R_RCPT_OK;
	int rc;

	while (r == R_RCPT_OK && smtp_aliases_next(&tl, &tlen, &name, &nlen)) {
		rc = user_or_base(c, name, nlen, &u);
		if (rc < 0)
			r = R_LOOKUP;
		else if (rc > 0)
			r = add_box(t, a, addr, u.name, strlen(u.name), u.uid, u.gid);
		else
			r = add_box(t, a, addr, name, nlen, (uid_t)-1, (gid_t)-1);
	}
	if (r != R_RCPT_OK) {
		t->n = n0;	/* all of the alias or none of it */
		a->len = a0;
	}
	return r;
}

/* NAME as an alias, else as a user.  Returns R_NO_USER when neither. */
static enum reply
resolve(const struct smtpd_conf *c, struct rcpt_table *t, struct added *a,
    const char *addr, const char *name, size_t len)
{
	struct user u;
	const char *tl;
	size_t tlen;
	int rc;

	if (c->aliases != NULL &&
	    smtp_aliases_find(c->aliases, c->aliaseslen, name, len, &tl, &tlen))
		return add_alias(c, t, a, addr, tl, tlen);
	rc = user(c, name, len, &u);
	if (rc < 0)
		return R_LOOKUP;
	if (rc == 0)
		return R_NO_USER;
	return add_box(t, a, addr, u.name, strlen(u.name), u.uid, u.gid);
}

enum reply
smtp_rcpt_resolve(const struct smtpd_conf *c, struct rcpt_table *t,
    const char *name, size_t len, const char *addr, char *boxes, size_t cap,
    size_t *blen)
{
	struct added a = { boxes, cap, 0 };
	const char *plus;
	enum reply r;
	size_t base;

	/* No "table full" test here: a duplicate of a listed mailbox is
	 * accepted whatever the count (add_box tests after its duplicate
	 * check; add_alias takes all of an alias or none of it). */
	r = resolve(c, t, &a, addr, name, len);
	plus = memchr(name, '+', len);
	if (r == R_NO_USER && plus != NULL && plus > name) {
		base = (size_t)(plus - name);
		r = resolve(c, t, &a, addr, name, base);
	} else
		base = len;
	/* RFC 5321 4.5.1: postmaster always exists; without an alias or a
	 * user of that name it is simply the mailbox "postmaster". */
	if (r == R_NO_USER && is_postmaster(name, base))
		r = add_box(t, &a, addr, "postmaster", 10, (uid_t)-1, (gid_t)-1);
	*blen = a.len;
	return r;
}
