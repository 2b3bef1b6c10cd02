/* test_pop3_session.c: whole pop3d sessions on a scratch spool: login paths
 * and identities through a real seam to the login checker (a thread, on a
 * socketpair; a successful login hands a real socket over), and the
 * TRANSACTION as the checker runs it after the hand-over, driven from
 * memory through the injected io callbacks: the snapshot and the commit,
 * LIST sizes against RETR bytes, UIDL stability, IN-USE, and junk input.
 * The switch to the owner is a stub that records its arguments, so the
 * tests run as root or not. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pop3d.h"
#include "check_main.h"
#include "capture.h"
#include "seam_peer.h"

static char dir[64], spool[128], users[128];
static struct opts o;
static struct pop3_conf conf;
static struct io io;
static int drops, drop_fail;
static uid_t drop_uid;
static gid_t drop_gid, drop_extra;
static unsigned ids;		/* the users' uid and gid */

static int
stub_drop(uid_t uid, gid_t gid, gid_t extra)
{
	drops++;
	drop_uid = uid;
	drop_gid = gid;
	drop_extra = extra;
	return drop_fail ? -1 : 0;
}

static void
put(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	chmod(path, 0600);
}

static char *
slurp(const char *path, size_t *len)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	close(fd);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
setup(void)
{
	char text[512];
	int n;

	strcpy(dir, "/tmp/pop3-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(users, sizeof(users), "%s/users", dir);
	ck_assert_int_eq(mkdir(spool, 0755), 0);
	ids = geteuid() == 0 ? 65534 : (unsigned)geteuid();
	n = snprintf(text, sizeof(text),
	    "alice:{PLAIN}alicepw:%u:%u\n"
	    "bob:{PLAIN}bobpw:%u:%u\n"
	    "dave:{SHA512-CRYPT}$6$saltsalt$Y4mMAaWU.hm1kEXQxIG/B2RFU5IwQbZL0XM"
	    "VAYWo/bJ5mLvjKOiML2YnP3DRa6FHW/c5lLoPxRcxLg1T4lXtk.:%u:%u\n"
	    "root:{PLAIN}rootpw:0:0\n"
	    "rootgrp:{PLAIN}rootgrppw:12345:0\n"
	    "other:{PLAIN}otherpw:12345:12345\n"
	    "noids:{PLAIN}noidspw\n", ids, ids, ids, ids, ids, ids);
	put(users, text, (size_t)n);
	log_init("pop3d-test", LOG_SYSLOG);
	opts_init(&o, POP3_TIMEOUT_DEFAULT, POP3_LIFETIME_DEFAULT);
	snprintf(o.host, sizeof(o.host), "mail.example.org");
	o.spool = spool;
	o.users = users;
	memset(&conf, 0, sizeof(conf));
	conf.o = &o;
	conf.apop = 0;
	conf.fail_delay_ms = 0;
	conf.drop = stub_drop;
	drops = drop_fail = 0;
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		perror(cmd);
}

/* A client in memory: input in segments; HOOK runs before segment K is
 * handed out, when every reply to the earlier ones has been written. */
struct client {
	char		 seg[8][4096];
	int		 nseg, cur;
	size_t		 pos;
	void		(*hook)(struct client *, int k);
	char		*out;
	size_t		 outlen, outcap;
	int		 wfail;
	int		 writes;
	int		 started;
};

static ssize_t
c_read(struct io *i, void *buf, size_t len)
{
	struct client *c = i->ctx;
	size_t n;

	if (!c->started) {
		c->started = 1;
		if (c->hook != NULL && c->nseg > 0)
			c->hook(c, 0);
	}
	while (c->cur < c->nseg && c->pos == strlen(c->seg[c->cur])) {
		c->cur++;
		c->pos = 0;
		if (c->hook != NULL && c->cur < c->nseg)
			c->hook(c, c->cur);
	}
	if (c->cur >= c->nseg)
		return 0;
	n = strlen(c->seg[c->cur]) - c->pos;
	if (n > len)
		n = len;
	memcpy(buf, c->seg[c->cur] + c->pos, n);
	c->pos += n;
	return (ssize_t)n;
}

static ssize_t
c_write(struct io *i, const void *buf, size_t len)
{
	struct client *c = i->ctx;

	if (c->wfail) {
		errno = EPIPE;
		return -1;
	}
	c->writes++;
	capture_append(&c->out, &c->outlen, &c->outcap, buf, len);
	return (ssize_t)len;
}

static struct client *
client(const char *s0)
{
	struct client *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	if (s0 != NULL) {
		snprintf(c->seg[0], sizeof(c->seg[0]), "%s", s0);
		c->nseg = 1;
	}
	return c;
}

static void
add(struct client *c, const char *s)
{
	snprintf(c->seg[c->nseg++], sizeof(c->seg[0]), "%s", s);
}

/* The login checker's thread. */
static void *
checker(void *arg)
{
	struct peer *p = arg;

	p->rc = pop3_checker_serve(p->conf, &p->ps);
	return NULL;
}

/* What a client of LOGIN_LEN bytes that begin a transaction test sends
 * first: the checker takes the connection after it, and the TRANSACTION
 * runs as it runs there (pop3_session_resume). */
static const char login[] = "USER alice\r\nPASS alicepw\r\n";

/* The session on IO (set up by the caller), with the checker at the other
 * end of a seam; or, when the client begins with the login, the
 * TRANSACTION after it. */
static int
session_on(struct client *c)
{
	struct peer pr;
	int rc;

	if (c->nseg > 0 && strncmp(c->seg[0], login, strlen(login)) == 0) {
		memmove(c->seg[0], c->seg[0] + strlen(login),
		    strlen(c->seg[0]) - strlen(login) + 1);
		return pop3_session_resume(&conf, &io, "alice", PM_PASS, 0);
	}
	peer_start(&pr, checker, &conf);
	rc = pop3_session(&conf, &io, &pr.sess);
	peer_join(&pr);
	return rc;
}

static int
run(struct client *c)
{
	io_init_cb(&io, c_read, c_write, c);
	return session_on(c);
}

/* A whole session on a real socket: AUTHORIZATION in the session, the
 * checker in a thread, and after a good login the TRANSACTION there, on
 * the connection handed over.  INPUT is all the client sends (FIRST, when
 * set, makes it from the greeting).  Returns the output (free it). */
static char *
run_sock(const char *input, void (*first)(struct sock_client *, const char *),
    int *rc)
{
	struct sock_client *cl = sock_client_start(input, first);
	struct peer pr;
	char *out;

	io_init_fd(&io, cl->server, cl->server, o.timeout);
	peer_start(&pr, checker, &conf);
	*rc = pop3_session(&conf, &io, &pr.sess);
	peer_join(&pr);
	out = strdup(sock_client_join(cl));
	sock_client_free(cl);
	ck_assert_ptr_nonnull(out);
	return out;
}

static void
done(struct client *c)
{
	free(c->out);
	free(c);
}

static void
mailbox(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", spool, name);
	put(path, text, strlen(text));
}

static const char three[] =
    "From a@example.com Mon Jan  1 10:00:00 2024\n"
    "Subject: one\n\nbody one\n.dot\n>From quoted\n\n"
    "From b@example.com Mon Jan  1 10:00:01 2024\n"
    "Subject: two\n\nbody two\n\n"
    "From c@example.com Mon Jan  1 10:00:02 2024\n"
    "Subject: three\n\nbody three\n\n";

/* --- authorization ---------------------------------------------------- */

START_TEST(login_pass)
{
	struct stat st;
	char *out;
	int rc;

	mailbox("alice", three);
	out = run_sock("USER alice\r\nPASS alicepw\r\nSTAT\r\nQUIT\r\n",
	    NULL, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out,
	    "+OK mail.example.org POP3 ready\r\n"
	    "+OK send PASS\r\n"
	    "+OK maildrop has 3 messages (101 octets)\r\n"
	    "+OK 3 101\r\n"
	    "+OK bye, 3 messages kept\r\n");
	/* the drop goes to the users file's ids; a 0755 spool's group buys
	 * nothing, so none is kept */
	ck_assert_int_eq(stat(spool, &st), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(drops, 1);
		ck_assert_uint_eq(drop_uid, ids);
		ck_assert_uint_eq(drop_gid, ids);
		ck_assert_uint_eq(drop_extra, (gid_t)-1);
	} else {
		ck_assert_int_eq(drops, 0);	/* already the user */
	}
	free(out);
}
END_TEST

START_TEST(fail_same_text)
{
	struct client *c = client("USER alice\r\nPASS nope\r\n"
	    "USER nosuch\r\nPASS nope\r\n");
	const char *a, *b;

	ck_assert_int_eq(run(c), 0);
	a = strstr(c->out, "-ERR");
	ck_assert_ptr_nonnull(a);
	b = strstr(a + 1, "-ERR");
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(strncmp(a, b, strcspn(a, "\n")), 0);
	ck_assert(strncmp(a, "-ERR [AUTH] ", 12) == 0);
	ck_assert_int_eq(drops, 0);
	done(c);
}
END_TEST

START_TEST(fail_delay)
{
	struct timespec t0, t1, t2;
	struct client *c;
	long known, unknown;

	/* A fixed delay, counted from the start of the check, whatever the
	 * user: crypt(3) time does not show. */
	conf.fail_delay_ms = 300;
	c = client("USER dave\r\nPASS nope\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	done(c);
	c = client("USER nosuch\r\nPASS nope\r\n");
	run(c);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	done(c);
	known = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	unknown = (t2.tv_sec - t1.tv_sec) * 1000 + (t2.tv_nsec - t1.tv_nsec) / 1000000;
	ck_assert_int_ge(known, 300);
	ck_assert_int_ge(unknown, 300);
	ck_assert_int_lt(labs(known - unknown), 100);
}
END_TEST

START_TEST(three_fails_close)
{
	struct client *c = client("USER alice\r\nPASS 1\r\nUSER alice\r\nPASS 2\r\n"
	    "AUTH PLAIN AGFsaWNlADM=\r\nUSER alice\r\nPASS alicepw\r\n");

	mailbox("alice", three);
	ck_assert_int_eq(run(c), 0);
	ck_assert_str_eq(c->out,
	    "+OK mail.example.org POP3 ready\r\n"
	    "+OK send PASS\r\n"
	    "-ERR [AUTH] authentication failed\r\n"
	    "+OK send PASS\r\n"
	    "-ERR [AUTH] authentication failed\r\n"
	    "-ERR [AUTH] authentication failed\r\n");
	done(c);
}
END_TEST

static void
apop_first(struct sock_client *c, const char *greeting)
{
	const char *lt = strchr(greeting, '<'), *gt = strchr(greeting, '>');
	char buf[256], h[33], in[128];
	unsigned char d[16];
	int i, n;

	ck_assert_ptr_nonnull(lt);
	ck_assert_ptr_nonnull(gt);
	n = snprintf(buf, sizeof(buf), "%.*sbobpw", (int)(gt - lt + 1), lt);
	pop3_md5(buf, (size_t)n, d);
	for (i = 0; i < 16; i++)
		snprintf(h + 2 * i, 3, "%02x", d[i]);
	snprintf(in, sizeof(in), "APOP bob %s\r\nSTAT\r\nQUIT\r\n", h);
	free(c->in);
	c->in = strdup(in);
	c->inlen = strlen(in);
}

START_TEST(apop_login)
{
	char *out;
	int rc;

	conf.apop = 1;
	pop3_make_stamp(conf.stamp, o.host);
	mailbox("bob", three);
	out = run_sock(NULL, apop_first, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, "POP3 ready <"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n+OK maildrop has 3 messages"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n+OK 3 101\r\n"));
	free(out);
}
END_TEST

START_TEST(apop_not_plain)
{
	/* dave's password is a crypt hash: APOP cannot work for him */
	struct client *c = client("APOP dave 0123456789abcdef0123456789abcdef\r\n");

	conf.apop = 1;
	pop3_make_stamp(conf.stamp, o.host);
	run(c);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n-ERR [AUTH] "));
	done(c);
}
END_TEST

START_TEST(identity_root_refused)
{
	struct client *c = client("USER root\r\nPASS rootpw\r\nSTAT\r\n");

	/* -F 0: past the first-valid-uid rule, the identity rule refuses. */
	o.firstuid = 0;
	mailbox("root", three);
	ck_assert_int_eq(run(c), 0);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n-ERR [SYS/PERM] "));
	/* the session ends: STAT is not answered */
	ck_assert_ptr_null(strstr(c->out, "+OK 3"));
	ck_assert_int_eq(drops, 0);
	done(c);
}
END_TEST

/* The spool's group is kept only when the owner needs it to create dotlocks
 * (group-writable, not writable by all, not its own group) and is not
 * root's: group root would survive the drop. */
START_TEST(identity_spool_group)
{
	static const struct {
		gid_t	 gid;
		mode_t	 mode;
		gid_t	 want;
	} cases[] = {
		{ 0, 02775, (gid_t)-1 },
		{ 0, 01777, (gid_t)-1 },
		{ 8, 02775, 8 },
		{ 8, 03775, 8 },
		{ 8, 0755, (gid_t)-1 },
		/* writable by all: the group buys nothing */
		{ 8, 03777, (gid_t)-1 },
	};
	size_t i;
	char *out;
	int rc;

	if (geteuid() != 0)
		return;		/* no drop without root; nothing to see */
	mailbox("alice", three);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(chown(spool, 0, cases[i].gid), 0);
		ck_assert_int_eq(chmod(spool, cases[i].mode), 0);
		drops = 0;
		out = run_sock("USER alice\r\nPASS alicepw\r\nQUIT\r\n", NULL,
		    &rc);
		ck_assert_int_eq(drops, 1);
		ck_assert_uint_eq(drop_extra, cases[i].want);
		free(out);
	}
}
END_TEST

