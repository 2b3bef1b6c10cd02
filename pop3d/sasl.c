/* sasl.c: the parsers of AUTH PLAIN (RFC 4616) and its base64 (RFC 4648):
 * pure functions on the bytes a client sent.  Runs in the session,
 * unprivileged. */
#include <string.h>

#include "pop3d.h"

/* RFC 4616 2: [authzid] NUL authcid NUL passwd.  Acting for someone else is
 * not supported, so an authzid must be empty or the authcid itself.  The
 * authcid is found first, so that even a refused message names its user in
 * the log. */
int
pop3_sasl_plain(char *msg, size_t len, char **user, char **pass)
{
	char *nul1, *nul2;

	*user = NULL;
	*pass = NULL;
	msg[len] = '\0';
	if ((nul1 = memchr(msg, '\0', len)) == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg));
	if (nul2 == NULL)
		return -1;
	*user = nul1 + 1;
	if (memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - msg)) != NULL)
		return -1;
	if (**user == '\0')
		return -1;
	*pass = nul2 + 1;
	if (nul1 != msg && strcmp(msg, *user) != 0)
		return -2;
	return 0;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
pop3_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t i, o = 0;
	int v[4], k, pad;

	/* RFC 4648 4, strictly: whole quanta, padding only at the end. */
	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				pad++;
				v[k] = 0;
				continue;
			}
			if (pad > 0 || (v[k] = b64_val((unsigned char)in[i + k])) < 0)
				return -1;
		}
		if (o + 3 - (size_t)pad > cap)
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}
