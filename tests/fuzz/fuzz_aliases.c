/* fuzz_aliases.c: libFuzzer harness for smtpd's aliases file (-a): each
 * input is a whole file, loaded with smtp_aliases_load as main() does,
 * then looked up.  The lookup functions also run on the raw input, loaded
 * or not, since they must never read outside the buffer.
 * Oracles besides ASan/UBSan:
 *  - a file with a NUL byte is refused; a loaded one is the input, byte
 *    for byte;
 *  - in a loaded file every name that has a line is found, and every target
 *    is a name smtpd could deliver to (smtp_rcpt_name_ok);
 *  - smtp_aliases_next always ends, consuming input at each step. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"
#include "fuzz.h"

static char path[PATH_MAX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init("aliases-fuzz");
	snprintf(path, sizeof(path), "%s/aliases", fuzz_scratch("aliases"));
	return 0;
}

/* Walk target list T, checking each name when CHECK is set. */
static void
walk(const char *t, size_t tlen, int check)
{
	const char *name;
	size_t nlen, steps = 0, before, total = tlen;

	for (;;) {
		before = tlen;
		if (!smtp_aliases_next(&t, &tlen, &name, &nlen))
			break;
		if (tlen >= before || nlen == 0)
			fuzz_fail("smtp_aliases_next made no progress");
		if (check && !smtp_rcpt_name_ok(name, nlen))
			fuzz_fail("alias target %.*s not deliverable", (int)nlen,
			    name);
		if (++steps > total)
			fuzz_fail("smtp_aliases_next does not end");
	}
}

/* The name of the line at L (LEN bytes) as the file format reads it, or
 * 0 for a blank or comment line. */
static size_t
line_name(const char *l, size_t len, const char **name)
{
	size_t i = 0, j;

	while (i < len && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r'))
		i++;
	if (i == len || l[i] == '#')
		return 0;
	for (j = i; j < len && l[j] != ':' && l[j] != ',' && l[j] != ' ' &&
	    l[j] != '\t' && l[j] != '\r'; j++)
		;
	*name = l + i;
	return j - i;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *t, *lf, *name;
	char *buf = NULL;
	size_t len = 0, tlen, pos, ll, nl;
	int r;

	/* Lookups on whatever the input is. */
	walk(p, size, 0);
	nl = line_name(p, size, &name);
	if (nl > 0 && smtp_aliases_find(p, size, name, nl, &t, &tlen))
		walk(t, tlen, 0);
	(void)smtp_aliases_find(p, size, "postmaster", 10, &t, &tlen);

	fuzz_put(path, data, size, 0600);
	r = smtp_aliases_load(path, &buf, &len);
	if (r == -1)
		fuzz_fail("aliases file unreadable");
	if (r == 0 && memchr(data, '\0', size) != NULL)
		fuzz_fail("aliases file with a NUL byte loaded");
	if (r != 0)
		return 0;
	if (len != size || memcmp(buf, data, size) != 0)
		fuzz_fail("loaded aliases differ from the file");
	for (pos = 0; pos < len; pos += ll + 1) {
		lf = memchr(buf + pos, '\n', len - pos);
		ll = lf != NULL ? (size_t)(lf - (buf + pos)) : len - pos;
		if ((nl = line_name(buf + pos, ll, &name)) == 0)
			continue;
		if (!smtp_aliases_find(buf, len, name, nl, &t, &tlen))
			fuzz_fail("alias %.*s not found", (int)nl, name);
		walk(t, tlen, 1);
	}
	free(buf);
	return 0;
}
