/* proxyconn.c: the PROXY header at the start of a session from a -P peer,
 * on both sides of the privilege line (proxyconn.h).  The bytes are read
 * by the session only: the privileged part gets an address it checks
 * again (seam.c), never the header. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "clock.h"
#include "listen.h"
#include "log.h"
#include "proxy.h"
#include "proxyconn.h"
#include "seam.h"

static int
parse(const unsigned char *buf, size_t len, void *arg)
{
	return proxy_parse(buf, len, arg);
}

int
proxy_session_begin(struct opts *o, struct io *io, struct priv_seam *ps,
    const char *busy)
{
	unsigned char buf[SEAM_ADDR_SIZE + 8];
	struct proxy_hdr h;
	enum io_status st = IO_OK;
	uint32_t type;
	size_t len, n;
	long k;
	int yes;

	k = io_prefix(io, PROXY_HEADER_MAX, PROXY_TIMEOUT, parse, &h, &st);
	if (k <= 0) {
		log_warnx("proxy header %s, closed", k < 0 ? "invalid" :
		    st == IO_TIMEOUT ? "not sent in time" :
		    st == IO_EOF ? "missing" : "unreadable");
		return -1;
	}
	if (h.local) {
		o->via[0] = '\0';	/* a health check: the peer is the client */
		o->healthcheck = 1;
	} else {
		snprintf(o->client, sizeof(o->client), "%s", h.src);
		log_session(log_sid(), o->client);
	}
	n = seam_put_client(buf, sizeof(buf), h.local ? "" : o->client);
	if (n == 0 || chan_send(ps->fd, &ps->end, SEAM_CLIENT, buf, n, NULL,
	    0) == -1 || chan_recv(ps->fd, &ps->end, &type, buf, sizeof(buf),
	    &len, NULL, NULL) != 1 || type != SEAM_CLIENT_OK ||
	    seam_get_yes(buf, len, &yes) == -1) {
		log_warnx("proxy: no answer from the privileged part");
		return -1;
	}
	if (yes)
		return 0;
	io_write(io, busy, strlen(busy));
	(void)io_flush(io);
	return -1;
}

int
proxy_priv_begin(struct opts *o, struct priv_seam *ps)
{
	unsigned char buf[SEAM_ADDR_SIZE + 8];
	char client[SEAM_ADDR_SIZE];
	struct timespec until;
	uint32_t type;
	size_t len, n;
	int k, yes = 1;

	/* The session has PROXY_TIMEOUT for the header; a little more for
	 * it to say so. */
	clock_in(&until, (PROXY_TIMEOUT + SEAM_GRACE_S) * 1000L);
	k = chan_recv(ps->fd, &until, &type, buf, sizeof(buf), &len, NULL,
	    NULL);
	if (k == 0)
		return 0;	/* no header: the session logged it */
	if (k == -1 && errno == ETIMEDOUT) {
		log_warnx("proxy: the session gave no client address in time");
		return -1;
	}
	if (k == -1 || type != SEAM_CLIENT ||
	    seam_get_client(buf, len, client) == -1) {
		log_warnx("privsep: bad client address from the session");
		return -1;
	}
	if (client[0] != '\0') {
		memcpy(o->client, client, sizeof(o->client));
		log_session(log_sid(), o->client);
		yes = listen_admit(o->client, o->via);
	}
	n = seam_put_yes(buf, sizeof(buf), yes);
	if (chan_send(ps->fd, &ps->end, SEAM_CLIENT_OK, buf, n, NULL, 0) == -1) {
		log_warn("privsep: answer the session");
		return -1;
	}
	return yes ? 1 : 0;
}
