/* cfgcheck.c: -T: the checks both servers share, and how problems are
 * reported.  Runs as root at start-up (as the server would), forking a
 * child for each identity whose rights on the spool it tries. */
/* setgroups() is not POSIX: ask glibc for it. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "acct.h"
#include "cfgcheck.h"
#include "log.h"
#include "priv.h"
#include "users.h"

void
cfg_report(struct cfgcheck *c, int error, const char *file,
    unsigned long line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error)
		c->errors++;
	else
		c->warnings++;
	if (file == NULL)
		fprintf(stderr, "%s: %s%s\n", c->prog, error ? "" : "warning: ",
		    msg);
	else if (line == 0)
		fprintf(stderr, "%s: %s%s\n", file, error ? "" : "warning: ", msg);
	else
		fprintf(stderr, "%s:%lu: %s%s\n", file, line,
		    error ? "" : "warning: ", msg);
}

/* The identities that will work in the spool, gathered from the users
 * file (pop3d tries each distinct one, up to CFG_IDS_MAX). */
struct walk {
	struct cfgcheck	*c;
	const struct opts *o;
	int		 pop3;
	uid_t		 uid[CFG_IDS_MAX];
	gid_t		 gid[CFG_IDS_MAX];
	int		 nids;
	/* The names seen so far, to find those that differ only in case. */
	struct seen {
		char		 name[USER_MAX + 1];
		unsigned long	 line;
	}		*seen;
	size_t		 nseen, capseen;
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

static int
user_line(void *ctx, unsigned long line, const struct user *e,
    const char *why)
{
	struct walk *w = ctx;
	const struct opts *o = w->o;
	int i;

	if (e == NULL) {
		cfg_report(w->c, 1, o->users, line, "%s", why);
		return 0;
	}
	case_twins(w, e->name, line);
	if (!e->has_ids) {
		/* As root without -u there is no one to give its mail to. */
		if (geteuid() == 0 && o->user == NULL)
			cfg_report(w->c, 1, o->users, line, "user '%s' has no "
			    "uid:gid: run as root without -u, its mail would have "
			    "no owner (smtpd answers 451 4.3.0, pop3d refuses the "
			    "login); add :UID:GID, or run with -u USER", e->name);
		return 0;
	}
	if (o->user != NULL) {
		/* -u: everything is the -u user's; other ids are not used. */
		if (w->pop3 && (e->uid != o->uid || e->gid != o->gid))
			cfg_report(w->c, 1, o->users, line, "user '%s' has "
			    "uid:gid %ld:%ld, but pop3d runs as -u %s (%ld:%ld) "
			    "and cannot switch: the login is refused; drop the "
			    "ids or make them %ld:%ld", e->name, (long)e->uid,
			    (long)e->gid, o->user, (long)o->uid, (long)o->gid,
			    (long)o->uid, (long)o->gid);
		return 0;
	}
	if (e->uid == 0 || e->gid == 0) {
		cfg_report(w->c, 1, o->users, line, "user '%s' has uid %ld and "
		    "gid %ld: mailbox work is never done as root or group root, "
		    "so the login is refused; give it an ordinary uid:gid",
		    e->name, (long)e->uid, (long)e->gid);
		return 0;
	}
	if (e->uid < o->firstuid) {
		cfg_report(w->c, 1, o->users, line, "user '%s' has uid %ld, below "
		    "the first valid uid %ld (-F): it takes no mail (550) and "
		    "cannot log in; give it a uid from %ld up, or lower -F",
		    e->name, (long)e->uid, (long)o->firstuid,
		    (long)o->firstuid);
		return 0;
	}
	for (i = 0; i < w->nids; i++)
		if (w->uid[i] == e->uid && w->gid[i] == e->gid)
			return 0;
	if (w->nids < CFG_IDS_MAX) {
		w->uid[w->nids] = e->uid;
		w->gid[w->nids++] = e->gid;
	}
	return 0;
}

/* Can UID:GID (with the spool's group kept as pop3d keeps it, when EXTRA
 * is not -1) create a file in DIR?  Tried in a child that becomes it.
 * Returns 1 yes, 0 no (*ERR: the errno), -1 could not try. */
static int
can_create(const char *dir, uid_t uid, gid_t gid, gid_t extra, int *err)
{
	char path[4096];
	pid_t pid;
	int st, fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (geteuid() == 0 && (setgroups(extra != (gid_t)-1 ? 1 : 0,
		    &extra) == -1 || setgid(gid) == -1 || setuid(uid) == -1))
			_exit(255);
		snprintf(path, sizeof(path), "%s/.lk-check.%ld", dir,
		    (long)getpid());
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
		if (fd == -1)
			_exit(errno > 0 && errno < 255 ? errno : 254);
		close(fd);
		unlink(path);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 255)
		return -1;
	*err = WEXITSTATUS(st);
	return *err == 0;
}

