/* test_proxy.c: the PROXY protocol module: v1 lines and v2 headers (every
 * rule of haproxy's proxy-protocol.txt we take or refuse, every prefix of a
 * good header), the -P network list and the peer check. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "proxy.h"
#include "check_main.h"

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static int
p1(const char *s, struct proxy_hdr *h)
{
	return proxy_parse((const unsigned char *)s, strlen(s), h);
}

/* A v2 header into B: signature, VER_CMD, FAM, the length field LEN and
 * BLEN bytes of BODY.  Returns its size. */
static size_t
v2_len(unsigned char *b, unsigned ver_cmd, unsigned fam, size_t len,
    const void *body, size_t blen)
{
	memcpy(b, sig, sizeof(sig));
	b[12] = (unsigned char)ver_cmd;
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)(len >> 8);
	b[15] = (unsigned char)len;
	if (blen > 0)
		memcpy(b + 16, body, blen);
	return 16 + blen;
}

/* The same with the length field telling the truth. */
static size_t
v2(unsigned char *b, unsigned ver_cmd, unsigned fam, const void *body,
    size_t blen)
{
	return v2_len(b, ver_cmd, fam, blen, body, blen);
}

/* A TCP4 address block: SRC, DST, SPORT, DPORT into B (12 bytes). */
static size_t
block4(unsigned char *b, const char *src, const char *dst, unsigned sport,
    unsigned dport)
{
	ck_assert_int_eq(inet_pton(AF_INET, src, b), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, b + 4), 1);
	b[8] = (unsigned char)(sport >> 8);
	b[9] = (unsigned char)sport;
	b[10] = (unsigned char)(dport >> 8);
	b[11] = (unsigned char)dport;
	return 12;
}

/* A TCP6 address block into B (36 bytes). */
static size_t
block6(unsigned char *b, const char *src, const char *dst, unsigned sport,
    unsigned dport)
{
	ck_assert_int_eq(inet_pton(AF_INET6, src, b), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, dst, b + 16), 1);
	b[32] = (unsigned char)(sport >> 8);
	b[33] = (unsigned char)sport;
	b[34] = (unsigned char)(dport >> 8);
	b[35] = (unsigned char)dport;
	return 36;
}

/* A TLV of TYPE with LEN bytes of VAL at B.  Returns its size. */
static size_t
tlv(unsigned char *b, unsigned type, const void *val, size_t len)
{
	b[0] = (unsigned char)type;
	b[1] = (unsigned char)(len >> 8);
	b[2] = (unsigned char)len;
	if (len > 0)
		memcpy(b + 3, val, len);
	return 3 + len;
}

/* Every proper prefix of the N bytes at B needs more; the whole gives N,
 * also with bytes after it, which are left alone. */
static void
check_prefixes(const unsigned char *b, size_t n, const struct proxy_hdr *want)
{
	unsigned char buf[PROXY_HEADER_MAX + 64];
	struct proxy_hdr h;
	size_t k;

	ck_assert_uint_le(n, PROXY_HEADER_MAX);
	for (k = 0; k < n; k++) {
		memset(&h, 0x5a, sizeof(h));
		ck_assert_msg(proxy_parse(b, k, &h) == 0, "prefix %zu of %zu", k, n);
	}
	memcpy(buf, b, n);
	memcpy(buf + n, "EHLO x\r\n\r\n\0junk", 16);
	for (k = n; k <= n + 16; k++) {
		memset(&h, 0x5a, sizeof(h));
		ck_assert_int_eq(proxy_parse(buf, k, &h), (int)n);
		ck_assert_int_eq(h.local, want->local);
		ck_assert_int_eq(h.family, want->family);
		ck_assert_str_eq(h.src, want->src);
		ck_assert_uint_eq(h.sport, want->sport);
	}
	ck_assert_int_eq(memcmp(buf + n, "EHLO x\r\n\r\n\0junk", 16), 0);
}

/* --- v1 ------------------------------------------------------------- */

START_TEST(v1_tcp4)
{
	const char *s = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
	struct proxy_hdr h;

	ck_assert_int_eq(p1(s, &h), (int)strlen(s));
	ck_assert_int_eq(h.local, 0);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src, "192.168.0.1");
	ck_assert_uint_eq(h.sport, 56324);
	/* The longest TCP4 line of the spec: 56 bytes. */
	s = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
	ck_assert_int_eq(p1(s, &h), 56);
	ck_assert_str_eq(h.src, "255.255.255.255");
	ck_assert_uint_eq(h.sport, 65535);
	ck_assert_int_eq(p1("PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n", &h), 33);
	ck_assert_str_eq(h.src, "0.0.0.0");
	ck_assert_uint_eq(h.sport, 0);
	/* The session's own bytes follow in the same read. */
	ck_assert_int_eq(p1("PROXY TCP4 10.1.2.3 10.0.0.1 1025 25\r\nEHLO a\r\n",
	    &h), 38);
	ck_assert_str_eq(h.src, "10.1.2.3");
	ck_assert_uint_eq(h.sport, 1025);
}
END_TEST

