/* deliver.c: the all-or-nothing delivery of one message into several
 * mailboxes, and its commit marker.  Runs in smtpd's delivery side: root
 * under inetd (to write users' mailboxes), or the -u user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"
#include "store.h"
#include "store_int.h"

/* Write all of IOV, looping over short writes, at the end of FD. */
static int
write_all(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			cnt--;
			continue;
		}
		if ((n = writev(fd, iov, cnt)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0) {
			size_t k = (size_t)n < iov->iov_len ? (size_t)n : iov->iov_len;

			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= k;
			n -= (ssize_t)k;
			if (iov->iov_len == 0 && n > 0) {
				iov++;
				cnt--;
			}
		}
	}
	return 0;
}

/* The bytes that must precede a new From_ line so it follows an empty line. */
static const char *
separator(int fd, uint64_t size)
{
	char t[2];

	if (size == 0)
		return "";
	if (size == 1 || pread(fd, t, 2, (off_t)size - 2) != 2)
		return size == 1 ? "\n" : "\n\n";
	if (t[1] != '\n')
		return "\n\n";
	return t[0] == '\n' ? "" : "\n";
}

static int
cmp_rcpt(const void *a, const void *b)
{
	return strcmp((*(const struct store_rcpt *const *)a)->name,
	    (*(const struct store_rcpt *const *)b)->name);
}

/* Put the undo back: cut every written mailbox back to its old size. */
static void
rollback(struct store_box *box, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ftruncate(box[i].fd, (off_t)box[i].size) == -1 ||
		    fsync(box[i].fd) == -1)
			log_warn("mailbox=%s rollback", box[i].path);
}

int
store_deliver(const char *spool, const struct store_rcpt *r, size_t n,
    const char *body, size_t bodylen, uint64_t quota)
{
	const struct store_rcpt **v;
	struct store_box *box;
	struct stat *before;
	char txn[128], marker[PATH_MAX];
	size_t i, opened = 0, written = 0;
	int e = STORE_OK, fd, dropfail = 0;

	if (n == 0)
		return STORE_OK;
	v = calloc(n, sizeof(*v));
	box = calloc(n, sizeof(*box));
	before = calloc(n, sizeof(*before));
	if (v == NULL || box == NULL || before == NULL) {
		free(v);
		free(box);
		free(before);
		log_warnx("delivery out of memory");
		return STORE_EIO;
	}
	/* Everyone locks in name order, so two deliveries to the same pair of
	 * mailboxes cannot wait on each other. */
	for (i = 0; i < n; i++)
		v[i] = &r[i];
	qsort(v, n, sizeof(*v), cmp_rcpt);
	txn[0] = '\0';
	if (n > 1)
		snprintf(txn, sizeof(txn), ".txn.%ld.%ld.%ld", (long)getpid(),
		    (long)time(NULL), (long)(store_now_ms() % 100000000L));
	snprintf(marker, sizeof(marker), "%s/%s", spool, txn);

	for (opened = 0; opened < n; opened++) {
		e = store_open(&box[opened], spool, v[opened]->name, v[opened]->uid,
		    v[opened]->gid, 1);
		if (e != STORE_OK)
			goto fail;
		/* The exact size, under the lock: the separator and the
		 * trailing blank line count, as they take room too. */
		if (quota > 0 && box[opened].size + strlen(separator(
		    box[opened].fd, box[opened].size)) + v[opened]->headlen +
		    bodylen + 1 > quota) {
			log_info("mailbox=%s over quota size=%llu quota=%llu "
			    "message=%zu", box[opened].path,
			    (unsigned long long)box[opened].size,
			    (unsigned long long)quota, v[opened]->headlen + bodylen);
			opened++;
			e = STORE_EQUOTA;
			goto fail;
		}
	}
	for (written = 0; written < n; written++) {
		struct store_box *b = &box[written];
		const char *sep = separator(b->fd, b->size);
		struct iovec iov[4] = {
			{ (void *)sep, strlen(sep) },
			{ (void *)v[written]->head, v[written]->headlen },
			{ (void *)body, bodylen },
			{ "\n", 1 },
		};
		uint64_t len = strlen(sep) + v[written]->headlen + bodylen + 1;

		/* The record goes first: if we die mid-write, whoever
		 * breaks our lock knows what to cut off.  The file as it was
		 * goes to the index update. */
		if (fstat(b->fd, &before[written]) == -1) {
			log_warn("mailbox=%s fstat", b->path);
			e = STORE_EIO;
			goto fail;
		}
		if (dotlock_record(b->lockfd, b->size, len, txn, b->dev,
		    b->ino) == -1) {
			log_warn("dotlock=%s record", b->lock);
			e = STORE_EIO;
			goto fail;
		}
		FAULT("deliver.record", b->fd);
		if (lseek(b->fd, 0, SEEK_END) == -1 || write_all(b->fd, iov, 4) == -1 ||
		    (FAULT("deliver.written", b->fd), fsync(b->fd)) == -1) {
			e = store_errno(errno);
			log_warn("mailbox=%s append", b->path);
			written++;
			goto fail;
		}
	}
	/* Commit point of a multi-mailbox delivery: from here on, a breaker of
	 * any of our locks keeps the message.  The marker's name is synced:
	 * after a power cut it must still be there for the 250 we send. */
	if (n > 1) {
		fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1) {
			e = store_errno(errno);
			log_warn("delivery commit marker=%s", marker);
			goto fail;
		}
		close(fd);
		if (sync_dir(spool) == -1) {
			e = STORE_EIO;
			log_warn("delivery commit spool=%s fsync", spool);
			unlink(marker);
			goto fail;
		}
	}
	FAULT("deliver.committed", -1);
	/* Committed: the indexes follow, while we still hold the locks. */
	for (i = 0; i < n; i++)
		store_index_append(&box[i], &before[i]);
	for (i = 0; i < n; i++) {
		if (store_release(&box[i]) == -1)
			dropfail = 1;
		close(box[i].fd);
		box[i].fd = -1;
		FAULT("deliver.released", -1);
	}
	/* A dotlock we could not remove still names the marker: keep it, or
	 * its breaker would take the delivery for uncommitted. */
	if (n > 1 && !dropfail && unlink(marker) == -1)
		log_warn("delivery commit marker=%s unlink", marker);
	free(v);
	free(box);
	free(before);
	return STORE_OK;
fail:
	rollback(box, written);
	for (i = 0; i < opened; i++)
		store_close(&box[i]);
	free(v);
	free(box);
	free(before);
	return e;
}
