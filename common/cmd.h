/* cmd.h: the shape of both servers' command tables and the lookup in
 * them.  An entry begins with these members, in this order:
 *     const char *verb;     the command, matched in any case
 *     unsigned    states;   the states it is allowed in: CMD_STATE(st) bits
 *     handler     fn;       result fn(session *, char *arg, size_t len)
 *     result      refuse;   the reply in the other states
 * Each server's dispatcher (smtpd/cmd.c, pop3d/cmd.c) is the only place
 * that answers unknown or out-of-state commands; handlers return a result
 * and one function turns it into the reply.  Runs in the session. */
#ifndef INETMAIL_CMD_H
#define INETMAIL_CMD_H

#include <stddef.h>

/* A session's state as a bit of an entry's STATES.  States are small
 * enums from 0. */
#define CMD_STATE(st)	(1u << (st))

/* Split the command line LINE (LEN bytes; LINE[LEN] is written) at its
 * first space: the verb is LINE's first *VLEN bytes, the argument *ARG the
 * rest (*ARGLEN bytes, NUL-terminated in place; a POP3 password may end
 * in spaces, so none are dropped here). */
void cmd_split(char *line, size_t len, size_t *vlen, char **arg,
    size_t *arglen);

/* The entry of TABLE (N entries of SIZE bytes, each beginning with its
 * verb) whose verb is the VLEN bytes at VERB, in any case; NULL when none. */
const void *cmd_find(const void *table, size_t n, size_t size,
    const char *verb, size_t vlen);

#endif
