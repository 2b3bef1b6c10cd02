/* auth.c: the AUTHORIZATION state: USER/PASS, AUTH PLAIN (RFC 5034, 4616),
 * APOP (RFC 1939 7).  Runs as root (users file, shadow), before the drop. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "log.h"
#include "pop3.h"

/* Passwords do not outlive their check in our buffers (core dumps, swap). */
static void
wipe(void *p, size_t len)
{
	volatile unsigned char *v = p;

	while (len-- > 0)
		*v++ = 0;
}

/* A failed login: one log line, the fixed delay counted from START, the same
 * reply for every reason (RFC 3206 [AUTH]), and the end after three. */
static enum pop3_res
failed(struct pop3 *s, const struct timespec *start, const char *name,
    const char *method, const char *reason)
{
	char q[LOG_QUOTE_SIZE];
	struct timespec until = *start;

	s->fails++;
	log_info("login failed user=%s method=%s reason=%s fails=%d",
	    log_quote(q, sizeof(q), name, strlen(name)), method, reason,
	    s->fails);
	/* Sleeping to a deadline rather than for a period hides how long the
	 * check took: crypt(3) of a real hash against the dummy one. */
	until.tv_sec += s->conf->fail_delay_ms / 1000;
	until.tv_nsec += (long)(s->conf->fail_delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)
	    == EINTR)
		;
	if (s->fails >= POP3_FAILS_MAX) {
		s->close = 1;
		s->end = "auth-failures";
	}
	pop3_set_state(s, ST_AUTH);
	return PR_ERR_AUTH;
}

/* Check NAME's password (PASS != NULL) or APOP DIGEST, then open the
 * maildrop. */
static enum pop3_res
login(struct pop3 *s, const char *name, const char *pass, const char *digest,
    const char *method)
{
	const struct opts *o = s->conf->o;
	struct timespec start;
	struct user u;
	enum pop3_res r;
	int found = 0, ok = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	memset(&u, 0, sizeof(u));
	if (store_name_ok(name, strlen(name)))
		found = users_lookup(o->users, name, strlen(name), 0, &u);
	if (found == -1) {
		/* Logged by users_lookup; a broken users file is our fault. */
		s->why = "user database unavailable";
		s->close = 1;
		s->end = "login-error";
		return PR_ERR_TEMP;
	}
	if (pass != NULL) {
		if (found)
			ok = users_check_pass(u.pass, pass);
		else
			users_dummy_check(pass);
	} else {
		ok = found && pop3_apop_check(s->stamp, u.pass, digest);
	}
	if (!ok) {
		wipe(&u, sizeof(u));
		return failed(s, &start, name, method,
		    found ? "bad-password" : "unknown-user");
	}
	wipe(u.pass, sizeof(u.pass));
	snprintf(s->user, sizeof(s->user), "%s", name);
	log_quote(s->quser, sizeof(s->quser), name, strlen(name));
	if ((r = pop3_drop_open(s, &u)) != PR_OK) {
		/* Privileges may be gone: no second login in this session. */
		s->close = 1;
		s->end = "login-error";
		return r;
	}
	log_info("login user=%s method=%s messages=%zu size=%llu",
	    s->quser, method, s->ix.n,
	    (unsigned long long)s->ix.total);
	pop3_set_state(s, ST_TRANS);
	pop3_reply_text(s, "maildrop has %zu messages (%llu octets)", s->ix.n,
	    (unsigned long long)s->ix.total);
	return PR_OK;
}

enum pop3_res
pop3_cmd_user(struct pop3 *s, char *args)
{
	/* RFC 1939 7: +OK for any well-formed name, known or not. */
	if (!store_name_ok(args, strlen(args)))
		return PR_ERR_NAME;
	snprintf(s->user, sizeof(s->user), "%s", args);
	pop3_set_state(s, ST_USER);
	return PR_OK_USER;
}

enum pop3_res
pop3_cmd_pass(struct pop3 *s, char *args)
{
	char name[USER_MAX + 1];
	enum pop3_res r;

	/* RFC 1939 7: the whole rest of the line is the password, spaces and
	 * all. */
	snprintf(name, sizeof(name), "%s", s->user);
	r = login(s, name, args, NULL, "pass");
	wipe(args, strlen(args));
	return r;
}

/* RFC 4616 2: [authzid] NUL authcid NUL passwd.  Acting for someone else is
 * not supported, so an authzid must be empty or the authcid itself.  The
 * authcid is found first, so that even a refused message names its user in
 * the log. */
