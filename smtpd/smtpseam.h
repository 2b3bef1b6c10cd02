/* smtpseam.h: the catalogue of the seam between smtpd's session (it reads the
 * client, unprivileged) and its delivery side (privileged: it resolves
 * recipients and writes the mailboxes).  Every message is declared here
 * once, with its fields and their bounds, and packed and unpacked side by
 * side in smtpseam.c; the frames travel on chan.h, after the shared start of a
 * session (common/seam.h).  The delivery side believes a field only after
 * its unpacking checked it, and ends the session on any message that is
 * malformed or out of order.  No message names the client address: the
 * delivery side knows it from before the split (or the PROXY header), and
 * no frame can change it.
 *
 * Session -> delivery side, in this order: MAIL, then RCPTs, then BODY
 * pieces and END; MAIL again starts over.
 *   SM_MAIL      str helo (1-255 bytes, printable, no space), str sender
 *                (at most 256 bytes, no control byte; "" for <>), u32
 *                esmtp (0 HELO, 1 EHLO), u32 tls (1: the session is
 *                encrypted: STARTTLS or -S; the delivery side believes it
 *                only when a TLS wrapper was there at start-up)
 *   SM_RCPT      str local part (a mailbox name: smtp_rcpt_name_ok), str
 *                address as written (at most 256 bytes, no control byte);
 *                answered by SM_RCPT_REP
 *   SM_BODY      data: the next piece of the message (at most SMTP_CHUNK
 *                bytes), LF line ends, dot-stuffing undone, not quoted
 *   SM_END       no fields: the message is whole, deliver it; answered by
 *                SM_END_REP
 * Delivery side -> session:
 *   SM_RCPT_REP  u32 reply (enum reply), u32 count (mailboxes in the
 *                transaction), str boxes (the names this address added,
 *                comma-separated, at most SMTPD_LOG_BOXES_MAX bytes, for
 *                the log)
 *   SM_END_REP   u32 reply, str queue id (at most 15 bytes), str result
 *                (at most 47 bytes, for the log)
 */
#ifndef SMTPD_SEAM_H
#define SMTPD_SEAM_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"
#include "reply.h"

enum smtp_msg {
	SM_MAIL = 1,
	SM_RCPT,
	SM_BODY,
	SM_END,
	SM_RCPT_REP = 101,
	SM_END_REP
};

#define SM_QID_SIZE	16
#define SM_RESULT_SIZE	48
/* Room for the largest reply's payload (SM_RCPT_REP). */
#define SM_REP_MAX	(4 + 4 + 2 + SMTPD_LOG_BOXES_MAX)

struct sm_mail {
	char		 helo[HELO_MAX + 1];
	char		 sender[ADDR_PATH_MAX + 1];
	uint32_t	 esmtp;
	uint32_t	 tls;
};

struct sm_rcpt {
	char		 local[ADDR_LOCAL_MAX + 1];
	char		 addr[ADDR_PATH_MAX + 1];
};

struct sm_rcpt_rep {
	enum reply	 reply;
	uint32_t	 count;
	char		 boxes[SMTPD_LOG_BOXES_MAX + 1];
};

struct sm_end_rep {
	enum reply	 reply;
	char		 qid[SM_QID_SIZE];
	char		 result[SM_RESULT_SIZE];
};

/* Pack into BUF (CAP bytes): the payload's length, 0 when a field is out
 * of its bounds (the message is then not sent).  Unpack P (LEN bytes): 0,
 * or -1 when it is not exactly this message with every field within its
 * bounds; a body's *DATA points into P. */
size_t sm_put_mail(void *buf, size_t cap, const struct sm_mail *m);
int sm_get_mail(const void *p, size_t len, struct sm_mail *m);
size_t sm_put_rcpt(void *buf, size_t cap, const struct sm_rcpt *r);
int sm_get_rcpt(const void *p, size_t len, struct sm_rcpt *r);
size_t sm_put_body(void *buf, size_t cap, const void *data, size_t len);
int sm_get_body(const void *p, size_t len, const unsigned char **data,
    size_t *dlen);
size_t sm_put_rcpt_rep(void *buf, size_t cap, const struct sm_rcpt_rep *r);
int sm_get_rcpt_rep(const void *p, size_t len, struct sm_rcpt_rep *r);
size_t sm_put_end_rep(void *buf, size_t cap, const struct sm_end_rep *r);
int sm_get_end_rep(const void *p, size_t len, struct sm_end_rep *r);

#endif
