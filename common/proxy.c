/* proxy.c: the PROXY protocol (haproxy's proxy-protocol.txt, versions 1 and
 * 2): the -P list of proxies that may send a header, and the header parser.
 * Pure parsing of bytes already read: no I/O, no allocation, unprivileged. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "num.h"
#include "proxy.h"

/* proxy-protocol.txt 2.1 and 2.2: the two signatures differ in their first
 * byte, so one byte tells which parser to ask. */
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN	(sizeof(v1_sig) - 1)
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
/* v2: signature, ver_cmd, fam and a 16-bit length, then the address block. */
#define V2_FIXED	16
#define V2_LOCAL	0x0
#define V2_PROXY	0x1
#define V2_TCP4		0x11
#define V2_TCP6		0x21
/* A TLV: type, 16-bit length, value. */
#define V2_TLV_HEAD	3

/* ::ffff:0:0/96, IPv4 addresses on a dual-stack socket (RFC 4291 2.5.5.2). */
static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* A decimal in [0, MAX] without leading zeros, in the LEN bytes at S.
 * proxy-protocol.txt 2.1 forbids heading zeros in v1 ports "to avoid any
 * possible confusion with octal numbers"; the prefix lengths of -P follow
 * the same rule, so this file has one rule for numbers.  Returns 0 or -1. */
static int
decimal(const char *s, size_t len, unsigned max, unsigned *out)
{
	uint64_t v;

	if (len > 1 && s[0] == '0')
		return -1;
	if (num_parse(s, len, 0, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* The LEN bytes at S, a numeric address of FAMILY, into ADDR (4 or 16
 * bytes).  Returns 0, or -1 when they are no such address.  inet_pton()
 * takes no host names, but in IPv4 POSIX leaves heading zeros open (some
 * libcs read "010" as 10, old ones as 8): the spec forbids them, so do we. */
static int
addr_pton(int family, const char *s, size_t len, unsigned char *addr)
{
	char tmp[INET6_ADDRSTRLEN];
	size_t i;

	if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (family == AF_INET)
		for (i = 0; i + 1 < len; i++)
			if (tmp[i] == '0' && (i == 0 || tmp[i - 1] == '.') &&
			    tmp[i + 1] >= '0' && tmp[i + 1] <= '9')
				return -1;
	return inet_pton(family, tmp, addr) == 1 ? 0 : -1;
}

/* Fill *H for a proxied connection from ADDR (4 or 16 bytes of FAMILY) and
 * PORT.  An IPv4-mapped source is written as IPv4: a dual-stack proxy
 * reports IPv4 clients that way, and logs and -P lists know them as IPv4.
 * Returns 0, or -1 when the address cannot be written (never, in practice). */
static int
hdr_set(struct proxy_hdr *h, int family, const unsigned char *addr,
    unsigned port)
{
	struct proxy_hdr t;

	memset(&t, 0, sizeof(t));
	if (family == AF_INET6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
		family = AF_INET;
		addr += sizeof(v4mapped);
	}
	t.family = family;
	t.sport = (unsigned short)port;
	if (inet_ntop(family, addr, t.src, sizeof(t.src)) == NULL)
		return -1;
	*h = t;
	return 0;
}

static void
hdr_local(struct proxy_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->local = 1;
	h->family = AF_UNSPEC;
}

/* --- v1: one line of text ------------------------------------------- */

/* The bytes a TCP4/TCP6 line has after its keyword, up to the CR: numeric
 * addresses of either family (an IPv6 one may end in dotted IPv4), decimal
 * ports, single spaces. */
static int
v1_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == '.' || c == ':' || c == ' ';
}

/* Is the line so far (N bytes at S, no LF among them) the start of a valid
 * line?  The spec has the receiver wait for the CRLF before it decodes the
 * addresses; only what is certain already is refused here: a wrong
 * signature or keyword, a byte no TCP line has, a double space, a fifth
 * field, a CR not followed by LF.  Anything else waits for its LF (or for
 * the 107th byte).  Returns 0 to wait, -1 to refuse. */
static int
v1_prefix(const char *s, size_t n)
{
	static const char *const kw[] = { "TCP4 ", "TCP6 ", "UNKNOWN" };
	const char *p;
	size_t i, k, kl, pn, spaces = 0;

	if (memcmp(s, v1_sig, n < V1_SIG_LEN ? n : V1_SIG_LEN) != 0)
		return -1;
	if (n <= V1_SIG_LEN)
		return 0;
	p = s + V1_SIG_LEN;
	pn = n - V1_SIG_LEN;
	for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
		kl = strlen(kw[k]);
		if (memcmp(p, kw[k], pn < kl ? pn : kl) == 0)
			break;
	}
	if (k == sizeof(kw) / sizeof(kw[0]))
		return -1;
	if (pn <= kl)
		return 0;
	if (k == 2) {	/* UNKNOWN: a space then anything, or the CRLF */
		if (p[kl] == ' ')
			return 0;
		return p[kl] == '\r' && pn == kl + 1 ? 0 : -1;
	}
	p += kl;
	pn -= kl;
	for (i = 0; i < pn; i++) {
		if (p[i] == '\r') {
			/* Only the last byte so far: the LF may follow. */
			if (i + 1 < pn || spaces != 3 || i == 0 || p[i - 1] == ' ')
				return -1;
		} else if (!v1_char((unsigned char)p[i]))
			return -1;
		else if (p[i] == ' ' && (i == 0 || p[i - 1] == ' ' || ++spaces > 3))
			return -1;
	}
	return 0;
}

/* A complete TCP4/TCP6 line's fields: the LEN bytes at S (after the
 * keyword's space, before the CRLF) are "src dst sport dport", single
 * spaces, addresses of FAMILY.  Returns 0 with *H filled, or -1. */
static int
v1_fields(const char *s, size_t len, int family, struct proxy_hdr *h)
{
	unsigned char src[16], dst[16];
	const char *f[4];
	size_t fl[4], nf = 0, i, start = 0;
	unsigned sport, dport;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		/* An empty field is a double, leading or trailing space. */
		if (i == start || nf == 4)
			return -1;
		f[nf] = s + start;
		fl[nf++] = i - start;
		start = i + 1;
	}
	if (nf != 4 ||
	    addr_pton(family, f[0], fl[0], src) < 0 ||
	    addr_pton(family, f[1], fl[1], dst) < 0 ||
	    decimal(f[2], fl[2], 65535, &sport) < 0 ||
	    decimal(f[3], fl[3], 65535, &dport) < 0)
		return -1;
	return hdr_set(h, family, src, sport);
}

