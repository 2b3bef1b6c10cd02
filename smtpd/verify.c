/* verify.c: smtpd -T's own checks, made with the code the server runs so
 * that what -T says is what the server does: the aliases file (its
 * syntax, then every alias resolved as RCPT resolves it, each thing the
 * resolution meets reported once, as the server logs it once), where
 * postmaster's mail goes, the domains (-d against /etc/mailname), and the
 * addresses named after the options, each answered on stdout as RCPT
 * would answer it.  Runs at start-up, as the server would (root under
 * inetd); writes nothing but its report. */
/* explicit_bzero() is not POSIX: ask glibc for it. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "log.h"
#include "priv.h"
#include "users.h"
#include "smtpd.h"

/* The report's state: where its lines go, what was reported. */
struct verify {
	struct cfgcheck	*cc;
	const struct smtpd_conf *c;
	const char	*path;		/* the aliases file, or NULL */
	struct rcpt_seen seen;
};

/* Whose the mailbox "postmaster" is: the identity that delivers. */
static const char *
deliverer(const struct smtpd_conf *c, char *buf, size_t cap)
{
	if (c->o.user != NULL)
		snprintf(buf, cap, "the -u user %s", c->o.user);
	else if (geteuid() == 0)
		snprintf(buf, cap, "root");
	else
		snprintf(buf, cap, "uid %ld (smtpd's own)", (long)geteuid());
	return buf;
}

/* Target X, a system account the alias routes mail to: why no POP3 login
 * can fetch that mail. */
static void
system_target(struct verify *v, const struct alias *a,
    const struct alias_target *x)
{
	const struct opts *o = &v->c->o;
	struct user u;
	char why[128];

	snprintf(why, sizeof(why), "outside the valid uids");
	if (users_lookup(o->users, x->name, strlen(x->name), 1, &u) == 1) {
		if (u.uid < o->firstuid)
			snprintf(why, sizeof(why), "uid %ld, below the first valid "
			    "uid %ld (-F)", (long)u.uid, (long)o->firstuid);
		else
			snprintf(why, sizeof(why), "uid %ld, above the last valid "
			    "uid %ld (-M)", (long)u.uid, (long)o->lastuid);
		explicit_bzero(&u, sizeof(u));
	}
	cfg_report(v->cc, 0, v->path, x->line, "alias '%s': target '%s' is a "
	    "system account (%s): its mail is delivered to %s/%s, but no POP3 "
	    "login can fetch it; read it on this host, or give '%s' an alias "
	    "to a user", a->name, x->name, why, o->spool, x->name, x->name);
}

/* Postmaster's mail goes to the mailbox "postmaster" (A: its alias, which
 * delivers to no one, or NULL). */
static void
postmaster(struct verify *v, const struct alias *a)
{
	char who[96];

	deliverer(v->c, who, sizeof(who));
	if (a != NULL)
		cfg_report(v->cc, 0, v->path, a->line, "alias 'postmaster' "
		    "delivers to no one; mail to postmaster is accepted all the "
		    "same (RFC 5321 4.5.1), into %s/postmaster, a mailbox owned "
		    "by %s that no POP3 login can fetch; give it a user who reads "
		    "it",
		    v->c->o.spool, who);
	else
		cfg_report(v->cc, 0, v->path, 0, "no alias or user postmaster: "
		    "mail to postmaster is accepted (RFC 5321 4.5.1) into "
		    "%s/postmaster, a mailbox owned by %s that no POP3 login can "
		    "fetch; %s", v->c->o.spool, who, v->path != NULL ?
		    "add \"postmaster: USER\"" :
		    "give -a FILE with \"postmaster: USER\"");
}

/* A malformed line of the aliases file: the server would not start. */
static void
problem(void *ctx, unsigned long line, int error, const char *msg)
{
	struct verify *v = ctx;

	cfg_report(v->cc, error, v->path, line, "%s", msg);
}

