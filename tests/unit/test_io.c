/* test_io.c: the line reader and output buffer, driven from memory through
 * injected callbacks (one byte at a time, short writes), and through a pipe
 * for the idle timeout and the deadline; io_prefix with the PROXY parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "proxy.h"
#include "check_main.h"

/* A transcript in memory: INPUT is handed out CHUNK bytes per read, output is
 * taken WCHUNK bytes per write.  OUT_AT_READ records how much output the
 * client had seen when each read happened. */
struct mem {
	const char	*in;
	size_t		 inlen, inpos, chunk;
	char		 out[200000];
	size_t		 outlen, wchunk;
	int		 wfail, rfail, eintr;
	int		 reads;
	size_t		 out_at_read[16];
};

static ssize_t
mem_read(struct io *io, void *buf, size_t len)
{
	struct mem *m = io->ctx;
	size_t n = m->inlen - m->inpos;

	if (m->reads < 16)
		m->out_at_read[m->reads] = m->outlen;
	m->reads++;
	if (m->rfail) {
		errno = ECONNRESET;
		return -1;
	}
	if (n > m->chunk)
		n = m->chunk;
	if (n > len)
		n = len;
	memcpy(buf, m->in + m->inpos, n);
	m->inpos += n;
	return (ssize_t)n;
}

static ssize_t
mem_write(struct io *io, const void *buf, size_t len)
{
	struct mem *m = io->ctx;

	if (m->eintr > 0) {
		m->eintr--;
		errno = EINTR;
		return -1;
	}
	if (m->wfail) {
		errno = EPIPE;
		return -1;
	}
	if (len > m->wchunk)
		len = m->wchunk;
	ck_assert_uint_le(m->outlen + len, sizeof(m->out));
	memcpy(m->out + m->outlen, buf, len);
	m->outlen += len;
	return (ssize_t)len;
}

static struct io *io;
static struct mem *mem;

static void
setup(void)
{
	io = calloc(1, sizeof(*io));
	mem = calloc(1, sizeof(*mem));
	ck_assert_ptr_nonnull(io);
	ck_assert_ptr_nonnull(mem);
}

static void
teardown(void)
{
	free(io);
	free(mem);
}

static void
feed(const char *in, size_t len, size_t chunk, size_t wchunk)
{
	memset(mem, 0, sizeof(*mem));
	mem->in = in;
	mem->inlen = len;
	mem->chunk = chunk;
	mem->wchunk = wchunk;
	io_init_cb(io, mem_read, mem_write, mem);
}
#define FEED(s, chunk)	feed((s), sizeof(s) - 1, (chunk), 1 << 20)

/* Read one line and check its status and bytes. */
static void
expect(size_t cap, int pieces, enum io_status st, const char *want, size_t wlen)
{
	char buf[1024];
	size_t len = 999;
	enum io_status got;

	ck_assert_uint_le(cap, sizeof(buf));
	got = io_getline(io, buf, cap, &len, pieces);
	ck_assert_int_eq(got, st);
	if (want != NULL) {
		ck_assert_uint_eq(len, wlen);
		ck_assert(memcmp(buf, want, wlen) == 0);
	}
}
#define EXPECT(cap, pieces, st, s)	expect((cap), (pieces), (st), (s), sizeof(s) - 1)

/* Both line ends, byte by byte and all at once. */
START_TEST(test_lines)
{
	static const size_t chunks[] = { 1, 2, 3, 1000 };
	size_t i;

	for (i = 0; i < 4; i++) {
		FEED("HELO a\r\nMAIL b\nlast", chunks[i]);
		EXPECT(64, 0, IO_OK, "HELO a");
		ck_assert_int_eq(io->crlf, 1);
		EXPECT(64, 0, IO_OK, "MAIL b");
		ck_assert_int_eq(io->crlf, 0);
		/* An unterminated last line is not a command. */
		expect(64, 0, IO_EOF, NULL, 0);
		expect(64, 0, IO_EOF, NULL, 0);
	}
}
END_TEST

