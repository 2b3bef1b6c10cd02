/* chan.c: frames with descriptors between the processes of a server
 * (chan.h), every wait bounded by the caller's deadline.  Runs on either
 * side of the privilege line. */
/* SCM_RIGHTS and CMSG_* are not in POSIX 2008's base: ask glibc. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chan.h"
#include "clock.h"

/* A frame's header: its type and its payload's length, in host order
 * (both ends are the same program on the same host). */
struct hdr {
	uint32_t	 type;
	uint32_t	 len;
};

int
chan_pair(int fd[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == -1)
		return -1;
	if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd[1], F_SETFD, FD_CLOEXEC) == -1) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	return 0;
}

/* Wait until FD is ready for EVENTS, by UNTIL.  Returns 0, or -1 with
 * errno ETIMEDOUT or poll's error. */
static int
wait_for(int fd, short events, const struct timespec *until)
{
	struct pollfd pfd;
	int ms, n;

	for (;;) {
		if ((ms = clock_poll_ms(until)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;	/* ready, or an error the call will see */
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* Write the IOV (N parts) by UNTIL, the NFDS descriptors FDS riding on
 * the first byte; loops over short writes, retries EINTR.  The socket is
 * used without blocking, so a peer that stops reading cannot hold us past
 * the deadline. */
static int
sendv(int fd, const struct timespec *until, struct iovec *iov, int n,
    const int *fds, int nfds)
{
	union {
		struct cmsghdr	 c;
		char		 b[CMSG_SPACE(CHAN_FDS * sizeof(int))];
	} ctl;
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t w;
	size_t k;

	memset(&m, 0, sizeof(m));
	m.msg_iov = iov;
	m.msg_iovlen = (size_t)n;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.b;
		m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	while (m.msg_iovlen > 0) {
		w = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    wait_for(fd, POLLOUT, until) == 0)
				continue;
			return -1;
		}
		/* The descriptors went with the first byte. */
		m.msg_control = NULL;
		m.msg_controllen = 0;
		for (k = (size_t)w; m.msg_iovlen > 0; ) {
			struct iovec *v = &m.msg_iov[0];

			if (k < v->iov_len) {
				v->iov_base = (char *)v->iov_base + k;
				v->iov_len -= k;
				break;
			}
			k -= v->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
	}
	return 0;
}

int
chan_send(int fd, const struct timespec *until, uint32_t type, const void *p,
    size_t len, const int *fds, int nfds)
{
	struct hdr h = { type, (uint32_t)len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, len } };

	if (len > CHAN_MAX || nfds < 0 || nfds > CHAN_FDS) {
		errno = EINVAL;
		return -1;
	}
	return sendv(fd, until, iov, len > 0 ? 2 : 1, fds, nfds);
}

size_t
chan_frame(void *buf, size_t cap, uint32_t type, const void *p, size_t len)
{
	struct hdr h = { type, (uint32_t)len };

	if (len > CHAN_MAX || cap < sizeof(h) || len > cap - sizeof(h))
		return 0;
	memcpy(buf, &h, sizeof(h));
	if (len > 0)
		memcpy((char *)buf + sizeof(h), p, len);
	return sizeof(h) + len;
}

int
chan_send_after(int fd, const struct timespec *until, const void *pre,
    size_t prelen, uint32_t type, const void *p, size_t len)
{
	struct hdr h = { type, (uint32_t)len };
	struct iovec iov[3] = { { (void *)pre, prelen }, { &h, sizeof(h) },
	    { (void *)p, len } };

	if (len > CHAN_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* An empty PRE is an empty first part: sendv steps over it. */
	return sendv(fd, until, iov, len > 0 ? 3 : 2, NULL, 0);
}

/* Keep the descriptors of control message M in FDS (room for MAX, *NFDS
 * kept so far); any beyond, or any not asked for (FDS NULL), are closed. */
static void
keep_fds(struct msghdr *m, int *fds, int *nfds, size_t max)
{
	struct cmsghdr *c;
	size_t k, have;
	int *in;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		have = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		in = (int *)(void *)CMSG_DATA(c);
		for (k = 0; k < have; k++) {
			if (fds != NULL && (size_t)*nfds < max)
				fds[(*nfds)++] = in[k];
			else
				close(in[k]);
		}
	}
}

/* Read exactly LEN bytes into P by UNTIL.  Returns 1, 0 at the end before
 * the first byte, -1 on an error, the deadline, or an end after some
 * bytes (EPROTO). */
static int
read_all(int fd, const struct timespec *until, void *p, size_t len, int *fds,
    int *nfds)
{
	union {
		struct cmsghdr	 c;
		char		 b[CMSG_SPACE(CHAN_FDS * sizeof(int))];
	} ctl;
	struct msghdr m;
	struct iovec iov;
	size_t got = 0, max = nfds != NULL ? (size_t)*nfds : 0;
	ssize_t n;

	if (nfds != NULL)
		*nfds = 0;
	while (got < len) {
		iov.iov_base = (char *)p + got;
		iov.iov_len = len - got;
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof(ctl.b);
		/* Read first, wait only when there is nothing yet: a frame
		 * that is there costs no poll(). */
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    wait_for(fd, POLLIN, until) == 0)
				continue;
			return -1;
		}
		if (m.msg_controllen > 0)
			keep_fds(&m, fds, nfds, max);
		if (n == 0) {
			if (got == 0)
				return 0;
			errno = EPROTO;
			return -1;
		}
		got += (size_t)n;
	}
	return 1;
}

int
chan_recv(int fd, const struct timespec *until, uint32_t *type, void *buf,
    size_t cap, size_t *len, int *fds, int *nfds)
{
	struct hdr h;
	int r, k;

	r = read_all(fd, until, &h, sizeof(h), fds, nfds);
	if (r <= 0)
		goto bad;
	if (h.len > cap || h.len > CHAN_MAX) {
		errno = EPROTO;
		r = -1;
		goto bad;
	}
	if (h.len > 0 && (r = read_all(fd, until, buf, h.len, NULL, NULL)) != 1) {
		if (r == 0)
			errno = EPROTO;		/* the end inside a frame */
		r = -1;
		goto bad;
	}
	*type = h.type;
	*len = h.len;
	return 1;
bad:
	if (nfds != NULL) {
		for (k = 0; k < *nfds; k++)
			close(fds[k]);
		*nfds = 0;
	}
	return r;
}
