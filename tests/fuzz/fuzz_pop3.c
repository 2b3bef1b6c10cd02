/* fuzz_pop3.c: libFuzzer harness for a whole pop3d session on a scratch
 * spool.  An input that starts with an AUTHORIZATION command (USER, PASS,
 * APOP, AUTH, any case) is the client's stream to the session, with the
 * login checker in a thread at the other end of a real seam; any other
 * input goes to the TRANSACTION of alice as the checker runs it after a
 * login, so the fuzzer spends its time in TRANSACTION and UPDATE.  The
 * switch to the owner is a stub (as in
 * tests/unit/test_pop3_session.c): the maildrops are reachable whoever runs
 * the fuzzer.  Maildrops: alice (the transcripts' three tricky messages),
 * bob (a 70 kB line, deep '>From' quoting, no final blank line), carol (none),
 * eve (not an mbox); root (uid 0) and noids must be refused.
 * Oracles besides ASan/UBSan:
 *  - the output starts with "+OK", ends with CRLF, has no bare LF;
 *  - no dotlock or expunge journal is left behind;
 *  - a maildrop changed by QUIT still scans, and holds a subsequence of
 *    the messages it had (same UIDL hashes, same order). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pop3d.h"
#include "fuzz.h"

/* tests/transcripts/pop3d.lib's sample. */
static const char sample[] =
    "From sender@example.com Mon Jan  1 10:00:00 2024\n"
    "Return-Path: <sender@example.com>\n"
    "From: Sender <sender@example.com>\n"
    "To: alice@example.org\n"
    "Subject: first\n"
    "\n"
    "Hello Alice.\n"
    ".a line starting with a dot\n"
    "..two dots\n"
    ".\n"
    ">From the quoted mboxrd line\n"
    ">>From twice quoted\n"
    ">not a From line\n"
    " From not at the start\n"
    "\n"
    "Bye.\n"
    "\n"
    "From MAILER-DAEMON Mon Jan  1 10:00:01 2024\n"
    "Return-Path: <>\n"
    "Subject: second\n"
    "\n"
    "Line 1\n"
    "Line 2\n"
    "Line 3\n"
    "\n"
    "From bob@example.org Mon Jan  1 10:00:02 2024\n"
    "Return-Path: <bob@example.org>\n"
    "Subject: third\n"
    "\n"
    "Just one line.\n"
    "\n";

static const char *const boxname[] = { "alice", "bob", "eve" };
#define NBOX	(sizeof(boxname) / sizeof(boxname[0]))

static struct {
	char		*text;
	size_t		 len;
	char		 path[PATH_MAX];
	struct stat	 st;		/* as written */
	struct mbox_index ix;		/* as scanned then */
} box[NBOX];

static struct opts o;
static struct pop3_conf conf;
static struct io io;
static char spool[PATH_MAX];

static int
stub_drop(uid_t uid, gid_t gid, gid_t extra)
{
	(void)uid;
	(void)gid;
	(void)extra;
	return 0;
}

struct feed {
	const uint8_t	*pre, *p;
	size_t		 prelen, len, pos, chunk;
	char		*out;
	size_t		 outlen, outcap;
};

static ssize_t
feed_read(struct io *i, void *buf, size_t len)
{
	struct feed *f = i->ctx;
	const uint8_t *src;
	size_t n;

	if (f->pos < f->prelen) {
		src = f->pre + f->pos;
		n = f->prelen - f->pos;
	} else {
		src = f->p + (f->pos - f->prelen);
		n = f->prelen + f->len - f->pos;
	}
	if (f->chunk > 0 && n > f->chunk)
		n = f->chunk;
	if (n > len)
		n = len;
	memcpy(buf, src, n);
	f->pos += n;
	return (ssize_t)n;
}

static ssize_t
feed_write(struct io *i, const void *buf, size_t len)
{
	struct feed *f = i->ctx;

	fuzz_append(&f->out, &f->outlen, &f->outcap, buf, len);
	return (ssize_t)len;
}

static void
scan_path(const char *path, struct mbox_index *ix, struct stat *st)
{
	int fd, r;

	memset(ix, 0, sizeof(*ix));
	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, st) < 0)
		fuzz_fail("maildrop %s: %s", path, strerror(errno));
	r = mbox_scan(fd, (uint64_t)st->st_size, ix);
	close(fd);
	if (r != MBOX_OK && r != MBOX_ENOTMBOX)
		fuzz_fail("maildrop %s does not scan: %d", path, r);
}

