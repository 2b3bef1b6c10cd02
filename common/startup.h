/* startup.h: the one way both servers say that they cannot start: a bad
 * command line, an unreadable users file, a failed chroot or privilege
 * drop.  One log line, the usage on stderr for an admin at a terminal, one
 * protocol line for a client (never on a terminal), an exit status from
 * <sysexits.h>.  Runs at start-up, before any session. */
#ifndef INETMAIL_STARTUP_H
#define INETMAIL_STARTUP_H

#include "opts.h"

/* The program's name ("smtpd"), its usage text, and the reply a client
 * gets: REPLY is a printf format with at most one %s, the host name
 * (smtpd's "421 4.3.0 %s Service not available ..."), without CRLF.  O is
 * the options as they are parsed so far (host, -T). */
void startup_init(const char *prog, const char *usage, const char *reply,
    const struct opts *o);

/* A start-up failure: "startup failed: WHY: WHAT" in the log (WHY NULL:
 * the callee that found it has logged it; WHAT may be NULL), "PROG: WHY:
 * WHAT" on stderr as well when it is a terminal and the log is not there,
 * the reply to the client unless fd 1 is a terminal, and exit with
 * STATUS. */
_Noreturn void startup_fail(int status, const char *why, const char *what);

/* A bad command line (EX_USAGE, 64): as startup_fail, and "PROG: WHY:
 * WHAT" with the usage on stderr unless stderr is a socket (under inetd it
 * is the client: the log has it then).  Under -T it is reported as -T
 * reports a problem, with no usage and no reply, and exits EX_CONFIG. */
_Noreturn void startup_usage(const char *why, const char *what);

#endif