START_TEST(test_empty_lines)
{
	FEED("\r\n\n.\r\n", 1);
	EXPECT(64, 0, IO_OK, "");
	ck_assert_int_eq(io->crlf, 1);
	EXPECT(64, 0, IO_OK, "");
	ck_assert_int_eq(io->crlf, 0);
	EXPECT(64, 0, IO_OK, ".");
	expect(64, 0, IO_EOF, NULL, 0);
}
END_TEST

/* RFC 5321 2.3.8: only CRLF ends a line; a bare CR is data, and so is a CR
 * that happens to fall on a buffer boundary. */
START_TEST(test_bare_cr)
{
	size_t chunk;

	for (chunk = 1; chunk <= 4; chunk++) {
		FEED("a\rb\r\nc\r\r\n\r\n", chunk);
		EXPECT(64, 0, IO_OK, "a\rb");
		ck_assert_int_eq(io->crlf, 1);
		EXPECT(64, 0, IO_OK, "c\r");
		ck_assert_int_eq(io->crlf, 1);
		EXPECT(64, 0, IO_OK, "");
		expect(64, 0, IO_EOF, NULL, 0);
	}
}
END_TEST

/* A line of exactly CAP bytes fits, whatever its line end; one more is too long. */
START_TEST(test_exact_fit)
{
	FEED("abcde\r\nabcde\nabcdef\r\nabcde\rX\r\nok\r\n", 1);
	EXPECT(5, 0, IO_OK, "abcde");
	ck_assert_int_eq(io->crlf, 1);
	EXPECT(5, 0, IO_OK, "abcde");
	ck_assert_int_eq(io->crlf, 0);
	expect(5, 0, IO_TOOLONG, NULL, 0);
	expect(5, 0, IO_TOOLONG, NULL, 0);
	EXPECT(5, 0, IO_OK, "ok");
}
END_TEST

/* An over-long command is reported, and everything up to its end discarded:
 * the tail must never run as a command of its own. */
START_TEST(test_toolong)
{
	char big[IO_RBUF * 3 + 10];
	size_t chunk;

	for (chunk = 1; chunk <= 1000; chunk += 999) {
		FEED("0123456789abc\r\nRSET\r\n", chunk);
		expect(8, 0, IO_TOOLONG, NULL, 0);
		EXPECT(8, 0, IO_OK, "RSET");
	}
	/* Longer than the read buffer several times over. */
	memset(big, 'x', sizeof(big));
	memcpy(big + sizeof(big) - 10, "\r\nQUIT\r\n\0\0", 10);
	feed(big, sizeof(big) - 2, 4096, 1 << 20);
	expect(512, 0, IO_TOOLONG, NULL, 0);
	EXPECT(512, 0, IO_OK, "QUIT");
	expect(512, 0, IO_EOF, NULL, 0);
	/* A line that never ends is answered at once, not at EOF: a client
	 * sending endless garbage hears "too long" while it sends. */
	memset(big, 'y', sizeof(big));
	feed(big, sizeof(big), 100, 1 << 20);
	expect(512, 0, IO_TOOLONG, NULL, 0);
	ck_assert_uint_lt(mem->inpos, sizeof(big));
	expect(512, 0, IO_EOF, NULL, 0);
}
END_TEST

/* DATA lines longer than the buffer come in pieces; the last is IO_OK. */
START_TEST(test_pieces)
{
	size_t chunk;

	for (chunk = 1; chunk <= 5; chunk += 4) {
		FEED("0123456789\r\n01234567\r\n0123\r4567\n.\r\n", chunk);
		EXPECT(4, 1, IO_PART, "0123");
		ck_assert_int_eq(io->crlf, 0);
		EXPECT(4, 1, IO_PART, "4567");
		EXPECT(4, 1, IO_OK, "89");
		ck_assert_int_eq(io->crlf, 1);
		/* A multiple of CAP: no empty piece at the end. */
		EXPECT(4, 1, IO_PART, "0123");
		EXPECT(4, 1, IO_OK, "4567");
		ck_assert_int_eq(io->crlf, 1);
		/* The bare CR is data and goes with its piece. */
		EXPECT(4, 1, IO_PART, "0123");
		EXPECT(4, 1, IO_PART, "\r456");
		EXPECT(4, 1, IO_OK, "7");
		ck_assert_int_eq(io->crlf, 0);
		EXPECT(4, 1, IO_OK, ".");
		expect(4, 1, IO_EOF, NULL, 0);
	}
}
END_TEST

