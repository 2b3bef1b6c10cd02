/* domain.c: the domains smtpd may be told are its own: the syntax of a
 * -d domain, and /etc/mailname (Debian policy 11.6), which names this
 * system's mail domain and is one of ours when no -d is given (addr.c
 * says which domain is ours).  Runs at start-up, as root, and under -T. */
#include <stdio.h>
#include <string.h>

#include "smtpd.h"

int
smtp_domain_ok(const char *d, size_t len)
{
	return len > 0 && len <= ADDR_DOMAIN_MAX &&
	    strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") >= len;
}

int
smtp_mailname_read(char *buf, size_t cap)
{
	char line[ADDR_DOMAIN_MAX + 2];
	size_t n;
	FILE *f;
	int rc = -1;

	if ((f = fopen(MAILNAME_FILE, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (smtp_domain_ok(line, n) && n < cap) {
			memcpy(buf, line, n + 1);
			rc = 1;
		}
	}
	fclose(f);
	return rc;
}
