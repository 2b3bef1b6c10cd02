/* opts.c: the options smtpd and pop3d share (-h -m -p -t -l -r -u -U -E -F -M -L
 * -c -C -P -S -V -T) and the
 * client address.  Runs at start-up, as root under inetd. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acct.h"
#include "params.h"
#include "listen.h"
#include "log.h"
#include "num.h"
#include "opts.h"

void
opts_init(struct opts *o, int timeout, int lifetime)
{
	memset(o, 0, sizeof(*o));
	o->spool = "/var/mail";
	o->timeout = timeout;
	o->lifetime = lifetime;
	o->sessuser = SESSION_USER_DEFAULT;
	o->sessuid = (uid_t)-1;
	o->sessgid = (gid_t)-1;
	o->firstuid = FIRST_UID_DEFAULT;
	o->lastuid = LAST_UID_DEFAULT;
	o->logto = LOG_SYSLOG;
	o->uid = (uid_t)-1;
	o->gid = (gid_t)-1;
	o->maxconn = LISTEN_CONN_DEFAULT;
	o->maxperip = LISTEN_PERIP_DEFAULT;
	strcpy(o->client, "unknown");
}

/* The host name goes into greetings and Received: lines: letters, digits and
 * the punctuation of names and address literals only, so it cannot break a
 * reply or a header. */
static int
host_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr(".-_[]:", s[i]) != NULL))
			return 0;
	return 1;
}

/* -L ADDR:PORT: the port after the last colon (ADDR may be [::1]). */
static int
listen_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;

	return colon != NULL && colon != s &&
	    num_parse(colon + 1, strlen(colon + 1), 1, 65535, &port) == 0;
}

/* -m -p -r -u -U: a path or an account name, never empty. */
static int
opt_name(struct opts *o, int ch, const char *arg, const char **err)
{
	if (arg[0] == '\0') {
		*err = ch == 'm' ? "empty spool directory (-m)" :
		    ch == 'p' ? "empty users file (-p)" :
		    ch == 'r' ? "empty chroot directory (-r)" :
		    ch == 'u' ? "empty user name (-u)" :
		    "empty session account (-U)";
		return -1;
	}
	if (ch == 'm')
		o->spool = arg;
	else if (ch == 'p')
		o->users = arg;
	else if (ch == 'r')
		o->chroot = arg;
	else if (ch == 'u')
		o->user = arg;
	else
		o->sessuser = arg;
	return 1;
}

/* The numeric options: each parsed strictly (num.h) within its range. */
static int
opt_number(struct opts *o, int ch, const char *arg, const char **err)
{
	static const struct {
		int		 ch;
		uint64_t	 min, max;
		const char	*err;
	} num[] = {
		{ 'F', 0, (uid_t)-2, "bad first valid uid (-F), want a uid "
		    "0..4294967294" },
		{ 'M', 0, (uid_t)-2, "bad last valid uid (-M), want a uid "
		    "0..4294967294" },
		{ 'E', 1, LIFETIME_MAX, "bad session lifetime (-E), want "
		    "seconds 1..604800" },
		{ 't', 1, TIMEOUT_MAX, "bad timeout (-t), want seconds 1..86400" },
		{ 'c', 1, LISTEN_CONN_MAX, "bad session limit (-c), want 1..4096" },
		{ 'C', 1, LISTEN_CONN_MAX, "bad per-address limit (-C), want "
		    "1..4096" },
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(num) / sizeof(num[0]) && num[i].ch != ch; i++)
		;
	if (i == sizeof(num) / sizeof(num[0]))
		return 0;
	if (num_parse(arg, strlen(arg), num[i].min, num[i].max, &v) < 0) {
		*err = num[i].err;
		return -1;
	}
	if (ch == 'F')
		o->firstuid = (uid_t)v;
	else if (ch == 'M')
		o->lastuid = (uid_t)v;
	else if (ch == 'E')
		o->lifetime = (int)v;
	else if (ch == 't')
		o->timeout = (int)v;
	else if (ch == 'c')
		o->maxconn = (int)v;
	else
		o->maxperip = (int)v;
	return 1;
}

