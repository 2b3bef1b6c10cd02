/* trans.c: the TRANSACTION commands (RFC 1939 5, 7), QUIT and CAPA.  Runs as
 * the mailbox owner, on the snapshot taken at login: messages keep their
 * numbers for the whole session and deletions are only marks until QUIT. */
#include <stdint.h>
#include <string.h>
#include "log.h"
#include "num.h"
#include "pop3d.h"

/* Message number ARG: PR_OK with *I its index, or why not.  Sign, junk and
 * overflow are refused by the one strict parser; 0 and numbers past the end
 * are no such message.  Marked messages count only when DELETED_OK. */
static enum pop3_res
msgno(struct pop3 *s, const char *arg, size_t *i, int deleted_ok)
{
	uint64_t n;

	if (num_parse(arg, strlen(arg), 0, UINT64_MAX, &n) == -1)
		return PR_ERR_ARG;
	if (n == 0 || n > s->ix.n)
		return PR_ERR_NOMSG;
	if (s->del[n - 1] && !deleted_ok)
		return PR_ERR_DELETED;
	*i = (size_t)(n - 1);
	return PR_OK;
}

/* The one optional message number of LIST and UIDL: -1 for none. */
static enum pop3_res
one_arg(struct pop3 *s, char *args, size_t *i, int *given)
{
	char *argv[1];

	switch (pop3_split(args, argv, 1)) {
	case 0:
		*given = 0;
		return PR_OK;
	case 1:
		*given = 1;
		return msgno(s, argv[0], i, 0);
	default:
		return PR_ERR_SYNTAX;
	}
}

enum pop3_res
pop3_cmd_stat(struct pop3 *s, char *args, size_t len)
{
	(void)len;
	if (*args != '\0')
		return PR_ERR_SYNTAX;
	/* RFC 1939 5: marked messages are not counted. */
	pop3_reply_text(s, "%zu %llu", s->ix.n - s->ndel,
	    (unsigned long long)(s->ix.total - s->delsize));
	return PR_OK;
}

enum pop3_res
pop3_cmd_list(struct pop3 *s, char *args, size_t len)
{
	enum pop3_res r;
	size_t i;
	int given;

	(void)len;
	if ((r = one_arg(s, args, &i, &given)) != PR_OK)
		return r;
	if (given) {
		pop3_reply_text(s, "%zu %llu", i + 1,
		    (unsigned long long)s->ix.msg[i].size);
		return PR_OK;
	}
	pop3_reply_ok(s, "%zu messages (%llu octets)", s->ix.n - s->ndel,
	    (unsigned long long)(s->ix.total - s->delsize));
	for (i = 0; i < s->ix.n; i++)
		if (!s->del[i])
			io_printf(s->io, "%zu %llu\r\n", i + 1,
			    (unsigned long long)s->ix.msg[i].size);
	io_write(s->io, ".\r\n", 3);
	return PR_DONE;
}

enum pop3_res
pop3_cmd_uidl(struct pop3 *s, char *args, size_t len)
{
	char uidl[MBOX_UIDL_SIZE];
	enum pop3_res r;
	size_t i;
	int given;

	(void)len;
	if ((r = one_arg(s, args, &i, &given)) != PR_OK)
		return r;
	if (given) {
		mbox_uidl(&s->ix.msg[i], uidl);
		pop3_reply_text(s, "%zu %s", i + 1, uidl);
		return PR_OK;
	}
	pop3_reply_ok(s, "unique-id listing follows");
	for (i = 0; i < s->ix.n; i++)
		if (!s->del[i]) {
			mbox_uidl(&s->ix.msg[i], uidl);
			io_printf(s->io, "%zu %s\r\n", i + 1, uidl);
		}
	io_write(s->io, ".\r\n", 3);
	return PR_DONE;
}

/* Send message I, or its header and first LINES body lines (TOP), as CRLF
 * lines with '.'-stuffing (RFC 1939 3) and the final ".".  The reader has
 * already skipped the From_ line and undone the mboxrd quoting, so every line
 * goes out as read: output stays byte-exact against LIST's size. */
