/* pop3seam.h: the catalogue of the seam between pop3d's session (it runs the
 * AUTHORIZATION dialogue, unprivileged) and its login checker (privileged:
 * it checks credentials and, at the first good login, becomes the mailbox
 * owner and takes the connection).  Every message is declared here once,
 * with its fields and their bounds, and packed and unpacked side by side in
 * pop3seam.c; the frames travel on chan.h, after the shared start of a session
 * (common/seam.h).  The checker ends the session on any message that is
 * malformed or out of order.
 *
 * Session -> checker:
 *   PM_LOGIN     u32 method (PM_PASS, PM_PLAIN, PM_APOP), str name, str
 *                secret (the password, or the APOP digest), each at most
 *                POP3_AUTH_LINE_MAX bytes; answered by PM_LOGIN_REP
 *   PM_FAILED    a login the session refused before any check (bad
 *                base64, a malformed SASL message): u32 method, str name
 *                (at most POP3_AUTH_LINE_MAX bytes, may be ""), str reason
 *                (at most 31 bytes, for the log); answered by PM_LOGIN_REP,
 *                so that every failure costs the same delay and counts
 *   PM_HANDOVER  after a PM_LOGIN_REP of PM_OK, and nothing else then:
 *                data input the session read but did not use (pipelined
 *                commands, at most IO_RBUF bytes), u32 tls (1: the
 *                connection is encrypted: STLS or -S; believed only when a
 *                TLS wrapper was there at start-up), with the connection as
 *                two descriptors (read end, write end) and, while TLS has
 *                not started, the TLS wrapper's control pipes (one or two
 *                more: they must stay open while the client is served)
 * Checker -> session:
 *   PM_LOGIN_REP u32 result (enum pm_result), str text: "" for PM_OK and
 *                the failures, the checker's own words for PM_TEMP and
 *                PM_PERM (at most 63 bytes)
 */
#ifndef POP3D_SEAM_H
#define POP3D_SEAM_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"

enum pop3_msg {
	PM_LOGIN = 1,
	PM_FAILED,
	PM_HANDOVER,
	PM_LOGIN_REP = 101
};

enum pm_method {
	PM_PASS,
	PM_PLAIN,
	PM_APOP
};

/* The one answer to a login.  Every failure is PM_AUTH, whatever its
 * reason (the reason is the checker's, for its log); the last one the
 * checker allows is PM_AUTH_LAST, after which it serves no more logins. */
enum pm_result {
	PM_OK,
	PM_AUTH,
	PM_AUTH_LAST,
	PM_TEMP,	/* worth retrying: the users database, the maildrop */
	PM_PERM		/* no usable identity for this account */
};

#define PM_REASON_SIZE	32
#define PM_TEXT_SIZE	64
/* Room for the largest message this seam carries, the LOGIN. */
#define PM_MSG_MAX	(4 + 2 * (2 + POP3_AUTH_LINE_MAX))

struct pm_login {
	enum pm_method	 method;
	char		 name[POP3_AUTH_LINE_MAX + 1];
	char		 secret[POP3_AUTH_LINE_MAX + 1];
};

struct pm_failed {
	enum pm_method	 method;
	char		 name[POP3_AUTH_LINE_MAX + 1];
	char		 reason[PM_REASON_SIZE];
};

struct pm_reply {
	enum pm_result	 result;
	char		 text[PM_TEXT_SIZE];
};

/* Pack into BUF (CAP bytes): the payload's length, 0 when a field is out
 * of its bounds.  Unpack P (LEN bytes): 0, or -1 when it is not exactly
 * this message with every field within its bounds. */
size_t pm_put_login(void *buf, size_t cap, const struct pm_login *l);
int pm_get_login(const void *p, size_t len, struct pm_login *l);
size_t pm_put_failed(void *buf, size_t cap, const struct pm_failed *f);
int pm_get_failed(const void *p, size_t len, struct pm_failed *f);
size_t pm_put_reply(void *buf, size_t cap, const struct pm_reply *r);
int pm_get_reply(const void *p, size_t len, struct pm_reply *r);
/* PM_HANDOVER's data; its descriptors travel beside it (chan.h).  The
 * unpacked *DATA points into P. */
size_t pm_put_handover(void *buf, size_t cap, const void *data, size_t len,
    int tls);
int pm_get_handover(const void *p, size_t len, const unsigned char **data,
    size_t *dlen, int *tls);

/* The method's name for the log ("pass", "plain", "apop"). */
const char *pm_method_name(enum pm_method m);

#endif
