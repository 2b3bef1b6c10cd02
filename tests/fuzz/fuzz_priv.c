/* fuzz_priv.c: libFuzzer harness for the privileged sides' request
 * parsers: what a session taken over could send.  The input is a run of
 * frames, each a type byte, a 16-bit big-endian length and the payload:
 * type % 6 picks smtpd's MAIL, RCPT, BODY, END, any other type (the byte
 * itself), or pop3d's LOGIN parser.  smtpd's delivery side handles them in
 * this process and delivers for real into a scratch spool (users file
 * tests/transcripts/users).
 * Oracles besides ASan/UBSan:
 *  - a handled request answers only RCPT and END, with its reply type, a
 *    known code and a length within REP_MAX; after a refused request (-1)
 *    a fresh state takes over, as the process would end;
 *  - every delivery that reports 250 adds exactly one message to each of
 *    its mailboxes, which still scan as mbox (no envelope field can start a
 *    message of its own), and no dotlock is left;
 *  - a LOGIN that parses has a known method and a name of at most USER_MAX
 *    bytes, all three fields inside the request. */
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
#include "pop3d.h"
#include "fuzz.h"

#ifndef USERS_FILE
#error "build with -DUSERS_FILE=\"path/to/tests/transcripts/users\""
#endif

#define CLEAN_EVERY	64

static struct smtpd_conf conf;
static char spool[PATH_MAX];
static unsigned long runs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("priv");
	static char users[PATH_MAX];
	char *u;
	size_t len;

	(void)argc;
	(void)argv;
	fuzz_log_init("priv-fuzz");
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	if (mkdir(spool, 0755) < 0)
		fuzz_fail("mkdir %s: %s", spool, strerror(errno));
	u = fuzz_slurp(USERS_FILE, &len);
	snprintf(users, sizeof(users), "%s/users", dir);
	fuzz_put(users, u, len, 0644);
	free(u);
	opts_init(&conf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	snprintf(conf.o.host, sizeof(conf.o.host), "mail.example.org");
	conf.o.spool = spool;
	conf.o.users = users;
	conf.maxsize = 32768;
	conf.maxrcpt = 4;
	log_session("fuzz", "192.0.2.7");
	return 0;
}

/* Messages in mailbox NAME: -1 when there is none, aborts when it does not
 * scan. */
static long
count(const char *name)
{
	char p[PATH_MAX + USER_MAX + 2];
	struct mbox_index ix;
	struct stat st;
	long n;
	int fd, r;

	snprintf(p, sizeof(p), "%s/%s", spool, name);
	if ((fd = open(p, O_RDONLY)) < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		fuzz_fail("fstat %s", p);
	memset(&ix, 0, sizeof(ix));
	r = mbox_scan(fd, (uint64_t)st.st_size, &ix);
	close(fd);
	if (r != MBOX_OK)
		fuzz_fail("mailbox %s does not scan: %d", name, r);
	n = (long)ix.n;
	mbox_index_free(&ix);
	return n;
}

/* The mailboxes of the transaction, as the RCPT replies named them. */
static char boxes[16][USER_MAX + 1];
static long before[16];
static size_t nboxes;

static void
note(const unsigned char *rep, size_t rlen)
{
	const char *p = (const char *)rep + 8, *end = (const char *)rep + rlen, *c;
	size_t n;

	while (p < end && nboxes < 16) {
		c = memchr(p, ',', (size_t)(end - p));
		n = (size_t)((c != NULL ? c : end) - p);
		if (n > 0 && n <= USER_MAX) {
			memcpy(boxes[nboxes], p, n);
			boxes[nboxes][n] = '\0';
			before[nboxes] = count(boxes[nboxes]);
			nboxes++;
		}
		p += n + 1;
	}
}

static void
login(const uint8_t *p, size_t len)
{
	struct pop3_login l;
	char *req = malloc(len + 1);

	if (req == NULL)
		fuzz_fail("out of memory");
	memcpy(req, p, len);
	if (pop3_login_parse(req, len, &l) == 0) {
		if (strcmp(l.method, "pass") != 0 && strcmp(l.method, "plain") != 0 &&
		    strcmp(l.method, "apop") != 0)
			fuzz_fail("login method %s", l.method);
		if (strlen(l.name) > USER_MAX || l.secret < req ||
		    l.secret + strlen(l.secret) >= req + len)
			fuzz_fail("login fields outside the request");
	}
	free(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t types[] = { REQ_MAIL, REQ_RCPT, REQ_BODY, REQ_END };
	unsigned char rep[REP_MAX];
	struct smtp_priv *p;
	size_t pos = 0, len, rlen, i;
	uint32_t type, rtype, code;
	char lock[256];
	long n;
	int k;

	if (runs++ % CLEAN_EVERY == 0)
		fuzz_clean_dir(spool);
	if ((p = smtp_priv_new(&conf)) == NULL)
		fuzz_fail("smtp_priv_new: out of memory");
	nboxes = 0;
	while (pos + 3 <= size) {
		type = data[pos];
		len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		if (type % 6 == 5) {
			login(data + pos, len);
			pos += len;
			continue;
		}
		if (type % 6 < 4)
			type = types[type % 6];
		rtype = 0;
		k = smtp_priv_handle(p, type, data + pos, len, &rtype, rep, &rlen);
		pos += len;
		if (k == -1) {
			/* The process would end here; the next frames start a
			 * new one. */
			smtp_priv_free(p);
			if ((p = smtp_priv_new(&conf)) == NULL)
				fuzz_fail("smtp_priv_new: out of memory");
			nboxes = 0;
			continue;
		}
		if (k == 0) {
			if (type == REQ_MAIL)
				nboxes = 0;	/* a new transaction */
			continue;
		}
		if (rlen < 8 || rlen > REP_MAX ||
		    rtype != (type == REQ_RCPT ? REP_RCPT : REP_END) ||
		    (type != REQ_RCPT && type != REQ_END))
			fuzz_fail("reply type %u len %zu to request %u", rtype, rlen,
			    type);
		memcpy(&code, rep, 4);
		if (code == R_NONE || code >= R__COUNT)
			fuzz_fail("reply code %u", code);
		if (type == REQ_RCPT) {
			note(rep, rlen);
			continue;
		}
		/* END: each mailbox one message more, or none when refused. */
		for (i = 0; i < nboxes; i++) {
			n = count(boxes[i]);
			if (code == R_QUEUED && n != (before[i] < 0 ? 0 : before[i]) + 1)
				fuzz_fail("mailbox %s: %ld messages, %ld before a delivery",
				    boxes[i], n, before[i]);
			if (code != R_QUEUED && n != before[i])
				fuzz_fail("mailbox %s changed by a refused delivery",
				    boxes[i]);
		}
		nboxes = 0;
	}
	smtp_priv_free(p);
	if (fuzz_lock_left(spool, lock, sizeof(lock)))
		fuzz_fail("lock %s left in the spool", lock);
	return 0;
}
