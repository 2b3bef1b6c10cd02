/*
 * peers-srv.c: the floor and the sink of bench/peers.sh (built there in a
 * scratch folder, statically, with the system's cc; not part of inetmail).
 *
 *   peers-srv floor DIR
 *	One SMTP session on fds 0 and 1, as inetd starts a server: canned
 *	replies, and the message (its DATA lines as received, up to 64 KiB) is
 *	appended to DIR/LOCAL, LOCAL being the local part of the RCPT address,
 *	with one write() and one fsync() before the 250.  Nothing else: no
 *	locking, no parsing, no headers.  What fork+exec of a program plus one
 *	4 KiB append+fsync costs, per connection: the floor under smtpd.
 *
 *   peers-srv devlog PATH
 *	A syslog daemon's socket at PATH (AF_UNIX datagrams) that reads and
 *	drops every line: on a machine without /dev/log the servers' syslog
 *	calls would otherwise retry a connect for every line, which a real
 *	Debian box (journald on /dev/log) never does.  Runs until killed.
 *
 *   peers-srv sink smtp|pop3 PORT
 *	A listener on 127.0.0.1:PORT with 8 pre-forked workers, each serving
 *	one connection at a time with canned replies and storing nothing (a
 *	POP3 RETR returns a fixed 4096-byte message).  It shows how fast the
 *	benchmark client itself goes.
 *
 * Both answer every complete command line in what one read() brought, then
 * write all the replies at once, so a pipelining client is served as one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXMSG (64 * 1024)
#define WORKERS 8

enum { SMTP, POP3 };

struct sess {
	int in, out, proto, data, quit;
	const char *dir;		/* floor: where messages go; else NULL */
	char rcpt[64];
	char msg[MAXMSG];
	size_t msglen;
	char *obuf;
	size_t olen, ocap;
};

static char canned[4096];		/* the message a sink RETR returns */

static void put(struct sess *s, const char *p, size_t n)
{
	if (s->olen + n > s->ocap) {
		size_t cap = s->ocap ? s->ocap : 65536;
		while (cap < s->olen + n)
			cap *= 2;
		s->obuf = realloc(s->obuf, cap);
		if (s->obuf == NULL)
			_exit(1);
		s->ocap = cap;
	}
	memcpy(s->obuf + s->olen, p, n);
	s->olen += n;
}

static void puts_(struct sess *s, const char *p)
{
	put(s, p, strlen(p));
}

static int flush(struct sess *s)
{
	size_t off = 0;

	while (off < s->olen) {
		ssize_t w = write(s->out, s->obuf + off, s->olen - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	s->olen = 0;
	return 0;
}

/* floor: append the message to DIR/LOCAL with one write, then fsync. */
static int store(struct sess *s)
{
	char path[4096];
	int fd, ok;

	if (s->dir == NULL)
		return 0;
	snprintf(path, sizeof path, "%s/%s", s->dir, s->rcpt[0] ? s->rcpt : "nobody");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, s->msg, s->msglen) == (ssize_t)s->msglen && fsync(fd) == 0;
	return close(fd) == 0 && ok ? 0 : -1;
}

/* The local part of "RCPT TO:<local@domain>", letters, digits, '.', '-',
 * '_' only (so it is a plain file name). */
static void rcpt(struct sess *s, const char *line, size_t n)
{
	const char *p = memchr(line, '<', n);
	size_t k = 0;

	if (p == NULL)
		return;
	for (p++; p < line + n && k < sizeof s->rcpt - 1; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      (c == '.' && k > 0)))
			break;
		s->rcpt[k++] = c;
	}
	s->rcpt[k] = '\0';
}

static int is(const char *line, size_t n, const char *cmd)
{
	return n >= 4 && strncasecmp(line, cmd, 4) == 0;
}

