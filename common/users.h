/* users.h: user lookup in a dovecot-style passwd-file (-p) or in the system
 * accounts (password checks: pass.h).  Runs in the privileged parts. */
#ifndef INETMAIL_USERS_H
#define INETMAIL_USERS_H

#include <stddef.h>
#include <sys/types.h>
#include "params.h"

struct user {
	char	 name[USER_MAX + 1];	/* as found in the file (case kept) */
	char	 pass[256];		/* stored password, prefix included */
	int	 has_ids;		/* uid/gid given in the file */
	uid_t	 uid;
	gid_t	 gid;
};

/* Look NAME (LEN bytes) up in users file PATH, or in the system accounts when
 * PATH is NULL.  FOLD matches case-insensitively (SMTP local parts).
 * Returns 1 found (*U filled), 0 not found, -1 the file could not be read or
 * has a malformed line (logged once, with its line number). */
int users_lookup(const char *path, const char *name, size_t len, int fold,
    struct user *u);

/* Check a whole users file: returns 0, -1 when it cannot be read (missing,
 * no permission, a directory) or -2 when a line is malformed or too long;
 * either is logged once, here, with the file name (and line number). */
int users_check_file(const char *path);

/* Parse one users-file line (no line end) into *U.  Returns 1 on an entry,
 * 0 on a comment or blank line, -1 on a malformed line, with *WHY (when WHY
 * is not NULL) saying what is wrong. */
int users_parse_line(const char *line, size_t len, struct user *u,
    const char **why);

/* Read users file PATH line by line: FN gets each entry (*E) or malformed
 * line (E NULL, WHY set) with its line number; it returns nonzero to stop.
 * Comments and blank lines are skipped.  Returns 0, -2 when a line was
 * malformed, -1 when the file could not be read (errno set; not logged:
 * the caller says so). */
typedef int users_walk_fn(void *ctx, unsigned long lineno,
    const struct user *e, const char *why);
int users_walk(const char *path, users_walk_fn *fn, void *ctx);

#endif