/* -F: an account below the first valid uid cannot log in, with the same
 * answer as a bad password. */
START_TEST(first_valid_uid)
{
	struct client *c = client("USER other\r\nPASS otherpw\r\n");

	o.firstuid = 20000;
	mailbox("other", three);
	run(c);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n-ERR [AUTH] authentication failed"));
	ck_assert_int_eq(drops, 0);
	done(c);
}
END_TEST

/* -M bounds system accounts only: a users-file entry above it (other, uid
 * 12345) names its uid on purpose and still logs in. */
START_TEST(last_valid_uid_file)
{
	struct client *c = client("USER other\r\nPASS otherpw\r\nSTAT\r\n");

	o.lastuid = 1000;
	drop_fail = 1;		/* stop at the drop: the login was taken */
	mailbox("other", three);
	run(c);
	ck_assert_int_eq(drops, 1);
	ck_assert_uint_eq(drop_uid, 12345);
	ck_assert_ptr_null(strstr(c->out, "-ERR [AUTH]"));
	done(c);
}
END_TEST

START_TEST(identity_gid0_refused)
{
	struct client *c = client("USER rootgrp\r\nPASS rootgrppw\r\nSTAT\r\n");

	mailbox("rootgrp", three);
	ck_assert_int_eq(run(c), 0);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n-ERR [SYS/PERM] "));
	ck_assert_ptr_null(strstr(c->out, "+OK 3"));
	ck_assert_int_eq(drops, 0);
	done(c);
}
END_TEST

