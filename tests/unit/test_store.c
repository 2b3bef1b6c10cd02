/* test_store.c: the mbox store: names, safe open, locking between processes,
 * all-or-nothing delivery and its rollback, crash recovery, quoting round
 * trip, expunge with late mail and under SIGKILL at every fault point. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "params.h"
#include "store.h"
#include "store_int.h"
#include "trust.h"

static char spool[256];

static void
setup(void)
{
	snprintf(spool, sizeof(spool), "/tmp/inetmail-store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(spool));
	log_init("test_store", LOG_SYSLOG);
	store_lock_wait_ms = 400;
	store_fault_hook = NULL;
}

static void
teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", spool);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
path_of(const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", spool, name);
	return p;
}

/* The whole file NAME into a malloc'd buffer, its length in *LEN. */
static char *
slurp(const char *name, size_t *len)
{
	FILE *f = fopen(path_of(name), "rb");
	char *buf = malloc(1 << 20);

	ck_assert_ptr_nonnull(f);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void
put(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "wb");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(path_of(name), 0600);
}

static int
same(const char *name, const char *text)
{
	size_t len;
	char *b = slurp(name, &len);
	int r = len == strlen(text) && memcmp(b, text, len) == 0;

	free(b);
	return r;
}

static int
deliver(const char **names, size_t n, const char *body)
{
	struct store_rcpt r[8];
	static const char head[] = "From s@x Thu Nov 26 06:00:00 2026\nReturn-Path: <s@x>\n";
	size_t i;

	for (i = 0; i < n; i++) {
		r[i].name = names[i];
		r[i].uid = (uid_t)-1;
		r[i].gid = (gid_t)-1;
		r[i].head = head;
		r[i].headlen = sizeof(head) - 1;
	}
	return store_deliver(spool, r, n, body, strlen(body), 0);
}

#define MSG1 "From s@x Thu Nov 26 06:00:00 2026\nReturn-Path: <s@x>\nhello\n\n"

START_TEST(name_rules)
{
	ck_assert(store_name_ok("alice", 5));
	ck_assert(store_name_ok("a.b-c_d+e", 9));
	ck_assert(!store_name_ok("", 0));
	ck_assert(!store_name_ok(".hidden", 7));
	ck_assert(!store_name_ok("..", 2));
	ck_assert(!store_name_ok("a/b", 3));
	ck_assert(!store_name_ok("a\0b", 3));
	ck_assert(!store_name_ok("a\nb", 3));
	ck_assert(!store_name_ok("a b", 3));
	ck_assert(!store_name_ok("a\x7f", 2));
	ck_assert(!store_name_ok("caf\xc3\xa9", 5));
	ck_assert(!store_name_ok("alice.lock", 10));
	ck_assert(store_name_ok("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 64));
	ck_assert(!store_name_ok("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 65));
}
END_TEST

START_TEST(create_mode)
{
	const char *n[] = { "alice" };
	struct stat st;

	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	ck_assert_int_eq(stat(path_of("alice"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert(same("alice", MSG1));
	/* No lock, journal or marker left behind. */
	ck_assert_int_eq(access(path_of("alice.lock"), F_OK), -1);
}
END_TEST

START_TEST(refuse_links)
{
	const char *n[] = { "alice" };
	struct store_box b;
	char target[512];


	put("target", "precious\n");
	snprintf(target, sizeof(target), "%s", path_of("target"));
	ck_assert_int_eq(symlink(target, path_of("alice")), 0);
	ck_assert_int_eq(deliver(n, 1, "evil\n"), STORE_ETYPE);
	ck_assert(same("target", "precious\n"));
	unlink(path_of("alice"));
	/* A hard link to someone else's file. */
	ck_assert_int_eq(link(target, path_of("alice")), 0);
	ck_assert_int_eq(deliver(n, 1, "evil\n"), STORE_ETYPE);
	ck_assert(same("target", "precious\n"));
	unlink(path_of("alice"));
	/* A FIFO must be refused, not block. */
	ck_assert_int_eq(mkfifo(path_of("alice"), 0600), 0);
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 1),
	    STORE_ETYPE);
	unlink(path_of("alice"));
	ck_assert_int_eq(mkdir(path_of("alice"), 0700), 0);
	ck_assert_int_eq(deliver(n, 1, "x\n"), STORE_ETYPE);
	ck_assert_int_eq(store_open(&b, spool, "../etc", (uid_t)-1, (gid_t)-1, 1),
	    STORE_ENAME);
	ck_assert_int_eq(store_open(&b, spool, "nobody-here", (uid_t)-1, (gid_t)-1, 0),
	    STORE_ENOENT);
}
END_TEST

/* A child holds the lock of "alice" for MS milliseconds. */
static pid_t
hold(int ms)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct store_box b;
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		if (store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 1) != 0)
			_exit(1);
		(void)write(p[1], "x", 1);
		nanosleep(&ts, NULL);
		store_close(&b);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

START_TEST(lock_contention)
{
	const char *n[] = { "alice" };
	struct timespec t0, t1;
	pid_t pid;
	int st;

	put("alice", "");
	pid = hold(1500);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(deliver(n, 1, "x\n"), STORE_ELOCK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Bounded: gave up after about store_lock_wait_ms. */
	ck_assert(t1.tv_sec - t0.tv_sec < 2);
	ck_assert(same("alice", ""));
	waitpid(pid, &st, 0);
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	ck_assert(same("alice", MSG1));
	/* A holder killed outright leaves a dotlock behind: it must not block. */
	pid = hold(10000);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ck_assert_int_eq(access(path_of("alice.lock"), F_OK), 0);
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	ck_assert(same("alice", MSG1 MSG1));
}
END_TEST

/* Over a file size limit the append fails with EFBIG: every mailbox of the
 * delivery must be left exactly as it was. */
START_TEST(rollback_efbig)
{
	const char *n[] = { "alice", "bob", "carol" };
	static char big[3000];
	pid_t pid;
	int st;

	put("alice", MSG1);
	put("bob", "");
	/* carol is near the limit: her copy cannot fit. */
	memset(big, 'x', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	put("carol", "From a b\n");
	{
		FILE *f = fopen(path_of("carol"), "ab");
		int i;

		for (i = 0; i < 3; i++)
			fputs(big, f);
		fclose(f);
	}
	if ((pid = fork()) == 0) {
		struct rlimit rl = { 9500, 9500 };

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		_exit(deliver(n, 3, big) == STORE_ENOSPC ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert(same("alice", MSG1));
	ck_assert(same("bob", ""));
	{
		struct stat sb;

		stat(path_of("carol"), &sb);
		ck_assert_int_eq(sb.st_size, 9 + 3 * 2999);
	}
}
END_TEST

/* Fault injection: die with SIGKILL at the COUNT-th passage of POINT; when
 * TORN, first write half a message to the mailbox. */
static const char *fault_point;
static int fault_count, fault_torn;

static void
fault(const char *point, int fd)
{
	if (strcmp(point, fault_point) != 0 || --fault_count > 0)
		return;
	if (fault_torn && fd != -1 && strncmp(point, "deliver", 7) == 0) {
		static const char torn[] = "From torn Thu Nov 26 06:00:00 2026\nhalf a me";

		(void)lseek(fd, 0, SEEK_END);
		(void)write(fd, torn, sizeof(torn) - 1);
	} else if (fault_torn && fd != -1) {
		/* A rewrite cut short: garbage where new bytes were going. */
		(void)pwrite(fd, "#GARBAGE#", 9, 0);
	}
	kill(getpid(), SIGKILL);
}

/* Run F in a child that dies at the fault; returns 1 when it died there. */
static int
crash_at(const char *point, int count, int torn, void (*f)(void))
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		fault_point = point;
		fault_count = count;
		fault_torn = torn;
		store_fault_hook = fault;
		f();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static void
deliver3(void)
{
	const char *n[] = { "alice", "bob", "carol" };

	if (deliver(n, 3, "hello\n") != 0)
		_exit(3);
}

/* Whatever the next access finds, it leaves each mailbox whole: the old one
 * or the old one plus the whole message, and the same for all three. */
static int
next_access_state(void)
{
	struct store_box b;
	const char *who[] = { "alice", "bob", "carol" };
	int i, state = -1, s;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(store_open(&b, spool, who[i], (uid_t)-1,
		    (gid_t)-1, 1), 0);
		store_close(&b);
		s = same(who[i], MSG1) ? 0 : same(who[i], MSG1 MSG1) ? 1 : -1;
		ck_assert_msg(s != -1, "mailbox %s torn", who[i]);
		if (state == -1)
			state = s;
		ck_assert_msg(s == state, "delivery not all-or-nothing");
	}
	return state;
}

START_TEST(delivery_crash)
{
	static const struct { const char *point; int count, torn, want; } t[] = {
		{ "deliver.record", 1, 0, 0 },
		{ "deliver.record", 1, 1, 0 },	/* torn first copy */
		{ "deliver.record", 2, 1, 0 },	/* torn second copy */
		{ "deliver.written", 1, 0, 0 },
		{ "deliver.written", 3, 0, 0 },	/* all written, not committed */
		{ "deliver.committed", 1, 0, 1 },
		{ "deliver.released", 1, 0, 1 },
		{ "deliver.released", 2, 0, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		put("alice", MSG1);
		put("bob", MSG1);
		put("carol", MSG1);
		ck_assert_msg(crash_at(t[i].point, t[i].count, t[i].torn, deliver3),
		    "case %zu did not crash", i);
		ck_assert_msg(next_access_state() == t[i].want, "case %zu", i);
	}
}
END_TEST

START_TEST(quoting_roundtrip)
{
	static const char *lines[] = { "From me", ">From you", ">>From", "From",
	    " From x", ">>>From z", "", ".", "From " };
	const char *n[] = { "alice" };
	char body[512] = "", want[512] = "";
	struct mbox_index ix;
	struct mbox_reader *r = malloc(sizeof(*r));
	struct store_box b;
	const char *line;
	size_t i, len, got = 0;
	int more;
	char out[512];

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (mbox_is_fromish(lines[i], strlen(lines[i])))
			strcat(body, ">");
		strcat(body, lines[i]);
		strcat(body, "\n");
		strcat(want, lines[i]);
		strcat(want, "\r\n");
	}
	ck_assert_int_eq(deliver(n, 1, body), 0);
	ck_assert_int_eq(deliver(n, 1, body), 0);
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	memset(&ix, 0, sizeof(ix));
	ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix), 0);
	ck_assert_int_eq(ix.n, 2);
	mbox_reader_open(r, b.fd, &ix.msg[1]);
	while (mbox_reader_line(r, &line, &len, &more) == 1) {
		memcpy(out + got, line, len);
		got += len;
		if (!more) {
			memcpy(out + got, "\r\n", 2);
			got += 2;
		}
	}
	/* The Return-Path line comes first, then the body exactly. */
	ck_assert_uint_eq(got, ix.msg[1].size);
	ck_assert(got > strlen(want));
	ck_assert(memcmp(out + got - strlen(want), want, strlen(want)) == 0);
	mbox_index_free(&ix);
	store_close(&b);
	free(r);
}
END_TEST

START_TEST(scan_tricky)
{
	struct mbox_index ix;
	struct store_box b;

	put("alice", "not an mbox\n");
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	memset(&ix, 0, sizeof(ix));
	ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix), MBOX_ENOTMBOX);
	store_close(&b);
	put("alice", "");
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix), 0);
	ck_assert_int_eq(ix.n, 0);
	store_close(&b);
	/* Unquoted From inside a paragraph, no final newline. */
	put("alice", "From a\nx\nFrom b\ny\n\nFrom c\nz");
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix), 0);
	ck_assert_int_eq(ix.n, 2);
	ck_assert_uint_eq(ix.msg[0].size, 3 + 8 + 3);	/* x, From b, y */
	ck_assert_uint_eq(ix.msg[1].size, 3);		/* z + CRLF */
	mbox_index_free(&ix);
	store_close(&b);
}
END_TEST

