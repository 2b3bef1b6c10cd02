/* listen.c: standalone mode (-L): one listening socket, one child process per
 * connection, limits on sessions in all and per client address.  The
 * listener keeps the start-up identity (root, for a port below 1024 and for
 * each child's chroot and drop); it never reads a byte from a client. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "clock.h"
#include "listen.h"
#include "log.h"
#include "seam.h"

/* Set by the handlers only; everything else lives in struct server. */
static volatile sig_atomic_t got_chld, got_term, got_hup;

/* In a session's process: its end of the link to the listener (a proxied
 * connection), -1 when none. */
static int listen_link = -1;

/* A client address as the limits compare it: IPv4 (also when it came as
 * ::ffff:a.b.c.d on a dual-stack socket) or IPv6. */
struct peer {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
};

struct session {
	pid_t		 pid;		/* 0: free slot */
	struct peer	 peer;		/* family 0: not counted (a proxied
					 * session before its header) */
	int		 link;		/* proxied: the link to it, -1 none */
};

struct server {
	const struct opts *o;
	int		 fd;
	int		 maxconn, maxperip;
	int		 nsess;
	struct session	*sess;		/* maxconn slots */
	const char	*busy;
	/* The caller's signal state, given back to each session's child. */
	struct sigaction old_chld, old_term, old_int, old_hup;
	sigset_t	 old_mask;
	sigset_t	 wait_mask;	/* what pselect lets through */
};

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

/* Split "a.b.c.d:PORT" or "[v6]:PORT" into ADDR (CAP bytes) and *PORT.  An
 * unbracketed IPv6 address is refused: in "::1:25" the port is a guess. */
static int
split_listen(const char *s, char *addr, size_t cap, const char **port)
{
	const char *end, *colon;
	size_t len;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		end = colon;
	}
	len = (size_t)(end - s);
	if (len == 0 || len >= cap)
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	*port = colon + 1;
	return 0;
}

/* Numeric only: no DNS lookup at start-up, and the address bound is exactly
 * the one written in the inetd-style configuration.  What went wrong goes
 * into ERR (CAP bytes), for the caller's one report. */
static int
open_listener(const char *spec, char *err, size_t cap)
{
	struct addrinfo hints, *ai;
	char addr[128];
	const char *port;
	int fd, on = 1, rc;

	if (split_listen(spec, addr, sizeof(addr), &port) < 0) {
		snprintf(err, cap, "%s: want a.b.c.d:PORT or [v6]:PORT", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(addr, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, cap, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, cap, "%s: socket: %s", spec, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	/* A restart must not wait for the old sessions' TIME_WAIT to pass. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    /* A client that resets between pselect and accept must not block
	     * the loop in accept(). */
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		snprintf(err, cap, "%s: %s", spec, strerror(errno));
		close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void
peer_of(const struct sockaddr_storage *ss, struct peer *p)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	memset(p, 0, sizeof(*p));
	if (ss->ss_family == AF_INET) {
		p->family = AF_INET;
		memcpy(p->addr, &sin->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		p->family = AF_INET;
		memcpy(p->addr, &sin6->sin6_addr.s6_addr[12], 4);
	} else if (ss->ss_family == AF_INET6) {
		p->family = AF_INET6;
		memcpy(p->addr, &sin6->sin6_addr, 16);
	}
}

/* -C counts an IPv6 client by its /64: one host is given a whole /64 (RFC
 * 6177), so counting single addresses would let it take every slot. */
static void
peer_key(struct peer *p)
{
	if (p->family == AF_INET6)
		memset(p->addr + 8, 0, 8);
}

static const char *
peer_text(const struct peer *p, char *buf, size_t cap)
{
	if (p->family == 0 || inet_ntop(p->family, p->addr, buf,
	    (socklen_t)cap) == NULL)
		return "unknown";
	return buf;
}

static int
peer_count(const struct server *sv, const struct peer *p)
{
	int i, n = 0;

	for (i = 0; i < sv->maxconn; i++)
		if (sv->sess[i].pid != 0 &&
		    memcmp(&sv->sess[i].peer, p, sizeof(*p)) == 0)
			n++;
	return n;
}

/* Collect every ended session (no zombies) and free its slot. */
static void
reap(struct server *sv)
{
	pid_t pid;
	int st, i;

	got_chld = 0;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < sv->maxconn; i++)
			if (sv->sess[i].pid == pid) {
				sv->sess[i].pid = 0;
				if (sv->sess[i].link != -1)
					close(sv->sess[i].link);
				sv->sess[i].link = -1;
				sv->nsess--;
				break;
			}
		/* The session logged its own failures; a signal it could not. */
		if (WIFSIGNALED(st))
			log_warnx("session process killed pid=%ld signal=%d",
			    (long)pid, WTERMSIG(st));
	}
}

/* Client address text (a proxied session's question) as a peer. */
static int
peer_parse(const char *s, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, s, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, s, p->addr) == 1) {
		p->family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)p->addr)) {
			p->family = AF_INET;
			memmove(p->addr, p->addr + 12, 4);
			memset(p->addr + 4, 0, 12);
		}
	} else
		return -1;
	return 0;
}