START_TEST(identity_none)
{
	char *out;
	int rc;

	mailbox("noids", three);
	out = run_sock("USER noids\r\nPASS noidspw\r\nSTAT\r\n", NULL, &rc);
	if (geteuid() == 0)	/* root, no ids, no -u: no one to become */
		ck_assert_ptr_nonnull(strstr(out, "\r\n-ERR [SYS/PERM] "));
	else			/* started unprivileged: we stay who we are */
		ck_assert_ptr_nonnull(strstr(out, "\r\n+OK 3 101\r\n"));
	ck_assert_int_eq(drops, 0);
	free(out);
}
END_TEST

START_TEST(identity_drop_fails)
{
	struct client *c = client("USER other\r\nPASS otherpw\r\nSTAT\r\n");

	drop_fail = 1;
	mailbox("other", three);
	run(c);
	ck_assert_int_eq(drops, 1);
	ck_assert_uint_eq(drop_uid, 12345);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n-ERR [SYS/PERM] "));
	ck_assert_ptr_null(strstr(c->out, "+OK 3"));
	done(c);
}
END_TEST

/* --- transaction -------------------------------------------------------- */

/* Undo byte-stuffing of a multi-line reply body; returns its length. */
static size_t
body_len(const char *p, const char **end)
{
	size_t n = 0;
	int bol = 1;

	for (;;) {
		if (bol && strncmp(p, ".\r\n", 3) == 0) {
			*end = p + 3;
			return n;
		}
		if (bol && *p == '.')
			p++;
		ck_assert_int_ne(*p, '\0');
		bol = *p == '\n';
		p++;
		n++;
	}
}