START_TEST(v1_tcp6)
{
	const char *s = "PROXY TCP6 2001:db8::1 2001:db8::2 65535 25\r\n";
	struct proxy_hdr h;
	char longest[128];

	ck_assert_int_eq(p1(s, &h), (int)strlen(s));
	ck_assert_int_eq(h.local, 0);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_str_eq(h.src, "2001:db8::1");
	ck_assert_uint_eq(h.sport, 65535);
	/* Upper case hex is allowed; src comes back in inet_ntop's form. */
	ck_assert_int_gt(p1("PROXY TCP6 2001:DB8:0:0:0:0:0:0A ::1 7 25\r\n", &h), 0);
	ck_assert_str_eq(h.src, "2001:db8::a");
	/* The longest TCP6 line of the spec: 104 bytes. */
	snprintf(longest, sizeof(longest), "PROXY TCP6 %s %s 65535 65535\r\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_uint_eq(strlen(longest), 104);
	ck_assert_int_eq(p1(longest, &h), 104);
	ck_assert_str_eq(h.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}
END_TEST

START_TEST(v1_mapped)
{
	struct proxy_hdr h;

	/* A dual-stack proxy reports an IPv4 client as ::ffff:a.b.c.d. */
	ck_assert_int_gt(p1("PROXY TCP6 ::ffff:192.0.2.7 ::ffff:192.0.2.1 4000 25\r\n",
	    &h), 0);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src, "192.0.2.7");
	ck_assert_uint_eq(h.sport, 4000);
	ck_assert_int_gt(p1("PROXY TCP6 ::FFFF:c000:207 ::1 4000 25\r\n", &h), 0);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src, "192.0.2.7");
	/* Not mapped: ::192.0.2.7 (compatible) and 64:ff9b::/96 stay IPv6. */
	ck_assert_int_gt(p1("PROXY TCP6 64:ff9b::c000:207 ::1 4000 25\r\n", &h), 0);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_str_eq(h.src, "64:ff9b::c000:207");
}
END_TEST

START_TEST(v1_unknown)
{
	struct proxy_hdr h;
	char worst[128];

	memset(&h, 0x5a, sizeof(h));
	ck_assert_int_eq(p1("PROXY UNKNOWN\r\n", &h), 15);
	ck_assert_int_eq(h.local, 1);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	ck_assert_str_eq(h.src, "");
	ck_assert_uint_eq(h.sport, 0);
	/* Anything before the CRLF is ignored. */
	ck_assert_int_eq(p1("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\nQUIT\r\n", &h), 35);
	ck_assert_int_eq(h.local, 1);
	ck_assert_int_eq(p1("PROXY UNKNOWN \r\n", &h), 16);
	ck_assert_int_eq(p1("PROXY UNKNOWN  x\ty\r\n", &h), 20);
	ck_assert_int_eq(h.local, 1);
	/* The worst case of the spec: 107 bytes. */
	snprintf(worst, sizeof(worst), "PROXY UNKNOWN %s %s 65535 65535\r\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_uint_eq(strlen(worst), PROXY_V1_MAX);
	ck_assert_int_eq(p1(worst, &h), PROXY_V1_MAX);
	ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(v1_malformed)
{
	static const char *const bad[] = {
		/* spacing */
		"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
		" PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
		/* missing or extra fields */
		"PROXY\r\n",
		"PROXY \r\n",
		"PROXY TCP4\r\n",
		"PROXY TCP4 \r\n",
		"PROXY TCP4 1.2.3.4\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n",
		/* protocol keyword */
		"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP46 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXY UNKNOW\r\n",
		"PROXY unknown\r\n",
		"PROXY TCP4:1.2.3.4 5.6.7.8 1 2\r\n",
		/* addresses */
		"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
		"PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n",
		"PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n",
		"PROXY TCP4 localhost 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4/32 5.6.7.8 1 2\r\n",
		"PROXY TCP4 ::1 ::1 1 2\r\n",
		"PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
		"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP6 ::1 5.6.7.8 1 2\r\n",
		"PROXY TCP6 2001:db8:::1 ::1 1 2\r\n",
		"PROXY TCP6 2001:db8::1::2 ::1 1 2\r\n",
		"PROXY TCP6 12345::1 ::1 1 2\r\n",
		"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
		"PROXY TCP6 [::1] ::1 1 2\r\n",
		"PROXY TCP6 g::1 ::1 1 2\r\n",
		/* ports */
		"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 4294967297 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1a 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 abc 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 0x19 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 025 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 025\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1.5 2\r\n",
		/* line ends */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
		"PROXY TCP4 1.2.3.4 5.6.7.8\r 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r\n",
		"PROXY UNKNOWN\n",
		"PROXY UNKNOWN \n",
		"PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\n",
		"PROXY UNKNOWN\rX\r\n",
		"PROXY\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r",
	};
	struct proxy_hdr h, keep;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&h, 0x5a, sizeof(h));
		keep = h;
		ck_assert_msg(p1(bad[i], &h) == -1, "bad[%zu] \"%s\" accepted", i,
		    bad[i]);
		ck_assert_msg(memcmp(&h, &keep, sizeof(h)) == 0,
		    "bad[%zu] wrote the header", i);
	}
}
END_TEST