/* A proxied session asks about its client (listen_admit, SEAM_ADMIT).
 * Its slot counts for that client from now on, unless the client is over
 * -C already.  Anything unexpected admits: the peer was allowed (-P), and
 * the session's privileged part has checked the address.  The link is
 * used once and never blocks the listener: the frame is there (select
 * said so) or it is late, and late admits. */
static void
answer(struct server *sv, struct session *se)
{
	unsigned char buf[2 * SEAM_ADDR_SIZE + 16];
	char client[SEAM_ADDR_SIZE], via[SEAM_ADDR_SIZE];
	struct timespec until;
	struct peer p;
	uint32_t type;
	size_t len;
	int yes = 1;

	clock_in(&until, 100);
	if (chan_recv(se->link, &until, &type, buf, sizeof(buf), &len, NULL,
	    NULL) == 1 && type == SEAM_ADMIT &&
	    seam_get_admit(buf, len, client, via) == 0 &&
	    peer_parse(client, &p) == 0) {
		peer_key(&p);
		if (peer_count(sv, &p) >= sv->maxperip) {
			yes = 0;
			log_warnx("connection refused client=%s via=%s "
			    "reason=maxperip sessions=%d", client, via,
			    sv->nsess);
		} else
			se->peer = p;
		len = seam_put_yes(buf, sizeof(buf), yes);
		(void)chan_send(se->link, &until, SEAM_ADMIT_OK, buf, len,
		    NULL, 0);
	}
	close(se->link);
	se->link = -1;
}

int
listen_admit(const char *client, const char *via)
{
	unsigned char buf[2 * SEAM_ADDR_SIZE + 16];
	struct timespec until;
	uint32_t type;
	size_t len;
	int fd = listen_link, yes = 1;

	if (fd == -1)
		return 1;	/* inetd, or no -L */
	listen_link = -1;
	clock_in(&until, LISTEN_ADMIT_MS);
	len = seam_put_admit(buf, sizeof(buf), client, via);
	if (len > 0 && chan_send(fd, &until, SEAM_ADMIT, buf, len, NULL, 0) == 0 &&
	    (chan_recv(fd, &until, &type, buf, sizeof(buf), &len, NULL,
	    NULL) != 1 || type != SEAM_ADMIT_OK ||
	    seam_get_yes(buf, len, &yes) == -1))
		yes = 1;
	close(fd);
	return yes;
}

void
listen_link_close(void)
{
	if (listen_link != -1)
		close(listen_link);
	listen_link = -1;
}

/* Over a limit: one line so the client knows to come back later (RFC 5321
 * 3.8 allows a 421 in place of the greeting), never a wait for a slow
 * client, never SIGPIPE in the listener. */
static void
refuse(const struct server *sv, int c, const char *client, const char *why)
{
	log_warnx("connection refused client=%s reason=%s sessions=%d",
	    client, why, sv->nsess);
	if (sv->busy != NULL &&
	    fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK) == 0)
		(void)send(c, sv->busy, strlen(sv->busy), MSG_NOSIGNAL);
	close(c);
}

/* Out of descriptors or memory: pause instead of spinning on a pending
 * connection that accept() keeps failing on. */
static void
pause_briefly(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	(void)nanosleep(&ts, NULL);
}

/* fds 0-2 must be open before the listener is made: else socket() or accept()
 * could return 0 or 1 and a child's dup2() would clobber it. */
