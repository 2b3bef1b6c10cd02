/* proxyconn.h: a connection from a -P peer (haproxy) begins with a PROXY
 * header.  The session, unprivileged, reads it before the greeting; the
 * privileged part takes the client address it names for its own log lines;
 * under -L the listener counts that client against -C. */
#ifndef INETMAIL_PROXYCONN_H
#define INETMAIL_PROXYCONN_H

#include <sys/types.h>
#include "io.h"
#include "opts.h"

/* The whole header must arrive within this many seconds of the connection:
 * haproxy sends it at once, before any byte of the client's. */
#define PROXY_TIMEOUT		10

/* Channel frames (chan.h) of the start of a proxied session, outside the
 * servers' own request numbers:
 *   CLIENT     session to privileged part, its first frame: the client
 *              address the header named, or nothing (v2 LOCAL, v1 UNKNOWN:
 *              the peer is the client)
 *   CLIENT_OK  the answer, one byte: 'y' go on, 'n' the client is over -C */
#define CHAN_CLIENT		200
#define CHAN_CLIENT_OK		201

/* In the session, when O->proxied: read the header from IO (at most
 * PROXY_HEADER_MAX bytes, PROXY_TIMEOUT seconds), make its source the
 * client (O->client, the log lines), and tell the privileged part on LINK.
 * Returns 0: greet the client.  -1: end the session without a greeting;
 * no valid header (logged), or over -C (BUSY, the reply line with CRLF,
 * was written; the listener logged it). */
int proxy_session_begin(struct opts *o, struct io *io, int link,
    const char *busy);

/* In the privileged part, when O->proxied, before anything else: take the
 * session's CLIENT frame on LINK, check it, make it O->client and the log
 * lines' client, ask the listener (-L) about -C and answer.  Returns 0: go
 * on serving; -1: the session ends (it said why, or this logged it; a
 * session that says nothing in time is killed). */
int proxy_priv_begin(struct opts *o, int link, pid_t session);

#endif
