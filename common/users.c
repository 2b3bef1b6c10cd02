/* users.c: user lookup in a dovecot-style passwd-file or the system accounts.
 * Runs before the privilege drop.  Password checks are in pass.c, so smtpd,
 * which never checks one, does not load libcrypt. */
/* getspnam() and explicit_bzero() are not POSIX: ask glibc for them. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "params.h"
#include "log.h"
#include "num.h"
#include "users.h"
#include "users_int.h"

int users_dummy_sha512;

/* True when SCHEME (LEN bytes) is NAME, ignoring ASCII case. */
static int
scheme_is(const char *scheme, size_t len, const char *name)
{
	size_t i;

	if (strlen(name) != len)
		return 0;
	for (i = 0; i < len; i++)
		if ((scheme[i] >= 'a' && scheme[i] <= 'z' ? scheme[i] - 32 :
		    scheme[i]) != name[i])
			return 0;
	return 1;
}

enum scheme
users_scheme(const char *stored, const char **rest)
{
	const char *end;
	size_t n;

	*rest = stored;
	if (stored[0] != '{')
		return S_CRYPT;
	end = strchr(stored, '}');
	if (end == NULL)
		return S_UNKNOWN;
	n = (size_t)(end - stored - 1);
	*rest = end + 1;
	if (scheme_is(stored + 1, n, "PLAIN") || scheme_is(stored + 1, n, "CLEAR") ||
	    scheme_is(stored + 1, n, "CLEARTEXT"))
		return S_PLAIN;
	/* Dovecot's {CRYPT}, {SHA512-CRYPT}, {BLF-CRYPT} ... all hold crypt(3)
	 * strings that name their own algorithm. */
	if (scheme_is(stored + 1, n, "CRYPT") ||
	    (n > 6 && scheme_is(end - 6, 6, "-CRYPT")))
		return S_CRYPT;
	return S_UNKNOWN;
}

/* User names in the file become mailbox names: refuse what never could be.
 * Returns NULL, or why not. */
static const char *
name_why(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "the user name is empty";
	if (len > USER_MAX)
		return "the user name is longer than 64 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '/')
			return "the user name has a space, a control byte or '/'";
	return NULL;
}

/* A decimal uid or gid; (uid_t)-1 means "unchanged" to setuid and is refused. */
static int
id_parse(const char *s, size_t len, uint64_t *v)
{
	return num_parse(s, len, 0, (uint64_t)(uid_t)-2, v);
}

int
users_parse_line(const char *line, size_t len, struct user *u,
    const char **why)
{
	const char *f[4], *w = NULL;
	size_t flen[4], i, nf = 0, start = 0;
	uint64_t uid, gid;

	memset(u, 0, sizeof(*u));
	if (why == NULL)
		why = &w;
	*why = NULL;
	if (len > USERS_LINE_MAX) {
		*why = "the line is longer than 1024 bytes";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		*why = "the line has a NUL byte";
		return -1;
	}
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len || line[i] == '#')
		return 0;

	/* name:password[:uid:gid[:gecos:home:shell:extra]]; fields past the gid
	 * are dovecot's and ignored here. */
	for (i = 0; i <= len && nf < 4; i++) {
		if (i == len || line[i] == ':') {
			f[nf] = line + start;
			flen[nf++] = i - start;
			start = i + 1;
		}
	}
	if (nf < 2) {
		*why = "no ':' after the user name: want name:password[:uid:gid]";
		return -1;
	}
	if ((*why = name_why(f[0], flen[0])) != NULL)
		return -1;
	if (flen[1] == 0) {
		*why = "the password is empty";
		return -1;
	}
	if (flen[1] >= sizeof(u->pass)) {
		*why = "the password is longer than 255 bytes";
		return -1;
	}
	memcpy(u->name, f[0], flen[0]);
	memcpy(u->pass, f[1], flen[1]);

	if (nf < 3 || (flen[2] == 0 && (nf < 4 || flen[3] == 0)))
		return 1;
	/* One id without the other is a typo, not "use the default". */
	if (nf < 4 || flen[3] == 0 || flen[2] == 0) {
		*why = "a uid without a gid, or a gid without a uid: give both";
		return -1;
	}
	if (id_parse(f[2], flen[2], &uid) < 0) {
		*why = "the uid is not a number from 0 to 4294967294";
		return -1;
	}
	if (id_parse(f[3], flen[3], &gid) < 0) {
		*why = "the gid is not a number from 0 to 4294967294";
		return -1;
	}
	u->has_ids = 1;
	u->uid = (uid_t)uid;
	u->gid = (gid_t)gid;
	return 1;
}

static int
name_eq(const char *a, const char *b, size_t len, int fold)
{
	size_t i;
	unsigned char x, y;

	if (strlen(a) != len)
		return 0;
	if (!fold)
		return memcmp(a, b, len) == 0;
	for (i = 0; i < len; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
	}
	return 1;
}

