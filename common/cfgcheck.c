/* cfgcheck.c: -T: the checks both servers share, in order; how a problem
 * counts: an error only for what stops the server from serving (it
 * would not start, or could deliver or serve nothing), a warning for
 * everything else it does that an admin should know of.  The users file
 * (cfgusers.c), -P (cfgnet.c) and the files in the spool (cfgstale.c) have
 * files of their own.  Runs as root at start-up (as the server would),
 * forking a child for each identity whose rights on the spool it tries. */
/* setgroups() is not POSIX: ask glibc for it. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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
check_spool(struct cfgcheck *c, const struct opts *o, int pop3,
    struct cfg_ids *w)
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
	/* The servers work in such a spool (a warning, not a failure), but
	 * any local user can take anyone's mail there. */
	if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0)
		cfg_report(c, 0, dir, 0, "mode %04o lets every user remove or "
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
	} else if (!pop3 || geteuid() != 0) {
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
	struct cfg_ids ids;
	struct stat st;

	memset(&ids, 0, sizeof(ids));
	if (o->users != NULL)
		cfg_check_users(c, o, pop3, &ids);
	if (o->users == NULL && o->user != NULL && pop3)
		cfg_report(c, 1, NULL, 0, "-u without -p: after the drop to -u "
		    "the system accounts' passwords cannot be read; add -p FILE");
	check_spool(c, o, pop3, &ids);
	/* What is in the spool, once the users are known (not after a
	 * broken users file: every file would seem stale). */
	if (c->errors == 0 && stat(o->spool, &st) == 0 && S_ISDIR(st.st_mode))
		cfg_check_stale(c, o, &ids);
	check_uid_range(c, o);
	check_log(c, o);
	cfg_check_proxy(c, o);
#ifdef INETMAIL_STATIC
	check_nss(c, o);
#endif
	free(ids.user);
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
