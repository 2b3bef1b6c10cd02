/* msg.h: the typed codec of the messages that cross a process seam.  A
 * payload is a run of fields, each written by a put and read back by the
 * get of the same type in the same order; a seam's catalogue (common/seam.c,
 * smtpd/smtpseam.c, pop3d/pop3seam.c) declares each message once as such a run,
 * with the bound of every field, and packs and unpacks it side by side.
 * Used on both sides of every seam; a reader trusts nothing it is sent. */
#ifndef INETMAIL_MSG_H
#define INETMAIL_MSG_H

#include <stddef.h>
#include <stdint.h>

/* The wire form of a field: a u32 is 4 bytes, most significant first; a
 * string is its length as a u16 then its bytes (no NUL: a NUL inside is
 * refused); data is its length as a u32 then its bytes. */
struct msg {
	unsigned char		*out;	/* put: where the payload is built */
	const unsigned char	*in;	/* get: the payload being read */
	size_t			 cap;	/* put: room at out */
	size_t			 len;	/* put: bytes written; get: payload length */
	size_t			 pos;	/* get: bytes read so far */
	int			 bad;	/* a put did not fit, or a get met a
					 * field out of bounds or cut short */
};

/* Start building a payload in BUF (CAP bytes). */
void msg_put_init(struct msg *m, void *buf, size_t cap);
/* Start reading the payload P (LEN bytes). */
void msg_get_init(struct msg *m, const void *p, size_t len);

/* Puts: a field that does not fit, or a string over MAX bytes, sets
 * m->bad (and the payload is not to be sent). */
void msg_put_u32(struct msg *m, uint32_t v);
void msg_put_str(struct msg *m, const char *s, size_t max);
void msg_put_data(struct msg *m, const void *p, size_t len, size_t max);

/* Gets: a field that is cut short or out of bounds sets m->bad and leaves
 * a harmless value (0, "", no data); every later get then fails too, so a
 * catalogue can read all its fields and check once, with msg_end.
 *   u32:  the value must be at most MAX;
 *   str:  at most CAP - 1 bytes and no NUL, copied to BUF with a NUL;
 *   data: at most MAX bytes; *P points into the payload. */
void msg_get_u32(struct msg *m, uint32_t *v, uint32_t max);
void msg_get_str(struct msg *m, char *buf, size_t cap);
void msg_get_data(struct msg *m, const unsigned char **p, size_t *len,
    size_t max);

/* Put: the payload's length, or 0 when anything was bad (no message has
 * an empty payload and fields: a field-less message is built by no put and
 * sent with length 0 directly).  Get: 0 when every field was good and the
 * payload is used up, else -1 (bytes left over count as bad: a message
 * has exactly its declared fields). */
size_t msg_put_end(const struct msg *m);
int msg_get_end(const struct msg *m);

#endif