/* One event of a resolution, reported the first time it is met. */
static void
event(void *ctx, enum rcpt_event ev, const struct alias *a,
    const struct alias_target *x)
{
	struct verify *v = ctx;

	if (!smtp_rcpt_seen_first(&v->seen, ev, a, x))
		return;
	switch (ev) {
	case RCPT_EV_UNSUPPORTED:
		cfg_report(v->cc, 0, v->path, x->line, "alias '%s': target "
		    "\"%s\" is %s: not supported, never delivered; deliver to a "
		    "local user instead", a->name, x->name,
		    smtp_alias_kind_text((enum alias_kind)x->kind));
		break;
	case RCPT_EV_DEAD:
		cfg_report(v->cc, 0, v->path, x->line, "alias '%s': target '%s' "
		    "is neither an alias nor a user: nothing is delivered to it",
		    a->name, x->name);
		break;
	case RCPT_EV_SYSTEM:
		system_target(v, a, x);
		break;
	case RCPT_EV_EMPTY:
		/* postmaster's own line says where its mail goes instead. */
		if (strcasecmp(a->name, "postmaster") != 0)
			cfg_report(v->cc, 0, v->path, a->line, "alias '%s' "
			    "delivers to no one: mail to it is refused (550 5.1.1); "
			    "give it a local user", a->name);
		break;
	case RCPT_EV_FANOUT:
		cfg_report(v->cc, 0, v->path, a->line, "alias '%s' expands to "
		    "more than %d targets: mail to it is refused (451 4.3.0)",
		    a->name, ALIAS_STEPS_MAX);
		break;
	case RCPT_EV_DUPLICATE:
		cfg_report(v->cc, 0, v->path, a->dupline, "alias '%s' again "
		    "(first on line %lu): this entry is never used", a->name,
		    a->line);
		break;
	case RCPT_EV_POSTMASTER:
		postmaster(v, a);
		break;
	case RCPT_EV__COUNT:
		break;
	}
}

/* Resolve NAME as RCPT would, into T (emptied first), with the events
 * told to V.  Returns the reply. */
static enum reply
resolve(struct verify *v, struct rcpt_table *t, const char *name,
    const char *addr, char *boxes, size_t cap)
{
	struct rcpt_notes notes = { event, v };
	size_t blen = 0;
	enum reply r;

	t->n = 0;
	r = smtp_rcpt_resolve(v->c, t, &notes, name, strlen(name), addr, boxes,
	    cap - 1, &blen);
	boxes[blen] = '\0';
	return r;
}

/* Every alias as a recipient, and postmaster: what the server would do
 * with mail to them.  The events say what is wrong; some verdicts have no
 * event of their own. */
static void
aliases(struct verify *v, struct rcpt_table *t)
{
	const struct aliases *al = &v->c->aliases;
	const struct alias *a;
	char boxes[SMTPD_LOG_BOXES_MAX + 1];
	size_t i;

	for (i = 0; i < al->na; i++) {
		a = &al->a[i];
		switch (resolve(v, t, a->name, a->name, boxes, sizeof(boxes))) {
		case R_TOO_MANY:
			cfg_report(v->cc, 0, v->path, a->line, "alias '%s' "
			    "expands to more than %zu mailboxes (-n): mail to it "
			    "gets 452 4.5.3 and is never delivered; raise -n",
			    a->name, t->cap);
			break;
		case R_NO_IDS:
			cfg_report(v->cc, 0, v->path, a->line, "alias '%s' leads "
			    "to a users-file entry without uid:gid: mail to it "
			    "gets 451 4.3.0 (see that entry)", a->name);
			break;
		default:
			break;
		}
	}
	/* Without an alias: a user, or the fallback mailbox. */
	if (smtp_aliases_find(al, "postmaster", 10) == NULL)
		(void)resolve(v, t, "postmaster", "postmaster", boxes,
		    sizeof(boxes));
}

/* The domains: -d replaces the defaults, the host name and /etc/mailname
 * (Debian policy 11.6), so a mailname that -d does not list is refused.
 * RC and NAME: what smtp_mailname_read found. */
static void
domains(struct verify *v, int rc, const char *name)
{
	if (rc == -1)
		cfg_report(v->cc, 0, MAILNAME_FILE, 0, "holds no domain (one "
		    "line: letters, digits, '-' and '.'): ignored%s",
		    v->c->ndomain == 0 ? "; mail is taken for the host name "
		    "(-h) only" : "");
	else if (rc == 1 && !smtp_rcpt_domain_ok(v->c, name))
		cfg_report(v->cc, 0, MAILNAME_FILE, 0, "names %s, which -d does "
		    "not list: -d replaces the defaults (the host name and this "
		    "file), so mail to @%s is refused (550 5.7.1); add -d %s to "
		    "take it", name, name, name);
}

