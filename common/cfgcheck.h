/* cfgcheck.h: -T, the configuration check of both servers: every problem
 * as one line "FILE:LINE: what is wrong and how to fix it" on stderr, and
 * an exit status that says whether the server can serve.  Runs as the
 * server would start (root under inetd), before any session. */
#ifndef INETMAIL_CFGCHECK_H
#define INETMAIL_CFGCHECK_H

#include "opts.h"
#include "params.h"

struct cfgcheck {
	const char	*prog;		/* "smtpd", "pop3d" */
	unsigned	 errors, warnings;
};

/* Report one problem: "FILE:LINE: MSG", "FILE: MSG" when LINE is 0, or
 * "PROG: MSG" when FILE is NULL; a warning says "warning:" first and does
 * not fail the check. */
void cfg_report(struct cfgcheck *c, int error, const char *file,
    unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The checks both servers share: the users file (its mode, each line, and
 * the identity rules: an owner for every entry as root without -u, no uid
 * or gid 0, no uid below -F, no uid of another system account, a name the
 * store takes), the range -F..-M of system accounts, the spool directory
 * (there, a directory, its owner and mode, and that the identities that
 * will work there can create dotlocks: the delivery identity for smtpd,
 * the mailbox owners for pop3d when POP3 is set), stale store files in
 * it, -l, and -P.  The -u and -U identities were checked when the options
 * were read.  Only what stops the server is an error. */
void cfg_check_common(struct cfgcheck *c, const struct opts *o, int pop3);

/* The users the users file names, and their identities, for the checks
 * after it. */
struct cfg_ids {
	uid_t		 uid[CFG_IDS_MAX];	/* distinct uid:gid pairs used, */
	gid_t		 gid[CFG_IDS_MAX];	/* whose dotlocks are tried */
	int		 nids;
	struct cfg_user {
		char		 name[USER_MAX + 1];
		int		 has_ids;
		uid_t		 uid;
	}		*user;		/* every entry, in the file's order */
	size_t		 nuser, capuser;
};
/* cfgusers.c: the users file O->users; IDS gets its users, and the
 * identities used as root without -u (free IDS->user). */
void cfg_check_users(struct cfgcheck *c, const struct opts *o, int pop3,
    struct cfg_ids *ids);
/* cfgnet.c: -P: a network of every address, or one that holds loopback
 * or an address of this host. */
void cfg_check_proxy(struct cfgcheck *c, const struct opts *o);
/* cfgstale.c: store files in the spool that belong to no current user, or
 * to a former owner of the name (IDS: the users file's identities). */
void cfg_check_stale(struct cfgcheck *c, const struct opts *o,
    const struct cfg_ids *ids);

/* The end of the check: one line on stdout when it can serve.  Returns
 * the exit status: 0, or EX_CONFIG (78) when any error was reported. */
int cfg_done(struct cfgcheck *c);

#endif
