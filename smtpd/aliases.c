/* aliases.c: the -a file in /etc/aliases syntax (aliases(5)): "name: target,
 * target", '#' comments, continuation lines that start with white space,
 * quoted names; read once at start-up into a table.  Local targets are
 * delivered; |command, /file, :include: and remote user@domain targets are
 * not supported: they are kept, marked, and never become a mailbox or a
 * file.  Only a malformed file is reported here; what a legal entry will
 * not deliver is told when a recipient resolves through it (rcpt.c): in
 * the log once a connection, by smtpd -T (verify.c).  Runs before the
 * split; the delivery side looks aliases up (rcpt.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "users.h"
#include "smtpd.h"

static const char *const kind_text[] = {
	[AT_LOCAL] = "local",
	[AT_PIPE] = "a |command",
	[AT_FILE] = "a /file",
	[AT_INCLUDE] = "an :include: list",
	[AT_REMOTE] = "a remote address",
};

const char *
smtp_alias_kind_text(enum alias_kind kind)
{
	return (size_t)kind < sizeof(kind_text) / sizeof(kind_text[0]) ?
	    kind_text[kind] : "unknown";
}

/* The parser's state: the table being built and where to report. */
struct parser {
	const struct smtpd_conf *c;
	struct aliases	*al;
	unsigned long	 line;
	aliases_report_fn *report;
	void		*ctx;
	int		 bad;		/* a syntax error was reported */
};

static void
report(struct parser *p, int error, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (error)
		p->bad = 1;
	if (p->report != NULL)
		p->report(p->ctx, p->line, error, msg);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* 1 when the LEN bytes at L are all white space. */
static int
blank(const char *l, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_space(l[i]))
			return 0;
	return 1;
}

/* Grow array *V (of *CAP elements of SIZE bytes) to hold N + 1.  Returns 0
 * or -1. */
static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *x;

	if (n < *cap)
		return 0;
	nc = *cap > 0 ? *cap * 2 : 64;
	if ((x = realloc(*v, nc * size)) == NULL)
		return -1;
	*v = x;
	*cap = nc;
	return 0;
}

/* Copy S (LEN bytes) with surrounding white space and one pair of double
 * quotes taken off into OUT (CAP bytes).  Returns its length, or -1 when
 * it does not fit. */
static long
unquote(const char *s, size_t len, char *out, size_t cap)
{
	while (len > 0 && is_space(*s))
		s++, len--;
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"')
		s++, len -= 2;
	if (len >= cap)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return (long)len;
}

/* One target T (LEN bytes, as written) of the alias being built. */
static int
add_target(struct parser *p, const char *t, size_t len)
{
	struct aliases *al = p->al;
	struct alias_target *x;
	char v[1024];
	const char *at;
	long n;

	if ((n = unquote(t, len, v, sizeof(v))) < 0) {
		report(p, 1, "a target is longer than 1023 bytes");
		return 0;
	}
	if (n == 0)
		return 0;		/* "a, , b": nothing between the commas */
	if (grow((void **)&al->t, &al->tcap, al->nt, sizeof(*al->t)) == -1)
		return -1;
	x = &al->t[al->nt];
	memset(x, 0, sizeof(*x));
	x->line = p->line;
	if (v[0] == '|')
		x->kind = AT_PIPE;
	else if (v[0] == '/')
		x->kind = AT_FILE;
	else if (strncasecmp(v, ":include:", 9) == 0)
		x->kind = AT_INCLUDE;
	else if ((at = strchr(v, '@')) != NULL &&
	    !smtp_rcpt_domain_ok(p->c, at + 1)) {
		x->kind = AT_REMOTE;
	} else {
		/* user, \user (no further aliasing), user@one-of-our-domains */
		const char *name = v;

		x->kind = AT_LOCAL;
		if (*name == '\\') {
			x->noalias = 1;
			name++;
		}
		n = at != NULL ? (long)(at - name) : (long)strlen(name);
		if (n <= 0 || n > USER_MAX || !smtp_rcpt_name_ok(name, (size_t)n)) {
			report(p, 1, "target \"%.64s\" is not a user name smtpd can "
			    "deliver to (1-64 bytes, no '/', '..', space, control "
			    "byte or leading dot)", v);
			return 0;
		}
		memcpy(x->name, name, (size_t)n);
		x->name[n] = '\0';
		al->nt++;
		return 0;
	}
	/* Kept under the name it was given (cut), for the reports. */
	snprintf(x->name, sizeof(x->name), "%.*s", USER_MAX, v);
	al->nt++;
	return 0;
}

