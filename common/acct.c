/* acct.c: system accounts by name.  A dynamic build asks the name service
 * switch (getpwnam, getspnam).  A static one reads /etc/passwd and
 * /etc/shadow itself: for a name the "files" source does not know, glibc
 * would go on to the next source of nsswitch.conf ("systemd" on Debian)
 * and load that module, a shared library, into the static process, which
 * crashes it.  Every unknown RCPT would do that.  So a static build sees
 * the accounts of those two files only (-T says so when nsswitch.conf
 * names more); build with make DYNAMIC=1 for LDAP or SSSD accounts. */
/* fgetpwent and fgetspent are not POSIX: ask glibc for them. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>

#include "acct.h"

#ifdef INETMAIL_STATIC
#define PASSWD_FILE	"/etc/passwd"
#define SHADOW_FILE	"/etc/shadow"

struct passwd *
acct_getpwnam(const char *name)
{
	struct passwd *pw;
	FILE *f;

	if ((f = fopen(PASSWD_FILE, "re")) == NULL)
		return NULL;
	while ((pw = fgetpwent(f)) != NULL && strcmp(pw->pw_name, name) != 0)
		;
	fclose(f);
	return pw;
}

struct spwd *
acct_getspnam(const char *name)
{
	struct spwd *sp;
	FILE *f;

	if ((f = fopen(SHADOW_FILE, "re")) == NULL)
		return NULL;
	while ((sp = fgetspent(f)) != NULL && strcmp(sp->sp_namp, name) != 0)
		;
	fclose(f);
	return sp;
}

struct passwd *
acct_getpwuid(uid_t uid)
{
	struct passwd *pw;
	FILE *f;

	if ((f = fopen(PASSWD_FILE, "re")) == NULL)
		return NULL;
	while ((pw = fgetpwent(f)) != NULL && pw->pw_uid != uid)
		;
	fclose(f);
	return pw;
}
#else
struct passwd *
acct_getpwnam(const char *name)
{
	return getpwnam(name);
}

struct spwd *
acct_getspnam(const char *name)
{
	return getspnam(name);
}

struct passwd *
acct_getpwuid(uid_t uid)
{
	return getpwuid(uid);
}
#endif
