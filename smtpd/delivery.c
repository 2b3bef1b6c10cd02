/* delivery.c: smtpd's delivery side, the privileged part of the split
 * (root under inetd, or the -u user).  It never holds the client
 * connection: it takes checked messages from the session (smtpseam.h), resolves
 * each recipient itself, holds the message, formats it for the mbox (the
 * store's format.c) and delivers it all or nothing.  The session never
 * names a mailbox, an owner, the client address or a byte of the trace
 * fields, and the bounds that matter are enforced here, whatever the
 * session counts: refused recipients per connection, recipients per
 * transaction, and -s on what the message adds to a mailbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "chan.h"
#include "log.h"
#include "mbox.h"
#include "store.h"
#include "smtpd.h"

size_t smtp_delivery_mem_limit;
size_t smtp_delivery_mem_peak;

struct delivery {
	const struct smtpd_conf *c;
	struct priv_seam *ps;
	int		 inmail;	/* MAIL seen: RCPT, BODY, END allowed */
	struct sm_mail	 mail;
	struct rcpt_table t;
	struct rcpt_seen seen;		/* what resolutions met, logged once */
	struct rcpt_notes notes;
	unsigned	 rcpts;		/* RCPTs in this transaction */
	unsigned	 refused;	/* recipients refused in the session */
	unsigned	 refusedmax;	/* ... past which it is cut off */
	char		*body;		/* the message, LF line ends */
	size_t		 len, cap;
	int		 over, nomem;
	unsigned char	 rep[SM_REP_MAX];
};

/* How many mailboxes one delivery may hold open: every recipient's is
 * open and locked until all are written, two descriptors each (the
 * mailbox and its dotlock).  The soft descriptor limit goes up to the
 * hard one first. */
static size_t
fd_capacity(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return SMTPD_RCPT_DEFAULT;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_cur > 2 * SMTPD_RCPT_MAX + SMTPD_FD_RESERVE)
			rl.rlim_cur = 2 * SMTPD_RCPT_MAX + SMTPD_FD_RESERVE;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return SMTPD_RCPT_MAX;
	return rl.rlim_cur > SMTPD_FD_RESERVE + 3 ?
	    (size_t)(rl.rlim_cur - SMTPD_FD_RESERVE) / 2 : 1;
}

static int
setup(struct delivery *d, const struct smtpd_conf *c, struct priv_seam *ps)
{
	size_t cap = fd_capacity();

	memset(d, 0, sizeof(*d));
	d->c = c;
	d->ps = ps;
	d->t.cap = c->maxrcpt < cap ? c->maxrcpt : cap;
	if (d->t.cap < c->maxrcpt)
		log_info("recipients limited to %zu a message by the descriptor "
		    "limit (-n %zu)", d->t.cap, c->maxrcpt);
	/* The session's own bound (params.h); an honest session ends at it,
	 * so one more refusal than that is a session not to be believed. */
	d->refusedmax = c->maxrcpt > SMTPD_RCPT_ERRORS_MAX ?
	    (unsigned)c->maxrcpt : SMTPD_RCPT_ERRORS_MAX;
	if ((d->t.r = calloc(d->t.cap, sizeof(*d->t.r))) == NULL)
		return -1;
	/* A bad alias is logged when mail goes through it, once for the
	 * connection (out of memory: each time). */
	(void)smtp_rcpt_seen_init(&d->seen, &c->aliases);
	d->notes.fn = smtp_rcpt_log_event;
	d->notes.ctx = &d->seen;
	return 0;
}

/* SM_MAIL: a new transaction. */
static int
on_mail(struct delivery *d, struct priv_frame *f)
{
	if (sm_get_mail(f->p, f->len, &d->mail) == -1) {
		f->why = "envelope fields";
		return -1;
	}
	/* TLS is believed only where a wrapper could have made it. */
	if (d->mail.tls && d->c->o.tls.offer == TLS_NONE && !d->c->o.tls.on) {
		f->why = "TLS without a TLS wrapper";
		return -1;
	}
	if (d->c->o.tls.on)
		d->mail.tls = 1;
	d->t.n = 0;
	d->rcpts = 0;
	d->len = 0;
	d->over = d->nomem = 0;
	d->inmail = 1;
	return 1;
}