START_TEST(v1_nul)
{
	static const char nul[] = "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n";
	static const char nulport[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1\0 2\r\n";
	struct proxy_hdr h;

	ck_assert_int_eq(proxy_parse((const unsigned char *)nul, sizeof(nul) - 1,
	    &h), -1);
	ck_assert_int_eq(proxy_parse((const unsigned char *)nulport,
	    sizeof(nulport) - 1, &h), -1);
}
END_TEST

START_TEST(v1_length)
{
	char line[PROXY_HEADER_MAX + 1];
	struct proxy_hdr h;
	size_t n;

	/* 108 bytes with the CRLF: one too many, however it is made. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memcpy(line + 106, "\r\n", 2);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 108, &h), -1);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, sizeof(line), &h), -1);
	memcpy(line + 105, "\r\n", 2);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 107, &h), 107);
	/* No CRLF in 107 bytes: refused however many more came. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 106, &h), 0);
	for (n = 107; n <= sizeof(line); n++)
		ck_assert_int_eq(proxy_parse((unsigned char *)line, n, &h), -1);
	/* A TCP line made long by valid bytes. */
	memset(line, '1', sizeof(line));
	memcpy(line, "PROXY TCP6 ", 11);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 106, &h), 0);
	ck_assert_int_eq(proxy_parse((unsigned char *)line, 107, &h), -1);
	/* An IPv6 address with a dotted tail is longer than the spec's
	 * 39 characters: two of them do not fit in 107 bytes. */
	ck_assert_int_eq(p1("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n", &h), -1);
}
END_TEST

/* A line without its LF is refused at once where that is certain already. */
START_TEST(v1_early)
{
	static const struct { const char *s; int want; } t[] = {
		{ "P", 0 }, { "PRO", 0 }, { "PROXY", 0 }, { "PROXY ", 0 },
		{ "PROXY T", 0 }, { "PROXY TCP", 0 }, { "PROXY TCP4", 0 },
		{ "PROXY TCP4 1.2", 0 }, { "PROXY TCP6 2001:db8:", 0 },
		{ "PROXY U", 0 }, { "PROXY UNKNOWN", 0 }, { "PROXY UNKNOWN\r", 0 },
		{ "PROXY UNKNOWN \x01\xff\r", 0 },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 0 },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2", 0 },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", -1 },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r", -1 },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 \r", -1 },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8\r", -1 },
		{ "PROXY TCP4 \r", -1 },
		{ "PROXY TCP4 1.2.3.4\rx", -1 },
		{ "PROXY TCP4  ", -1 }, { "PROXY TCP4 1.2.3.4  ", -1 },
		{ "PROXY TCP4 1.2.3.4 x", -1 }, { "PROXY TCP4 1.2.3.4\t", -1 },
		{ "PROXY TCP4 a b c d ", -1 },
		{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3", -1 },
		{ "PROXY UNKNOWNX", -1 }, { "PROXY UNKNOWN\rX", -1 },
		{ "PROXY TCP5", -1 }, { "PROXY X", -1 }, { "PROXY  ", -1 },
		{ "PROXX", -1 }, { "PROXYX", -1 }, { "PROXY\r", -1 },
		/* Neither signature: at once. */
		{ "EHLO", -1 }, { "E", -1 }, { "GET / HTTP/1.1", -1 },
		{ "\x16\x03\x01", -1 }, { "proxy", -1 }, { "\n", -1 },
		{ "USER alice\r\n", -1 },
	};
	struct proxy_hdr h;
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].s);
		ck_assert_msg(proxy_parse((const unsigned char *)t[i].s, n, &h) ==
		    t[i].want, "t[%zu] \"%s\" is not %d", i, t[i].s, t[i].want);
	}
	ck_assert_int_eq(proxy_parse((const unsigned char *)"PROXY TCP4 1.2.3.4 \0",
	    20, &h), -1);
	/* The empty buffer is a prefix of every header. */
	ck_assert_int_eq(proxy_parse(NULL, 0, &h), 0);
	ck_assert_int_eq(proxy_parse((const unsigned char *)"", 0, &h), 0);
}
END_TEST

START_TEST(v1_prefixes)
{
	static const char *const good[] = {
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
		"PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
		"PROXY TCP6 2001:db8::1 2001:db8::2 65535 25\r\n",
		"PROXY TCP6 ::ffff:10.1.2.3 ::1 1 2\r\n",
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN ::1 ::2 1 2\r\n",
	};
	struct proxy_hdr want;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_eq(p1(good[i], &want), (int)strlen(good[i]));
		check_prefixes((const unsigned char *)good[i], strlen(good[i]),
		    &want);
	}
}
END_TEST

