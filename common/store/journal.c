/* journal.c: the expunge journal SPOOL/.NAME.redo: its path, the copy and
 * the idempotent replay, and the recovery every locker runs.  Runs as the
 * locker: the mailbox owner (pop3d) or the delivery side (smtpd).  The
 * format and the crash analysis are in DESIGN.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "store.h"
#include "store_int.h"
#include "trust.h"

int
journal_path(const struct store_box *b, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%.*s/.%s.redo", (int)(b->namepos - 1),
	    b->path, b->path + b->namepos);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
journal_copy(struct store_box *b, int in, uint64_t ioff, int out,
    uint64_t ooff, uint64_t len, char *buf)
{
	uint64_t done = 0;
	ssize_t r, w;
	size_t want, k;

	while (done < len) {
		want = len - done > JOURNAL_CHUNK ? JOURNAL_CHUNK :
		    (size_t)(len - done);
		r = pread(in, buf, want, (off_t)(ioff + done));
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		for (k = 0; k < (size_t)r; k += (size_t)w) {
			w = pwrite(out, buf + k, (size_t)r - k, (off_t)(ooff + done + k));
			if (w <= 0) {
				if (w == 0)
					errno = ENOSPC;	/* a short write: the disk is full */
				return -1;
			}
		}
		done += (uint64_t)r;
		FAULT("expunge.copy", out);
		store_refresh(b);	/* a long copy must not look stale */
	}
	return 0;
}

int
journal_apply(struct store_box *b, int jfd, uint64_t x, uint64_t len,
    char *buf)
{
	if (journal_copy(b, jfd, JOURNAL_HEAD, b->fd, x, len, buf) == -1 ||
	    ftruncate(b->fd, (off_t)(x + len)) == -1 ||
	    (FAULT("expunge.truncated", b->fd), fsync(b->fd)) == -1) {
		log_warn("mailbox=%s expunge replay", b->path);
		return -1;
	}
	return 0;
}

/* Parse header HEAD (JOURNAL_HEAD bytes, NUL-terminated after them):
 * "inetmail-redo 1 DEV INO X LEN ORIGSIZE\n" and zeros.  Returns 0 or -1
 * (no complete header: the journal was never committed). */
static int
parse_head(const char *head, uint64_t v[5])
{
	static const char magic[] = "inetmail-redo 1 ";
	const char *p = head + sizeof(magic) - 1, *sp;
	size_t i;

	if (strncmp(head, magic, sizeof(magic) - 1) != 0)
		return -1;
	for (i = 0; i < 5; i++) {
		sp = strchr(p, i < 4 ? ' ' : '\n');
		if (sp == NULL || num_parse(p, (size_t)(sp - p), 0, UINT64_MAX,
		    &v[i]) == -1)
			return -1;
		p = sp + 1;
	}
	return v[2] <= UINT64_MAX - v[3] ? 0 : -1;
}

int
journal_recover(struct store_box *b)
{
	char path[PATH_MAX], spool[PATH_MAX], head[JOURNAL_HEAD + 1], *buf;
	uint64_t v[5];		/* dev, ino, x, len, orig */
	struct stat js, ms;
	int jfd, e = STORE_OK;

	if (journal_path(b, path, sizeof(path)) == -1) {
		log_warnx("mailbox=%s journal path too long", b->path);
		return STORE_ENAME;
	}
	/* A journal is replayed over the mailbox: only one we trust, made by
	 * its owner's pop3d: in a sticky spool anyone can plant a file under
	 * this name, and a planted journal would rewrite the mailbox, a
	 * planted FIFO hang every locker.  An untrusted one never touches the
	 * mailbox: it is removed when we may (as root; we hold the lock, so no
	 * trusted one can take its place meanwhile), else ignored, and an
	 * expunge then fails until a login clears it (store_clear). */
	jfd = trust_open_clear(path, O_RDONLY, 0, b->owner, "journal", &js);
	if (jfd == -2)
		return STORE_OK;
	if (jfd == -1) {
		if (errno == ENOENT)
			return STORE_OK;
		log_warn("journal=%s open", path);
		return STORE_EIO;
	}
	memset(head, 0, sizeof(head));
	if (fstat(b->fd, &ms) == -1 ||
	    pread(jfd, head, JOURNAL_HEAD, 0) != JOURNAL_HEAD ||
	    parse_head(head, v) == -1 ||
	    (uint64_t)js.st_size < JOURNAL_HEAD + v[3]) {
		/* No complete header: the writer died before the mailbox was
		 * touched.  The journal is garbage. */
		close(jfd);
		log_info("journal=%s incomplete, dropped", path);
		if (unlink(path) == -1) {
			log_warn("journal=%s unlink", path);
			return STORE_EIO;
		}
		return STORE_OK;
	}
	/* v[0], the writer's st_dev, is not compared: another host's mount
	 * of a cluster volume shows the same file with a st_dev of its own. */
	if (v[1] != (uint64_t)ms.st_ino ||
	    ((uint64_t)ms.st_size != v[4] && (uint64_t)ms.st_size != v[2] + v[3])) {
		/* Not for this file or this state: replaying could destroy
		 * mail.  Keep it aside for the admin. */
		char aside[PATH_MAX + 32], tag[32];

		/* A random name: a file planted under a predictable one
		 * would make the rename fail. */
		if (store_tmp_name(tag, sizeof(tag), "") == -1)
			snprintf(tag, sizeof(tag), "%ld", (long)time(NULL));
		snprintf(aside, sizeof(aside), "%s.%s", path, tag);
		close(jfd);
		log_warnx("journal=%s does not match mailbox=%s, moved to %s",
		    path, b->path, aside);
		return rename(path, aside) == -1 ? STORE_EIO : STORE_OK;
	}
	if ((buf = malloc(JOURNAL_CHUNK)) == NULL) {
		log_warnx("journal=%s replay: out of memory", path);
		close(jfd);
		return STORE_EIO;
	}
	if (journal_apply(b, jfd, v[2], v[3], buf) == -1)
		e = STORE_EIO;
	else {
		log_info("mailbox=%s expunge replayed from journal", b->path);
		if (unlink(path) == -1) {
			log_warn("journal=%s unlink", path);
			e = STORE_EIO;
		}
		(void)sync_dir(store_spool(b, spool, sizeof(spool)));
	}
	free(buf);
	close(jfd);
	return e;
}
