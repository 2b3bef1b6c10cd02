/* smtpd.h: smtpd's configuration, its session state, and the functions its
 * files share; its limits are in params.h.
 *
 * Two processes: the session (session.c, cmd.c, txn.c, data.c, addr.c,
 * link.c, reply.c) holds the client connection and runs as an
 * unprivileged account; the delivery side (delivery.c, rcpt.c, aliases.c)
 * never sees the connection, resolves recipients and writes the mailboxes.
 * They talk through the messages of smtpseam.h, and nothing else. */
#ifndef SMTPD_H
#define SMTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io.h"
#include "params.h"
#include "opts.h"
#include "priv.h"
#include "reply.h"
#include "smtpseam.h"

/* aliases.c: the aliases table (-a), built once at start-up. */
enum alias_kind {
	AT_LOCAL,	/* a user (or user@one of our domains) */
	AT_PIPE,	/* |command: not supported */
	AT_FILE,	/* /file: not supported */
	AT_INCLUDE,	/* :include:file: not supported */
	AT_REMOTE	/* user@another.domain: not supported */
};
struct alias_target {
	char		 name[USER_MAX + 1];	/* AT_LOCAL: the user name */
	unsigned char	 kind;
	unsigned char	 noalias;	/* \user: no further aliasing */
	unsigned long	 line;
};
struct alias {
	char		 name[USER_MAX + 1];
	size_t		 first, count;	/* its targets in aliases.t */
	unsigned long	 line;
	unsigned long	 dupline;	/* the first later entry of the same
					 * name (never used), 0 none */
};
struct aliases {
	struct alias	*a;
	size_t		 na, acap;
	struct alias_target *t;
	size_t		 nt, tcap;
};

/* Debian policy 11.6: the domain this system's mail is known by. */
#define MAILNAME_FILE	"/etc/mailname"

/* Read-only configuration, set by main() before the split. */
struct smtpd_conf {
	struct opts	 o;
	const char	*domain[SMTPD_DOMAINS_MAX];	/* -d; none: o.host and
					 * /etc/mailname (mailname) */
	size_t		 ndomain;
	char		 mailname[ADDR_DOMAIN_MAX + 1];	/* "" when none */
	uint64_t	 maxsize;	/* -s */
	size_t		 maxrcpt;	/* -n */
	uint64_t	 quota;		/* -q: bytes a mailbox may hold, 0 none */
	const char	*aliases_path;	/* -a */
	struct aliases	 aliases;	/* its table (empty without -a) */
};

/* A parsed path (RFC 5321 4.1.2): the source route is dropped. */
struct addr {
	int	 null;				/* <> */
	int	 utf8;				/* 8-bit bytes (RFC 6531) */
	size_t	 locallen;			/* may hold control bytes if quoted */
	char	 local[ADDR_LOCAL_MAX + 1];	/* quotes and escapes undone */
	char	 domain[ADDR_DOMAIN_MAX + 1];	/* "" when none was given */
	char	 text[ADDR_PATH_MAX + 1];	/* local@domain as written */
};

#define ADDR_OK		0
#define ADDR_ESYNTAX	(-1)
#define ADDR_ELONG	(-2)	/* a part over its RFC 5321 limit */

/* addr.c: parse a path "<...>" at the start of S (LEN bytes) into *A; *END
 * is set to the offset after '>'.  Accepts <>, a source route (ignored), a
 * Dot-string (dots anywhere: validation of the name comes later) or
 * Quoted-string local part, and an optional domain (RCPT TO:<postmaster>).
 * Returns ADDR_*. */
int smtp_addr_parse(const char *s, size_t len, struct addr *a, size_t *end);

/* ESMTP parameters of MAIL FROM (RFC 1870, 6152, 6531). */
struct mail_params {
	int		 has_size;
	uint64_t	 size;		/* UINT64_MAX when too big to parse */
	int		 body8;		/* BODY=8BITMIME */
	int		 utf8;		/* SMTPUTF8 */
};

/* addr.c: parse the parameters after a path: (SP keyword["=" value])*.
 * Returns R_NONE, R_PARAM_SYNTAX or R_PARAM_UNKNOWN.  RCPT takes none (MP =
 * NULL). */
enum reply smtp_params_parse(const char *s, size_t len, struct mail_params *mp);
/* addr.c: 1 when NAME (LEN bytes) may name a mailbox: store_name_ok() and no
 * "..".  Checked before any lookup, by both sides, so a hostile name never
 * reaches a file. */
int smtp_rcpt_name_ok(const char *name, size_t len);
/* addr.c: 1 when DOMAIN is one of ours (case-insensitive): one of -d's,
 * or without -d the host name or /etc/mailname's. */