static int
v1_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	const char *s = (const char *)buf, *lf, *p;
	size_t n = len < PROXY_V1_MAX ? len : PROXY_V1_MAX, end, pn;

	/* 2.1: "If the CRLF sequence is not found in the first 107
	 * characters, the receiver should declare the line invalid", and a
	 * lone CR or LF must not end it. */
	if ((lf = memchr(s, '\n', n)) == NULL)
		return len >= PROXY_V1_MAX ? -1 : v1_prefix(s, n);
	end = (size_t)(lf - s);
	if (end < V1_SIG_LEN + 1 || s[end - 1] != '\r' ||
	    memcmp(s, v1_sig, V1_SIG_LEN) != 0)
		return -1;
	p = s + V1_SIG_LEN;
	pn = end - 1 - V1_SIG_LEN;
	/* UNKNOWN: "the receiver must ignore anything presented before the
	 * CRLF"; the connection's own addresses stand. */
	if (pn >= 7 && memcmp(p, "UNKNOWN", 7) == 0 && (pn == 7 || p[7] == ' ')) {
		hdr_local(h);
		return (int)end + 1;
	}
	if (pn < 5 || memcmp(p, "TCP", 3) != 0 || p[4] != ' ' ||
	    (p[3] != '4' && p[3] != '6') ||
	    v1_fields(p + 5, pn - 5, p[3] == '4' ? AF_INET : AF_INET6, h) < 0)
		return -1;
	return (int)end + 1;
}

/* --- v2: binary ----------------------------------------------------- */