static void smtp_line(struct sess *s, const char *line, size_t n)
{
	if (s->data) {
		if ((n == 3 && memcmp(line, ".\r\n", 3) == 0) ||
		    (n == 2 && memcmp(line, ".\n", 2) == 0)) {
			s->data = 0;
			puts_(s, store(s) == 0 ? "250 2.0.0 stored\r\n"
					       : "451 4.3.0 store failed\r\n");
		} else if (s->msglen + n <= sizeof s->msg) {
			memcpy(s->msg + s->msglen, line, n);
			s->msglen += n;
		}
		return;
	}
	if (is(line, n, "EHLO"))
		puts_(s, "250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
	else if (is(line, n, "HELO"))
		puts_(s, "250 sink\r\n");
	else if (is(line, n, "MAIL"))
		puts_(s, "250 2.1.0 ok\r\n");
	else if (is(line, n, "RCPT")) {
		rcpt(s, line, n);
		puts_(s, "250 2.1.5 ok\r\n");
	} else if (is(line, n, "DATA")) {
		s->data = 1;
		s->msglen = 0;
		puts_(s, "354 go on\r\n");
	} else if (is(line, n, "QUIT")) {
		puts_(s, "221 2.0.0 bye\r\n");
		s->quit = 1;
	} else
		puts_(s, "250 ok\r\n");
}

static void pop3_line(struct sess *s, const char *line, size_t n)
{
	if (is(line, n, "STAT"))
		puts_(s, "+OK 10000 41418752\r\n");
	else if (is(line, n, "RETR")) {
		puts_(s, "+OK 4096 octets\r\n");
		put(s, canned, sizeof canned);
		puts_(s, ".\r\n");
	} else if (is(line, n, "CAPA"))
		puts_(s, "+OK\r\nUSER\r\nPIPELINING\r\n.\r\n");
	else if (is(line, n, "QUIT")) {
		puts_(s, "+OK bye\r\n");
		s->quit = 1;
	} else
		puts_(s, "+OK\r\n");
}

static void serve(struct sess *s)
{
	static char buf[65536];
	size_t have = 0;

	s->data = s->quit = 0;
	s->rcpt[0] = '\0';
	s->olen = 0;
	puts_(s, s->proto == SMTP ? "220 sink ESMTP\r\n" : "+OK sink\r\n");
	if (flush(s) < 0)
		return;
	while (!s->quit) {
		ssize_t r = read(s->in, buf + have, sizeof buf - have);
		size_t off = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		have += (size_t)r;
		while (!s->quit) {
			char *nl = memchr(buf + off, '\n', have - off);
			size_t n;

			if (nl == NULL) {
				if (off == 0 && have == sizeof buf)
					n = have;	/* an over-long line: take it as is */
				else
					break;
			} else
				n = (size_t)(nl - (buf + off)) + 1;
			if (s->proto == SMTP)
				smtp_line(s, buf + off, n);
			else
				pop3_line(s, buf + off, n);
			off += n;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		if (flush(s) < 0)
			return;
	}
}

static void usage(void)
{
	fputs("usage: peers-srv floor DIR | peers-srv devlog PATH | "
	    "peers-srv sink smtp|pop3 PORT\n", stderr);
	exit(64);
}

int main(int argc, char **argv)
{
	static struct sess s;
	struct sockaddr_in sa;
	int one = 1, lfd, i;
	pid_t parent = getpid();

	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "floor") == 0) {
		s.in = 0;
		s.out = 1;
		s.proto = SMTP;
		s.dir = argv[2];
		serve(&s);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "devlog") == 0) {
		struct sockaddr_un un;
		char line[8192];

		memset(&un, 0, sizeof un);
		un.sun_family = AF_UNIX;
		snprintf(un.sun_path, sizeof un.sun_path, "%s", argv[2]);
		lfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof un) < 0 ||
		    chmod(argv[2], 0666) < 0) {
			perror("peers-srv: devlog");
			return 71;
		}
		for (;;)
			if (recv(lfd, line, sizeof line, 0) < 0 && errno != EINTR)
				return 1;
	}
	if (argc != 4 || strcmp(argv[1], "sink") != 0)
		usage();
	if (strcmp(argv[2], "smtp") == 0)
		s.proto = SMTP;
	else if (strcmp(argv[2], "pop3") == 0)
		s.proto = POP3;
	else
		usage();
	for (i = 0; i < (int)sizeof canned; i++)
		canned[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' : (char)('a' + i % 26);
	canned[sizeof canned - 2] = '\r';
	canned[sizeof canned - 1] = '\n';
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[3]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 128) < 0) {
		perror("peers-srv: listen");
		return 71;
	}
	for (i = 0; i < WORKERS; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("peers-srv: fork");
			return 71;
		}
		if (pid == 0) {
			/* the workers go when the listener goes */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				_exit(0);
			for (;;) {
				int c = accept(lfd, NULL, NULL);
				if (c < 0)
					continue;
				s.in = s.out = c;
				serve(&s);
				close(c);
			}
		}
	}
	for (;;)
		pause();
}