int smtp_rcpt_domain_ok(const struct smtpd_conf *c, const char *domain);
/* addr.c: the rules RCPT applies to address A before any lookup: a
 * domain of ours (R_RELAY), no domain only for postmaster (R_BAD_RCPT), a
 * local part that may name a mailbox (R_BAD_NAME).  Returns R_NONE when A
 * may be resolved. */
enum reply smtp_rcpt_check(const struct smtpd_conf *c, const struct addr *a);

/* domain.c: 1 when D (LEN bytes) is a domain as -d and /etc/mailname may
 * write one: letters, digits, '-' and '.', at most 255 bytes. */
int smtp_domain_ok(const char *d, size_t len);
/* domain.c: the domain in MAILNAME_FILE into BUF (CAP bytes).  Returns 1,
 * 0 when there is no such file, -1 when it holds no domain. */
int smtp_mailname_read(char *buf, size_t cap);

/* RFC 5321 4.1.4 and 3.3: the session's states. */
enum smtp_state {
	ST_GREET,	/* before HELO/EHLO */
	ST_READY,	/* no transaction */
	ST_MAIL,	/* MAIL accepted, no recipient yet */
	ST_RCPT,	/* at least one recipient */
	ST_DATA		/* 354 sent: the message comes next */
};

/* The session's end of the seam to the delivery side (link.c): the
 * messages that wait for the next one that needs an answer (params.h,
 * SMTP_LINK_HOLD), and the piece of the message not yet sent. */
struct smtp_link {
	struct priv_seam *ps;
	size_t		 held;
	unsigned char	 hold[SMTP_LINK_HOLD];
	unsigned char	*chunk;		/* SMTP_CHUNK bytes */
	size_t		 chunklen;
	unsigned char	*frame;		/* CHAN_MAX bytes: one message packed */
};

/* Everything one session knows.  Passed explicitly; nothing global. */
struct smtp {
	const struct smtpd_conf *conf;
	struct io	*io;
	struct smtp_link *link;
	enum smtp_state	 state;
	int		 esmtp;		/* EHLO rather than HELO */
	struct tls	 tls;		/* what the TLS wrapper offers, and
					 * whether TLS is on */
	int		 quit;		/* end after this reply */
	const char	*end;		/* and why, for the log */
	unsigned	 errors;	/* 5xx replies, RCPT's aside */
	unsigned	 rcpterrors;	/* refused recipients in the session */
	unsigned	 rcpterrmax;	/* ... before 421 (params.h) */
	unsigned	 txrcpterrors;	/* ... in this transaction */
	const char	*verb;		/* current command, for the log; NULL
					 * for the reply to the message */
	const char	*arg;		/* and its argument */
	size_t		 arglen;
	char		 helo[HELO_MAX + 1];
	struct addr	 from;
	struct mail_params mp;
	size_t		 nrcpt;		/* mailboxes, as the delivery side says */
	char		 boxes[SMTPD_LOG_BOXES_MAX + 1];	/* their names,
					 * comma-separated, for the log */
	size_t		 rcptcmds;	/* RCPT commands in the transaction */
	int		 toomany;	/* 452s in it, logged once */
	char		 qid[SM_QID_SIZE];
	const char	*result;	/* how the transaction ended, for the
					 * log; NULL: abandoned */
	char		 resbuf[SM_RESULT_SIZE];
	uint64_t	 size;		/* message octets with CRLF line ends */
};

/* session.c: run one SMTP session on IO to its end, with LINK to the
 * delivery side.  Returns an exit status: 0, or EX_OSERR when the session
 * could not start (out of memory). */
int smtp_session(const struct smtpd_conf *c, struct io *io,
    struct smtp_link *link);

/* reply.c: write reply R; log it when negative (4xx, 5xx; 421 aside) and
 * count a 5xx in S->errors or, for a refused recipient address, in
 * S->txrcpterrors (and S->rcpterrors).  Returns its code. */
int smtp_reply(struct smtp *s, enum reply r);
/* reply.c: reply R as it would be written (CRLF line ends) into BUF (CAP
 * bytes); its length, 0 for R_NONE.  For a reply that does not go to the
 * client's stream (STARTTLS's 220 goes over the TLS wrapper's pipe). */
size_t smtp_reply_format(const struct smtp *s, enum reply r, char *buf,
    size_t cap);

/* cmd.c: the command table (the shape of cmd.h) and the dispatcher of one
 * command line. */
struct smtp_cmd {
	const char	*verb;
	unsigned	 states;	/* CMD_STATE(ST_x): allowed in ST_x */
	enum reply	(*fn)(struct smtp *s, char *arg, size_t len);
	enum reply	 refuse;	/* the 503 given in other states */
};
/* Split LINE (LEN bytes; LINE[LEN] is written) into its verb's table
 * entry (NULL when unknown) and the argument after one space (*ARG,
 * *ARGLEN; trailing spaces dropped, NUL-terminated). */