int
pop3_sasl_plain(char *msg, size_t len, char **user, char **pass)
{
	char *nul1, *nul2;

	*user = NULL;
	*pass = NULL;
	msg[len] = '\0';
	if ((nul1 = memchr(msg, '\0', len)) == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg));
	if (nul2 == NULL)
		return -1;
	*user = nul1 + 1;
	if (memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - msg)) != NULL)
		return -1;
	if (**user == '\0')
		return -1;
	*pass = nul2 + 1;
	if (nul1 != msg && strcmp(msg, *user) != 0)
		return -2;
	return 0;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
pop3_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t i, o = 0;
	int v[4], k, pad;

	/* RFC 4648 4, strictly: whole quanta, padding only at the end. */
	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				pad++;
				v[k] = 0;
				continue;
			}
			if (pad > 0 || (v[k] = b64_val((unsigned char)in[i + k])) < 0)
				return -1;
		}
		if (o + 3 - (size_t)pad > cap)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}

enum pop3_res
pop3_cmd_auth(struct pop3 *s, char *args)
{
	char line[POP3_AUTH_LINE_MAX + 1];
	unsigned char msg[POP3_AUTH_LINE_MAX];
	char *argv[2], *resp, *user, *pass;
	struct timespec start;
	size_t len;
	long n;
	int argc, k;
	enum pop3_res r;

	if ((argc = pop3_split(args, argv, 2)) == -1)
		return PR_ERR_SYNTAX;
	if (argc == 0) {
		/* The pre-RFC 5034 "AUTH" listing that some clients still send. */
		pop3_reply_ok(s, "SASL mechanisms follow");
		io_printf(s->io, "PLAIN\r\n.\r\n");
		return PR_DONE;
	}
	if (strcasecmp(argv[0], "PLAIN") != 0)
		return PR_ERR_MECH;
	if (argc == 2) {
		resp = argv[1];
	} else {
		/* RFC 5034 4: an empty challenge, then one line of response. */
		io_printf(s->io, "+ \r\n");
		switch (pop3_getline(s, line, POP3_AUTH_LINE_MAX, &len)) {
		case IO_OK:
			break;
		case IO_PART:
		case IO_TOOLONG:
			return PR_ERR_TOOLONG;
		case IO_TIMEOUT:
			/* As between commands: said, logged, no login. */
			s->close = 1;
			s->end = "timeout";
			return PR_ERR_TIMEOUT;
		case IO_EOF:
			s->close = 1;
			s->end = "eof";
			return PR_DONE;
		case IO_ERROR:
		default:
			s->close = 1;
			s->end = "error";
			return PR_DONE;
		}
		if (s->io->nul)
			return PR_ERR_NUL;
		line[len] = '\0';
		resp = line;
	}
	if (strcmp(resp, "*") == 0)
		return PR_ERR_CANCEL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	/* RFC 5034 4: "=" is an empty initial response. */
	n = strcmp(resp, "=") == 0 ? 0 :
	    pop3_b64_decode(resp, strlen(resp), msg, sizeof(msg) - 1);
	wipe(resp, strlen(resp));
	if (n < 0) {
		r = failed(s, &start, "", "plain", "bad-base64");
		return r == PR_ERR_AUTH ? PR_ERR_B64 : r;
	}
	if ((k = pop3_sasl_plain((char *)msg, (size_t)n, &user, &pass)) != 0) {
		r = failed(s, &start, user != NULL ? user : "", "plain",
		    k == -2 ? "authzid" : "malformed");
		wipe(msg, sizeof(msg));
		return r;
	}
	r = login(s, user, pass, NULL, "plain");
	wipe(msg, sizeof(msg));
	return r;
}

enum pop3_res
pop3_cmd_apop(struct pop3 *s, char *args)
{
	char *argv[2];

	if (s->stamp[0] == '\0')
		return PR_ERR_APOP;
	if (pop3_split(args, argv, 2) != 2)
		return PR_ERR_SYNTAX;
	return login(s, argv[0], NULL, argv[1], "apop");
}

/* RFC 1939 7: DIGEST is MD5(timestamp password) in lower-case hex.  Only
 * plain passwords ({PLAIN}, {CLEAR}, {CLEARTEXT}, as users_check_pass reads
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
	pw = users_plain_password(stored);
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
	wipe(d, sizeof(d));
	return diff == 0;
}