/* --- v2 ------------------------------------------------------------- */

START_TEST(v2_tcp4)
{
	unsigned char b[PROXY_HEADER_MAX + 16], body[512];
	struct proxy_hdr h;
	size_t n, bl;

	bl = block4(body, "192.0.2.1", "198.51.100.25", 0xabcd, 25);
	n = v2(b, 0x21, 0x11, body, bl);
	ck_assert_uint_eq(n, 28);
	memset(&h, 0x5a, sizeof(h));
	ck_assert_int_eq(proxy_parse(b, n, &h), 28);
	ck_assert_int_eq(h.local, 0);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src, "192.0.2.1");
	ck_assert_uint_eq(h.sport, 0xabcd);
	check_prefixes(b, n, &h);
	/* With TLVs after the addresses: skipped, counted in the length. */
	bl += tlv(body + bl, 0x01, "smtp", 4);			/* ALPN */
	bl += tlv(body + bl, 0x04, NULL, 0);			/* NOOP */
	bl += tlv(body + bl, 0x05, "0123456789abcdef", 16);	/* UNIQUE_ID */
	bl += tlv(body + bl, 0xea, "\x01vpce-0123", 10);	/* a vendor's */
	n = v2(b, 0x21, 0x11, body, bl);
	ck_assert_int_eq(proxy_parse(b, n, &h), (int)n);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src, "192.0.2.1");
	ck_assert_uint_eq(h.sport, 0xabcd);
	check_prefixes(b, n, &h);
}
END_TEST

START_TEST(v2_tcp6)
{
	unsigned char b[PROXY_HEADER_MAX + 16], body[512];
	struct proxy_hdr h;
	size_t n, bl;

	bl = block6(body, "2001:db8::17", "2001:db8::1", 65535, 110);
	n = v2(b, 0x21, 0x21, body, bl);
	ck_assert_uint_eq(n, 52);
	ck_assert_int_eq(proxy_parse(b, n, &h), 52);
	ck_assert_int_eq(h.local, 0);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_str_eq(h.src, "2001:db8::17");
	ck_assert_uint_eq(h.sport, 65535);
	check_prefixes(b, n, &h);
	bl += tlv(body + bl, 0x02, "mail.example.org", 16);	/* AUTHORITY */
	bl += tlv(body + bl, 0x03, "\0\0\0\0", 4);		/* CRC32C, unchecked */
	n = v2(b, 0x21, 0x21, body, bl);
	ck_assert_int_eq(proxy_parse(b, n, &h), (int)n);
	ck_assert_str_eq(h.src, "2001:db8::17");
	check_prefixes(b, n, &h);
	/* An IPv4 client of a dual-stack proxy. */
	bl = block6(body, "::ffff:203.0.113.9", "::ffff:203.0.113.1", 40000, 25);
	n = v2(b, 0x21, 0x21, body, bl);
	ck_assert_int_eq(proxy_parse(b, n, &h), 52);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src, "203.0.113.9");
	ck_assert_uint_eq(h.sport, 40000);
}
END_TEST

START_TEST(v2_local)
{
	unsigned char b[PROXY_HEADER_MAX + 16], body[PROXY_HEADER_MAX];
	struct proxy_hdr h, want;
	size_t n, bl;

	/* A health check: LOCAL, UNSPEC, no addresses. */
	n = v2(b, 0x20, 0x00, NULL, 0);
	memset(&h, 0x5a, sizeof(h));
	ck_assert_int_eq(proxy_parse(b, n, &h), 16);
	ck_assert_int_eq(h.local, 1);
	ck_assert_int_eq(h.family, AF_UNSPEC);
	ck_assert_str_eq(h.src, "");
	ck_assert_uint_eq(h.sport, 0);
	want = h;
	check_prefixes(b, n, &want);
	/* "must not assume zero is presented for LOCAL connections": the
	 * block is skipped, whatever the family says. */
	bl = block4(body, "192.0.2.1", "192.0.2.2", 1, 2);
	n = v2(b, 0x20, 0x11, body, bl);
	ck_assert_int_eq(proxy_parse(b, n, &h), 28);
	ck_assert_int_eq(h.local, 1);
	check_prefixes(b, n, &want);
	bl = block6(body, "2001:db8::1", "2001:db8::2", 1, 2);
	n = v2(b, 0x20, 0x21, body, bl);
	ck_assert_int_eq(proxy_parse(b, n, &h), 52);
	ck_assert_int_eq(h.local, 1);
	/* UDP, UNIX (216 bytes), or a family no one defined: ignored. */
	memset(body, 0, sizeof(body));
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x20, 0x12, body, 12), &h), 28);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x20, 0x31, body, 216), &h), 232);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x20, 0xff, body, 5), &h), 21);
	/* Its block is not read as TLVs: any bytes go. */
	memset(body, 0xff, 7);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x20, 0x00, body, 7), &h), 23);
	ck_assert_int_eq(h.local, 1);
	/* A TCP4 LOCAL with fewer bytes than TCP4 addresses take. */
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x20, 0x11, body, 3), &h), 19);
}
END_TEST

