/* pop3d.h: pop3d's configuration, its session state, and the functions its
 * files share; its limits are in params.h.
 *
 * Two processes: the session (session.c, cmd.c, auth.c, reply.c) runs the
 * AUTHORIZATION dialogue as the unprivileged session account; the login
 * checker (checker.c, creds.c, owner.c) never sees the connection until a
 * login: it checks the credentials the session sends (pop3seam.h), enforces
 * the failure delay and limit, switches to the mailbox owner, and only then
 * takes the connection from the session and runs the TRANSACTION (state.c,
 * maildrop.c, trans.c, and the command loop of session.c) as that owner. */
#ifndef POP3D_H
#define POP3D_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cmd.h"
#include "io.h"
#include "params.h"
#include "log.h"
#include "mbox.h"
#include "opts.h"
#include "priv.h"
#include "pop3seam.h"
#include "store.h"
#include "users.h"

/* The APOP timestamp "<PID.SECONDS.NANOSECONDS@HOST>": three numbers of at
 * most 20 digits, the host name (struct opts: 255 octets), the punctuation. */
#define POP3_STAMP_SIZE		(256 + 3 * 20 + 8)
/* The longest +OK text: the greeting "HOST POP3 ready STAMP", which holds the
 * host name twice.  Sized for the worst case, so nothing is ever cut. */
#define POP3_REPLY_TEXT_MAX	(256 + sizeof(" POP3 ready ") + POP3_STAMP_SIZE)

/* Read-only configuration of both processes. */
struct pop3_conf {
	const struct opts *o;		/* host, spool, users file, -u identity */
	int		 apop;		/* offer APOP (needs a users file) */
	int		 fail_delay_ms;	/* POP3_FAIL_DELAY_MS; tests use 0 */
	/* The switch to the mailbox owner: priv_drop, or a stub in unit
	 * tests (which cannot become anyone). */
	int		(*drop)(uid_t uid, gid_t gid, gid_t extra_gid);
	/* The APOP timestamp of the greeting ("" = none), made before the
	 * split, so the checker compares a digest with its own copy, never
	 * with one the session sends. */
	char		 stamp[POP3_STAMP_SIZE];
};

/* RFC 1939 3: the states; ST_USER is AUTHORIZATION after a USER command,
 * the only state in which PASS is allowed. */
enum pop3_state {
	ST_AUTH,
	ST_USER,
	ST_TRANS,
	ST_UPDATE
};
#define ST_AUTHORIZATION	(CMD_STATE(ST_AUTH) | CMD_STATE(ST_USER))
#define ST_ANY			(ST_AUTHORIZATION | CMD_STATE(ST_TRANS))

/* What a handler (or the dispatcher) returns; reply.c turns each into its
 * reply line, so every reply text lives in one table. */
enum pop3_res {
	PR_OK,		/* "+OK " and s->text */
	PR_DONE,		/* the handler wrote the whole (multi-line) reply */
	PR_BYE,		/* "+OK " and s->text, then close the session */
	PR_OK_USER,	/* USER accepted: the fixed text asks for PASS */
	PR_OK_NOOP,
	PR_BYE_AUTH,	/* QUIT before login: nothing to commit */
	PR_ERR_UNKNOWN,	/* dispatcher: no such command */
	PR_ERR_STATE,	/* dispatcher: not valid in this state */
	PR_ERR_TOOLONG,	/* dispatcher: line over POP3_LINE_MAX */
	PR_ERR_NUL,	/* dispatcher: NUL byte in the line */
	PR_ERR_TIMEOUT,	/* session: idle timeout */
	PR_ERR_LIFETIME,	/* session: its lifetime (-E) is over */
	PR_ERR_SYNTAX,
	PR_ERR_ARG,	/* a message number that is not a number */
	PR_ERR_NOMSG,
	PR_ERR_DELETED,
	PR_ERR_NAME,	/* USER with a malformed name */
	PR_ERR_AUTH,	/* failed login: same text whatever the reason */
	PR_ERR_B64,
	PR_ERR_MECH,
	PR_ERR_CANCEL,
	PR_ERR_APOP,	/* APOP not offered */
	PR_ERR_INUSE,
	PR_ERR_TEMP,	/* store failure at login, worth retrying; s->why */
	PR_ERR_PERM,	/* permanent: no usable identity, not an mbox; s->why */
	PR_ERR_COMMIT,	/* QUIT could not commit, nothing removed; s->why */
	PR_ERR_IO,	/* reading a message failed before its reply began */
	PR_ERR_TLS_ACTIVE,	/* STLS once TLS is on */
	PR_ERR_TLS_NONE,	/* STLS with no TLS wrapper in front */
	PR_ERR_CLEARTEXT,	/* a login in cleartext while TLS is offered */
	PR_NRES
};