static void
check_spool(struct cfgcheck *c, const struct opts *o, struct walk *w)
{
	const char *dir = o->spool;
	struct passwd *pw;
	struct stat st;
	gid_t extra = (gid_t)-1;
	uid_t uid;
	gid_t gid;
	int i, err, r;

	if (stat(dir, &st) == -1) {
		cfg_report(c, 1, dir, 0, "the spool (-m) %s: create it: mkdir "
		    "-m 2775 %s && chgrp mail %s", strerror(errno), dir, dir);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		cfg_report(c, 1, dir, 0, "the spool (-m) is not a directory");
		return;
	}
	if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0)
		cfg_report(c, 1, dir, 0, "mode %04o lets every user remove or "
		    "replace others' mailboxes: chgrp mail %s && chmod 2775 %s "
		    "(or at least chmod +t)", (unsigned)(st.st_mode & 07777), dir,
		    dir);
	else if ((st.st_mode & S_IWOTH) != 0)
		cfg_report(c, 0, dir, 0, "mode %04o lets every local user plant "
		    "files in the spool: the servers trust none of them, but each "
		    "can cost a mailbox temporary failures; chgrp mail %s && "
		    "chmod 2775 %s", (unsigned)(st.st_mode & 07777), dir, dir);
	else if ((st.st_mode & S_IWGRP) != 0 && (st.st_mode & S_ISVTX) == 0)
		cfg_report(c, 0, dir, 0, "mode %04o lets every member of its group "
		    "rename or remove other users' mailboxes; pop3d keeps that "
		    "group after a login to make dotlocks, so a logged-in session "
		    "could too: chmod +t %s (mode %04o: users still make "
		    "dotlocks, but only touch their own files)",
		    (unsigned)(st.st_mode & 07777), dir,
		    (unsigned)((st.st_mode & 07777) | S_ISVTX));
	if (st.st_uid != 0 && (o->user == NULL || st.st_uid != o->uid))
		cfg_report(c, 0, dir, 0, "owned by uid %ld, who can replace every "
		    "mailbox in it: chown root %s", (long)st.st_uid, dir);
	/* Who makes dotlocks there. */
	if (o->user != NULL) {
		uid = o->uid;
		gid = o->gid;
	} else if (!w->pop3 || geteuid() != 0) {
		uid = geteuid();
		gid = getegid();
	} else {
		/* pop3d works as each mailbox owner, keeping the spool's group
		 * when that owner needs it (priv_spool_group). */
		if (w->nids == 0) {
			/* No users file ids: system accounts; try nobody's. */
			if ((pw = acct_getpwnam("nobody")) == NULL)
				return;
			w->uid[0] = pw->pw_uid;
			w->gid[0] = pw->pw_gid;
			w->nids = 1;
		}
		for (i = 0; i < w->nids; i++) {
			extra = priv_spool_group(dir, w->uid[i], w->gid[i]);
			r = can_create(dir, w->uid[i], w->gid[i], extra, &err);
			if (r == 0)
				cfg_report(c, 1, dir, 0, "uid %ld (a mailbox owner) "
				    "cannot create files here (%s), so pop3d cannot "
				    "make dotlocks and its logins fail: chgrp mail "
				    "%s && chmod 2775 %s", (long)w->uid[i],
				    strerror(err), dir, dir);
			if (r == 0)
				break;
		}
		return;
	}
	r = can_create(dir, uid, gid, (gid_t)-1, &err);
	if (r == 0)
		cfg_report(c, 1, dir, 0, "uid %ld cannot create files here (%s): "
		    "no dotlock, no new mailbox can be made; give the spool to "
		    "that user or its group (chmod 2775)", (long)uid,
		    strerror(err));
}