START_TEST(v2_refused)
{
	unsigned char b[PROXY_HEADER_MAX + 16], body[64];
	struct proxy_hdr h, keep;
	size_t bl4, bl6, i;
	unsigned fam;

	bl4 = block4(body, "192.0.2.1", "192.0.2.2", 1, 2);
	/* versions other than 2, with either command */
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue;
		ck_assert_int_eq(proxy_parse(b, v2(b, (unsigned)(i << 4 | 1), 0x11,
		    body, bl4), &h), -1);
		ck_assert_int_eq(proxy_parse(b, v2(b, (unsigned)(i << 4), 0x00,
		    NULL, 0), &h), -1);
		/* known at the 13th byte */
		ck_assert_int_eq(proxy_parse(b, 13, &h), -1);
	}
	/* unassigned commands */
	for (i = 2; i < 16; i++) {
		ck_assert_int_eq(proxy_parse(b, v2(b, (unsigned)(0x20 | i), 0x11,
		    body, bl4), &h), -1);
		ck_assert_int_eq(proxy_parse(b, 13, &h), -1);
	}
	/* PROXY takes TCP over IPv4 or IPv6 only: every other family byte
	 * is refused, known at the 14th byte. */
	memset(body, 0, sizeof(body));
	for (fam = 0; fam < 256; fam++) {
		if (fam == 0x11 || fam == 0x21)
			continue;
		ck_assert_msg(proxy_parse(b, v2(b, 0x21, fam, body, 36), &h) == -1,
		    "PROXY with family 0x%02x accepted", fam);
		ck_assert_int_eq(proxy_parse(b, 14, &h), -1);
	}
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x12, body, 12), &h), -1);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x22, body, 36), &h), -1);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x00, NULL, 0), &h), -1);
	/* a length too short for the family, known at the 16th byte */
	bl4 = block4(body, "192.0.2.1", "192.0.2.2", 1, 2);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x11, body, 11), &h), -1);
	ck_assert_int_eq(proxy_parse(b, 16, &h), -1);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x11, NULL, 0), &h), -1);
	bl6 = block6(body, "2001:db8::1", "2001:db8::2", 1, 2);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x21, body, 35), &h), -1);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x21, body, 12), &h), -1);
	ck_assert_int_eq(proxy_parse(b, 16, &h), -1);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x21, body, bl6), &h), 52);
	/* a wrong byte anywhere in the signature, known at that byte */
	for (i = 0; i < 12; i++) {
		v2(b, 0x21, 0x11, body, bl4);
		b[i] ^= 0x20;
		ck_assert_int_eq(proxy_parse(b, 28, &h), -1);
		ck_assert_int_eq(proxy_parse(b, i + 1, &h), -1);
		if (i > 0)
			ck_assert_int_eq(proxy_parse(b, i, &h), 0);
	}
	/* *H is left alone */
	memset(&h, 0x5a, sizeof(h));
	keep = h;
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x12, body, 12), &h), -1);
	ck_assert_int_eq(memcmp(&h, &keep, sizeof(h)), 0);
	ck_assert_int_eq(proxy_parse(b, 20, &h), -1);
	ck_assert_int_eq(memcmp(&h, &keep, sizeof(h)), 0);
}
END_TEST

START_TEST(v2_tlv_framing)
{
	unsigned char b[PROXY_HEADER_MAX + 16], body[128];
	struct proxy_hdr h;
	const size_t bl = 12, bl6 = 36;

	block4(body, "192.0.2.1", "192.0.2.2", 1, 2);
	/* one or two stray bytes after the addresses: no TLV fits */
	body[bl] = 0x04;
	body[bl + 1] = 0;
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x11, body, bl + 1), &h), -1);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x11, body, bl + 2), &h), -1);
	/* a TLV whose value runs past the header */
	tlv(body + bl, 0x04, "abcd", 4);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x11, body, bl + 6), &h), -1);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x11, body, bl + 7), &h), 35);
	/* ... even when the bytes are there after it */
	v2_len(b, 0x21, 0x11, bl + 6, body, bl + 7);
	ck_assert_int_eq(proxy_parse(b, 16 + bl + 7, &h), -1);
	/* a TLV claiming 65535 bytes */
	body[bl + 1] = 0xff;
	body[bl + 2] = 0xff;
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x11, body, bl + 7), &h), -1);
	/* the same on TCP6 */
	block6(body, "2001:db8::1", "2001:db8::2", 1, 2);
	tlv(body + bl6, 0x01, "h2", 2);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x21, body, bl6 + 5), &h), 57);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x21, 0x21, body, bl6 + 4), &h), -1);
}
END_TEST

