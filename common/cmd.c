/* cmd.c: the command-line split and the table lookup both servers share
 * (cmd.h).  Runs in the session, unprivileged. */
#include <string.h>
#include <strings.h>

#include "cmd.h"

void
cmd_split(char *line, size_t len, size_t *vlen, char **arg, size_t *arglen)
{
	const char *sp = memchr(line, ' ', len);
	size_t a;

	*vlen = sp != NULL ? (size_t)(sp - line) : len;
	a = sp != NULL ? *vlen + 1 : len;
	line[len] = '\0';
	*arg = line + a;
	*arglen = len - a;
}

const void *
cmd_find(const void *table, size_t n, size_t size, const char *verb,
    size_t vlen)
{
	const char *e = table, *v;
	size_t i;

	for (i = 0; i < n; i++, e += size) {
		/* Every entry begins with its verb (cmd.h). */
		memcpy(&v, e, sizeof(v));
		if (strlen(v) == vlen && strncasecmp(v, verb, vlen) == 0)
			return e;
	}
	return NULL;
}
