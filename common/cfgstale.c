/* cfgstale.c: -T: the store's own files in the spool that belong to no
 * current user, or to a former owner of the name.  The names are the
 * store's (store.h, DESIGN.md "Trust" and "Leftovers"): a user's session
 * marker .U.pop, expunge journal .U.redo and index .U.idx; and what killed
 * processes leave, the dotlocks' unique files .lk*, commit markers .txn.*
 * and unrenamed files .new.*.  What -T says is what the store does: it
 * believes a file only when root, the running user or the mailbox's owner
 * owns it, removes an untrusted marker, journal or index at the user's
 * next POP3 login (or a delivery that meets it), and sweeps leftovers once
 * LOCK_STALE_S old.  Read only: nothing is removed here.  Runs under -T,
 * as the server would start (root under inetd). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acct.h"
#include "cfgreport.h"
#include "store.h"

struct stale {
	struct cfgcheck	*c;
	const struct opts *o;
	const struct cfg_ids *ids;
	unsigned	 said, more;
};

/* One stale file, NAME in the spool: a line each, up to CFG_STALE_MAX. */
static void
say(struct stale *s, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
say(struct stale *s, const char *name, const char *fmt, ...)
{
	char path[PATH_MAX], msg[512];
	va_list ap;

	if (s->said >= CFG_STALE_MAX) {
		s->more++;
		return;
	}
	s->said++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", s->o->spool, name);
	cfg_report(s->c, 0, path, 0, "%s", msg);
}

/* The identity that delivers and that a store file of its making has:
 * the -u user, or the server's own (root under inetd). */
static uid_t
worker(const struct opts *o)
{
	return o->user != NULL ? o->uid : geteuid();
}

/* The store believes a file owned by root, by the running user (the -u
 * user, or whoever runs the server) or by the mailbox's owner OWNER. */
static int
trusted(const struct opts *o, uid_t file, uid_t owner)
{
	return file == 0 || file == worker(o) ||
	    (owner != (uid_t)-1 && file == owner);
}

/* NAME as a user, exactly as the mailbox is named: 1 (*HAS_IDS, *UID)
 * or 0.  The users file was read once (cfgusers.c); system accounts are
 * looked up. */
static int
user_named(const struct stale *s, const char *name, int *has_ids,
    uid_t *uid)
{
	struct passwd *pw;
	size_t i;

	if (s->o->users == NULL) {
		if ((pw = acct_getpwnam(name)) == NULL)
			return 0;
		*has_ids = 1;
		*uid = pw->pw_uid;
		return 1;
	}
	/* The first entry of a name is the one the servers find. */
	for (i = 0; i < s->ids->nuser; i++)
		if (strcmp(s->ids->user[i].name, name) == 0) {
			*has_ids = s->ids->user[i].has_ids;
			*uid = s->ids->user[i].uid;
			return 1;
		}
	return 0;
}

/* Who owns the mailbox of NAME, as the servers decide: 1 (*UID: the
 * owner, or -1 when none is known) when NAME is a user or postmaster's
 * own mailbox; 0 when no one has that name. */
static int
owner_of(const struct stale *s, const char *name, uid_t *uid)
{
	const struct opts *o = s->o;
	int has_ids = 0;
	uid_t u = (uid_t)-1;

	*uid = (uid_t)-1;
	if (user_named(s, name, &has_ids, &u)) {
		if (o->user != NULL || geteuid() != 0)
			*uid = worker(o);
		else if (has_ids)
			*uid = u;
		return 1;
	}
	/* RFC 5321's postmaster without a user: smtpd's own mailbox. */
	if (strcmp(name, "postmaster") == 0) {
		*uid = worker(o);
		return 1;
	}
	return 0;
}

/* A user's marker, journal or index: .NAME.pop, .NAME.redo, .NAME.idx. */
static void
user_file(struct stale *s, const char *file, const char *name,
    const char *what, const struct stat *st)
{
	uid_t owner;
	int rc;

	rc = owner_of(s, name, &owner);
	if (rc == 0)
		say(s, file, "the %s of '%s', who is no user (one removed, or a "
		    "name no one has): no server uses it; rm it (and the mailbox "
		    "%s, when no longer needed)", what, name, name);
	else if (rc == 1 && (!S_ISREG(st->st_mode) || st->st_nlink != 1))
		say(s, file, "the %s of '%s' is not a regular file with one "
		    "link: the store does not trust it and removes it at %s's "
		    "next POP3 login; rm it", what, name, name);
	else if (rc == 1 && !trusted(s->o, st->st_uid, owner))
		say(s, file, "the %s of '%s' belongs to uid %ld, but '%s' is "
		    "uid %ld (a former owner of the name?): the store trusts "
		    "only root's, its own and the mailbox owner's files, so it "
		    "ignores this one and removes it at %s's next POP3 login (or "
		    "a delivery that meets it); rm it", what, name,
		    (long)st->st_uid, name, (long)owner, name);
}

/* 1 when UID is a current user's: one of the users file's, or a system
 * account's without -p. */
static int
current_uid(const struct stale *s, uid_t uid)
{
	size_t i;

	if (s->o->users == NULL)
		return acct_getpwuid(uid) != NULL;
	for (i = 0; i < s->ids->nuser; i++)
		if (s->ids->user[i].has_ids && s->ids->user[i].uid == uid)
			return 1;
	return 0;
}

/* A leftover of a killed process: .lk*, .txn.*, .new.*. */
static void
leftover(struct stale *s, const char *file, const struct stat *st)
{
	long age = (long)(time(NULL) - st->st_mtime);

	if (trusted(s->o, st->st_uid, (uid_t)-1) ||
	    current_uid(s, st->st_uid))
		return;
	say(s, file, "belongs to uid %ld, which is no current user's: left "
	    "by a former user's process, or planted; the sweep of deliveries "
	    "and logins removes it once %d minutes old (it is %ld minutes "
	    "old); rm it", (long)st->st_uid, LOCK_STALE_S / 60,
	    age > 0 ? age / 60 : 0);
}

/* What the store makes of the spool entry FILE. */
static void
entry(struct stale *s, int dfd, const char *file)
{
	static const struct {
		const char	*suffix;
		const char	*what;
	} per_user[] = {
		{ ".pop", "POP3 session marker" },
		{ ".redo", "expunge journal" },
		{ ".idx", "index" },
	};
	char name[USER_MAX + 1];
	struct stat st;
	size_t len = strlen(file), k, i;

	if (file[0] != '.' ||
	    fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (strncmp(file, ".lk", 3) == 0 || strncmp(file, ".txn.", 5) == 0 ||
	    strncmp(file, ".new.", 5) == 0) {
		/* -T's own dotlock test (cfgcheck.c) is gone by now. */
		if (strncmp(file, ".lk-check.", 10) != 0)
			leftover(s, file, &st);
		return;
	}
	for (i = 0; i < sizeof(per_user) / sizeof(per_user[0]); i++) {
		k = strlen(per_user[i].suffix);
		if (len <= k + 1 || len - k - 1 > USER_MAX ||
		    strcmp(file + len - k, per_user[i].suffix) != 0)
			continue;
		memcpy(name, file + 1, len - k - 1);
		name[len - k - 1] = '\0';
		if (store_name_ok(name, strlen(name)))
			user_file(s, file, name, per_user[i].what, &st);
		return;
	}
}

void
cfg_check_stale(struct cfgcheck *c, const struct opts *o,
    const struct cfg_ids *ids)
{
	struct stale s;
	struct dirent *de;
	DIR *d;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.o = o;
	s.ids = ids;
	if ((d = opendir(o->spool)) == NULL)
		return;		/* check_spool said why */
	while ((de = readdir(d)) != NULL)
		entry(&s, dirfd(d), de->d_name);
	closedir(d);
	if (s.more > 0)
		cfg_report(c, 0, o->spool, 0, "%u more stale store files like "
		    "those above (not listed)", s.more);
}
