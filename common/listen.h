/* listen.h: standalone mode (-L): listen on one address, fork a child per
 * connection with the socket on fds 0/1.  The listener runs as root. */
#ifndef INETMAIL_LISTEN_H
#define INETMAIL_LISTEN_H

#include "opts.h"

/* Listen on O->listen (numeric "a.b.c.d:PORT" or "[v6]:PORT"), then accept
 * forever.  Each connection within the limits (O->maxconn in all,
 * O->maxperip per client address) gets a child process with the socket on
 * fds 0 and 1 (fd 2 untouched), the listener closed and the signal state of
 * the caller restored: listen_serve returns 0 in that child, which goes on
 * with the normal inetd path.  A connection over a limit gets BUSY (one
 * reply line with CRLF, may be NULL for none) written without blocking, is
 * closed at once and is logged; no process is made for it.
 * In the parent it never returns 0: -1 when the address cannot be parsed or
 * bound, with ERR (CAP bytes) saying why, for the caller's one report
 * (startup_fail).  On SIGTERM or SIGINT the parent closes the listener, waits
 * for the running sessions and exits with EX_OK. */
int listen_serve(const struct opts *o, const char *busy, char *err,
    size_t cap);

/* A connection from a -P peer is not counted against -C by the peer's
 * address (every client of haproxy has it) but by the client the PROXY
 * header names: the session's privileged part asks the listener with
 * listen_admit once the session read the header.  Returns 1 when CLIENT
 * may have this session (also when there is no listener to ask, or it
 * does not answer within LISTEN_ADMIT_MS), 0 when it is over -C: the
 * listener logged the refusal, naming VIA.  Either way the question is
 * asked once. */
int listen_admit(const char *client, const char *via);

/* In the session (the unprivileged child of priv_split): give up the link
 * to the listener, so only the privileged part can speak to it. */
void listen_link_close(void);

#endif
