/* msg.c: the typed codec of seam messages (msg.h).  Runs on both sides of
 * every seam: the privileged side reads with it what an unprivileged
 * process sent, so every get checks its bound before it copies. */
#include <string.h>

#include "msg.h"

void
msg_put_init(struct msg *m, void *buf, size_t cap)
{
	memset(m, 0, sizeof(*m));
	m->out = buf;
	m->cap = cap;
}

void
msg_get_init(struct msg *m, const void *p, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->in = p;
	m->len = len;
}

/* Room for N more bytes in a payload being built; sets bad when not. */
static int
room(struct msg *m, size_t n)
{
	if (m->bad || m->out == NULL || n > m->cap - m->len) {
		m->bad = 1;
		return 0;
	}
	return 1;
}

static void
put_be(unsigned char *p, uint32_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

void
msg_put_u32(struct msg *m, uint32_t v)
{
	if (!room(m, 4))
		return;
	put_be(m->out + m->len, v, 4);
	m->len += 4;
}

void
msg_put_str(struct msg *m, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max || n > 0xffff || !room(m, 2 + n)) {
		m->bad = 1;
		return;
	}
	put_be(m->out + m->len, (uint32_t)n, 2);
	memcpy(m->out + m->len + 2, s, n);
	m->len += 2 + n;
}

void
msg_put_data(struct msg *m, const void *p, size_t len, size_t max)
{
	if (len > max || len > 0xffffffffu || !room(m, 4 + len)) {
		m->bad = 1;
		return;
	}
	put_be(m->out + m->len, (uint32_t)len, 4);
	if (len > 0)
		memcpy(m->out + m->len + 4, p, len);
	m->len += 4 + len;
}

/* N more bytes to read; sets bad when the payload ends first. */
static const unsigned char *
take(struct msg *m, size_t n)
{
	const unsigned char *p;

	if (m->bad || m->in == NULL || n > m->len - m->pos) {
		m->bad = 1;
		return NULL;
	}
	p = m->in + m->pos;
	m->pos += n;
	return p;
}

static uint32_t
get_be(const unsigned char *p, int bytes)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

void
msg_get_u32(struct msg *m, uint32_t *v, uint32_t max)
{
	const unsigned char *p = take(m, 4);

	*v = 0;
	if (p == NULL)
		return;
	if (get_be(p, 4) > max) {
		m->bad = 1;
		return;
	}
	*v = get_be(p, 4);
}

void
msg_get_str(struct msg *m, char *buf, size_t cap)
{
	const unsigned char *p = take(m, 2), *s;
	size_t n;

	if (cap > 0)
		buf[0] = '\0';
	if (p == NULL)
		return;
	n = get_be(p, 2);
	/* The length is checked before the bytes are: a string longer than
	 * its field is refused whole, never cut to fit. */
	if (n >= cap || (s = take(m, n)) == NULL ||
	    memchr(s, '\0', n) != NULL) {
		m->bad = 1;
		return;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

void
msg_get_data(struct msg *m, const unsigned char **p, size_t *len, size_t max)
{
	const unsigned char *h = take(m, 4), *d;
	size_t n;

	*p = NULL;
	*len = 0;
	if (h == NULL)
		return;
	n = get_be(h, 4);
	if (n > max || (d = take(m, n)) == NULL) {
		m->bad = 1;
		return;
	}
	*p = d;
	*len = n;
}

size_t
msg_put_end(const struct msg *m)
{
	return m->bad ? 0 : m->len;
}

int
msg_get_end(const struct msg *m)
{
	return m->bad || m->pos != m->len ? -1 : 0;
}
