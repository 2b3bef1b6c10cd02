/* test_seam.c: the seams between a server's processes.  The typed codec
 * (msg.c), the transport with its deadlines (chan.c), each catalogue's
 * messages both ways and what their unpacking refuses (seam.c, smtpseam.c,
 * pop3seam.c); and each privileged half driven over a real socketpair by a
 * hostile session, as a session taken over by an attacker would speak to
 * it: forged client address, probing, brute force, cut frames, oversized
 * lengths, frames out of order, silence.  The privileged half runs in a
 * child process with a session process of its own (a sleeper), so the
 * tests see it end, end its session, and log why. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "clock.h"
#include "log.h"
#include "msg.h"
#include "priv.h"
#include "seam.h"
#include "smtpd.h"
#include "pop3d.h"
#include "check_main.h"

/* --- the codec ---------------------------------------------------------- */

START_TEST(codec_round_trip)
{
	unsigned char buf[256];
	const unsigned char *d;
	char str[8];
	struct msg m;
	uint32_t v;
	size_t n, dl;

	msg_put_init(&m, buf, sizeof(buf));
	msg_put_u32(&m, 0xdeadbeef);
	msg_put_str(&m, "abc", 7);
	msg_put_str(&m, "", 7);
	msg_put_data(&m, "x\0y", 3, 3);
	n = msg_put_end(&m);
	ck_assert_uint_eq(n, 4 + 2 + 3 + 2 + 4 + 3);
	/* big-endian on the wire */
	ck_assert_uint_eq(buf[0], 0xde);
	ck_assert_uint_eq(buf[3], 0xef);

	msg_get_init(&m, buf, n);
	msg_get_u32(&m, &v, UINT32_MAX);
	ck_assert_uint_eq(v, 0xdeadbeef);
	msg_get_str(&m, str, sizeof(str));
	ck_assert_str_eq(str, "abc");
	msg_get_str(&m, str, sizeof(str));
	ck_assert_str_eq(str, "");
	msg_get_data(&m, &d, &dl, 3);
	ck_assert_uint_eq(dl, 3);
	ck_assert(memcmp(d, "x\0y", 3) == 0);
	ck_assert_int_eq(msg_get_end(&m), 0);
}
END_TEST

START_TEST(codec_refuses)
{
	unsigned char buf[64];
	const unsigned char *d;
	char str[4];
	struct msg m;
	uint32_t v;
	size_t n, dl;

	/* A put over its bound, or past the buffer, spoils the message. */
	msg_put_init(&m, buf, sizeof(buf));
	msg_put_str(&m, "toolong", 3);
	ck_assert_uint_eq(msg_put_end(&m), 0);
	msg_put_init(&m, buf, 5);
	msg_put_u32(&m, 1);
	msg_put_u32(&m, 2);
	ck_assert_uint_eq(msg_put_end(&m), 0);

	/* A number over its bound. */
	msg_put_init(&m, buf, sizeof(buf));
	msg_put_u32(&m, 7);
	n = msg_put_end(&m);
	msg_get_init(&m, buf, n);
	msg_get_u32(&m, &v, 6);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(msg_get_end(&m), -1);

	/* A string longer than its field is refused whole, never cut. */
	msg_put_init(&m, buf, sizeof(buf));
	msg_put_str(&m, "abcd", 10);
	n = msg_put_end(&m);
	msg_get_init(&m, buf, n);
	msg_get_str(&m, str, sizeof(str));
	ck_assert_str_eq(str, "");
	ck_assert_int_eq(msg_get_end(&m), -1);

	/* A NUL inside a string. */
	memcpy(buf, "\0\3a\0b", 5);
	msg_get_init(&m, buf, 5);
	msg_get_str(&m, str, sizeof(str));
	ck_assert_int_eq(msg_get_end(&m), -1);

	/* A length that runs past the payload, and a payload cut short. */
	memcpy(buf, "\0\0\1\0xy", 6);
	msg_get_init(&m, buf, 6);
	msg_get_data(&m, &d, &dl, 1024);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(msg_get_end(&m), -1);
	msg_get_init(&m, buf, 3);
	msg_get_u32(&m, &v, UINT32_MAX);
	ck_assert_int_eq(msg_get_end(&m), -1);

	/* Bytes left over: a message has exactly its fields. */
	msg_put_init(&m, buf, sizeof(buf));
	msg_put_u32(&m, 1);
	msg_put_u32(&m, 2);
	n = msg_put_end(&m);
	msg_get_init(&m, buf, n);
	msg_get_u32(&m, &v, 10);
	ck_assert_int_eq(msg_get_end(&m), -1);
	/* and every get after a bad one fails too */
	msg_get_init(&m, buf, 2);
	msg_get_u32(&m, &v, 10);
	msg_get_init(&m, buf, n);
	m.bad = 1;
	msg_get_u32(&m, &v, 10);
	ck_assert_uint_eq(v, 0);
}
END_TEST