/* SM_RCPT: resolve one address here, whatever the session decided. */
static int
on_rcpt(struct delivery *d, struct priv_frame *f)
{
	struct sm_rcpt_rep rep;
	struct sm_rcpt rc;
	size_t blen = 0, n;

	if (!d->inmail) {
		f->why = "RCPT before MAIL";
		return -1;
	}
	if (sm_get_rcpt(f->p, f->len, &rc) == -1) {
		f->why = "recipient fields";
		return -1;
	}
	/* Past the bound of refused recipients the session would have ended
	 * itself (421): this one probes the users file. */
	if (d->refused > d->refusedmax) {
		f->why = "refused recipients past the session's bound";
		return -1;
	}
	memset(&rep, 0, sizeof(rep));
	/* params.h, SMTPD_RCPT_SLACK: the session's bound of RCPTs in a
	 * transaction; past it, no lookup. */
	if (++d->rcpts > 2 * d->c->maxrcpt + SMTPD_RCPT_SLACK)
		rep.reply = R_TOO_MANY;
	else
		rep.reply = smtp_rcpt_resolve(d->c, &d->t, &d->notes, rc.local,
		    strlen(rc.local), rc.addr, rep.boxes, SMTPD_LOG_BOXES_MAX,
		    &blen);
	rep.boxes[blen] = '\0';
	if (rep.reply == R_NO_USER)
		d->refused++;
	rep.count = (uint32_t)d->t.n;
	n = sm_put_rcpt_rep(d->rep, sizeof(d->rep), &rep);
	if (chan_send(d->ps->fd, &d->ps->end, SM_RCPT_REP, d->rep, n, NULL,
	    0) == -1) {
		log_warn("delivery side: reply");
		return 0;
	}
	return 1;
}

/* Room for NEED bytes of message, within -s and the test's limit. */
static int
hold(struct delivery *d, size_t need)
{
	size_t cap, max = d->c->maxsize > SIZE_MAX ? SIZE_MAX :
	    (size_t)d->c->maxsize;
	char *n;

	if (need <= d->cap)
		return 0;
	cap = d->cap > 0 ? d->cap : BODY_START;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (cap > max)
		cap = max;
	if (cap < need || (smtp_delivery_mem_limit > 0 &&
	    cap > smtp_delivery_mem_limit) || (n = realloc(d->body, cap)) == NULL)
		return -1;
	d->body = n;
	d->cap = cap;
	if (cap > smtp_delivery_mem_peak)
		smtp_delivery_mem_peak = cap;
	return 0;
}

/* SM_BODY: the next piece, held up to -s. */
static int
on_body(struct delivery *d, struct priv_frame *f)
{
	const unsigned char *p;
	size_t len;

	if (!d->inmail) {
		f->why = "message before MAIL";
		return -1;
	}
	if (sm_get_body(f->p, f->len, &p, &len) == -1) {
		f->why = "message piece";
		return -1;
	}
	if (d->over || d->nomem || len == 0)
		return 1;
	if (len > d->c->maxsize || d->len > d->c->maxsize - len) {
		d->over = 1;
		return 1;
	}
	if (hold(d, d->len + len) == -1) {
		d->nomem = 1;
		return 1;
	}
	memcpy(d->body + d->len, p, len);
	d->len += len;
	return 1;
}

/* The trace fields of every recipient into HEADS (HEAD_MAX bytes each).
 * Returns the longest, or 0 when one did not fit. */
static size_t
trace(struct delivery *d, const char *qid, char *heads, struct store_rcpt *sr)
{
	struct mbox_env env;
	size_t i, most = 0;

	env.sender = d->mail.sender;
	env.helo = d->mail.helo;
	env.client = d->c->o.client;
	env.host = d->c->o.host;
	/* RFC 3848: ESMTPS for ESMTP over TLS.  HELO over TLS (-S only:
	 * STARTTLS needs EHLO) has no registered keyword; SMTPS as Exim has
	 * it. */
	env.proto = d->mail.esmtp ? (d->mail.tls ? "ESMTPS" : "ESMTP") :
	    (d->mail.tls ? "SMTPS" : "SMTP");
	env.qid = qid;
	env.t = time(NULL);
	for (i = 0; i < d->t.n; i++) {
		sr[i].name = d->t.r[i].box;
		sr[i].uid = d->t.r[i].uid;
		sr[i].gid = d->t.r[i].gid;
		sr[i].head = heads + i * HEAD_MAX;
		sr[i].headlen = mbox_trace(heads + i * HEAD_MAX, HEAD_MAX, &env,
		    d->t.r[i].addr);
		if (sr[i].headlen == 0)
			return 0;
		if (sr[i].headlen > most)
			most = sr[i].headlen;
	}
	return most;
}

/* -s bounds what the message adds to a mailbox: its trace fields (the
 * longest of them), the message quoted (mboxrd) and what the store ends
 * it with (store_ending); the separator before it depends on the mailbox,
 * not on the message, and is not counted.  The message is quoted in place,
 * which may need a little more room.  Returns R_NONE, R_SIZE or R_NOMEM. */