const struct smtp_cmd *smtp_cmd_find(char *line, size_t len, char **arg,
    size_t *arglen);
/* Run one command line LINE (LEN bytes; LINE[LEN] may be written): state
 * check, handler, reply. */
void smtp_cmd_dispatch(struct smtp *s, char *line, size_t len);

/* txn.c: the mail transaction: MAIL, RCPT and DATA (the whole exchange:
 * 354, the message, the delivery and the reply), and the transaction's one
 * log line. */
enum reply smtp_txn_mail(struct smtp *s, char *arg, size_t len);
enum reply smtp_txn_rcpt(struct smtp *s, char *arg, size_t len);
enum reply smtp_txn_data(struct smtp *s, char *arg, size_t len);
/* Change state.  Going back to ST_READY (or ST_GREET) ends a transaction:
 * its one log line is written (result S->result, or "abandoned" when it
 * never got to its message) and it is forgotten. */
void smtp_set_state(struct smtp *s, enum smtp_state st);

/* data.c: read the message after 354, handing it to the link
 * (smtp_link_body) and counting S->size.  PREV_CRLF says whether the DATA
 * line ended in CRLF (the end mark is CRLF.CRLF).  Returns R_NONE (read,
 * to be delivered), R_SIZE (read to its end, over the limit), R_TIMEOUT,
 * R_UNAVAIL (the link to the delivery side failed); -1 on EOF or read
 * error. */
int smtp_data_read(struct smtp *s, int prev_crlf);

/* link.c: the session's end of the seam (smtpseam.h).  Each returns 0, or -1
 * when the link failed (the delivery side is gone, refused a message of
 * ours, or answered nonsense): the session cannot go on. */
/* Set L up on PS; -1 when out of memory. */
int smtp_link_open(struct smtp_link *l, struct priv_seam *ps);
void smtp_link_close(struct smtp_link *l);
/* A new transaction (held: it goes with the first RCPT). */
int smtp_link_mail(struct smtp_link *l, const struct sm_mail *m);
/* A recipient, and the delivery side's answer. */
int smtp_link_rcpt(struct smtp_link *l, const struct sm_rcpt *r,
    struct sm_rcpt_rep *rep);
/* LEN more bytes of the message, sent in pieces of SMTP_CHUNK. */
int smtp_link_body(struct smtp_link *l, const void *p, size_t len);
/* The message is whole: its last piece, the delivery, and its answer. */
int smtp_link_end(struct smtp_link *l, struct sm_end_rep *rep);
/* Forget the unsent piece of an abandoned message. */
void smtp_link_forget(struct smtp_link *l);

/* delivery.c: the delivery side, the privileged part of smtpd. */
/* Serve the session at the other end of PS until it ends (or is cut off):
 * each request checked, every recipient resolved here, the message held
 * up to -s and delivered all or nothing.  Returns how it ended, for
 * priv_finish. */
enum priv_end smtp_delivery_serve(const struct smtpd_conf *c,
    struct priv_seam *ps);
/* Test instrumentation, never set by the servers: the most the message may
 * take in memory (0: -s alone), so that the out-of-memory path runs; and
 * the most it ever took, so that a test sees the bound hold. */
extern size_t smtp_delivery_mem_limit;
extern size_t smtp_delivery_mem_peak;

/* rcpt.c: the delivery side's recipient table. */
struct rcpt {
	char	 box[USER_MAX + 1];	/* mailbox name in the spool */
	char	 addr[ADDR_PATH_MAX + 1];	/* the address that led to it */
	uid_t	 uid;			/* the mailbox's owner, or (uid_t)-1
					   for the delivering user */
	gid_t	 gid;
};
struct rcpt_table {
	struct rcpt	*r;
	size_t		 n, cap;	/* cap: -n, or fewer (descriptors) */
};
/* What a recipient's resolution met that the administrator should hear
 * of, told as it is met.  The delivery side logs each once a connection
 * (rcptnote.c), when a recipient resolves through it, never at start-up;
 * smtpd -T reports the same events as its lines.  One source for both, so
 * the two cannot disagree.  A is the alias, X its target, where they
 * apply. */
