/* cfgcheck.h: -T, the configuration check of both servers: every problem
 * as one line "FILE:LINE: what is wrong and how to fix it" on stderr, and
 * an exit status that says whether the server can serve.  Runs as the
 * server would start (root under inetd), before any session. */
#ifndef INETMAIL_CFGCHECK_H
#define INETMAIL_CFGCHECK_H

#include "cfgreport.h"
#include "opts.h"

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

/* The end of the check: one line on stdout when it can serve.  Returns
 * the exit status: 0, or EX_CONFIG (78) when any error was reported. */
int cfg_done(struct cfgcheck *c);

#endif
