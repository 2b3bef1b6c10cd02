/* pass.h: password checks (pass.c): crypt(3), plain schemes in constant
 * time, and the dummy check that makes an unknown user cost what a known
 * one does.  Only pop3d's login checker uses them (smtpd never checks a
 * password and does not load libcrypt). */
#ifndef INETMAIL_PASS_H
#define INETMAIL_PASS_H

/* Compare password GIVEN with STORED (crypt string, {PLAIN}, {CRYPT},
 * {SHA512-CRYPT} ...).  {PLAIN} compares in constant time.  Returns 1 on a
 * match, 0 otherwise.  pass_dummy_check() does a crypt's work for an
 * unknown user.  Callers pad every failed login to one fixed delay (pop3d:
 * about 1 s), so failures take equal time whatever the user or scheme. */
int pass_check(const char *stored, const char *given);
void pass_dummy_check(const char *given);

/* The clear text of STORED when its scheme is a plain one ({PLAIN}, {CLEAR},
 * {CLEARTEXT}, any case: the same rule as pass_check), for challenge-
 * response checks such as APOP; NULL for any other scheme.  Points into
 * STORED. */
const char *pass_plain(const char *stored);

/* Clear LEN bytes at P in a way the compiler cannot drop: passwords,
 * digests, hash states, once they are no longer needed. */
void pass_wipe(void *p, size_t len);

#endif
