/* cfgnet.c: -T: the -P networks.  A peer in one may name any client
 * address in its PROXY header, and the servers believe it: in the log
 * (what fail2ban reads), in Received, for -C.  So a network of every
 * address, or one that holds loopback or an address of this host (from
 * which any local user can connect), lets someone forge clients.  Runs at
 * start-up under -T; reads the interfaces' addresses (getifaddrs). */
/* getifaddrs() is not POSIX: ask glibc for it. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cfgreport.h"
#include "proxy.h"

static const char *
net_text(const struct proxy_net *n, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(n->family, n->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, cap, "%s/%u", a, n->prefix);
	return buf;
}

/* 1 when network N holds the address SA. */
static int
holds(const struct proxy_net *n, const struct sockaddr *sa)
{
	struct proxy_allow one;

	memset(&one, 0, sizeof(one));
	one.net[0] = *n;
	one.n = 1;
	return proxy_allowed(&one, sa);
}

/* 1 when N shares an address with 127.0.0.0/8, or holds ::1; a loopback
 * address it holds into BUF. */
static int
loopback(const struct proxy_net *n, char *buf, size_t cap)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	unsigned shift;

	if (n->family == AF_INET) {
		/* The first octet, as far as the prefix reaches into it. */
		shift = n->prefix >= 8 ? 0 : 8 - n->prefix;
		if (((unsigned)n->addr[0] >> shift) != (127u >> shift))
			return 0;
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (holds(n, (struct sockaddr *)&s4))
			snprintf(buf, cap, "127.0.0.1");
		else if (inet_ntop(AF_INET, n->addr, buf, (socklen_t)cap) == NULL)
			snprintf(buf, cap, "127.x.x.x");
		return 1;
	}
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = in6addr_loopback;
	if (!holds(n, (struct sockaddr *)&s6))
		return 0;
	snprintf(buf, cap, "::1");
	return 1;
}

/* An address of this host's interfaces in N, into BUF; 1 when found. */
static int
own_address(const struct proxy_net *n, const struct ifaddrs *ifs,
    char *buf, size_t cap)
{
	const struct ifaddrs *i;
	const void *a;
	char t[INET6_ADDRSTRLEN];

	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6) || !holds(n, i->ifa_addr))
			continue;
		a = i->ifa_addr->sa_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)
		    (const void *)i->ifa_addr)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)
		    (const void *)i->ifa_addr)->sin6_addr;
		if (inet_ntop(i->ifa_addr->sa_family, a, t, sizeof(t)) == NULL)
			continue;
		snprintf(buf, cap, "%s (%s)", t, i->ifa_name);
		return 1;
	}
	return 0;
}

void
cfg_check_proxy(struct cfgcheck *c, const struct opts *o)
{
	struct ifaddrs *ifs = NULL;
	const struct proxy_net *n;
	char net[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN + 40];
	const char *what;
	size_t i;

	if (o->proxy.n == 0)
		return;
	if (getifaddrs(&ifs) == -1)
		ifs = NULL;	/* loopback is still checked */
	for (i = 0; i < o->proxy.n; i++) {
		n = &o->proxy.net[i];
		net_text(n, net, sizeof(net));
		if (n->prefix == 0) {
			cfg_report(c, 0, NULL, 0, "-P %s lets every peer name any "
			    "client address; name the load balancers", net);
			continue;
		}
		if (loopback(n, a, sizeof(a)))
			what = "a loopback address";
		else if (own_address(n, ifs, a, sizeof(a)))
			what = "an address of this host";
		else
			continue;
		cfg_report(c, 0, NULL, 0, "-P %s holds %s, %s: any local user "
		    "can connect from it and send a PROXY header naming any "
		    "client address, forging the client in the log and in "
		    "Received and getting an innocent address banned by "
		    "fail2ban; name only the load balancers, on hosts of their "
		    "own", net, a, what);
	}
	if (ifs != NULL)
		freeifaddrs(ifs);
}
