/* pass.c: password checks with crypt(3) or in constant time ({PLAIN}).
 * Runs in pop3d's login checker, as root under inetd. */
/* explicit_bzero() is not POSIX: ask glibc for it. */
#define _DEFAULT_SOURCE
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pass.h"
#include "users_int.h"

/* Hashes of a fixed password, for pass_dummy_check.  Yescrypt is Debian's
 * default for system accounts; a users file of $6$ hashes switches to the
 * $6$ one (users_dummy_sha512, set by users.c), so an unknown name costs what a known one does. */
static const char dummy_y[] =
    "$y$j9T$s8wN39JTLTnB3L.3fQDwA1$MpY08UKsOHb82Y.CnoLrNOACBlt5Ee6F3qoB.Oywrn0";
static const char dummy_6[] =
    "$6$Qw3uIJtFQC.sTMJS$qdBdO1SMMN7EQhQQwBXwOSFMR7EX2nNnN5IbAyw.DHawATqw0G"
    "ioynGZvs0GySUbZxoIv1g29ofh.Blo/c/HY0";

/* Compare without an early exit, so the time taken does not tell how many
 * leading bytes of a {PLAIN} password were right.  The loop runs over GIVEN,
 * which the client already knows. */
static int
ct_equal(const char *stored, const char *given)
{
	size_t ls = strlen(stored), lg = strlen(given), i;
	unsigned diff = (unsigned)(ls != lg);

	for (i = 0; i < lg; i++)
		diff |= (unsigned char)given[i] ^
		    (unsigned char)(i < ls ? stored[i] : 0);
	return diff == 0;
}

/* 1 when GIVEN hashes to HASH under crypt(3). */
static int
crypt_match(const char *hash, const char *given)
{
	struct crypt_data *cd;
	const char *r;
	int ok;

	/* crypt_rn rather than crypt: no static buffer, and NULL (not a "*0"
	 * string that might be compared) on a hash it cannot handle. */
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		log_warn("users crypt");
		return 0;
	}
	r = crypt_rn(given, hash, cd, (int)sizeof(*cd));
	ok = r != NULL && r[0] != '*' && ct_equal(hash, r);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

const char *
pass_plain(const char *stored)
{
	const char *rest;

	if (stored == NULL || users_scheme(stored, &rest) != S_PLAIN)
		return NULL;
	return rest;
}

int
pass_check(const char *stored, const char *given)
{
	static int warned;
	char q[LOG_QUOTE_SIZE];
	const char *rest, *end;

	if (stored == NULL || given == NULL) {
		pass_dummy_check("");
		return 0;
	}
	switch (users_scheme(stored, &rest)) {
	case S_PLAIN:
		/* No dummy crypt here: it cost 16 ms and 18 MiB (yescrypt) on
		 * every login.  Failures are padded to a fixed delay by the
		 * caller (pop3d), which hides this from a guesser. */
		return rest[0] != '\0' && ct_equal(rest, given);
	case S_CRYPT:
		if (rest[0] == '\0') {
			/* An empty hash is "no password" to some tools; never to us. */
			pass_dummy_check(given);
			return 0;
		}
		return crypt_match(rest, given);
	case S_UNKNOWN:
	default:
		if (!warned) {
			warned = 1;
			/* Only the "{NAME}" prefix: the rest may be a password. */
			end = strchr(stored, '}');
			log_warnx("users unknown password scheme=%s, entry never "
			    "matches", log_quote(q, sizeof(q), stored,
			    end != NULL && end - stored < 32 ?
			    (size_t)(end - stored + 1) : 1));
		}
		pass_dummy_check(given);
		return 0;
	}
}

void
pass_dummy_check(const char *given)
{
	(void)crypt_match(users_dummy_sha512 ? dummy_6 : dummy_y,
	    given != NULL ? given : "");
}

void
pass_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}
