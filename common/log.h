/* log.h: the one logging module of both servers (syslog LOG_MAIL or stderr).
 * Unprivileged; openlog() is called before any chroot. */
#ifndef INETMAIL_LOG_H
#define INETMAIL_LOG_H

#include <stddef.h>

/* LOG_NONE drops every line: -T runs the server's own code for its
 * verdicts and says what it found in its own words. */
enum log_target { LOG_SYSLOG = 0, LOG_STDERR = 1, LOG_NONE = 2 };

/* Start logging as IDENT ("smtpd", "pop3d") to TARGET.  Nothing is ever written
 * to fd 2 unless TARGET is LOG_STDERR: under inetd fd 2 is the client.  Not
 * even then when fd 2 is a client's connection (log_fd2_client): the log
 * goes to syslog instead.  Returns the target taken. */
enum log_target log_init(const char *ident, enum log_target target);

/* 1 when fd 2 is a connection to a client: a socket that is also fd 0 or
 * fd 1 (inetd, xinetd and systemd's StandardError=socket hand one
 * connection over as fds 0, 1 and 2), or any Internet socket.  A Unix
 * socket of its own (journald's stream) is a log, not a client. */
int log_fd2_client(void);

/* Standalone (-L) with the log going to syslog: when no syslog daemon can
 * be reached (/dev/log missing, as in containers and minimal images), log
 * to stderr instead, which under -L is never a client, and set *TARGET.
 * Under inetd nothing changes: fd 2 may be the client there. */
void log_listen_fallback(const char *ident, enum log_target *target);

/* 1 when the log goes to fd 2 (-l stderr taken, or the -L fallback). */
int log_on_stderr(void);

/* Set the session id and client address put on every following line. */
void log_session(const char *sid, const char *client);
const char *log_sid(void);

/* One line per event, "key=value" fields.  log_warn appends ": strerror(errno)";
 * fatal logs and exits with STATUS (a <sysexits.h> code). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Escape LEN bytes of foreign data S (HELO, addresses, user names) into BUF of
 * CAP bytes as a double-quoted string: CR, LF, ESC, quotes, backslashes, control
 * and 8-bit bytes become \xHH, and the result is cut (ending in "...") rather
 * than overflowing.  Returns BUF.  Use as key=%s. */
char *log_quote(char *buf, size_t cap, const char *s, size_t len);
#define LOG_QUOTE_SIZE	(4 * 128 + 8)

#endif
