/* link.c: the session's end of the seam to the delivery side (smtpseam.h):
 * each message packed by the catalogue and sent, the ones that need no
 * answer held for the next that does, every answer read by the seam's
 * deadline.  Runs in the session, unprivileged. */
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "smtpd.h"

int
smtp_link_open(struct smtp_link *l, struct priv_seam *ps)
{
	l->ps = ps;
	l->held = 0;
	l->chunklen = 0;
	l->chunk = malloc(SMTP_CHUNK);
	l->frame = malloc(CHAN_MAX);
	if (l->chunk == NULL || l->frame == NULL) {
		smtp_link_close(l);
		return -1;
	}
	return 0;
}

void
smtp_link_close(struct smtp_link *l)
{
	free(l->chunk);
	free(l->frame);
	l->chunk = NULL;
	l->frame = NULL;
}

/* Send message TYPE, packed in l->frame (LEN bytes; 0 when the packing
 * failed).  A message that needs no answer (WANT 0) waits in l->hold for
 * the next one when it fits; else it goes now, after what waits.  With
 * WANT set, the answer of type WANT is read into l->frame: its length is
 * returned in *RLEN.  Returns 0 or -1. */
static int
ask(struct smtp_link *l, uint32_t type, size_t len, uint32_t want,
    size_t *rlen)
{
	struct priv_seam *ps = l->ps;
	uint32_t rt;
	size_t n;
	int k;

	if (len == 0 && type != SM_END)
		return -1;
	if (want == 0 && (n = chan_frame(l->hold + l->held,
	    sizeof(l->hold) - l->held, type, l->frame, len)) > 0) {
		l->held += n;
		return 0;
	}
	k = chan_send_after(ps->fd, &ps->end, l->hold, l->held, type, l->frame,
	    len);
	l->held = 0;
	if (k == -1)
		return -1;
	if (want == 0)
		return 0;
	k = chan_recv(ps->fd, &ps->end, &rt, l->frame, CHAN_MAX, rlen, NULL,
	    NULL);
	return k == 1 && rt == want ? 0 : -1;
}

int
smtp_link_mail(struct smtp_link *l, const struct sm_mail *m)
{
	l->chunklen = 0;
	return ask(l, SM_MAIL, sm_put_mail(l->frame, CHAN_MAX, m), 0, NULL);
}

int
smtp_link_rcpt(struct smtp_link *l, const struct sm_rcpt *r,
    struct sm_rcpt_rep *rep)
{
	size_t rlen;

	if (ask(l, SM_RCPT, sm_put_rcpt(l->frame, CHAN_MAX, r), SM_RCPT_REP,
	    &rlen) == -1)
		return -1;
	return sm_get_rcpt_rep(l->frame, rlen, rep);
}

/* The piece in l->chunk goes as one SM_BODY. */
static int
body_flush(struct smtp_link *l)
{
	size_t n;

	if (l->chunklen == 0)
		return 0;
	n = sm_put_body(l->frame, CHAN_MAX, l->chunk, l->chunklen);
	l->chunklen = 0;
	return ask(l, SM_BODY, n, 0, NULL);
}

int
smtp_link_body(struct smtp_link *l, const void *p, size_t len)
{
	size_t k;

	while (len > 0) {
		if (l->chunklen == SMTP_CHUNK && body_flush(l) == -1)
			return -1;
		k = SMTP_CHUNK - l->chunklen;
		if (k > len)
			k = len;
		memcpy(l->chunk + l->chunklen, p, k);
		l->chunklen += k;
		p = (const char *)p + k;
		len -= k;
	}
	return 0;
}

int
smtp_link_end(struct smtp_link *l, struct sm_end_rep *rep)
{
	size_t rlen;

	if (body_flush(l) == -1 || ask(l, SM_END, 0, SM_END_REP, &rlen) == -1)
		return -1;
	return sm_get_end_rep(l->frame, rlen, rep);
}

void
smtp_link_forget(struct smtp_link *l)
{
	l->chunklen = 0;
}