/* --- the transport ------------------------------------------------------ */

static void
soon(struct timespec *t, long ms)
{
	clock_in(t, ms);
}

START_TEST(chan_frames_and_fds)
{
	struct timespec t;
	unsigned char buf[64], hold[64];
	uint32_t type;
	size_t len, n;
	int sv[2], p[2], fds[4], nfds = 4;

	ck_assert_int_eq(chan_pair(sv), 0);
	ck_assert_int_eq(pipe(p), 0);
	soon(&t, 2000);
	ck_assert_int_eq(chan_send(sv[0], &t, 7, "hello", 5, p, 2), 0);
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    fds, &nfds), 1);
	ck_assert_uint_eq(type, 7);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(nfds, 2);
	/* the descriptors work: what goes into the pipe comes out of its copy */
	ck_assert_int_eq(write(fds[1], "z", 1), 1);
	ck_assert_int_eq(read(p[0], buf, 1), 1);
	ck_assert_int_eq(buf[0], 'z');
	close(fds[0]);
	close(fds[1]);

	/* held frames go with the next one, in order */
	n = chan_frame(hold, sizeof(hold), 1, "a", 1);
	n += chan_frame(hold + n, sizeof(hold) - n, 2, "", 0);
	ck_assert_uint_eq(chan_frame(hold, 4, 1, "a", 1), 0);
	ck_assert_int_eq(chan_send_after(sv[0], &t, hold, n, 3, "c", 1), 0);
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), 1);
	ck_assert(type == 1 && len == 1 && buf[0] == 'a');
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), 1);
	ck_assert(type == 2 && len == 0);
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), 1);
	ck_assert(type == 3 && len == 1);

	/* descriptors not asked for are closed, not kept */
	ck_assert_int_eq(chan_send(sv[0], &t, 7, "x", 1, p, 1), 0);
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), 1);
	/* the end between frames */
	close(sv[0]);
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), 0);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* A frame header: TYPE, then LEN, as chan.c writes it. */
static void
header(int fd, uint32_t type, uint32_t len)
{
	uint32_t h[2] = { type, len };

	ck_assert_int_eq(write(fd, h, sizeof(h)), (ssize_t)sizeof(h));
}

