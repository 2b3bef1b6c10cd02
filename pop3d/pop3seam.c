/* pop3seam.c: pop3d's seam catalogue (pop3seam.h): each message packed and
 * unpacked side by side, on the codec of msg.h.  The login checker unpacks
 * what the session sent; the session unpacks the checker's answer.  A
 * password passes through here: the caller wipes its buffers. */
#include "msg.h"
#include "pop3seam.h"

const char *
pm_method_name(enum pm_method m)
{
	return m == PM_PASS ? "pass" : m == PM_PLAIN ? "plain" : "apop";
}

size_t
pm_put_login(void *buf, size_t cap, const struct pm_login *l)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_u32(&w, (uint32_t)l->method);
	msg_put_str(&w, l->name, POP3_AUTH_LINE_MAX);
	msg_put_str(&w, l->secret, POP3_AUTH_LINE_MAX);
	return msg_put_end(&w);
}

int
pm_get_login(const void *p, size_t len, struct pm_login *l)
{
	struct msg r;
	uint32_t v;

	msg_get_init(&r, p, len);
	msg_get_u32(&r, &v, PM_APOP);
	msg_get_str(&r, l->name, sizeof(l->name));
	msg_get_str(&r, l->secret, sizeof(l->secret));
	l->method = (enum pm_method)v;
	return msg_get_end(&r);
}

size_t
pm_put_failed(void *buf, size_t cap, const struct pm_failed *f)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_u32(&w, (uint32_t)f->method);
	msg_put_str(&w, f->name, POP3_AUTH_LINE_MAX);
	msg_put_str(&w, f->reason, PM_REASON_SIZE - 1);
	return msg_put_end(&w);
}

int
pm_get_failed(const void *p, size_t len, struct pm_failed *f)
{
	struct msg r;
	uint32_t v;

	msg_get_init(&r, p, len);
	msg_get_u32(&r, &v, PM_APOP);
	msg_get_str(&r, f->name, sizeof(f->name));
	msg_get_str(&r, f->reason, sizeof(f->reason));
	f->method = (enum pm_method)v;
	return msg_get_end(&r);
}

size_t
pm_put_reply(void *buf, size_t cap, const struct pm_reply *rp)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_u32(&w, (uint32_t)rp->result);
	msg_put_str(&w, rp->text, PM_TEXT_SIZE - 1);
	return msg_put_end(&w);
}

int
pm_get_reply(const void *p, size_t len, struct pm_reply *rp)
{
	struct msg r;
	uint32_t v;

	msg_get_init(&r, p, len);
	msg_get_u32(&r, &v, PM_PERM);
	msg_get_str(&r, rp->text, sizeof(rp->text));
	rp->result = (enum pm_result)v;
	return msg_get_end(&r);
}

size_t
pm_put_handover(void *buf, size_t cap, const void *data, size_t len, int tls)
{
	struct msg w;

	msg_put_init(&w, buf, cap);
	msg_put_data(&w, data, len, IO_RBUF);
	msg_put_u32(&w, tls ? 1 : 0);
	return msg_put_end(&w);
}

int
pm_get_handover(const void *p, size_t len, const unsigned char **data,
    size_t *dlen, int *tls)
{
	struct msg r;
	uint32_t v;

	msg_get_init(&r, p, len);
	msg_get_data(&r, data, dlen, IO_RBUF);
	msg_get_u32(&r, &v, 1);
	*tls = (int)v;
	return msg_get_end(&r);
}