struct pop3 {
	const struct pop3_conf *conf;
	struct io	*io;
	enum pop3_state	 state;
	int		 close;		/* end the session after this reply */
	const char	*end;		/* why it ended, for the log: "quit",
					 * "eof", "timeout", "auth-failures" ... */
	struct priv_seam *ps;		/* to the checker; NULL after login */
	int		 handed;	/* the connection went to the checker */
	struct tls	 tls;		/* what the TLS wrapper offers, and
					 * whether TLS is on */
	char		 user[USER_MAX + 1];
	char		 quser[LOG_QUOTE_SIZE];	/* user, quoted for the log */
	char		 stamp[POP3_STAMP_SIZE];	/* APOP; "" when not offered */
	char		 text[160];	/* the +OK text of PR_OK / PR_BYE */
	const char	*why;		/* detail of an -ERR result, for the reply */
	char		 whybuf[PM_TEXT_SIZE];	/* ... when the checker said it */

	/* TRANSACTION: the snapshot taken at login. */
	int		 popfd;		/* session marker (IN-USE), -1 if none */
	struct store_box box;		/* box.fd -1 for an absent maildrop */
	struct mbox_index ix;
	unsigned char	*del;		/* del[i]: message i+1 marked deleted */
	size_t		 ndel;
	uint64_t	 delsize;
	unsigned long	 nretr;		/* RETR replies sent, for the log */
	uint64_t	 retrbytes;
	struct mbox_reader rd;
};

/* session.c */
/* Run one session on IO, with PS to the login checker, until QUIT, EOF,
 * timeout, error or the hand-over at login, from the greeting on.  Returns
 * an exit status (0, or EX_* from <sysexits.h> when output failed). */
int pop3_session(const struct pop3_conf *conf, struct io *io,
    struct priv_seam *ps);
/* Go on with a session the checker took over at login: USER is logged in
 * by METHOD, over TLS when TLS is set; open the maildrop as the owner
 * (already switched to), answer the login, and run the TRANSACTION.
 * Returns as pop3_session. */
int pop3_session_resume(const struct pop3_conf *conf, struct io *io,
    const char *user, enum pm_method method, int tls);
/* Make the APOP timestamp into BUF (POP3_STAMP_SIZE bytes) for HOST; ""
 * when it cannot be made. */
void pop3_make_stamp(char *buf, const char *host);
/* Read one command (or AUTH response) line of at most CAP bytes, as
 * io_getline without pieces: the idle timeout (-t) until its first byte,
 * then the whole line within -t of that byte.  IO_TIMEOUT for either. */
enum io_status pop3_getline(struct pop3 *s, char *buf, size_t cap,
    size_t *len);

/* state.c: the session's state: its one change function, and the release
 * of what a TRANSACTION holds. */
void pop3_set_state(struct pop3 *s, enum pop3_state st);
/* Release everything the session holds (mailbox, index, marker). */
void pop3_release(struct pop3 *s);

/* cmd.c: the command table (the shape of cmd.h) and the dispatcher. */
struct pop3_cmd {
	const char	*verb;
	unsigned	 states;	/* CMD_STATE(ST_x): allowed in ST_x */
	enum pop3_res	(*fn)(struct pop3 *s, char *arg, size_t len);
	enum pop3_res	 refuse;	/* the reply in other states */
};
/* Split LINE (LEN bytes; LINE[LEN] is written), find the command, check
 * its state, run it, reply. */
void pop3_dispatch(struct pop3 *s, char *line, size_t len);
/* Split ARGS (NUL-terminated) at spaces into at most MAX words; returns the
 * count, or -1 when there are more than MAX. */
int pop3_split(char *args, char **argv, int max);

