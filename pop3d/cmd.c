/* cmd.c: the POP3 command table with the states each command is valid in
 * (the shape of cmd.h), and the dispatcher: the only place that answers
 * unknown or out-of-state commands.  Runs in the session before login and
 * in the owner's process after it. */
#include <string.h>

#include "cmd.h"
#include "pop3d.h"

/* RFC 1939 3-7, RFC 2449 5 (CAPA), RFC 5034 4 (AUTH), RFC 2595 4 (STLS).  NOOP, like STAT, is
 * defined for TRANSACTION only.  USER is accepted again after USER (a client
 * correcting itself); PASS only right after USER. */
static const struct pop3_cmd commands[] = {
	{ "USER", ST_AUTHORIZATION,	pop3_cmd_user,	PR_ERR_STATE },
	{ "PASS", CMD_STATE(ST_USER),	pop3_cmd_pass,	PR_ERR_STATE },
	{ "AUTH", ST_AUTHORIZATION,	pop3_cmd_auth,	PR_ERR_STATE },
	{ "APOP", ST_AUTHORIZATION,	pop3_cmd_apop,	PR_ERR_STATE },
	{ "STLS", ST_AUTHORIZATION,	pop3_cmd_stls,	PR_ERR_STATE },
	{ "CAPA", ST_ANY,		pop3_cmd_capa,	PR_ERR_STATE },
	{ "QUIT", ST_ANY,		pop3_cmd_quit,	PR_ERR_STATE },
	{ "STAT", CMD_STATE(ST_TRANS),	pop3_cmd_stat,	PR_ERR_STATE },
	{ "LIST", CMD_STATE(ST_TRANS),	pop3_cmd_list,	PR_ERR_STATE },
	{ "UIDL", CMD_STATE(ST_TRANS),	pop3_cmd_uidl,	PR_ERR_STATE },
	{ "RETR", CMD_STATE(ST_TRANS),	pop3_cmd_retr,	PR_ERR_STATE },
	{ "TOP",  CMD_STATE(ST_TRANS),	pop3_cmd_top,	PR_ERR_STATE },
	{ "DELE", CMD_STATE(ST_TRANS),	pop3_cmd_dele,	PR_ERR_STATE },
	{ "NOOP", CMD_STATE(ST_TRANS),	pop3_cmd_noop,	PR_ERR_STATE },
	{ "RSET", CMD_STATE(ST_TRANS),	pop3_cmd_rset,	PR_ERR_STATE },
};

int
pop3_split(char *args, char **argv, int max)
{
	int n = 0;

	/* Words are separated by one space (RFC 1939 3); runs of spaces and
	 * trailing spaces are tolerated since they cannot change a meaning. */
	for (;;) {
		while (*args == ' ')
			*args++ = '\0';
		if (*args == '\0')
			return n;
		if (n == max)
			return -1;
		argv[n++] = args;
		while (*args != '\0' && *args != ' ')
			args++;
	}
}

void
pop3_dispatch(struct pop3 *s, char *line, size_t len)
{
	const struct pop3_cmd *c;
	size_t vlen, arglen;
	char *arg;

	/* RFC 1939 3: a keyword of three or four characters, case-insensitive,
	 * then arguments after a single space. */
	cmd_split(line, len, &vlen, &arg, &arglen);
	c = cmd_find(commands, sizeof(commands) / sizeof(commands[0]),
	    sizeof(commands[0]), line, vlen);
	if (c == NULL) {
		/* Not logged: a client could fill the log with junk lines. */
		pop3_reply_result(s, PR_ERR_UNKNOWN);
		return;
	}
	if ((c->states & CMD_STATE(s->state)) == 0) {
		pop3_reply_result(s, c->refuse);
		return;
	}
	pop3_reply_result(s, c->fn(s, arg, arglen));
}
