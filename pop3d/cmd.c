/* cmd.c: the POP3 command table with the states each command is valid in,
 * and the dispatcher: the only place that answers unknown or out-of-state
 * commands.  Runs in every state (as root before login, the user after). */
#include <string.h>
#include <strings.h>
#include "pop3d.h"

struct command {
	const char	*name;
	unsigned	 states;	/* ST_* bits it is valid in */
	enum pop3_res	(*fn)(struct pop3 *, char *args);
};

/* RFC 1939 3-7, RFC 2449 5 (CAPA), RFC 5034 4 (AUTH).  NOOP, like STAT, is
 * defined for TRANSACTION only.  USER is accepted again after USER (a client
 * correcting itself); PASS only right after USER. */
static const struct command commands[] = {
	{ "USER", ST_AUTHORIZATION,	pop3_cmd_user },
	{ "PASS", ST_USER,		pop3_cmd_pass },
	{ "AUTH", ST_AUTHORIZATION,	pop3_cmd_auth },
	{ "APOP", ST_AUTHORIZATION,	pop3_cmd_apop },
	{ "CAPA", ST_ANY,		pop3_cmd_capa },
	{ "QUIT", ST_ANY,		pop3_cmd_quit },
	{ "STAT", ST_TRANS,		pop3_cmd_stat },
	{ "LIST", ST_TRANS,		pop3_cmd_list },
	{ "UIDL", ST_TRANS,		pop3_cmd_uidl },
	{ "RETR", ST_TRANS,		pop3_cmd_retr },
	{ "TOP",  ST_TRANS,		pop3_cmd_top },
	{ "DELE", ST_TRANS,		pop3_cmd_dele },
	{ "NOOP", ST_TRANS,		pop3_cmd_noop },
	{ "RSET", ST_TRANS,		pop3_cmd_rset },
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
	const struct command *c = NULL;
	char *args;
	size_t i, klen;

	line[len] = '\0';
	/* RFC 1939 3: a keyword of three or four characters, case-insensitive,
	 * then arguments after a single space. */
	for (klen = 0; klen < len && line[klen] != ' '; klen++)
		;
	args = line + klen;
	if (*args == ' ')
		*args++ = '\0';
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (klen == strlen(commands[i].name) &&
		    strncasecmp(line, commands[i].name, klen) == 0) {
			c = &commands[i];
			break;
		}
	if (c == NULL) {
		/* Not logged: a client could fill the log with junk lines. */
		pop3_reply_result(s, PR_ERR_UNKNOWN);
		return;
	}
	if ((c->states & s->state) == 0) {
		pop3_reply_result(s, PR_ERR_STATE);
		return;
	}
	pop3_reply_result(s, c->fn(s, args));
}