static enum pop3_res
send_msg(struct pop3 *s, size_t i, uint64_t lines)
{
	struct io *io = s->io;
	const char *p;
	size_t len;
	uint64_t n = 0;
	int r, more, bol = 1, body = 0;

	mbox_reader_open(&s->rd, s->box.fd, &s->ix.msg[i]);
	/* Read before the +OK, so that a failing disk gets a clean -ERR. */
	if ((r = mbox_reader_line(&s->rd, &p, &len, &more)) == -1) {
		log_warn("read user=%s message=%zu", s->quser, i + 1);
		return PR_ERR_IO;
	}
	if (lines == UINT64_MAX)
		pop3_reply_ok(s, "%llu octets",
		    (unsigned long long)s->ix.msg[i].size);
	else
		pop3_reply_ok(s, "top of message follows");
	for (; r == 1; r = mbox_reader_line(&s->rd, &p, &len, &more)) {
		if (bol && body && n++ == lines)
			break;
		if (bol && len > 0 && p[0] == '.')
			io_write(io, ".", 1);
		io_write(io, p, len);
		if (!more) {
			io_write(io, "\r\n", 2);
			/* The first empty line ends the header (RFC 5322 2.1). */
			if (bol && len == 0)
				body = 1;
		}
		bol = !more;
	}
	if (r == -1) {
		/* The +OK is out: cut the connection rather than let a
		 * truncated message look complete. */
		log_warn("read user=%s message=%zu", s->quser, i + 1);
		s->close = 1;
		s->end = "read-error";
		return PR_DONE;
	}
	io_write(io, ".\r\n", 3);
	if (lines == UINT64_MAX) {
		s->nretr++;
		s->retrbytes += s->ix.msg[i].size;
	}
	return PR_DONE;
}

enum pop3_res
pop3_cmd_retr(struct pop3 *s, char *args, size_t len)
{
	char *argv[1];
	enum pop3_res r;
	size_t i;

	(void)len;
	if (pop3_split(args, argv, 1) != 1)
		return PR_ERR_SYNTAX;
	if ((r = msgno(s, argv[0], &i, 0)) != PR_OK)
		return r;
	return send_msg(s, i, UINT64_MAX);
}

enum pop3_res
pop3_cmd_top(struct pop3 *s, char *args, size_t len)
{
	char *argv[2];
	enum pop3_res r;
	uint64_t lines;
	size_t i;

	(void)len;
	if (pop3_split(args, argv, 2) != 2)
		return PR_ERR_SYNTAX;
	if ((r = msgno(s, argv[0], &i, 0)) != PR_OK)
		return r;
	/* RFC 1939 7: a non-negative line count; more lines than the body
	 * has simply gives the whole message, however many digits the count
	 * has.  UINT64_MAX itself means RETR to send_msg. */
	if (num_parse_sat(argv[1], strlen(argv[1]), UINT64_MAX - 1, &lines)
	    == -1)
		return PR_ERR_SYNTAX;
	return send_msg(s, i, lines);
}

enum pop3_res
pop3_cmd_dele(struct pop3 *s, char *args, size_t len)
{
	char *argv[1];
	enum pop3_res r;
	size_t i;

	(void)len;
	if (pop3_split(args, argv, 1) != 1)
		return PR_ERR_SYNTAX;
	if ((r = msgno(s, argv[0], &i, 0)) != PR_OK)
		return r;
	s->del[i] = 1;
	s->ndel++;
	s->delsize += s->ix.msg[i].size;
	pop3_reply_text(s, "message %zu deleted", i + 1);
	return PR_OK;
}

enum pop3_res
pop3_cmd_noop(struct pop3 *s, char *args, size_t len)
{
	(void)len;
	(void)s;
	if (*args != '\0')
		return PR_ERR_SYNTAX;
	return PR_OK_NOOP;
}

enum pop3_res
pop3_cmd_rset(struct pop3 *s, char *args, size_t len)
{
	(void)len;
	if (*args != '\0')
		return PR_ERR_SYNTAX;
	memset(s->del, 0, s->ix.n);
	s->ndel = 0;
	s->delsize = 0;
	pop3_reply_text(s, "maildrop has %zu messages (%llu octets)", s->ix.n,
	    (unsigned long long)s->ix.total);
	return PR_OK;
}

enum pop3_res
pop3_cmd_quit(struct pop3 *s, char *args, size_t len)
{
	(void)len;
	(void)args;	/* RFC 1939 has no arguments; ignoring them is harmless */
	s->end = "quit";
	if (s->state != ST_TRANS)
		return PR_BYE_AUTH;
	pop3_set_state(s, ST_UPDATE);
	return pop3_drop_commit(s);
}

/* RFC 2449 5, 6: the same list in both states keeps clients simple, but
 * for STLS (RFC 2595 4: only before a login, while TLS can start) and the
 * login methods, which are left out where a cleartext login is refused. */
enum pop3_res
pop3_cmd_capa(struct pop3 *s, char *args, size_t len)
{
	int login = !pop3_cleartext_refused(s);

	(void)len;
	if (*args != '\0')
		return PR_ERR_SYNTAX;
	pop3_reply_ok(s, "capability list follows");
	io_printf(s->io, "TOP\r\nUIDL\r\n%sRESP-CODES\r\nAUTH-RESP-CODE\r\n"
	    "PIPELINING\r\n%s%sEXPIRE NEVER\r\nIMPLEMENTATION inetmail\r\n"
	    ".\r\n", login ? "USER\r\n" : "", login ? "SASL PLAIN\r\n" : "",
	    s->state != ST_TRANS && tls_can_start(&s->tls) ? "STLS\r\n" : "");
	return PR_DONE;
}
