/* priv.c: chroot and privilege drop in a fixed, checked order, and the
 * split of a server into its session and its privileged part.  Runs as root
 * at start-up; after priv_startup/priv_drop nothing can regain root. */
/* chroot() and setgroups() are not POSIX: ask glibc for them. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "listen.h"
#include "log.h"
#include "opts.h"

/* After a drop to a non-root UID, setuid(0) and setgid(0) must fail: if one
 * works, a saved set-user-id or set-group-id still holds root and a later bug
 * could take it back.  Group root counts as root: no gid 0 may be left, as
 * the real, effective or a supplementary group. */
static int
verify_dropped(uid_t uid, gid_t gid)
{
	gid_t groups[16];	/* we set at most one; more is a failure */
	int i, n;

	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid || uid == 0 || gid == 0) {
		log_warnx("privilege drop incomplete uid=%ld gid=%ld",
		    (long)uid, (long)gid);
		return -1;
	}
	if ((n = getgroups((int)(sizeof(groups) / sizeof(groups[0])),
	    groups)) < 0) {
		log_warn("privilege drop check: getgroups");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (groups[i] == 0) {
			log_warnx("privilege drop failed: group root kept "
			    "uid=%ld", (long)uid);
			return -1;
		}
	if (setuid(0) != -1) {
		log_warnx("privilege drop failed: root regained uid=%ld",
		    (long)uid);
		return -1;
	}
	if (setgid(0) != -1) {
		log_warnx("privilege drop failed: group root regained uid=%ld",
		    (long)uid);
		return -1;
	}
	return 0;
}

int
priv_chroot(const struct opts *o)
{
	if (o->chroot == NULL)
		return 0;
	if (chroot(o->chroot) < 0) {
		log_warn("chroot dir=%s", o->chroot);
		return -1;
	}
	/* Without this the old cwd still reaches outside the jail. */
	if (chdir("/") < 0) {
		log_warn("chdir dir=/ after chroot");
		return -1;
	}
	return 0;
}

int
priv_startup(const struct opts *o)
{
	if (priv_chroot(o) < 0)
		return -1;
	if (o->user == NULL)
		return 0;
	/* Groups first: once the uid is gone we may no longer change them, and
	 * root's supplementary groups (disk, shadow ...) must not survive. */
	if (setgroups(1, &o->gid) < 0) {
		log_warn("setgroups gid=%ld", (long)o->gid);
		return -1;
	}
	if (setgid(o->gid) < 0) {
		log_warn("setgid gid=%ld", (long)o->gid);
		return -1;
	}
	if (setuid(o->uid) < 0) {
		log_warn("setuid uid=%ld", (long)o->uid);
		return -1;
	}
	return verify_dropped(o->uid, o->gid);
}

int
priv_drop(uid_t uid, gid_t gid, gid_t extra_gid)
{
	if (uid == 0 || gid == 0 || extra_gid == 0) {
		log_warnx("refusing mailbox work as uid=%ld gid=%ld group=%ld",
		    (long)uid, (long)gid, (long)extra_gid);
		return -1;
	}
	/* Not root (tests, or -u already dropped): there is nothing to give up,
	 * and it only works when we already are the user. */
	if (geteuid() != 0) {
		if (geteuid() == uid && getegid() == gid)
			return 0;
		log_warnx("cannot switch to uid=%ld gid=%ld without root",
		    (long)uid, (long)gid);
		return -1;
	}
	if (setgroups(extra_gid != (gid_t)-1 ? 1 : 0, &extra_gid) < 0) {
		log_warn("setgroups gid=%ld", (long)extra_gid);
		return -1;
	}
	if (setgid(gid) < 0) {
		log_warn("setgid gid=%ld", (long)gid);
		return -1;
	}
	if (setuid(uid) < 0) {
		log_warn("setuid uid=%ld", (long)uid);
		return -1;
	}
	return verify_dropped(uid, gid);
}

int
priv_nullfd(void)
{
	int fd;

	/* In a chroot jail (-r) there may be no /dev/null: the jail's root,
	 * opened read-only, fails every read and write just as safely. */
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fd = open("/", O_RDONLY | O_DIRECTORY);
	return fd;
}

/* The privileged part must not hold the client's connection: fds 0 and 1
 * become /dev/null, and so does fd 2 when it is the same socket (inetd
 * passes the connection as 0, 1 and 2; with -l stderr fd 2 is the log). */
static int
detach_client(void)
{
	struct stat s0, s2;
	int nul, same;

	same = fstat(0, &s0) == 0 && fstat(2, &s2) == 0 &&
	    S_ISSOCK(s0.st_mode) && s0.st_dev == s2.st_dev &&
	    s0.st_ino == s2.st_ino;
	if ((nul = priv_nullfd()) == -1)
		return -1;
	if (dup2(nul, 0) == -1 || dup2(nul, 1) == -1 ||
	    (same && dup2(nul, 2) == -1)) {
		close(nul);
		return -1;
	}
	if (nul > 2)
		close(nul);
	return 0;
}

pid_t
priv_split(const struct opts *o, int *fd)
{
	int sv[2];
	pid_t pid;

	if (chan_pair(sv) == -1) {
		log_warn("privsep: socketpair");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("privsep: fork");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* The session: it reads the client's bytes, so as root it
		 * becomes the session account before it reads one. */
		close(sv[0]);
		listen_link_close();	/* the listener trusts its children */
		*fd = sv[1];
		if (geteuid() == 0 &&
		    priv_drop(o->sessuid, o->sessgid, (gid_t)-1) == -1) {
			close(sv[1]);
			return -1;
		}
		return 0;
	}
	close(sv[1]);
	*fd = sv[0];
	if (detach_client() == -1) {
		log_warn("privsep: detach from the client");
		close(sv[0]);
		return -1;
	}
	return pid;
}

int
priv_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			log_warn("privsep: wait for the session");
			return 70;	/* EX_SOFTWARE */
		}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) {
		log_warnx("session process killed signal=%d", WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return 70;
}
