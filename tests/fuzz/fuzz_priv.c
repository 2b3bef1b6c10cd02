/* fuzz_priv.c: libFuzzer harness for the privileged sides of the seams,
 * as a session taken over would speak to them: smtpd's delivery side and
 * pop3d's login checker, each in a thread at the other end of a real
 * socketpair, get a run of frames and answer them.
 * The input: its first byte picks the side (even: delivery, odd: checker);
 * then frames, each a type byte, a 16-bit big-endian length and that many
 * bytes.  A type byte below 0x80 names a message of the side's catalogue
 * (type % 4: smtpd MAIL, RCPT, BODY, END; pop3d LOGIN, FAILED, HANDOVER,
 * or any other type) whose fields the harness packs from the bytes (NUL
 * separates strings; the first byte of a number), so the codec is right
 * and the fuzzer works on what the fields say; from 0x80 up the bytes go
 * out as they are, with the type byte & 0x7f, so the fuzzer works on the
 * unpacking.  smtpd's side delivers for real into a scratch spool (users
 * file tests/transcripts/users); pop3d's checks logins against a small
 * users file, with no delay and a stub for the switch to the owner.
 * Oracles besides ASan/UBSan:
 *  - every answer is a message of the catalogue, and unpacks;
 *  - smtpd: the spool gains exactly one message in each mailbox of every
 *    delivery answered 250, and none otherwise; every mailbox still scans
 *    as an mbox (no field can start a message of its own); no dotlock is
 *    left;
 *  - pop3d: no more than POP3_FAILS_MAX failed logins are answered, and
 *    none after the last; nothing is answered after a good login. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chan.h"
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

static struct smtpd_conf sconf;
static struct opts popts;
static struct pop3_conf pconf;
static char spool[PATH_MAX];
static unsigned long runs;

static int
stub_drop(uid_t uid, gid_t gid, gid_t extra)
{
	(void)uid;
	(void)gid;
	(void)extra;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_scratch("priv");
	static char users[PATH_MAX], pusers[PATH_MAX];
	char text[256], *u;
	unsigned ids = geteuid() == 0 ? 65534 : (unsigned)geteuid();
	size_t len;
	int n;

	(void)argc;
	(void)argv;
	/* A hand-over's connection has no client: a write to it must fail,
	 * not end the process. */
	signal(SIGPIPE, SIG_IGN);
	fuzz_log_init("priv-fuzz");
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	if (mkdir(spool, 0755) < 0)
		fuzz_fail("mkdir %s: %s", spool, strerror(errno));
	u = fuzz_slurp(USERS_FILE, &len);
	snprintf(users, sizeof(users), "%s/users", dir);
	fuzz_put(users, u, len, 0644);
	free(u);
	opts_init(&sconf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	snprintf(sconf.o.host, sizeof(sconf.o.host), "mail.example.org");
	snprintf(sconf.o.client, sizeof(sconf.o.client), "192.0.2.7");
	sconf.o.spool = spool;
	sconf.o.users = users;
	sconf.maxsize = 32768;
	sconf.maxrcpt = 4;

	n = snprintf(text, sizeof(text), "alice:{PLAIN}alicepw:%u:%u\n"
	    "root:{PLAIN}rootpw:0:0\nnoids:{PLAIN}noidspw\n", ids, ids);
	snprintf(pusers, sizeof(pusers), "%s/pusers", dir);
	fuzz_put(pusers, text, (size_t)n, 0600);
	opts_init(&popts, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	snprintf(popts.host, sizeof(popts.host), "mail.example.org");
	popts.spool = spool;
	popts.users = pusers;
	pconf.o = &popts;
	pconf.apop = 1;
	pconf.fail_delay_ms = 0;
	pconf.drop = stub_drop;
	pop3_make_stamp(pconf.stamp, popts.host);
	log_session("fuzz", "192.0.2.7");
	return 0;
}

static void *
delivery(void *arg)
{
	struct fuzz_peer *p = arg;

	p->rc = (int)smtp_delivery_serve(p->conf, &p->ps);
	priv_finish(&p->ps, PRIV_EOF);
	return NULL;
}

static void *
checker(void *arg)
{
	struct fuzz_peer *p = arg;

	p->rc = pop3_checker_serve(p->conf, &p->ps);
	return NULL;
}

/* The next NUL-terminated piece of P..END into BUF (CAP bytes, cut). */
static const uint8_t *
piece(const uint8_t *p, const uint8_t *end, char *buf, size_t cap)
{
	size_t n = 0;

	while (p < end && *p != '\0') {
		if (n + 1 < cap)
			buf[n++] = (char)*p;
		p++;
	}
	buf[n] = '\0';
	return p < end ? p + 1 : p;
}

/* Pack the structured message TYPE of side POP from P (LEN bytes) into
 * OUT; returns its length and *T its catalogue type. */
static size_t
pack(int pop, int type, const uint8_t *p, size_t len, unsigned char *out,
    size_t cap, uint32_t *t)
{
	const uint8_t *end = p + len;
	size_t n = 0;

	if (!pop) {
		struct sm_mail m;
		struct sm_rcpt r;

		switch (type) {
		case 0:
			*t = SM_MAIL;
			p = piece(p, end, m.helo, sizeof(m.helo));
			p = piece(p, end, m.sender, sizeof(m.sender));
			m.esmtp = p < end ? *p & 1 : 0;
			m.tls = p < end ? (*p >> 1) & 1 : 0;
			return sm_put_mail(out, cap, &m);
		case 1:
			*t = SM_RCPT;
			p = piece(p, end, r.local, sizeof(r.local));
			(void)piece(p, end, r.addr, sizeof(r.addr));
			return sm_put_rcpt(out, cap, &r);
		case 2:
			*t = SM_BODY;
			return sm_put_body(out, cap, p, len > SMTP_CHUNK ?
			    SMTP_CHUNK : len);
		default:
			*t = SM_END;
			return 0;
		}
	}
	switch (type) {
	case 0: {
		static struct pm_login l;

		*t = PM_LOGIN;
		l.method = p < end ? (enum pm_method)(*p++ % 3) : PM_PASS;
		p = piece(p, end, l.name, sizeof(l.name));
		(void)piece(p, end, l.secret, sizeof(l.secret));
		return pm_put_login(out, cap, &l);
	}
	case 1: {
		static struct pm_failed f;

		*t = PM_FAILED;
		f.method = p < end ? (enum pm_method)(*p++ % 3) : PM_PASS;
		p = piece(p, end, f.name, sizeof(f.name));
		(void)piece(p, end, f.reason, sizeof(f.reason));
		return pm_put_failed(out, cap, &f);
	}
	case 2:
		*t = PM_HANDOVER;
		n = len > IO_RBUF ? IO_RBUF : len;
		return pm_put_handover(out, cap, p, n, len > n ? p[n] & 1 : 0);
	default:
		*t = p < end ? *p : 0;
		return 0;
	}
}

/* Messages in every mailbox of the spool; aborts when one does not scan. */
static long
spool_count(void)
{
	char path[PATH_MAX + 300];
	struct mbox_index ix;
	struct dirent *e;
	struct stat st;
	long total = 0;
	DIR *d;
	int fd, r;

	if ((d = opendir(spool)) == NULL)
		fuzz_fail("opendir %s", spool);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", spool, e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
			fuzz_fail("mailbox %s: %s", e->d_name, strerror(errno));
		memset(&ix, 0, sizeof(ix));
		r = mbox_scan(fd, (uint64_t)st.st_size, &ix);
		close(fd);
		if (r != MBOX_OK)
			fuzz_fail("mailbox %s does not scan: %d", e->d_name, r);
		total += (long)ix.n;
		mbox_index_free(&ix);
	}
	closedir(d);
	return total;
}