static int
std_fds_open(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* The listener's state: the session table and the listening socket.
 * Returns 0 or -1 (ERR says why). */
static int
server_open(struct server *sv, const struct opts *o, const char *busy,
    char *err, size_t cap)
{
	int i;

	if (std_fds_open() < 0) {
		snprintf(err, cap, "/dev/null: %s", strerror(errno));
		return -1;
	}
	memset(sv, 0, sizeof(*sv));
	sv->o = o;
	sv->maxconn = o->maxconn > 0 ? o->maxconn : LISTEN_CONN_DEFAULT;
	sv->maxperip = o->maxperip > 0 ? o->maxperip : LISTEN_PERIP_DEFAULT;
	sv->busy = busy;
	if ((sv->sess = calloc((size_t)sv->maxconn, sizeof(*sv->sess))) == NULL) {
		snprintf(err, cap, "session table: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < sv->maxconn; i++)
		sv->sess[i].link = -1;
	if ((sv->fd = open_listener(o->listen, err, cap)) < 0) {
		free(sv->sess);
		return -1;
	}
	if (sv->fd >= FD_SETSIZE) {
		snprintf(err, cap, "descriptor %d too high", sv->fd);
		close(sv->fd);
		free(sv->sess);
		return -1;
	}
	return 0;
}

/* The signals stay blocked except inside pselect()/sigsuspend(), so a flag
 * can never be set between its test and the wait.  SIGHUP is logged and
 * changes nothing: every connection's process reads its configuration
 * (users, aliases) afresh, so there is nothing to reload. */
static void
signals_catch(struct server *sv)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
	struct sigaction *old[] = { &sv->old_chld, &sv->old_term,
	    &sv->old_int, &sv->old_hup };
	struct sigaction sa;
	sigset_t block;
	size_t i;

	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &sv->old_mask);
	sv->wait_mask = sv->old_mask;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigdelset(&sv->wait_mask, sigs[i]);
		sa.sa_flags = sigs[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
		sigaction(sigs[i], &sa, old[i]);
	}
}

/* In a session's child: the caller's signal state, the socket C on fds 0
 * and 1, nothing of the listener; LINK (or -1) its end of the -C link.
 * Returns 0, or exits when the descriptors cannot be set. */
static int
child_begin(struct server *sv, int c, int link)
{
	int i;

	close(sv->fd);
	for (i = 0; i < sv->maxconn; i++)
		if (sv->sess[i].link != -1)
			close(sv->sess[i].link);
	free(sv->sess);
	listen_link = link;
	sigaction(SIGCHLD, &sv->old_chld, NULL);
	sigaction(SIGTERM, &sv->old_term, NULL);
	sigaction(SIGINT, &sv->old_int, NULL);
	sigaction(SIGHUP, &sv->old_hup, NULL);
	sigprocmask(SIG_SETMASK, &sv->old_mask, NULL);
	/* BSD accept() inherits O_NONBLOCK; the session's reads expect a
	 * blocking socket like inetd's. */
	if (fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    dup2(c, 0) < 0 || dup2(c, 1) < 0) {
		log_warn("listen: session descriptors");
		_exit(EX_OSERR);
	}
	close(c);
	return 0;
}

/* In the listener: slot for the session PID from peer P, with LP[0] its
 * end of the -C link (or -1). */
static void
slot_take(struct server *sv, pid_t pid, const struct peer *p, const int lp[2])
{
	int i;

	for (i = 0; i < sv->maxconn && sv->sess[i].pid != 0; i++)
		;
	sv->sess[i].pid = pid;	/* nsess < maxconn: a slot is free */
	sv->sess[i].peer = *p;
	if (lp[0] != -1) {
		close(lp[1]);
		/* select() cannot watch it: that session admits. */
		if (lp[0] >= FD_SETSIZE || fcntl(lp[0], F_SETFL,
		    fcntl(lp[0], F_GETFL) | O_NONBLOCK) == -1)
			close(lp[0]);
		else
			sv->sess[i].link = lp[0];
	}
	sv->nsess++;
}

/* Take one connection.  Returns 0 in a session's child, 1 in the
 * listener (whatever became of the connection). */
static int
take(struct server *sv)
{
	struct sockaddr_storage ss;
	char client[INET6_ADDRSTRLEN];
	const char *ctext;
	struct peer p;
	socklen_t len = sizeof(ss);
	pid_t pid;
	int c, proxied, lp[2] = { -1, -1 };

	memset(&ss, 0, sizeof(ss));
	if ((c = accept(sv->fd, (struct sockaddr *)&ss, &len)) < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn("listen: accept");
			pause_briefly();
		}
		/* EAGAIN, EINTR, ECONNABORTED: the client is gone. */
		return 1;
	}
	peer_of(&ss, &p);
	ctext = peer_text(&p, client, sizeof(client));
	peer_key(&p);
	/* -P: haproxy's address is every client's; its sessions count by
	 * the header's client once it is read (answer()). */
	proxied = sv->o->proxy.n > 0 &&
	    proxy_allowed(&sv->o->proxy, (struct sockaddr *)&ss);
	if (proxied)
		memset(&p, 0, sizeof(p));
	/* A client that reconnects the moment a session closes must not meet
	 * that session's child, exited but not yet reaped. */
	if (sv->nsess >= sv->maxconn ||
	    (!proxied && peer_count(sv, &p) >= sv->maxperip))
		reap(sv);
	if (sv->nsess >= sv->maxconn) {
		refuse(sv, c, ctext, "maxconn");
		return 1;
	}
	if (!proxied && peer_count(sv, &p) >= sv->maxperip) {
		refuse(sv, c, ctext, "maxperip");
		return 1;
	}
	if (proxied && chan_pair(lp) == -1)
		log_warn("listen: link for -C");	/* admits */
	if ((pid = fork()) == 0) {
		if (lp[0] != -1)
			close(lp[0]);
		return child_begin(sv, c, lp[1]);
	}
	if (pid < 0) {
		log_warn("listen: fork");
		refuse(sv, c, ctext, "fork");
		if (lp[0] != -1) {
			close(lp[0]);
			close(lp[1]);
		}
		pause_briefly();
		return 1;
	}
	close(c);
	slot_take(sv, pid, &p, lp);
	return 1;
}