/* The AVX2 hot loop (where the CPU has it) and the portable one find the
 * same messages, sizes and UIDLs, on a mailbox whose tricky lines fall at
 * every offset of a 64-byte round and across the 128 KiB windows. */
START_TEST(scan_paths_agree)
{
	static const char *lines[] = { "From x@y Thu Nov 26 06:00:00 2026\n",
	    ">From quoted\n", ">>From twice\n", "From inside a paragraph\n",
	    "F\n", ">\n", "Fro\n", "plain text line\n", "\n", "\n",
	    ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>From deep\n",
	    "Status: RO\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" };
	struct mbox_index ix[2];
	struct store_box b;
	char *buf;
	size_t len = 0, cap = 600 * 1024, k;
	uint32_t r = 12345;
	FILE *f;
	int p;

	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	len = (size_t)snprintf(buf, cap, "%s", lines[0]);
	while (len < cap - 200) {
		r = r * 1103515245 + 12345;
		k = (r >> 16) % (sizeof(lines) / sizeof(lines[0]));
		/* A filler line of a few bytes shifts the next line's
		 * offset; a message boundary follows a blank line. */
		len += (size_t)snprintf(buf + len, cap - len, "%.*s\n%s%s",
		    (int)((r >> 8) % 7), "abcdefg", k == 0 ? "\n" : "",
		    lines[k]);
	}
	f = fopen(path_of("alice"), "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
	for (p = 0; p < 2; p++) {
		mbox_scan_portable = p;
		ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1,
		    (gid_t)-1, 0), 0);
		memset(&ix[p], 0, sizeof(ix[p]));
		ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix[p]), 0);
		store_close(&b);
	}
	mbox_scan_portable = 0;
	ck_assert_uint_gt(ix[0].n, 100);
	ck_assert_uint_eq(ix[0].n, ix[1].n);
	ck_assert_uint_eq(ix[0].total, ix[1].total);
	ck_assert(memcmp(ix[0].msg, ix[1].msg, ix[0].n * sizeof(*ix[0].msg)) == 0);
	mbox_index_free(&ix[0]);
	mbox_index_free(&ix[1]);
}
END_TEST

#define A "From a Thu Nov 26 06:00:00 2026\nSubject: a\n\naaa\n\n"
#define B "From b Thu Nov 26 06:00:00 2026\nSubject: b\n\nbbb\n\n"
#define C "From c Thu Nov 26 06:00:00 2026\nSubject: c\n\nccc\n\n"
#define D "From d Thu Nov 26 06:00:00 2026\nSubject: d\n\nddd\n\n"

/* Scan alice, unlock, append D (late mail), relock and expunge DEL. */
static int
expunge_late(const char *del, int late)
{
	struct mbox_index ix;
	struct store_box b;
	unsigned char d[8] = { 0 };
	int e;
	size_t i;

	if ((e = store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0)) != 0)
		return e;
	memset(&ix, 0, sizeof(ix));
	if ((e = mbox_scan(b.fd, b.size, &ix)) != 0)
		return 100;
	store_unlock(&b);
	if (late) {
		FILE *f = fopen(path_of("alice"), "ab");

		fputs(D, f);
		fclose(f);
	}
	for (i = 0; del[i]; i++)
		d[del[i] - '1'] = 1;
	if ((e = store_relock(&b)) == 0)
		e = store_expunge(&b, &ix, d);
	store_close(&b);
	mbox_index_free(&ix);
	return e;
}

START_TEST(expunge_cases)
{
	put("alice", A B C);
	ck_assert_int_eq(expunge_late("2", 1), 0);
	ck_assert(same("alice", A C D));
	put("alice", A B C);
	ck_assert_int_eq(expunge_late("1", 0), 0);
	ck_assert(same("alice", B C));
	put("alice", A B C);
	ck_assert_int_eq(expunge_late("3", 0), 0);	/* tail: truncate */
	ck_assert(same("alice", A B));
	put("alice", A B C);
	ck_assert_int_eq(expunge_late("23", 1), 0);
	ck_assert(same("alice", A D));
	put("alice", A B C);
	ck_assert_int_eq(expunge_late("123", 1), 0);
	ck_assert(same("alice", D));
	put("alice", A B C);
	ck_assert_int_eq(expunge_late("", 1), 0);
	ck_assert(same("alice", A B C D));
	/* The last message had no closing blank line and late mail came. */
	put("alice", A B "From c x\nccc\n");
	ck_assert_int_eq(expunge_late("3", 1), 0);
	ck_assert(same("alice", A B D));
}
END_TEST

