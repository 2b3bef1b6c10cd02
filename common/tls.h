/* tls.h: TLS comes from a wrapper in front of the server (tlswrapper -n,
 * in the ucspi/inetd tradition), never from a library in it.  The wrapper
 * offers delayed encryption (STARTTLS, STLS) by a control pipe on fd 5:
 *   - the first protocol (Debian 12's tlswrapper): the server writes its
 *     last plaintext reply to fd 5 and closes it; the wrapper sends the
 *     reply when fd 5 reaches its end, then the handshake starts.  Every
 *     copy of fd 5 must be closed for that, and while TLS has not started
 *     fd 5 must stay open in the process that serves the client (that
 *     version spins when it ends with nothing written);
 *   - the acknowledging one (newer releases; fd 6 readable as well): the
 *     reply goes on fd 1, one NUL byte on fd 5, and the wrapper answers
 *     with one NUL byte on fd 6 once it has stopped passing plaintext.
 * -S says the connection is encrypted already (implicit TLS, ports 465
 * and 995).  Runs in the session, which alone keeps the pipes; the
 * privileged parts close their copies at the split. */
#ifndef INETMAIL_TLS_H
#define INETMAIL_TLS_H

#include "io.h"

#define TLS_CTL_FD	5
#define TLS_ACK_FD	6

enum tls_offer {
	TLS_NONE,	/* no control pipe: STARTTLS/STLS cannot be offered */
	TLS_CLOSE,	/* fd 5: the reply to fd 5, then its end */
	TLS_ACK		/* fds 5 and 6: the reply on fd 1, NUL on 5, NUL back */
};

struct tls {
	enum tls_offer	 offer;		/* until TLS starts */
	int		 on;		/* the connection is encrypted */
};

/* At start-up: what fd 5 (and fd 6) offer: a pipe open for writing on fd
 * 5 (and one open for reading on fd 6) is a wrapper's control pipe;
 * anything else is left alone and offers nothing.  IMPLICIT (-S): the
 * connection is encrypted already, and nothing is offered. */
void tls_detect(struct tls *t, int implicit);

/* 1 when STARTTLS/STLS can start TLS now: a control pipe and no TLS yet. */
int tls_can_start(const struct tls *t);

/* In a privileged part after the split: close its copies of the pipes
 * (the wrapper starts TLS only when every copy of fd 5 is closed). */
void tls_close_copies(const struct tls *t);

/* Start TLS on IO, with REPLY (LEN bytes, CRLF included) as the last
 * plaintext line: flush what is buffered, throw away the input buffer and
 * whatever else can be read now (nothing the client pipelined after the
 * command is ever run), hand REPLY over the control pipe as its protocol
 * wants, close the pipes, and mark the session encrypted.  Returns 0, or
 * -1 when the wrapper could not be told or did not answer within IO's
 * idle timeout (logged): the session must end, since the client may
 * already be speaking TLS. */
int tls_start(struct tls *t, struct io *io, const char *reply, size_t len);

#endif
