/* seam.c: the shared catalogue (seam.h): each message packed and unpacked
 * side by side.  The unpacking side may be the privileged one: it checks
 * every field before anyone uses it. */
#include <arpa/inet.h>
#include <string.h>

#include "msg.h"
#include "seam.h"

int
seam_addr_ok(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* SEAM_CLIENT: str client ("" or numeric). */
size_t
seam_put_client(void *buf, size_t cap, const char *client)
{
	struct msg m;

	msg_put_init(&m, buf, cap);
	msg_put_str(&m, client, SEAM_ADDR_SIZE - 1);
	return msg_put_end(&m);
}

int
seam_get_client(const void *p, size_t len, char client[SEAM_ADDR_SIZE])
{
	struct msg m;

	msg_get_init(&m, p, len);
	msg_get_str(&m, client, SEAM_ADDR_SIZE);
	if (msg_get_end(&m) == -1 ||
	    (client[0] != '\0' && !seam_addr_ok(client)))
		return -1;
	return 0;
}

/* SEAM_ADMIT: str client, str via (both numeric). */
size_t
seam_put_admit(void *buf, size_t cap, const char *client, const char *via)
{
	struct msg m;

	msg_put_init(&m, buf, cap);
	msg_put_str(&m, client, SEAM_ADDR_SIZE - 1);
	msg_put_str(&m, via, SEAM_ADDR_SIZE - 1);
	return msg_put_end(&m);
}

int
seam_get_admit(const void *p, size_t len, char client[SEAM_ADDR_SIZE],
    char via[SEAM_ADDR_SIZE])
{
	struct msg m;

	msg_get_init(&m, p, len);
	msg_get_str(&m, client, SEAM_ADDR_SIZE);
	msg_get_str(&m, via, SEAM_ADDR_SIZE);
	if (msg_get_end(&m) == -1 || !seam_addr_ok(client) ||
	    !seam_addr_ok(via))
		return -1;
	return 0;
}

/* SEAM_CLIENT_OK, SEAM_ADMIT_OK: u32 yes (0 or 1). */
size_t
seam_put_yes(void *buf, size_t cap, int yes)
{
	struct msg m;

	msg_put_init(&m, buf, cap);
	msg_put_u32(&m, yes ? 1 : 0);
	return msg_put_end(&m);
}

int
seam_get_yes(const void *p, size_t len, int *yes)
{
	struct msg m;
	uint32_t v;

	msg_get_init(&m, p, len);
	msg_get_u32(&m, &v, 1);
	*yes = (int)v;
	return msg_get_end(&m);
}