START_TEST(test_nul)
{
	static const char in[] = "a\0b\r\nc\r\n0123\0" "5678\r\n";

	feed(in, sizeof(in) - 1, 1, 1 << 20);
	expect(64, 0, IO_OK, "a\0b", 3);
	ck_assert_int_eq(io->nul, 1);
	EXPECT(64, 0, IO_OK, "c");
	ck_assert_int_eq(io->nul, 0);
	/* Per piece: the NUL is in the second one. */
	EXPECT(4, 1, IO_PART, "0123");
	ck_assert_int_eq(io->nul, 0);
	expect(4, 1, IO_PART, "\0" "567", 4);
	ck_assert_int_eq(io->nul, 1);
	EXPECT(4, 1, IO_OK, "8");
	ck_assert_int_eq(io->nul, 0);
}
END_TEST

START_TEST(test_read_error)
{
	FEED("x\r\n", 1);
	mem->rfail = 1;
	expect(64, 0, IO_ERROR, NULL, 0);
}
END_TEST

/* Replies are flushed before a read would block, and only then: a pipelining
 * client gets all its replies in order, in one write. */
START_TEST(test_flush_before_read)
{
	FEED("EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a>\r\n", 1000);
	io_printf(io, "220 %s ready\r\n", "host");
	ck_assert_uint_eq(mem->outlen, 0);
	EXPECT(64, 0, IO_OK, "EHLO x");
	/* The greeting was out before the first read. */
	ck_assert_int_eq(mem->reads, 1);
	ck_assert_uint_eq(mem->out_at_read[0], strlen("220 host ready\r\n"));
	io_printf(io, "250 ok\r\n");
	ck_assert(io_pending(io));
	EXPECT(64, 0, IO_OK, "MAIL FROM:<>");
	io_printf(io, "250 mail\r\n");
	EXPECT(64, 0, IO_OK, "RCPT TO:<a>");
	io_printf(io, "250 rcpt\r\n");
	ck_assert(!io_pending(io));
	/* No read since the first: nothing flushed yet. */
	ck_assert_int_eq(mem->reads, 1);
	ck_assert_uint_eq(mem->outlen, strlen("220 host ready\r\n"));
	expect(64, 0, IO_EOF, NULL, 0);
	mem->out[mem->outlen] = '\0';
	ck_assert_str_eq(mem->out,
	    "220 host ready\r\n250 ok\r\n250 mail\r\n250 rcpt\r\n");
}
END_TEST

/* Short writes and EINTR: every byte still goes out, in order. */
START_TEST(test_short_writes)
{
	static char big[IO_WBUF * 2 + 123];
	size_t i;

	FEED("", 1);
	mem->wchunk = 3;
	mem->eintr = 2;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	io_printf(io, "+OK %d messages\r\n", 2);
	io_write(io, big, sizeof(big));
	io_write(io, "\r\n.\r\n", 5);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_int_eq(io->werr, 0);
	ck_assert_uint_eq(mem->outlen, 16 + sizeof(big) + 5);
	ck_assert(memcmp(mem->out, "+OK 2 messages\r\n", 16) == 0);
	ck_assert(memcmp(mem->out + 16, big, sizeof(big)) == 0);
	ck_assert(memcmp(mem->out + 16 + sizeof(big), "\r\n.\r\n", 5) == 0);
	/* Many small writes filling the buffer several times. */
	FEED("", 1);
	mem->wchunk = 1000;
	for (i = 0; i < 20000; i++)
		io_printf(io, "%05zu\r\n", i);
	ck_assert_int_eq(io_flush(io), 0);
	ck_assert_uint_eq(mem->outlen, 20000 * 7);
	ck_assert(memcmp(mem->out + 7 * 12345, "12345\r\n", 7) == 0);
}
END_TEST

/* A client that went away (EPIPE) must not kill us: output stops, werr is
 * set, and the session goes on to its next read. */
