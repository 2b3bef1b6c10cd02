/* smtpseam.c: smtpd's seam catalogue (smtpseam.h): each message packed and
 * unpacked side by side, on the codec of msg.h.  The delivery side unpacks
 * what the session sent: every field is checked here, before any use, so
 * that nothing the session says can start a header line of its own making
 * or name a file. */
#include <string.h>

#include "msg.h"
#include "smtpd.h"
#include "smtpseam.h"

/* Text that goes into a header or a From_ line: no control byte (a CR or
 * LF would start a header of the session's making); SPACE_OK for a quoted
 * local part, which may hold spaces (the From_ line replaces them). */
static int
plain(const char *s, int space_ok)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f ||
		    (!space_ok && *s == ' '))
			return 0;
	return 1;
}

size_t
sm_put_mail(void *buf, size_t cap, const struct sm_mail *m)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_str(&w, m->helo, HELO_MAX);
	msg_put_str(&w, m->sender, ADDR_PATH_MAX);
	msg_put_u32(&w, m->esmtp);
	msg_put_u32(&w, m->tls);
	return msg_put_end(&w);
}

int
sm_get_mail(const void *p, size_t len, struct sm_mail *m)
{
	struct msg r;

	msg_get_init(&r, p, len);
	msg_get_str(&r, m->helo, sizeof(m->helo));
	msg_get_str(&r, m->sender, sizeof(m->sender));
	msg_get_u32(&r, &m->esmtp, 1);
	msg_get_u32(&r, &m->tls, 1);
	if (msg_get_end(&r) == -1 || m->helo[0] == '\0' || !plain(m->helo, 0) ||
	    !plain(m->sender, 1))
		return -1;
	return 0;
}

size_t
sm_put_rcpt(void *buf, size_t cap, const struct sm_rcpt *rc)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_str(&w, rc->local, ADDR_LOCAL_MAX);
	msg_put_str(&w, rc->addr, ADDR_PATH_MAX);
	return msg_put_end(&w);
}

int
sm_get_rcpt(const void *p, size_t len, struct sm_rcpt *rc)
{
	struct msg r;

	msg_get_init(&r, p, len);
	msg_get_str(&r, rc->local, sizeof(rc->local));
	msg_get_str(&r, rc->addr, sizeof(rc->addr));
	/* The same test as the session's, before any lookup: '/', "..",
	 * controls never reach a file name. */
	if (msg_get_end(&r) == -1 ||
	    !smtp_rcpt_name_ok(rc->local, strlen(rc->local)) ||
	    !plain(rc->addr, 1))
		return -1;
	return 0;
}

size_t
sm_put_body(void *buf, size_t cap, const void *data, size_t len)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_data(&w, data, len, SMTP_CHUNK);
	return msg_put_end(&w);
}

int
sm_get_body(const void *p, size_t len, const unsigned char **data,
    size_t *dlen)
{
	struct msg r;

	msg_get_init(&r, p, len);
	msg_get_data(&r, data, dlen, SMTP_CHUNK);
	return msg_get_end(&r);
}

size_t
sm_put_rcpt_rep(void *buf, size_t cap, const struct sm_rcpt_rep *rr)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_u32(&w, (uint32_t)rr->reply);
	msg_put_u32(&w, rr->count);
	msg_put_str(&w, rr->boxes, SMTPD_LOG_BOXES_MAX);
	return msg_put_end(&w);
}

int
sm_get_rcpt_rep(const void *p, size_t len, struct sm_rcpt_rep *rr)
{
	struct msg r;
	uint32_t v;

	msg_get_init(&r, p, len);
	msg_get_u32(&r, &v, R__COUNT - 1);
	msg_get_u32(&r, &rr->count, SMTPD_RCPT_MAX);
	msg_get_str(&r, rr->boxes, sizeof(rr->boxes));
	rr->reply = (enum reply)v;
	return msg_get_end(&r) == -1 || v == R_NONE ? -1 : 0;
}

size_t
sm_put_end_rep(void *buf, size_t cap, const struct sm_end_rep *er)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_u32(&w, (uint32_t)er->reply);
	msg_put_str(&w, er->qid, SM_QID_SIZE - 1);
	msg_put_str(&w, er->result, SM_RESULT_SIZE - 1);
	return msg_put_end(&w);
}

int
sm_get_end_rep(const void *p, size_t len, struct sm_end_rep *er)
{
	struct msg r;
	uint32_t v;

	msg_get_init(&r, p, len);
	msg_get_u32(&r, &v, R__COUNT - 1);
	msg_get_str(&r, er->qid, sizeof(er->qid));
	msg_get_str(&r, er->result, sizeof(er->result));
	er->reply = (enum reply)v;
	return msg_get_end(&r) == -1 || v == R_NONE ? -1 : 0;
}