/* Someone rewrote the maildrop between scan and commit: nothing changes. */
START_TEST(expunge_changed)
{
	struct mbox_index ix;
	struct store_box b;
	unsigned char d[3] = { 1, 0, 0 };

	put("alice", A B C);
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	memset(&ix, 0, sizeof(ix));
	ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix), 0);
	store_unlock(&b);
	/* In place, same inode: B's bytes change. */
	{
		int fd = open(path_of("alice"), O_WRONLY);

		ck_assert_int_eq(pwrite(fd, "X", 1, (off_t)ix.msg[1].off + 40), 1);
		close(fd);
	}
	ck_assert_int_eq(store_relock(&b), 0);
	ck_assert_int_eq(store_expunge(&b, &ix, d), STORE_ECHANGED);
	store_close(&b);
	ck_assert(!same("alice", B C));
	/* Replaced by rename: the path names another file. */
	mbox_index_free(&ix);
	put("alice", A B C);
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix), 0);
	store_unlock(&b);
	put("new", A B C);
	{
		char from[512];

		snprintf(from, sizeof(from), "%s", path_of("new"));
		ck_assert_int_eq(rename(from, path_of("alice")), 0);
	}
	ck_assert_int_eq(store_relock(&b), STORE_ECHANGED);
	store_close(&b);
	ck_assert(same("alice", A B C));
	mbox_index_free(&ix);
}
END_TEST

static void
expunge_13(void)
{
	if (expunge_late("13", 0) != 0)
		_exit(3);
}

/* SIGKILL at every step of an expunge (with and without a torn overwrite):
 * the next access leaves the old or the new maildrop, nothing else. */
START_TEST(expunge_crash)
{
	static const char *points[] = { "expunge.copy", "expunge.journaled",
	    "expunge.committed", "expunge.truncated", "expunge.applied" };
	size_t i;
	int count, torn, n = 0;

	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		for (count = 1; count <= 3; count++)
			for (torn = 0; torn <= 1; torn++) {
				struct store_box b;

				/* Only these points are in the middle of writing. */
				if (torn && strcmp(points[i], "expunge.copy") != 0 &&
				    strcmp(points[i], "expunge.truncated") != 0)
					continue;
				put("alice", A B C D);
				if (!crash_at(points[i], count, torn, expunge_13))
					continue;	/* fewer passages than COUNT */
				n++;
				ck_assert_int_eq(store_open(&b, spool, "alice",
				    (uid_t)-1, (gid_t)-1, 0), 0);
				store_close(&b);
				ck_assert_msg(same("alice", A B C D) ||
				    same("alice", B D), "%s #%d torn=%d: mixed",
				    points[i], count, torn);
				/* Journal gone after recovery. */
				ck_assert_int_eq(access(path_of(".alice.redo"), F_OK), -1);
			}
	ck_assert_int_ge(n, 11);
}
END_TEST

