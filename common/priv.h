/* priv.h: privileges.  The privilege switch (privdrop.c: chroot, the drop
 * in a fixed, checked order) and privilege separation (privsep.c: the split
 * of a server into the session, which reads the client as an unprivileged
 * account, and its privileged part, and the one loop in which a privileged
 * part serves its session's requests with a deadline on every wait). */
#ifndef INETMAIL_PRIV_H
#define INETMAIL_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "opts.h"
#include "params.h"

/* privdrop.c */

/* chroot to -r, if given, and chdir("/").  Returns 0 or -1 (logged). */
int priv_chroot(const struct opts *o);

/* With -u, run with the effective ids of the -u user (ON 1) or go back to
 * root's (ON 0): the start-up checks of the users and aliases files read
 * them as the privileged part will, before the split.  Without -u, or not
 * started as root, nothing changes.  Returns 0 or -1 (logged). */
int priv_as_user(const struct opts *o, int on);

/* Drop to UID/GID for good, in the fixed order setgroups, setgid, setuid,
 * then check that neither root nor group root can be regained.  EXTRA_GID,
 * when not -1, is kept as the only supplementary group (pop3d: the spool's
 * group, for dotlocks).  Refuses uid 0 and gid 0 (also as EXTRA_GID).
 * Started without root, it only checks that we already are UID/GID.
 * Returns 0 or -1 (logged). */
int priv_drop(uid_t uid, gid_t gid, gid_t extra_gid);

/* The group of the spool directory SPOOL when UID:GID needs it to create
 * files there (dotlocks, pop3d's session marker, the index): the spool is
 * group-writable, not by all, the group is not root's and not GID, and
 * UID does not own a writable spool.  Else -1.  pop3d keeps it after the
 * switch to a mailbox owner; -T tries the spool with it. */
gid_t priv_spool_group(const char *spool, uid_t uid, gid_t gid);

/* A descriptor to put in place of a connection given up: /dev/null, or in
 * a jail without it the root directory read-only.  -1 on failure. */
int priv_nullfd(void);

/* A session id: 12 characters of time, pid and counter, into BUF (>= 16). */
void session_id(char *buf, size_t cap);

/* privsep.c */

/* One end of the seam between a session and its privileged part. */
struct priv_seam {
	int		 fd;	/* the channel (chan.h) */
	pid_t		 pid;	/* in the privileged part, the session's; else 0 */
	struct timespec	 end;	/* every wait on the seam ends by here: the
				 * session's lifetime (-E) from the split, plus
				 * SEAM_GRACE_S (CLOCK_MONOTONIC) */
};

/* Split into the session and the privileged part: fork, with a channel
 * between the two.  The child is the session: started as root it drops to
 * the session account (-U), whatever -u says, before it reads a byte; it
 * keeps the client connection on fds 0 and 1.  The parent is the
 * privileged part: with -u it drops to that user for good; its fds 0 and 1
 * (and 2 when it is the client too) become /dev/null, so it never holds the
 * connection.  *PS is each side's end.  Returns 1 in the privileged part,
 * 0 in the session, -1 (logged) when it cannot split. */
int priv_split(const struct opts *o, struct priv_seam *ps);

/* A frame from the session, for a privileged part's handler: the payload
 * and any descriptors that came with it (the handler closes those it does
 * not keep; the loop closes them when it returns -1).  WHY: the handler's
 * reason when it refuses the frame, for the one log line. */
struct priv_frame {
	uint32_t		 type;
	const unsigned char	*p;
	size_t			 len;
	int			 fds[CHAN_FDS];
	int			 nfds;
	const char		*why;
};

/* A handler: 1 to go on serving, 0 when its work with the session is done
 * (pop3d after the hand-over, or the last failed login), -1 when the frame
 * is malformed or out of order (F->why set): the session is not to be
 * believed any more. */
typedef int priv_handler(void *ctx, struct priv_frame *f);

/* How priv_serve ended. */
enum priv_end {
	PRIV_EOF,	/* the session closed the channel: it is ending */
	PRIV_DONE,	/* the handler's work is done */
	PRIV_BAD,	/* a frame was refused (logged): the session is cut off */
	PRIV_LATE,	/* the session outlived PS->end (logged) */
	PRIV_BROKEN	/* the channel failed (logged) */
};

/* The privileged part's one loop: read the session's frames on PS, each
 * by PS->end, into BUF (CAP bytes), with at most CHAN_FDS descriptors when
 * FDS is set, and hand each to FN.  Replies are the handler's to send. */
enum priv_end priv_serve(struct priv_seam *ps, unsigned char *buf, size_t cap,
    int fds, priv_handler *fn, void *ctx);

/* The privileged part's end of the session: close the channel; a session
 * cut off (HOW is PRIV_BAD, PRIV_LATE or PRIV_BROKEN) is killed at once,
 * any other is given until PS->end to exit and killed then (logged).
 * Returns the exit status to leave with: the session's, or 128 + the
 * signal that ended it (logged unless we sent it), like a shell.  With no
 * session process (PS->pid 0: tests) it only closes the channel and
 * returns 0. */
int priv_finish(struct priv_seam *ps, enum priv_end how);

#endif
