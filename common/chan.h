/* chan.h: the transport of every seam between two processes of a server
 * (session and privileged part, privileged part and listener): frames of
 * a type and a length-bounded payload on an AF_UNIX socketpair, with
 * descriptors passed beside them.  What a payload holds is each seam's
 * catalogue's business (msg.h).  Every wait has a deadline; nothing here
 * trusts the other side: a frame's length is checked against the reader's
 * buffer before a byte of it is read. */
#ifndef INETMAIL_CHAN_H
#define INETMAIL_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "params.h"

/* A connected pair (AF_UNIX stream, close-on-exec).  Returns 0 or -1. */
int chan_pair(int fd[2]);

/* Send one frame of TYPE with LEN bytes at P (LEN <= CHAN_MAX), and with
 * NFDS descriptors FDS (0: none), all by UNTIL (CLOCK_MONOTONIC).  Loops
 * over short writes; EINTR is retried.  Returns 0, or -1 with errno
 * (EPIPE: the other side is gone; ETIMEDOUT: it stopped reading). */
int chan_send(int fd, const struct timespec *until, uint32_t type,
    const void *p, size_t len, const int *fds, int nfds);

/* Frames that need no answer can wait and go with the next one that does,
 * so the other side wakes once for all of them (smtpd's MAIL with its
 * first RCPT, a small message's BODY with its END).  chan_frame puts a
 * frame of TYPE with LEN bytes at P into BUF (CAP bytes) and returns its
 * size, or 0 when it does not fit; chan_send_after sends PRE (PRELEN bytes
 * of such frames) and then the frame TYPE/P/LEN in one write where it can.
 * Returns 0 or -1 as chan_send. */
size_t chan_frame(void *buf, size_t cap, uint32_t type, const void *p,
    size_t len);
int chan_send_after(int fd, const struct timespec *until, const void *pre,
    size_t prelen, uint32_t type, const void *p, size_t len);

/* Receive one frame into BUF (CAP bytes) by UNTIL: its type in *TYPE, its
 * length in *LEN.  Descriptors that come with it go to FDS (room for
 * *NFDS; *NFDS is set to the number received); with FDS NULL any that come
 * are closed.  Returns 1 for a frame, 0 for the end of the channel between
 * frames, -1 with errno: ETIMEDOUT (UNTIL passed, also in the middle of a
 * frame), EPROTO (a frame longer than CAP, or the end inside a frame), or
 * the socket's error. */
int chan_recv(int fd, const struct timespec *until, uint32_t *type,
    void *buf, size_t cap, size_t *len, int *fds, int *nfds);

#endif