START_TEST(session_marker)
{
	int fd, st, p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		int f;

		if (store_session(spool, "alice", (uid_t)-1, &f) != 0)
			_exit(1);
		(void)write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(store_session(spool, "alice", (uid_t)-1, &fd), STORE_EINUSE);
	/* The holder dies without cleaning up: the marker frees at once. */
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ck_assert_int_eq(store_session(spool, "alice", (uid_t)-1, &fd), 0);
	close(fd);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* A pid that is surely dead: a child that has exited and been reaped. */
static long
dead_pid(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(0);
	waitpid(pid, &st, 0);
	return (long)pid;
}

/* A dead writer's dotlock record; DEVDELTA != 0 makes it as another host
 * of a cluster would, whose mount has a st_dev of its own. */
static void
plant_record_at(const char *name, long pid, unsigned long size,
    unsigned long len, unsigned long long devdelta, const char *other)
{
	char host[256], lock[300], rec[600];
	struct stat st;

	if (other != NULL)
		snprintf(host, sizeof(host), "%s", other);
	else
		gethostname(host, sizeof(host));
	ck_assert_int_eq(stat(path_of(name), &st), 0);
	snprintf(lock, sizeof(lock), "%s.lock", name);
	snprintf(rec, sizeof(rec), "%ld\ninetmail %s %lu %lu - %llu %llu\n", pid,
	    host, size, len, (unsigned long long)st.st_dev + devdelta,
	    (unsigned long long)st.st_ino);
	put(lock, rec);
}

static void
plant_record_dev(const char *name, long pid, unsigned long size,
    unsigned long len, unsigned long long devdelta)
{
	plant_record_at(name, pid, size, len, devdelta, NULL);
}

static void
plant_record(const char *name, long pid, unsigned long size, unsigned long len)
{
	plant_record_dev(name, pid, size, len, 0);
}

/* A dead writer's record must never cut bytes it did not write: when the
 * file grew past its append, someone else's mail follows. */
START_TEST(recovery_keeps_others)
{
	const char *n[] = { "alice" };

	put("alice", MSG1 "From torn\nhalf" "From other x\nwhole message\n\n");
	plant_record("alice", dead_pid(), strlen(MSG1), 20);
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	{
		size_t len;
		char *b = slurp("alice", &len);

		/* Nothing of the old content was cut. */
		ck_assert(len > strlen(MSG1 "From torn\nhalf" "From other x\nwhole message\n\n"));
		ck_assert(memcmp(b, MSG1 "From torn\nhalf" "From other x\nwhole message\n\n",
		    strlen(MSG1 "From torn\nhalf" "From other x\nwhole message\n\n")) == 0);
		free(b);
	}
	/* And a real torn append (fewer bytes than recorded) is cut. */
	put("alice", MSG1 "From torn\nhalf");
	plant_record("alice", dead_pid(), strlen(MSG1), 200);
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	ck_assert(same("alice", MSG1 MSG1));
}
END_TEST

/* A locker killed between link() and unlink() leaves a dotlock with two
 * links, the other its unique ".lk.*" name, which the lock's record names.
 * The next locker removes that twin (one lstat: the directory is not read,
 * so the spool's size does not matter) and judges the record as usual: the
 * mailbox is not shut until the lock is stale by age.  A second link under
 * any other name keeps the lock untrusted (judged by its age). */
START_TEST(recovery_killed_in_link)
{
	const char *n[] = { "alice" };
	char twin[64], lock[512], rec[400], host[256];
	struct stat st;
	time_t t0;

	put("alice", MSG1);
	gethostname(host, sizeof(host));
	snprintf(twin, sizeof(twin), ".lk.0123456789abcdef");
	snprintf(rec, sizeof(rec), "%ld\ninetmail %s - - - %s\n", dead_pid(),
	    host, twin);
	put("alice.lock", rec);
	snprintf(lock, sizeof(lock), "%s", path_of("alice.lock"));
	ck_assert_int_eq(link(lock, path_of(twin)), 0);
	t0 = time(NULL);
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	ck_assert(time(NULL) - t0 < 3);		/* no lock wait */
	ck_assert(same("alice", MSG1 MSG1));
	ck_assert_int_eq(lstat(path_of(twin), &st), -1);
	ck_assert_int_eq(lstat(path_of("alice.lock"), &st), -1);

	/* The other link is not the one the record names: the lock stays
	 * untrusted, waited for, and the other name is left alone. */
	put("alice", MSG1);
	put("alice.lock", rec);
	ck_assert_int_eq(link(lock, path_of(".lk.fedcba9876543210")), 0);
	ck_assert_int_ne(deliver(n, 1, "hello\n"), 0);
	ck_assert(same("alice", MSG1));
	ck_assert_int_eq(lstat(path_of(".lk.fedcba9876543210"), &st), 0);
	unlink(path_of(".lk.fedcba9876543210"));
	unlink(path_of("alice.lock"));
}
END_TEST

/* Records made through another host's mount of a cluster volume (another
 * st_dev, the same st_ino) are acted on: a torn append is cut, a committed
 * journal is replayed, not moved aside. */
START_TEST(recovery_other_host)
{
	const char *n[] = { "alice" };
	char head[256];
	unsigned long long v[5];
	int fd;

	put("alice", MSG1 "From torn\nhalf");
	plant_record_dev("alice", dead_pid(), strlen(MSG1), 200, 7);
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	ck_assert(same("alice", MSG1 MSG1));

	/* Another host's record: its pid means nothing here, so a fresh
	 * lock holds (judged by age only) ... */
	put("alice", MSG1 "From torn\nhalf");
	plant_record_at("alice", dead_pid(), strlen(MSG1), 200, 7, "h2.example");
	ck_assert_int_ne(deliver(n, 1, "hello\n"), 0);
	ck_assert(same("alice", MSG1 "From torn\nhalf"));
	/* ... and once stale by age, its torn append is cut. */
	{
		struct timeval old[2] = { { time(NULL) - LOCK_STALE_S - 5, 0 },
		    { time(NULL) - LOCK_STALE_S - 5, 0 } };

		ck_assert_int_eq(utimes(path_of("alice.lock"), old), 0);
	}
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	ck_assert(same("alice", MSG1 MSG1));

	put("alice", A B C D);
	ck_assert(crash_at("expunge.committed", 1, 0, expunge_13));
	fd = open(path_of(".alice.redo"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
	ck_assert_int_eq(sscanf(head, "inetmail-redo 1 %llu %llu %llu %llu %llu",
	    &v[0], &v[1], &v[2], &v[3], &v[4]), 5);
	memset(head, 0, sizeof(head));
	snprintf(head, sizeof(head), "inetmail-redo 1 %llu %llu %llu %llu %llu\n",
	    v[0] + 7, v[1], v[2], v[3], v[4]);
	ck_assert_int_eq(pwrite(fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
	close(fd);
	{
		struct store_box b;

		ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1,
		    (gid_t)-1, 0), 0);
		store_close(&b);
	}
	ck_assert(same("alice", B D));
	ck_assert_int_eq(access(path_of(".alice.redo"), F_OK), -1);
}
END_TEST

static void
uidls(const char *name, char out[][MBOX_UIDL_SIZE], size_t *n)
{
	struct mbox_index ix;
	struct store_box b;
	size_t i;

	ck_assert_int_eq(store_open(&b, spool, name, (uid_t)-1, (gid_t)-1, 0), 0);
	memset(&ix, 0, sizeof(ix));
	ck_assert_int_eq(mbox_scan(b.fd, b.size, &ix), 0);
	for (i = 0; i < ix.n; i++)
		mbox_uidl(&ix.msg[i], out[i]);
	*n = ix.n;
	mbox_index_free(&ix);
	store_close(&b);
}

START_TEST(uidl_rules)
{
	static char head[2200];
	char text[5000], u[4][MBOX_UIDL_SIZE], v[4][MBOX_UIDL_SIZE];
	const char *n[] = { "alice" };
	size_t k, m;

	/* Messages that share their first 2 KiB still get distinct UIDLs. */
	memset(head, 'h', sizeof(head) - 2);
	head[sizeof(head) - 2] = '\n';
	snprintf(text, sizeof(text), "From a b\nX: %s\nbody one\n\nFrom a b\nX: %s\nbody two, longer\n\n",
	    head, head);
	put("alice", text);
	uidls("alice", u, &k);
	ck_assert_int_eq(k, 2);
	ck_assert_str_ne(u[0], u[1]);
	ck_assert_ptr_null(strchr(u[1], '.'));
	/* Another MDA left no final newline: our append adds it, and the old
	 * message keeps its UIDL. */
	put("alice", "From x@y Thu Nov 26 06:00:00 2026\nSubject: a\n\nno newline at end");
	uidls("alice", u, &k);
	ck_assert_int_eq(deliver(n, 1, "hello\n"), 0);
	uidls("alice", v, &m);
	ck_assert_int_eq(k, 1);
	ck_assert_int_eq(m, 2);
	ck_assert_str_eq(u[0], v[0]);
	/* Identical copies: unique, numbered. */
	put("alice", A A A);
	uidls("alice", u, &k);
	ck_assert_int_eq(k, 3);
	ck_assert_str_ne(u[0], u[1]);
	ck_assert_str_ne(u[1], u[2]);
	ck_assert_ptr_nonnull(strchr(u[2], '.'));
	for (k = 0; k < 3; k++)
		ck_assert(strlen(u[k]) >= 1 && strlen(u[k]) <= 70);
}
END_TEST

/* The UIDL of one message TEXT (a whole mailbox) into OUT. */
static void
uidl_of(const char *text, char out[MBOX_UIDL_SIZE])
{
	char u[4][MBOX_UIDL_SIZE];
	size_t k;

	put("alice", text);
	uidls("alice", u, &k);
	ck_assert_int_eq(k, 1);
	strcpy(out, u[0]);
}

#define RF_FROM	"From s@x Thu Nov 26 06:00:00 2026\nReturn-Path: <s@x>\n"
#define RF_HEAD	"Subject: hi\nMessage-ID: <1@x>\n"
#define RF_BODY	"\nbody\nStatus: RO\nLines: 3\n\n"

/* The fields mail readers rewrite are not in the UIDL. */
START_TEST(uidl_reader_fields)
{
	static char big[8000], text[20000];
	char a[MBOX_UIDL_SIZE], b[MBOX_UIDL_SIZE];

	uidl_of(RF_FROM RF_HEAD RF_BODY, a);
	/* mutt marks it read; mailutils and Dovecot number it; any case,
	 * with a continuation line, anywhere in the header. */
	uidl_of(RF_FROM "X-IMAPbase: 1701234567 5\n" RF_HEAD "Status: RO\n"
	    "x-status: F\nContent-Length: 26\nLINES: 4\nX-UID: 1\n"
	    "X-Keywords: $Label1\n    $Label2\nX-IMAP: 0 1\n" RF_BODY, b);
	ck_assert_str_eq(a, b);
	/* The same words in the body count, and so do other fields. */
	uidl_of(RF_FROM RF_HEAD "\nbody\nStatus: R\nLines: 3\n\n", b);
	ck_assert_str_ne(a, b);
	uidl_of(RF_FROM RF_HEAD "X-Statusx: R\n" RF_BODY, b);
	ck_assert_str_ne(a, b);
	uidl_of(RF_FROM RF_HEAD "Subject: hi\n" RF_BODY, b);
	ck_assert_str_ne(a, b);
	/* A header longer than the hashed bytes: a field after them, and a
	 * body that starts past them, still leave the UIDL alone. */
	memset(big, 'b', sizeof(big) - 1);
	snprintf(text, sizeof(text), RF_FROM RF_HEAD "X-Long: %.3000s\n\n%s\n\n",
	    big, big);
	uidl_of(text, a);
	snprintf(text, sizeof(text), RF_FROM RF_HEAD "X-Long: %.3000s\nStatus: O\n"
	    "\n%s\n\n", big, big);
	uidl_of(text, b);
	ck_assert_str_eq(a, b);
	/* Status as the first field: the hashed bytes come partly from the
	 * body once it is left out. */
	snprintf(text, sizeof(text), RF_FROM "\n%s\n\n", big);
	uidl_of(text, a);
	snprintf(text, sizeof(text), RF_FROM "Status: RO\n\n%s\n\n", big);
	uidl_of(text, b);
	ck_assert_str_eq(a, b);
}
END_TEST

/* --- the index --------------------------------------------------------- */

/* The snapshot of alice through the store (the index when it is good), and
 * whether the index was what gave it. */
static void
snapshot(struct mbox_index *ix, int *from_index)
{
	struct store_box b;
	struct mbox_index probe;

	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	*from_index = store_index_load(&b, &probe) == 0;
	if (*from_index)
		mbox_index_free(&probe);
	ck_assert_int_eq(store_scan(&b, ix), 0);
	store_close(&b);
}

/* What a full scan of alice says, with nothing cached. */
static void
full_scan(struct mbox_index *ix)
{
	struct store_box b;

	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	memset(ix, 0, sizeof(*ix));
	ck_assert_int_eq(mbox_scan(b.fd, b.size, ix), 0);
	store_close(&b);
}

/* The snapshot must be exactly the full scan, record for record. */
static int
snapshot_is_exact(void)
{
	struct mbox_index a, f;
	int from, ok;
	size_t i;

	snapshot(&a, &from);
	full_scan(&f);
	ok = a.n == f.n && a.end == f.end && a.total == f.total;
	for (i = 0; ok && i < a.n; i++)
		ok = memcmp(&a.msg[i], &f.msg[i], sizeof(a.msg[i])) == 0;
	mbox_index_free(&a);
	mbox_index_free(&f);
	return ok;
}

static int
index_used(void)
{
	struct mbox_index a;
	int from;

	snapshot(&a, &from);
	mbox_index_free(&a);
	return from;
}

START_TEST(index_appends)
{
	const char *n[] = { "alice" };
	int i;

	/* A new mailbox gets its index with its first message; each of our
	 * appends carries it on; every snapshot equals a full scan. */
	ck_assert_int_eq(deliver(n, 1, "first\n"), 0);
	ck_assert_int_eq(access(path_of(".alice.idx"), F_OK), 0);
	ck_assert(index_used());
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(deliver(n, 1, i % 3 ? "more\n" : "From here\nsame\n"), 0);
		ck_assert(index_used());
		ck_assert(snapshot_is_exact());
	}
	/* Identical messages keep their .N numbers through the index. */
	ck_assert_int_eq(deliver(n, 1, "more\n"), 0);
	ck_assert(snapshot_is_exact());
}
END_TEST

START_TEST(index_foreign_changes)
{
	const char *n[] = { "alice" };
	FILE *f;

	put("alice", A B C);
	ck_assert(snapshot_is_exact());		/* the first login writes it */
	ck_assert(index_used());
	/* An append by another MDA (procmail): the old part still reads as
	 * the index says, so only the new bytes are scanned. */
	f = fopen(path_of("alice"), "ab");
	fputs(D, f);
	fclose(f);
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
	ck_assert(index_used());
	/* A rewrite (mutt marks a message read): a scan. */
#define B_READ "From b Thu Nov 26 06:00:00 2026\nSubject: b\nStatus: RO\n\nbbb\n\n"
	put("alice", A B_READ C D);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	/* Truncated (Python's mailbox removed the last two): a scan. */
	ck_assert_int_eq(truncate(path_of("alice"), (off_t)strlen(A B_READ)), 0);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	/* And our appends on top of a good index still carry it. */
	ck_assert_int_eq(deliver(n, 1, "ours\n"), 0);
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
}
END_TEST

START_TEST(index_planted)
{
	char junk[4096];
	int fd;

	put("alice", A B C);
	ck_assert(snapshot_is_exact());
	/* Corrupt records, a cut file, a header of another mailbox: each
	 * costs a scan, never a wrong answer. */
	fd = open(path_of(".alice.idx"), O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "X", 1, 150), 1);
	close(fd);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	ck_assert_int_eq(truncate(path_of(".alice.idx"), 100), 0);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	memset(junk, 'j', sizeof(junk));
	fd = open(path_of(".alice.idx"), O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	/* Another user's file under the name is never read (as root). */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path_of(".alice.idx"), 2003, 2003), 0);
		ck_assert(!index_used());
		ck_assert(snapshot_is_exact());
		ck_assert_int_eq(unlink(path_of(".alice.idx")), 0);
	}
	/* A FIFO or a symlink in its place hangs and follows nothing. */
	unlink(path_of(".alice.idx"));
	ck_assert_int_eq(mkfifo(path_of(".alice.idx"), 0600), 0);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	unlink(path_of(".alice.idx"));
	ck_assert_int_eq(symlink("/etc/passwd", path_of(".alice.idx")), 0);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
}
END_TEST

