/* seam.h: the catalogue of the messages both servers share across a
 * seam.  Each is declared here once, with its fields and their bounds, and
 * packed and unpacked side by side in seam.c on the codec of msg.h; the
 * frames travel on chan.h.  Two seams:
 *
 * The start of a proxied session (-P), session -> privileged part, before
 * the session's greeting and before any other frame; it is the only way
 * the client address of a session can change after the split, and only
 * once:
 *   SEAM_CLIENT     str client: the numeric address the PROXY header named,
 *                   or "" for a header that names none (v2 LOCAL, v1
 *                   UNKNOWN: the proxy's health check; the peer stays the
 *                   client)
 *   SEAM_CLIENT_OK  u32 admit: 1 go on, 0 the client is over -C
 *
 * The listener (-L) and a proxied session's privileged part, which asks
 * once, when it knows the client, whether that client is over -C:
 *   SEAM_ADMIT      str client, str via (the proxy): numeric addresses
 *   SEAM_ADMIT_OK   u32 admit: 1 yes, 0 over -C (the listener logged it)
 */
#ifndef INETMAIL_SEAM_H
#define INETMAIL_SEAM_H

#include <stddef.h>
#include <stdint.h>

/* Message types, apart from every server's own (smtpd/smtpseam.h,
 * pop3d/pop3seam.h) on the same channel. */
enum seam_type {
	SEAM_CLIENT = 200,
	SEAM_CLIENT_OK,
	SEAM_ADMIT = 210,
	SEAM_ADMIT_OK
};

/* A numeric IPv4 or IPv6 address as text, with its NUL (INET6_ADDRSTRLEN
 * is 46). */
#define SEAM_ADDR_SIZE	64

/* Pack into BUF (CAP bytes): the payload length, 0 when a field is out of
 * bounds.  Unpack: 0, or -1 when the payload is not exactly this message
 * with every field within its bounds (an address must be numeric text). */
size_t seam_put_client(void *buf, size_t cap, const char *client);
int seam_get_client(const void *p, size_t len, char client[SEAM_ADDR_SIZE]);

size_t seam_put_admit(void *buf, size_t cap, const char *client,
    const char *via);
int seam_get_admit(const void *p, size_t len, char client[SEAM_ADDR_SIZE],
    char via[SEAM_ADDR_SIZE]);

/* SEAM_CLIENT_OK and SEAM_ADMIT_OK: one flag. */
size_t seam_put_yes(void *buf, size_t cap, int yes);
int seam_get_yes(const void *p, size_t len, int *yes);

/* 1 when S is a numeric IPv4 or IPv6 address, as inet_pton takes it. */
int seam_addr_ok(const char *s);

#endif
