/* mboxtool.c: drive the store from the shell, for tests and benchmarks.
 *   mboxtool scan FILE          one line per message: number, size, uidl, offset, len
 *   mboxtool retr FILE N        message N as RETR sends it (CRLF, unstuffed)
 *   mboxtool stat FILE          count and total, after a timed scan (for bench)
 *   mboxtool expunge SPOOL NAME N...   lock, scan, remove messages N..., commit
 *   mboxtool deliver SPOOL NAME...     deliver stdin (LF text) to each NAME
 *   mboxtool hold SPOOL NAME SECONDS   hold the mailbox lock
 * MBOXTOOL_WAIT_MS shortens the lock wait; MBOXTOOL_PAUSE=S unlocks for S
 * seconds between the scan and the commit of an expunge.
 * Not installed; it only wraps the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "store.h"

static int
load(const char *path, int *fd, struct mbox_index *ix)
{
	struct stat st;
	int e;

	if ((*fd = open(path, O_RDONLY)) == -1 || fstat(*fd, &st) == -1) {
		perror(path);
		return -1;
	}
	memset(ix, 0, sizeof(*ix));
	if ((e = mbox_scan(*fd, (uint64_t)st.st_size, ix)) != MBOX_OK) {
		fprintf(stderr, "scan: error %d\n", e);
		return -1;
	}
	return 0;
}

static int
retr(int fd, const struct mbox_msg *m)
{
	struct mbox_reader *r = malloc(sizeof(*r));
	const char *line;
	size_t len;
	int more, e;

	mbox_reader_open(r, fd, m);
	while ((e = mbox_reader_line(r, &line, &len, &more)) == 1) {
		fwrite(line, 1, len, stdout);
		if (!more)
			fputs("\r\n", stdout);
	}
	free(r);
	return e;
}

int
main(int argc, char **argv)
{
	struct mbox_index ix;
	struct store_box b;
	char uidl[MBOX_UIDL_SIZE];
	size_t i;
	int fd, e;

	log_init("mboxtool", LOG_STDERR);
	/* Tests shorten the lock wait (default LOCK_WAIT_MS) with this. */
	if (getenv("MBOXTOOL_WAIT_MS"))
		store_lock_wait_ms = atoi(getenv("MBOXTOOL_WAIT_MS"));
	if (argc >= 3 && strcmp(argv[1], "scan") == 0) {
		if (load(argv[2], &fd, &ix) == -1)
			return 1;
		for (i = 0; i < ix.n; i++) {
			mbox_uidl(&ix.msg[i], uidl);
			printf("%zu %llu %s %llu %llu\n", i + 1,
			    (unsigned long long)ix.msg[i].size, uidl,
			    (unsigned long long)ix.msg[i].off,
			    (unsigned long long)ix.msg[i].len);
		}
		mbox_index_free(&ix);
		close(fd);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "stat") == 0) {
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (load(argv[2], &fd, &ix) == -1)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%zu %llu %.6f\n", ix.n, (unsigned long long)ix.total,
		    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		mbox_index_free(&ix);
		close(fd);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "retr") == 0) {
		size_t n = strtoul(argv[3], NULL, 10);

		if (load(argv[2], &fd, &ix) == -1 || n < 1 || n > ix.n)
			return 1;
		e = retr(fd, &ix.msg[n - 1]);
		mbox_index_free(&ix);
		close(fd);
		return e == 0 ? 0 : 1;
	}
	if (argc >= 4 && strcmp(argv[1], "expunge") == 0) {
		unsigned char *del;

		if ((e = store_open(&b, argv[2], argv[3], (uid_t)-1, (gid_t)-1, 0)) != 0) {
			fprintf(stderr, "open: %s\n", store_strerror(e));
			return 1;
		}
		memset(&ix, 0, sizeof(ix));
		if (mbox_scan(b.fd, b.size, &ix) != MBOX_OK)
			return 1;
		del = calloc(ix.n + 1, 1);
		for (i = 4; i < (size_t)argc; i++) {
			size_t k = strtoul(argv[i], NULL, 10);

			if (k >= 1 && k <= ix.n)
				del[k - 1] = 1;
		}
		/* Let a test append between the scan and the commit. */
		if (getenv("MBOXTOOL_PAUSE")) {
			store_unlock(&b);
			sleep((unsigned)atoi(getenv("MBOXTOOL_PAUSE")));
			if ((e = store_relock(&b)) != 0) {
				fprintf(stderr, "relock: %s\n", store_strerror(e));
				return 1;
			}
		}
		e = store_expunge(&b, &ix, del);
		store_close(&b);
		mbox_index_free(&ix);
		free(del);
		if (e != 0)
			fprintf(stderr, "expunge: %s\n", store_strerror(e));
		return e == 0 ? 0 : 1;
	}
	if (argc >= 4 && strcmp(argv[1], "deliver") == 0) {
		static char body[1 << 20];
		size_t len = fread(body, 1, sizeof(body), stdin);
		struct store_rcpt *r = calloc((size_t)argc, sizeof(*r));
		char head[256];
		size_t hl = mbox_from_line(head, sizeof(head), "sender@example.org",
		    time(NULL));

		for (i = 3; i < (size_t)argc; i++) {
			r[i - 3].name = argv[i];
			r[i - 3].uid = (uid_t)-1;
			r[i - 3].gid = (gid_t)-1;
			r[i - 3].head = head;
			r[i - 3].headlen = hl;
		}
		e = store_deliver(argv[2], r, (size_t)argc - 3, body, len, 0);
		free(r);
		if (e != 0)
			fprintf(stderr, "deliver: %s\n", store_strerror(e));
		return e == 0 ? 0 : 75;
	}
	if (argc == 5 && strcmp(argv[1], "hold") == 0) {
		if ((e = store_open(&b, argv[2], argv[3], (uid_t)-1, (gid_t)-1, 1)) != 0) {
			fprintf(stderr, "open: %s\n", store_strerror(e));
			return 1;
		}
		printf("locked\n");
		fflush(stdout);
		sleep((unsigned)atoi(argv[4]));
		store_close(&b);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of mboxtool.c\n");
	return 2;
}
