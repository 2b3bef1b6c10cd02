/* aliases.c: the -a file, "name: user[, user...]" lines and '#' comments,
 * read once at start-up and checked whole; lookups scan it in memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int
is_name_char(char c)
{
	return c != ',' && c != ':' && !is_space(c);
}

/* Parse line L (LEN bytes, no LF).  Returns 1 with the name and the target
 * list set, 0 for a blank or comment line, -1 when malformed. */
static int
parse_line(const char *l, size_t len, const char **name, size_t *nlen,
    const char **t, size_t *tlen)
{
	const char *tp, *tn;
	size_t i = 0, j, tnl, left;
	int n = 0;

	while (i < len && is_space(l[i]))
		i++;
	if (i == len || l[i] == '#')
		return 0;
	for (j = i; j < len && is_name_char(l[j]); j++)
		;
	*name = l + i;
	*nlen = j - i;
	while (j < len && is_space(l[j]))
		j++;
	if (j == len || l[j] != ':' || !smtp_rcpt_name_ok(*name, *nlen))
		return -1;
	*t = l + j + 1;
	*tlen = len - j - 1;
	/* Every target must be a name we could deliver to. */
	for (i = 0; i < *tlen; i++)
		if ((*t)[i] == ':')
			return -1;
	tp = *t;
	left = *tlen;
	while (smtp_aliases_next(&tp, &left, &tn, &tnl)) {
		if (!smtp_rcpt_name_ok(tn, tnl))
			return -1;
		n++;
	}
	return n > 0 ? 1 : -1;
}

int
smtp_aliases_next(const char **t, size_t *tlen, const char **name,
    size_t *nlen)
{
	const char *p = *t, *end = *t + *tlen;
	const char *s;

	while (p < end && (is_space(*p) || *p == ','))
		p++;
	if (p == end) {
		*t = p;
		*tlen = 0;
		return 0;
	}
	for (s = p; p < end && is_name_char(*p); p++)
		;
	*name = s;
	*nlen = (size_t)(p - s);
	*t = p;
	*tlen = (size_t)(end - p);
	/* A stray ':' (not a name character) would stop us forever. */
	if (*nlen == 0) {
		*t = end;
		*tlen = 0;
		return 0;
	}
	return 1;
}

/* Call the line parser on each line of BUF; stop at the first entry whose
 * name matches NAME (when not NULL) or at the first malformed line. */
static int
scan(const char *buf, size_t len, const char *name, size_t nlen,
    const char **t, size_t *tlen, size_t *lineno)
{
	const char *l, *lf, *n;
	size_t ll, nl, pos = 0;
	int rc;

	*lineno = 0;
	while (pos < len) {
		l = buf + pos;
		lf = memchr(l, '\n', len - pos);
		ll = lf != NULL ? (size_t)(lf - l) : len - pos;
		pos += ll + (lf != NULL);
		++*lineno;
		if (ll >= USERS_LINE_MAX)
			return -1;
		rc = parse_line(l, ll, &n, &nl, t, tlen);
		if (rc < 0)
			return -1;
		if (rc > 0 && name != NULL && nl == nlen &&
		    strncasecmp(n, name, nlen) == 0)
			return 1;
	}
	return 0;
}

int
smtp_aliases_find(const char *buf, size_t len, const char *name, size_t nlen,
    const char **t, size_t *tlen)
{
	size_t lineno;

	return scan(buf, len, name, nlen, t, tlen, &lineno) == 1;
}

int
smtp_aliases_load(const char *path, char **bufp, size_t *lenp)
{
	struct stat st;
	const char *t;
	char *buf = NULL;
	size_t len = 0, tlen, lineno;
	ssize_t n = 0;
	int fd, e;

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
		log_warnx("aliases file too big or not a file");
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
		log_warnx("aliases file changed while read or has NUL bytes");
		return -2;
	}
	if (scan(buf, len, NULL, 0, &t, &tlen, &lineno) < 0) {
		free(buf);
		log_warnx("aliases file malformed line=%zu", lineno);
		return -2;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}
