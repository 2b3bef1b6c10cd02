/* priv.c: smtpd's delivery side: the privileged part of the split (root
 * under inetd, or the -u user).  It never holds the client connection: it
 * takes checked requests from the session over the channel, resolves each
 * recipient itself, holds the message, formats it for the mbox (the store's
 * format.c) and delivers it all or nothing.  The session never names a
 * mailbox, an owner or a byte of the trace fields. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"
#include "mbox.h"
#include "store.h"
#include "smtpd.h"

/* Test instrumentation, set only by unit tests: the most the message may
 * take in memory (0: -s alone), so that the out-of-memory path runs. */
size_t smtp_priv_mem_limit;

struct smtp_priv {
	const struct smtpd_conf *c;
	int		 inmail;	/* MAIL seen: RCPT, BODY, END allowed */
	char		 helo[HELO_MAX + 1];
	char		 client[64];
	char		 sender[ADDR_PATH_MAX + 1];
	char		 proto[8];
	struct rcpt_table t;
	char		*body;		/* the message, LF line ends */
	size_t		 len, cap;
	int		 over, nomem;
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

struct smtp_priv *
smtp_priv_new(const struct smtpd_conf *c)
{
	struct smtp_priv *p;
	size_t cap = fd_capacity();

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->c = c;
	p->t.cap = c->maxrcpt < cap ? c->maxrcpt : cap;
	if (p->t.cap < c->maxrcpt)
		log_info("recipients limited to %zu a message by the descriptor "
		    "limit (-n %zu)", p->t.cap, c->maxrcpt);
	if ((p->t.r = calloc(p->t.cap, sizeof(*p->t.r))) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
smtp_priv_free(struct smtp_priv *p)
{
	if (p == NULL)
		return;
	free(p->t.r);
	free(p->body);
	free(p);
}

size_t
smtp_priv_held(const struct smtp_priv *p)
{
	return p->cap;
}

/* Split PAYLOAD (LEN bytes) into exactly N NUL-terminated fields. */
static int
fields(const unsigned char *payload, size_t len, const char **f, size_t n)
{
	const char *p = (const char *)payload, *end = p + len, *z;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p >= end || (z = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return -1;
		f[i] = p;
		p = z + 1;
	}
	return p == end ? 0 : -1;
}

/* Text that goes into a header or a From_ line: at most MAX bytes, no
 * control byte (a CR or LF would start a header of the session's making). */
static int
plain(const char *s, size_t max, int space_ok)
{
	size_t i, len = strlen(s);

	if (len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ||
		    (!space_ok && s[i] == ' '))
			return 0;
	return 1;
}

/* The client address: what opts_client() or a PROXY header found. */
static int
client_ok(const char *s)
{
	unsigned char a[16];

	return strcmp(s, "unknown") == 0 || (strlen(s) < 64 &&
	    (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1));
}

/* REQ_MAIL: a new transaction; the envelope is checked field by field. */
static const char *
req_mail(struct smtp_priv *p, const unsigned char *req, size_t len)
{
	const char *f[4];

	if (fields(req, len, f, 4) == -1)
		return "envelope fields";
	if (f[0][0] == '\0' || !plain(f[0], HELO_MAX, 0))
		return "HELO name";
	if (!client_ok(f[1]))
		return "client address";
	/* A quoted local part may hold spaces; the From_ line replaces them. */
	if (!plain(f[2], ADDR_PATH_MAX, 1))
		return "sender";
	if (strcmp(f[3], "SMTP") != 0 && strcmp(f[3], "ESMTP") != 0)
		return "protocol";
	strcpy(p->helo, f[0]);
	strcpy(p->client, f[1]);
	strcpy(p->sender, f[2]);
	strcpy(p->proto, f[3]);
	p->t.n = 0;
	p->len = 0;
	p->over = p->nomem = 0;
	p->inmail = 1;
	return NULL;
}

/* Put code R and COUNT at the head of a reply. */
static size_t
rep_head(unsigned char *rep, enum reply r, size_t count)
{
	uint32_t v = (uint32_t)r, n = (uint32_t)count;

	memcpy(rep, &v, 4);
	memcpy(rep + 4, &n, 4);
	return 8;
}

/* REQ_RCPT: resolve one address here, whatever the session decided. */
static const char *
req_rcpt(struct smtp_priv *p, const unsigned char *req, size_t len,
    unsigned char *rep, size_t *rlen)
{
	const char *f[2];
	enum reply r;
	size_t blen = 0;

	if (!p->inmail)
		return "RCPT before MAIL";
	if (fields(req, len, f, 2) == -1)
		return "recipient fields";
	if (!smtp_rcpt_name_ok(f[0], strlen(f[0])))
		return "recipient name";
	if (!plain(f[1], ADDR_PATH_MAX, 1))
		return "recipient address";
	r = smtp_rcpt_resolve(p->c, &p->t, f[0], strlen(f[0]), f[1],
	    (char *)rep + 8, SMTPD_LOG_BOXES_MAX, &blen);
	*rlen = rep_head(rep, r, p->t.n) + blen;
	return NULL;
}

/* REQ_BODY: the next piece, held up to -s. */
static const char *
req_body(struct smtp_priv *p, const unsigned char *req, size_t len)
{
	size_t cap, max = p->c->maxsize > SIZE_MAX ? SIZE_MAX :
	    (size_t)p->c->maxsize;
	char *n;

	if (!p->inmail)
		return "message before MAIL";
	if (p->over || p->nomem || len == 0)
		return NULL;
	if (len > max || p->len > max - len) {
		p->over = 1;
		return NULL;
	}
	if (p->len + len > p->cap) {
		cap = p->cap > 0 ? p->cap : BODY_START;
		while (cap < p->len + len)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if (cap > max)
			cap = max;
		if ((smtp_priv_mem_limit > 0 && cap > smtp_priv_mem_limit) ||
		    (n = realloc(p->body, cap)) == NULL) {
			p->nomem = 1;
			return NULL;
		}
		p->body = n;
		p->cap = cap;
	}
	memcpy(p->body + p->len, req, len);
	p->len += len;
	return NULL;
}

/* The message in mbox form: quoted in place (mboxrd), which may need a
 * little more room.  Returns 0 or -1 (out of memory). */
static int
quote(struct smtp_priv *p)
{
	size_t need = mbox_quoted_len(p->body, p->len);
	char *n;

	if (need == p->len)
		return 0;
	if (need > p->cap) {
		if ((smtp_priv_mem_limit > 0 && need > smtp_priv_mem_limit) ||
		    (n = realloc(p->body, need)) == NULL)
			return -1;
		p->body = n;
		p->cap = need;
	}
	mbox_quote(p->body, p->len, need);
	p->len = need;
	return 0;
}

/* Format and store the message for every recipient.  Returns the reply;
 * *RESULT says what happened, for the session's log. */
static enum reply
deliver(struct smtp_priv *p, const char *qid, const char **result)
{
	struct store_rcpt *sr;
	struct mbox_env env;
	char *heads;
	size_t i;
	int rc;

	if (p->over) {
		*result = "too-big";
		return R_SIZE;
	}
	heads = malloc(p->t.n * HEAD_MAX);
	sr = calloc(p->t.n, sizeof(*sr));
	if (p->nomem || heads == NULL || sr == NULL || quote(p) == -1) {
		free(heads);
		free(sr);
		log_warnx("message held in memory: out of memory size=%zu",
		    p->len);
		*result = "no-memory";
		return R_NOMEM;
	}
	env.sender = p->sender;
	env.helo = p->helo;
	env.client = p->client;
	env.host = p->c->o.host;
	env.proto = p->proto;
	env.qid = qid;
	env.t = time(NULL);
	for (i = 0; i < p->t.n; i++) {
		sr[i].name = p->t.r[i].box;
		sr[i].uid = p->t.r[i].uid;
		sr[i].gid = p->t.r[i].gid;
		sr[i].head = heads + i * HEAD_MAX;
		sr[i].headlen = mbox_trace(heads + i * HEAD_MAX, HEAD_MAX, &env,
		    p->t.r[i].addr);
		if (sr[i].headlen == 0) {
			free(heads);
			free(sr);
			log_warnx("trace header too long");
			*result = "failed";
			return R_FAIL;
		}
	}
	/* An empty message still gets its header block; the store adds the
	 * separating empty line.  250 only once every copy is fsync'ed. */
	rc = store_deliver(p->c->o.spool, sr, p->t.n,
	    p->len > 0 ? p->body : "", p->len, p->c->quota);
	free(heads);
	free(sr);
	*result = rc == STORE_OK ? "delivered" : store_strerror(rc);
	switch (rc) {
	case STORE_OK:
		return R_QUEUED;
	case STORE_ELOCK:
		return R_BUSY;
	case STORE_ENOSPC:
		return R_FULL;
	case STORE_EQUOTA:
		return R_QUOTA;
	default:
		return R_FAIL;
	}
}

/* REQ_END: deliver; the transaction is over either way. */
static const char *
req_end(struct smtp_priv *p, size_t len, unsigned char *rep, size_t *rlen)
{
	char qid[16];
	const char *result;
	enum reply r;
	int n;

	if (!p->inmail || p->t.n == 0)
		return "message without MAIL and RCPT";
	if (len != 0)
		return "END with a payload";
	session_id(qid, sizeof(qid));
	r = deliver(p, qid, &result);
	p->inmail = 0;
	p->t.n = 0;
	p->len = 0;
	*rlen = rep_head(rep, r, 0);
	n = snprintf((char *)rep + *rlen, REP_MAX - *rlen, "%s%c%s%c", qid, 0,
	    result, 0);
	if (n > 0 && (size_t)n < REP_MAX - *rlen)
		*rlen += (size_t)n;
	return NULL;
}

int
smtp_priv_handle(struct smtp_priv *p, uint32_t type, const unsigned char *req,
    size_t len, uint32_t *rtype, unsigned char *rep, size_t *rlen)
{
	const char *why;
	int reply = 0;

	*rlen = 0;
	switch (type) {
	case REQ_MAIL:
		why = req_mail(p, req, len);
		break;
	case REQ_RCPT:
		why = req_rcpt(p, req, len, rep, rlen);
		*rtype = REP_RCPT;
		reply = 1;
		break;
	case REQ_BODY:
		why = req_body(p, req, len);
		break;
	case REQ_END:
		why = req_end(p, len, rep, rlen);
		*rtype = REP_END;
		reply = 1;
		break;
	default:
		why = "unknown request";
		break;
	}
	if (why != NULL) {
		/* A session that sends this is broken or taken over: nothing
		 * it says from now on is believed. */
		log_warnx("privsep: bad request type=%u len=%zu: %s", type, len,
		    why);
		p->inmail = 0;
		return -1;
	}
	return reply;
}

/* Milliseconds left until DEADLINE (CLOCK_MONOTONIC seconds). */
static int
left_ms(time_t deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = ((long)deadline - (long)now.tv_sec) * 1000 - now.tv_nsec / 1000000;
	return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

int
smtp_priv_serve(const struct smtpd_conf *c, int fd, pid_t session)
{
	unsigned char rep[REP_MAX];
	struct smtp_priv *p;
	struct pollfd pfd;
	struct timespec now;
	unsigned char *buf;
	uint32_t type, rtype;
	time_t deadline;
	size_t len, rlen;
	int k, r;

	p = smtp_priv_new(c);
	buf = malloc(CHAN_MAX);
	if (p == NULL || buf == NULL) {
		log_warnx("delivery side: out of memory");
		goto out;
	}
	/* The session ends itself within -E; a session that does not (a
	 * bug, or taken over) is ended here, a little later. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = now.tv_sec + c->o.lifetime + 2 * c->o.timeout + 60;
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, left_ms(deadline))) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("delivery side: poll");
			break;
		}
		if (r == 0) {
			if (left_ms(deadline) > 0)
				continue;
			log_warnx("session over its lifetime, killed");
			(void)kill(session, SIGKILL);
			break;
		}
		k = chan_recv(fd, &type, buf, CHAN_MAX, &len, NULL, NULL);
		if (k == 0)
			break;		/* the session has ended */
		if (k == -1) {
			log_warn("delivery side: channel");
			break;
		}
		k = smtp_priv_handle(p, type, buf, len, &rtype, rep, &rlen);
		if (k == -1)
			break;		/* logged; the session gets 421 */
		if (k == 1 && chan_send(fd, rtype, rep, rlen, NULL, 0) == -1) {
			if (errno != EPIPE)
				log_warn("delivery side: reply");
			break;
		}
	}
out:
	close(fd);
	free(buf);
	smtp_priv_free(p);
	return priv_wait(session);
}
