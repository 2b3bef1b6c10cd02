/* proxyconn.c: the PROXY header at the start of a session from a -P peer,
 * on both sides of the privilege line (proxyconn.h).  The bytes are read
 * by the session only: the privileged part gets an address it checks
 * again, never the header. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "listen.h"
#include "log.h"
#include "proxy.h"
#include "proxyconn.h"

static int
parse(const unsigned char *buf, size_t len, void *arg)
{
	return proxy_parse(buf, len, arg);
}

int
proxy_session_begin(struct opts *o, struct io *io, int link, const char *busy)
{
	struct proxy_hdr h;
	enum io_status st = IO_OK;
	uint32_t type;
	size_t len;
	char ok;
	long n;

	n = io_prefix(io, PROXY_HEADER_MAX, PROXY_TIMEOUT, parse, &h, &st);
	if (n <= 0) {
		log_warnx("proxy header %s, closed", n < 0 ? "invalid" :
		    st == IO_TIMEOUT ? "not sent in time" :
		    st == IO_EOF ? "missing" : "unreadable");
		return -1;
	}
	if (h.local) {
		o->via[0] = '\0';	/* a health check: the peer is the client */
		o->healthcheck = 1;
	}
	else {
		snprintf(o->client, sizeof(o->client), "%s", h.src);
		log_session(log_sid(), o->client);
	}
	if (chan_send(link, CHAN_CLIENT, h.local ? "" : o->client,
	    h.local ? 0 : strlen(o->client), NULL, 0) == -1 ||
	    chan_recv(link, &type, &ok, 1, &len, NULL, NULL) != 1 ||
	    type != CHAN_CLIENT_OK || len != 1) {
		log_warnx("proxy: no answer from the privileged part");
		return -1;
	}
	if (ok == 'y')
		return 0;
	io_write(io, busy, strlen(busy));
	(void)io_flush(io);
	return -1;
}

/* Address text as inet_pton takes it, and nothing else. */
static int
addr_ok(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

int
proxy_priv_begin(struct opts *o, int link, pid_t session)
{
	char buf[sizeof(o->client)], ok = 'y';
	struct pollfd pfd;
	uint32_t type;
	size_t len;
	int k;

	/* The session has PROXY_TIMEOUT for the header; a little more for
	 * it to say so. */
	pfd.fd = link;
	pfd.events = POLLIN;
	while ((k = poll(&pfd, 1, (PROXY_TIMEOUT + 5) * 1000)) == -1 &&
	    errno == EINTR)
		;
	if (k <= 0) {
		log_warnx("proxy: the session gave no client address in time, "
		    "killed");
		(void)kill(session, SIGKILL);
		return -1;
	}
	k = chan_recv(link, &type, buf, sizeof(buf) - 1, &len, NULL, NULL);
	if (k == 0)
		return -1;	/* no header: the session logged it */
	if (k != 1 || type != CHAN_CLIENT) {
		log_warnx("privsep: bad request type=%u len=%zu",
		    k == 1 ? type : 0, k == 1 ? len : 0);
		return -1;
	}
	buf[len] = '\0';
	if (len > 0) {
		if (strlen(buf) != len || !addr_ok(buf)) {
			log_warnx("privsep: bad client address from the session");
			return -1;
		}
		memcpy(o->client, buf, len + 1);
		log_session(log_sid(), o->client);
		ok = listen_admit(o->client, o->via) ? 'y' : 'n';
	}
	if (chan_send(link, CHAN_CLIENT_OK, &ok, 1, NULL, 0) == -1) {
		log_warn("privsep: answer the session");
		return -1;
	}
	return ok == 'y' ? 0 : -1;
}
