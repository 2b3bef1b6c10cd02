/* session.c: one POP3 session: greeting, the command loop, and how it ends
 * (QUIT, EOF, idle timeout, lifetime).  The AUTHORIZATION part runs in the
 * session process, unprivileged; after login the login checker, now the
 * mailbox owner, resumes the session with the connection (checker.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "pop3d.h"

/* RFC 1939 7: the APOP timestamp must differ for every greeting; process id,
 * clock and nanoseconds do that on one host.  At most 64 octets of the host
 * name go in, so the greeting stays within RFC 2449's 512 octets whatever -h. */
void
pop3_make_stamp(char *buf, const char *host)
{
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, POP3_STAMP_SIZE, "<%ld.%lld.%ld@%.64s>",
	    (long)getpid(), (long long)ts.tv_sec, (long)ts.tv_nsec, host);
	if (n < 0 || (size_t)n >= POP3_STAMP_SIZE) {
		/* Cannot happen (POP3_STAMP_SIZE); a cut stamp would still
		 * work, but say so and offer no APOP rather than guess. */
		log_warnx("apop timestamp too long, APOP not offered");
		buf[0] = '\0';
	}
}

enum io_status
pop3_getline(struct pop3 *s, char *buf, size_t cap, size_t *len)
{
	/* The whole line within -t of its first byte: else a client dripping
	 * a byte every few minutes holds the session and its IN-USE marker. */
	return io_getline_within(s->io, buf, cap, len, s->conf->o->timeout);
}

/* A new session's state on IO; NULL (logged, answered) when out of memory. */
static struct pop3 *
session_new(const struct pop3_conf *conf, struct io *io)
{
	struct pop3 *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("session start failed");
		io_printf(io, "-ERR [SYS/TEMP] out of memory\r\n");
		io_flush(io);
		return NULL;
	}
	s->conf = conf;
	s->io = io;
	s->popfd = -1;
	s->box.fd = -1;
	return s;
}

/* The command loop until the session ends, and its one closing line. */
static int
run(struct pop3 *s)
{
	struct io *io = s->io;
	char line[POP3_LINE_MAX];	/* the line, then a NUL in its CRLF's place */
	size_t len;
	int rc;

	while (!s->close) {
		/* RFC 2449 4: 255 octets including CRLF; longer lines are
		 * refused whole, never executed truncated. */
		switch (pop3_getline(s, line, sizeof(line) - 2, &len)) {
		case IO_OK:
			if (io->nul)
				pop3_reply_result(s, PR_ERR_NUL);
			else
				pop3_dispatch(s, line, len);
			break;
		case IO_PART:
		case IO_TOOLONG:
			pop3_reply_result(s, PR_ERR_TOOLONG);
			break;
		case IO_TIMEOUT:
			/* RFC 1939 3: an autologout does not enter UPDATE. */
			if (io_expired(io)) {
				pop3_reply_result(s, PR_ERR_LIFETIME);
				s->end = "lifetime";
			} else {
				pop3_reply_result(s, PR_ERR_TIMEOUT);
				s->end = "timeout";
			}
			s->close = 1;
			break;
		case IO_EOF:
			s->end = "eof";
			s->close = 1;
			break;
		case IO_ERROR:
		default:
			s->end = "error";
			s->close = 1;
			break;
		}
		if (io->werr) {
			s->end = "write-error";
			break;
		}
	}
	/* The maildrop is free before the client reads our last reply, so a
	 * client that logs in again at once (from any host of a cluster)
	 * does not meet its own session's [IN-USE]. */
	if (s->popfd != -1)
		close(s->popfd);
	s->popfd = -1;
	rc = io_flush(io) == 0 ? 0 : EX_IOERR;
	if (rc != 0)
		s->end = "write-error";
	/* One line for every ending but a QUIT before login, and a login
	 * handed over: the owner's process logs from there on. */
	if (s->end == NULL)
		s->end = "error";	/* a handler closed without saying why */
	if (s->state == ST_TRANS || s->state == ST_UPDATE)
		log_info("logout user=%s end=%s retrieved=%lu bytes=%llu "
		    "deleted=%zu kept=%zu", s->quser, s->end, s->nretr,
		    (unsigned long long)s->retrbytes,
		    s->state == ST_UPDATE ? s->ndel : 0,
		    s->ix.n - (s->state == ST_UPDATE ? s->ndel : 0));
	else if (!s->handed && strcmp(s->end, "quit") != 0)
		log_info("disconnect end=%s", s->end);
	pop3_release(s);
	free(s);
	return rc;
}

int
pop3_session(const struct pop3_conf *conf, struct io *io,
    struct priv_seam *ps)
{
	struct pop3 *s;

	if ((s = session_new(conf, io)) == NULL)
		return EX_TEMPFAIL;
	s->ps = ps;
	s->tls = conf->o->tls;
	/* haproxy checks every few seconds: only a check that goes wrong
	 * (no QUIT) is worth a line, the disconnect below. */
	if (!conf->o->healthcheck)
		log_info("connect%s%s", conf->o->via[0] != '\0' ? " via=" :
		    "", conf->o->via);
	pop3_set_state(s, ST_AUTH);
	/* Made before the split: the checker has the same. */
	memcpy(s->stamp, conf->stamp, sizeof(s->stamp));
	pop3_reply_ok(s, "%s POP3 ready%s%s", conf->o->host,
	    s->stamp[0] != '\0' ? " " : "", s->stamp);
	return run(s);
}

/* The login, once the owner is switched to: open the maildrop, log, enter
 * TRANSACTION.  Returns PR_OK (s->text is the reply) or an error after
 * which the session ends (s->close, s->end set). */
static enum pop3_res
login(struct pop3 *s, enum pm_method method)
{
	enum pop3_res r;

	if ((r = pop3_drop_open(s)) != PR_OK) {
		/* Privileges are gone: no second login in this session. */
		s->close = 1;
		s->end = "login-error";
		return r;
	}
	log_info("login user=%s method=%s tls=%s messages=%zu size=%llu",
	    s->quser, pm_method_name(method), s->tls.on ? "yes" : "no",
	    s->ix.n, (unsigned long long)s->ix.total);
	pop3_set_state(s, ST_TRANS);
	pop3_reply_text(s, "maildrop has %zu messages (%llu octets)", s->ix.n,
	    (unsigned long long)s->ix.total);
	return PR_OK;
}

int
pop3_session_resume(const struct pop3_conf *conf, struct io *io,
    const char *user, enum pm_method method, int tls)
{
	struct pop3 *s;

	if ((s = session_new(conf, io)) == NULL)
		return EX_TEMPFAIL;
	/* The control pipes are the checker's to keep open: none is offered
	 * after a login. */
	s->tls.on = tls;
	s->tls.offer = TLS_NONE;
	pop3_set_state(s, ST_AUTH);
	snprintf(s->user, sizeof(s->user), "%s", user);
	log_quote(s->quser, sizeof(s->quser), user, strlen(user));
	pop3_reply_result(s, login(s, method));
	return run(s);
}