static void
deliver_one(void)
{
	const char *n[] = { "alice" };

	deliver(n, 1, "crash\n");
}

/* A login's snapshot, which writes a new index when the old one is stale. */
static void
login_scan(void)
{
	struct mbox_index ix;
	struct store_box b;

	if (store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0) == 0 &&
	    store_scan(&b, &ix) == 0)
		mbox_index_free(&ix);
	store_close(&b);
}

START_TEST(index_crash)
{
	struct mbox_index ix;
	int from;

	/* Killed between the new records and the header that counts them:
	 * the mail is there (it was fsync'ed first), the index is stale. */
	put("alice", A B);
	ck_assert(snapshot_is_exact());
	ck_assert(crash_at("index.records", 1, 0, deliver_one));
	snapshot(&ix, &from);
	ck_assert(!from);
	ck_assert_int_eq(ix.n, 3);
	mbox_index_free(&ix);
	ck_assert(snapshot_is_exact());
	ck_assert(index_used());
	/* Killed while a login writes a new index (over a stale one): the
	 * half-written file never counts. */
	put("alice", A B C);
	ck_assert(crash_at("index.written", 1, 0, login_scan));
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	ck_assert(index_used());
}
END_TEST

/* Scan alice and expunge DEL in one session, as pop3d does. */
static int
expunge_now(const char *del)
{
	struct mbox_index ix;
	struct store_box b;
	unsigned char d[8] = { 0 };
	size_t i;
	int e;

	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(store_scan(&b, &ix), 0);
	store_unlock(&b);
	for (i = 0; del[i]; i++)
		d[del[i] - '1'] = 1;
	if ((e = store_relock(&b)) == 0)
		e = store_expunge(&b, &ix, d);
	store_close(&b);
	mbox_index_free(&ix);
	return e;
}

START_TEST(index_expunge)
{
	put("alice", A B C D);
	ck_assert(snapshot_is_exact());
	/* Kept records move up: the next login reads them, exactly. */
	ck_assert_int_eq(expunge_now("13"), 0);
	ck_assert(same("alice", B D));
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
	ck_assert_int_eq(expunge_now("2"), 0);
	ck_assert(same("alice", B));
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
	ck_assert_int_eq(expunge_now("1"), 0);
	ck_assert(same("alice", ""));
	ck_assert(snapshot_is_exact());
}
END_TEST

/* A stamp is racy until the clock that stamps files has moved past its
 * ctime, or within 2 s when both times are whole seconds (a file system
 * that keeps seconds only). */
START_TEST(stamp_racy_coarse)
{
	struct mbox_stamp sp;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(&sp, 0, sizeof(sp));
	sp.ctime = sp.mtime = now.tv_sec - 1;
	ck_assert_int_eq(store_stamp_racy(&sp), 1);	/* seconds only */
	sp.ctime = sp.mtime = now.tv_sec - 3;
	ck_assert_int_eq(store_stamp_racy(&sp), 0);
	sp.ctime = sp.mtime = now.tv_sec - 1;
	sp.ctime_ns = sp.mtime_ns = 5;
	ck_assert_int_eq(store_stamp_racy(&sp), 0);	/* nanoseconds */
	sp.ctime = now.tv_sec;
	sp.ctime_ns = now.tv_nsec;
	ck_assert_int_eq(store_stamp_racy(&sp), 1);
}
END_TEST

/* A change the file's times cannot show (the same clock tick, the same
 * size): with a racy stamp the expunge still checks every message. */
START_TEST(index_racy_expunge)
{
	struct mbox_index ix;
	struct store_box b;
	struct stat st;
	unsigned char d[8] = { 1, 0, 0 };
	int fd;

	put("alice", A B C);
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(store_scan(&b, &ix), 0);
	store_unlock(&b);
	fd = open(path_of("alice"), O_WRONLY);
	ck_assert_int_eq(pwrite(fd, "X", 1, strlen(A) + 36), 1);	/* in B */
	close(fd);
	ck_assert_int_eq(store_relock(&b), 0);
	ck_assert_int_eq(fstat(b.fd, &st), 0);
	store_stamp(&st, &ix.stamp);	/* as if the tick hid the change */
	ix.racy = 1;
	ck_assert_int_eq(store_expunge(&b, &ix, d), STORE_ECHANGED);
	store_close(&b);
	mbox_index_free(&ix);
}
END_TEST


/* --- stray files: no lasting denial ------------------------------------ */

/* Make NAME in the spool as uid UID (mode 0600), with TEXT in it. */
static void
plant_as(const char *name, const char *text, uid_t uid)
{
	put(name, text);
	ck_assert_int_eq(chown(path_of(name), uid, uid), 0);
}

/* Names a store of before made from the pid, a counter and the clock,
 * planted ahead for the next seconds: they are in no one's way now. */
START_TEST(squatted_names)
{
	const char *one[] = { "alice" }, *two[] = { "alice", "bob" };
	char name[128];
	long ms = store_now_ms(), t, pid = (long)getpid();
	time_t now = time(NULL);
	int c;

	put("alice", MSG1);
	for (t = ms; t < ms + 4000; t++) {
		for (c = 0; c < 5; c++) {
			snprintf(name, sizeof(name), ".lk%ld.%d.%ld", pid, c, t);
			put(name, "");
		}
		snprintf(name, sizeof(name), ".new.%ld.0.%ld", pid, t);
		put(name, "");
		snprintf(name, sizeof(name), ".txn.%ld.%ld.%ld", pid, (long)now,
		    t % 100000000L);
		put(name, "");
	}
	ck_assert_int_eq(deliver(one, 1, "locked past squatters\n"), 0);
	ck_assert_int_eq(deliver(two, 2, "bob is new, two mailboxes\n"), 0);
	ck_assert_int_eq(access(path_of("bob"), F_OK), 0);
}
END_TEST

/* A NULL role silences the log for real (one lock wait wrote ~200
 * "(null)=..." lines): the log goes to a pipe in a child. */