START_TEST(list_size_is_retr_bytes)
{
	static char box[300000];
	unsigned long num, want[3], said;
	const char *p, *end;
	struct client *c;
	size_t n = 0, i;

	/* long lines across the reader's buffer, dots, quoting, CRLF already
	 * in the file, and a last message with no final newline */
	n += (size_t)sprintf(box + n, "From x Mon Jan  1 10:00:00 2024\n"
	    "Subject: long\n\n");
	for (i = 0; i < 100000; i++)
		box[n++] = i % 1000 == 0 ? '.' : 'a';
	n += (size_t)sprintf(box + n, "\n.\n..\n>From a\n>>From b\n\n");
	n += (size_t)sprintf(box + n, "From y Mon Jan  1 10:00:00 2024\n"
	    "Subject: crlf\r\n\r\nline\r\n\n");
	n += (size_t)sprintf(box + n, "From z Mon Jan  1 10:00:00 2024\n"
	    "Subject: unterminated\n\nlast line");
	box[n] = '\0';
	mailbox("alice", box);
	c = client("USER alice\r\nPASS alicepw\r\n"
	    "LIST\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nTOP 1 99999\r\nQUIT\r\n");
	run(c);
	p = strstr(c->out, "+OK 3 messages");
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 3; i++) {
		p = strchr(p, '\n') + 1;
		ck_assert_int_eq(sscanf(p, "%lu %lu", &num, &want[i]), 2);
		ck_assert_uint_eq(num, i + 1);
	}
	/* RFC 1939 5: LIST's size is what RETR sends, stuffing undone */
	for (i = 0; i < 3; i++) {
		p = strstr(p, "\r\n+OK ");
		ck_assert_ptr_nonnull(p);
		ck_assert_int_eq(sscanf(p + 6, "%lu octets", &said), 1);
		ck_assert_uint_eq(said, want[i]);
		p = strchr(p + 2, '\n') + 1;
		ck_assert_uint_eq(body_len(p, &end), want[i]);
		p = end - 2;
	}
	/* TOP with more lines than the body: the whole message */
	p = strstr(p, "+OK top of message follows\r\n");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(body_len(p + 28, &end), want[0]);
	done(c);
}
END_TEST

