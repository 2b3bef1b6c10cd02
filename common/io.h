/* io.h: session I/O for both servers: a bounded line reader with idle timeout
 * and deadline, and a write buffer flushed only before blocking on input.
 * Injectable: tests and fuzzers feed bytes from memory through the callbacks. */
#ifndef INETMAIL_IO_H
#define INETMAIL_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "params.h"

struct io;
/* Read up to LEN bytes; return the count, 0 on EOF, -1 on error.  The fd
 * versions poll() with the session timeout first. */
typedef ssize_t io_read_fn(struct io *, void *buf, size_t len);
/* Write up to LEN bytes; return the count written (> 0) or -1 on error. */
typedef ssize_t io_write_fn(struct io *, const void *buf, size_t len);

enum io_status {
	IO_OK = 0,	/* a whole line (or the last piece of one) */
	IO_PART,	/* a piece of a longer line; more of it follows */
	IO_TOOLONG,	/* the line exceeded the limit; the rest of it is discarded */
	IO_EOF,		/* end of input (a partial last line is dropped) */
	IO_TIMEOUT,	/* idle timeout or deadline passed */
	IO_ERROR	/* read error, logged */
};

struct io {
	int		 rfd, wfd;
	io_read_fn	*read;
	io_write_fn	*write;
	void		*ctx;		/* for injected callbacks */
	int		 timeout;	/* idle seconds per read, 0 = none */
	struct timespec	 deadline;	/* absolute (CLOCK_MONOTONIC), 0 = none */
	struct timespec	 end;		/* the session's end (-E), 0 = none */
	int		 werr;		/* a write failed: further output is dropped */
	int		 crlf;		/* last line ended in CRLF (1) or bare LF (0) */
	int		 nul;		/* last line (or piece) contained a NUL byte */
	int		 skip;		/* still throwing away an over-long line */
	size_t		 rpos, rlen;
	size_t		 wlen;
	char		 rbuf[IO_RBUF];
	char		 wbuf[IO_WBUF];
};

/* Set up IO on fds RFD/WFD with idle TIMEOUT seconds. */
void io_init_fd(struct io *io, int rfd, int wfd, int timeout);
/* Set up IO on callbacks (tests, fuzzers). */
void io_init_cb(struct io *io, io_read_fn *r, io_write_fn *w, void *ctx);

/* Set (SECONDS > 0) or clear (0) an absolute deadline for all reads. */
void io_deadline(struct io *io, int seconds);
/* Set the end of the whole session, SECONDS from now (-E): no read or
 * write waits past it, whatever the idle timeout and deadline say; reads
 * then give IO_TIMEOUT and io_expired() tells why. */
void io_lifetime(struct io *io, int seconds);
/* 1 when the session's end (io_lifetime) has passed. */
int io_expired(const struct io *io);

/* Read one line into BUF (CAP bytes, not NUL-terminated), its length in *LEN
 * without the line end.  The line end is LF or CRLF; io->crlf tells which.
 * A line longer than CAP gives IO_TOOLONG when PIECES is 0, at once, so the
 * client hears of it even if the line never ends; the next call first throws
 * away the rest of that line.  With PIECES 1 a long line comes as IO_PART
 * pieces followed by IO_OK.  The write buffer is flushed before any blocking read. */
enum io_status io_getline(struct io *io, char *buf, size_t cap, size_t *len,
    int pieces);

/* io_getline for a command line (PIECES 0) that must be complete within
 * SECONDS of its first byte: the idle timeout alone restarts on every byte,
 * so a client dripping one byte every few minutes would hold the session for
 * ever (a slow drip).  Before the line begins only the idle timeout applies. */
enum io_status io_getline_within(struct io *io, char *buf, size_t cap,
    size_t *len, int seconds);

/* Read the start of the input until PARSE decides on it: PARSE gets the
 * unread bytes (at most MAX, MAX <= IO_RBUF) and ARG, and returns the length
 * of a complete item, 0 when it needs more bytes, or -1 when they are no
 * such item.  All within SECONDS.  Returns PARSE's length (those bytes are
 * consumed; what follows stays buffered for io_getline) or -1 (nothing
 * consumed): the bytes were refused, or MAX bytes did not decide; 0 with
 * *ST set on end of input, a timeout or an error first. */
long io_prefix(struct io *io, size_t max, int seconds,
    int (*parse)(const unsigned char *, size_t, void *), void *arg,
    enum io_status *st);

/* True when buffered input is waiting (a pipelining client). */
int io_pending(const struct io *io);

/* Buffer output; a full buffer is written out.  io_printf formats one reply
 * line (the caller includes "\r\n").  Errors set io->werr. */
void io_write(struct io *io, const void *buf, size_t len);
void io_printf(struct io *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Write out everything buffered; returns 0, or -1 when output failed. */
int io_flush(struct io *io);

/* End a session on a socket without a reset: shut the sending side of
 * io->wfd (the client reads our last reply, then EOF) and read and discard
 * io->rfd until EOF, at most MS milliseconds.  Call after io_flush().
 * Nothing happens when io->wfd is no socket (a pipe, memory I/O). */
void io_linger(struct io *io, int ms);

/* Set TCP_NODELAY when FD is a TCP socket (no Nagle stall on replies). */
void io_nodelay(int fd);

#endif