static size_t
logged_by_trust_open(const char *role)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int p[2], fd, st;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		log_init("test_store", LOG_STDERR);
		fd = trust_open(path_of("fifo"), O_RDONLY, 0, (uid_t)-1, role,
		    NULL);
		_exit(fd == -2 ? 0 : 1);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		got += (size_t)n;
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return got;
}

START_TEST(null_role_silent)
{
	ck_assert_int_eq(mkfifo(path_of("fifo"), 0600), 0);
	ck_assert_uint_eq(logged_by_trust_open(NULL), 0);
	ck_assert_uint_gt(logged_by_trust_open("dotlock"), 0);	/* control */
}
END_TEST

/* As root, a marker, an index or a journal of another user in the store's
 * names is removed by the privileged half (store_clear at login, the
 * store itself at delivery), and never blocks a login or an expunge. */
START_TEST(stray_cleared)
{
	const char *n[] = { "alice" };
	struct mbox_index ix;
	struct store_box b;
	struct stat st;
	unsigned char d[2] = { 1, 0 };
	int fd;

	if (geteuid() != 0)
		return;
	put("alice", MSG1 MSG1);
	plant_as(".alice.pop", "", 2003);
	plant_as(".alice.idx", "junk", 2003);
	plant_as(".alice.redo", "junk", 2003);
	ck_assert_int_eq(store_clear(spool, "alice", (uid_t)-1), 0);
	ck_assert_int_eq(lstat(path_of(".alice.pop"), &st), -1);
	ck_assert_int_eq(lstat(path_of(".alice.idx"), &st), -1);
	ck_assert_int_eq(lstat(path_of(".alice.redo"), &st), -1);
	ck_assert_int_eq(store_session(spool, "alice", (uid_t)-1, &fd), 0);
	close(fd);
	/* A marker left by a former owner of the name (another uid, 0600):
	 * stale, cleared; a trusted one is left in place. */
	plant_as(".alice.pop", "", 2009);
	ck_assert_int_eq(store_clear(spool, "alice", (uid_t)-1), 0);
	ck_assert_int_eq(store_session(spool, "alice", (uid_t)-1, &fd), 0);
	close(fd);
	ck_assert_int_eq(store_clear(spool, "alice", (uid_t)-1), 0);
	ck_assert_int_eq(lstat(path_of(".alice.pop"), &st), 0);
	/* A journal planted after the login is removed by the next locker
	 * that may (here root, as smtpd's delivery side is), so the expunge
	 * at QUIT goes through. */
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(store_scan(&b, &ix), 0);
	store_unlock(&b);
	plant_as(".alice.redo", "junk", 2003);
	ck_assert_int_eq(deliver(n, 1, "late\n"), 0);
	ck_assert_int_eq(lstat(path_of(".alice.redo"), &st), -1);
	ck_assert_int_eq(store_relock(&b), 0);
	ck_assert_int_eq(store_expunge(&b, &ix, d), 0);
	store_close(&b);
	mbox_index_free(&ix);
}
END_TEST

/* The index's new file is a fresh name: a file hard-linked under the old
 * fixed name (.NAME.idx.new) is never opened, let alone truncated. */
START_TEST(index_tmp_fresh)
{
	const char *n[] = { "alice" };
	char victim[512];
	struct stat st;

	put("victim", "precious\n");
	snprintf(victim, sizeof(victim), "%s", path_of("victim"));
	ck_assert_int_eq(link(victim, path_of(".alice.idx.new")), 0);
	ck_assert_int_eq(deliver(n, 1, "first\n"), 0);
	ck_assert(same("victim", "precious\n"));
	ck_assert_int_eq(stat(path_of(".alice.idx"), &st), 0);
}
END_TEST

/* Set NAME's times AGE seconds back. */
static void
age(const char *name, long secs)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path_of(name), ts,
	    AT_SYMLINK_NOFOLLOW), 0);
}

/* What killed processes left is swept once it is LOCK_STALE_S old; a
 * commit marker only when no dotlock of its mailboxes can name it. */
START_TEST(sweep_leftovers)
{
	const char *n[] = { "alice" };
	struct stat st;
	int i;

	put(".lk1234.0.99", "1\n");
	put(".lk.0123456789abcdef", "1\n");
	put(".new.0123456789abcdef", "");
	put(".txn.0123456789abcdef", TXN_MAGIC "alice\nbob\n");
	put(".txn.1111111111111111", TXN_MAGIC "carol\n");
	put(".txn.2222222222222222", "");	/* no list: kept */
	put(".lk.young", "");
	put("carol.lock", "1\n");		/* carol's lock names it */
	ck_assert_int_eq(mkdir(path_of(".lk.dir"), 0700), 0);
	age(".lk1234.0.99", LOCK_STALE_S + 60);
	age(".lk.0123456789abcdef", LOCK_STALE_S + 60);
	age(".new.0123456789abcdef", LOCK_STALE_S + 60);
	age(".txn.0123456789abcdef", LOCK_STALE_S + 60);
	age(".txn.1111111111111111", LOCK_STALE_S + 60);
	age(".txn.2222222222222222", LOCK_STALE_S + 60);
	age(".lk.dir", LOCK_STALE_S + 60);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(deliver(n, 1, "sweep\n"), 0);
	ck_assert_int_eq(lstat(path_of(".lk1234.0.99"), &st), -1);
	ck_assert_int_eq(lstat(path_of(".lk.0123456789abcdef"), &st), -1);
	ck_assert_int_eq(lstat(path_of(".new.0123456789abcdef"), &st), -1);
	ck_assert_int_eq(lstat(path_of(".txn.0123456789abcdef"), &st), -1);
	ck_assert_int_eq(lstat(path_of(".txn.1111111111111111"), &st), 0);
	ck_assert_int_eq(lstat(path_of(".txn.2222222222222222"), &st), 0);
	ck_assert_int_eq(lstat(path_of(".lk.young"), &st), 0);
	ck_assert_int_eq(lstat(path_of(".lk.dir"), &st), 0);
	/* Carol's lock is broken: her marker goes at the next pass. */
	ck_assert_int_eq(unlink(path_of("carol.lock")), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(deliver(n, 1, "sweep\n"), 0);
	ck_assert_int_eq(lstat(path_of(".txn.1111111111111111"), &st), -1);
}
END_TEST

/* Each sweep looks at SWEEP_ENTRIES entries from where the last stopped:
 * old leftovers among many young names are all reached in turn. */
START_TEST(sweep_bounded)
{
	const char *n[] = { "alice" };
	char name[64];
	struct stat st;
	int i, left;

	for (i = 0; i < 20 * SWEEP_ENTRIES; i++) {
		snprintf(name, sizeof(name), ".lk.young%d", i);
		put(name, "");
	}
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), ".new.old%d", i);
		put(name, "");
		age(name, LOCK_STALE_S + 60);
	}
	ck_assert_int_eq(deliver(n, 1, "one\n"), 0);
	for (i = 0, left = 0; i < 10; i++) {
		snprintf(name, sizeof(name), ".new.old%d", i);
		left += lstat(path_of(name), &st) == 0;
	}
	ck_assert_int_gt(left, 0);	/* one delivery did not read it all */
	for (i = 0; i < 25; i++)
		ck_assert_int_eq(deliver(n, 1, "more\n"), 0);
	for (i = 0, left = 0; i < 10; i++) {
		snprintf(name, sizeof(name), ".new.old%d", i);
		left += lstat(path_of(name), &st) == 0;
	}
	ck_assert_int_eq(left, 0);
}
END_TEST


/* --- the index under foreign writers ----------------------------------- */

/* Write TEXT over alice's bytes at OFF, in place, as another program that
 * took both locks would. */
static void
rewrite_at(size_t off, const char *text)
{
	int fd = open(path_of("alice"), O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, text, strlen(text), (off_t)off),
	    (ssize_t)strlen(text));
	close(fd);
}