/* One address asked about: the answer RCPT would give, on stdout, with
 * the mailboxes it goes to.  The log lines the server would write for it
 * go to stderr.  A bare local part is taken at our first domain (the
 * first -d, else the host name). */
static void
address(struct verify *v, struct rcpt_table *t, const char *arg)
{
	char path[ADDR_PATH_MAX + 8], boxes[SMTPD_LOG_BOXES_MAX + 1];
	const char *text;
	struct addr a;
	size_t end, i;
	enum reply r;
	int n, k = ADDR_ESYNTAX;

	/* As RCPT TO:<ARG> would have it. */
	if (strchr(arg, '@') != NULL)
		n = snprintf(path, sizeof(path), "<%s>", arg);
	else
		n = snprintf(path, sizeof(path), "<%s@%s>", arg,
		    v->c->ndomain > 0 ? v->c->domain[0] : v->c->o.host);
	if (n > 0 && (size_t)n < sizeof(path))
		k = smtp_addr_parse(path, (size_t)n, &a, &end);
	if (n < 0 || (size_t)n >= sizeof(path) || k == ADDR_ELONG)
		r = R_PATH_LONG;
	else if (k != ADDR_OK || end != (size_t)n)
		r = R_BAD_RCPT;
	else if ((r = smtp_rcpt_check(v->c, &a)) == R_NONE)
		r = resolve(v, t, a.local, a.text, boxes, sizeof(boxes));
	text = smtp_reply_text(r);
	printf("%s: %s", arg, text != NULL ? text : "?");
	if (r == R_RCPT_OK)
		for (i = 0; i < t->n; i++)
			printf("%s %s/%s", i == 0 ? ", delivered to" : ",",
			    v->c->o.spool, t->r[i].box);
	printf("\n");
}

void
smtp_verify(struct cfgcheck *cc, struct smtpd_conf *c, int mailname_rc,
    const char *mailname, char *const *addrs, int naddr)
{
	struct verify v;
	struct rcpt_table t;
	int rc, i, e;

	memset(&v, 0, sizeof(v));
	memset(&t, 0, sizeof(t));
	v.cc = cc;
	v.c = c;
	v.path = c->aliases_path;
	domains(&v, mailname_rc, mailname);
	if (c->aliases_path != NULL) {
		/* Read as the server reads it: with the -u user's rights. */
		if (priv_as_user(&c->o, 1) == -1) {
			cfg_report(cc, 1, NULL, 0, "cannot take the -u user's ids");
			return;
		}
		rc = smtp_aliases_load(c, c->aliases_path, &c->aliases,
		    problem, &v);
		e = errno;
		(void)priv_as_user(&c->o, 0);
		if (rc == -1) {
			cfg_report(cc, 1, c->aliases_path, 0, "the aliases file "
			    "(-a) cannot be read%s: %s", c->o.user != NULL ?
			    " by the -u user" : "", strerror(e));
			return;
		}
	}
	/* Lookups in a broken users file only repeat what was reported. */
	if (cc->errors > 0) {
		if (c->aliases.na > 0 || naddr > 0)
			cfg_report(cc, 0, c->aliases_path, 0, "aliases and "
			    "addresses not resolved: fix the problems above first");
		smtp_aliases_free(&c->aliases);
		return;
	}
	t.cap = c->maxrcpt;
	if ((t.r = calloc(t.cap, sizeof(*t.r))) == NULL ||
	    smtp_rcpt_seen_init(&v.seen, &c->aliases) == -1) {
		cfg_report(cc, 1, NULL, 0, "out of memory");
		free(t.r);
		smtp_aliases_free(&c->aliases);
		return;
	}
	/* The server's own code runs here: its log lines would repeat in
	 * other words what this report says. */
	log_init("smtpd", LOG_NONE);
	aliases(&v, &t);
	log_init("smtpd", LOG_STDERR);
	for (i = 0; i < naddr; i++)
		address(&v, &t, addrs[i]);
	fflush(stdout);
	smtp_rcpt_seen_free(&v.seen);
	free(t.r);
	smtp_aliases_free(&c->aliases);
}
