/* cfgreport.h: what the parts of -T share: the report (one line a
 * problem, counted as an error or a warning), the users it found, and the
 * checks that have a file of their own.  cfgcheck.c runs them in order;
 * each part reports through cfg_report() and calls nothing back. */
#ifndef INETMAIL_CFGREPORT_H
#define INETMAIL_CFGREPORT_H

#include <sys/types.h>

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

#endif