/* Append TEXT to alice under an fcntl lock, as Python's mailbox does. */
static void
foreign_append(const char *text)
{
	struct flock fl;
	int fd = open(path_of("alice"), O_WRONLY | O_APPEND);

	ck_assert_int_ge(fd, 0);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	ck_assert_int_eq(fcntl(fd, F_SETLKW, &fl), 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Log in to A B C, DELE 3; meanwhile another program rewrites message 1 in
 * place, same size ("aaa" becomes "a\na"); QUIT.  The expunge's check
 * covers only what it moves: the index it leaves must not describe the
 * old message 1 (a LIST size one octet short, a stale UIDL). */
START_TEST(index_quit_rewrite)
{
	struct mbox_index ix;
	struct store_box b;
	unsigned char d[3] = { 0, 0, 1 };

	put("alice", A B C);
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(store_scan(&b, &ix), 0);
	store_unlock(&b);
	rewrite_at(strlen(A) - 5, "a\na");
	ck_assert_int_eq(store_relock(&b), 0);
	ck_assert_int_eq(store_expunge(&b, &ix, d), 0);
	store_close(&b);
	mbox_index_free(&ix);
	ck_assert(same("alice", "From a Thu Nov 26 06:00:00 2026\nSubject: a\n\n"
	    "a\na\n\n" B));
	ck_assert(snapshot_is_exact());
}
END_TEST

/* Mail that smtpd delivered while the session was unlocked is in the index
 * smtpd kept on: the expunge carries that one, whose first records are
 * the session's. */
START_TEST(index_quit_after_delivery)
{
	const char *n[] = { "alice" };
	struct mbox_index ix;
	struct store_box b;
	unsigned char d[3] = { 1, 0, 0 };

	put("alice", A B C);
	ck_assert(snapshot_is_exact());
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1, 0), 0);
	ck_assert_int_eq(store_scan(&b, &ix), 0);
	store_unlock(&b);
	ck_assert_int_eq(deliver(n, 1, "late\n"), 0);
	ck_assert_int_eq(store_relock(&b), 0);
	ck_assert_int_eq(store_expunge(&b, &ix, d), 0);
	store_close(&b);
	mbox_index_free(&ix);
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
}
END_TEST

/* Where the header of .alice.idx keeps its stamp and its racy flag
 * (struct index_head in index.c: magic 8, version and record size 4 + 4,
 * the stamp 48, count, total 8 + 8, sum and tail 16 + 16). */
#define HEAD_STAMP	16
#define HEAD_RACY	112

/* A change within the clock tick of the stamp keeps the stamp: a racy
 * index is never believed, though its last 4 KiB still hash the same. */
START_TEST(index_racy_not_believed)
{
	char msg[16384], big[16384 + 64];
	struct mbox_stamp sp;
	struct stat st;
	uint32_t racy = 1;
	size_t i;
	int fd;

	for (i = 0; i < 8192; i += 64) {
		memset(msg + i, 'x', 63);
		msg[i + 63] = '\n';
	}
	msg[8192] = '\0';
	snprintf(big, sizeof(big), "From x Thu Nov 26 06:00:00 2026\n\n%s\n", msg);
	{
		FILE *f = fopen(path_of("alice"), "wb");

		fputs(A, f);
		fputs(big, f);
		fputs(B, f);
		fclose(f);
	}
	ck_assert(snapshot_is_exact());
	ck_assert(index_used());
	/* 3 KiB into the big message, 5 KiB before the end: same size. */
	rewrite_at(strlen(A) + 3000, "\n\n");
	ck_assert_int_eq(stat(path_of("alice"), &st), 0);
	store_stamp(&st, &sp);
	fd = open(path_of(".alice.idx"), O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &sp, sizeof(sp), HEAD_STAMP), (ssize_t)sizeof(sp));
	ck_assert_int_eq(pwrite(fd, &racy, sizeof(racy), HEAD_RACY), 4);
	close(fd);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
}
END_TEST

/* Another program's append costs the appended bytes: the old records are
 * kept when the old part still reads as they say, and only the new bytes
 * are scanned.  Whatever the appender wrote, the snapshot is exactly what
 * a full scan says. */
START_TEST(index_foreign_append)
{
	put("alice", A B C);
	ck_assert(snapshot_is_exact());
	/* After an empty line, as Python's mailbox and procmail append. */
	foreign_append(D);
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
	ck_assert(index_used());
	/* The old part ended in one LF: the appender adds the empty line. */
	put("alice", A B "From c Thu Nov 26 06:00:00 2026\n\nccc\n");
	ck_assert(snapshot_is_exact());
	foreign_append("\n" D);
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
	/* No From_ line: the bytes belong to the last message. */
	foreign_append("more of d\n\n");
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
	/* The old part did not end in a line: the last message grows. */
	put("alice", A B "From c Thu Nov 26 06:00:00 2026\n\nccc");
	ck_assert(snapshot_is_exact());
	foreign_append("\n\n" D);
	ck_assert(index_used());
	ck_assert(snapshot_is_exact());
	/* An append with a rewrite of the first message: a scan. */
	put("alice", A B C);
	ck_assert(snapshot_is_exact());
	rewrite_at(strlen(A) - 5, "a\na");
	foreign_append(D);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
	/* Cut and grown past the old size: the old end moved, a scan. */
	put("alice", A B C);
	ck_assert(snapshot_is_exact());
	ck_assert_int_eq(truncate(path_of("alice"), (off_t)strlen(A)), 0);
	foreign_append(D D D);
	ck_assert(!index_used());
	ck_assert(snapshot_is_exact());
}
END_TEST

/* Power cuts (docs/RELIABILITY.md): tests/crashcheck explores the states a
 * cut may leave; these pin down what the store must do with a few of them. */

/* Plant NAME.lock as a dead delivery of ours to several mailboxes left
 * it: its append of LEN bytes at SIZE, with commit marker TXN. */
static void
plant_txn(const char *name, size_t size, size_t len, const char *txn)
{
	char rec[512], lock[300], host[256];
	struct stat st;

	ck_assert_int_eq(stat(path_of(name), &st), 0);
	gethostname(host, sizeof(host));
	snprintf(rec, sizeof(rec), "%ld\ninetmail %s %zu %zu %s %llu %llu\n",
	    dead_pid(), host, size, len, txn, (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	snprintf(lock, sizeof(lock), "%s.lock", name);
	put(lock, rec);
}

/* A delivery to several mailboxes leaves its commit marker for the sweep,
 * which removes it only after a sync of the spool: a power cut may keep a
 * marker's removal and lose a dotlock's, and that dotlock, back again,
 * must still find the marker, or it takes the delivery that got its 250
 * for one that never committed and cuts it. */
START_TEST(power_marker_kept)
{
	const char *n[] = { "alice", "bob", "carol" };
	char txn[300] = "";
	struct dirent *de;
	DIR *d;

	put("alice", MSG1);
	put("bob", MSG1);
	put("carol", MSG1);
	ck_assert_int_eq(deliver(n, 3, "hello\n"), 0);
	ck_assert_ptr_nonnull(d = opendir(spool));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".txn.", 5) == 0)
			snprintf(txn, sizeof(txn), "%s", de->d_name);
	closedir(d);
	ck_assert_msg(txn[0] != '\0', "the commit marker went with the delivery");
	/* The dotlock bob's append left, back after a power cut. */
	plant_txn("bob", strlen(MSG1), strlen(MSG1), txn);
	ck_assert_int_eq(next_access_state(), 1);
}
END_TEST

/* An append of ours as mbox_trace writes it: trace fields, a header, and
 * a body of lines up to LEN bytes in all (at least 400), the closing empty
 * line included, into BUF. */
static size_t
our_message(char *buf, size_t len)
{
	struct mbox_env e = { "s@example.org", "c.example.org", "192.0.2.1",
	    "mail.example.org", "ESMTP", "lhcg0c00bs81", 1795000000 };
	size_t n = mbox_trace(buf, HEAD_MAX, &e, "alice@mail.example.org");

	n += (size_t)sprintf(buf + n, "Subject: ours\n\n");
	for (; n < len - 1; n++)
		buf[n] = n % 61 == 0 ? '\n' : (char)('a' + n % 26);
	buf[len - 2] = '\n';
	buf[len - 1] = '\n';
	return len;
}

/* Someone else's message of LEN bytes (at least 60), ending in an empty
 * line when WHOLE, into BUF. */
static size_t
their_message(char *buf, size_t len, int whole)
{
	size_t n = (size_t)sprintf(buf, "From x@y Thu Nov 26 06:00:00 2026\n"
	    "Subject: theirs\n\n");

	for (; n < len; n++)
		buf[n] = n % 50 == 0 ? '\n' : 'x';
	buf[len - 1] = '\n';
	if (whole)
		buf[len - 2] = '\n';
	return len;
}

/* Mailbox alice: FIRST bytes of someone else's mail, then the first
 * PIECE bytes of an append of ours (a power cut tore it there). */