static enum reply
quote(struct delivery *d, size_t head)
{
	size_t need = mbox_quoted_len(d->body, d->len);
	/* (Quoting adds to the starts of lines, never to the end.) */
	size_t end = strlen(store_ending(d->body, d->len));

	if (head > d->c->maxsize || need + end > d->c->maxsize - head)
		return R_SIZE;
	if (need == d->len)
		return R_NONE;
	if (hold(d, need) == -1)
		return R_NOMEM;
	mbox_quote(d->body, d->len, need);
	d->len = need;
	return R_NONE;
}

/* Store the message for every recipient.  Returns the reply; *RESULT
 * says what happened, for the session's log. */
static enum reply
deliver(struct delivery *d, const char *qid, const char **result)
{
	struct store_rcpt *sr;
	enum reply r;
	size_t head;
	char *heads;
	int rc;

	if (d->over) {
		*result = "too-big";
		return R_SIZE;
	}
	heads = malloc(d->t.n * HEAD_MAX);
	sr = calloc(d->t.n, sizeof(*sr));
	r = d->nomem || heads == NULL || sr == NULL ? R_NOMEM : R_NONE;
	if (r == R_NONE && (head = trace(d, qid, heads, sr)) == 0) {
		log_warnx("trace header too long");
		r = R_FAIL;
	}
	if (r == R_NONE)
		r = quote(d, head);
	if (r != R_NONE) {
		free(heads);
		free(sr);
		if (r == R_NOMEM)
			log_warnx("message held in memory: out of memory "
			    "size=%zu", d->len);
		*result = r == R_SIZE ? "too-big" : r == R_NOMEM ?
		    "no-memory" : "failed";
		return r;
	}
	/* An empty message still gets its header block; the store adds the
	 * separating empty line.  250 only once every copy is fsync'ed. */
	rc = store_deliver(d->c->o.spool, sr, d->t.n,
	    d->len > 0 ? d->body : "", d->len, d->c->quota);
	free(heads);
	free(sr);
	*result = rc == STORE_OK ? "delivered" : store_strerror(rc);
	return rc == STORE_OK ? R_QUEUED : rc == STORE_ELOCK ? R_BUSY :
	    rc == STORE_ENOSPC ? R_FULL : rc == STORE_EQUOTA ? R_QUOTA : R_FAIL;
}

/* SM_END: deliver; the transaction is over either way. */
static int
on_end(struct delivery *d, struct priv_frame *f)
{
	struct sm_end_rep rep;
	const char *result;
	size_t n;

	if (!d->inmail || d->t.n == 0) {
		f->why = "message without MAIL and RCPT";
		return -1;
	}
	if (f->len != 0) {
		f->why = "END with fields";
		return -1;
	}
	memset(&rep, 0, sizeof(rep));
	session_id(rep.qid, sizeof(rep.qid));
	rep.reply = deliver(d, rep.qid, &result);
	snprintf(rep.result, sizeof(rep.result), "%s", result);
	d->inmail = 0;
	d->t.n = 0;
	d->len = 0;
	n = sm_put_end_rep(d->rep, sizeof(d->rep), &rep);
	if (chan_send(d->ps->fd, &d->ps->end, SM_END_REP, d->rep, n, NULL,
	    0) == -1) {
		log_warn("delivery side: reply");
		return 0;
	}
	return 1;
}

static int
handle(void *ctx, struct priv_frame *f)
{
	struct delivery *d = ctx;
	int k;

	switch (f->type) {
	case SM_MAIL:
		k = on_mail(d, f);
		break;
	case SM_RCPT:
		k = on_rcpt(d, f);
		break;
	case SM_BODY:
		k = on_body(d, f);
		break;
	case SM_END:
		k = on_end(d, f);
		break;
	default:
		f->why = "unknown message";
		k = -1;
		break;
	}
	if (k == -1)
		d->inmail = 0;
	return k;
}

enum priv_end
smtp_delivery_serve(const struct smtpd_conf *c, struct priv_seam *ps)
{
	struct delivery d;
	unsigned char *buf;
	enum priv_end how = PRIV_BROKEN;

	buf = malloc(CHAN_MAX);
	if (setup(&d, c, ps) == -1 || buf == NULL)
		log_warnx("delivery side: out of memory");
	else
		how = priv_serve(ps, buf, CHAN_MAX, 0, handle, &d);
	free(buf);
	free(d.t.r);
	free(d.body);
	smtp_rcpt_seen_free(&d.seen);
	return how;
}
