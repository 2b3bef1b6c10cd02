/* privsep.c: privilege separation: the split of a server into the session
 * (unprivileged, it reads the client) and its privileged part, and the one
 * loop in which a privileged part serves its session (priv.h).  The
 * lifetime rule is here and nowhere else: nothing of the privileged part
 * waits for its session past the session's lifetime and SEAM_GRACE_S. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "clock.h"
#include "listen.h"
#include "log.h"
#include "priv.h"
#include "tls.h"

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

/* The privileged part reaps its session with a deadline (reap_by): a
 * handler of ours (that does nothing) makes sure SIGCHLD is neither
 * ignored, which would reap the session for us (a launcher may leave it
 * so), nor lost. */
static void
on_chld(int sig)
{
	(void)sig;
}

static void
chld_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
}

/* In the session, after its drop (a change of ids clears the setting):
 * the kernel ends it when its privileged part ends, even when that one can
 * no longer signal it (priv_finish).  Linux only; elsewhere the session
 * ends itself (its lifetime, the channel's end). */
static void
die_with(pid_t parent)
{
#ifdef __linux__
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		log_warn("privsep: PR_SET_PDEATHSIG");
	if (getppid() != parent)
		_exit(70);	/* it is gone already */
#else
	(void)parent;
#endif
}

int
priv_split(const struct opts *o, struct priv_seam *ps)
{
	int sv[2];
	pid_t pid, parent = getpid();

	memset(ps, 0, sizeof(*ps));
	ps->fd = -1;
	if (chan_pair(sv) == -1) {
		log_warn("privsep: socketpair");
		return -1;
	}
	clock_in(&ps->end, ((long)o->lifetime + SEAM_GRACE_S) * 1000);
	chld_catch();
	if ((pid = fork()) == -1) {
		log_warn("privsep: fork");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* The session: it reads the client's bytes, so as root it
		 * becomes the session account before it reads one, with or
		 * without -u: the account that owns the mailboxes never
		 * parses a client's bytes before a login. */
		signal(SIGCHLD, SIG_DFL);
		close(sv[0]);
		listen_link_close();	/* the listener trusts its children */
		ps->fd = sv[1];
		if (getuid() == 0 &&
		    priv_drop(o->sessuid, o->sessgid, (gid_t)-1) == -1) {
			close(sv[1]);
			return -1;
		}
		die_with(parent);
		return 0;
	}
	close(sv[1]);
	ps->fd = sv[0];
	ps->pid = pid;
	if (o->user != NULL && getuid() == 0 &&
	    priv_drop(o->uid, o->gid, (gid_t)-1) == -1) {
		close(sv[0]);
		(void)kill(pid, SIGKILL);
		return -1;
	}
	if (detach_client() == -1) {
		log_warn("privsep: detach from the client");
		close(sv[0]);
		(void)kill(pid, SIGKILL);
		return -1;
	}
	/* The TLS wrapper's control pipes are the session's alone. */
	tls_close_copies(&o->tls);
	return 1;
}

enum priv_end
priv_serve(struct priv_seam *ps, unsigned char *buf, size_t cap, int fds,
    priv_handler *fn, void *ctx)
{
	struct priv_frame f;
	int k, i;

	for (;;) {
		memset(&f, 0, sizeof(f));
		f.nfds = fds ? CHAN_FDS : 0;
		k = chan_recv(ps->fd, &ps->end, &f.type, buf, cap, &f.len,
		    fds ? f.fds : NULL, fds ? &f.nfds : NULL);
		if (k == 0)
			return PRIV_EOF;
		if (k == -1 && errno == ETIMEDOUT) {
			log_warnx("privsep: session over its lifetime");
			return PRIV_LATE;
		}
		if (k == -1 && errno == EPROTO) {
			log_warnx("privsep: bad frame from the session "
			    "(too long, or cut short)");
			return PRIV_BAD;
		}
		if (k == -1) {
			log_warn("privsep: channel");
			return PRIV_BROKEN;
		}
		f.p = buf;
		k = fn(ctx, &f);
		if (k == 1)
			continue;
		if (k == 0)
			return PRIV_DONE;
		for (i = 0; i < f.nfds; i++)
			close(f.fds[i]);
		/* A session that sends this is broken or taken over: nothing
		 * it says from now on is believed. */
		log_warnx("privsep: bad request type=%u len=%zu: %s", f.type,
		    f.len, f.why != NULL ? f.why : "refused");
		return PRIV_BAD;
	}
}

/* Wait for the session to exit by UNTIL.  Returns its wait status, or -1
 * when it is still there.  SIGCHLD is blocked while we wait, so that its
 * arrival between a waitpid() and the sleep is kept for sigtimedwait(). */
static int
reap_by(pid_t pid, const struct timespec *until)
{
	struct timespec left;
	sigset_t set, old;
	long ms;
	int st = -1;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (;;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if ((ms = clock_left_ms(until)) == 0) {
			st = -1;
			break;
		}
		left.tv_sec = ms / 1000;
		left.tv_nsec = (ms % 1000) * 1000000L;
		(void)sigtimedwait(&set, NULL, &left);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return st;
}

/* End the session PID now.  Returns its wait status, or -1 when it cannot
 * be ended: once the privileged part has become another account (-u, or
 * pop3d's mailbox owner) it may not signal the session account's process.
 * That one then dies with us (priv_split asks the kernel for it). */
static int
end_now(pid_t pid)
{
	int st;

	if (kill(pid, SIGKILL) == -1) {
		log_warn("privsep: cannot end the session pid=%ld", (long)pid);
		return -1;
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			log_warn("privsep: wait for the session");
			return -1;
		}
	return st;
}

int
priv_finish(struct priv_seam *ps, enum priv_end how)
{
	int st = -1, cut;

	if (ps->fd != -1)
		close(ps->fd);
	ps->fd = -1;
	if (ps->pid <= 0)
		return 0;
	cut = how == PRIV_BAD || how == PRIV_LATE || how == PRIV_BROKEN;
	if (!cut && (st = reap_by(ps->pid, &ps->end)) == -1) {
		log_warnx("privsep: session over its lifetime");
		cut = 1;
	}
	if (cut && (st = end_now(ps->pid)) == -1)
		return 70;	/* EX_SOFTWARE */
	ps->pid = 0;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) {
		if (!cut)
			log_warnx("session process killed signal=%d",
			    WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return 70;
}