/* Wait for a connection or a -C question, and serve it.  Returns 0 in a
 * session's child, 1 in the listener. */
static int
step(struct server *sv)
{
	fd_set rfds;
	int i, maxfd;

	if (got_chld)
		reap(sv);
	if (got_hup) {
		got_hup = 0;
		log_info("SIGHUP: nothing to reload, every session reads its "
		    "configuration anew; listening on");
	}
	FD_ZERO(&rfds);
	FD_SET(sv->fd, &rfds);
	maxfd = sv->fd;
	for (i = 0; i < sv->maxconn; i++)
		if (sv->sess[i].pid != 0 && sv->sess[i].link != -1) {
			FD_SET(sv->sess[i].link, &rfds);
			if (sv->sess[i].link > maxfd)
				maxfd = sv->sess[i].link;
		}
	if (pselect(maxfd + 1, &rfds, NULL, NULL, NULL, &sv->wait_mask) < 0) {
		if (errno != EINTR) {
			log_warn("listen: pselect");
			pause_briefly();
		}
		return 1;
	}
	for (i = 0; i < sv->maxconn; i++)
		if (sv->sess[i].pid != 0 && sv->sess[i].link != -1 &&
		    FD_ISSET(sv->sess[i].link, &rfds))
			answer(sv, &sv->sess[i]);
	return FD_ISSET(sv->fd, &rfds) ? take(sv) : 1;
}

int
listen_serve(const struct opts *o, const char *busy, char *err, size_t cap)
{
	struct server sv;

	if (server_open(&sv, o, busy, err, cap) < 0)
		return -1;
	signals_catch(&sv);
	log_info("listening addr=%s maxconn=%d maxperip=%d", o->listen,
	    sv.maxconn, sv.maxperip);
	while (!got_term)
		if (step(&sv) == 0)
			return 0;
	/* SIGTERM: no new sessions; the running ones end on their own (QUIT or
	 * their idle timeout), so no mail in flight is cut off. */
	close(sv.fd);
	log_info("stopping, waiting for sessions=%d", sv.nsess);
	reap(&sv);
	while (sv.nsess > 0) {
		sigsuspend(&sv.wait_mask);
		reap(&sv);
	}
	free(sv.sess);
	log_info("stopped");
	exit(EX_OK);
}