int
opts_handle(struct opts *o, int ch, const char *arg, const char **err)
{
	switch (ch) {
	case 'h':
		if (!host_ok(arg) || strlen(arg) >= sizeof(o->host)) {
			*err = "bad host name (-h)";
			return -1;
		}
		strcpy(o->host, arg);
		return 1;
	case 'm':
	case 'p':
	case 'r':
	case 'u':
	case 'U':
		return opt_name(o, ch, arg, err);
	case 'V':
		o->version = 1;
		return 1;
	case 'S':
		o->implicit_tls = 1;
		return 1;
	case 'T':
		o->test = 1;
		return 1;
	case 'l':
		if (strcmp(arg, "syslog") == 0)
			o->logto = LOG_SYSLOG;
		else if (strcmp(arg, "stderr") == 0)
			o->logto = LOG_STDERR;
		else {
			*err = "bad log target (-l), want syslog or stderr";
			return -1;
		}
		return 1;
	case 'L':
		if (!listen_ok(arg)) {
			*err = "bad listen address (-L), want ADDR:PORT";
			return -1;
		}
		o->listen = arg;
		return 1;
	case 'P':
		/* Repeatable: each -P adds its networks. */
		if (proxy_allow_parse(&o->proxy, arg) < 0) {
			*err = "bad proxy peers (-P), want CIDR[,CIDR...] "
			    "(numeric, no bits past the prefix), 32 in all";
			return -1;
		}
		return 1;
	default:
		return opt_number(o, ch, arg, err);
	}
}

int
opts_long_words(int argc, char **argv, const char *usage, char *err,
    size_t cap)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;		/* the end of the options */
		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		if (strcmp(argv[i], "--help") == 0) {
			printf("%s\n", usage);
			exit(EX_OK);
		}
		if (strcmp(argv[i], "--version") == 0) {
			argv[i] = "-V";
			continue;
		}
		snprintf(err, cap, "unknown option %.32s", argv[i]);
		return -1;
	}
	return 0;
}

const char *
opts_getopt_error(int ch, int opt, char *buf, size_t cap)
{
	if (opt > ' ' && opt < 0x7f)
		snprintf(buf, cap, ch == ':' ? "option -%c needs an argument" :
		    "unknown option -%c", opt);
	else
		snprintf(buf, cap, ch == ':' ? "an option needs an argument" :
		    "unknown option (byte 0x%02x)", (unsigned)(opt & 0xff));
	return buf;
}

int
opts_finish(struct opts *o, const char **err)
{
	struct passwd *pw;

	if (o->user != NULL) {
		/* Resolved now: after chroot the passwd database may be gone. */
		if (geteuid() != 0) {
			*err = "-u needs root";
			return -1;
		}
		pw = acct_getpwnam(o->user);
		if (pw == NULL) {
			*err = "unknown user (-u)";
			return -1;
		}
		if (pw->pw_uid == 0) {
			*err = "-u names a root account";
			return -1;
		}
		o->uid = pw->pw_uid;
		o->gid = pw->pw_gid;
	}
	if (geteuid() == 0) {
		/* As root, with or without -u, the session, which reads the
		 * client's bytes, runs as the session account (priv_split). */
		pw = acct_getpwnam(o->sessuser);
		if (pw == NULL) {
			*err = "unknown session account (-U)";
			return -1;
		}
		if (pw->pw_uid == 0 || pw->pw_gid == 0) {
			*err = "the session account (-U) is root or in group root";
			return -1;
		}
		o->sessuid = pw->pw_uid;
		o->sessgid = pw->pw_gid;
		/* -u owns every mailbox: a session that ran as it could read
		 * them all before any login.  No separation, no service. */
		if (o->user != NULL && o->sessuid == o->uid) {
			*err = "-u and the session account (-U) are the same "
			    "user: the process that reads the client would own "
			    "every mailbox; give -U an account of its own";
			return -1;
		}
	}
	if (o->host[0] == '\0') {
		if (gethostname(o->host, sizeof(o->host)) < 0)
			o->host[0] = '\0';
		/* POSIX leaves a truncated name unterminated. */
		o->host[sizeof(o->host) - 1] = '\0';
		if (!host_ok(o->host))
			strcpy(o->host, "localhost");
	}
	return 0;
}

