/* cfgusers.c: -T: the users file (-p) as the servers will use it: its mode
 * (it holds password hashes), each line, what each entry's name and ids
 * make of it (a mailbox name the store refuses, no owner, root's ids, a
 * uid below -F, a uid that is another system account's), and the
 * identities it names, for the checks of the spool after it.  Runs as the
 * server would start (root under inetd), reading the file as the server's
 * privileged part reads it (the -u user's rights, priv_as_user). */
/* explicit_bzero() is not POSIX: ask glibc for it. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acct.h"
#include "cfgreport.h"
#include "priv.h"
#include "store.h"
#include "users.h"

/* A uid of the file that a system account of another name has: told once
 * per uid, with the first entry and the count of the others. */
struct other {
	uid_t		 uid;
	char		 name[USER_MAX + 1];	/* the first entry with it */
	char		 acct[USER_MAX + 1];	/* the system account's name */
	unsigned long	 line;
	unsigned	 more;			/* entries after the first */
};

struct walk {
	struct cfgcheck	*c;
	const struct opts *o;
	int		 pop3;
	int		 ids_used;	/* as root without -u: ids own mailboxes */
	struct cfg_ids	*ids;
	/* The names seen so far, to find those that differ only in case. */
	struct seen {
		char		 name[USER_MAX + 1];
		unsigned long	 line;
	}		*seen;
	size_t		 nseen, capseen;
	struct other	 other[CFG_OTHER_MAX];
	size_t		 nother;
	unsigned long	 overflow;	/* entries past CFG_OTHER_MAX uids */
};

/* NAME (on LINE) differs only in case from a name seen before: SMTP local
 * parts are matched without case, so mail to either form goes to the one
 * whose name matches exactly, and any other form to the first.  Said once
 * per pair. */
static void
case_twins(struct walk *w, const char *name, unsigned long line)
{
	struct seen *n;
	size_t i;

	for (i = 0; i < w->nseen; i++)
		if (strcasecmp(w->seen[i].name, name) == 0 &&
		    strcmp(w->seen[i].name, name) != 0) {
			cfg_report(w->c, 0, w->o->users, line, "user '%s' differs "
			    "only in case from '%s' (line %lu): mail to either is "
			    "delivered to the entry that matches exactly, any other "
			    "spelling to '%s'; a client's case is a poor way to "
			    "tell users apart: rename one", name, w->seen[i].name,
			    w->seen[i].line, w->seen[i].name);
			break;
		}
	if (w->nseen == w->capseen) {
		w->capseen = w->capseen > 0 ? 2 * w->capseen : 64;
		if ((n = realloc(w->seen, w->capseen * sizeof(*n))) == NULL) {
			w->capseen = w->nseen;
			return;
		}
		w->seen = n;
	}
	snprintf(w->seen[w->nseen].name, sizeof(w->seen[0].name), "%s", name);
	w->seen[w->nseen++].line = line;
}

/* The name is the mailbox's file name: the store refuses some that the
 * file's syntax allows (a leading dot, a ".lock" end, 8-bit bytes), and
 * smtpd refuses ".." in a local part.  Returns 1 when NAME is unusable. */
static int
bad_name(struct walk *w, const char *name, unsigned long line)
{
	if (!store_name_ok(name, strlen(name))) {
		cfg_report(w->c, 0, w->o->users, line, "user '%s' can never have "
		    "a mailbox: the name starts with a dot, ends in \".lock\" or "
		    "has a byte that is not printable ASCII, so smtpd takes no "
		    "mail for it (550) and pop3d refuses its login; rename it",
		    name);
		return 1;
	}
	if (strstr(name, "..") != NULL) {
		cfg_report(w->c, 0, w->o->users, line, "user '%s' has \"..\" in "
		    "its name: smtpd takes no mail for it (553), though pop3d "
		    "lets it log in; rename it", name);
		return 1;
	}
	return 0;
}

/* E's uid belongs to a system account of another name: that account (its
 * shell, its cron jobs, its own mail) and E's mailbox are one owner. */
static void
other_account(struct walk *w, const struct user *e, unsigned long line)
{
	struct passwd *pw;
	size_t i;

	for (i = 0; i < w->nother; i++)
		if (w->other[i].uid == e->uid) {
			w->other[i].more++;
			return;
		}
	pw = acct_getpwuid(e->uid);
	if (pw == NULL || strcmp(pw->pw_name, e->name) == 0)
		return;
	if (w->nother == CFG_OTHER_MAX) {
		w->overflow++;
		return;
	}
	w->other[w->nother].uid = e->uid;
	snprintf(w->other[w->nother].name, sizeof(w->other[0].name), "%s",
	    e->name);
	snprintf(w->other[w->nother].acct, sizeof(w->other[0].acct), "%s",
	    pw->pw_name);
	w->other[w->nother].line = line;
	w->other[w->nother++].more = 0;
}

static void
other_report(struct walk *w)
{
	const struct other *x;
	char more[48];
	size_t i;

	for (i = 0; i < w->nother; i++) {
		x = &w->other[i];
		more[0] = '\0';
		if (x->more > 0)
			snprintf(more, sizeof(more), " (and %u more entr%s)",
			    x->more, x->more == 1 ? "y" : "ies");
		if (x->uid == w->o->sessuid)
			cfg_report(w->c, 0, w->o->users, x->line, "user '%s'%s "
			    "has uid %ld, which is the system account '%s', the "
			    "session account (-U): the process that reads every "
			    "client's bytes would own these mailboxes; give the "
			    "entries a uid no account has", x->name, more,
			    (long)x->uid, x->acct);
		else
			cfg_report(w->c, 0, w->o->users, x->line, "user '%s'%s "
			    "has uid %ld, which is the system account '%s': that "
			    "account's processes own these mailboxes, and a login "
			    "runs as it; give the entries a uid no account has, "
			    "or, for one account that owns every mailbox, run "
			    "with -u %s", x->name, more, (long)x->uid, x->acct,
			    x->acct);
	}
	if (w->overflow > 0)
		cfg_report(w->c, 0, w->o->users, 0, "%lu more entries have the "
		    "uid of a system account of another name", w->overflow);
}