START_TEST(retr_exact_bytes)
{
	struct client *c = client("USER alice\r\nPASS alicepw\r\nRETR 1\r\n");

	mailbox("alice", "From a Mon Jan  1 10:00:00 2024\n"
	    "S: x\n\n.\n..x\n>From a\n>>From b\n>From\nFrom_x\n\n");
	run(c);
	ck_assert_str_eq(strstr(c->out, "+OK 48"),
	    "+OK 48 octets\r\n"
	    "S: x\r\n\r\n..\r\n...x\r\nFrom a\r\n>From b\r\n>From\r\nFrom_x\r\n"
	    ".\r\n");
	done(c);
}
END_TEST

static void
uidls(const char *out, char list[][64], int *n)
{
	const char *p = strstr(out, "+OK unique-id listing follows\r\n");
	unsigned num;

	ck_assert_ptr_nonnull(p);
	p = strchr(p, '\n') + 1;
	*n = 0;
	while (strncmp(p, ".\r\n", 3) != 0) {
		ck_assert_int_eq(sscanf(p, "%u %63s", &num, list[*n]), 2);
		(*n)++;
		p = strchr(p, '\n') + 1;
	}
}

START_TEST(uidl_stable)
{
	char a[8][64], b[8][64], d[8][64];
	struct client *c;
	int na, nb, nd;

	/* two identical messages still get distinct UIDLs */
	mailbox("alice", "From a Mon Jan  1 10:00:00 2024\nS: same\n\nx\n\n"
	    "From a Mon Jan  1 10:00:00 2024\nS: same\n\nx\n\n"
	    "From b Mon Jan  1 10:00:00 2024\nS: other\n\ny\n\n");
	c = client("USER alice\r\nPASS alicepw\r\nUIDL\r\nQUIT\r\n");
	run(c);
	uidls(c->out, a, &na);
	done(c);
	ck_assert_int_eq(na, 3);
	ck_assert_str_ne(a[0], a[1]);
	ck_assert_str_ne(a[1], a[2]);
	c = client("USER alice\r\nPASS alicepw\r\nUIDL\r\nDELE 1\r\nQUIT\r\n");
	run(c);
	uidls(c->out, b, &nb);
	done(c);
	ck_assert_int_eq(nb, 3);
	ck_assert_str_eq(a[0], b[0]);
	ck_assert_str_eq(a[2], b[2]);
	c = client("USER alice\r\nPASS alicepw\r\nUIDL\r\nQUIT\r\n");
	run(c);
	uidls(c->out, d, &nd);
	done(c);
	ck_assert_int_eq(nd, 2);
	/* the survivors keep their ids; the second copy may become the first
	 * copy's id only if that one is gone, which is what happened */
	ck_assert_str_eq(d[1], a[2]);
	ck_assert(strcmp(d[0], a[1]) == 0 || strcmp(d[0], a[0]) == 0);
}
END_TEST

