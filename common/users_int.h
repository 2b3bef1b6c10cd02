/* users_int.h: shared by users.c (lookup) and pass.c (password checks) only. */
#ifndef INETMAIL_USERS_INT_H
#define INETMAIL_USERS_INT_H

enum scheme { S_CRYPT, S_PLAIN, S_UNKNOWN };

/* The scheme of stored password STORED ("{PLAIN}x", "{SHA512-CRYPT}$6$...",
 * "$y$..."), and in *REST the password text after its prefix. */
enum scheme users_scheme(const char *stored, const char **rest);

/* Set by the users file scan when its first entry is a $6$ hash: the dummy
 * check of an unknown user then costs what a known user's check does. */
extern int users_dummy_sha512;

#endif
