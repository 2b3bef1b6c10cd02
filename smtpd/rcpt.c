/* rcpt.c: which mailboxes a recipient address stands for: our domains, the
 * name check, aliases, user+tag, users (file or system), postmaster.
 * Reads the users file; writes nothing. */
#include <string.h>
#include <strings.h>

#include "log.h"
#include "store.h"
#include "users.h"
#include "smtpd.h"

int
smtp_rcpt_domain_ok(const struct smtpd_conf *c, const char *domain)
{
	size_t i;

	if (c->ndomain == 0)
		return strcasecmp(domain, c->o.host) == 0;
	for (i = 0; i < c->ndomain; i++)
		if (strcasecmp(domain, c->domain[i]) == 0)
			return 1;
	return 0;
}

int
smtp_rcpt_name_ok(const char *name, size_t len)
{
	size_t i;

	if (!store_name_ok(name, len))
		return 0;
	/* store_name_ok() already refuses '/' and a leading dot, so ".." can
	 * climb nowhere; refused anyway, as issue 3 asks, to keep names plain. */
	for (i = 0; i + 1 < len; i++)
		if (name[i] == '.' && name[i + 1] == '.')
			return 0;
	return 1;
}

static int
is_postmaster(const char *name, size_t len)
{
	return len == 10 && strncasecmp(name, "postmaster", 10) == 0;
}

/* Add mailbox BOX (LEN bytes, a checked name) for address A.  A mailbox
 * already listed is not added again: duplicates deliver once.  Returns
 * R_RCPT_OK or R_TOO_MANY. */
static enum reply
add_box(struct smtp *s, const struct addr *a, const char *box, size_t len,
    uid_t uid, gid_t gid)
{
	struct rcpt *r;
	size_t i;

	for (i = 0; i < s->nrcpt; i++)
		if (strlen(s->rcpt[i].box) == len &&
		    memcmp(s->rcpt[i].box, box, len) == 0)
			return R_RCPT_OK;
	if (s->nrcpt >= s->conf->maxrcpt)
		return R_TOO_MANY;
	r = &s->rcpt[s->nrcpt++];
	memcpy(r->box, box, len);
	r->box[len] = '\0';
	/* "for <...>" in Received: the address as given, route dropped. */
	strcpy(r->addr, a->text);
	r->uid = uid;
	r->gid = gid;
	return R_RCPT_OK;
}

/* Look NAME up as a user.  Returns 1 (mailbox, owner set), 0 unknown, or
 * -1 when the users file cannot be read. */
static int
user(const struct smtp *s, const char *name, size_t len, struct user *u)
{
	int rc;

	rc = users_lookup(s->conf->o.users, name, len, 1, u);
	if (rc <= 0)
		return rc;
	/* A name we would refuse from a client is refused from a file too. */
	if (!smtp_rcpt_name_ok(u->name, strlen(u->name))) {
		log_warnx("user name not usable as a mailbox, skipped");
		return 0;
	}
	/* System accounts and users-file entries with ids give a new mailbox
	 * to its user (users_lookup filled them in); others get no chown. */
	if (!u->has_ids) {
		u->uid = (uid_t)-1;
		u->gid = (gid_t)-1;
	}
	return 1;
}

/* A user NAME, or NAME's part before '+' (RFC 5233 subaddress). */
static int
user_or_base(const struct smtp *s, const char *name, size_t len,
    struct user *u)
{
	const char *plus;
	int rc;

	rc = user(s, name, len, u);
	if (rc == 0 && (plus = memchr(name, '+', len)) != NULL && plus > name)
		rc = user(s, name, (size_t)(plus - name), u);
	return rc;
}

/* Expand alias target list T (TLEN bytes) for A.  A target that is a user
 * gets that user's mailbox; any other target names a mailbox of its own
 * (the aliases file is the administrator's).  Aliases do not nest. */
static enum reply
add_alias(struct smtp *s, const struct addr *a, const char *t, size_t tlen)
{
	struct user u;
	const char *name;
	size_t nlen, n0 = s->nrcpt;
	enum reply r = R_RCPT_OK;
	int rc;

	while (r == R_RCPT_OK && smtp_aliases_next(&t, &tlen, &name, &nlen)) {
		rc = user_or_base(s, name, nlen, &u);
		if (rc < 0)
			r = R_LOOKUP;
		else if (rc > 0)
			r = add_box(s, a, u.name, strlen(u.name), u.uid, u.gid);
		else
			r = add_box(s, a, name, nlen, (uid_t)-1, (gid_t)-1);
	}
	if (r != R_RCPT_OK)
		s->nrcpt = n0;	/* all of the alias or none of it */
	return r;
}

/* NAME as an alias, else as a user.  Returns R_NO_USER when neither. */
static enum reply
resolve(struct smtp *s, const struct addr *a, const char *name, size_t len)
{
	const struct smtpd_conf *c = s->conf;
	struct user u;
	const char *t;
	size_t tlen;
	int rc;

	if (c->aliases != NULL &&
	    smtp_aliases_find(c->aliases, c->aliaseslen, name, len, &t, &tlen))
		return add_alias(s, a, t, tlen);
	rc = user(s, name, len, &u);
	if (rc < 0)
		return R_LOOKUP;
	if (rc == 0)
		return R_NO_USER;
	return add_box(s, a, u.name, strlen(u.name), u.uid, u.gid);
}

enum reply
smtp_rcpt_add(struct smtp *s, const struct addr *a)
{
	const char *plus;
	enum reply r;
	size_t base;

	/* No "list full" test here: a duplicate of a listed mailbox is
	 * accepted whatever the count (add_box tests after its duplicate
	 * check; add_alias takes all of an alias or none of it). */
	/* RFC 5321 4.1.1.3: <postmaster> without a domain must be accepted. */
	if (a->domain[0] == '\0') {
		if (!is_postmaster(a->local, a->locallen))
			return R_BAD_RCPT;
	} else if (!smtp_rcpt_domain_ok(s->conf, a->domain))
		return R_RELAY;
	/* Before any lookup or file access: '/', "..", NUL, controls. */
	if (!smtp_rcpt_name_ok(a->local, a->locallen))
		return R_BAD_NAME;
	r = resolve(s, a, a->local, a->locallen);
	plus = memchr(a->local, '+', a->locallen);
	if (r == R_NO_USER && plus != NULL && plus > a->local) {
		base = (size_t)(plus - a->local);
		r = resolve(s, a, a->local, base);
	} else
		base = a->locallen;
	/* RFC 5321 4.5.1: postmaster always exists; without an alias or a
	 * user of that name it is simply the mailbox "postmaster". */
	if (r == R_NO_USER && is_postmaster(a->local, base))
		r = add_box(s, a, "postmaster", 10, (uid_t)-1, (gid_t)-1);
	return r;
}
