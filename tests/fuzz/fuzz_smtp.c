/* fuzz_smtp.c: libFuzzer harness for a whole smtpd session.  The input is
 * the client's byte stream (commands, DATA, junk), fed through the injected
 * io callbacks to smtp_session(), whose messages the delivery side serves
 * in a thread at the other end of a real seam (a socketpair); it delivers
 * for real into a scratch spool (users file tests/transcripts/users, a
 * small aliases file).
 * Oracles besides ASan/UBSan:
 *  - the delivery side never refuses a message of the session: an honest
 *    session speaks the catalogue exactly, whatever its client sends;
 *  - every output line is a reply: "NNN " or "NNN-" with CRLF, no other CR
 *    or LF, continuation lines followed by the same code;
 *  - no dotlock is left behind;
 *  - every mailbox still scans as an mbox holding exactly the messages that
 *    store_deliver() reported stored (a From_ line smuggled through DATA or
 *    the trace header would split one).
 * Linked with -Wl,--wrap=store_deliver to count deliveries. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "store.h"
#include "users.h"
#include "smtpd.h"
#include "fuzz.h"

#ifndef USERS_FILE
#error "build with -DUSERS_FILE=\"path/to/tests/transcripts/users\""
#endif

/* As tests/transcripts/smtpd-aliases.setup and smtpd-postmaster-alias. */
static const char aliases[] =
    "# aliases\n\nteam: alice,\n  Bob\nabuse :carol,\"|cat\", x@remote.example\n"
    "root: \\alice\nnest: team, root\n"
    "postmaster: alice\n";

/* Clean the spool after this many sessions: mailboxes stay small, and the
 * create path is taken again as often as the append path. */
#define CLEAN_EVERY	64
#define BOXES_MAX	64

static struct smtpd_conf conf;
static struct io io;
static char spool[PATH_MAX];
static unsigned long runs;

/* Messages store_deliver() reported stored, per mailbox, since the clean. */
static struct { char name[USER_MAX + 1]; size_t n; } box[BOXES_MAX];
static size_t nbox;
static int delivered;		/* this session stored something */

struct feed {
	const uint8_t	*p;
	size_t		 len, pos, chunk;
	char		*out;
	size_t		 outlen, outcap;
};

static ssize_t
feed_read(struct io *i, void *buf, size_t len)
{
	struct feed *f = i->ctx;
	size_t n = f->len - f->pos;

	if (f->chunk > 0 && n > f->chunk)
		n = f->chunk;
	if (n > len)
		n = len;
	memcpy(buf, f->p + f->pos, n);
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

int __real_store_deliver(const char *spool, const struct store_rcpt *r,
    size_t n, const char *body, size_t bodylen, uint64_t quota);
int __wrap_store_deliver(const char *spool, const struct store_rcpt *r,
    size_t n, const char *body, size_t bodylen, uint64_t quota);

int
__wrap_store_deliver(const char *sp, const struct store_rcpt *r, size_t n,
    const char *body, size_t bodylen, uint64_t quota)
{
	size_t i, j;
	int rc;

	rc = __real_store_deliver(sp, r, n, body, bodylen, quota);
	if (rc != STORE_OK)
		return rc;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nbox && strcmp(box[j].name, r[i].name) != 0; j++)
			;
		if (j == nbox) {
			if (nbox == BOXES_MAX || strlen(r[i].name) > USER_MAX)
				fuzz_fail("mailbox name %s unexpected", r[i].name);
			snprintf(box[nbox].name, sizeof(box[0].name), "%s",
			    r[i].name);
			box[nbox++].n = 0;
		}
		box[j].n++;
	}
	delivered = 1;
	return rc;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("smtp");
	char path[PATH_MAX], *u;
	static char users[PATH_MAX];
	size_t len;

	(void)argc;
	(void)argv;
	fuzz_log_init("smtpd-fuzz");
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	if (mkdir(spool, 0755) < 0)
		fuzz_fail("mkdir %s: %s", spool, strerror(errno));
	u = fuzz_slurp(USERS_FILE, &len);
	snprintf(users, sizeof(users), "%s/users", dir);
	fuzz_put(users, u, len, 0644);
	free(u);
	snprintf(path, sizeof(path), "%s/aliases", dir);
	fuzz_put(path, aliases, sizeof(aliases) - 1, 0644);

	opts_init(&conf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	snprintf(conf.o.host, sizeof(conf.o.host), "mail.example.org");
	snprintf(conf.o.client, sizeof(conf.o.client), "192.0.2.7");
	conf.o.spool = spool;
	conf.o.users = users;
	if (users_check_file(users) < 0)
		fuzz_fail("users file %s malformed", USERS_FILE);
	if (smtp_aliases_load(&conf, path, &conf.aliases, NULL, NULL) != 0)
		fuzz_fail("aliases file malformed");
	/* Small enough that the limits are reachable within -max_len: four
	 * mailboxes (six are deliverable) and 32 KiB messages. */
	conf.maxsize = 32768;
	conf.maxrcpt = 4;
	log_session("fuzz", conf.o.client);
	return 0;
}

