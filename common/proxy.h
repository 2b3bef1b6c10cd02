/* proxy.h: the PROXY protocol (haproxy) for -P: which peers may send a
 * header, and the header itself, v1 (text) or v2 (binary), told apart by
 * its signature.  Pure parsing: no I/O, no privileges. */
#ifndef INETMAIL_PROXY_H
#define INETMAIL_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#include "params.h"

struct proxy_net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network byte order; AF_INET: 4 bytes */
	unsigned	 prefix;	/* 0-32 or 0-128 */
};

struct proxy_allow {
	struct proxy_net net[PROXY_NETS_MAX];
	size_t		 n;
};

/* Add the networks of ARG, "CIDR[,CIDR...]" (a.b.c.d/n, x:y::z/n; a bare
 * address is /32 or /128; no spaces, no host names), to *A.  A prefix is
 * decimal without leading zeros; an address with bits set past its prefix
 * (10.0.0.1/8) is refused as a likely typo.  An IPv4-mapped IPv6 network
 * (::ffff:a.b.c.d/n, n >= 96) is kept as its IPv4 network.  Returns 0, or
 * -1 when ARG is malformed or A would hold more than PROXY_NETS_MAX (A
 * unchanged then). */
int proxy_allow_parse(struct proxy_allow *a, const char *arg);

/* 1 when address SA (struct sockaddr_in / sockaddr_in6; an IPv4-mapped
 * IPv6 address counts as its IPv4 address) is in one of A's networks;
 * 0 otherwise, and for any other family. */
int proxy_allowed(const struct proxy_allow *a, const struct sockaddr *sa);

struct proxy_hdr {
	int		 local;		/* v2 LOCAL (health checks) or v1 "PROXY
					 * UNKNOWN": keep the peer's own address */
	int		 family;	/* AF_INET / AF_INET6 when !local */
	char		 src[64];	/* the source (client) address as text
					 * (inet_ntop) when !local; an
					 * IPv4-mapped source is written as
					 * IPv4, with family AF_INET */
	unsigned short	 sport;		/* the source port when !local */
};

/* Parse a header at the start of BUF (LEN bytes available so far).
 * Returns the header's length (> 0) with *H filled; 0 when BUF is a proper
 * prefix of a header and more bytes are needed (never when LEN >=
 * PROXY_HEADER_MAX); -1 when BUF does not start with a valid header: a
 * wrong signature, a malformed v1 line, one over 107 bytes or not ended by
 * CRLF, a v2 version other than 2, an unknown command, an address family or
 * protocol we do not take (PROXY takes TCP over IPv4 or IPv6 only, LOCAL
 * any), a length too short for the family, TLVs that overrun the header, a
 * header longer than PROXY_HEADER_MAX.  A v1 line without its LF yet gives
 * -1 only where that is certain already (signature, keyword, a byte no TCP
 * line has, a double space, a fifth field, a CR before its end), else 0.
 * *H is written only when the result is > 0.  Never reads past LEN. */
int proxy_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h);

#endif