START_TEST(test_write_error)
{
	FEED("QUIT\r\n", 10);
	mem->wfail = 1;
	io_printf(io, "220 hi\r\n");
	EXPECT(64, 0, IO_OK, "QUIT");
	ck_assert_int_eq(io->werr, 1);
	io_printf(io, "221 bye\r\n");
	io_write(io, "x", 1);
	ck_assert_int_eq(io_flush(io), -1);
	ck_assert_uint_eq(mem->outlen, 0);
	expect(64, 0, IO_EOF, NULL, 0);
}
END_TEST

/* A reply too long for the buffer is dropped whole, never sent cut. */
START_TEST(test_printf_too_long)
{
	static char big[IO_WBUF + 10];

	FEED("", 1);
	memset(big, 'y', sizeof(big) - 1);
	io_printf(io, "250 ok\r\n");
	io_printf(io, "%s", big);
	io_printf(io, "250 next\r\n");
	ck_assert_int_eq(io_flush(io), 0);
	mem->out[mem->outlen] = '\0';
	ck_assert_str_eq(mem->out, "250 ok\r\n250 next\r\n");
}
END_TEST

static double
elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A silent client is dropped after the idle timeout (here 1 second), and
 * what it sent before still reads normally. */
START_TEST(test_idle_timeout)
{
	struct timespec t0;
	int p[2], devnull;

	ck_assert_int_eq(pipe(p), 0);
	devnull = open("/dev/null", O_WRONLY);
	ck_assert_int_ge(devnull, 0);
	ck_assert_int_eq(write(p[1], "NOOP\r\n", 6), 6);
	io_init_fd(io, p[0], devnull, 1);
	EXPECT(64, 0, IO_OK, "NOOP");
	io_printf(io, "250 ok\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect(64, 0, IO_TIMEOUT, NULL, 0);
	ck_assert(elapsed(&t0) >= 0.9);
	ck_assert(elapsed(&t0) < 3.0);
	/* The reply went out before the wait. */
	ck_assert_uint_eq(io->wlen, 0);
	close(p[0]);
	close(p[1]);
	close(devnull);
}
END_TEST

/* The deadline bounds a whole session even while bytes trickle in. */
START_TEST(test_deadline)
{
	struct timespec t0;
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* A slow client: one byte every 200 ms, never a line end. */
		close(p[0]);
		for (int i = 0; i < 25; i++) {
			if (write(p[1], "x", 1) != 1)
				_exit(0);
			nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
		}
		_exit(0);
	}
	close(p[1]);
	io_init_fd(io, p[0], -1, 30);
	io_deadline(io, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect(64, 0, IO_TIMEOUT, NULL, 0);
	ck_assert(elapsed(&t0) >= 0.9);
	ck_assert(elapsed(&t0) < 3.0);
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	io_deadline(io, 0);
	ck_assert_int_eq(io->deadline.tv_sec, 0);
}
END_TEST

/* With callbacks there is no poll, but a passed deadline still ends reading. */
/* A command line within a deadline from its first byte: a pause before a
 * line is free (idle timeout only), a drip inside one is cut, and so is a
 * drip after an over-long line (its rest has begun). */
START_TEST(test_getline_within)
{
	struct timespec t0;
	char buf[64];
	size_t len;
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		nanosleep(&(struct timespec){ 1, 500000000 }, NULL);
		if (write(p[1], "NOOP\r\n", 6) != 6)
			_exit(0);
		for (int i = 0; i < 100; i++)
			if (write(p[1], "A", 1) != 1)
				_exit(0);
		for (int i = 0; i < 25; i++) {
			if (write(p[1], "B", 1) != 1)
				_exit(0);
			nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
		}
		_exit(0);
	}
	close(p[1]);
	io_init_fd(io, p[0], -1, 30);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(io_getline_within(io, buf, sizeof(buf), &len, 1), IO_OK);
	ck_assert(len == 4 && memcmp(buf, "NOOP", 4) == 0);
	ck_assert(elapsed(&t0) >= 1.4);		/* the pause was allowed */
	ck_assert_int_eq(io_getline_within(io, buf, sizeof(buf), &len, 1),
	    IO_TOOLONG);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(io_getline_within(io, buf, sizeof(buf), &len, 1),
	    IO_TIMEOUT);
	ck_assert(elapsed(&t0) < 2.5);
	ck_assert_int_eq(io->deadline.tv_sec, 0);
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(test_deadline_cb)
{
	FEED("x\r\ny\r\n", 1);
	EXPECT(64, 0, IO_OK, "x");
	clock_gettime(CLOCK_MONOTONIC, &io->deadline);
	io->deadline.tv_sec -= 1;
	expect(64, 0, IO_TIMEOUT, NULL, 0);
}
END_TEST

static int
nodelay_of(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	return v;
}

START_TEST(test_nodelay)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l, c, s, p[2], sp[2];

	/* Not TCP: nothing happens, nothing fails. */
	ck_assert_int_eq(pipe(p), 0);
	io_nodelay(p[0]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	io_nodelay(sp[0]);
	io_nodelay(-1);

	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	s = accept(l, NULL, NULL);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(nodelay_of(s), 0);
	io_nodelay(s);
	ck_assert_int_ne(nodelay_of(s), 0);
	close(s);
	close(c);
	close(l);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

static int
parse_proxy(const unsigned char *b, size_t len, void *arg)
{
	return proxy_parse(b, len, arg);
}

static int
parse_never(const unsigned char *b, size_t len, void *arg)
{
	(void)b, (void)len, (void)arg;
	return 0;
}

/* A header read a byte at a time is consumed exactly: the client's first
 * line, sent in the same segment, is still there for io_getline. */
START_TEST(test_prefix)
{
	struct proxy_hdr h;
	enum io_status st = IO_OK;

	FEED("PROXY TCP4 192.0.2.7 10.0.0.1 40000 25\r\nEHLO x\r\n", 1);
	ck_assert_int_eq(io_prefix(io, PROXY_HEADER_MAX, 5, parse_proxy, &h,
	    &st), 40);
	ck_assert_str_eq(h.src, "192.0.2.7");
	expect(64, 0, IO_OK, "EHLO x", 6);
	ck_assert_int_eq(io->deadline.tv_sec, 0);

	/* Refused: -1, nothing consumed. */
	FEED("EHLO x\r\n", 64);
	ck_assert_int_eq(io_prefix(io, PROXY_HEADER_MAX, 5, parse_proxy, &h,
	    &st), -1);
	expect(64, 0, IO_OK, "EHLO x", 6);

	/* The end of input inside a header. */
	FEED("PROXY TCP4 192.0.2.7", 3);
	ck_assert_int_eq(io_prefix(io, PROXY_HEADER_MAX, 5, parse_proxy, &h,
	    &st), 0);
	ck_assert_int_eq(st, IO_EOF);

	/* MAX bytes that decide nothing are a refusal, not a longer read. */
	FEED("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 7);
	ck_assert_int_eq(io_prefix(io, 20, 5, parse_never, NULL, &st), -1);
	ck_assert_uint_le(mem->inpos, 27);
}
END_TEST

/* A header that stops coming: io_prefix gives up at its deadline. */
START_TEST(test_prefix_timeout)
{
	struct proxy_hdr h;
	struct timespec t0;
	enum io_status st = IO_OK;
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		static const char part[] = "PROXY TCP4 1";

		for (int i = 0; i < 25; i++) {
			if (write(p[1], &part[i < 12 ? i : 11], 1) != 1)
				_exit(0);
			nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
		}
		_exit(0);
	}
	close(p[1]);
	io_init_fd(io, p[0], -1, 30);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(io_prefix(io, PROXY_HEADER_MAX, 1, parse_proxy, &h,
	    &st), 0);
	ck_assert_int_eq(st, IO_TIMEOUT);
	ck_assert(elapsed(&t0) >= 0.9);
	ck_assert(elapsed(&t0) < 3.0);
	ck_assert_int_eq(io->deadline.tv_sec, 0);
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

static Suite *
io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc;

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_empty_lines);
	tcase_add_test(tc, test_bare_cr);
	tcase_add_test(tc, test_exact_fit);
	tcase_add_test(tc, test_toolong);
	tcase_add_test(tc, test_pieces);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_read_error);
	tcase_add_test(tc, test_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_flush_before_read);
	tcase_add_test(tc, test_short_writes);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_printf_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_deadline_cb);
	tcase_add_test(tc, test_getline_within);
	tcase_add_test(tc, test_prefix_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_test(tc, test_nodelay);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(io_suite)