START_TEST(chan_refuses)
{
	struct timespec t, t0, t1;
	unsigned char buf[64];
	uint32_t type;
	size_t len;
	long ms;
	int sv[2];

	ck_assert_int_eq(chan_pair(sv), 0);
	soon(&t, 2000);
	/* a length over the reader's buffer: refused before a byte is read */
	header(sv[0], 1, sizeof(buf) + 1);
	errno = 0;
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), -1);
	ck_assert_int_eq(errno, EPROTO);
	close(sv[0]);
	close(sv[1]);

	/* silence: the deadline */
	ck_assert_int_eq(chan_pair(sv), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	soon(&t, 300);
	errno = 0;
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	/* a frame cut short: the same deadline holds inside it */
	header(sv[0], 1, 10);
	ck_assert_int_eq(write(sv[0], "abc", 3), 3);
	soon(&t, 300);
	errno = 0;
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 550);
	ck_assert_int_lt(ms, 2000);
	/* the end inside a frame */
	header(sv[0], 1, 10);
	ck_assert_int_eq(write(sv[0], "abc", 3), 3);
	close(sv[0]);
	soon(&t, 2000);
	errno = 0;
	ck_assert_int_eq(chan_recv(sv[1], &t, &type, buf, sizeof(buf), &len,
	    NULL, NULL), -1);
	ck_assert_int_eq(errno, EPROTO);
	close(sv[1]);

	/* a peer that stops reading cannot hold a sender past its deadline */
	ck_assert_int_eq(chan_pair(sv), 0);
	soon(&t, 500);
	while (chan_send(sv[0], &t, 1, buf, sizeof(buf), NULL, 0) == 0)
		;
	ck_assert_int_eq(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* --- the catalogues ----------------------------------------------------- */

START_TEST(catalogue_common)
{
	unsigned char buf[256];
	char c[SEAM_ADDR_SIZE], v[SEAM_ADDR_SIZE];
	size_t n;
	int yes;

	n = seam_put_client(buf, sizeof(buf), "2001:db8::7");
	ck_assert_int_eq(seam_get_client(buf, n, c), 0);
	ck_assert_str_eq(c, "2001:db8::7");
	n = seam_put_client(buf, sizeof(buf), "");
	ck_assert_int_eq(seam_get_client(buf, n, c), 0);
	ck_assert_str_eq(c, "");
	/* a client address must be numeric: no names, no spaces, no junk */
	n = seam_put_client(buf, sizeof(buf), "mail.example.org");
	ck_assert_int_eq(seam_get_client(buf, n, c), -1);
	n = seam_put_client(buf, sizeof(buf), "192.0.2.7 x");
	ck_assert_int_eq(seam_get_client(buf, n, c), -1);
	n = seam_put_admit(buf, sizeof(buf), "192.0.2.7", "10.0.0.1");
	ck_assert_int_eq(seam_get_admit(buf, n, c, v), 0);
	ck_assert_str_eq(c, "192.0.2.7");
	ck_assert_str_eq(v, "10.0.0.1");
	n = seam_put_admit(buf, sizeof(buf), "192.0.2.7", "");
	ck_assert_int_eq(seam_get_admit(buf, n, c, v), -1);
	n = seam_put_yes(buf, sizeof(buf), 1);
	ck_assert_int_eq(seam_get_yes(buf, n, &yes), 0);
	ck_assert_int_eq(yes, 1);
	buf[3] = 2;
	ck_assert_int_eq(seam_get_yes(buf, n, &yes), -1);
}
END_TEST

START_TEST(catalogue_smtpd)
{
	unsigned char buf[1024];
	struct sm_mail m = { "client.example", "a@b.example", 1, 0 }, m2;
	struct sm_rcpt r = { "alice", "alice@mx.example.org" }, r2;
	struct sm_rcpt_rep rr = { R_RCPT_OK, 2, "alice,bob" }, rr2;
	struct sm_end_rep er = { R_QUEUED, "abcdefghijkl", "delivered" }, er2;
	const unsigned char *d;
	size_t n, dl;

	n = sm_put_mail(buf, sizeof(buf), &m);
	ck_assert_int_eq(sm_get_mail(buf, n, &m2), 0);
	ck_assert_str_eq(m2.helo, "client.example");
	ck_assert_str_eq(m2.sender, "a@b.example");
	ck_assert_uint_eq(m2.esmtp, 1);
	n = sm_put_rcpt(buf, sizeof(buf), &r);
	ck_assert_int_eq(sm_get_rcpt(buf, n, &r2), 0);
	ck_assert_str_eq(r2.local, "alice");
	n = sm_put_body(buf, sizeof(buf), "line\n", 5);
	ck_assert_int_eq(sm_get_body(buf, n, &d, &dl), 0);
	ck_assert_uint_eq(dl, 5);
	n = sm_put_rcpt_rep(buf, sizeof(buf), &rr);
	ck_assert_int_eq(sm_get_rcpt_rep(buf, n, &rr2), 0);
	ck_assert_int_eq(rr2.reply, R_RCPT_OK);
	ck_assert_str_eq(rr2.boxes, "alice,bob");
	n = sm_put_end_rep(buf, sizeof(buf), &er);
	ck_assert_int_eq(sm_get_end_rep(buf, n, &er2), 0);
	ck_assert_str_eq(er2.qid, "abcdefghijkl");

	/* What would start a header of the session's making, or name a
	 * file, is refused by the unpacking. */
	strcpy(m.helo, "x\r\nX-Evil: 1");
	ck_assert_int_eq(sm_get_mail(buf, sm_put_mail(buf, sizeof(buf), &m),
	    &m2), -1);
	strcpy(m.helo, "two words");
	ck_assert_int_eq(sm_get_mail(buf, sm_put_mail(buf, sizeof(buf), &m),
	    &m2), -1);
	strcpy(m.helo, "");
	ck_assert_int_eq(sm_get_mail(buf, sm_put_mail(buf, sizeof(buf), &m),
	    &m2), -1);
	strcpy(m.helo, "ok.example");
	strcpy(m.sender, "a@b\nFrom evil");
	ck_assert_int_eq(sm_get_mail(buf, sm_put_mail(buf, sizeof(buf), &m),
	    &m2), -1);
	m.esmtp = 2;
	strcpy(m.sender, "a@b");
	ck_assert_int_eq(sm_get_mail(buf, sm_put_mail(buf, sizeof(buf), &m),
	    &m2), -1);
	strcpy(r.local, "../etc");
	ck_assert_int_eq(sm_get_rcpt(buf, sm_put_rcpt(buf, sizeof(buf), &r),
	    &r2), -1);
	strcpy(r.local, "a/b");
	ck_assert_int_eq(sm_get_rcpt(buf, sm_put_rcpt(buf, sizeof(buf), &r),
	    &r2), -1);
	strcpy(r.local, ".alice.redo");
	ck_assert_int_eq(sm_get_rcpt(buf, sm_put_rcpt(buf, sizeof(buf), &r),
	    &r2), -1);
	/* a body over SMTP_CHUNK cannot be packed */
	ck_assert_uint_eq(sm_put_body(buf, sizeof(buf), buf, SMTP_CHUNK + 1), 0);
	/* a reply out of the enum */
	rr.reply = R__COUNT;
	ck_assert_int_eq(sm_get_rcpt_rep(buf, sm_put_rcpt_rep(buf, sizeof(buf),
	    &rr), &rr2), -1);
}
END_TEST

START_TEST(catalogue_pop3d)
{
	static unsigned char buf[4096];
	static struct pm_login l = { PM_APOP, "alice", "0123" }, l2;
	struct pm_failed f = { PM_PLAIN, "", "bad-base64" }, f2;
	struct pm_reply r = { PM_AUTH_LAST, "" }, r2;
	const unsigned char *d;
	size_t n, dl;
	int tls;

	n = pm_put_login(buf, sizeof(buf), &l);
	ck_assert_int_eq(pm_get_login(buf, n, &l2), 0);
	ck_assert_int_eq(l2.method, PM_APOP);
	ck_assert_str_eq(l2.name, "alice");
	ck_assert_str_eq(l2.secret, "0123");
	n = pm_put_failed(buf, sizeof(buf), &f);
	ck_assert_int_eq(pm_get_failed(buf, n, &f2), 0);
	ck_assert_str_eq(f2.reason, "bad-base64");
	n = pm_put_reply(buf, sizeof(buf), &r);
	ck_assert_int_eq(pm_get_reply(buf, n, &r2), 0);
	ck_assert_int_eq(r2.result, PM_AUTH_LAST);
	n = pm_put_handover(buf, sizeof(buf), "STAT\r\n", 6, 1);
	ck_assert_int_eq(pm_get_handover(buf, n, &d, &dl, &tls), 0);
	ck_assert_uint_eq(dl, 6);
	ck_assert_int_eq(tls, 1);
	/* an unknown method, an unknown result */
	l.method = (enum pm_method)3;
	ck_assert_int_eq(pm_get_login(buf, pm_put_login(buf, sizeof(buf), &l),
	    &l2), -1);
	r.result = (enum pm_result)(PM_PERM + 1);
	ck_assert_int_eq(pm_get_reply(buf, pm_put_reply(buf, sizeof(buf), &r),
	    &r2), -1);
	/* the method names in the log */
	ck_assert_str_eq(pm_method_name(PM_PASS), "pass");
	ck_assert_str_eq(pm_method_name(PM_PLAIN), "plain");
	ck_assert_str_eq(pm_method_name(PM_APOP), "apop");
}
END_TEST

/* --- hostile sessions --------------------------------------------------- */

static char dir[64], spool[128], users[128], logfile[160];
static struct smtpd_conf sconf;
static struct opts popts;
static struct pop3_conf pconf;

static int
stub_drop(uid_t uid, gid_t gid, gid_t extra)
{
	(void)uid, (void)gid, (void)extra;
	return 0;
}

static void
setup(void)
{
	unsigned ids = geteuid() == 0 ? 65534 : (unsigned)geteuid();
	char text[256];
	FILE *f;

	strcpy(dir, "/tmp/seam-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(users, sizeof(users), "%s/users", dir);
	snprintf(logfile, sizeof(logfile), "%s/log", dir);
	ck_assert_int_eq(mkdir(spool, 0755), 0);
	snprintf(text, sizeof(text), "alice:{PLAIN}alicepw:%u:%u\n"
	    "bob:{PLAIN}bobpw:%u:%u\n", ids, ids, ids, ids);
	f = fopen(users, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);

	memset(&sconf, 0, sizeof(sconf));
	opts_init(&sconf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	snprintf(sconf.o.host, sizeof(sconf.o.host), "mx.example.org");
	/* the client as the privileged part knows it, from before the split */
	snprintf(sconf.o.client, sizeof(sconf.o.client), "192.0.2.7");
	sconf.o.spool = spool;
	sconf.o.users = users;
	sconf.maxsize = SMTPD_SIZE_DEFAULT;
	sconf.maxrcpt = SMTPD_RCPT_DEFAULT;

	opts_init(&popts, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	snprintf(popts.host, sizeof(popts.host), "mx.example.org");
	popts.spool = spool;
	popts.users = users;
	memset(&pconf, 0, sizeof(pconf));
	pconf.o = &popts;
	pconf.fail_delay_ms = 200;
	pconf.drop = stub_drop;
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		perror(cmd);
}

/* A privileged half under attack: a child process that runs smtpd's
 * delivery side (POP 0) or pop3d's login checker (POP 1) on its end of a
 * seam whose waits end MS milliseconds from now, with a session process of
 * its own (a sleeper, as a session taken over might sleep), and exits with
 * what priv_finish says.  Its log goes to LOGFILE. */
struct half {
	pid_t		 pid;		/* the privileged half */
	pid_t		 session;	/* its session process */
	int		 fd;		/* the attacker's end of the seam */
	struct timespec	 t0;
	struct timespec	 until;		/* the attacker's own deadline */
};

static void
half_start(struct half *h, int pop, long ms)
{
	struct priv_seam ps;
	int sv[2], p[2], st, lf;
	pid_t s;

	ck_assert_int_eq(chan_pair(sv), 0);
	ck_assert_int_eq(pipe(p), 0);
	clock_gettime(CLOCK_MONOTONIC, &h->t0);
	clock_in(&h->until, ms + 5000);
	if ((h->pid = fork()) == 0) {
		close(sv[1]);
		close(p[0]);
		if ((lf = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600)) ==
		    -1 || dup2(lf, 2) == -1)
			_exit(90);
		log_init(pop ? "pop3d" : "smtpd", LOG_STDERR);
		/* as a server starts: none of the test runner's handlers */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		if ((s = fork()) == 0) {
			close(sv[0]);
			for (;;)
				pause();
		}
		if (write(p[1], &s, sizeof(s)) != (ssize_t)sizeof(s))
			_exit(91);
		memset(&ps, 0, sizeof(ps));
		ps.fd = sv[0];
		ps.pid = s;
		clock_in(&ps.end, ms);
		if (pop)
			st = pop3_checker_serve(&pconf, &ps);
		else
			st = priv_finish(&ps, smtp_delivery_serve(&sconf, &ps));
		_exit(st);
	}
	close(sv[0]);
	close(p[1]);
	ck_assert_int_eq(read(p[0], &h->session, sizeof(h->session)),
	    (ssize_t)sizeof(h->session));
	close(p[0]);
	h->fd = sv[1];
}

/* Wait for the half to exit, within WITHIN ms; returns its exit status
 * and the time it took in *MS. */
static int
half_wait(struct half *h, long within, long *ms)
{
	struct timespec now;
	pid_t w;
	int st;

	for (;;) {
		w = waitpid(h->pid, &st, WNOHANG);
		ck_assert_int_ge(w, 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		*ms = (now.tv_sec - h->t0.tv_sec) * 1000 +
		    (now.tv_nsec - h->t0.tv_nsec) / 1000000;
		if (w == h->pid)
			break;
		if (*ms > within) {
			kill(h->pid, SIGKILL);
			kill(h->session, SIGKILL);
			ck_abort_msg("the privileged half is still there after "
			    "%ld ms", *ms);
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
	}
	close(h->fd);
	/* its session has been ended and reaped with it */
	ck_assert_int_eq(kill(h->session, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int
logged(const char *what)
{
	char buf[8192];
	ssize_t n;
	int fd = open(logfile, O_RDONLY);

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

static void
send_msg(struct half *h, uint32_t type, const void *p, size_t len)
{
	ck_assert_int_eq(chan_send(h->fd, &h->until, type, p, len, NULL, 0), 0);
}

/* The next answer of type WANT into BUF; 0 when the half ended instead. */
static int
answer(struct half *h, uint32_t want, unsigned char *buf, size_t cap,
    size_t *len)
{
	uint32_t type;
	int k;

	k = chan_recv(h->fd, &h->until, &type, buf, cap, len, NULL, NULL);
	if (k != 1)
		return 0;
	ck_assert_uint_eq(type, want);
	return 1;
}

static void
mail_as(struct half *h, const char *helo, const char *sender)
{
	unsigned char buf[1024];
	struct sm_mail m;

	snprintf(m.helo, sizeof(m.helo), "%s", helo);
	snprintf(m.sender, sizeof(m.sender), "%s", sender);
	m.esmtp = 1;
	m.tls = 0;
	send_msg(h, SM_MAIL, buf, sm_put_mail(buf, sizeof(buf), &m));
}

/* RCPT NAME: the delivery side's reply, or R_NONE when it ended. */
static enum reply
rcpt(struct half *h, const char *name)
{
	unsigned char buf[1024];
	struct sm_rcpt r;
	struct sm_rcpt_rep rr;
	size_t len;

	snprintf(r.local, sizeof(r.local), "%s", name);
	snprintf(r.addr, sizeof(r.addr), "%s@mx.example.org", name);
	if (chan_send(h->fd, &h->until, SM_RCPT, buf, sm_put_rcpt(buf,
	    sizeof(buf), &r), NULL, 0) == -1)
		return R_NONE;
	if (!answer(h, SM_RCPT_REP, buf, sizeof(buf), &len))
		return R_NONE;
	ck_assert_int_eq(sm_get_rcpt_rep(buf, len, &rr), 0);
	return rr.reply;
}

static char *
slurp(const char *name)
{
	static char buf[65536];
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", spool, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* The client address is fixed before the split: no message of the session
 * can name another.  The MAIL of a session that tries (the envelope as the
 * session sent it before, with an address as its second field) is a
 * malformed message: the session is cut off, nothing is delivered; and an
 * honest delivery's Received names the client the half knows. */
START_TEST(hostile_forged_address)
{
	static const char forged[] = "h.example\0" "6.6.6.6\0" "a@b.example\0"
	    "ESMTP";
	unsigned char buf[256];
	struct sm_end_rep er;
	struct half h;
	size_t len;
	long ms;
	char *m;

	half_start(&h, 0, 10000);
	send_msg(&h, SM_MAIL, forged, sizeof(forged));
	ck_assert_int_eq(rcpt(&h, "alice"), R_NONE);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert(logged("privsep: bad request"));
	ck_assert_ptr_null(slurp("alice"));

	half_start(&h, 0, 10000);
	mail_as(&h, "h.example", "a@b.example");
	ck_assert_int_eq(rcpt(&h, "alice"), R_RCPT_OK);
	len = sm_put_body(buf, sizeof(buf), "Subject: x\n\nhi\n", 15);
	send_msg(&h, SM_BODY, buf, len);
	send_msg(&h, SM_END, NULL, 0);
	ck_assert(answer(&h, SM_END_REP, buf, sizeof(buf), &len));
	ck_assert_int_eq(sm_get_end_rep(buf, len, &er), 0);
	ck_assert_int_eq(er.reply, R_QUEUED);
	shutdown(h.fd, SHUT_WR);
	kill(h.session, SIGTERM);	/* an honest session exits */
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGTERM);
	m = slurp("alice");
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m, "Received: from h.example ([192.0.2.7])"));
	ck_assert_ptr_null(strstr(m, "6.6.6.6"));
}
END_TEST

/* Probing the users file: the refused recipients of a session are bounded
 * by the delivery side itself.  20,000 unknown names, as fast as the
 * session can send them: no more than the bound are answered, and the
 * session is cut off. */
START_TEST(hostile_probing)
{
	struct half h;
	char name[32];
	unsigned answered = 0, i;
	long ms;

	half_start(&h, 0, 20000);
	mail_as(&h, "h.example", "");
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "nosuch%u", i);
		if (rcpt(&h, name) != R_NO_USER)
			break;
		answered++;
	}
	ck_assert_uint_le(answered, SMTPD_RCPT_ERRORS_MAX + 1);
	ck_assert_uint_ge(answered, SMTPD_RCPT_ERRORS_MAX);
	ck_assert_int_eq(half_wait(&h, 5000, &ms), 128 + SIGKILL);
	ck_assert(logged("refused recipients past the session's bound"));
}
END_TEST

/* Out of order, unknown, oversized: each ends the session at once, with a
 * log line, and nothing is delivered. */
START_TEST(hostile_out_of_order)
{
	static const struct {
		uint32_t	 type;
		const char	*why;
	} cases[] = {
		{ SM_RCPT, "RCPT before MAIL" },
		{ SM_BODY, "message before MAIL" },
		{ SM_END, "message without MAIL and RCPT" },
		{ 77, "unknown message" },
		{ SM_RCPT_REP, "unknown message" },
	};
	unsigned char buf[256];
	struct sm_rcpt r = { "alice", "alice@mx.example.org" };
	struct half h;
	size_t i, n;
	long ms;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		half_start(&h, 0, 10000);
		n = cases[i].type == SM_RCPT ? sm_put_rcpt(buf, sizeof(buf), &r) :
		    cases[i].type == SM_BODY ? sm_put_body(buf, sizeof(buf), "x",
		    1) : 0;
		send_msg(&h, cases[i].type, buf, n);
		ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
		ck_assert(logged(cases[i].why));
	}
	/* a length over the largest frame: refused before it is read */
	half_start(&h, 0, 10000);
	header(h.fd, SM_BODY, CHAN_MAX + 1);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert(logged("bad frame from the session"));
	/* an END with fields */
	half_start(&h, 0, 10000);
	mail_as(&h, "h.example", "");
	ck_assert_int_eq(rcpt(&h, "alice"), R_RCPT_OK);
	send_msg(&h, SM_END, "x", 1);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert_ptr_null(slurp("alice"));
}
END_TEST

/* A frame cut short, and silence: the half waits no longer than the
 * session's end (here 1.5 s), ends the session, and says why. */
START_TEST(hostile_silence)
{
	struct half h;
	long ms;

	half_start(&h, 0, 1500);
	mail_as(&h, "h.example", "");
	header(h.fd, SM_RCPT, 100);
	ck_assert_int_eq(write(h.fd, "abc", 3), 3);
	ck_assert_int_eq(half_wait(&h, 4000, &ms), 128 + SIGKILL);
	ck_assert_int_ge(ms, 1400);
	ck_assert(logged("session over its lifetime"));

	unlink(logfile);
	half_start(&h, 1, 1500);
	ck_assert_int_eq(half_wait(&h, 4000, &ms), 128 + SIGKILL);
	ck_assert_int_ge(ms, 1400);
	ck_assert(logged("session over its lifetime"));
}
END_TEST

static enum pm_result
login(struct half *h, const char *user, const char *pass, char *text)
{
	static struct pm_login l;
	unsigned char buf[PM_MSG_MAX];
	struct pm_reply r;
	size_t len;

	l.method = PM_PASS;
	snprintf(l.name, sizeof(l.name), "%s", user);
	snprintf(l.secret, sizeof(l.secret), "%s", pass);
	if (chan_send(h->fd, &h->until, PM_LOGIN, buf, pm_put_login(buf,
	    sizeof(buf), &l), NULL, 0) == -1 ||
	    !answer(h, PM_LOGIN_REP, buf, sizeof(buf), &len))
		return (enum pm_result)-1;
	ck_assert_int_eq(pm_get_reply(buf, len, &r), 0);
	if (text != NULL)
		strcpy(text, r.text);
	return r.result;
}

/* Brute force through the checker: 200 passwords, as fast as the session
 * can send them, then the right one.  The checker answers each failure
 * after its delay, the same way whatever the reason, serves no more than
 * POP3_FAILS_MAX, and the right password never logs in. */
START_TEST(hostile_brute_force)
{
	char pw[32], text[PM_TEXT_SIZE], first[PM_TEXT_SIZE];
	enum pm_result r;
	struct half h;
	int i, fails = 0, last = 0;
	long ms;

	half_start(&h, 1, 20000);
	for (i = 0; i < 200; i++) {
		snprintf(pw, sizeof(pw), "guess%d", i);
		r = login(&h, i % 2 ? "alice" : "nosuch", pw, text);
		if (r == (enum pm_result)-1)
			break;
		if (i == 0)
			strcpy(first, text);
		/* one answer for every failure: no reason on the wire */
		ck_assert_str_eq(text, first);
		ck_assert(r == PM_AUTH || r == PM_AUTH_LAST);
		fails++;
		last = r == PM_AUTH_LAST;
	}
	ck_assert_int_eq(fails, POP3_FAILS_MAX);
	ck_assert(last);
	ck_assert_str_eq(first, "");
	ck_assert_int_eq(login(&h, "alice", "alicepw", NULL),
	    (enum pm_result)-1);
	kill(h.session, SIGTERM);	/* an honest session ends there */
	ck_assert_int_eq(half_wait(&h, 5000, &ms), 128 + SIGTERM);
	/* every failure took the delay, counted by the checker */
	ck_assert_int_ge(ms, POP3_FAILS_MAX * pconf.fail_delay_ms);
	ck_assert(logged("reason=unknown-user"));
	ck_assert(logged("reason=bad-password"));
}
END_TEST

/* The login checker after a good login takes only the hand-over: a missing
 * one ends at the session's end; a second login, or a hand-over before any
 * login or without the connection, ends the session at once. */
START_TEST(hostile_handover)
{
	unsigned char buf[64];
	struct half h;
	int fds[2], sv[2];
	long ms;
	size_t n;

	half_start(&h, 1, 1500);
	ck_assert_int_eq(login(&h, "alice", "alicepw", NULL), PM_OK);
	ck_assert_int_eq(half_wait(&h, 4000, &ms), 128 + SIGKILL);
	ck_assert_int_ge(ms, 1400);

	half_start(&h, 1, 10000);
	ck_assert_int_eq(login(&h, "alice", "alicepw", NULL), PM_OK);
	ck_assert_int_eq(login(&h, "bob", "bobpw", NULL), (enum pm_result)-1);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert(logged("a login after the login"));

	half_start(&h, 1, 10000);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fds[0] = fds[1] = sv[1];
	n = pm_put_handover(buf, sizeof(buf), "", 0, 0);
	ck_assert_int_eq(chan_send(h.fd, &h.until, PM_HANDOVER, buf, n, fds, 2),
	    0);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert(logged("a hand-over before a login"));

	half_start(&h, 1, 10000);
	ck_assert_int_eq(login(&h, "alice", "alicepw", NULL), PM_OK);
	send_msg(&h, PM_HANDOVER, buf, n);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert(logged("hand-over without the connection"));
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A session that claims TLS where no wrapper offered it (no control pipe at
 * start-up, no -S), to have its mail say ESMTPS or its login tls=yes: both
 * privileged halves refuse the message and end the session; nothing is
 * delivered, nobody logged in.  The same claims are honest under -S. */
START_TEST(hostile_forged_tls)
{
	unsigned char buf[1024];
	struct sm_mail m;
	struct half h;
	int fds[2], sv[2];
	long ms;
	size_t n;

	memset(&m, 0, sizeof(m));
	snprintf(m.helo, sizeof(m.helo), "h.example");
	snprintf(m.sender, sizeof(m.sender), "a@b.example");
	m.esmtp = 1;
	m.tls = 1;
	half_start(&h, 0, 10000);
	send_msg(&h, SM_MAIL, buf, sm_put_mail(buf, sizeof(buf), &m));
	ck_assert_int_eq(rcpt(&h, "alice"), R_NONE);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert(logged("TLS without a TLS wrapper"));
	ck_assert_ptr_null(slurp("alice"));

	half_start(&h, 1, 10000);
	ck_assert_int_eq(login(&h, "alice", "alicepw", NULL), PM_OK);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fds[0] = fds[1] = sv[1];
	n = pm_put_handover(buf, sizeof(buf), "", 0, 1);
	ck_assert_int_eq(chan_send(h.fd, &h.until, PM_HANDOVER, buf, n, fds, 2),
	    0);
	ck_assert_int_eq(half_wait(&h, 3000, &ms), 128 + SIGKILL);
	ck_assert(logged("hand-over with the wrong TLS state"));
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *
seam_suite(void)
{
	Suite *s = suite_create("seam");
	TCase *tc;

	tc = tcase_create("codec");
	tcase_add_test(tc, codec_round_trip);
	tcase_add_test(tc, codec_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("transport");
	tcase_add_test(tc, chan_frames_and_fds);
	tcase_add_test(tc, chan_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("catalogues");
	tcase_add_test(tc, catalogue_common);
	tcase_add_test(tc, catalogue_smtpd);
	tcase_add_test(tc, catalogue_pop3d);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hostile_forged_address);
	tcase_add_test(tc, hostile_forged_tls);
	tcase_add_test(tc, hostile_probing);
	tcase_add_test(tc, hostile_out_of_order);
	tcase_add_test(tc, hostile_silence);
	tcase_add_test(tc, hostile_brute_force);
	tcase_add_test(tc, hostile_handover);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(seam_suite)
