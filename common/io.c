/* io.c: session I/O: a bounded line reader with idle timeout and deadline,
 * and an output buffer flushed only before blocking on input.  Unprivileged. */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"

static long
ms_since(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Milliseconds poll() may wait for FD: the idle timeout counted from START,
 * capped by the deadline and, for a read (READING), by the session's end;
 * -1 for no limit, 0 when time is up.  A write is not cut by the session's
 * end: the reply that says so must still go out (its idle timeout bounds
 * a client that does not read). */
static int
io_wait_ms(const struct io *io, const struct timespec *start, int reading)
{
	struct timespec now;
	long ms = -1, left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (io->timeout > 0) {
		ms = (long)io->timeout * 1000 - ms_since(start, &now);
		if (ms < 0)
			ms = 0;
	}
	if (io->deadline.tv_sec != 0 || io->deadline.tv_nsec != 0) {
		left = ms_since(&now, &io->deadline);
		if (left < 0)
			left = 0;
		if (ms < 0 || left < ms)
			ms = left;
	}
	if (reading && (io->end.tv_sec != 0 || io->end.tv_nsec != 0)) {
		left = ms_since(&now, &io->end);
		if (left < 0)
			left = 0;
		if (ms < 0 || left < ms)
			ms = left;
	}
	/* poll() takes an int; a longer wait simply loops (io_poll recomputes). */
	if (ms > 3600000)
		ms = 3600000;
	return (int)ms;
}

/* Wait until FD is ready for EVENTS.  Returns 0, or -1 with errno ETIMEDOUT
 * (timeout or deadline) or poll's error.  Signals restart the wait with the
 * time already spent counted, so they cannot stretch the timeout. */
static int
io_poll(const struct io *io, int fd, short events)
{
	struct timespec start;
	struct pollfd pfd;
	int ms, n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		ms = io_wait_ms(io, &start, events == POLLIN);
		if (ms == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;	/* ready, or HUP/ERR that read/write will report */
		/* n == 0: the wait may have been capped short of the limit; the
		 * next turn finds 0 ms left when time is really up. */
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static ssize_t
fd_read(struct io *io, void *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		if (io_poll(io, io->rfd, POLLIN) < 0)
			return -1;
		n = read(io->rfd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

static ssize_t
fd_write(struct io *io, const void *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		/* A client that stops reading must not hold us forever either. */
		if (io_poll(io, io->wfd, POLLOUT) < 0)
			return -1;
		n = write(io->wfd, buf, len);
		if (n > 0)
			return n;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

/* Clear the state, not the 80 KiB of buffers: every session starts one,
 * and touching them would cost it 20 page faults for nothing. */
static void
io_clear(struct io *io)
{
	memset(io, 0, offsetof(struct io, rbuf));
}

void
io_init_fd(struct io *io, int rfd, int wfd, int timeout)
{
	struct timeval tv;

	io_clear(io);
	io->rfd = rfd;
	io->wfd = wfd;
	io->read = fd_read;
	io->write = fd_write;
	io->timeout = timeout;
	/* poll() says "writable" when a little room is free, but a blocking write
	 * of more then waits for all of it; on a socket the send timeout bounds
	 * that wait.  Not a socket: ENOTSOCK, and poll() alone has to do. */
	if (timeout > 0) {
		tv.tv_sec = timeout;
		tv.tv_usec = 0;
		(void)setsockopt(wfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
}

void
io_init_cb(struct io *io, io_read_fn *r, io_write_fn *w, void *ctx)
{
	io_clear(io);
	io->rfd = -1;
	io->wfd = -1;
	io->read = r;
	io->write = w;
	io->ctx = ctx;
}

void
io_deadline(struct io *io, int seconds)
{
	if (seconds <= 0) {
		io->deadline.tv_sec = 0;
		io->deadline.tv_nsec = 0;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &io->deadline);
	io->deadline.tv_sec += seconds;
}

void
io_lifetime(struct io *io, int seconds)
{
	clock_gettime(CLOCK_MONOTONIC, &io->end);
	io->end.tv_sec += seconds;
}

static int
passed(const struct timespec *t)
{
	struct timespec now;

	if (t->tv_sec == 0 && t->tv_nsec == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ms_since(&now, t) <= 0;
}

int
io_expired(const struct io *io)
{
	return passed(&io->end);
}

static int
deadline_passed(const struct io *io)
{
	return passed(&io->deadline) || passed(&io->end);
}

/* Read more input after the unread bytes, which move to the front.  Output is
 * flushed first: this read may block, and the client may be waiting for the
 * replies to what it sent before (RFC 2920 pipelining keeps order this way). */
static enum io_status
io_fill(struct io *io)
{
	ssize_t n;

	if (io->rpos > 0) {
		memmove(io->rbuf, io->rbuf + io->rpos, io->rlen - io->rpos);
		io->rlen -= io->rpos;
		io->rpos = 0;
	}
	(void)io_flush(io);
	if (deadline_passed(io))
		return IO_TIMEOUT;
	n = io->read(io, io->rbuf + io->rlen, sizeof(io->rbuf) - io->rlen);
	if (n < 0) {
		if (errno == ETIMEDOUT)
			return IO_TIMEOUT;
		log_warn("io read failed");
		return IO_ERROR;
	}
	if (n == 0)
		return IO_EOF;
	io->rlen += (size_t)n;
	return IO_OK;
}

enum io_status
io_getline(struct io *io, char *buf, size_t cap, size_t *len, int pieces)
{
	enum io_status st;
	const char *p, *lf;
	size_t avail, seg, c, room, n = 0, eol;
	int toolong = 0, hold;

	io->nul = 0;
	io->crlf = 0;
	*len = 0;
	while (io->skip) {
		/* The rest of an over-long line already answered. */
		avail = io->rlen - io->rpos;
		lf = avail > 0 ? memchr(io->rbuf + io->rpos, '\n', avail) : NULL;
		if (lf != NULL) {
			io->rpos = (size_t)(lf - io->rbuf) + 1;
			io->skip = 0;
			break;
		}
		io->rpos = io->rlen;
		if ((st = io_fill(io)) != IO_OK)
			return st;
	}
	for (;;) {
		avail = io->rlen - io->rpos;
		p = io->rbuf + io->rpos;
		lf = avail > 0 ? memchr(p, '\n', avail) : NULL;
		/* A CR at the end of the input so far may be half of a CRLF: leave
		 * it unread until the next byte says.  A bare CR is data, not a line
		 * end (RFC 5321 2.3.8), and must not make a full line "too long". */
		hold = lf == NULL && avail > 0 && p[avail - 1] == '\r';
		seg = lf != NULL ? (size_t)(lf - p) : avail - (size_t)hold;
		eol = 0;
		c = seg;
		if (lf != NULL) {
			eol = 1;
			if (seg > 0 && p[seg - 1] == '\r') {
				c = seg - 1;
				io->crlf = 1;
			}
		}
		room = cap - n;
		if (c > room) {
			/* More line than room: a piece, or the start of a discard. */
			if (!toolong) {
				memcpy(buf + n, p, room);
				if (memchr(p, '\0', room) != NULL)
					io->nul = 1;
				n += room;
			}
			if (pieces) {
				io->rpos += room;
				io->crlf = 0;
				*len = n;
				return IO_PART;
			}
			toolong = 1;
		} else if (!toolong) {
			memcpy(buf + n, p, c);
			if (memchr(p, '\0', c) != NULL)
				io->nul = 1;
			n += c;
		}
		io->rpos += seg + eol;
		if (eol || toolong) {
			/* Over-long: answer now, even if the line never ends. */
			io->skip = toolong && !eol;
			*len = n;
			return toolong ? IO_TOOLONG : IO_OK;
		}
		st = io_fill(io);
		if (st != IO_OK) {
			/* A partial last line is dropped: it was never terminated. */
			io->crlf = 0;
			*len = 0;
			return st;
		}
	}
}

enum io_status
io_getline_within(struct io *io, char *buf, size_t cap, size_t *len,
    int seconds)
{
	enum io_status st;

	/* Until a line begins, only the idle timeout: a client may think
	 * between commands.  The rest of an over-long line has begun. */
	if (!io->skip && io->rpos == io->rlen && (st = io_fill(io)) != IO_OK) {
		*len = 0;
		return st;
	}
	io_deadline(io, seconds);
	st = io_getline(io, buf, cap, len, 0);
	/* Replies are timed per write, not by the line's deadline. */
	io_deadline(io, 0);
	return st;
}

long
io_prefix(struct io *io, size_t max, int seconds,
    int (*parse)(const unsigned char *, size_t, void *), void *arg,
    enum io_status *st)
{
	size_t avail;
	int n;

	io_deadline(io, seconds);
	for (;;) {
		avail = io->rlen - io->rpos;
		if (avail > max)
			avail = max;
		n = parse((const unsigned char *)io->rbuf + io->rpos, avail, arg);
		if (n > 0 && (size_t)n <= avail) {
			io->rpos += (size_t)n;
			break;
		}
		/* A parser that wants more than MAX bytes has its answer. */
		if (n != 0 || avail == max) {
			n = -1;
			break;
		}
		if ((*st = io_fill(io)) != IO_OK) {
			n = 0;
			break;
		}
	}
	io_deadline(io, 0);
	return n;
}

int
io_pending(const struct io *io)
{
	return io->rpos < io->rlen;
}

/* Write LEN bytes at BUF through the callback, looping over short writes.
 * The first failure is logged and stops all further output: the client is
 * gone (EPIPE, SIGPIPE being ignored) or stuck, and the session will see EOF
 * or a timeout on its next read. */
static void
io_put(struct io *io, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0 && !io->werr) {
		n = io->write(io, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			log_warn("io write failed");
			io->werr = 1;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

int
io_flush(struct io *io)
{
	if (io->wlen > 0 && !io->werr)
		io_put(io, io->wbuf, io->wlen);
	io->wlen = 0;
	return io->werr ? -1 : 0;
}

void
io_write(struct io *io, const void *buf, size_t len)
{
	if (io->werr)
		return;
	if (len > sizeof(io->wbuf) - io->wlen) {
		if (io_flush(io) < 0)
			return;
		/* Bigger than the whole buffer: no point copying it. */
		if (len >= sizeof(io->wbuf)) {
			io_put(io, buf, len);
			return;
		}
	}
	memcpy(io->wbuf + io->wlen, buf, len);
	io->wlen += len;
}

void
io_printf(struct io *io, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (io->werr)
		return;
	room = sizeof(io->wbuf) - io->wlen;
	va_start(ap, fmt);
	n = vsnprintf(io->wbuf + io->wlen, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room) {
		io->wlen += (size_t)n;
		return;
	}
	/* Did not fit after what is buffered: write that out and format again. */
	(void)io_flush(io);
	if (io->werr)
		return;
	va_start(ap, fmt);
	n = vsnprintf(io->wbuf, sizeof(io->wbuf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(io->wbuf)) {
		/* A reply longer than the buffer is a bug; never send it cut. */
		log_warnx("io reply too long, dropped");
		return;
	}
	io->wlen = (size_t)n;
}

void
io_linger(struct io *io, int ms)
{
	struct timespec start, now;
	struct pollfd pfd;
	char buf[4096];
	socklen_t len;
	ssize_t n;
	int type, left;

	/* Closing a socket with unread input makes the kernel send a reset
	 * (RFC 1122 4.2.2.13), and the client's TCP may drop the reply it has
	 * not read yet: a 421 after too many errors, a 221 after a pipelined
	 * QUIT.  A FIN after our last byte, and no unread input at close,
	 * avoid that. */
	len = sizeof(type);
	if (io->wfd < 0 || io->rfd < 0 ||
	    getsockopt(io->wfd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    shutdown(io->wfd, SHUT_WR) < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - (int)ms_since(&start, &now);
		if (left <= 0)
			return;
		pfd.fd = io->rfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd.revents == 0)
			return;		/* time is up */
		n = read(io->rfd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;		/* EOF or an error */
	}
}

void
io_nodelay(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int type, one = 1;

	/* Under inetd fd 0 may also be a pipe or a UNIX socket (tests, ucspi):
	 * TCP_NODELAY only means something on TCP, so anything else is left alone. */
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
