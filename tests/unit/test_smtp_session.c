/* test_smtp_session.c: whole smtpd sessions from memory through the injected
 * io callbacks, on a scratch spool: reply bytes and write batching
 * (pipelining), the DATA reader fed byte by byte, the size limit and its
 * memory bound, lookup failures, the error limit, timeouts, failed writes
 * and random input. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"
#include "check_main.h"
#include "capture.h"
#include "seam_peer.h"

static char dir[64], spool[128], users[128];
static struct smtpd_conf conf;
static struct io io;
static struct smtp_link lnk;
/* The delivery side: a thread at the other end of a real seam. */
static struct peer dl;

static void *
delivery(void *arg)
{
	struct peer *p = arg;

	p->rc = (int)smtp_delivery_serve(p->conf, &p->ps);
	priv_finish(&p->ps, PRIV_EOF);
	return NULL;
}

/* The session's end of a new seam, with the delivery side at the other. */
static void
link_open(void)
{
	peer_start(&dl, delivery, &conf);
	ck_assert_int_eq(smtp_link_open(&lnk, &dl.sess), 0);
}

/* The session is over: how its delivery side ended. */
static int
link_close(void)
{
	smtp_link_close(&lnk);
	return peer_join(&dl);
}

static int
session(void)
{
	int rc;

	link_open();
	rc = smtp_session(&conf, &io, &lnk);
	ck_assert_int_eq(link_close(), PRIV_EOF);
	return rc;
}

/* A client in memory: INPUT handed out CHUNK bytes a read (0 = all), then
 * EOF or, with TIMEOUT set, a timeout; from offset SLOW on (when DRIP_MS
 * is set) one byte a read, DRIP_MS apart; writes are counted and
 * collected. */
struct client {
	const char	*in;
	size_t		 inlen, pos, chunk, slow;
	int		 timeout, drip_ms;
	int		 wfail;
	int		 writes;
	char		*out;
	size_t		 outlen, outcap;
};
static struct client cl;

static ssize_t
mem_read(struct io *i, void *buf, size_t len)
{
	struct client *c = i->ctx;
	size_t n = c->inlen - c->pos;

	if (n == 0 && c->timeout) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (c->chunk > 0 && n > c->chunk)
		n = c->chunk;
	if (c->drip_ms > 0 && c->pos >= c->slow && n > 0) {
		struct timespec ts = { 0, c->drip_ms * 1000000L };

		nanosleep(&ts, NULL);
		n = 1;
	} else if (c->drip_ms > 0 && n > c->slow - c->pos)
		n = c->slow - c->pos;
	if (n > len)
		n = len;
	memcpy(buf, c->in + c->pos, n);
	c->pos += n;
	return (ssize_t)n;
}

static ssize_t
mem_write(struct io *i, const void *buf, size_t len)
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

static const char *
run_len(const char *in, size_t len, size_t chunk)
{
	free(cl.out);
	memset(&cl, 0, sizeof(cl));
	cl.in = in;
	cl.inlen = len;
	cl.chunk = chunk;
	io_init_cb(&io, mem_read, mem_write, &cl);
	ck_assert_int_eq(session(), 0);
	return cl.out != NULL ? cl.out : "";
}

static const char *
run(const char *in)
{
	return run_len(in, strlen(in), 0);
}

static char *
slurp(const char *name, size_t *len)
{
	static char buf[1 << 20];
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", spool, name);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		*len = 0;
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	close(fd);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The message as stored: after From_, Return-Path and the three lines of
 * Received. */
static const char *
stored_body(const char *name)
{
	size_t len;
	char *p = slurp(name, &len);
	int i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 5; i++) {
		p = strchr(p, '\n');
		ck_assert_ptr_nonnull(p);
		p++;
	}
	return p;
}

static int
exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", spool, name);
	return access(path, F_OK) == 0;
}

static void
rm_box(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", spool, name);
	ck_assert_int_eq(unlink(path), 0);
}

