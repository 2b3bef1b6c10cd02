/* addr.c: the parsers of MAIL FROM / RCPT TO arguments: paths (RFC 5321
 * 4.1.2) and ESMTP parameters (RFC 1870, 6152, 6531), and the rules for a
 * domain of ours and a mailbox name.  Pure functions, used by both sides. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "store.h"
#include "smtpd.h"

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5322 3.2.3 atext, plus RFC 6531 UTF-8 bytes (checked by the caller
 * against SMTPUTF8). */
static int
is_atext(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Parse a Domain or address-literal at S[*I] into OUT (CAP bytes, may be
 * NULL for a source route, whose domains are not kept). */
static int
domain(const char *s, size_t len, size_t *ip, char *out, size_t cap,
    int *utf8)
{
	size_t i = *ip, start = *ip, lab = 0;
	unsigned char c;

	if (i < len && s[i] == '[') {
		/* RFC 5321 4.1.3: dcontent is %d33-90 / %d94-126. */
		for (i++; i < len && s[i] != ']'; i++) {
			c = (unsigned char)s[i];
			if (c < 33 || c > 126 || c == '[' || c == '\\')
				return ADDR_ESYNTAX;
		}
		if (i >= len || i == start + 1)
			return ADDR_ESYNTAX;
		i++;
	} else {
		/* sub-domain *("." sub-domain); a label is letters, digits
		 * and inner hyphens (RFC 5321 4.1.2 Let-dig, Ldh-str). */
		for (;; i++) {
			c = i < len ? (unsigned char)s[i] : 0;
			if (is_alnum(c) || c >= 0x80 || (c == '-' && lab > 0)) {
				if (c >= 0x80)
					*utf8 = 1;
				lab++;
				continue;
			}
			if (lab == 0 || s[i - 1] == '-')
				return ADDR_ESYNTAX;
			if (c != '.')
				break;
			lab = 0;
		}
	}
	if (i - start > ADDR_DOMAIN_MAX)
		return ADDR_ELONG;
	if (out != NULL) {
		if (i - start >= cap)
			return ADDR_ELONG;
		memcpy(out, s + start, i - start);
		out[i - start] = '\0';
	}
	*ip = i;
	return ADDR_OK;
}

/* Local-part = Dot-string / Quoted-string.  Dots may stand anywhere in the
 * Dot-string ("a..b", ".a"): such names are refused later, as names, by
 * store_name_ok(), with a clearer reply than a syntax error. */
static int
local_part(const char *s, size_t len, size_t *ip, struct addr *a)
{
	size_t i = *ip, n = 0;
	unsigned char c;

	if (i < len && s[i] == '"') {
		for (i++;; i++) {
			if (i >= len)
				return ADDR_ESYNTAX;
			c = (unsigned char)s[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (++i >= len)
					return ADDR_ESYNTAX;
				c = (unsigned char)s[i];
			}
			/* Controls are kept so the name check can refuse
			 * them (553); NUL never reaches here from a line. */
			if (c == '\0')
				return ADDR_ESYNTAX;
			if (c >= 0x80)
				a->utf8 = 1;
			if (n >= ADDR_LOCAL_MAX)
				return ADDR_ELONG;
			a->local[n++] = (char)c;
		}
		i++;
	} else {
		for (; i < len; i++) {
			c = (unsigned char)s[i];
			if (!is_atext(c) && c != '.')
				break;
			if (c >= 0x80)
				a->utf8 = 1;
			if (n >= ADDR_LOCAL_MAX)
				return ADDR_ELONG;
			a->local[n++] = (char)c;
		}
	}
	if (n == 0)
		return ADDR_ESYNTAX;
	a->local[n] = '\0';
	a->locallen = n;
	*ip = i;
	return ADDR_OK;
}

int
smtp_addr_parse(const char *s, size_t len, struct addr *a, size_t *end)
{
	size_t i, start;
	int r, dummy = 0;

	memset(a, 0, sizeof(*a));
	if (len < 2 || s[0] != '<')
		return ADDR_ESYNTAX;
	if (s[1] == '>') {
		a->null = 1;
		*end = 2;
		return ADDR_OK;
	}
	i = 1;
	/* A-d-l ":" : a source route, accepted and ignored (RFC 5321 3.6.1). */
	if (s[i] == '@') {
		for (;;) {
			i++;
			if ((r = domain(s, len, &i, NULL, 0, &dummy)) != ADDR_OK)
				return r;
			if (i < len && s[i] == ',' && i + 1 < len &&
			    s[i + 1] == '@') {
				i++;
				continue;
			}
			if (i < len && s[i] == ':') {
				i++;
				break;
			}
			return ADDR_ESYNTAX;
		}
	}
	start = i;
	if ((r = local_part(s, len, &i, a)) != ADDR_OK)
		return r;
	if (i < len && s[i] == '@') {
		i++;
		r = domain(s, len, &i, a->domain, sizeof(a->domain), &a->utf8);
		if (r != ADDR_OK)
			return r;
	}
	if (i >= len || s[i] != '>')
		return ADDR_ESYNTAX;
	/* RFC 5321 4.5.3.1.3: the whole path, brackets included, <= 256. */
	if (i + 1 > ADDR_PATH_MAX)
		return ADDR_ELONG;
	memcpy(a->text, s + start, i - start);
	a->text[i - start] = '\0';
	*end = i + 1;
	return ADDR_OK;
}

/* RFC 5321 4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"),
 * esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 allowed by RFC 6531. */
static int
param_ok(const char *k, size_t klen, const char *v, size_t vlen, int hasv)
{
	size_t i;

	if (klen == 0 || !is_alnum((unsigned char)k[0]))
		return 0;
	for (i = 1; i < klen; i++)
		if (!is_alnum((unsigned char)k[i]) && k[i] != '-')
			return 0;
	if (hasv && vlen == 0)
		return 0;
	for (i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < 33 || v[i] == '=' || v[i] == 0x7f)
			return 0;
	return 1;
}

static int
keyword(const char *k, size_t klen, const char *name)
{
	return strlen(name) == klen && strncasecmp(k, name, klen) == 0;
}

enum reply
smtp_params_parse(const char *s, size_t len, struct mail_params *mp)
{
	const char *k, *v, *eq;
	size_t i = 0, j, klen, vlen;
	int hasv, seen_size = 0, seen_body = 0, seen_utf8 = 0;

	if (mp != NULL)
		memset(mp, 0, sizeof(*mp));
	while (i < len) {
		if (s[i] != ' ')
			return R_PARAM_SYNTAX;
		while (i < len && s[i] == ' ')
			i++;
		for (j = i; j < len && s[j] != ' '; j++)
			;
		k = s + i;
		eq = memchr(k, '=', j - i);
		hasv = eq != NULL;
		klen = hasv ? (size_t)(eq - k) : j - i;
		v = hasv ? eq + 1 : k + klen;
		vlen = hasv ? (size_t)(s + j - v) : 0;
		i = j;
		if (!param_ok(k, klen, v, vlen, hasv))
			return R_PARAM_SYNTAX;
		if (mp == NULL)
			return R_PARAM_UNKNOWN;
		if (keyword(k, klen, "SIZE")) {
			/* RFC 1870: SIZE=digits.  Too many digits to count
			 * still means "too big", not a syntax error. */
			if (!hasv || seen_size++)
				return R_PARAM_SYNTAX;
			for (j = 0; j < vlen; j++)
				if (v[j] < '0' || v[j] > '9')
					return R_PARAM_SYNTAX;
			if (num_parse(v, vlen, 0, UINT64_MAX, &mp->size) < 0)
				mp->size = UINT64_MAX;
			mp->has_size = 1;
		} else if (keyword(k, klen, "BODY")) {
			if (!hasv || seen_body++)
				return R_PARAM_SYNTAX;
			if (keyword(v, vlen, "8BITMIME"))
				mp->body8 = 1;
			else if (!keyword(v, vlen, "7BIT"))
				return R_PARAM_SYNTAX;
		} else if (keyword(k, klen, "SMTPUTF8")) {
			if (hasv || seen_utf8++)
				return R_PARAM_SYNTAX;
			mp->utf8 = 1;
		} else
			return R_PARAM_UNKNOWN;
	}
	return R_NONE;
}

int
smtp_rcpt_domain_ok(const struct smtpd_conf *c, const char *domain)
{
	size_t i;

	/* Without -d: the host name, and Debian's /etc/mailname (policy
	 * 11.6: the domain this system's mail is known by). */
	if (c->ndomain == 0)
		return strcasecmp(domain, c->o.host) == 0 ||
		    (c->mailname[0] != '\0' && strcasecmp(domain, c->mailname) == 0);
	for (i = 0; i < c->ndomain; i++)
		if (strcasecmp(domain, c->domain[i]) == 0)
			return 1;
	return 0;
}

static int
is_postmaster(const char *name, size_t len)
{
	return len == 10 && strncasecmp(name, "postmaster", 10) == 0;
}

enum reply
smtp_rcpt_check(const struct smtpd_conf *c, const struct addr *a)
{
	if (a->null)
		return R_BAD_RCPT;
	/* RFC 5321 4.1.1.3: <postmaster> without a domain must be accepted. */
	if (a->domain[0] == '\0') {
		if (!is_postmaster(a->local, a->locallen))
			return R_BAD_RCPT;
	} else if (!smtp_rcpt_domain_ok(c, a->domain))
		return R_RELAY;
	/* Before any lookup: '/', "..", NUL, controls. */
	if (!smtp_rcpt_name_ok(a->local, a->locallen))
		return R_BAD_NAME;
	return R_NONE;
}

int
smtp_rcpt_name_ok(const char *name, size_t len)
{
	size_t i;

	if (!store_name_ok(name, len))
		return 0;
	/* store_name_ok() already refuses '/' and a leading dot, so ".." can
	 * climb nowhere; refused anyway, to keep names plain. */
	for (i = 0; i + 1 < len; i++)
		if (name[i] == '.' && name[i + 1] == '.')
			return 0;
	return 1;
}