static void
rewrite_hook(struct client *c, int k)
{
	char path[256];

	(void)c;
	if (k != 1)
		return;
	/* Another program rewrote the start of the maildrop mid-session. */
	snprintf(path, sizeof(path), "%s/alice", spool);
	put(path, "From q Mon Jan  1 10:00:00 2024\nSubject: ONE\n\nbody one\n\n",
	    strlen("From q Mon Jan  1 10:00:00 2024\nSubject: ONE\n\nbody one\n\n"));
}

START_TEST(commit_refused_when_changed)
{
	struct client *c = client("USER alice\r\nPASS alicepw\r\nDELE 2\r\n");
	char path[256];
	const char *now;
	size_t len;

	add(c, "QUIT\r\n");
	c->hook = rewrite_hook;
	mailbox("alice", three);
	run(c);
	ck_assert_ptr_nonnull(strstr(c->out,
	    "\r\n-ERR [SYS/TEMP] deletions not committed"));
	snprintf(path, sizeof(path), "%s/alice", spool);
	now = slurp(path, &len);
	ck_assert_str_eq(now,
	    "From q Mon Jan  1 10:00:00 2024\nSubject: ONE\n\nbody one\n\n");
	done(c);
}
END_TEST

static const char late[] = "From late@example.com Mon Jan  1 11:00:00 2024\n"
    "Subject: late\n\nlate body\n\n";

static void
deliver_hook(struct client *c, int k)
{
	struct store_rcpt r;
	const char *head = "From late@example.com Mon Jan  1 11:00:00 2024\n";
	const char *body = "Subject: late\n\nlate body\n";

	(void)c;
	if (k != 1)
		return;
	/* A delivery during the session: it must not wait for the session,
	 * must not show in it, and must survive its QUIT. */
	memset(&r, 0, sizeof(r));
	r.name = "alice";
	r.uid = (uid_t)-1;
	r.gid = (gid_t)-1;
	r.head = head;
	r.headlen = strlen(head);
	ck_assert_int_eq(store_deliver(spool, &r, 1, body, strlen(body), 0), 0);
}

START_TEST(commit_keeps_late_mail)
{
	struct client *c = client("USER alice\r\nPASS alicepw\r\n"
	    "DELE 1\r\nDELE 3\r\n");
	char path[256], want[512];
	const char *now;
	size_t len;

	add(c, "STAT\r\nLIST 4\r\nQUIT\r\n");
	c->hook = deliver_hook;
	mailbox("alice", three);
	run(c);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n+OK 1 26\r\n"));
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n-ERR no such message\r\n"));
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n+OK bye, 2 deleted, 1 kept\r\n"));
	snprintf(path, sizeof(path), "%s/alice", spool);
	now = slurp(path, &len);
	snprintf(want, sizeof(want), "%s%s",
	    "From b@example.com Mon Jan  1 10:00:01 2024\n"
	    "Subject: two\n\nbody two\n\n", late);
	ck_assert_str_eq(now, want);
	done(c);
}
END_TEST

static void
truncate_hook(struct client *c, int k)
{
	char path[256];

	(void)c;
	if (k != 1)
		return;
	/* Something that ignores our locks cut the maildrop mid-session,
	 * inside message 1. */
	snprintf(path, sizeof(path), "%s/alice", spool);
	ck_assert_int_eq(truncate(path, 60), 0);
}

START_TEST(retr_read_error)
{
	struct client *c = client("USER alice\r\nPASS alicepw\r\n");
	const char *p;

	add(c, "RETR 3\r\nTOP 2 1\r\nRETR 1\r\nSTAT\r\nQUIT\r\n");
	c->hook = truncate_hook;
	mailbox("alice", three);
	run(c);
	p = strstr(c->out, "+OK maildrop has 3 messages (101 octets)\r\n");
	ck_assert_ptr_nonnull(p);
	p = strchr(p, '\n') + 1;
	/* Messages 3 and 2 are gone: a clean -ERR before any +OK.  Message 1
	 * breaks off after its +OK: the connection is cut (no STAT, no QUIT
	 * answer) rather than the message ended with "." as if whole. */
	ck_assert_str_eq(p,
	    "-ERR [SYS/TEMP] cannot read message\r\n"
	    "-ERR [SYS/TEMP] cannot read message\r\n"
	    "+OK 45 octets\r\nSubject: one\r\n\r\n");
	done(c);
}
END_TEST