/* reply.c */
void pop3_reply_result(struct pop3 *s, enum pop3_res r);
/* "+OK " FMT "\r\n": the one way a positive status line is written. */
void pop3_reply_ok(struct pop3 *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Format into s->text for PR_OK / PR_BYE. */
void pop3_reply_text(struct pop3 *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* auth.c: AUTHORIZATION commands, in the session: every login goes to the
 * checker (pop3seam.h), and on success the connection goes with it. */
enum pop3_res pop3_cmd_user(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_pass(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_auth(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_apop(struct pop3 *s, char *arg, size_t len);
/* RFC 2595 4: STLS, through the TLS wrapper's control pipe (tls.h). */
enum pop3_res pop3_cmd_stls(struct pop3 *s, char *arg, size_t len);
/* 1 when a login in cleartext is refused here: TLS is on offer and not
 * started, and the client is not on loopback (Dovecot's rule: cleartext
 * is for loopback and TLS).  CAPA then leaves out USER and SASL. */
int pop3_cleartext_refused(const struct pop3 *s);
/* SASL PLAIN message (RFC 4616) of LEN bytes in MSG, which has room for one
 * more byte: sets *USER and *PASS pointing into MSG (NUL-terminated in
 * place).  Returns 0; -1 when malformed; -2 when it asks to act as another
 * user (an authzid that is not the authcid).  On failure *USER is still the
 * authcid when the message has one (for the log), else NULL. */
int pop3_sasl_plain(char *msg, size_t len, char **user, char **pass);
/* Strict base64 decode of IN (LEN bytes) into OUT (CAP bytes).  Returns the
 * decoded length, or -1 on bad input or overflow. */
long pop3_b64_decode(const char *in, size_t len, unsigned char *out,
    size_t cap);

/* creds.c: the credential checks, in the checker. */
/* 1 when DIGEST is the APOP answer for timestamp STAMP and the stored
 * password STORED (only plain ones can match: pass_plain). */
int pop3_apop_check(const char *stamp, const char *stored, const char *digest);
/* Check the credentials of NAME: SECRET is the password (PM_PASS,
 * PM_PLAIN) or the APOP digest for STAMP (PM_APOP).  Returns 1 with *U
 * filled (its password wiped) when they match; 0 when not, with *REASON
 * for the log ("unknown-user", "bad-password", "system-account"); -1 when
 * the users database cannot be read (logged).  Unknown users cost a dummy
 * check. */
int pop3_check_login(const struct pop3_conf *c, enum pm_method method,
    const char *name, const char *secret, const char *stamp, struct user *u,
    const char **reason);

/* checker.c: the login checker, the privileged part of pop3d. */
/* Serve the session at the other end of PS: its logins, each failure with
 * the fixed delay and counted against POP3_FAILS_MAX; at the first good
 * one switch to the owner, take the connection, and run the TRANSACTION.
 * Returns the exit status to leave with (the session is reaped). */
int pop3_checker_serve(const struct pop3_conf *c, struct priv_seam *ps);

/* owner.c: the switch to the mailbox owner, the checker's last act with
 * privileges.  Become the owner of U's maildrop: the uid/gid the users file
 * or system account gives, else the -u user (or who we are, started
 * without root); never uid 0 or gid 0; keeping the spool's group only when
 * the owner needs it to make dotlocks.  Returns 0, or -1 with *WHY set
 * (logged for QUSER, the user quoted for the log). */
int pop3_owner_switch(const struct pop3_conf *c, const struct user *u,
    const char *quser, const char **why);

/* maildrop.c: the maildrop, as its owner. */
/* Open the maildrop of s->user: the IN-USE marker, the snapshot scan.
 * Returns PR_OK, or a PR_ERR_* result (logged) after which the session
 * must end. */
enum pop3_res pop3_drop_open(struct pop3 *s);
/* QUIT in TRANSACTION: commit deletions.  PR_BYE, or PR_ERR_COMMIT with
 * s->end "update-failed" (the store logged the cause; the logout line
 * tells the rest). */
enum pop3_res pop3_drop_commit(struct pop3 *s);

/* trans.c: TRANSACTION commands, and the ones valid everywhere. */
enum pop3_res pop3_cmd_stat(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_list(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_uidl(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_retr(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_top(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_dele(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_noop(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_rset(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_quit(struct pop3 *s, char *arg, size_t len);
enum pop3_res pop3_cmd_capa(struct pop3 *s, char *arg, size_t len);

/* md5.c: RFC 1321, for APOP only.  Incremental, so that APOP hashes the
 * timestamp and the password without joining them in a buffer that could be
 * too small; pop3_md5_final wipes the state.  pop3_md5 is the one-shot form. */
struct pop3_md5 {
	uint32_t	 h[4];
	uint64_t	 len;		/* bytes fed so far */
	unsigned char	 buf[64];	/* the unfinished block */
};
void pop3_md5_init(struct pop3_md5 *m);
void pop3_md5_update(struct pop3_md5 *m, const void *p, size_t len);
void pop3_md5_final(struct pop3_md5 *m, unsigned char out[16]);
void pop3_md5(const void *p, size_t len, unsigned char out[16]);

#endif
