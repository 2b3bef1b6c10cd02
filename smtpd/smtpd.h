/* smtpd.h: smtpd's configuration, its session state and the functions its
 * files share; its limits are in params.h.  The session runs as main() left
 * it. */
#ifndef SMTPD_H
#define SMTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io.h"
#include "params.h"
#include "opts.h"
#include "reply.h"

/* Read-only configuration, set by main() before the session. */
struct smtpd_conf {
	struct opts	 o;
	const char	*domain[SMTPD_DOMAINS_MAX];	/* -d; none = o.host */
	size_t		 ndomain;
	uint64_t	 maxsize;	/* -s */
	size_t		 maxrcpt;	/* -n */
	const char	*aliases;	/* -a file contents (NUL-free), or NULL */
	size_t		 aliaseslen;
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

/* Parse a path "<...>" at the start of S (LEN bytes) into *A; *END is set
 * to the offset after '>'.  Accepts <>, a source route (ignored), a Dot-string
 * (dots anywhere: validation of the name comes later) or Quoted-string local
 * part, and an optional domain (RCPT TO:<postmaster>).  Returns ADDR_*. */
int smtp_addr_parse(const char *s, size_t len, struct addr *a, size_t *end);

/* ESMTP parameters of MAIL FROM (RFC 1870, 6152, 6531). */
struct mail_params {
	int		 has_size;
	uint64_t	 size;		/* UINT64_MAX when too big to parse */
	int		 body8;		/* BODY=8BITMIME */
	int		 utf8;		/* SMTPUTF8 */
};

/* Parse the parameters after a path: (SP keyword["=" value])*.  Returns
 * R_NONE, R_PARAM_SYNTAX or R_PARAM_UNKNOWN.  RCPT takes none (MP = NULL). */
enum reply smtp_params_parse(const char *s, size_t len, struct mail_params *mp);

/* RFC 5321 4.1.4 and 3.3: the session's states. */
enum smtp_state {
	ST_GREET,	/* before HELO/EHLO */
	ST_READY,	/* no transaction */
	ST_MAIL,	/* MAIL accepted, no recipient yet */
	ST_RCPT,	/* at least one recipient */
	ST_DATA		/* 354 sent: the message comes next */
};

struct rcpt {
	char	 box[USER_MAX + 1];	/* mailbox name in the spool */
	char	 addr[ADDR_PATH_MAX + 1];	/* the address that led to it */
	uid_t	 uid;			/* owner of a new mailbox, or (uid_t)-1 */
	gid_t	 gid;
};

/* The message in mbox form (LF line ends, dot-stuffing undone, quoted). */
struct body {
	char	*p;
	size_t	 len, cap;
};

/* Everything one session knows.  Passed explicitly; nothing global. */
struct smtp {
	const struct smtpd_conf *conf;
	struct io	*io;
	enum smtp_state	 state;
	int		 esmtp;		/* EHLO rather than HELO */
	int		 quit;		/* end after this reply */
	const char	*why;		/* and why, for the log */
	unsigned	 errors;	/* 5xx replies, RCPT's aside */
	unsigned	 rcpterrors;	/* refused recipients in the session */
	unsigned	 txrcpterrors;	/* ... in this transaction */
	const char	*verb;		/* current command, for the log; NULL
					 * for the reply to the message */
	const char	*arg;		/* and its argument */
	size_t		 arglen;
	char		 helo[HELO_MAX + 1];
	struct addr	 from;
	struct mail_params mp;
	struct rcpt	*rcpt;		/* conf->maxrcpt entries */
	size_t		 nrcpt;
	size_t		 rcptcmds;	/* RCPT commands in the transaction */
	int		 toomany;	/* 452s in it, logged once */
	char		 qid[16];
	const char	*result;	/* how the transaction ended, for the
					 * log; NULL: abandoned */
	struct body	 body;
	uint64_t	 size;		/* message octets with CRLF line ends */
};

/* session.c: run one SMTP session on IO to its end.  Returns 0, or -1 when
 * the session could not start (out of memory). */
int smtp_session(const struct smtpd_conf *c, struct io *io);
/* Change state.  Going back to ST_READY (or ST_GREET) ends a transaction:
 * its one log line is written (result S->result, or "abandoned" when it
 * never got to its message) and it is forgotten. */
void smtp_set_state(struct smtp *s, enum smtp_state st);

/* reply.c: write reply R; log it when negative (4xx, 5xx; 421 aside) and
 * count a 5xx in S->errors or, for a refused recipient address, in
 * S->txrcpterrors (and S->rcpterrors).  Returns its code. */
int smtp_reply(struct smtp *s, enum reply r);

/* cmd.c: the command table and the dispatcher of one command line. */
struct smtp_cmd {
	const char	*verb;
	enum reply	(*fn)(struct smtp *s, const char *arg, size_t len);
	unsigned	 states;	/* bit (1u << ST_x) set: allowed in ST_x */
	enum reply	 refuse;	/* the 503 given in other states */
};
/* Split LINE (LEN bytes) into its verb's table entry (NULL when unknown) and
 * the argument after one space (*ARG, *ARGLEN; trailing spaces dropped). */
const struct smtp_cmd *smtp_cmd_find(const char *line, size_t len,
    const char **arg, size_t *arglen);
/* Run one command line: state check, handler, reply. */
void smtp_cmd_dispatch(struct smtp *s, const char *line, size_t len);
/* In ST_DATA, after 354: read the message, store it and end the
 * transaction.  Returns the reply to the message (R_NONE at EOF, when the
 * session ends with no reply). */
enum reply smtp_cmd_data_end(struct smtp *s);

/* rcpt.c: check recipient A and add its mailboxes.  Returns the reply. */
enum reply smtp_rcpt_add(struct smtp *s, const struct addr *a);
/* 1 when DOMAIN is one of ours (case-insensitive). */
int smtp_rcpt_domain_ok(const struct smtpd_conf *c, const char *domain);
/* 1 when NAME (LEN bytes) may name a mailbox: store_name_ok() and no "..".
 * Checked before any lookup, so a hostile name never reaches a file. */
int smtp_rcpt_name_ok(const char *name, size_t len);

/* data.c: read the message after 354 into S->body and S->size.  PREV_CRLF
 * says whether the DATA line ended in CRLF (the end mark is CRLF.CRLF).
 * Returns R_NONE (read, to be stored), R_SIZE or R_NOMEM (read to its end,
 * not stored), or R_TIMEOUT; -1 on EOF or read error. */
int smtp_data_read(struct smtp *s, int prev_crlf);
/* Append LEN bytes to B, never growing it past MAX.  Returns 0 or -1. */
int smtp_body_add(struct body *b, const void *p, size_t len, size_t max);

/* deliver.c: store S->body for every recipient and set S->result (the
 * store has logged a failure's cause).  Returns R_QUEUED or a 451 reply. */
enum reply smtp_deliver(struct smtp *s);
/* The one log line of a transaction that ended with RESULT (for
 * smtp_set_state()). */
void smtp_deliver_log(struct smtp *s, const char *result);

/* aliases.c: the -a file, read once at start-up. */
/* Read PATH into *BUF (*LEN bytes) and check every line.  Returns 0, -1 when
 * unreadable (errno set), -2 when malformed or too big (logged). */
int smtp_aliases_load(const char *path, char **buf, size_t *len);
/* Find NAME (LEN bytes, case-insensitive).  Returns 1 and the targets'
 * list in *T, *TLEN, or 0. */
int smtp_aliases_find(const char *buf, size_t len, const char *name,
    size_t nlen, const char **t, size_t *tlen);
/* Take the next target from the list *T (*TLEN): returns 1 with *NAME and
 * *NLEN set, 0 when the list is done. */
int smtp_aliases_next(const char **t, size_t *tlen, const char **name,
    size_t *nlen);

#endif
