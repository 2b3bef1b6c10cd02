/* opts.h: the options both servers share (a contract), the client address,
 * and the privilege drop.  Runs as root at start-up. */
#ifndef INETMAIL_OPTS_H
#define INETMAIL_OPTS_H

#include <sys/types.h>
#include "log.h"
#include "proxy.h"

/* getopt letters of the shared options; each program appends its own. */
#define OPTS_SHARED	"h:m:p:t:l:r:u:U:E:F:L:c:C:P:VT"

/* What -V prints after the program's name. */
#define INETMAIL_VERSION	"0.3"

struct opts {
	char		 host[256];	/* -h, default gethostname() */
	const char	*spool;		/* -m, default /var/mail */
	const char	*users;		/* -p, NULL = system accounts */
	int		 timeout;	/* -t seconds */
	enum log_target	 logto;		/* -l */
	const char	*chroot;	/* -r */
	const char	*user;		/* -u */
	uid_t		 uid;		/* -u resolved */
	gid_t		 gid;
	const char	*sessuser;	/* -U: the session's account as root */
	uid_t		 sessuid;	/* -U resolved (as root without -u) */
	gid_t		 sessgid;
	int		 lifetime;	/* -E: seconds a session may last */
	uid_t		 firstuid;	/* -F: the lowest uid that takes mail */
	int		 version;	/* -V */
	int		 test;		/* -T */
	const char	*listen;	/* -L ADDR:PORT */
	int		 maxconn;	/* -c sessions at once, with -L */
	int		 maxperip;	/* -C sessions per client address, with -L */
	struct proxy_allow proxy;	/* -P: peers that send a PROXY header */
	int		 proxied;	/* this connection's peer is one of them */
	char		 client[64];	/* peer address, "unknown" if none; the
					 * PROXY header's source once read */
	char		 via[64];	/* when proxied: the peer (haproxy) */
	int		 healthcheck;	/* a v2 LOCAL / v1 UNKNOWN header: the
					 * proxy's own check; a clean one logs
					 * no connect or disconnect line */
};

/* Fill in defaults; TIMEOUT is the program's default idle timeout,
 * LIFETIME its default session lifetime (-E). */
void opts_init(struct opts *o, int timeout, int lifetime);

/* Handle shared option CH with ARG.  Returns 1 when handled, 0 when CH is not a
 * shared option, -1 when ARG is bad (*ERR says why, for the log). */
int opts_handle(struct opts *o, int ch, const char *arg, const char **err);

/* A bad command line (EX_USAGE, 64): "PROG: WHY: WHAT" (WHAT may be NULL)
 * and the usage USAGE on stderr, unless stderr is a socket (under inetd it
 * is the client: the log has it then), the same in the log, and REPLY (the
 * 421 or -ERR line) on stdout for a client.  No session is served. */
_Noreturn void opts_usage_fail(const char *prog, const char *usage,
    const char *why, const char *what, const char *reply);


/* The first problem getopt() met, for opts_usage_fail: CH is what getopt
 * returned ('?' unknown, ':' missing argument), OPT its optopt.  BUF holds
 * the text. */
const char *opts_getopt_error(int ch, int opt, char *buf, size_t cap);

/* Before getopt(): the GNU-style words an admin tries first.  "--help"
 * anywhere prints USAGE on stdout and exits 0; "--version" becomes -V;
 * any other "--word" is a bad option (*ERR set, returns -1), never read
 * letter by letter as "-h elp".  Returns 0. */
int opts_long_words(int argc, char **argv, const char *usage, char *err,
    size_t cap);

/* After parsing: resolve -u and, as root without -u, the session account
 * -U (never root, never group root), default host name.  Returns 0 or -1
 * (*ERR set). */
int opts_finish(struct opts *o, const char **err);

/* Find the client address: getpeername(0), $TCPREMOTEIP, $REMOTE_ADDR,
 * $REMOTE_HOST (stunnel exec mode; only a numeric address is taken), else
 * "unknown".  Stored in o->client.  When the peer itself (not stunnel's
 * $REMOTE_HOST) is in -P, o->proxied is set and o->via holds it: the
 * connection must begin with a PROXY header (proxyconn.h). */
void opts_client(struct opts *o);

/* chroot to -r, if given, and chdir("/").  Returns 0 or -1 (logged). */
int priv_chroot(const struct opts *o);

/* chroot (-r) and drop to -u, in the fixed order openlog (done by log_init),
 * chroot, chdir("/"), setgroups, setgid, setuid, then check that neither root
 * nor group root can be regained.  Returns 0 or -1 (logged). */
int priv_startup(const struct opts *o);

/* Split into the session and the privileged part (privilege separation):
 * fork, with a channel (chan.h) between the two.  The child is the session:
 * as root it drops to the session account (O->sessuid, -U) and it keeps the
 * client connection on fds 0 and 1; priv_split returns 0 there.  The parent
 * is the privileged part: its fds 0 and 1 (and 2 when it is the client
 * too) are replaced by /dev/null, so it never holds the connection;
 * priv_split returns the child's pid there.  *FD is each side's end of the
 * channel.  Returns -1 (logged) when it cannot split. */
pid_t priv_split(const struct opts *o, int *fd);

/* A descriptor to put in place of a connection given up: /dev/null, or in
 * a jail without it the root directory read-only.  -1 on failure. */
int priv_nullfd(void);

/* In the privileged part: wait for the session to end.  Returns the exit
 * status to leave with: the session's, or 128 + the signal that killed it
 * (logged), like a shell. */
int priv_wait(pid_t pid);

/* Drop to UID/GID for mailbox work; keeps EXTRA_GID (the spool directory's
 * group, for dotlocks) as the only supplementary group when it is not -1.
 * Refuses uid 0 and gid 0 (also as EXTRA_GID), and checks afterwards that
 * neither root nor group root can be regained.  Returns 0 or -1 (logged). */
int priv_drop(uid_t uid, gid_t gid, gid_t extra_gid);

/* A session id: 12 characters of time, pid and counter, into BUF (>= 16). */
void session_id(char *buf, size_t cap);

#endif