/* Environment values come from whoever started us: take only real address text. */
static int
addr_ok(const char *s)
{
	unsigned char tmp[sizeof(struct in6_addr)];

	return strlen(s) < INET6_ADDRSTRLEN &&
	    (inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1);
}

/* The client is V, a numeric address addr_ok() took; an IPv4 address
 * mapped into IPv6 (stunnel and tcpserver on a dual-stack socket pass
 * ::ffff:a.b.c.d) is written as the a.b.c.d it is, as in every log line. */
static void
client_text(struct opts *o, const char *v)
{
	struct in6_addr a6;

	if (inet_pton(AF_INET6, v, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6) &&
	    inet_ntop(AF_INET, &a6.s6_addr[12], o->client,
	    sizeof(o->client)) != NULL)
		return;
	strcpy(o->client, v);
}

/* 1 when SA is 127.0.0.0/8 or ::1. */
static int
loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return sa->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

/* -P: the peer SA may send a PROXY header, and then must. */
static void
mark_proxied(struct opts *o, const struct sockaddr *sa)
{
	if (o->proxy.n == 0 || !proxy_allowed(&o->proxy, sa))
		return;
	o->proxied = 1;
	memcpy(o->via, o->client, sizeof(o->via));
}

static void
mark_proxied_text(struct opts *o, const char *s)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, s, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		mark_proxied(o, (struct sockaddr *)&sin);
	} else if (inet_pton(AF_INET6, s, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		mark_proxied(o, (struct sockaddr *)&sin6);
	}
}

void
opts_client(struct opts *o)
{
	/* ucspi-tcp, then CGI-style launchers, then stunnel's exec mode. */
	static const char *const env[] = { "TCPREMOTEIP", "REMOTE_ADDR",
	    "REMOTE_HOST" };
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6;
	struct sockaddr_in sin;
	struct sockaddr *sa = (struct sockaddr *)&ss;
	socklen_t len = sizeof(ss);
	char q[LOG_QUOTE_SIZE];
	const char *v;
	size_t i;

	/* What the TLS wrapper in front of us offers (tls.h). */
	tls_detect(&o->tls, o->implicit_tls);
	memset(&ss, 0, sizeof(ss));
	if (getpeername(0, sa, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
		sin6 = (struct sockaddr_in6 *)&ss;
		/* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d; log
		 * them as the a.b.c.d they are. */
		if (ss.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			sin.sin_port = sin6->sin6_port;
			memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
			sa = (struct sockaddr *)&sin;
			len = sizeof(sin);
		}
		if (getnameinfo(sa, len, o->client, sizeof(o->client), NULL, 0,
		    NI_NUMERICHOST) == 0) {
			mark_proxied(o, sa);
			/* stunnel in exec mode hands us a loopback TCP
			 * connection of its own and the real client in
			 * $REMOTE_HOST: that one is the client.  The
			 * environment is our starter's, never the client's. */
			v = getenv("REMOTE_HOST");
			if (loopback(sa) && v != NULL && addr_ok(v))
				client_text(o, v);
			return;
		}
	}
	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		v = getenv(env[i]);
		if (v == NULL || v[0] == '\0')
			continue;
		if (addr_ok(v)) {
			client_text(o, v);
			/* ucspi-tcp and CGI-style launchers name the peer;
			 * stunnel's $REMOTE_HOST is not one. */
			if (strcmp(env[i], "REMOTE_HOST") != 0)
				mark_proxied_text(o, o->client);
			return;
		}
		/* CGI-style launchers put a host name in REMOTE_HOST: not
		 * a lie, just not what we log. */
		if (strcmp(env[i], "REMOTE_HOST") != 0)
			log_warnx("client address ignored env=%s value=%s",
			    env[i], log_quote(q, sizeof(q), v, strlen(v)));
	}
	strcpy(o->client, "unknown");
}