/* One logical entry (continuation lines joined), E (LEN bytes). */
static int
entry(struct parser *p, const char *e, size_t len)
{
	struct aliases *al = p->al;
	struct alias *a;
	const struct alias *first;
	const char *colon = NULL, *s;
	char name[USER_MAX + 8];
	size_t i, start;
	long n;
	int q = 0;

	/* The name ends at the first ':' outside quotes. */
	for (i = 0; i < len && colon == NULL; i++) {
		if (e[i] == '"')
			q = !q;
		else if (e[i] == ':' && !q)
			colon = e + i;
	}
	if (colon == NULL) {
		report(p, 1, "no ':' after the alias name: want \"name: user, "
		    "user\"");
		return 0;
	}
	n = unquote(e, (size_t)(colon - e), name, sizeof(name));
	if (n <= 0 || !smtp_rcpt_name_ok(name, (size_t)n)) {
		report(p, 1, "alias name \"%.*s\" is not a name smtpd accepts "
		    "(1-64 bytes, no '/', '..', space, control byte or leading "
		    "dot)", (int)(colon - e > 64 ? 64 : colon - e), e);
		return 0;
	}
	/* The first entry of a name is the one used; a later one is
	 * remembered only to be told of. */
	if ((first = smtp_aliases_find(al, name, (size_t)n)) != NULL) {
		a = &al->a[first - al->a];
		if (a->dupline == 0)
			a->dupline = p->line;
		return 0;
	}
	if (grow((void **)&al->a, &al->acap, al->na, sizeof(*al->a)) == -1)
		return -1;
	a = &al->a[al->na];
	memset(a, 0, sizeof(*a));
	memcpy(a->name, name, (size_t)n + 1);
	a->line = p->line;
	a->first = al->nt;
	/* Targets are separated by commas outside quotes. */
	s = colon + 1;
	len -= (size_t)(s - e);
	for (i = 0, start = 0, q = 0; i <= len; i++) {
		if (i < len && s[i] == '"')
			q = !q;
		if (i == len || (s[i] == ',' && !q)) {
			if (add_target(p, s + start, i - start) == -1)
				return -1;
			start = i + 1;
		}
	}
	a->count = al->nt - a->first;
	if (a->count == 0)
		report(p, 1, "alias \"%s\" has no target", a->name);
	al->na++;
	return 0;
}

int
smtp_aliases_parse(const struct smtpd_conf *c, const char *buf, size_t len,
    struct aliases *al, aliases_report_fn *fn, void *ctx)
{
	struct parser p;
	const char *l, *lf;
	char *joined;
	size_t ll, pos = 0, jlen = 0;
	unsigned long lineno = 0, first = 0;

	memset(al, 0, sizeof(*al));
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.al = al;
	p.report = fn;
	p.ctx = ctx;
	if ((joined = malloc(len + 1)) == NULL)
		return -1;
	/* Lines are gathered into one entry until a line that does not
	 * start with white space (RFC 822 folding, as aliases(5) has it). */
	while (pos <= len) {
		l = buf + pos;
		lf = pos < len ? memchr(l, '\n', len - pos) : NULL;
		ll = lf != NULL ? (size_t)(lf - l) : len - pos;
		if (pos < len)
			lineno++;
		if (pos < len && ll >= USERS_LINE_MAX) {
			p.line = lineno;
			report(&p, 1, "the line is longer than %d bytes",
			    USERS_LINE_MAX - 1);
		}
		if (pos < len && (ll == 0 || l[0] == '#' || blank(l, ll))) {
			/* A comment or an empty line: no continuation. */
		} else if (pos < len && is_space(l[0])) {
			if (jlen == 0) {
				p.line = lineno;
				report(&p, 1, "a continuation line with no entry "
				    "before it");
			} else {
				memcpy(joined + jlen, l, ll);
				jlen += ll;
			}
			pos += ll + 1;
			continue;
		}
		if (jlen > 0) {
			p.line = first;
			if (entry(&p, joined, jlen) == -1) {
				free(joined);
				smtp_aliases_free(al);
				return -1;
			}
			jlen = 0;
		}
		if (pos >= len)
			break;
		if (ll > 0 && l[0] != '#' && !is_space(l[0])) {
			memcpy(joined, l, ll);
			jlen = ll;
			first = lineno;
		}
		pos += ll + 1;
	}
	free(joined);
	return p.bad ? -2 : 0;
}

const struct alias *
smtp_aliases_find(const struct aliases *al, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < al->na; i++)
		if (strlen(al->a[i].name) == len &&
		    strncasecmp(al->a[i].name, name, len) == 0)
			return &al->a[i];
	return NULL;
}

void
smtp_aliases_free(struct aliases *al)
{
	free(al->a);
	free(al->t);
	memset(al, 0, sizeof(*al));
}

/* Start-up's report: one log line for each problem of a malformed file,
 * which then stops the server (every connection says so: it cannot
 * serve). */
static void
log_problem(void *ctx, unsigned long line, int error, const char *msg)
{
	const char *path = ctx;
	char q[LOG_QUOTE_SIZE];

	(void)error;
	log_quote(q, sizeof(q), path, strlen(path));
	log_warnx("aliases file=%s line=%lu malformed: %s", q, line, msg);
}

int
smtp_aliases_load(const struct smtpd_conf *c, const char *path,
    struct aliases *al, aliases_report_fn *fn, void *ctx)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n = 0;
	int fd, e;

	memset(al, 0, sizeof(*al));
	if (fn == NULL) {
		fn = log_problem;
		ctx = (void *)path;
	}
	if ((fd = open(path, O_RDONLY | O_NOCTTY)) < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ALIASES_SIZE_MAX) {
		close(fd);
		fn(ctx, 0, 1, "not a regular file, or larger than 1 MiB");
		return -2;
	}
	/* One byte more than the size: a file that grew is read to its end
	 * or found too big, never cut. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	while (len <= (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size + 1 - len)) > 0)
		len += (size_t)n;
	e = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		errno = e;
		return -1;
	}
	if (len > (size_t)st.st_size || memchr(buf, '\0', len) != NULL) {
		free(buf);
		fn(ctx, 0, 1, "changed while read, or has NUL bytes");
		return -2;
	}
	e = smtp_aliases_parse(c, buf, len, al, fn, ctx);
	free(buf);
	if (e == -1)
		errno = ENOMEM;
	return e;
}
