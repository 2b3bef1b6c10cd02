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
#include "listen.h"
#include "log.h"

/* Set by the handlers only; everything else lives in struct server. */
static volatile sig_atomic_t got_chld, got_term;

/* In a session's process: its end of the link to the listener (a proxied
 * connection), -1 when none. */
static int listen_link = -1;

/* The link's frames (chan.h): the client address; the answer, one byte. */
#define LINK_CLIENT	1
#define LINK_ANSWER	2

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
};

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
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
 * the one written in the inetd-style configuration. */
static int
open_listener(const char *spec)
{
	struct addrinfo hints, *ai;
	char addr[128];
	const char *port;
	int fd, on = 1, rc;

	if (split_listen(spec, addr, sizeof(addr), &port) < 0) {
		log_warnx("listen failed addr=%s: want a.b.c.d:PORT or [v6]:PORT",
		    spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(addr, port, &hints, &ai);
	if (rc != 0) {
		log_warnx("listen failed addr=%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0) {
		log_warn("listen failed addr=%s: socket", spec);
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
		log_warn("listen failed addr=%s", spec);
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

/* A proxied session asks about its client (listen_admit): "CLIENT VIA".
 * Its slot counts for that client from now on, unless the client is over
 * -C already.  Anything unexpected admits: the peer was allowed (-P), and
 * the session itself has checked the address. */
static void
answer(struct server *sv, struct session *se)
{
	char buf[2 * INET6_ADDRSTRLEN + 2], *via, ok = 'y';
	struct peer p;
	uint32_t type;
	size_t len;

	if (chan_recv(se->link, &type, buf, sizeof(buf) - 1, &len, NULL,
	    NULL) == 1 && type == LINK_CLIENT) {
		buf[len] = '\0';
		if ((via = strchr(buf, ' ')) != NULL)
			*via++ = '\0';
		if (via != NULL && peer_parse(buf, &p) == 0) {
			peer_key(&p);
			if (peer_count(sv, &p) >= sv->maxperip) {
				ok = 'n';
				log_warnx("connection refused client=%s via=%s "
				    "reason=maxperip sessions=%d", buf, via,
				    sv->nsess);
			} else
				se->peer = p;
		}
		(void)chan_send(se->link, LINK_ANSWER, &ok, 1, NULL, 0);
	}
	close(se->link);
	se->link = -1;
}

int
listen_admit(const char *client, const char *via)
{
	char buf[2 * INET6_ADDRSTRLEN + 2], ok = 'y';
	struct pollfd pfd;
	uint32_t type;
	size_t len;
	int fd = listen_link, n, k;

	if (fd == -1)
		return 1;	/* inetd, or no -L */
	listen_link = -1;
	n = snprintf(buf, sizeof(buf), "%s %s", client, via);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    chan_send(fd, LINK_CLIENT, buf, (size_t)n, NULL, 0) == 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		while ((k = poll(&pfd, 1, LISTEN_ADMIT_MS)) == -1 &&
		    errno == EINTR)
			;
		if (k == 1 && (chan_recv(fd, &type, &ok, 1, &len, NULL,
		    NULL) != 1 || type != LINK_ANSWER || len != 1))
			ok = 'y';
	}
	close(fd);
	return ok != 'n';
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

int
listen_serve(const struct opts *o, const char *busy)
{
	struct sigaction sa, old_chld, old_term, old_int;
	sigset_t block, old_mask, wait_mask;
	struct sockaddr_storage ss;
	struct server sv;
	struct peer p;
	char client[INET6_ADDRSTRLEN];
	const char *ctext;
	socklen_t len;
	fd_set rfds;
	pid_t pid;
	int c, i, maxfd, proxied, lp[2];

	if (std_fds_open() < 0) {
		log_warn("open /dev/null");
		return -1;
	}
	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	sv.maxconn = o->maxconn > 0 ? o->maxconn : LISTEN_CONN_DEFAULT;
	sv.maxperip = o->maxperip > 0 ? o->maxperip : LISTEN_PERIP_DEFAULT;
	sv.busy = busy;
	sv.sess = calloc((size_t)sv.maxconn, sizeof(*sv.sess));
	if (sv.sess == NULL) {
		log_warn("listen: session table");
		return -1;
	}
	for (i = 0; i < sv.maxconn; i++)
		sv.sess[i].link = -1;
	sv.fd = open_listener(o->listen);
	if (sv.fd < 0) {
		free(sv.sess);
		return -1;
	}
	if (sv.fd >= FD_SETSIZE) {
		log_warnx("listen failed: descriptor %d too high", sv.fd);
		close(sv.fd);
		free(sv.sess);
		return -1;
	}

	/* The signals stay blocked except inside pselect()/sigsuspend(), so a
	 * flag can never be set between its test and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	wait_mask = old_mask;
	sigdelset(&wait_mask, SIGCHLD);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, &old_chld);
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);

	log_info("listening addr=%s maxconn=%d maxperip=%d", o->listen,
	    sv.maxconn, sv.maxperip);
	while (!got_term) {
		if (got_chld)
			reap(&sv);
		FD_ZERO(&rfds);
		FD_SET(sv.fd, &rfds);
		maxfd = sv.fd;
		for (i = 0; i < sv.maxconn; i++)
			if (sv.sess[i].pid != 0 && sv.sess[i].link != -1) {
				FD_SET(sv.sess[i].link, &rfds);
				if (sv.sess[i].link > maxfd)
					maxfd = sv.sess[i].link;
			}
		if (pselect(maxfd + 1, &rfds, NULL, NULL, NULL, &wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("listen: pselect");
			pause_briefly();
			continue;
		}
		for (i = 0; i < sv.maxconn; i++)
			if (sv.sess[i].pid != 0 && sv.sess[i].link != -1 &&
			    FD_ISSET(sv.sess[i].link, &rfds))
				answer(&sv, &sv.sess[i]);
		if (!FD_ISSET(sv.fd, &rfds))
			continue;
		len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		c = accept(sv.fd, (struct sockaddr *)&ss, &len);
		if (c < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("listen: accept");
				pause_briefly();
			}
			/* EAGAIN, EINTR, ECONNABORTED: the client is gone. */
			continue;
		}
		peer_of(&ss, &p);
		ctext = peer_text(&p, client, sizeof(client));
		peer_key(&p);
		/* -P: haproxy's address is every client's; its sessions
		 * count by the header's client once it is read (answer()). */
		proxied = o->proxy.n > 0 &&
		    proxy_allowed(&o->proxy, (struct sockaddr *)&ss);
		if (proxied)
			memset(&p, 0, sizeof(p));
		/* A client that reconnects the moment a session closes must
		 * not meet that session's child, exited but not yet reaped. */
		if (sv.nsess >= sv.maxconn ||
		    (!proxied && peer_count(&sv, &p) >= sv.maxperip))
			reap(&sv);
		if (sv.nsess >= sv.maxconn) {
			refuse(&sv, c, ctext, "maxconn");
			continue;
		}
		if (!proxied && peer_count(&sv, &p) >= sv.maxperip) {
			refuse(&sv, c, ctext, "maxperip");
			continue;
		}
		lp[0] = lp[1] = -1;
		if (proxied && chan_pair(lp) == -1)
			log_warn("listen: link for -C");	/* admits */
		pid = fork();
		if (pid < 0) {
			log_warn("listen: fork");
			refuse(&sv, c, ctext, "fork");
			if (lp[0] != -1) {
				close(lp[0]);
				close(lp[1]);
			}
			pause_briefly();
			continue;
		}
		if (pid == 0) {
			/* The child: the caller's signal state, the socket on
			 * fds 0 and 1, nothing of the listener. */
			close(sv.fd);
			for (i = 0; i < sv.maxconn; i++)
				if (sv.sess[i].link != -1)
					close(sv.sess[i].link);
			free(sv.sess);
			if (lp[0] != -1)
				close(lp[0]);
			listen_link = lp[1];
			sigaction(SIGCHLD, &old_chld, NULL);
			sigaction(SIGTERM, &old_term, NULL);
			sigaction(SIGINT, &old_int, NULL);
			sigprocmask(SIG_SETMASK, &old_mask, NULL);
			/* BSD accept() inherits O_NONBLOCK; the session's
			 * reads expect a blocking socket like inetd's. */
			if (fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK) < 0 ||
			    dup2(c, 0) < 0 || dup2(c, 1) < 0) {
				log_warn("listen: session descriptors");
				_exit(EX_OSERR);
			}
			close(c);
			return 0;
		}
		close(c);
		for (i = 0; i < sv.maxconn && sv.sess[i].pid != 0; i++)
			;
		sv.sess[i].pid = pid;	/* nsess < maxconn: a slot is free */
		sv.sess[i].peer = p;
		if (lp[0] != -1) {
			close(lp[1]);
			/* select() cannot watch it: that session admits. */
			if (lp[0] >= FD_SETSIZE || fcntl(lp[0], F_SETFL,
			    fcntl(lp[0], F_GETFL) | O_NONBLOCK) == -1)
				close(lp[0]);
			else
				sv.sess[i].link = lp[0];
		}
		sv.nsess++;
	}

	/* SIGTERM: no new sessions; the running ones end on their own (QUIT or
	 * their idle timeout), so no mail in flight is cut off. */
	close(sv.fd);
	log_info("stopping, waiting for sessions=%d", sv.nsess);
	reap(&sv);
	while (sv.nsess > 0) {
		sigsuspend(&wait_mask);
		reap(&sv);
	}
	free(sv.sess);
	log_info("stopped");
	exit(EX_OK);
}
