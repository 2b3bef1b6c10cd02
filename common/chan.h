/* chan.h: the channel between a server's session (unprivileged, it holds
 * the client connection) and its privileged part: length-framed messages on
 * a socketpair, and the passing of descriptors.  Nothing here trusts the
 * other side: a frame's length is checked against the reader's buffer. */
#ifndef INETMAIL_CHAN_H
#define INETMAIL_CHAN_H

#include <stddef.h>
#include <stdint.h>

/* The largest payload of a frame: a piece of a message (64 KiB) with room
 * for a small header of its own. */
#define CHAN_MAX	(64 * 1024 + 256)

/* A connected pair (AF_UNIX stream, close-on-exec).  Returns 0 or -1. */
int chan_pair(int fd[2]);

/* Send one frame of TYPE with LEN bytes at P (LEN <= CHAN_MAX), and with
 * NFDS descriptors FDS (0: none).  Loops over short writes; EINTR is
 * retried.  Returns 0, or -1 with errno (EPIPE: the other side is gone). */
int chan_send(int fd, uint32_t type, const void *p, size_t len,
    const int *fds, int nfds);

/* Frames that need no answer can wait and go with the next one that does,
 * so the other side wakes once for all of them (smtpd's MAIL with its
 * first RCPT, a small message's BODY with its END).  chan_frame puts a
 * frame of TYPE with LEN bytes at P into BUF (CAP bytes) and returns its
 * size, or 0 when it does not fit; chan_send_after sends PRE (PRELEN bytes
 * of such frames) and then the frame TYPE/P/LEN in one write where it can.
 * Returns 0 or -1 as chan_send. */
size_t chan_frame(void *buf, size_t cap, uint32_t type, const void *p,
    size_t len);
int chan_send_after(int fd, const void *pre, size_t prelen, uint32_t type,
    const void *p, size_t len);

/* Receive one frame into BUF (CAP bytes): its type in *TYPE, its length in
 * *LEN.  Descriptors that come with it go to FDS (room for *NFDS; *NFDS is
 * set to the number received); with FDS NULL any that come are closed.
 * Returns 1 for a frame, 0 for the end of the channel between frames, -1
 * on an error, a frame longer than CAP or an end inside a frame (errno
 * EPROTO for the last two). */
int chan_recv(int fd, uint32_t *type, void *buf, size_t cap, size_t *len,
    int *fds, int *nfds);

#endif