#ifdef INETMAIL_STATIC
#define NSSWITCH_FILE	"/etc/nsswitch.conf"

/* A static build reads /etc/passwd and /etc/shadow itself (acct.c): the
 * accounts of any other source nsswitch.conf names are not seen. */
static void
check_nss(struct cfgcheck *c, const struct opts *o)
{
	/* systemd's source holds service accounts, never mail users. */
	static const char *const builtin[] = { "files", "compat", "systemd" };
	char line[512], *w, *save = NULL;
	size_t i;
	FILE *f;

	if (o->users != NULL || (f = fopen(NSSWITCH_FILE, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "passwd:", 7) != 0)
			continue;
		for (w = strtok_r(line + 7, " \t\n", &save); w != NULL;
		    w = strtok_r(NULL, " \t\n", &save)) {
			if (w[0] == '[')
				continue;	/* an action, [NOTFOUND=return] */
			for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
				if (strcmp(w, builtin[i]) == 0)
					break;
			if (i == sizeof(builtin) / sizeof(builtin[0]))
				cfg_report(c, 0, NSSWITCH_FILE, 0, "passwd names "
				    "\"%.32s\": this static build reads /etc/passwd "
				    "and /etc/shadow only, so its accounts are not "
				    "mail users; build with make DYNAMIC=1 for them",
				    w);
		}
		break;
	}
	fclose(f);
}
#endif

/* -P was parsed with the options (a bad one never gets here); a network
 * that holds every address is legal but almost surely a mistake. */
static void
check_proxy(struct cfgcheck *c, const struct opts *o)
{
	size_t i;

	for (i = 0; i < o->proxy.n; i++)
		if (o->proxy.net[i].prefix == 0)
			cfg_report(c, 0, NULL, 0, "-P %s/0 lets every peer name "
			    "any client address; name the load balancers",
			    o->proxy.net[i].family == AF_INET ? "0.0.0.0" : "::");
}

/* -l stderr where fd 2 is the client's connection (inetd runs the server
 * so, and -T run the same way sees it): the server logs to syslog. */
static void
check_log(struct cfgcheck *c, const struct opts *o)
{
	if (o->logto == LOG_STDERR && log_fd2_client())
		cfg_report(c, 0, NULL, 0, "-l stderr, but fd 2 is the client's "
		    "connection (as inetd, xinetd and systemd's "
		    "StandardError=socket give it): a log line there would "
		    "reach the client, so %s logs to syslog instead; drop -l "
		    "stderr", c->prog);
}

/* -F and -M bound the system accounts that take mail and log in; the
 * users file (-p) is held to -F only. */
static void
check_uid_range(struct cfgcheck *c, const struct opts *o)
{
	if (o->users == NULL && o->firstuid > o->lastuid)
		cfg_report(c, 0, NULL, 0, "the first valid uid %ld (-F) is above "
		    "the last valid uid %ld (-M): no system account takes mail "
		    "(550) or logs in; raise -M or lower -F", (long)o->firstuid,
		    (long)o->lastuid);
}

void
cfg_check_common(struct cfgcheck *c, const struct opts *o, int pop3)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.o = o;
	w.pop3 = pop3;
	if (o->users != NULL && users_walk(o->users, user_line, &w) == -1)
		cfg_report(c, 1, o->users, 0, "the users file (-p) cannot be "
		    "read: %s", strerror(errno));
	free(w.seen);
	if (o->users == NULL && o->user != NULL && pop3)
		cfg_report(c, 1, NULL, 0, "-u without -p: after the drop to -u "
		    "the system accounts' passwords cannot be read; add -p FILE");
	check_spool(c, o, &w);
	check_uid_range(c, o);
	check_log(c, o);
	check_proxy(c, o);
#ifdef INETMAIL_STATIC
	check_nss(c, o);
#endif
}

int
cfg_done(struct cfgcheck *c)
{
	if (c->errors > 0) {
		fprintf(stderr, "%s: %u problem%s, %u warning%s: it cannot serve "
		    "as configured\n", c->prog, c->errors, c->errors == 1 ? "" : "s",
		    c->warnings, c->warnings == 1 ? "" : "s");
		return EX_CONFIG;
	}
	printf("%s: configuration ok (%u warning%s)\n", c->prog, c->warnings,
	    c->warnings == 1 ? "" : "s");
	return 0;
}