static void
setup(void)
{
	FILE *f;

	strcpy(dir, "/tmp/smtp-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(users, sizeof(users), "%s/users", dir);
	ck_assert_int_eq(mkdir(spool, 0755), 0);
	f = fopen(users, "w");
	ck_assert_ptr_nonnull(f);
	/* As root every entry needs an owner: nobody's. */
	if (geteuid() == 0)
		fputs("alice:{PLAIN}a:65534:65534\nbob:{PLAIN}b:65534:65534\n", f);
	else
		fputs("alice:{PLAIN}a\nbob:{PLAIN}b\n", f);
	ck_assert_int_eq(fclose(f), 0);
	log_init("smtpd-test", LOG_SYSLOG);
	memset(&conf, 0, sizeof(conf));
	opts_init(&conf.o, SMTP_TIMEOUT_DEFAULT, SMTP_LIFETIME_DEFAULT);
	snprintf(conf.o.host, sizeof(conf.o.host), "mx.example.org");
	snprintf(conf.o.client, sizeof(conf.o.client), "192.0.2.7");
	conf.o.spool = spool;
	conf.o.users = users;
	conf.maxsize = SMTPD_SIZE_DEFAULT;
	conf.maxrcpt = SMTPD_RCPT_DEFAULT;
}

static void
teardown(void)
{
	char cmd[128];

	free(cl.out);
	memset(&cl, 0, sizeof(cl));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		perror(cmd);
}

#define HELLO	"EHLO c.example\r\nMAIL FROM:<s@r.example>\r\n" \
		"RCPT TO:<alice@mx.example.org>\r\nDATA\r\n"

START_TEST(replies_exact)
{
	const char *out;

	static const char want[] =
	    "220 mx.example.org ESMTP\r\n"
	    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
	    "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
	    "250 HELP\r\n"
	    "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as ";

	out = run(HELLO "Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n");
	ck_assert_int_eq(strncmp(out, want, sizeof(want) - 1), 0);
}
END_TEST

START_TEST(delivered_trace)
{
	size_t len;
	const char *out, *m;
	char qid[32];

	out = run(HELLO "Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n");
	m = strstr(out, "250 2.0.0 Ok: queued as ");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(sscanf(m, "250 2.0.0 Ok: queued as %31[a-z0-9]", qid), 1);
	ck_assert_ptr_nonnull(strstr(out, "221 2.0.0 mx.example.org closing"));
	m = slurp("alice", &len);
	ck_assert_ptr_nonnull(m);
	ck_assert(strncmp(m, "From s@r.example ", 17) == 0);
	ck_assert_ptr_nonnull(strstr(m, "\nReturn-Path: <s@r.example>\n"
	    "Received: from c.example ([192.0.2.7])\n"
	    "\tby mx.example.org with ESMTP id "));
	ck_assert_ptr_nonnull(strstr(m, qid));
	ck_assert_ptr_nonnull(strstr(m, "\n\tfor <alice@mx.example.org>; "));
	ck_assert_str_eq(stored_body("alice"), "Subject: x\n\nhi\n\n");
}
END_TEST

/* RFC 2920: replies to a pipelined batch leave together, and only when
 * the input is used up: the greeting, then one write for all the rest. */
START_TEST(pipelining_batches)
{
	run("EHLO c.example\r\nNOOP\r\nNOOP\r\nHELP\r\nQUIT\r\n");
	ck_assert_int_eq(cl.writes, 2);
	/* Fed a byte a read, each reply still goes out whole: the EHLO
	 * reply is one write, never one per line. */
	run_len("EHLO c.example\r\n", 16, 1);
	ck_assert_int_eq(cl.writes, 2);
	ck_assert_ptr_nonnull(strstr(cl.out, "250 HELP\r\n"));
}
END_TEST

/* The same message fed whole and a byte at a time is stored the same:
 * line ends split across reads (a CR at the end of one read) do not
 * change what ends a line or the message. */
static const char smuggle[] =
    HELLO "a\r\n.\n" "b\n.\r\n" "c\r.\r" "d\r\n..\r\n" "From x\r\n"
    ".\r\nQUIT\r\n";

START_TEST(data_bytewise)
{
	static char whole[4096];
	const char *out;

	out = run_len(smuggle, sizeof(smuggle) - 1, 0);
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 Ok: queued as "));
	snprintf(whole, sizeof(whole), "%s", stored_body("alice"));
	ck_assert_str_eq(whole, "a\n.\nb\n.\nc\r.\rd\n.\n>From x\n\n");
	rm_box("alice");
	out = run_len(smuggle, sizeof(smuggle) - 1, 1);
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 Ok: queued as "));
	ck_assert_str_eq(stored_body("alice"), whole);
}
END_TEST

/* Drive smtp_data_read() directly, after a MAIL and RCPT to alice, to see
 * what the delivery side holds (smtp_delivery_mem_peak).  The seam stays
 * open for stored_at_limit; the caller closes it (link_close). */
static int
data_direct(const char *in, size_t len, uint64_t max, struct smtp *s)
{
	struct sm_mail m = { "h.example", "", 1, 0 };
	struct sm_rcpt r = { "alice", "alice@mx.example.org" };
	struct sm_rcpt_rep rep;

	memset(s, 0, sizeof(*s));
	conf.maxsize = max;
	s->conf = &conf;
	s->io = &io;
	s->link = &lnk;
	smtp_delivery_mem_peak = 0;
	link_open();
	ck_assert_int_eq(smtp_link_mail(&lnk, &m), 0);
	ck_assert_int_eq(smtp_link_rcpt(&lnk, &r, &rep), 0);
	ck_assert_int_eq(rep.reply, R_RCPT_OK);
	free(cl.out);
	memset(&cl, 0, sizeof(cl));
	cl.in = in;
	cl.inlen = len;
	io_init_cb(&io, mem_read, mem_write, &cl);
	return smtp_data_read(s, 1);
}

START_TEST(data_size_bound)
{
	static char big[300000];
	struct sm_end_rep rep;
	struct smtp s;
	char line[SMTP_LINE_MAX];
	size_t n, i, total;

	/* 300 kB of long lines against a 1000-byte limit: read to the end,
	 * refused, and the delivery side never held more than the limit. */
	for (i = 0; i < sizeof(big) - 20; i++)
		big[i] = (i % 3000 == 2999) ? '\n' : 'x';
	memcpy(big + i, "\r\n.\r\nNOOP\r\n", 11);
	total = n = i + 11;
	ck_assert_int_eq(data_direct(big, n, 1000, &s), R_SIZE);
	ck_assert_int_eq(smtp_link_end(&lnk, &rep), 0);
	ck_assert_int_eq(link_close(), PRIV_EOF);
	ck_assert_uint_le(smtp_delivery_mem_peak, 1000);
	ck_assert_uint_gt(s.size, 1000);
	/* What follows the end mark is the next command. */
	ck_assert_int_eq(io_getline(&io, line, sizeof(line), &n, 0), IO_OK);
	ck_assert(n == 4 && memcmp(line, "NOOP", 4) == 0);
	/* Against the default limit: the session sends it in pieces of
	 * SMTP_CHUNK (it holds one at most), the delivery side has it all. */
	ck_assert_int_eq(data_direct(big, total, SMTPD_SIZE_DEFAULT, &s), R_NONE);
	ck_assert_int_eq(smtp_link_end(&lnk, &rep), 0);
	ck_assert_int_eq(rep.reply, R_QUEUED);
	ck_assert_int_eq(link_close(), PRIV_EOF);
	ck_assert_uint_ge(smtp_delivery_mem_peak, total - 200);
}
END_TEST

/* What the delivery side stores for P/LEN at the limit MAX: deliver it to
 * alice and return the stored body (after the trace block); NULL with the
 * reply in *RC when it refused. */
static const char *
stored_at_limit(const char *msg, size_t len, uint64_t max, int *rc)
{
	struct sm_end_rep rep;
	struct smtp s;

	if (exists("alice"))
		rm_box("alice");
	*rc = data_direct(msg, len, max, &s);
	if (*rc == R_NONE) {
		ck_assert_int_eq(smtp_link_end(&lnk, &rep), 0);
		*rc = rep.reply;
	}
	ck_assert_int_eq(link_close(), PRIV_EOF);
	ck_assert_uint_le(smtp_delivery_mem_peak, max);
	return *rc == R_QUEUED ? stored_body("alice") : NULL;
}

/* The length of the trace fields the delivery side writes for alice in
 * data_direct's transaction: the same From_ line, Return-Path and
 * Received, with this second's date. */
static size_t
trace_len(void)
{
	size_t len;
	const char *m;

	(void)stored_at_limit("x\r\n.\r\n", 6, SMTPD_SIZE_DEFAULT, &(int){0});
	m = slurp("alice", &len);
	ck_assert_ptr_nonnull(m);
	/* "x\n" and the closing empty line follow the trace fields. */
	return len - 3;
}

START_TEST(data_size_exact)
{
	/* -s bounds what the message adds to the mailbox: trace fields,
	 * quoting and the closing empty line included.  ">From" lines cost
	 * a byte each. */
	static const char msg[] = "From a\r\nFrom b\r\n..\r\n.\r\n";
	size_t head;
	const char *b;
	int rc;

	/* Twice, in case the second's date changed length in between. */
	head = trace_len();
	b = stored_at_limit(msg, sizeof(msg) - 1, head + 19, &rc);
	if (rc != R_QUEUED) {
		head = trace_len();
		b = stored_at_limit(msg, sizeof(msg) - 1, head + 19, &rc);
	}
	ck_assert_int_eq(rc, R_QUEUED);
	ck_assert_str_eq(b, ">From a\n>From b\n.\n\n");
	b = stored_at_limit(msg, sizeof(msg) - 1, head + 18, &rc);
	ck_assert_int_eq(rc, R_SIZE);
	/* The same with bare LF line ends. */
	b = stored_at_limit("From a\nFrom b\n..\r\n.\r\n", 21, head + 19, &rc);
	ck_assert_int_eq(rc, R_QUEUED);
	ck_assert_str_eq(b, ">From a\n>From b\n.\n\n");
	/* A message that fits as sent does not once quoted: what made 2 MiB
	 * of "From " lines take 2.45 MB under -s 2 MiB before. */
	b = stored_at_limit("From a\r\n.\r\n", 11, head + 8, &rc);
	ck_assert_int_eq(rc, R_SIZE);
	ck_assert_int_eq(exists("alice"), 0);
}
END_TEST

START_TEST(data_eof)
{
	struct smtp s;

	ck_assert_int_eq(data_direct("abc\r\n.", 6, 100, &s), -1);
	ck_assert_int_eq(link_close(), PRIV_EOF);
	ck_assert_int_eq(data_direct("abc\r\n.\n", 7, 100, &s), -1);
	ck_assert_int_eq(link_close(), PRIV_EOF);
}
END_TEST

/* The message does not fit in memory on the delivery side: 451, nothing
 * stored, and the session goes on. */
START_TEST(out_of_memory)
{
	const char *out;

	smtp_delivery_mem_limit = 100;
	out = run(HELLO "0123456789012345678901234567890123456789\r\n"
	    "0123456789012345678901234567890123456789\r\n"
	    "0123456789012345678901234567890123456789\r\n.\r\nNOOP\r\nQUIT\r\n");
	smtp_delivery_mem_limit = 0;
	ck_assert_ptr_nonnull(strstr(out, "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "451 4.3.0 Out of memory, try again later\r\n250 2.0.0 Ok\r\n"));
	ck_assert_int_eq(exists("alice"), 0);
}
END_TEST

START_TEST(lookup_failure)
{
	const char *out;

	/* The users file vanished after start-up: temporary, not "unknown". */
	conf.o.users = "/nonexistent/users";
	out = run("HELO c.example\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<alice@mx.example.org>\r\nQUIT\r\n");
	ck_assert_ptr_nonnull(strstr(out,
	    "\r\n451 4.3.0 Temporary lookup failure\r\n"));
	ck_assert_int_eq(exists("alice"), 0);
}
END_TEST

START_TEST(error_limit)
{
	const char *out;
	char in[512] = "";
	int i;

	for (i = 0; i < SMTPD_ERRORS_MAX - 1; i++)
		strcat(in, "BAD\r\n");
	strcat(in, "NOOP\r\nBAD\r\nNOOP\r\n");
	out = run(in);
	/* The tenth error is answered, then 421 and nothing more. */
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 Ok\r\n500 5.5.2 Command not "
	    "recognized\r\n421 4.7.0 mx.example.org Too many errors"));
	ck_assert_str_eq(strstr(out, "421 4.7.0"), "421 4.7.0 mx.example.org "
	    "Too many errors, closing connection\r\n");
}
END_TEST

/* Refused recipients have their own bound (params.h): a list message
 * with stale addresses is delivered, a dictionary attack still ends. */
/* Append a transaction: alice and BAD unknown recipients, then DATA. */
static size_t
add_txn(char *in, size_t cap, size_t n, int bad, int good)
{
	int i;

	n += (size_t)snprintf(in + n, cap - n, "MAIL FROM:<>\r\n");
	if (good)
		n += (size_t)snprintf(in + n, cap - n,
		    "RCPT TO:<alice@mx.example.org>\r\n");
	for (i = 0; i < bad; i++)
		n += (size_t)snprintf(in + n, cap - n,
		    "RCPT TO:<no%d@mx.example.org>\r\n", i);
	n += (size_t)snprintf(in + n, cap - n, good ? "DATA\r\nx\r\n.\r\n" :
	    "RSET\r\n");
	return n;
}

static size_t
count(const char *s, const char *what)
{
	size_t k = 0;

	for (; (s = strstr(s, what)) != NULL; s++)
		k++;
	return k;
}

START_TEST(error_limit_rcpt)
{
	static char in[SMTPD_RCPT_ERRORS_MAX * 96 + 1024];
	const char *out;
	size_t n;
	int i;

	/* Exactly the bound of refused recipients in one transaction: every
	 * one answered 550, the message delivered to alice. */
	n = (size_t)snprintf(in, sizeof(in), "HELO c.example\r\n");
	n = add_txn(in, sizeof(in), n, SMTPD_RCPT_ERRORS_MAX, 1);
	snprintf(in + n, sizeof(in) - n, "QUIT\r\n");
	out = run(in);
	ck_assert_uint_eq(count(out, "550 5.1.1"), SMTPD_RCPT_ERRORS_MAX);
	ck_assert_ptr_nonnull(strstr(out, "250 2.0.0 Ok: queued as "));
	ck_assert_ptr_null(strstr(out, "421 4.7.0"));
	/* One more: 421 right after it, nothing delivered. */
	n = (size_t)snprintf(in, sizeof(in), "HELO c.example\r\n");
	n = add_txn(in, sizeof(in), n, SMTPD_RCPT_ERRORS_MAX + 1, 1);
	out = run(in);
	ck_assert_ptr_nonnull(strstr(out, "550 5.1.1 User unknown\r\n421 4.7.0 "
	    "mx.example.org Too many errors, closing connection\r\n"));
	ck_assert_ptr_null(strstr(out, "queued as"));
	/* The bound is per connection: a valid recipient in each
	 * transaction (postmaster, say) does not reset it, so probing many
	 * names over one connection ends at the bound. */
	n = (size_t)snprintf(in, sizeof(in), "HELO c.example\r\n");
	n = add_txn(in, sizeof(in), n, 60, 1);
	n = add_txn(in, sizeof(in), n, 60, 1);
	snprintf(in + n, sizeof(in) - n, "QUIT\r\n");
	out = run(in);
	ck_assert_uint_eq(count(out, "Ok: queued as "), 1);
	ck_assert_uint_eq(count(out, "550 5.1.1"), SMTPD_RCPT_ERRORS_MAX + 1);
	ck_assert_ptr_nonnull(strstr(out, "421 4.7.0"));
	/* A dictionary attack spread over transactions: each that finds no
	 * recipient is one error, and the tenth ends the session. */
	n = (size_t)snprintf(in, sizeof(in), "HELO c.example\r\n");
	for (i = 0; i < SMTPD_ERRORS_MAX + 2; i++)
		n = add_txn(in, sizeof(in), n, 5, 0);
	out = run(in);
	ck_assert_uint_eq(count(out, "550 5.1.1"), 5 * SMTPD_ERRORS_MAX);
	ck_assert_ptr_nonnull(strstr(out, "421 4.7.0"));
	/* RCPT before MAIL is a broken client, not a refused address. */
	n = (size_t)snprintf(in, sizeof(in), "HELO c.example\r\n");
	for (i = 0; i < SMTPD_ERRORS_MAX; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n,
		    "RCPT TO:<alice@mx.example.org>\r\n");
	out = run(in);
	ck_assert_uint_eq(count(out, "503 5.5.1"), SMTPD_ERRORS_MAX);
	ck_assert_ptr_nonnull(strstr(out, "421 4.7.0"));
	/* With -n above it, the bound is -n. */
	conf.maxrcpt = SMTPD_RCPT_ERRORS_MAX + 5;
	n = (size_t)snprintf(in, sizeof(in), "HELO c.example\r\n");
	n = add_txn(in, sizeof(in), n, SMTPD_RCPT_ERRORS_MAX + 3, 1);
	out = run(in);
	ck_assert_ptr_null(strstr(out, "421 4.7.0"));
	ck_assert_ptr_nonnull(strstr(out, "queued as"));
}
END_TEST

START_TEST(timeout)
{
	static const char in[] = HELLO "Subject: x\r\n\r\npart";

	free(cl.out);
	memset(&cl, 0, sizeof(cl));
	cl.in = in;
	cl.inlen = sizeof(in) - 1;
	cl.timeout = 1;
	io_init_cb(&io, mem_read, mem_write, &cl);
	ck_assert_int_eq(session(), 0);
	ck_assert_ptr_nonnull(strstr(cl.out, "354 End data"));
	ck_assert_ptr_nonnull(strstr(cl.out,
	    "\r\n421 4.4.2 mx.example.org Timeout, closing connection\r\n"));
	ck_assert_int_eq(exists("alice"), 0);
}
END_TEST

/* Slow drip: a byte well within the idle timeout each, but the
 * line or the message never done.  Fed from PREFIX's end on, a byte every
 * 100 ms, with -t 1.  Returns the seconds the session took. */
static double
drip_for(const char *in, size_t prefix, int lifetime)
{
	struct timespec a, b;

	free(cl.out);
	memset(&cl, 0, sizeof(cl));
	cl.in = in;
	cl.inlen = strlen(in);
	cl.slow = prefix;
	cl.drip_ms = 100;
	conf.o.timeout = 1;
	io_init_cb(&io, mem_read, mem_write, &cl);
	if (lifetime > 0)
		io_lifetime(&io, lifetime);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(session(), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_ptr_nonnull(cl.out);
	return (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

static double
drip(const char *in, size_t prefix)
{
	return drip_for(in, prefix, 0);
}

/* -E: a client that keeps the session busy with steady
 * commands, each in time, is still ended at the session's end. */
START_TEST(lifetime)
{
	static char in[2048];
	double t;
	int i;

	strcpy(in, "EHLO c.example\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<alice@mx.example.org>\r\n");
	for (i = 0; i < 200; i++)
		strcat(in, "NOOP\r\n");
	t = drip_for(in, strlen("EHLO c.example\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<alice@mx.example.org>\r\n"), 2);
	ck_assert_ptr_nonnull(strstr(cl.out, "250 2.0.0 Ok\r\n421 4.4.2 "
	    "mx.example.org Session time limit reached, closing connection\r\n"));
	ck_assert(t >= 1.9 && t < 3.5);
}
END_TEST

START_TEST(deadline_command)
{
	static const char in[] = "EHLO c.example\r\n"
	    "NOOP 0123456789012345678901234567890123456789\r\nQUIT\r\n";
	double t;

	/* The line is cut off after -t, not after its 4.6 s of drip. */
	t = drip(in, 16);
	ck_assert_ptr_nonnull(strstr(cl.out, "250 HELP\r\n421 4.4.2 "
	    "mx.example.org Timeout, closing connection\r\n"));
	ck_assert_ptr_null(strstr(cl.out, "250 2.0.0 Ok"));
	ck_assert(t >= 0.9 && t < 2.5);
}
END_TEST

START_TEST(deadline_data)
{
	static char in[1024];
	double t;
	size_t n;

	/* Each line in time, the message not: cut off after 2 * -t. */
	n = (size_t)snprintf(in, sizeof(in), "%s", HELLO);
	snprintf(in + n, sizeof(in) - n, "%s", "a\r\nb\r\nc\r\nd\r\ne\r\n"
	    "f\r\ng\r\nh\r\ni\r\nj\r\nk\r\nl\r\n.\r\nQUIT\r\n");
	t = drip(in, n);
	ck_assert_ptr_nonnull(strstr(cl.out, "354 End data with <CR><LF>."
	    "<CR><LF>\r\n421 4.4.2 mx.example.org Timeout, closing "
	    "connection\r\n"));
	ck_assert_int_eq(exists("alice"), 0);
	ck_assert(t >= 1.9 && t < 3.5);
}
END_TEST

START_TEST(write_failure)
{
	static const char in[] = HELLO "x\r\n.\r\nNOOP\r\nQUIT\r\n";

	/* The client is gone: the session ends quietly at EOF; the message
	 * it sent whole is still stored (the reply merely got lost). */
	free(cl.out);
	memset(&cl, 0, sizeof(cl));
	cl.in = in;
	cl.inlen = sizeof(in) - 1;
	cl.wfail = 1;
	io_init_cb(&io, mem_read, mem_write, &cl);
	ck_assert_int_eq(session(), 0);
	ck_assert_int_eq(cl.writes, 0);
	ck_assert_int_eq(exists("alice"), 1);
}
END_TEST

START_TEST(rcpt_limit_memory)
{
	const char *out;

	/* -n bounds the table; duplicates do not count. */
	conf.maxrcpt = 1;
	out = run("HELO c.example\r\nMAIL FROM:<>\r\n"
	    "RCPT TO:<alice@mx.example.org>\r\nRCPT TO:<ALICE@mx.example.org>\r\n"
	    "RCPT TO:<bob@mx.example.org>\r\nQUIT\r\n");
	ck_assert_ptr_nonnull(strstr(out, "250 2.1.5 Recipient ok\r\n"
	    "452 4.5.3 Too many recipients\r\n"));
}
END_TEST

/* Random bytes, and random mixes of commands and line ends: the session
 * ends, replies every line with a proper code, and never crashes (under
 * ASan in `make check SANITIZE=1`). */
START_TEST(random_input)
{
	static const char *const piece[] = {
		"EHLO a\r\n", "HELO b\n", "MAIL FROM:<a@b.example>\r\n",
		"MAIL FROM:<> SIZE=5\r\n", "RCPT TO:<alice@mx.example.org>\r\n",
		"RCPT TO:<bob+x@mx.example.org>\n", "DATA\r\n", ".\r\n", "\r\n",
		"\n", "\r", ".", "..\r\n", "From x\r\n", "RSET\r\n", "NOOP\r\n",
		"\x00", "\xff", "VRFY x\r\n", "RCPT TO:<\"a\\\r\n", "QUIT x\r\n",
	};
	static char in[16384];
	size_t n, k, l;
	unsigned seed = 12345u + (unsigned)_i;
	int round;

	for (round = 0; round < 20; round++) {
		n = 0;
		while (n < sizeof(in) - 64) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 4 == 0) {
				in[n++] = (char)(seed >> 8);
				continue;
			}
			k = (seed >> 16) % (sizeof(piece) / sizeof(piece[0]));
			l = k == 16 || k == 17 ? 1 : strlen(piece[k]);
			memcpy(in + n, piece[k], l);
			n += l;
		}
		run_len(in, n, (seed >> 20) % 3 == 0 ? 7 : 0);
		ck_assert(strncmp(cl.out, "220 ", 4) == 0);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_session");
	TCase *tc;

	tc = tcase_create("session");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, replies_exact);
	tcase_add_test(tc, delivered_trace);
	tcase_add_test(tc, pipelining_batches);
	tcase_add_test(tc, lookup_failure);
	tcase_add_test(tc, error_limit);
	tcase_add_test(tc, error_limit_rcpt);
	tcase_add_test(tc, timeout);
	tcase_add_test(tc, write_failure);
	tcase_add_test(tc, rcpt_limit_memory);
	suite_add_tcase(s, tc);
	tc = tcase_create("data");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, data_bytewise);
	tcase_add_test(tc, data_size_bound);
	tcase_add_test(tc, data_size_exact);
	tcase_add_test(tc, data_eof);
	tcase_add_test(tc, out_of_memory);
	suite_add_tcase(s, tc);
	tc = tcase_create("deadline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, deadline_command);
	tcase_add_test(tc, lifetime);
	tcase_add_test(tc, deadline_data);
	suite_add_tcase(s, tc);
	tc = tcase_create("robustness");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, random_input, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