/* smtpd's answers, in order: the deliveries they report. */
static long
smtp_answers(int fd, const struct timespec *until)
{
	static unsigned char buf[CHAN_MAX];
	struct sm_rcpt_rep rr;
	struct sm_end_rep er;
	uint32_t type, count = 0;
	size_t len;
	long added = 0;

	while (chan_recv(fd, until, &type, buf, sizeof(buf), &len, NULL,
	    NULL) == 1) {
		if (type == SM_RCPT_REP) {
			if (sm_get_rcpt_rep(buf, len, &rr) == -1)
				fuzz_fail("an RCPT answer that does not unpack");
			count = rr.count;
		} else if (type == SM_END_REP) {
			if (sm_get_end_rep(buf, len, &er) == -1)
				fuzz_fail("an END answer that does not unpack");
			if (er.reply == R_QUEUED)
				added += count;
			count = 0;
		} else
			fuzz_fail("answer of type %u", type);
	}
	return added;
}

/* pop3d's answers: at most POP3_FAILS_MAX failures, none after the last,
 * nothing after a good login. */
static void
pop3_answers(int fd, const struct timespec *until)
{
	unsigned char buf[256];
	struct pm_reply r;
	uint32_t type;
	size_t len;
	int fails = 0, over = 0;

	while (chan_recv(fd, until, &type, buf, sizeof(buf), &len, NULL,
	    NULL) == 1) {
		if (type != PM_LOGIN_REP || pm_get_reply(buf, len, &r) == -1)
			fuzz_fail("a login answer that does not unpack");
		if (over)
			fuzz_fail("an answer after the last one");
		if (r.result == PM_AUTH || r.result == PM_AUTH_LAST)
			fails++;
		if (fails > POP3_FAILS_MAX)
			fuzz_fail("more than %d failed logins answered",
			    POP3_FAILS_MAX);
		if (r.result != PM_AUTH)
			over = 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[CHAN_MAX];
	struct fuzz_peer pr;
	size_t pos = 1, len, n;
	uint32_t type;
	char lock[256];
	long before = 0, added = 0;
	int pop, sv[2], fds[2];

	if (size < 1)
		return 0;
	pop = data[0] & 1;
	if (!pop && runs++ % CLEAN_EVERY == 0)
		fuzz_clean_dir(spool);
	if (!pop)
		before = spool_count();
	fuzz_peer_start(&pr, pop ? checker : delivery,
	    pop ? (const void *)&pconf : (const void *)&sconf);
	while (pos + 3 <= size) {
		len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		if (len > size - pos - 3)
			len = size - pos - 3;
		if (data[pos] & 0x80) {
			type = data[pos] & 0x7f;
			n = len > sizeof(out) ? sizeof(out) : len;
			memcpy(out, data + pos + 3, n);
		} else
			n = pack(pop, data[pos] % 4, data + pos + 3, len, out,
			    sizeof(out), &type);
		pos += 3 + len;
		fds[0] = fds[1] = -1;
		/* A hand-over passes a connection whose client has gone. */
		if (pop && type == PM_HANDOVER &&
		    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
			fds[0] = fds[1] = sv[1];
			close(sv[0]);
		}
		if (chan_send(pr.sess.fd, &pr.sess.end, type, out, n,
		    fds[0] != -1 ? fds : NULL, fds[0] != -1 ? 2 : 0) == -1) {
			if (fds[0] != -1)
				close(fds[0]);
			break;	/* it has cut the session off */
		}
		if (fds[0] != -1)
			close(fds[0]);
	}
	shutdown(pr.sess.fd, SHUT_WR);
	if (pop)
		pop3_answers(pr.sess.fd, &pr.sess.end);
	else
		added = smtp_answers(pr.sess.fd, &pr.sess.end);
	(void)fuzz_peer_join(&pr);
	if (!pop) {
		if (spool_count() != before + added)
			fuzz_fail("the spool gained other than the %ld messages "
			    "answered 250", added);
		if (fuzz_lock_left(spool, lock, sizeof(lock)))
			fuzz_fail("lock %s left in the spool", lock);
	}
	return 0;
}