static int
v2_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	size_t alen = 0, asz = 0, total, off, vlen;
	unsigned cmd;
	int family = AF_UNSPEC;

	if (memcmp(buf, v2_sig, len < sizeof(v2_sig) ? len : sizeof(v2_sig)) != 0)
		return -1;
	if (len <= sizeof(v2_sig))
		return 0;
	/* "The highest four bits contains the version ... the receiver must
	 * only accept this value"; unassigned commands must be dropped. */
	cmd = buf[12] & 0x0f;
	if ((buf[12] >> 4) != 2 || (cmd != V2_LOCAL && cmd != V2_PROXY))
		return -1;
	if (len < 14)
		return 0;
	/* LOCAL: "discard the protocol block including the family which is
	 * ignored", so any family byte goes.  PROXY: a mail server is reached
	 * over TCP only; UDP, UNIX or UNSPEC from a proxy means a
	 * misconfigured proxy, and the spec lets us refuse rather than fall
	 * back to the proxy's own address. */
	if (cmd == V2_PROXY) {
		if (buf[13] == V2_TCP4) {
			family = AF_INET;
			asz = 4;
		} else if (buf[13] == V2_TCP6) {
			family = AF_INET6;
			asz = 16;
		} else
			return -1;
		alen = 2 * asz + 4;	/* two addresses, two ports */
	}
	if (len < V2_FIXED)
		return 0;
	total = V2_FIXED + ((size_t)buf[14] << 8 | buf[15]);
	if (total < V2_FIXED + alen || total > PROXY_HEADER_MAX)
		return -1;
	if (len < total)
		return 0;
	/* "must not assume zero is presented for LOCAL connections": its
	 * block, addresses or not, is skipped unread. */
	if (cmd == V2_LOCAL) {
		hdr_local(h);
		return (int)total;
	}
	/* What follows the addresses is TLVs.  None is used (CRC32C is
	 * optional for a receiver, and TCP already checks the bytes), but one
	 * that overruns the header means the length or the TLVs are wrong:
	 * refused, as haproxy refuses it. */
	for (off = V2_FIXED + alen; off < total; off += V2_TLV_HEAD + vlen) {
		if (total - off < V2_TLV_HEAD)
			return -1;
		vlen = (size_t)buf[off + 1] << 8 | buf[off + 2];
		if (vlen > total - off - V2_TLV_HEAD)
			return -1;
	}
	if (hdr_set(h, family, buf + V2_FIXED,
	    (unsigned)buf[V2_FIXED + 2 * asz] << 8 | buf[V2_FIXED + 2 * asz + 1]) < 0)
		return -1;
	return (int)total;
}

int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h)
{
	if (len == 0)
		return 0;
	if (buf[0] == (unsigned char)v1_sig[0])
		return v1_parse(buf, len, h);
	if (buf[0] == v2_sig[0])
		return v2_parse(buf, len, h);
	return -1;
}

/* --- -P: the proxies that may send a header ------------------------- */

/* The bits of byte I that a PREFIX covers. */
static unsigned
prefix_mask(unsigned prefix, size_t i)
{
	if (prefix >= 8 * (i + 1))
		return 0xff;
	if (prefix <= 8 * i)
		return 0;
	return (0xffu << (8 - (prefix - 8 * i))) & 0xff;
}

/* One "address[/prefix]" in the LEN bytes at S into *NET.  Returns 0 or -1. */
static int
net_parse(const char *s, size_t len, struct proxy_net *net)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - s) : len, size, i;
	unsigned max;

	memset(net, 0, sizeof(*net));
	net->family = memchr(s, ':', alen) != NULL ? AF_INET6 : AF_INET;
	size = net->family == AF_INET ? 4 : 16;
	max = (unsigned)size * 8;
	if (addr_pton(net->family, s, alen, net->addr) < 0)
		return -1;
	net->prefix = max;
	if (slash != NULL &&
	    decimal(slash + 1, len - alen - 1, max, &net->prefix) < 0)
		return -1;
	/* Bits past the prefix: "10.0.0.1/8" is more likely a slip for /32
	 * than a way to write 10.0.0.0/8, and it would trust 2^24 hosts to
	 * name any client address. */
	for (i = 0; i < size; i++)
		if (net->addr[i] & ~prefix_mask(net->prefix, i))
			return -1;
	/* proxy_allowed() sees a mapped peer as IPv4: keep a mapped network
	 * as IPv4 too, or it would never match. */
	if (net->family == AF_INET6 && net->prefix >= 96 &&
	    memcmp(net->addr, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->family = AF_INET;
		net->prefix -= 96;
	}
	return 0;
}

int
proxy_allow_parse(struct proxy_allow *a, const char *arg)
{
	struct proxy_allow t;
	const char *p = arg, *comma;
	size_t len;

	if (a->n > PROXY_NETS_MAX)
		return -1;
	t = *a;
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		/* An empty item ("", "a,,b", "a,") is a mistake, not "none". */
		if (len == 0 || t.n == PROXY_NETS_MAX ||
		    net_parse(p, len, &t.net[t.n]) < 0)
			return -1;
		t.n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*a = t;
	return 0;
}

int
proxy_allowed(const struct proxy_allow *a, const struct sockaddr *sa)
{
	const unsigned char *addr;
	size_t i, j, size;
	int family;

	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		addr = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
			family = AF_INET;
			addr += sizeof(v4mapped);
		}
	} else
		return 0;
	size = family == AF_INET ? 4 : 16;
	for (i = 0; i < a->n && i < PROXY_NETS_MAX; i++) {
		if (a->net[i].family != family)
			continue;
		for (j = 0; j < size; j++)
			if ((addr[j] ^ a->net[i].addr[j]) &
			    prefix_mask(a->net[i].prefix, j))
				break;
		if (j == size)
			return 1;
	}
	return 0;
}
