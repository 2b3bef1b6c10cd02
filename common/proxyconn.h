/* proxyconn.h: a connection from a -P peer (haproxy) begins with a PROXY
 * header.  The session, unprivileged, reads it before the greeting and
 * tells the privileged part the client it names (SEAM_CLIENT, seam.h): the
 * one time a session's client address may change after the split.  The
 * privileged part checks it, makes it its own client for its log lines and
 * the Received field, and under -L asks the listener to count it against
 * -C. */
#ifndef INETMAIL_PROXYCONN_H
#define INETMAIL_PROXYCONN_H

#include <sys/types.h>
#include "io.h"
#include "opts.h"
#include "priv.h"

/* In the session, when O->proxied: read the header from IO (at most
 * PROXY_HEADER_MAX bytes, PROXY_TIMEOUT seconds), make its source the
 * client (O->client, the log lines), and tell the privileged part on PS.
 * Returns 0: greet the client.  -1: end the session without a greeting;
 * no valid header (logged), or over -C (BUSY, the reply line with CRLF,
 * was written; the listener logged it). */
int proxy_session_begin(struct opts *o, struct io *io, struct priv_seam *ps,
    const char *busy);

/* In the privileged part, when O->proxied, before anything else: take the
 * session's SEAM_CLIENT on PS (within PROXY_TIMEOUT and a little more),
 * check it, make it O->client and the log lines' client, ask the listener
 * (-L) about -C and answer.  Returns 1: go on serving; 0: the session ends
 * on its own (it found no header, or was told it is over -C); -1: it is
 * cut off (a bad frame, or silence; logged). */
int proxy_priv_begin(struct opts *o, struct priv_seam *ps);

#endif