/* Every entry, for the stale files of the spool (cfgstale.c). */
static void
remember(struct cfg_ids *ids, const struct user *e)
{
	struct cfg_user *n;

	if (ids->nuser == ids->capuser) {
		ids->capuser = ids->capuser > 0 ? 2 * ids->capuser : 64;
		if ((n = realloc(ids->user, ids->capuser * sizeof(*n))) ==
		    NULL) {
			ids->capuser = ids->nuser;
			return;
		}
		ids->user = n;
	}
	n = &ids->user[ids->nuser++];
	snprintf(n->name, sizeof(n->name), "%s", e->name);
	n->has_ids = e->has_ids;
	n->uid = e->uid;
}

/* An entry's ids, as the servers will take them; 1 when they are used. */
static int
entry_ids(struct walk *w, const struct user *e, unsigned long line)
{
	const struct opts *o = w->o;

	if (!e->has_ids) {
		/* As root without -u there is no one to give its mail to. */
		if (w->ids_used)
			cfg_report(w->c, 0, o->users, line, "user '%s' has no "
			    "uid:gid: run as root without -u, its mail would have "
			    "no owner (smtpd answers 451 4.3.0, pop3d refuses the "
			    "login); add :UID:GID, or run with -u USER", e->name);
		return 0;
	}
	if (o->user != NULL) {
		/* -u: everything is the -u user's; other ids are not used. */
		if (w->pop3 && (e->uid != o->uid || e->gid != o->gid))
			cfg_report(w->c, 0, o->users, line, "user '%s' has "
			    "uid:gid %ld:%ld, but pop3d runs as -u %s (%ld:%ld) "
			    "and cannot switch: the login is refused; drop the "
			    "ids or make them %ld:%ld", e->name, (long)e->uid,
			    (long)e->gid, o->user, (long)o->uid, (long)o->gid,
			    (long)o->uid, (long)o->gid);
		return 0;
	}
	if (e->uid == 0 || e->gid == 0) {
		cfg_report(w->c, 0, o->users, line, "user '%s' has uid %ld and "
		    "gid %ld: mailbox work is never done as root or group root, "
		    "so it takes no mail and the login is refused; give it an "
		    "ordinary uid:gid", e->name, (long)e->uid, (long)e->gid);
		return 0;
	}
	if (e->uid < o->firstuid) {
		cfg_report(w->c, 0, o->users, line, "user '%s' has uid %ld, below "
		    "the first valid uid %ld (-F): it takes no mail (550) and "
		    "cannot log in; give it a uid from %ld up, or lower -F",
		    e->name, (long)e->uid, (long)o->firstuid,
		    (long)o->firstuid);
		return 0;
	}
	return 1;
}

static int
user_line(void *ctx, unsigned long line, const struct user *e,
    const char *why)
{
	struct walk *w = ctx;
	struct cfg_ids *ids = w->ids;
	int i;

	if (e == NULL) {
		cfg_report(w->c, 1, w->o->users, line, "%s", why);
		return 0;
	}
	case_twins(w, e->name, line);
	remember(ids, e);
	if (bad_name(w, e->name, line) || !entry_ids(w, e, line) ||
	    !w->ids_used)
		return 0;
	other_account(w, e, line);
	for (i = 0; i < ids->nids; i++)
		if (ids->uid[i] == e->uid && ids->gid[i] == e->gid)
			return 0;
	if (ids->nids < CFG_IDS_MAX) {
		ids->uid[ids->nids] = e->uid;
		ids->gid[ids->nids++] = e->gid;
	}
	return 0;
}

/* The file holds password hashes (or passwords): no one but the servers'
 * identities may read it, and no one else write it. */
static void
users_mode(struct cfgcheck *c, const struct opts *o)
{
	struct stat st;

	if (stat(o->users, &st) == -1)
		return;		/* the walk says why */
	if (st.st_mode & S_IWOTH)
		cfg_report(c, 0, o->users, 0, "mode %04o lets every local user "
		    "write it: anyone could add an account with a uid of their "
		    "choice and read its mail; chmod o-w %s",
		    (unsigned)(st.st_mode & 07777), o->users);
	if (st.st_mode & S_IROTH)
		cfg_report(c, 0, o->users, 0, "mode %04o lets every local user "
		    "read it, and it holds the password hashes: chmod o-r %s "
		    "(0600 root's, or 0640 with the group of -u's user)",
		    (unsigned)(st.st_mode & 07777), o->users);
}

void
cfg_check_users(struct cfgcheck *c, const struct opts *o, int pop3,
    struct cfg_ids *ids)
{
	struct walk w;
	int rc, e;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.o = o;
	w.pop3 = pop3;
	w.ids = ids;
	w.ids_used = geteuid() == 0 && o->user == NULL;
	users_mode(c, o);
	/* Read as the server reads it: with the -u user's rights. */
	if (priv_as_user(o, 1) == -1) {
		cfg_report(c, 1, NULL, 0, "cannot take the -u user's ids");
		return;
	}
	rc = users_walk(o->users, user_line, &w);
	e = errno;
	(void)priv_as_user(o, 0);
	if (rc == -1)
		cfg_report(c, 1, o->users, 0, "the users file (-p) cannot be "
		    "read%s: %s", o->user != NULL ? " by the -u user" : "",
		    strerror(e));
	other_report(&w);
	free(w.seen);
}