START_TEST(v2_size)
{
	unsigned char b[PROXY_HEADER_MAX + 64], body[PROXY_HEADER_MAX + 32];
	unsigned char fill[PROXY_HEADER_MAX];
	struct proxy_hdr h;
	size_t bl, n;

	/* Exactly PROXY_HEADER_MAX: 12 address bytes and one TLV of 505. */
	memset(body, 'x', sizeof(body));
	memset(fill, 'x', sizeof(fill));
	bl = block4(body, "192.0.2.1", "192.0.2.2", 1, 2);
	bl += tlv(body + bl, 0x04, fill, PROXY_HEADER_MAX - 16 - 12 - 3);
	n = v2(b, 0x21, 0x11, body, bl);
	ck_assert_uint_eq(n, PROXY_HEADER_MAX);
	ck_assert_int_eq(proxy_parse(b, n, &h), PROXY_HEADER_MAX);
	ck_assert_str_eq(h.src, "192.0.2.1");
	check_prefixes(b, n, &h);
	/* One more is refused as soon as the length is known. */
	bl = block4(body, "192.0.2.1", "192.0.2.2", 1, 2);
	bl += tlv(body + bl, 0x04, fill, PROXY_HEADER_MAX - 16 - 12 - 3 + 1);
	n = v2(b, 0x21, 0x11, body, bl);
	ck_assert_uint_eq(n, PROXY_HEADER_MAX + 1);
	ck_assert_int_eq(proxy_parse(b, n, &h), -1);
	ck_assert_int_eq(proxy_parse(b, 16, &h), -1);
	/* LOCAL too; and the largest length field. */
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x20, 0x00, body,
	    PROXY_HEADER_MAX - 16), &h), PROXY_HEADER_MAX);
	ck_assert_int_eq(proxy_parse(b, v2(b, 0x20, 0x00, body,
	    PROXY_HEADER_MAX - 15), &h), -1);
	v2_len(b, 0x20, 0x00, 65535, NULL, 0);
	ck_assert_int_eq(proxy_parse(b, 16, &h), -1);
	v2_len(b, 0x21, 0x21, 65535, NULL, 0);
	ck_assert_int_eq(proxy_parse(b, 16, &h), -1);
}
END_TEST

/* Never "need more" with PROXY_HEADER_MAX bytes in hand. */
START_TEST(never_wait_at_max)
{
	unsigned char b[PROXY_HEADER_MAX], body[PROXY_HEADER_MAX];
	struct proxy_hdr h;
	size_t len;

	for (len = 0; len <= PROXY_HEADER_MAX - 16; len++) {
		memset(b, 'A', sizeof(b));
		memset(body, 0, sizeof(body));
		v2_len(b, 0x20, 0x00, len, body, 0);
		ck_assert_int_eq(proxy_parse(b, sizeof(b), &h), (int)(16 + len));
		v2_len(b, 0x21, 0x21, len, body, 0);
		ck_assert_int_ne(proxy_parse(b, sizeof(b), &h), 0);
	}
	memset(b, ' ', sizeof(b));
	memcpy(b, "PROXY TCP4 1.2.3.4", 18);
	ck_assert_int_eq(proxy_parse(b, sizeof(b), &h), -1);
	memset(b, 'z', sizeof(b));
	memcpy(b, "PROXY UNKNOWN", 13);
	ck_assert_int_eq(proxy_parse(b, sizeof(b), &h), -1);
}
END_TEST

/* --- -P networks ---------------------------------------------------- */

static void
net_is(const struct proxy_net *n, int family, const char *addr,
    unsigned prefix)
{
	unsigned char want[16];

	memset(want, 0, sizeof(want));
	ck_assert_int_eq(inet_pton(family, addr, want), 1);
	ck_assert_int_eq(n->family, family);
	ck_assert_int_eq(memcmp(n->addr, want, family == AF_INET ? 4 : 16), 0);
	ck_assert_uint_eq(n->prefix, prefix);
}