/* Every line a reply line; a "NNN-" line is followed by the same NNN. */
static void
check_replies(const char *o, size_t len)
{
	size_t i = 0, j;
	char cont[3] = "";

	if (len < 4 || memcmp(o, "220 ", 4) != 0)
		fuzz_fail("no 220 greeting");
	while (i < len) {
		for (j = i; j < len && o[j] != '\r' && o[j] != '\n'; j++)
			;
		if (j + 1 >= len || o[j] != '\r' || o[j + 1] != '\n')
			fuzz_fail("reply at %zu: no CRLF, or a bare CR or LF", i);
		if (j - i < 4 || o[i] < '2' || o[i] > '5' || o[i + 1] < '0' ||
		    o[i + 1] > '9' || o[i + 2] < '0' || o[i + 2] > '9' ||
		    (o[i + 3] != ' ' && o[i + 3] != '-'))
			fuzz_fail("reply at %zu: not a reply line: %.*s", i,
			    (int)(j - i), o + i);
		if (cont[0] != '\0' && memcmp(cont, o + i, 3) != 0)
			fuzz_fail("reply at %zu: continuation code changed", i);
		if (o[i + 3] == '-')
			memcpy(cont, o + i, 3);
		else
			cont[0] = '\0';
		i = j + 2;
	}
	if (cont[0] != '\0')
		fuzz_fail("multi-line reply never ended");
}

/* Each mailbox holds exactly the messages stored into it. */
static void
check_spool(void)
{
	struct mbox_index ix;
	char path[PATH_MAX + USER_MAX + 2], lock[256];
	struct stat st;
	size_t i;
	int fd, r;

	if (fuzz_lock_left(spool, lock, sizeof(lock)))
		fuzz_fail("lock %s left in the spool", lock);
	if (!delivered)
		return;
	delivered = 0;
	for (i = 0; i < nbox; i++) {
		snprintf(path, sizeof(path), "%s/%s", spool, box[i].name);
		if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
			fuzz_fail("mailbox %s: %s", box[i].name, strerror(errno));
		memset(&ix, 0, sizeof(ix));
		r = mbox_scan(fd, (uint64_t)st.st_size, &ix);
		close(fd);
		if (r != MBOX_OK)
			fuzz_fail("mailbox %s does not scan: %d", box[i].name, r);
		if (ix.n != box[i].n)
			fuzz_fail("mailbox %s: %zu messages stored, %zu found",
			    box[i].name, box[i].n, ix.n);
		mbox_index_free(&ix);
	}
}

static void *
delivery(void *arg)
{
	struct fuzz_peer *p = arg;

	p->rc = (int)smtp_delivery_serve(p->conf, &p->ps);
	priv_finish(&p->ps, PRIV_EOF);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct feed f;
	static struct smtp_link link;
	struct fuzz_peer dl;

	if (runs++ % CLEAN_EVERY == 0) {
		fuzz_clean_dir(spool);
		nbox = 0;
	}
	f.p = data;
	f.len = size;
	f.pos = 0;
	f.outlen = 0;
	/* Some inputs arrive in small reads, so line ends and the end-of-data
	 * mark get split across reads; which ones follows from the size. */
	f.chunk = size % 4 == 1 ? size % 13 + 1 : 0;
	io_init_cb(&io, feed_read, feed_write, &f);
	fuzz_peer_start(&dl, delivery, &conf);
	if (smtp_link_open(&link, &dl.sess) == -1)
		fuzz_fail("smtp_link_open: out of memory");
	if (smtp_session(&conf, &io, &link) != 0)
		fuzz_fail("smtp_session failed to start");
	smtp_link_close(&link);
	/* An honest session never makes its delivery side refuse a message
	 * (it would have ended the session without a reply). */
	if (fuzz_peer_join(&dl) != PRIV_EOF)
		fuzz_fail("the delivery side refused the session's messages");
	check_replies(f.out, f.outlen);
	check_spool();
	return 0;
}
