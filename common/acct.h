/* acct.h: system accounts by name, for the users (no -p), -u and -U; and
 * by uid, for -T. */
#ifndef INETMAIL_ACCT_H
#define INETMAIL_ACCT_H

#include <pwd.h>
#include <shadow.h>

/* getpwnam(3) and getspnam(3), or in a static build the entry of that name
 * in /etc/passwd, /etc/shadow (read with fgetpwent/fgetspent: "files"
 * only, see acct.c).  NULL when there is none (errno may say why).  The
 * result lives until the next call. */
struct passwd *acct_getpwnam(const char *name);
struct spwd *acct_getspnam(const char *name);
/* getpwuid(3), or in a static build the first entry of /etc/passwd with
 * uid UID.  The same rules. */
struct passwd *acct_getpwuid(uid_t uid);

#endif
