/* fuzz_util.c: the harnesses' shared scratch directory and file helpers, and
 * three stubs that keep the fuzzers fast without hiding any code of ours:
 *  - syslog(): there is no syslogd here and a connect() per log line would
 *    dominate; log.c still formats and escapes every line before the call.
 *  - crypt_rn(): libxcrypt is not ours, and the dummy check for an unknown
 *    user costs 16 ms and 18 MiB (yescrypt); the stub "cannot handle" any
 *    hash, so crypt logins always fail (the harnesses use {PLAIN} users).
 *  - fsync(): durability is the fault-injection tests' job; here it only
 *    made every delivery and expunge wait for the disk.  Bad fds still fail. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "chan.h"
#include "clock.h"
#include "fuzz.h"

static char scratch[4096];

static void
scratch_remove(void)
{
	char path[8192];
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (scratch[0] == '\0' || (d = opendir(scratch)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			fuzz_clean_dir(path);
			rmdir(path);
		} else
			unlink(path);
	}
	closedir(d);
	rmdir(scratch);
}

const char *
fuzz_scratch(const char *name)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch[0] != '\0')
		return scratch;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/inetmail-fuzz-%s.XXXXXX", tmp,
	    name);
	if (mkdtemp(scratch) == NULL)
		fuzz_fail("mkdtemp %s: %s", scratch, strerror(errno));
	/* Searchable by the users the POP3 harness "drops" to. */
	chmod(scratch, 0755);
	atexit(scratch_remove);
	return scratch;
}

void
fuzz_put(const char *path, const void *p, size_t len, mode_t mode)
{
	const char *c = p;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
	if (fd < 0)
		fuzz_fail("open %s: %s", path, strerror(errno));
	while (len > 0) {
		n = write(fd, c, len);
		if (n <= 0)
			fuzz_fail("write %s: %s", path, strerror(errno));
		c += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		fuzz_fail("close %s: %s", path, strerror(errno));
}

char *
fuzz_slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		fuzz_fail("open %s: %s", path, strerror(errno));
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fuzz_fail("malloc");
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

void
fuzz_clean_dir(const char *dir)
{
	char path[8192];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

int
fuzz_lock_left(const char *dir, char *name, size_t cap)
{
	struct dirent *e;
	size_t l;
	DIR *d;
	int found = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		l = strlen(e->d_name);
		if ((l > 5 && strcmp(e->d_name + l - 5, ".lock") == 0) ||
		    strncmp(e->d_name, ".lk", 3) == 0) {
			snprintf(name, cap, "%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

void
fuzz_log_init(const char *ident)
{
	log_init(ident, getenv("FUZZ_LOG") != NULL ? LOG_STDERR : LOG_SYSLOG);
}

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("FUZZ ORACLE FAILED: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* --- stubs (see the top of the file) ---------------------------------- */

void syslog(int prio, const char *fmt, ...);
void
syslog(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

char *crypt_rn(const char *phrase, const char *setting, void *data, int size);
char *
crypt_rn(const char *phrase, const char *setting, void *data, int size)
{
	(void)phrase;
	(void)setting;
	(void)data;
	(void)size;
	errno = EINVAL;
	return NULL;
}

int fsync(int fd);
int
fsync(int fd)
{
	return fcntl(fd, F_GETFD) == -1 ? -1 : 0;
}

void
fuzz_append(char **out, size_t *used, size_t *cap, const void *buf, size_t len)
{
	if (*used + len > *cap) {
		*cap = (*used + len) * 2;
		if ((*out = realloc(*out, *cap)) == NULL)
			fuzz_fail("realloc");
	}
	memcpy(*out + *used, buf, len);
	*used += len;
}

void
fuzz_peer_start(struct fuzz_peer *p, void *(*fn)(void *), const void *conf)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	if (chan_pair(sv) == -1)
		fuzz_fail("socketpair: %s", strerror(errno));
	p->ps.fd = sv[0];
	p->sess.fd = sv[1];
	clock_in(&p->ps.end, 3600 * 1000L);
	p->sess.end = p->ps.end;
	p->conf = conf;
	if (pthread_create(&p->t, NULL, fn, p) != 0)
		fuzz_fail("pthread_create");
}

int
fuzz_peer_join(struct fuzz_peer *p)
{
	if (p->sess.fd != -1)
		close(p->sess.fd);
	p->sess.fd = -1;
	if (pthread_join(p->t, NULL) != 0)
		fuzz_fail("pthread_join");
	return p->rc;
}
