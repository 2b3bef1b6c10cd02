/* log.c: the one logging module: syslog LOG_MAIL or stderr, one line per event,
 * each carrying the session id and client address.  Unprivileged. */
#include <errno.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "log.h"
/* <syslog.h> comes after log.h: it defines the facility LOG_SYSLOG as a macro,
 * which would rewrite our enum constant.  We never use that facility. */
#include <syslog.h>
#undef LOG_SYSLOG

/* Where syslog(3) sends its lines on Linux and the BSDs. */
#define SYSLOG_SOCKET	"/dev/log"

/* Read-only after start-up, except the session fields set once per session. */
static char		 log_ident[32] = "inetmail";
static enum log_target	 log_to = LOG_SYSLOG;
static char		 log_sidbuf[32];
static char		 log_client[64];

/* Copy S into DST as printable, space-free text: the session fields come from
 * our own code and getnameinfo(), but a bug there must not split a log line. */
static void
copy_token(char *dst, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[i] = '\0';
}

int
log_fd2_client(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat s0, s1, s2;

	if (fstat(2, &s2) == -1 || !S_ISSOCK(s2.st_mode))
		return 0;
	if ((fstat(0, &s0) == 0 && s0.st_dev == s2.st_dev &&
	    s0.st_ino == s2.st_ino) || (fstat(1, &s1) == 0 &&
	    s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino))
		return 1;
	memset(&ss, 0, sizeof(ss));
	return getsockname(2, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

enum log_target
log_init(const char *ident, enum log_target target)
{
	copy_token(log_ident, sizeof(log_ident), ident);
	/* -l stderr in an inetd line: a log line on fd 2 would reach the
	 * client, in the middle of the protocol.  Syslog has it instead;
	 * -T says so, and says it once, not every connection. */
	if (target == LOG_STDERR && log_fd2_client())
		target = LOG_SYSLOG;
	log_to = target;
	if (target == LOG_SYSLOG) {
		/* LOG_NDELAY connects to /dev/log now, before any chroot hides it. */
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
	return target;
}

void
log_listen_fallback(const char *ident, enum log_target *target)
{
	struct sockaddr_un sun;
	int fd, ok;

	if (*target != LOG_SYSLOG)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", SYSLOG_SOCKET);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (ok)
		return;
	/* Never the client's connection: log_init keeps syslog then. */
	if ((*target = log_init(ident, LOG_STDERR)) == LOG_STDERR)
		log_warnx("syslog unreachable (%s), logging to stderr",
		    SYSLOG_SOCKET);
}

int
log_on_stderr(void)
{
	return log_to == LOG_STDERR;
}

void
log_session(const char *sid, const char *client)
{
	copy_token(log_sidbuf, sizeof(log_sidbuf), sid);
	copy_token(log_client, sizeof(log_client), client);
}

const char *
log_sid(void)
{
	return log_sidbuf;
}

/* Write all of BUF to fd 2.  Errors are ignored: there is nowhere to report them. */
static void
write_stderr(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDERR_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Format and emit one line.  ERRNUM >= 0 appends ": strerror(ERRNUM)". */
static void
log_emit(int prio, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 64];
	size_t len = 0, i;
	int n;

	if (log_to == LOG_NONE)
		return;
	if (log_to == LOG_STDERR) {
		n = snprintf(line, LOG_LINE_MAX, "%s[%ld]: ", log_ident,
		    (long)getpid());
		len = n > 0 ? (size_t)n : 0;
	}
	if (log_sidbuf[0] != '\0') {
		n = snprintf(line + len, LOG_LINE_MAX - len, "sid=%s client=%s ",
		    log_sidbuf, log_client[0] != '\0' ? log_client : "unknown");
		if (n > 0)
			len += (size_t)n;
		if (len >= LOG_LINE_MAX)
			len = LOG_LINE_MAX - 1;
	}
	n = vsnprintf(line + len, LOG_LINE_MAX - len, fmt, ap);
	if (n > 0)
		len += (size_t)n;
	if (errnum >= 0 && len < LOG_LINE_MAX) {
		n = snprintf(line + len, LOG_LINE_MAX - len, ": %s",
		    strerror(errnum));
		if (n > 0)
			len += (size_t)n;
	}
	/* A cut line says so, rather than ending mid-field without a trace. */
	if (len >= LOG_LINE_MAX) {
		len = LOG_LINE_MAX - 1;
		memcpy(line + len - 3, "...", 3);
	}
	/* Callers quote foreign data with log_quote; this is the second fence: a
	 * format mistake must still not let a client forge a second log line. */
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';

	if (log_to == LOG_STDERR) {
		line[len++] = '\n';
		write_stderr(line, len);
	} else {
		line[len] = '\0';
		syslog(prio, "%s", line);
	}
}

void
log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, -1, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, -1, fmt, ap);
	va_end(ap);
	exit(status);
}

/* Bytes the \xHH escape of C takes in log_quote. */
static size_t
quoted_len(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? 1 : 4;
}

char *
log_quote(char *buf, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0, total = 0, room;
	int cut;
	unsigned char c;

	if (cap == 0)
		return buf;
	/* Too small for even "..." with its quotes: an empty string, not a crash. */
	if (cap < 6) {
		buf[0] = '\0';
		return buf;
	}
	if (s == NULL)
		len = 0;
	cut = len > LOG_FIELD_MAX;
	if (cut)
		len = LOG_FIELD_MAX;
	for (i = 0; i < len; i++)
		total += quoted_len((unsigned char)s[i]);
	/* Two quotes and the NUL; a cut string also needs "..." after them. */
	if (cut || total + 3 > cap)
		cut = 1;
	room = cap - (cut ? 6 : 3);

	buf[o++] = '"';
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		/* Never split an escape: a half "\x4" would mislead a reader. */
		if (o - 1 + quoted_len(c) > room)
			break;
		if (quoted_len(c) == 1) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o++] = '"';
	/* "..." goes after the closing quote: inside it would be ambiguous with
	 * data that really ends in three dots. */
	if (cut) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
