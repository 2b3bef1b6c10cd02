/* startup.c: how a server that cannot start says so (startup.h), the same
 * for both servers.  Runs at start-up, as root under inetd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "io.h"
#include "log.h"
#include "startup.h"

static const char	*prog = "inetmail";
static const char	*usage_text = "";
static const char	*reply_fmt = "";
static const struct opts *opts;

void
startup_init(const char *name, const char *usage, const char *reply,
    const struct opts *o)
{
	prog = name;
	usage_text = usage;
	reply_fmt = reply;
	opts = o;
}

/* The reply line, for a client only: an admin at a terminal who mistyped
 * an option wants the usage, not a protocol line.  On a socket the
 * connection is shut after it without a reset (io_linger), so the client
 * reads it. */
static void
reply(void)
{
	char line[512];
	struct io io;
	const char *host = opts != NULL && opts->host[0] != '\0' ?
	    opts->host : "localhost";
	int n;

	if (isatty(1))
		return;
	/* The format is ours (startup_init), with at most one %s. */
	n = snprintf(line, sizeof(line) - 2, reply_fmt, host);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return;
	memcpy(line + n, "\r\n", 2);
	io_init_fd(&io, 0, 1, 10);
	io_write(&io, line, (size_t)n + 2);
	if (io_flush(&io) == 0)
		io_linger(&io, LINGER_MS);
}

/* The failure, logged; and for an admin at a terminal (fd 2 a tty, never
 * a client's connection) on stderr as well, unless the log went there or
 * SAID: the log may be a syslog the terminal does not show. */
static _Noreturn void
fail(int status, const char *why, const char *what, int said)
{
	char q[LOG_QUOTE_SIZE];

	if (why != NULL && what != NULL)
		log_warnx("startup failed: %s: %s", why,
		    log_quote(q, sizeof(q), what, strlen(what)));
	else if (why != NULL)
		log_warnx("startup failed: %s", why);
	if (!said && why != NULL && !log_on_stderr() && isatty(2)) {
		if (what != NULL)
			fprintf(stderr, "%s: %s: %s\n", prog, why, what);
		else
			fprintf(stderr, "%s: %s\n", prog, why);
		fflush(stderr);
	}
	reply();
	exit(status);
}

_Noreturn void
startup_fail(int status, const char *why, const char *what)
{
	fail(status, why, what, 0);
}

_Noreturn void
startup_usage(const char *why, const char *what)
{
	struct cfgcheck c = { prog, 0, 0 };
	struct stat st;

	if (opts != NULL && opts->test) {
		if (what != NULL)
			cfg_report(&c, 1, NULL, 0, "%s: %s", why, what);
		else
			cfg_report(&c, 1, NULL, 0, "%s", why);
		exit(cfg_done(&c));
	}
	/* The admin at a terminal, or a test, reads stderr; under inetd it
	 * is the connection, where only the reply goes. */
	if (fstat(2, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		if (what != NULL)
			fprintf(stderr, "%s: %s: %s\n%s\n", prog, why, what,
			    usage_text);
		else
			fprintf(stderr, "%s: %s\n%s\n", prog, why, usage_text);
		fflush(stderr);
		fail(EX_USAGE, why, what, 1);
	}
	fail(EX_USAGE, why, what, 0);
}
