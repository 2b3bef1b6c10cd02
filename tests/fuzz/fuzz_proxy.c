/* fuzz_proxy.c: libFuzzer harness for the PROXY protocol module: the input
 * is taken as the first bytes of a connection (a v1 or v2 header and what
 * follows it) and, up to its first NUL, as a -P network list.
 * Oracles besides ASan/UBSan:
 *  - proxy_parse gives -1, 0 or a length in 1..min(len, PROXY_HEADER_MAX),
 *    and never 0 with PROXY_HEADER_MAX bytes in hand; -1 and 0 leave *H alone;
 *  - the answers for growing prefixes of the input are consistent: 0 until
 *    they turn -1 or a length, which then stays the same for every longer
 *    prefix, with the same *H; a header followed by other bytes than the
 *    input's parses the same too;
 *  - a source address is numeric text of its family (inet_pton and inet_ntop
 *    give it back), never an IPv4-mapped IPv6 one; a local header has none;
 *  - proxy_allow_parse never holds more than PROXY_NETS_MAX networks, leaves
 *    the list alone when it fails and appends the same networks when given
 *    the list again; every network is well formed (family, prefix, no bits
 *    past the prefix), its own address is allowed and proxy_allowed agrees
 *    with a bit-by-bit match next to its edges;
 *  - a parsed source, as a -P list of its own, allows that source, and an
 *    IPv4 one in its mapped form as well. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"
#include "fuzz.h"

/* The prefixes looked at: every header ends within PROXY_HEADER_MAX bytes,
 * and a few more show that nothing changes after that. */
#define PREFIX_MAX	(PROXY_HEADER_MAX + 8)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init("proxy-fuzz");
	return 0;
}

static int
hdr_same(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	return a->local == b->local && a->family == b->family &&
	    a->sport == b->sport &&
	    strncmp(a->src, b->src, sizeof(a->src)) == 0;
}

/* A sockaddr for the 4 or 16 bytes at ADDR of FAMILY; MAPPED writes an
 * IPv4 address as ::ffff:a.b.c.d. */
static const struct sockaddr *
sockaddr_of(struct sockaddr_storage *ss, int family, const unsigned char *addr,
    int mapped)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET && !mapped) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
	} else if (family == AF_INET) {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(s6->sin6_addr.s6_addr + 12, addr, 4);
	} else {
		s6->sin6_family = AF_INET6;
		memcpy(s6->sin6_addr.s6_addr, addr, 16);
	}
	return (const struct sockaddr *)ss;
}

/* The source of a parsed header H: text its family reads back unchanged,
 * and a -P list of it allows it. */
static void
check_source(const struct proxy_hdr *h)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct sockaddr_storage ss;
	struct proxy_allow a;
	unsigned char addr[16];
	char text[sizeof(h->src)];

	if (h->local) {
		if (h->family != AF_UNSPEC || h->src[0] != '\0' || h->sport != 0)
			fuzz_fail("local header with an address");
		return;
	}
	if (h->family != AF_INET && h->family != AF_INET6)
		fuzz_fail("family %d", h->family);
	if (memchr(h->src, '\0', sizeof(h->src)) == NULL)
		fuzz_fail("source not terminated");
	if (inet_pton(h->family, h->src, addr) != 1)
		fuzz_fail("source \"%s\" is no address of family %d", h->src,
		    h->family);
	if (inet_ntop(h->family, addr, text, sizeof(text)) == NULL ||
	    strcmp(text, h->src) != 0)
		fuzz_fail("source \"%s\" is not in inet_ntop's form", h->src);
	if (h->family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0)
		fuzz_fail("mapped source \"%s\" left as IPv6", h->src);
	memset(&a, 0, sizeof(a));
	if (proxy_allow_parse(&a, h->src) != 0 || a.n != 1)
		fuzz_fail("source \"%s\" refused as a -P list", h->src);
	if (proxy_allowed(&a, sockaddr_of(&ss, h->family, addr, 0)) != 1)
		fuzz_fail("source \"%s\" not allowed by itself", h->src);
	if (h->family == AF_INET &&
	    proxy_allowed(&a, sockaddr_of(&ss, AF_INET, addr, 1)) != 1)
		fuzz_fail("mapped source \"%s\" not allowed by itself", h->src);
}

static void
check_header(const uint8_t *data, size_t size)
{
	static const char junk[] = "\r\n\r\n\0\r\nQUIT\nPROXY TCP4 EHLO x\r\n";
	unsigned char buf[PROXY_HEADER_MAX + sizeof(junk)];
	struct proxy_hdr h, first, keep;
	size_t k, end = size < PREFIX_MAX ? size : PREFIX_MAX;
	int r, seen = 0;

	memset(&first, 0, sizeof(first));
	for (k = 0; k <= end; k++) {
		memset(&h, 0xa5, sizeof(h));
		keep = h;
		r = proxy_parse(data, k, &h);
		if (r < -1 || (r > 0 && ((size_t)r > k || r > PROXY_HEADER_MAX)))
			fuzz_fail("proxy_parse(%zu bytes) returned %d", k, r);
		if (r == 0 && k >= PROXY_HEADER_MAX)
			fuzz_fail("need more with %zu bytes", k);
		if (r <= 0 && memcmp(&h, &keep, sizeof(h)) != 0)
			fuzz_fail("result %d but the header was written", r);
		if (seen != 0 && r != seen)
			fuzz_fail("%zu bytes gave %d after %d", k, r, seen);
		if (r > 0 && seen > 0 && !hdr_same(&h, &first))
			fuzz_fail("%zu bytes parsed differently", k);
		if (r > 0 && seen == 0) {
			first = h;
			check_source(&h);
		}
		if (r != 0)
			seen = r;
	}
	if (seen <= 0)
		return;
	/* The header followed by other bytes than the input's. */
	memcpy(buf, data, (size_t)seen);
	memcpy(buf + seen, junk, sizeof(junk));
	memset(&h, 0, sizeof(h));
	if (proxy_parse(buf, (size_t)seen + sizeof(junk), &h) != seen ||
	    !hdr_same(&h, &first))
		fuzz_fail("the header parsed differently before other bytes");
}