START_TEST(allow_parse_good)
{
	struct proxy_allow a;

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(proxy_allow_parse(&a, "10.0.0.0/8"), 0);
	ck_assert_uint_eq(a.n, 1);
	net_is(&a.net[0], AF_INET, "10.0.0.0", 8);
	ck_assert_int_eq(proxy_allow_parse(&a, "192.0.2.7"), 0);
	net_is(&a.net[1], AF_INET, "192.0.2.7", 32);
	ck_assert_int_eq(proxy_allow_parse(&a, "2001:db8::/32"), 0);
	net_is(&a.net[2], AF_INET6, "2001:db8::", 32);
	ck_assert_int_eq(proxy_allow_parse(&a, "::1"), 0);
	net_is(&a.net[3], AF_INET6, "::1", 128);
	ck_assert_uint_eq(a.n, 4);
	/* a list, appended to what was there */
	ck_assert_int_eq(proxy_allow_parse(&a,
	    "192.168.0.0/16,fd00::/8,172.16.0.0/12,2001:DB8:0:1::/64"), 0);
	ck_assert_uint_eq(a.n, 8);
	net_is(&a.net[4], AF_INET, "192.168.0.0", 16);
	net_is(&a.net[5], AF_INET6, "fd00::", 8);
	net_is(&a.net[6], AF_INET, "172.16.0.0", 12);
	net_is(&a.net[7], AF_INET6, "2001:db8:0:1::", 64);
	/* /0, and the full prefixes written out */
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(proxy_allow_parse(&a,
	    "0.0.0.0/0,::/0,1.2.3.4/32,::2/128,0"), -1);
	ck_assert_int_eq(proxy_allow_parse(&a, "0.0.0.0/0,::/0,1.2.3.4/32,::2/128"), 0);
	ck_assert_uint_eq(a.n, 4);
	net_is(&a.net[0], AF_INET, "0.0.0.0", 0);
	net_is(&a.net[1], AF_INET6, "::", 0);
	net_is(&a.net[2], AF_INET, "1.2.3.4", 32);
	net_is(&a.net[3], AF_INET6, "::2", 128);
	/* IPv4-mapped networks are kept as IPv4 */
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(proxy_allow_parse(&a,
	    "::ffff:10.0.0.0/104,::ffff:192.0.2.7,::ffff:0:0/96"), 0);
	net_is(&a.net[0], AF_INET, "10.0.0.0", 8);
	net_is(&a.net[1], AF_INET, "192.0.2.7", 32);
	net_is(&a.net[2], AF_INET, "0.0.0.0", 0);
	/* ... but a wider IPv6 one stays IPv6 */
	ck_assert_int_eq(proxy_allow_parse(&a, "::/80"), 0);
	net_is(&a.net[3], AF_INET6, "::", 80);
}
END_TEST

START_TEST(allow_parse_bad)
{
	static const char *const bad[] = {
		"", ",", ",,", "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/8,,::1",
		" 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8, ::1", "10.0.0.0 /8",
		"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/x",
		"10.0.0.0/", "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.0/8x",
		"10.0.0.0/4294967304", "::/129", "::/-1", "::/", "::/1000",
		"10.0.0.1/8", "192.0.3.0/23", "2001:db8::1/32", "::1/127",
		"::ffff:10.0.0.1/104", "1.0.0.0/0",
		"localhost", "example.org/24", "10.0.0", "10", "10.0.0.0.0",
		"010.0.0.0/8", "10.0.0.08", "256.0.0.0/8", "0x0a000000",
		"fe80::1%eth0", "[::1]", "1.2.3.4:25", "::1::2", ":::",
		"/8", "/", "10.0.0.0\n", "10.0.0.0/8;",
	};
	struct proxy_allow a, keep;
	size_t i;

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(proxy_allow_parse(&a, "192.0.2.0/24"), 0);
	keep = a;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(proxy_allow_parse(&a, bad[i]) == -1,
		    "bad[%zu] \"%s\" accepted", i, bad[i]);
		ck_assert_msg(memcmp(&a, &keep, sizeof(a)) == 0,
		    "bad[%zu] changed the list", i);
	}
	/* good items before a bad one are not kept */
	ck_assert_int_eq(proxy_allow_parse(&a, "10.0.0.0/8,::1,bad"), -1);
	ck_assert_int_eq(memcmp(&a, &keep, sizeof(a)), 0);
}
END_TEST

START_TEST(allow_parse_full)
{
	struct proxy_allow a, keep;
	char list[PROXY_NETS_MAX * 16 + 16];
	size_t i, off = 0;

	/* PROXY_NETS_MAX in one list */
	for (i = 0; i < PROXY_NETS_MAX; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s10.%zu.0.0/16",
		    i > 0 ? "," : "", i);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(proxy_allow_parse(&a, list), 0);
	ck_assert_uint_eq(a.n, PROXY_NETS_MAX);
	net_is(&a.net[PROXY_NETS_MAX - 1], AF_INET, "10.31.0.0", 16);
	keep = a;
	ck_assert_int_eq(proxy_allow_parse(&a, "::1"), -1);
	ck_assert_int_eq(memcmp(&a, &keep, sizeof(a)), 0);
	/* one over, in one list: nothing of it is kept */
	memset(&a, 0, sizeof(a));
	snprintf(list + off, sizeof(list) - off, ",::1");
	ck_assert_int_eq(proxy_allow_parse(&a, list), -1);
	ck_assert_uint_eq(a.n, 0);
	/* one over across calls: the list that would overflow is refused whole */
	memset(&a, 0, sizeof(a));
	for (i = 0; i < PROXY_NETS_MAX - 1; i++)
		ck_assert_int_eq(proxy_allow_parse(&a, "192.0.2.1"), 0);
	keep = a;
	ck_assert_int_eq(proxy_allow_parse(&a, "192.0.2.2,192.0.2.3"), -1);
	ck_assert_int_eq(memcmp(&a, &keep, sizeof(a)), 0);
	ck_assert_int_eq(proxy_allow_parse(&a, "192.0.2.2"), 0);
	ck_assert_uint_eq(a.n, PROXY_NETS_MAX);
}
END_TEST

/* --- the peer check ------------------------------------------------- */