enum rcpt_event {
	RCPT_EV_UNSUPPORTED,	/* X is |command, /file, :include: or
				 * remote: skipped, never delivered */
	RCPT_EV_DEAD,		/* X, local, is neither an alias nor a user:
				 * skipped */
	RCPT_EV_SYSTEM,		/* X is a system account outside -F..-M:
				 * delivered, as routed, to a mailbox no POP3
				 * login can fetch */
	RCPT_EV_EMPTY,		/* A delivers to no one: refused (550) */
	RCPT_EV_FANOUT,		/* A expands to more than ALIAS_STEPS_MAX
				 * targets: refused (451) */
	RCPT_EV_DUPLICATE,	/* A is defined again (A->dupline): that
				 * entry is never used */
	RCPT_EV_POSTMASTER,	/* postmaster has no alias (A NULL) or user
				 * that takes its mail: it goes to the
				 * mailbox "postmaster", which belongs to the
				 * delivering identity and which no POP3
				 * login can fetch */
	RCPT_EV__COUNT
};
struct rcpt_notes {
	void	(*fn)(void *ctx, enum rcpt_event ev, const struct alias *a,
		    const struct alias_target *x);
	void	*ctx;
};
/* Resolve the local part NAME (LEN bytes, a checked name) of address ADDR
 * and add its mailboxes to T: an alias, a user (users file or system
 * account), user+tag, or postmaster.  The names it added go to BOXES (CAP
 * bytes, comma-separated, cut where they do not fit; *BLEN bytes).  What
 * it met goes to NOTES (NULL: nowhere).  Returns the reply: R_RCPT_OK,
 * R_NO_USER, R_NO_IDS, R_LOOKUP, R_QUOTA or R_TOO_MANY. */
enum reply smtp_rcpt_resolve(const struct smtpd_conf *c, struct rcpt_table *t,
    const struct rcpt_notes *notes, const char *name, size_t len,
    const char *addr, char *boxes, size_t cap, size_t *blen);

/* rcptnote.c: each event told once.  S remembers, for the aliases of AL,
 * which event was told of each target, each alias and postmaster. */
struct rcpt_seen {
	const struct aliases *al;
	unsigned char	*bits;		/* al->nt + al->na + 1 sets of
					 * events, one bit each */
};
/* Set S up for AL.  Returns 0, or -1 out of memory: then every event is
 * told each time it is met. */
int smtp_rcpt_seen_init(struct rcpt_seen *s, const struct aliases *al);
void smtp_rcpt_seen_free(struct rcpt_seen *s);
/* 1 the first time event EV of A (X) is asked about, 0 after. */
int smtp_rcpt_seen_first(struct rcpt_seen *s, enum rcpt_event ev,
    const struct alias *a, const struct alias_target *x);
/* The delivery side's notes: CTX is a struct rcpt_seen; each event is
 * logged once, with the alias, its line and the target. */
void smtp_rcpt_log_event(void *ctx, enum rcpt_event ev,
    const struct alias *a, const struct alias_target *x);

/* aliases.c: the -a file in /etc/aliases syntax, read once at start-up. */
/* A problem found while reading it: LINE 0 for the file as a whole; ERROR
 * 1 for a malformed entry (the file is refused).  What is legal but will
 * not deliver (a target that is not supported or names no one, a
 * duplicate) is not a problem of the file's syntax: it is told when a
 * recipient resolves through it (rcpt_event). */
typedef void aliases_report_fn(void *ctx, unsigned long line, int error,
    const char *msg);
/* Parse LEN bytes of aliases at BUF into *AL (free with smtp_aliases_free);
 * C says which domains are ours (user@domain targets).  Each problem goes
 * to FN.  Returns 0, -2 when a line is malformed (the table is still
 * filled, for -T), -1 out of memory. */
int smtp_aliases_parse(const struct smtpd_conf *c, const char *buf,
    size_t len, struct aliases *al, aliases_report_fn *fn, void *ctx);
/* Read the file PATH and parse it; FN NULL logs each problem.  Returns 0,
 * -1 when unreadable (errno set), -2 when malformed or too big. */
int smtp_aliases_load(const struct smtpd_conf *c, const char *path,
    struct aliases *al, aliases_report_fn *fn, void *ctx);
/* How a target of KIND is named in reports: "a |command" ... */
const char *smtp_alias_kind_text(enum alias_kind kind);
/* The alias NAME (LEN bytes, case-insensitive), or NULL. */
const struct alias *smtp_aliases_find(const struct aliases *al,
    const char *name, size_t len);
void smtp_aliases_free(struct aliases *al);

/* verify.c: smtpd -T's own checks, through the server's code: the aliases
 * file (C->aliases_path: its syntax, then every alias resolved as RCPT
 * would, and what that meets: targets not supported or naming no one,
 * system accounts, aliases that deliver to no one or to too many,
 * duplicates), where postmaster's mail goes, /etc/mailname (MAILNAME_RC
 * and MAILNAME, as smtp_mailname_read read it before any chroot) against
 * -d; then each of the NADDR addresses ADDRS answered on stdout as RCPT
 * would answer it, with the mailboxes it is delivered to.  Problems go to
 * CC. */
struct cfgcheck;
void smtp_verify(struct cfgcheck *cc, struct smtpd_conf *c, int mailname_rc,
    const char *mailname, char *const *addrs, int naddr);

#endif