/* proxy_allowed() the slow way, one bit at a time: is the address ADDR
 * of FAMILY in one of A's networks? */
static int
allowed_ref(const struct proxy_allow *a, int family, const unsigned char *addr)
{
	size_t i;
	unsigned j;

	for (i = 0; i < a->n; i++) {
		if (a->net[i].family != family)
			continue;
		for (j = 0; j < a->net[i].prefix; j++)
			if (((addr[j / 8] ^ a->net[i].addr[j / 8]) >> (7 - j % 8)) & 1)
				break;
		if (j == a->net[i].prefix)
			return 1;
	}
	return 0;
}

/* Addresses next to network N's edges: the last bit of its prefix
 * flipped (outside it) and the first bit after (inside). */
static void
check_edges(const struct proxy_allow *a, const struct proxy_net *n)
{
	struct sockaddr_storage ss;
	unsigned char addr[16];
	unsigned max = n->family == AF_INET ? 32 : 128, bit;
	int mapped;

	for (bit = n->prefix > 0 ? n->prefix - 1 : 0; bit <= n->prefix &&
	    bit < max; bit++) {
		memcpy(addr, n->addr, sizeof(addr));
		addr[bit / 8] ^= (unsigned char)(0x80 >> (bit % 8));
		for (mapped = 0; mapped <= (n->family == AF_INET); mapped++)
			if (proxy_allowed(a, sockaddr_of(&ss, n->family, addr,
			    mapped)) != allowed_ref(a, n->family, addr))
				fuzz_fail("proxy_allowed disagrees at bit %u of /%u",
				    bit, n->prefix);
	}
}

/* Every network of A well formed, its own address allowed. */
static void
check_nets(const struct proxy_allow *a)
{
	struct sockaddr_storage ss;
	size_t i, j, size;
	unsigned max, bits;

	if (a->n > PROXY_NETS_MAX)
		fuzz_fail("%zu networks", a->n);
	for (i = 0; i < a->n; i++) {
		const struct proxy_net *n = &a->net[i];

		if (n->family != AF_INET && n->family != AF_INET6)
			fuzz_fail("network %zu of family %d", i, n->family);
		size = n->family == AF_INET ? 4 : 16;
		max = (unsigned)size * 8;
		if (n->prefix > max)
			fuzz_fail("network %zu with prefix %u", i, n->prefix);
		for (j = 0; j < max; j++) {
			bits = (n->addr[j / 8] >> (7 - j % 8)) & 1;
			if (j >= n->prefix && bits)
				fuzz_fail("network %zu has bits past /%u", i,
				    n->prefix);
		}
		for (j = size; j < 16; j++)
			if (n->addr[j] != 0)
				fuzz_fail("IPv4 network %zu with stray bytes", i);
		if (n->family == AF_INET6 && n->prefix >= 96 &&
		    memcmp(n->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
			fuzz_fail("mapped network %zu kept as IPv6", i);
		if (proxy_allowed(a, sockaddr_of(&ss, n->family, n->addr, 0)) != 1)
			fuzz_fail("network %zu does not allow its own address", i);
		if (n->family == AF_INET &&
		    proxy_allowed(a, sockaddr_of(&ss, AF_INET, n->addr, 1)) != 1)
			fuzz_fail("network %zu does not allow its mapped address", i);
		check_edges(a, n);
	}
	/* Only IP peers are looked at. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	if (proxy_allowed(a, (const struct sockaddr *)&ss) != 0)
		fuzz_fail("an AF_UNIX peer allowed");
}

static void
check_allow(const uint8_t *data, size_t size)
{
	char arg[1024];
	struct proxy_allow a, keep;
	size_t len;
	int r;

	len = size < sizeof(arg) - 1 ? size : sizeof(arg) - 1;
	memcpy(arg, data, len);
	arg[len] = '\0';
	memset(&a, 0, sizeof(a));
	keep = a;
	r = proxy_allow_parse(&a, arg);
	if (r != 0 && r != -1)
		fuzz_fail("proxy_allow_parse returned %d", r);
	if (r == -1) {
		if (memcmp(&a, &keep, sizeof(a)) != 0)
			fuzz_fail("a refused list changed the list");
		return;
	}
	if (a.n == 0)
		fuzz_fail("a list of no networks accepted");
	check_nets(&a);
	/* The same list again: appended whole, or refused whole. */
	keep = a;
	r = proxy_allow_parse(&a, arg);
	if (2 * keep.n > PROXY_NETS_MAX) {
		if (r != -1 || memcmp(&a, &keep, sizeof(a)) != 0)
			fuzz_fail("%zu + %zu networks taken", keep.n, keep.n);
		return;
	}
	if (r != 0 || a.n != 2 * keep.n ||
	    memcmp(a.net, keep.net, keep.n * sizeof(a.net[0])) != 0 ||
	    memcmp(a.net + keep.n, keep.net, keep.n * sizeof(a.net[0])) != 0)
		fuzz_fail("the list given again parsed differently");
	check_nets(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_header(data, size);
	check_allow(data, size);
	return 0;
}
