/* seam_peer.h: the session tests' privileged side, at the other end of a
 * real seam: a thread runs smtpd's delivery side or pop3d's login checker
 * on one end of a socketpair while the test runs the session on the other,
 * with the same messages as between the two processes of a server.  And a
 * client on a real socket, for pop3d's hand-over of the connection. */
#ifndef SEAM_PEER_H
#define SEAM_PEER_H

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chan.h"
#include "clock.h"
#include "priv.h"
#include "capture.h"

struct peer {
	pthread_t	 t;
	struct priv_seam ps;	/* the privileged side's end */
	struct priv_seam sess;	/* the session's end */
	void		*(*fn)(void *);
	const void	*conf;
	int		 rc;
};

/* A seam whose every wait ends within an hour (a test that hangs is cut
 * off by check long before), and FN(peer) on its privileged end. */
static inline void
peer_start(struct peer *p, void *(*fn)(void *), const void *conf)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(chan_pair(sv), 0);
	p->ps.fd = sv[0];
	p->sess.fd = sv[1];
	clock_in(&p->ps.end, 3600 * 1000L);
	p->sess.end = p->ps.end;
	p->fn = fn;
	p->conf = conf;
	ck_assert_int_eq(pthread_create(&p->t, NULL, fn, p), 0);
}

/* The session is over: its end closes, and the privileged side ends. */
static inline int
peer_join(struct peer *p)
{
	if (p->sess.fd != -1)
		close(p->sess.fd);
	p->sess.fd = -1;
	ck_assert_int_eq(pthread_join(p->t, NULL), 0);
	return p->rc;
}

/* A client on a real socket: INPUT written at once (or, with FIRST set,
 * once the greeting came: FIRST makes the input from it), the write side
 * shut, every byte of output read until the server side is closed. */
struct sock_client {
	pthread_t	 t;
	int		 fd;		/* the client's end */
	int		 server;	/* the server's end */
	char		*in;
	size_t		 inlen;
	void		(*first)(struct sock_client *, const char *greeting);
	char		*out;
	size_t		 outlen, outcap;
};

static inline void *
sock_client_run(void *arg)
{
	struct sock_client *c = arg;
	char buf[4096];
	ssize_t n;
	size_t off = 0;
	int greeted = c->first == NULL;

	for (;;) {
		if (greeted && c->in != NULL) {
			while (off < c->inlen && (n = write(c->fd, c->in + off,
			    c->inlen - off)) > 0)
				off += (size_t)n;
			shutdown(c->fd, SHUT_WR);
			free(c->in);
			c->in = NULL;
		}
		if ((n = read(c->fd, buf, sizeof(buf))) <= 0)
			break;
		capture_append(&c->out, &c->outlen, &c->outcap, buf, (size_t)n);
		if (!greeted && memchr(c->out, '\n', c->outlen) != NULL) {
			c->first(c, c->out);
			greeted = 1;
		}
	}
	close(c->fd);
	return NULL;
}

static inline struct sock_client *
sock_client_start(const char *in,
    void (*first)(struct sock_client *, const char *))
{
	struct sock_client *c = calloc(1, sizeof(*c));
	int sv[2];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c->fd = sv[0];
	c->server = sv[1];
	c->in = strdup(in != NULL ? in : "");
	c->inlen = strlen(c->in);
	c->first = first;
	ck_assert_int_eq(pthread_create(&c->t, NULL, sock_client_run, c), 0);
	return c;
}

/* The output, once every holder of the server's end has closed it. */
static inline const char *
sock_client_join(struct sock_client *c)
{
	if (c->server != -1)
		close(c->server);
	c->server = -1;
	ck_assert_int_eq(pthread_join(c->t, NULL), 0);
	return c->out != NULL ? c->out : "";
}

static inline void
sock_client_free(struct sock_client *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

#endif
