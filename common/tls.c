/* tls.c: the TLS wrapper's control pipes (tls.h): detected at start-up,
 * used once to start TLS.  Runs in the session, unprivileged. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "tls.h"

/* 1 when FD is a pipe (or FIFO) open for MODE (O_RDONLY, O_WRONLY). */
static int
pipe_for(int fd, int mode)
{
	struct stat st;
	int fl;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (fl = fcntl(fd, F_GETFL)) != -1 && (fl & O_ACCMODE) == mode;
}

void
tls_detect(struct tls *t, int implicit)
{
	t->on = implicit;
	t->offer = TLS_NONE;
	if (implicit || !pipe_for(TLS_CTL_FD, O_WRONLY))
		return;
	t->offer = pipe_for(TLS_ACK_FD, O_RDONLY) ? TLS_ACK : TLS_CLOSE;
}

int
tls_can_start(const struct tls *t)
{
	return t->offer != TLS_NONE && !t->on;
}

void
tls_close_copies(const struct tls *t)
{
	if (t->offer != TLS_NONE)
		close(TLS_CTL_FD);
	if (t->offer == TLS_ACK)
		close(TLS_ACK_FD);
}

/* Write LEN bytes at P to FD; 0 or -1. */
static int
write_all(int fd, const void *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p = (const char *)p + n;
		len -= (size_t)n;
	}
	return 0;
}

/* Throw away what the client sent that we have not used: the input buffer,
 * and whatever can be read on IO's descriptor without waiting.  It was
 * sent in plaintext after the command that starts TLS: it is never run
 * (CVE-2011-0411). */
static void
discard_input(struct io *io)
{
	struct pollfd pfd;
	char buf[4096];
	ssize_t n;

	io->rpos = io->rlen = 0;
	io->skip = 0;
	if (io->rfd < 0)
		return;
	for (;;) {
		pfd.fd = io->rfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) != 1 || (pfd.revents & POLLIN) == 0)
			return;
		n = read(io->rfd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR))
			return;
	}
}

/* The acknowledging protocol: NUL on fd 5, then wait for the NUL on fd 6,
 * within the idle timeout. */
static int
handshake_ack(int timeout)
{
	struct timespec until;
	struct pollfd pfd;
	char c = 0;
	ssize_t n;
	int k;

	if (write_all(TLS_CTL_FD, &c, 1) == -1)
		return -1;
	clock_in(&until, (timeout > 0 ? timeout : 60) * 1000L);
	for (;;) {
		pfd.fd = TLS_ACK_FD;
		pfd.events = POLLIN;
		if ((k = poll(&pfd, 1, clock_poll_ms(&until))) == -1 &&
		    errno == EINTR)
			continue;
		if (k <= 0) {
			errno = k == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		n = read(TLS_ACK_FD, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != 1 || c != 0) {
			errno = EPROTO;
			return -1;
		}
		return 0;
	}
}

int
tls_start(struct tls *t, struct io *io, const char *reply, size_t len)
{
	int rc;

	if (!tls_can_start(t))
		return -1;
	if (t->offer == TLS_ACK)
		io_write(io, reply, len);
	if (io_flush(io) == -1)
		return -1;
	discard_input(io);
	if (t->offer == TLS_CLOSE)
		rc = write_all(TLS_CTL_FD, reply, len);
	else
		rc = handshake_ack(io->timeout);
	/* The wrapper stopped passing plaintext when it got the signal: what
	 * came in before that is thrown away too. */
	discard_input(io);
	close(TLS_CTL_FD);
	if (t->offer == TLS_ACK)
		close(TLS_ACK_FD);
	t->offer = TLS_NONE;
	if (rc == -1) {
		log_warn("tls: the wrapper's control pipe");
		return -1;
	}
	t->on = 1;
	return 0;
}