START_TEST(in_use)
{
	int p[2], fd, rc;
	char *out, x;
	pid_t pid;

	mailbox("alice", three);
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		/* another live session of alice */
		if (store_session(spool, "alice", (uid_t)-1, &fd) != 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &x, 1), 1);
	out = run_sock("USER alice\r\nPASS alicepw\r\nSTAT\r\n", NULL, &rc);
	ck_assert_ptr_nonnull(strstr(out, "\r\n-ERR [IN-USE] "));
	free(out);
	/* it dies without cleaning up: its marker must not block us */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	out = run_sock("USER alice\r\nPASS alicepw\r\nSTAT\r\nQUIT\r\n", NULL,
	    &rc);
	ck_assert_ptr_nonnull(strstr(out, "\r\n+OK 3 101\r\n"));
	free(out);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* --- robustness --------------------------------------------------------- */

START_TEST(line_limit)
{
	char cmd[1024];
	struct client *c;

	/* 253 octets plus CRLF is the longest command (RFC 2449 4) */
	snprintf(cmd, sizeof(cmd), "XXXX %0248d\r\nXXXX %0249d\r\nQUIT\r\n", 0, 0);
	c = client(cmd);
	run(c);
	ck_assert_str_eq(c->out, "+OK mail.example.org POP3 ready\r\n"
	    "-ERR unknown command\r\n"
	    "-ERR command line too long\r\n"
	    "+OK bye\r\n");
	done(c);
}
END_TEST

START_TEST(retr_few_writes)
{
	static char box[300000];
	struct client *c;
	size_t n;

	/* Each reply, multi-line ones included, leaves in as few writes as
	 * the output buffer allows: no Nagle stall between its pieces. */
	n = (size_t)sprintf(box, "From a Mon Jan  1 10:00:00 2024\nS: x\n\n"
	    "short\n\n");
	n += (size_t)sprintf(box + n, "From b Mon Jan  1 10:00:00 2024\n"
	    "S: y\n\n");
	while (n < 200000)
		n += (size_t)sprintf(box + n, "%075d\n", (int)n);
	box[n++] = '\n';
	box[n] = '\0';
	mailbox("alice", box);
	c = client("USER alice\r\nPASS alicepw\r\n");
	add(c, "RETR 1\r\n");
	add(c, "RETR 2\r\n");
	add(c, "QUIT\r\n");
	run(c);
	/* the login's reply, RETR 1, RETR 2 in 64 KiB pieces, QUIT */
	ck_assert_int_eq(c->writes, 1 + 1 + (200000 / IO_WBUF + 1) + 1);
	done(c);
}
END_TEST

/* Segment 0 at once, then one byte a read, DRIP_MS apart: a slow-drip
 * client.  (Callbacks have no idle timeout; only io's deadline applies.) */
static long drip_ms;

static ssize_t
drip_read(struct io *i, void *buf, size_t len)
{
	struct client *c = i->ctx;
	struct timespec ts;

	if (len == 0 || (c->cur == 0 && c->pos < strlen(c->seg[0])))
		return c_read(i, buf, len);
	ts.tv_sec = drip_ms / 1000;
	ts.tv_nsec = (drip_ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	return c_read(i, buf, 1);
}

static int
run_drip(struct client *c, long ms)
{
	drip_ms = ms;
	io_init_cb(&io, drip_read, c_write, c);
	return session_on(c);
}

START_TEST(slow_drip_cut)
{
	struct client *c = client("USER alice\r\nPASS alicepw\r\n");

	/* -t 1 and a byte every 300 ms: each byte is well inside the idle
	 * timeout, but the line is not complete within 1 s of its first. */
	o.timeout = 1;
	add(c, "NOOP\r\n");
	add(c, "QUIT\r\n");
	mailbox("alice", three);
	ck_assert_int_eq(run_drip(c, 300), 0);
	ck_assert_ptr_nonnull(strstr(c->out,
	    "\r\n-ERR idle timeout, closing connection\r\n"));
	ck_assert_ptr_null(strstr(c->out, "nothing done"));
	ck_assert_ptr_null(strstr(c->out, "+OK bye"));
	done(c);
}
END_TEST

/* -E: steady commands, each in time, still end at the
 * session's end, and nothing is deleted. */
START_TEST(lifetime)
{
	struct client *c = client("USER alice\r\nPASS alicepw\r\nDELE 1\r\n");
	int i;

	o.timeout = 1;
	for (i = 0; i < 6; i++)
		add(c, "NOOP\r\n");
	mailbox("alice", three);
	drip_ms = 80;
	io_init_cb(&io, drip_read, c_write, c);
	io_lifetime(&io, 1);
	ck_assert_int_eq(session_on(c), 0);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n-ERR session time limit "
	    "reached, closing connection\r\n"));
	ck_assert_ptr_null(strstr(c->out, "+OK bye"));
	done(c);
}
END_TEST