/* Write maildrop I as it was at the start. */
static void
restore(size_t i)
{
	fuzz_put(box[i].path, box[i].text, box[i].len, 0600);
	if (stat(box[i].path, &box[i].st) < 0)
		fuzz_fail("stat %s: %s", box[i].path, strerror(errno));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("pop3");
	static char users[PATH_MAX];
	char text[1024], *b;
	unsigned ids;
	size_t i, n;

	(void)argc;
	(void)argv;
	fuzz_log_init("pop3d-fuzz");
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	if (mkdir(spool, 0755) < 0)
		fuzz_fail("mkdir %s: %s", spool, strerror(errno));
	/* Root "drops" to nobody's ids (the stub keeps root); anyone else
	 * already is the owner. */
	ids = geteuid() == 0 ? 65534 : (unsigned)geteuid();
	n = (size_t)snprintf(text, sizeof(text),
	    "alice:{PLAIN}alicepw:%u:%u\n"
	    "bob:{PLAIN}bobpw:%u:%u\n"
	    "carol:{PLAIN}carolpw:%u:%u\n"
	    "eve:{PLAIN}evepw:%u:%u\n"
	    "dave:{SHA512-CRYPT}$6$saltsalt$Y4mMAaWU.hm1kEXQxIG/B2RFU5IwQbZL0XM"
	    "VAYWo/bJ5mLvjKOiML2YnP3DRa6FHW/c5lLoPxRcxLg1T4lXtk.:%u:%u\n"
	    "root:{PLAIN}rootpw:0:0\n"
	    "noids:{PLAIN}noidspw\n", ids, ids, ids, ids, ids, ids, ids, ids,
	    ids, ids);
	snprintf(users, sizeof(users), "%s/users", dir);
	fuzz_put(users, text, n, 0600);

	box[0].text = (char *)sample;
	box[0].len = sizeof(sample) - 1;
	/* bob: a line longer than the reader's 64 KiB buffer, quoting deeper
	 * than one '>', and no blank line at the end (another MDA's file). */
	n = 70000;
	if ((b = malloc(n + 512)) == NULL)
		fuzz_fail("malloc");
	i = (size_t)snprintf(b, 512, "From x@example.net Mon Jan  1 10:00:00 "
	    "2024\nSubject: long\n\n>>>From deep\n.\n");
	memset(b + i, 'x', n);
	i += n;
	i += (size_t)snprintf(b + i, 512, "\n>From a\n.x\nFrom x@example.net "
	    "Tue Jan  2 10:00:00 2024\nSubject: second\n\nno final blank");
	box[1].text = b;
	box[1].len = i;
	box[2].text = (char *)"This is not an mbox file.\n";
	box[2].len = strlen(box[2].text);
	for (i = 0; i < NBOX; i++) {
		snprintf(box[i].path, sizeof(box[i].path), "%s/%s", spool,
		    boxname[i]);
		restore(i);
		scan_path(box[i].path, &box[i].ix, &box[i].st);
	}

	opts_init(&o, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	snprintf(o.host, sizeof(o.host), "mail.example.org");
	o.spool = spool;
	o.users = users;
	conf.o = &o;
	conf.apop = 1;
	conf.fail_delay_ms = 0;
	conf.drop = stub_drop;
	pop3_make_stamp(conf.stamp, o.host);
	log_session("fuzz", "192.0.2.7");
	return 0;
}

static void
check_output(const char *out, size_t len)
{
	size_t i;

	if (len < 4 || memcmp(out, "+OK ", 4) != 0)
		fuzz_fail("no +OK greeting");
	if (out[len - 2] != '\r' || out[len - 1] != '\n')
		fuzz_fail("output does not end in CRLF");
	for (i = 1; i < len; i++)
		if (out[i] == '\n' && out[i - 1] != '\r')
			fuzz_fail("bare LF in the output at %zu", i);
}

/* A maildrop QUIT changed: what is left is some of what was there. */
static void
check_box(size_t b)
{
	struct mbox_index ix;
	struct stat st;
	size_t i, j = 0;

	if (stat(box[b].path, &st) < 0)
		fuzz_fail("maildrop %s: %s", boxname[b], strerror(errno));
	if (st.st_ino == box[b].st.st_ino && st.st_size == box[b].st.st_size &&
	    st.st_mtim.tv_sec == box[b].st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == box[b].st.st_mtim.tv_nsec)
		return;
	scan_path(box[b].path, &ix, &st);
	if (st.st_size > 0 && ix.n == 0)
		fuzz_fail("maildrop %s no longer an mbox", boxname[b]);
	for (i = 0; i < ix.n; i++) {
		while (j < box[b].ix.n &&
		    (box[b].ix.msg[j].hash[0] != ix.msg[i].hash[0] ||
		    box[b].ix.msg[j].hash[1] != ix.msg[i].hash[1]))
			j++;
		if (j == box[b].ix.n)
			fuzz_fail("maildrop %s: message %zu is not one it had",
			    boxname[b], i + 1);
		j++;
	}
	mbox_index_free(&ix);
	restore(b);
}

static void *
checker(void *arg)
{
	struct fuzz_peer *p = arg;

	p->rc = pop3_checker_serve(p->conf, &p->ps);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const authverb[] = { "USER", "PASS", "APOP", "AUTH" };
	static struct feed f;
	struct fuzz_peer ck;
	char name[256];
	size_t i;
	int auth = 0;

	for (i = 0; i < 4; i++)
		if (size >= 4 && strncasecmp((const char *)data, authverb[i],
		    4) == 0)
			auth = 1;
	f.pre = NULL;
	f.prelen = 0;
	f.p = data;
	f.len = size;
	f.pos = 0;
	f.outlen = 0;
	f.chunk = size % 4 == 1 ? size % 13 + 1 : 0;
	io_init_cb(&io, feed_read, feed_write, &f);
	if (auth) {
		/* AUTHORIZATION in the session, the checker in a thread.  A
		 * good login cannot hand memory I/O over (no descriptors):
		 * the session ends there, as on a failed hand-over. */
		fuzz_peer_start(&ck, checker, &conf);
		(void)pop3_session(&conf, &io, &ck.sess);
		(void)fuzz_peer_join(&ck);
	} else {
		/* The TRANSACTION, as the checker runs it after a login: the
		 * greeting a client would have seen first, then alice's. */
		fuzz_append(&f.out, &f.outlen, &f.outcap, "+OK hello\r\n", 11);
		(void)pop3_session_resume(&conf, &io, "alice", PM_PASS, 0);
	}
	check_output(f.out, f.outlen);
	if (fuzz_lock_left(spool, name, sizeof(name)))
		fuzz_fail("lock %s left in the spool", name);
	for (i = 0; i < NBOX; i++) {
		snprintf(name, sizeof(name), "%s/.%s.redo", spool, boxname[i]);
		if (access(name, F_OK) == 0)
			fuzz_fail("expunge journal %s left", name);
		check_box(i);
	}
	return 0;
}