static const struct sockaddr *
sa4(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in *s = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(4000);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &s->sin_addr), 1);
	return (const struct sockaddr *)ss;
}

static const struct sockaddr *
sa6(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(4000);
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &s->sin6_addr), 1);
	return (const struct sockaddr *)ss;
}

static struct proxy_allow *
allow(struct proxy_allow *a, const char *list)
{
	memset(a, 0, sizeof(*a));
	ck_assert_int_eq(proxy_allow_parse(a, list), 0);
	return a;
}

START_TEST(allowed_v4)
{
	struct proxy_allow a;
	struct sockaddr_storage ss;

	allow(&a, "192.0.2.0/23");
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.2.0")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.2.77")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.3.255")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.1.255")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.4.0")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "193.0.2.1")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "64.0.2.1")), 0);
	allow(&a, "10.1.2.3");
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "10.1.2.3")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "10.1.2.2")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "10.1.2.4")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "138.1.2.3")), 0);
	/* a /31 and a /1 */
	allow(&a, "10.0.0.4/31,128.0.0.0/1");
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "10.0.0.5")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "10.0.0.6")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "10.0.0.3")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "128.0.0.0")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "255.255.255.255")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "127.255.255.255")), 0);
	/* /0: every IPv4 peer, no IPv6 one */
	allow(&a, "0.0.0.0/0");
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "0.0.0.0")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "203.0.113.9")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8::1")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::")), 0);
}
END_TEST

START_TEST(allowed_v6)
{
	struct proxy_allow a;
	struct sockaddr_storage ss;

	allow(&a, "2001:db8:1:2::/64");
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8:1:2::")), 1);
	ck_assert_int_eq(proxy_allowed(&a,
	    sa6(&ss, "2001:db8:1:2:ffff:ffff:ffff:ffff")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8:1:3::")), 0);
	ck_assert_int_eq(proxy_allowed(&a,
	    sa6(&ss, "2001:db8:1:1:ffff:ffff:ffff:ffff")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8:1:8002::")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "32.1.13.184")), 0);
	allow(&a, "2001:db8::2/127");
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8::2")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8::3")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8::1")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8::4")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db9::2")), 0);
	allow(&a, "::1");
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::1")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::3")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "8000::1")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "0.0.0.1")), 0);
	/* ::/0: every IPv6 peer, but not an IPv4 one, mapped or not */
	allow(&a, "::/0");
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "2001:db8::1")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "ffff::")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.2.1")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::ffff:192.0.2.1")), 0);
}
END_TEST

START_TEST(allowed_mapped)
{
	struct proxy_allow a;
	struct sockaddr_storage ss;
	struct sockaddr_un un;

	/* An IPv4 peer on a dual-stack socket counts as its IPv4 address. */
	allow(&a, "192.0.2.0/24");
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::ffff:192.0.2.9")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::ffff:192.0.3.9")), 0);
	/* compatible (::a.b.c.d) and NAT64 addresses are IPv6, not IPv4 */
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::192.0.2.9")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "64:ff9b::192.0.2.9")), 0);
	/* and a mapped network takes both forms of its peers */
	allow(&a, "::ffff:192.0.2.0/120");
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.2.9")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::ffff:192.0.2.9")), 1);
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.3.9")), 0);
	allow(&a, "0.0.0.0/0");
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::ffff:10.0.0.1")), 1);
	/* nothing else is an IP peer */
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	ck_assert_int_eq(proxy_allowed(&a, (const struct sockaddr *)&un), 0);
	/* an empty list allows no one */
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(proxy_allowed(&a, sa4(&ss, "192.0.2.9")), 0);
	ck_assert_int_eq(proxy_allowed(&a, sa6(&ss, "::1")), 0);
}
END_TEST

static Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("v1");

	tcase_add_test(tc, v1_tcp4);
	tcase_add_test(tc, v1_tcp6);
	tcase_add_test(tc, v1_mapped);
	tcase_add_test(tc, v1_unknown);
	tcase_add_test(tc, v1_malformed);
	tcase_add_test(tc, v1_nul);
	tcase_add_test(tc, v1_length);
	tcase_add_test(tc, v1_early);
	tcase_add_test(tc, v1_prefixes);
	suite_add_tcase(s, tc);
	tc = tcase_create("v2");
	tcase_add_test(tc, v2_tcp4);
	tcase_add_test(tc, v2_tcp6);
	tcase_add_test(tc, v2_local);
	tcase_add_test(tc, v2_refused);
	tcase_add_test(tc, v2_tlv_framing);
	tcase_add_test(tc, v2_size);
	tcase_add_test(tc, never_wait_at_max);
	suite_add_tcase(s, tc);
	tc = tcase_create("allow");
	tcase_add_test(tc, allow_parse_good);
	tcase_add_test(tc, allow_parse_bad);
	tcase_add_test(tc, allow_parse_full);
	tcase_add_test(tc, allowed_v4);
	tcase_add_test(tc, allowed_v6);
	tcase_add_test(tc, allowed_mapped);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(proxy_suite)