START_TEST(slow_drip_in_time)
{
	struct client *c = client("USER alice\r\nPASS alicepw\r\n");

	/* the same client, faster: each line is in within 1 s of its first
	 * byte; the time between lines does not count */
	o.timeout = 1;
	add(c, "NOOP\r\n");
	add(c, "QUIT\r\n");
	mailbox("alice", three);
	ck_assert_int_eq(run_drip(c, 80), 0);
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n+OK nothing done\r\n"));
	ck_assert_ptr_nonnull(strstr(c->out, "\r\n+OK bye"));
	done(c);
}
END_TEST

START_TEST(slow_drip_auth)
{
	struct client *c = client("AUTH PLAIN\r\n");

	/* the AUTH response line is held to the same deadline */
	o.timeout = 1;
	add(c, "AGFsaWNlAGFsaWNlcHc=\r\n");
	mailbox("alice", three);
	ck_assert_int_eq(run_drip(c, 200), 0);
	ck_assert_str_eq(c->out, "+OK mail.example.org POP3 ready\r\n+ \r\n"
	    "-ERR idle timeout, closing connection\r\n");
	done(c);
}
END_TEST

START_TEST(write_error_ends)
{
	struct client *c = client("CAPA\r\nCAPA\r\nCAPA\r\n");

	c->wfail = 1;
	ck_assert_int_ne(run(c), 0);
	done(c);
}
END_TEST

START_TEST(junk_input)
{
	static const char *const words[] = {
		"STAT", "LIST", "RETR", "DELE", "TOP", "UIDL", "RSET", "NOOP",
		"CAPA", "USER", "PASS", "AUTH", "APOP", "list", "", "\x01",
		"0", "1", "2", "3", "4", "-1", "99999999999999999999", "*",
		"PLAIN", "=", ".", "\xff", "AGFsaWNlAGFsaWNlcHc=", "alice",
	};
	char cmd[4096];
	struct client *c;
	size_t n;
	int round, k;

	mailbox("alice", three);
	srand(4711);
	for (round = 0; round < 200; round++) {
		n = (size_t)snprintf(cmd, sizeof(cmd),
		    "USER alice\r\nPASS alicepw\r\n");
		for (k = 0; k < 40 && n < sizeof(cmd) - 200; k++) {
			int w = rand() % 4;

			while (w-- >= 0)
				n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
				    "%s%s", words[rand() % (sizeof(words) /
				    sizeof(words[0]))], rand() % 5 ? " " : "");
			n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s",
			    rand() % 7 ? "\r\n" : "\n");
		}
		/* never QUIT with deletions: the mailbox stays for next round */
		c = client(cmd);
		ck_assert_int_eq(run(c), 0);
		ck_assert(c->outlen > 0);
		ck_assert(c->out[c->outlen - 1] == '\n');
		done(c);
	}
}
END_TEST

static Suite *
pop3_session_suite(void)
{
	Suite *s = suite_create("pop3_session");
	TCase *tc;

	tc = tcase_create("authorization");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, login_pass);
	tcase_add_test(tc, fail_same_text);
	tcase_add_test(tc, fail_delay);
	tcase_add_test(tc, three_fails_close);
	tcase_add_test(tc, apop_login);
	tcase_add_test(tc, apop_not_plain);
	tcase_add_test(tc, identity_root_refused);
	tcase_add_test(tc, identity_spool_group);
	tcase_add_test(tc, identity_gid0_refused);
	tcase_add_test(tc, first_valid_uid);
	tcase_add_test(tc, last_valid_uid_file);
	tcase_add_test(tc, identity_none);
	tcase_add_test(tc, identity_drop_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("transaction");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_size_is_retr_bytes);
	tcase_add_test(tc, retr_exact_bytes);
	tcase_add_test(tc, uidl_stable);
	tcase_add_test(tc, commit_refused_when_changed);
	tcase_add_test(tc, commit_keeps_late_mail);
	tcase_add_test(tc, in_use);
	tcase_add_test(tc, retr_read_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, line_limit);
	tcase_add_test(tc, retr_few_writes);
	tcase_add_test(tc, write_error_ends);
	tcase_add_test(tc, slow_drip_cut);
	tcase_add_test(tc, slow_drip_in_time);
	tcase_add_test(tc, lifetime);
	tcase_add_test(tc, slow_drip_auth);
	tcase_add_test(tc, junk_input);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pop3_session_suite)