static void
torn_box(size_t first, size_t piece, size_t whole)
{
	static char buf[16384];
	FILE *f;

	their_message(buf, first, 1);
	our_message(buf + first, whole);
	ck_assert_ptr_nonnull(f = fopen(path_of("alice"), "wb"));
	ck_assert_uint_eq(fwrite(buf, 1, first + piece, f), first + piece);
	fclose(f);
}

static size_t
size_after_open(void)
{
	struct store_box b;
	struct stat st;

	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1,
	    0), 0);
	store_close(&b);
	ck_assert_int_eq(stat(path_of("alice"), &st), 0);
	return (size_t)st.st_size;
}

/* A piece of an append of ours that a power cut left with no record of
 * it (the dotlock's name or record lost) is known by its form, cut back
 * at the next access, and nothing else is. */
START_TEST(power_torn_tail)
{
	static char buf[16384];
	FILE *f;

	/* Torn in the body, in the trace fields, in the From_ line. */
	torn_box(1000, 4096 - 1000, 7000);
	ck_assert_uint_eq(size_after_open(), 1000);
	torn_box(4040, 56, 7000);
	ck_assert_uint_eq(size_after_open(), 4040);
	torn_box(4094, 2, 7000);
	ck_assert_uint_eq(size_after_open(), 4094);
	/* Not at a multiple of 4 KiB: no power cut leaves that (a killed
	 * writer's record says what to cut). */
	torn_box(1000, 4097 - 1000, 7000);
	ck_assert_uint_eq(size_after_open(), 4097);
	/* Ours, whole, ending at 4 KiB. */
	torn_box(1000, 4096 - 1000, 4096 - 1000);
	ck_assert_uint_eq(size_after_open(), 4096);
	/* Ours, whole, rewritten by another program without its last empty
	 * line (Python's mailbox writes the empty line before the next
	 * message, not after the last), ending at 4 KiB: kept. */
	torn_box(1000, 4096 - 1000, 4096 - 1000 + 1);
	ck_assert_uint_eq(size_after_open(), 4096);
	/* Someone else's last message without its empty line, at 4 KiB. */
	their_message(buf, 1000, 1);
	their_message(buf + 1000, 4096 - 1000, 0);
	ck_assert_ptr_nonnull(f = fopen(path_of("alice"), "wb"));
	ck_assert_uint_eq(fwrite(buf, 1, 4096, f), 4096);
	fclose(f);
	ck_assert_uint_eq(size_after_open(), 4096);
}
END_TEST

/* A body whose last line has no newline (a session taken over can send
 * one) still ends in an empty line in the mailbox: else, were the mailbox
 * then to end at a 4 KiB boundary, the next lock would take the message,
 * answered 250, for a torn piece and cut it. */
START_TEST(power_unterminated_body)
{
	static char head[HEAD_MAX], body[8192];
	struct mbox_env e = { "s@example.org", "c.example.org", "192.0.2.1",
	    "mail.example.org", "ESMTP", "lhcg0c00bs81", 1795000000 };
	struct store_rcpt r = { 0 };
	struct mbox_index ix;
	struct store_box b;
	const char *alice[] = { "alice" };
	size_t hl, n;

	hl = mbox_trace(head, sizeof(head), &e, "alice@mail.example.org");
	r.name = "alice";
	r.uid = (uid_t)-1;
	r.gid = (gid_t)-1;
	r.head = head;
	r.headlen = hl;
	/* Sized so that the file would end at 4096 with one newline. */
	n = 4096 - hl - 1;
	memset(body, 'b', n);
	memcpy(body, "Subject: x\n\n", 12);
	ck_assert_int_eq(store_deliver(spool, &r, 1, body, n, 0), 0);
	ck_assert_uint_eq(size_after_open(), 4097);
	ck_assert_int_eq(deliver(alice, 1, "second\n"), 0);
	ck_assert_int_eq(store_open(&b, spool, "alice", (uid_t)-1, (gid_t)-1,
	    0), 0);
	ck_assert_int_eq(store_scan(&b, &ix), 0);
	ck_assert_uint_eq(ix.n, 2);
	ck_assert_uint_eq(ix.msg[0].size > 4000, 1);
	mbox_index_free(&ix);
	store_close(&b);
}
END_TEST

/* The quota counts what the store adds to such a body: its newline and
 * the empty line.  A quota one byte short refuses it; the exact one takes
 * it, and the mailbox ends at the quota. */
START_TEST(quota_unterminated_body)
{
	static const char head[] = "From s@x Thu Nov 26 06:00:00 2026\n";
	static const char body[] = "Subject: x\n\nno newline";
	struct store_rcpt r = { "alice", (uid_t)-1, (gid_t)-1, head,
	    sizeof(head) - 1 };
	uint64_t need = sizeof(head) - 1 + sizeof(body) - 1 + 2;

	ck_assert_int_eq(store_deliver(spool, &r, 1, body, sizeof(body) - 1,
	    need - 1), STORE_EQUOTA);
	ck_assert_int_eq(store_deliver(spool, &r, 1, body, sizeof(body) - 1,
	    need), 0);
	ck_assert_uint_eq(size_after_open(), need);
}
END_TEST

/* A new mailbox is made under a ".new." name and then linked to its own;
 * a power cut may keep the link and lose the unlink.  The mailbox then has
 * two links and is refused as a hard link: the sweep of the next login
 * (store_clear) removes the ".new." name at once, young as it is. */
START_TEST(power_twin_swept)
{
	struct store_box b;
	struct stat st;
	char box[512];

	put("bob", MSG1);
	snprintf(box, sizeof(box), "%s", path_of("bob"));
	ck_assert_int_eq(link(box, path_of(".new.0123456789abcdef")), 0);
	ck_assert_int_eq(store_open(&b, spool, "bob", (uid_t)-1, (gid_t)-1, 0),
	    STORE_ETYPE);
	ck_assert_int_eq(store_clear(spool, "bob", (uid_t)-1), 0);
	ck_assert_int_eq(lstat(path_of(".new.0123456789abcdef"), &st), -1);
	ck_assert_int_eq(store_open(&b, spool, "bob", (uid_t)-1, (gid_t)-1, 0), 0);
	store_close(&b);
	ck_assert(same("bob", MSG1));
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

#define TC(name, fn) do { tc = tcase_create(name); \
	tcase_add_checked_fixture(tc, setup, teardown); \
	tcase_set_timeout(tc, 30); tcase_add_test(tc, fn); suite_add_tcase(s, tc); } while (0)
	TC("names", name_rules);
	TC("create", create_mode);
	TC("links", refuse_links);
	TC("locking", lock_contention);
	TC("rollback", rollback_efbig);
	TC("delivery-crash", delivery_crash);
	TC("quoting", quoting_roundtrip);
	TC("scan", scan_tricky);
	TC("expunge", expunge_cases);
	TC("expunge-changed", expunge_changed);
	TC("expunge-crash", expunge_crash);
	TC("session", session_marker);
	TC("recovery", recovery_keeps_others);
	TC("scan_paths_agree", scan_paths_agree);
	TC("recovery_other_host", recovery_other_host);
	TC("recovery-killed-in-link", recovery_killed_in_link);
	TC("uidl", uidl_rules);
	TC("uidl-reader-fields", uidl_reader_fields);
	TC("index-appends", index_appends);
	TC("index-foreign", index_foreign_changes);
	TC("index-planted", index_planted);
	TC("index-crash", index_crash);
	TC("index-expunge", index_expunge);
	TC("index-racy", index_racy_expunge);
	TC("stamp-racy-coarse", stamp_racy_coarse);
	TC("squatted-names", squatted_names);
	TC("null-role-silent", null_role_silent);
	TC("stray-cleared", stray_cleared);
	TC("index-tmp-fresh", index_tmp_fresh);
	TC("sweep-leftovers", sweep_leftovers);
	TC("sweep-bounded", sweep_bounded);
	TC("index-quit-rewrite", index_quit_rewrite);
	TC("index-quit-after-delivery", index_quit_after_delivery);
	TC("index-racy-not-believed", index_racy_not_believed);
	TC("index-foreign-append", index_foreign_append);
	TC("power-marker-kept", power_marker_kept);
	TC("power-torn-tail", power_torn_tail);
	TC("power-twin-swept", power_twin_swept);
	TC("power-unterminated-body", power_unterminated_body);
	TC("quota-unterminated-body", quota_unterminated_body);
	return s;
}

#include "check_main.h"
CHECK_MAIN(store_suite)