int
users_walk(const char *path, users_walk_fn *fn, void *ctx)
{
	char line[USERS_LINE_MAX + 1];
	struct user e;
	unsigned long lineno = 0;
	const char *why;
	size_t n;
	int c, r, st = 0, eof = 0, first = 1;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (!eof) {
		n = 0;
		lineno++;
		r = 0;
		while ((c = getc(fp)) != EOF && c != '\n') {
			if (n < sizeof(line))
				line[n] = (char)c;
			n++;	/* counted past the buffer: the line is too long */
		}
		if (c == EOF) {
			if (ferror(fp)) {
				st = -1;
				break;
			}
			eof = 1;
			if (n == 0)
				break;
		}
		/* A file edited on Windows: CRLF must not end up in a password. */
		if (n > 0 && n <= sizeof(line) && line[n - 1] == '\r')
			n--;
		if (n > USERS_LINE_MAX) {
			r = -1;
			why = "the line is longer than 1024 bytes";
			memset(&e, 0, sizeof(e));
		} else
			r = users_parse_line(line, n, &e, &why);
		if (r < 0)
			st = -2;
		if (r > 0 && first) {
			const char *rest;

			/* The dummy check of an unknown user costs what a
			 * known one's does (pass.c). */
			first = 0;
			if (users_scheme(e.pass, &rest) == S_CRYPT &&
			    strncmp(rest, "$6$", 3) == 0)
				users_dummy_sha512 = 1;
		}
		if (r != 0 && fn(ctx, lineno, r > 0 ? &e : NULL, r < 0 ? why : NULL))
			break;
	}
	c = errno;
	explicit_bzero(&e, sizeof(e));
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	errno = c;	/* the read error, for the caller's log */
	return st;
}

/* users_scan's state: the name looked for, what was found, the first
 * malformed line. */
struct scan {
	const char	*name;
	size_t		 len;
	int		 fold;
	int		 found;		/* 0 no, 1 without case, 2 exactly */
	struct user	*u;
	unsigned long	 badline;
	const char	*why;
};

static int
scan_line(void *ctx, unsigned long lineno, const struct user *e,
    const char *why)
{
	struct scan *sc = ctx;

	if (e == NULL) {
		/* A broken line anywhere is an error however early the name
		 * was found, so a typo never half-works. */
		sc->badline = lineno;
		sc->why = why;
		return 1;
	}
	/* An entry whose name matches exactly wins over one that matches
	 * only without case, wherever each stands: with "AudCase" and
	 * "audcase" both in the file, mail to audcase@ is audcase's. */
	if (sc->found < 2 && sc->name != NULL &&
	    name_eq(e->name, sc->name, sc->len, 0)) {
		*sc->u = *e;
		sc->found = 2;
	} else if (!sc->found && sc->name != NULL && sc->fold &&
	    name_eq(e->name, sc->name, sc->len, 1)) {
		*sc->u = *e;
		sc->found = 1;
	}
	return 0;
}

/* Read users file PATH through to its end, looking for NAME (NULL: only
 * check the file).  Returns 1 found, 0 not found, -1 unreadable, -2
 * malformed (both logged). */
static int
users_scan(const char *path, const char *name, size_t len, int fold,
    struct user *u)
{
	char q[LOG_QUOTE_SIZE];
	struct scan sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.name = name;
	sc.len = len;
	sc.fold = fold;
	sc.u = u;
	r = users_walk(path, scan_line, &sc);
	log_quote(q, sizeof(q), path, strlen(path));
	if (r == -1) {
		log_warn("users file=%s unreadable", q);
		return -1;
	}
	if (sc.badline > 0) {
		log_warnx("users file=%s line=%lu malformed: %s", q, sc.badline,
		    sc.why);
		if (sc.found)
			explicit_bzero(u, sizeof(*u));
		return -2;
	}
	return sc.found > 0;
}

/* System accounts: the passwd entry, and the hash from shadow when we can read it. */
static int
users_system(const char *name, size_t len, int fold, struct user *u)
{
	char nm[USER_MAX + 1];
	struct passwd *pw;
	struct spwd *sp;
	const char *pass;
	size_t i;

	if (len == 0 || len > USER_MAX || memchr(name, '\0', len) != NULL)
		return 0;
	memcpy(nm, name, len);
	nm[len] = '\0';
	pw = acct_getpwnam(nm);
	if (pw == NULL && fold) {
		/* System names are lower case by convention; SMTP local parts
		 * arrive in any case. */
		for (i = 0; i < len; i++)
			if (nm[i] >= 'A' && nm[i] <= 'Z')
				nm[i] += 32;
		pw = acct_getpwnam(nm);
	}
	if (pw == NULL || strlen(pw->pw_name) > USER_MAX)
		return 0;
	memset(u, 0, sizeof(*u));
	strcpy(u->name, pw->pw_name);
	u->has_ids = 1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	sp = acct_getspnam(pw->pw_name);
	pass = sp != NULL ? sp->sp_pwdp : pw->pw_passwd;
	if (pass == NULL || strlen(pass) >= sizeof(u->pass)) {
		/* "*" is no crypt(3) hash: the account can never log in. */
		strcpy(u->pass, "*");
		return 1;
	}
	strcpy(u->pass, pass);
	return 1;
}

int
users_lookup(const char *path, const char *name, size_t len, int fold,
    struct user *u)
{
	int rc;

	if (path == NULL)
		return users_system(name, len, fold, u);
	rc = users_scan(path, name, len, fold, u);
	return rc < 0 ? -1 : rc;
}

int
users_check_file(const char *path)
{
	int rc;

	rc = users_scan(path, NULL, 0, 0, NULL);
	return rc < 0 ? rc : 0;
}
