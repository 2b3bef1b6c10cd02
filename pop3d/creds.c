/* creds.c: the credential checks of a login: users file or system accounts
 * (shadow), crypt(3), {PLAIN}, APOP.  Runs in the login checker (root
 * under inetd); never in the session process, which holds no password
 * hash. */
#include <string.h>
#include "log.h"
#include "pass.h"
#include "pop3d.h"

int
pop3_check_login(const struct pop3_conf *c, enum pm_method method,
    const char *name, const char *secret, const char *stamp, struct user *u,
    const char **reason)
{
	int found = 0, ok;

	memset(u, 0, sizeof(*u));
	if (store_name_ok(name, strlen(name)))
		found = users_lookup(c->o->users, name, strlen(name), 0, u);
	if (found == -1)
		return -1;	/* logged by users_lookup: our fault */
	/* System accounts (root, daemon, www-data ...) cannot log in (-F,
	 * Dovecot's first_valid_uid), nor those above -M (nobody; Dovecot's
	 * last_valid_uid), which a users-file entry is not held to: checked
	 * like an unknown user, with the same work and the same answer. */
	if (found && u->has_ids && c->o->user == NULL &&
	    (u->uid < c->o->firstuid ||
	    (c->o->users == NULL && u->uid > c->o->lastuid)))
		found = -2;
	if (method != PM_APOP) {
		if (found == 1)
			ok = pass_check(u->pass, secret);
		else {
			/* The same work whether the user exists or not. */
			pass_dummy_check(secret);
			ok = 0;
		}
	} else
		ok = found == 1 && pop3_apop_check(stamp, u->pass, secret);
	pass_wipe(u->pass, sizeof(u->pass));
	if (!ok) {
		*reason = found == 1 ? "bad-password" : found == -2 ?
		    "system-account" : "unknown-user";
		return 0;
	}
	return 1;
}

/* RFC 1939 7: DIGEST is MD5(timestamp password) in lower-case hex.  Only
 * plain passwords ({PLAIN}, {CLEAR}, {CLEARTEXT}, as pass_check reads
 * them) can be checked this way; others fail like a bad digest.
 * The two parts are fed to MD5 one after the other: a joining buffer that
 * could be too small once let an overflow hash the empty string instead.
 * Anything unexpected (no timestamp, empty password, a digest of the wrong
 * length) fails closed, before any hashing. */
int
pop3_apop_check(const char *stamp, const char *stored, const char *digest)
{
	static const char hex[] = "0123456789abcdef";
	const char *pw;
	struct pop3_md5 m;
	unsigned char d[16];
	unsigned diff = 0;
	size_t i;

	if (stamp == NULL || stored == NULL || digest == NULL)
		return 0;
	pw = pass_plain(stored);
	if (pw == NULL || pw[0] == '\0' || stamp[0] == '\0' ||
	    strlen(digest) != 32)
		return 0;
	pop3_md5_init(&m);
	pop3_md5_update(&m, stamp, strlen(stamp));
	pop3_md5_update(&m, pw, strlen(pw));
	pop3_md5_final(&m, d);
	for (i = 0; i < 32; i++) {
		char c = digest[i];
		unsigned v = d[i / 2];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		diff |= (unsigned)(hex[i % 2 == 0 ? v >> 4 : v & 15] ^ c);
	}
	pass_wipe(d, sizeof(d));
	return diff == 0;
}
