/* opts.h: the options both servers share (a contract) and the client
 * address.  Runs as root at start-up. */
#ifndef INETMAIL_OPTS_H
#define INETMAIL_OPTS_H

#include <sys/types.h>
#include "log.h"
#include "proxy.h"
#include "tls.h"

/* getopt letters of the shared options; each program appends its own. */
#define OPTS_SHARED	"h:m:p:t:l:r:u:U:E:F:M:L:c:C:P:SVT"

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
	uid_t		 sessuid;	/* -U resolved (as root, with or without -u) */
	gid_t		 sessgid;
	int		 lifetime;	/* -E: seconds a session may last */
	uid_t		 firstuid;	/* -F: the lowest uid that takes mail */
	uid_t		 lastuid;	/* -M: the highest uid of a system
					 * account that takes mail */
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
	int		 implicit_tls;	/* -S: the connection is encrypted */
	struct tls	 tls;		/* what the TLS wrapper offers this
					 * connection (tls_detect) */
};

/* Fill in defaults; TIMEOUT is the program's default idle timeout,
 * LIFETIME its default session lifetime (-E). */
void opts_init(struct opts *o, int timeout, int lifetime);

/* Handle shared option CH with ARG.  Returns 1 when handled, 0 when CH is not a
 * shared option, -1 when ARG is bad (*ERR says why, for the log). */
int opts_handle(struct opts *o, int ch, const char *arg, const char **err);

/* The first problem getopt() met, for startup_usage: CH is what getopt
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

/* What this connection is: what the TLS wrapper in front offers (fd 5, fd
 * 6, -S: tls_detect), and the client address: getpeername(0),
 * $TCPREMOTEIP, $REMOTE_ADDR, $REMOTE_HOST (stunnel exec mode; only a
 * numeric address is taken), else "unknown".  Stored in o->tls and
 * o->client.  When the peer itself (not stunnel's $REMOTE_HOST) is in -P,
 * o->proxied is set and o->via holds it: the connection must begin with a
 * PROXY header (proxyconn.h). */
void opts_client(struct opts *o);

#endif
