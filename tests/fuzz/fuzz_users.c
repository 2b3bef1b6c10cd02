/* fuzz_users.c: libFuzzer harness for the users file (-p): each input is a
 * whole file.  Every line goes through users_parse_line directly, then the
 * file through users_check_file and users_lookup as the servers read it.
 * Oracles besides ASan/UBSan:
 *  - an entry has a valid name (1..USER_MAX bytes, no space, control byte
 *    or '/') and a non-empty password, both NUL-terminated;
 *  - users_check_file accepts the file exactly when every line (less a
 *    final CR) parses;
 *  - in an accepted file the first entry is found by its own name, with
 *    its password, and a {PLAIN} password checks against its own text. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pass.h"
#include "users.h"
#include "fuzz.h"

static char path[PATH_MAX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init("users-fuzz");
	snprintf(path, sizeof(path), "%s/users", fuzz_scratch("users"));
	return 0;
}

static void
check_entry(const struct user *u)
{
	size_t n = strnlen(u->name, sizeof(u->name)), i;

	if (n == 0 || n > USER_MAX || strnlen(u->pass, sizeof(u->pass)) == 0 ||
	    strnlen(u->pass, sizeof(u->pass)) == sizeof(u->pass))
		fuzz_fail("entry with a bad name or password length");
	for (i = 0; i < n; i++)
		if ((unsigned char)u->name[i] <= ' ' || u->name[i] == 0x7f ||
		    u->name[i] == '/')
			fuzz_fail("entry name with byte 0x%02x",
			    (unsigned char)u->name[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *lf;
	struct user u, first, found;
	const char *why;
	size_t pos = 0, len;
	int r, ok = 1, have = 0;

	while (pos < size) {
		lf = memchr(p + pos, '\n', size - pos);
		len = lf != NULL ? (size_t)(lf - (p + pos)) : size - pos;
		/* users_scan drops the CR of a CRLF line end. */
		r = users_parse_line(p + pos, len > 0 && p[pos + len - 1] == '\r' ?
		    len - 1 : len, &u, &why);
		if (r < 0 && why == NULL)
			fuzz_fail("a malformed line without a reason");
		if (r < 0)
			ok = 0;
		if (r > 0) {
			check_entry(&u);
			if (!have && ok) {
				first = u;
				have = 1;
			}
		}
		pos += len + 1;
	}

	fuzz_put(path, data, size, 0600);
	r = users_check_file(path);
	if ((r == 0) != ok)
		fuzz_fail("users_check_file says %d, the lines say %s", r,
		    ok ? "ok" : "malformed");
	if (!ok || !have)
		return 0;
	memset(&found, 0, sizeof(found));
	if (users_lookup(path, first.name, strlen(first.name), 0, &found) != 1 ||
	    strcmp(found.name, first.name) != 0 ||
	    strcmp(found.pass, first.pass) != 0 ||
	    found.has_ids != first.has_ids ||
	    (found.has_ids && (found.uid != first.uid || found.gid != first.gid)))
		fuzz_fail("first entry %s not found as it is", first.name);
	if (users_lookup(path, first.name, strlen(first.name), 1, &found) != 1)
		fuzz_fail("first entry %s not found ignoring case", first.name);
	if (strncasecmp(first.pass, "{PLAIN}", 7) == 0 && first.pass[7] != '\0' &&
	    pass_check(first.pass, first.pass + 7) != 1)
		fuzz_fail("{PLAIN} password does not match itself");
	(void)pass_check(first.pass, "not the password");
	return 0;
}
