/* test_smtp_parse.c: smtpd's pure parsers: paths (RFC 5321 4.1.2), ESMTP
 * parameters, the command table, recipient names, the aliases file and the
 * reply table's status codes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"
#include "check_main.h"

static int
parse(const char *s, struct addr *a, size_t *end)
{
	return smtp_addr_parse(s, strlen(s), a, end);
}

START_TEST(addr_plain)
{
	struct addr a;
	size_t end;

	ck_assert_int_eq(parse("<alice@Example.ORG> SIZE=1", &a, &end), ADDR_OK);
	ck_assert_str_eq(a.local, "alice");
	ck_assert_uint_eq(a.locallen, 5);
	ck_assert_str_eq(a.domain, "Example.ORG");
	ck_assert_str_eq(a.text, "alice@Example.ORG");
	ck_assert_uint_eq(end, 19);
	ck_assert_int_eq(a.null, 0);
	ck_assert_int_eq(a.utf8, 0);
}
END_TEST

START_TEST(addr_null_and_bare)
{
	struct addr a;
	size_t end;

	ck_assert_int_eq(parse("<>", &a, &end), ADDR_OK);
	ck_assert_int_eq(a.null, 1);
	ck_assert_uint_eq(end, 2);
	/* RCPT TO:<postmaster>: no domain; the caller decides. */
	ck_assert_int_eq(parse("<Postmaster>", &a, &end), ADDR_OK);
	ck_assert_str_eq(a.local, "Postmaster");
	ck_assert_str_eq(a.domain, "");
}
END_TEST

START_TEST(addr_route)
{
	struct addr a;
	size_t end;

	ck_assert_int_eq(parse("<@a.example,@b.example:u@d.example>", &a, &end),
	    ADDR_OK);
	ck_assert_str_eq(a.text, "u@d.example");
	ck_assert_str_eq(a.domain, "d.example");
	ck_assert_uint_eq(end, 35);
	ck_assert_int_eq(parse("<@a.example:u@d.example>", &a, &end), ADDR_OK);
	ck_assert_int_eq(parse("<@a.example,u@d.example>", &a, &end),
	    ADDR_ESYNTAX);
	ck_assert_int_eq(parse("<@:u@d.example>", &a, &end), ADDR_ESYNTAX);
	ck_assert_int_eq(parse("<@a.example:>", &a, &end), ADDR_ESYNTAX);
}
END_TEST

START_TEST(addr_quoted)
{
	struct addr a;
	size_t end;

	ck_assert_int_eq(parse("<\"john \\\"q\\\" doe\"@x.example>", &a, &end),
	    ADDR_OK);
	ck_assert_str_eq(a.local, "john \"q\" doe");
	ck_assert_str_eq(a.text, "\"john \\\"q\\\" doe\"@x.example");
	/* Controls inside quotes parse; the name check refuses them. */
	ck_assert_int_eq(parse("<\"a\x01" "b\"@x.example>", &a, &end), ADDR_OK);
	ck_assert_uint_eq(a.locallen, 3);
	ck_assert_int_eq(parse("<\"open@x.example>", &a, &end), ADDR_ESYNTAX);
	ck_assert_int_eq(parse("<\"a\\", &a, &end), ADDR_ESYNTAX);
	ck_assert_int_eq(parse("<\"\"@x.example>", &a, &end), ADDR_ESYNTAX);
}
END_TEST

START_TEST(addr_literal)
{
	struct addr a;
	size_t end;

	ck_assert_int_eq(parse("<u@[192.0.2.1]>", &a, &end), ADDR_OK);
	ck_assert_str_eq(a.domain, "[192.0.2.1]");
	ck_assert_int_eq(parse("<u@[IPv6:2001:db8::1]>", &a, &end), ADDR_OK);
	ck_assert_int_eq(parse("<u@[]>", &a, &end), ADDR_ESYNTAX);
	ck_assert_int_eq(parse("<u@[1.2.3.4>", &a, &end), ADDR_ESYNTAX);
	ck_assert_int_eq(parse("<u@[a b]>", &a, &end), ADDR_ESYNTAX);
	ck_assert_int_eq(parse("<u@[a\\]>", &a, &end), ADDR_ESYNTAX);
}
END_TEST

static const char *const bad[] = {
	"", "<", "a@b.example", "<a@b.example", "<a@>", "<@>", "<@", "<a@b..c>",
	"<a@-b.example>", "<a@b-.example>", "<a@.b>", "<a@b.>", "<a b@c>",
	"<a@b@c>", "<a@b_c.example>", "<a(b)@c>", "<a,b@c>", "<a@b.example",
	"< a@b.example>", "<a@b.example >", "<a:b@c>", "<<a@b>>", "<a\x01@b>",
};

START_TEST(addr_bad)
{
	struct addr a;
	size_t end;

	ck_assert_int_eq(parse(bad[_i], &a, &end), ADDR_ESYNTAX);
}
END_TEST

START_TEST(addr_limits)
{
	char buf[600], as[80];
	struct addr a;
	size_t end;

	/* RFC 5321 4.5.3.1.1: 64 octets of local part. */
	memset(as, 'a', sizeof(as) - 1);
	as[sizeof(as) - 1] = '\0';
	snprintf(buf, sizeof(buf), "<%.64s@x.example>", as);
	ck_assert_int_eq(parse(buf, &a, &end), ADDR_OK);
	ck_assert_uint_eq(a.locallen, 64);
	snprintf(buf, sizeof(buf), "<%.65s@x.example>", as);
	ck_assert_int_eq(parse(buf, &a, &end), ADDR_ELONG);
	/* A quoted local part counts after unquoting, still <= 64. */
	memset(buf, 0, sizeof(buf));
	buf[0] = '<';
	buf[1] = '"';
	memset(buf + 2, 'q', 65);
	strcat(buf, "\"@x.example>");
	ck_assert_int_eq(parse(buf, &a, &end), ADDR_ELONG);
	/* 4.5.3.1.2: a domain of 256 octets is too long. */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "<a@");
	memset(buf + 3, 'd', 63);
	buf[66] = '.';
	memset(buf + 67, 'd', 63);
	buf[130] = '.';
	memset(buf + 131, 'd', 63);
	buf[194] = '.';
	memset(buf + 195, 'd', 64);
	strcat(buf, ">");
	ck_assert_int_eq(parse(buf, &a, &end), ADDR_ELONG);
	/* 4.5.3.1.3: 257 octets of path with every part in range. */
	memset(buf, 0, sizeof(buf));
	buf[0] = '<';
	memset(buf + 1, 'l', 64);
	buf[65] = '@';
	memset(buf + 66, 'd', 63);
	buf[129] = '.';
	memset(buf + 130, 'd', 63);
	buf[193] = '.';
	memset(buf + 194, 'd', 62);
	strcat(buf, ">");
	ck_assert_uint_eq(strlen(buf), 257);
	ck_assert_int_eq(parse(buf, &a, &end), ADDR_ELONG);
	buf[255] = '>';
	buf[256] = '\0';
	ck_assert_int_eq(parse(buf, &a, &end), ADDR_OK);
}
END_TEST

START_TEST(addr_utf8)
{
	struct addr a;
	size_t end;

	ck_assert_int_eq(parse("<j\xc3\xb6rg@x.example>", &a, &end), ADDR_OK);
	ck_assert_int_eq(a.utf8, 1);
	ck_assert_int_eq(parse("<a@b\xc3\xbc" "cher.example>", &a, &end), ADDR_OK);
	ck_assert_int_eq(a.utf8, 1);
	ck_assert_int_eq(parse("<a@x.example>", &a, &end), ADDR_OK);
	ck_assert_int_eq(a.utf8, 0);
}
END_TEST

static enum reply
params(const char *s, struct mail_params *mp)
{
	return smtp_params_parse(s, strlen(s), mp);
}

START_TEST(params_mail)
{
	struct mail_params mp;

	ck_assert_int_eq(params("", &mp), R_NONE);
	ck_assert_int_eq(mp.has_size, 0);
	ck_assert_int_eq(params(" SIZE=100", &mp), R_NONE);
	ck_assert_int_eq(mp.has_size, 1);
	ck_assert_uint_eq(mp.size, 100);
	ck_assert_int_eq(params(" size=0", &mp), R_NONE);
	ck_assert_uint_eq(mp.size, 0);
	ck_assert_int_eq(params(" SIZE=999999999999999999999999", &mp), R_NONE);
	ck_assert_uint_eq(mp.size, UINT64_MAX);
	ck_assert_int_eq(params(" BODY=8BITMIME", &mp), R_NONE);
	ck_assert_int_eq(mp.body8, 1);
	ck_assert_int_eq(params(" body=7bit", &mp), R_NONE);
	ck_assert_int_eq(mp.body8, 0);
	ck_assert_int_eq(params(" SMTPUTF8", &mp), R_NONE);
	ck_assert_int_eq(mp.utf8, 1);
	ck_assert_int_eq(params("  SIZE=1   BODY=7BIT SMTPUTF8", &mp), R_NONE);
	ck_assert_int_eq(mp.utf8, 1);
	ck_assert_uint_eq(mp.size, 1);
}
END_TEST

START_TEST(params_bad)
{
	struct mail_params mp;

	ck_assert_int_eq(params("x", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" =x", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" SIZE", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" SIZE=", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" SIZE=1x", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" SIZE=-1", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" SIZE=+1", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" SIZE=1 SIZE=1", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" BODY=BINARYMIME", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" BODY", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" SMTPUTF8=1", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" -X=1", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" X=a=b", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" X=\x7f", &mp), R_PARAM_SYNTAX);
	ck_assert_int_eq(params(" FOO", &mp), R_PARAM_UNKNOWN);
	ck_assert_int_eq(params(" AUTH=<>", &mp), R_PARAM_UNKNOWN);
	ck_assert_int_eq(params(" SIZE=1 RET=HDRS", &mp), R_PARAM_UNKNOWN);
}
END_TEST

START_TEST(params_rcpt)
{
	ck_assert_int_eq(params("", NULL), R_NONE);
	ck_assert_int_eq(params(" NOTIFY=NEVER", NULL), R_PARAM_UNKNOWN);
	ck_assert_int_eq(params(" SIZE=1", NULL), R_PARAM_UNKNOWN);
	ck_assert_int_eq(params(" =", NULL), R_PARAM_SYNTAX);
	ck_assert_int_eq(params("junk", NULL), R_PARAM_SYNTAX);
}
END_TEST

/* The dispatcher writes into the line (a NUL after it and its argument):
 * a copy of S. */
static const struct smtp_cmd *
find(const char *s, char **arg, size_t *arglen)
{
	static char line[SMTP_LINE_MAX + 1];

	snprintf(line, sizeof(line), "%s", s);
	return smtp_cmd_find(line, strlen(line), arg, arglen);
}

START_TEST(cmd_verbs)
{
	static const char *const verbs[] = { "HELO", "EHLO", "MAIL", "RCPT",
	    "DATA", "RSET", "NOOP", "QUIT", "HELP", "VRFY", "EXPN" };
	const struct smtp_cmd *c;
	char *arg;
	size_t arglen, i;
	char low[8];

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		c = find(verbs[i], &arg, &arglen);
		ck_assert_ptr_nonnull(c);
		ck_assert_str_eq(c->verb, verbs[i]);
		ck_assert_uint_eq(arglen, 0);
		/* RFC 5321 2.4: verbs are case-insensitive. */
		snprintf(low, sizeof(low), "%s", verbs[i]);
		low[0] = (char)(low[0] - 'A' + 'a');
		low[2] = (char)(low[2] - 'A' + 'a');
		ck_assert_ptr_eq(find(low, &arg, &arglen), c);
	}
}
END_TEST

START_TEST(cmd_args)
{
	const struct smtp_cmd *c;
	char *arg;
	size_t arglen;

	c = find("MAIL FROM:<a@b> SIZE=1", &arg, &arglen);
	ck_assert_str_eq(c->verb, "MAIL");
	ck_assert_uint_eq(arglen, 17);
	ck_assert(memcmp(arg, "FROM:<a@b> SIZE=1", 17) == 0);
	c = find("QUIT   ", &arg, &arglen);
	ck_assert_str_eq(c->verb, "QUIT");
	ck_assert_uint_eq(arglen, 0);
	c = find("DATA x  ", &arg, &arglen);
	ck_assert_uint_eq(arglen, 1);
	ck_assert_ptr_null(find("NOOPX", &arg, &arglen));
	ck_assert_ptr_null(find("", &arg, &arglen));
	ck_assert_ptr_null(find(" NOOP", &arg, &arglen));
	ck_assert_ptr_null(find("NOO", &arg, &arglen));
	ck_assert_ptr_null(find("MAIL\tFROM:<a@b>", &arg, &arglen));
}
END_TEST

START_TEST(cmd_states)
{
	char *arg;
	size_t arglen;
	const struct smtp_cmd *c;

	/* The transaction order of RFC 5321 4.1.4, as data. */
	c = find("MAIL", &arg, &arglen);
	ck_assert_uint_eq(c->states, 1u << ST_READY);
	c = find("RCPT", &arg, &arglen);
	ck_assert_uint_eq(c->states, (1u << ST_MAIL) | (1u << ST_RCPT));
	c = find("DATA", &arg, &arglen);
	ck_assert_uint_eq(c->states, 1u << ST_RCPT);
	c = find("NOOP", &arg, &arglen);
	ck_assert(c->states & (1u << ST_GREET));
}
END_TEST

START_TEST(names)
{
	ck_assert_int_eq(smtp_rcpt_name_ok("alice", 5), 1);
	ck_assert_int_eq(smtp_rcpt_name_ok("a.b-c_d", 7), 1);
	ck_assert_int_eq(smtp_rcpt_name_ok("a/b", 3), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("..", 2), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("a..b", 4), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok(".a", 2), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("", 0), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("a\x01", 2), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("a\0b", 3), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("a b", 3), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("a\x7f", 2), 0);
	ck_assert_int_eq(smtp_rcpt_name_ok("alice.lock", 10), 0);
}
END_TEST

START_TEST(domains)
{
	struct smtpd_conf c;

	memset(&c, 0, sizeof(c));
	snprintf(c.o.host, sizeof(c.o.host), "mail.example.org");
	ck_assert_int_eq(smtp_rcpt_domain_ok(&c, "MAIL.example.org"), 1);
	ck_assert_int_eq(smtp_rcpt_domain_ok(&c, "example.org"), 0);
	c.domain[0] = "example.org";
	c.domain[1] = "example.net";
	c.ndomain = 2;
	ck_assert_int_eq(smtp_rcpt_domain_ok(&c, "EXAMPLE.NET"), 1);
	ck_assert_int_eq(smtp_rcpt_domain_ok(&c, "mail.example.org"), 0);
	ck_assert_int_eq(smtp_rcpt_domain_ok(&c, "example.org.evil"), 0);
}
END_TEST

static char tmpl[64];
static struct smtpd_conf aconf;
static struct aliases al;

/* Problems reported while loading, for the tests to look at. */
static char reported[4096];
static int errors, warnings;

static void
note(void *ctx, unsigned long line, int error, const char *msg)
{
	size_t n = strlen(reported);

	(void)ctx;
	snprintf(reported + n, sizeof(reported) - n, "%lu:%s:%s\n", line,
	    error ? "E" : "W", msg);
	if (error)
		errors++;
	else
		warnings++;
}

static int
load(const char *text)
{
	FILE *f;
	int rc;

	reported[0] = '\0';
	errors = warnings = 0;
	smtp_aliases_free(&al);
	memset(&aconf, 0, sizeof(aconf));
	snprintf(aconf.o.host, sizeof(aconf.o.host), "mail.example.org");
	aconf.domain[0] = "example.org";
	aconf.ndomain = 1;
	strcpy(tmpl, "/tmp/smtp-aliases.XXXXXX");
	rc = mkstemp(tmpl);
	ck_assert_int_ge(rc, 0);
	f = fdopen(rc, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	rc = smtp_aliases_load(&aconf, tmpl, &al, note, NULL);
	unlink(tmpl);
	return rc;
}

/* Target I of alias NAME, or NULL. */
static const struct alias_target *
target(const char *name, size_t i)
{
	const struct alias *a = smtp_aliases_find(&al, name, strlen(name));

	if (a == NULL || i >= a->count)
		return NULL;
	return &al.t[a->first + i];
}

START_TEST(aliases_good)
{
	const struct alias *a;

	/* /etc/aliases syntax: comments, continuation lines, quotes, \user,
	 * user@one-of-ours, CRLF. */
	ck_assert_int_eq(load("# comment\n\n  \nteam: alice,\n  Bob\n"
	    "\t, carol\n\"abuse\" :\"dave\",\\root  \r\nlast:eve@example.org\n"
	    "# tail\n"), 0);
	ck_assert_int_eq(errors, 0);
	a = smtp_aliases_find(&al, "TEAM", 4);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->count, 3);
	ck_assert_str_eq(target("team", 0)->name, "alice");
	ck_assert_str_eq(target("team", 1)->name, "Bob");
	ck_assert_str_eq(target("team", 2)->name, "carol");
	ck_assert_uint_eq(a->line, 4);
	ck_assert_str_eq(target("abuse", 0)->name, "dave");
	ck_assert_str_eq(target("abuse", 1)->name, "root");
	ck_assert_int_eq(target("abuse", 1)->noalias, 1);
	ck_assert_int_eq(target("last", 0)->kind, AT_LOCAL);
	ck_assert_str_eq(target("last", 0)->name, "eve");
	ck_assert_ptr_null(smtp_aliases_find(&al, "tea", 3));
	ck_assert_ptr_null(smtp_aliases_find(&al, "comment", 7));
	ck_assert_int_eq(load(""), 0);
	ck_assert_uint_eq(al.na, 0);
	smtp_aliases_free(&al);
}
END_TEST

/* Targets smtpd does not deliver to are kept and marked, never a mailbox
 * or a file; a duplicate is remembered.  Neither is a problem of the
 * file: they are told when mail goes through them (resolve_events). */
START_TEST(aliases_unsupported)
{
	ck_assert_int_eq(load("a: |/usr/bin/procmail, \"|cat > /tmp/x\"\n"
	    "b: /var/log/mail, :include:/etc/list\nc: x@remote.example, alice\n"
	    "A: bob\n# again\nc: carol\n"), 0);
	ck_assert_int_eq(errors, 0);
	ck_assert_int_eq(warnings, 0);
	ck_assert_int_eq(target("a", 0)->kind, AT_PIPE);
	ck_assert_int_eq(target("a", 1)->kind, AT_PIPE);
	ck_assert_int_eq(target("b", 0)->kind, AT_FILE);
	ck_assert_int_eq(target("b", 1)->kind, AT_INCLUDE);
	ck_assert_int_eq(target("c", 0)->kind, AT_REMOTE);
	ck_assert_str_eq(target("c", 0)->name, "x@remote.example");
	ck_assert_int_eq(target("c", 1)->kind, AT_LOCAL);
	ck_assert_uint_eq(smtp_aliases_find(&al, "a", 1)->dupline, 4);
	ck_assert_uint_eq(smtp_aliases_find(&al, "c", 1)->dupline, 6);
	ck_assert_uint_eq(smtp_aliases_find(&al, "b", 1)->dupline, 0);
	ck_assert_uint_eq(al.na, 3);
	smtp_aliases_free(&al);
}
END_TEST

/* What a resolution meets, told as it is met: the same events feed the
 * log (once a connection) and smtpd -T. */
static char events[1024];

static void
on_event(void *ctx, enum rcpt_event ev, const struct alias *a,
    const struct alias_target *x)
{
	static const char *const name[] = { "unsupported", "dead", "system",
	    "empty", "fanout", "duplicate", "postmaster" };
	size_t n = strlen(events);

	(void)ctx;
	snprintf(events + n, sizeof(events) - n, "%s:%s:%s ", name[ev],
	    a != NULL ? a->name : "-", x != NULL ? x->name : "-");
}

static enum reply
resolve_name(const char *name, struct rcpt_table *t)
{
	struct rcpt_notes notes = { on_event, NULL };
	char boxes[SMTPD_LOG_BOXES_MAX + 1];
	size_t blen;

	events[0] = '\0';
	t->n = 0;
	return smtp_rcpt_resolve(&aconf, t, &notes, name, strlen(name), name,
	    boxes, sizeof(boxes) - 1, &blen);
}

START_TEST(resolve_events)
{
	char users[64];
	struct rcpt r[8];
	struct rcpt_table t = { r, 0, 8 };
	struct rcpt_seen seen;
	FILE *f;
	int fd;

	ck_assert_int_eq(load("c: x@remote.example, alice\n"
	    "a: |cmd, ghost\nnest: a, alice\nc: bob\n"), 0);
	strcpy(users, "/tmp/smtp-users.XXXXXX");
	fd = mkstemp(users);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("alice:{PLAIN}a:61001:61001\n", f);
	ck_assert_int_eq(fclose(f), 0);
	aconf.aliases = al;	/* the resolver's table (a copy: freed as al) */
	aconf.o.users = users;
	aconf.o.firstuid = 1000;
	aconf.o.lastuid = 60000;
	aconf.o.spool = "/nonexistent";

	ck_assert_msg(resolve_name("c", &t) == R_RCPT_OK, "%s", events);
	ck_assert_str_eq(events, "duplicate:c:- unsupported:c:x@remote.example ");
	ck_assert_uint_eq(t.n, 1);
	ck_assert_str_eq(r[0].box, "alice");
	ck_assert_int_eq(resolve_name("a", &t), R_NO_USER);
	ck_assert_str_eq(events, "unsupported:a:|cmd dead:a:ghost empty:a:- ");
	ck_assert_uint_eq(t.n, 0);
	/* Nested: a delivers to no one, nest still does. */
	ck_assert_int_eq(resolve_name("nest", &t), R_RCPT_OK);
	ck_assert_str_eq(events, "unsupported:a:|cmd dead:a:ghost empty:a:- ");
	/* RFC 5321 4.5.1: postmaster without alias or user is accepted,
	 * into the mailbox "postmaster", and said. */
	ck_assert_int_eq(resolve_name("postmaster", &t), R_RCPT_OK);
	ck_assert_str_eq(events, "postmaster:-:- ");
	ck_assert_str_eq(r[0].box, "postmaster");
	ck_assert_int_eq(resolve_name("ghost", &t), R_NO_USER);
	ck_assert_str_eq(events, "");

	/* Told once: each event of each target, alias and postmaster. */
	ck_assert_int_eq(smtp_rcpt_seen_init(&seen, &al), 0);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_DEAD, &al.a[1],
	    &al.t[3]), 1);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_DEAD, &al.a[1],
	    &al.t[3]), 0);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_UNSUPPORTED,
	    &al.a[1], &al.t[2]), 1);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_EMPTY, &al.a[1],
	    NULL), 1);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_EMPTY, &al.a[1],
	    NULL), 0);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_DUPLICATE,
	    &al.a[1], NULL), 1);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_POSTMASTER, NULL,
	    NULL), 1);
	ck_assert_int_eq(smtp_rcpt_seen_first(&seen, RCPT_EV_POSTMASTER, NULL,
	    NULL), 0);
	smtp_rcpt_seen_free(&seen);
	unlink(users);
	aconf.o.users = NULL;
	memset(&aconf.aliases, 0, sizeof(aconf.aliases));
	smtp_aliases_free(&al);
}
END_TEST

static const char *const bad_aliases[] = {
	"team alice\n", "team:\n", "team: ,\n", ": alice\n", "a/b: alice\n",
	"team: ../x\n", "team: a..b\n", ".team: alice\n",
	"team: alice\nbroken\n", "te am: alice\n", "  alice\n",
};

START_TEST(aliases_bad)
{
	ck_assert_int_eq(load(bad_aliases[_i]), -2);
	ck_assert_int_ge(errors, 1);
	smtp_aliases_free(&al);
}
END_TEST

START_TEST(aliases_io)
{
	char line[USERS_LINE_MAX + 16];

	ck_assert_int_eq(smtp_aliases_load(&aconf, "/nonexistent/aliases", &al,
	    note, NULL), -1);
	/* A line longer than the users-file limit is malformed. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "x: ", 3);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	ck_assert_int_eq(load(line), -2);
	smtp_aliases_free(&al);
}
END_TEST

START_TEST(replies)
{
	const char *t;
	int r;

	for (r = R_NONE + 1; r < R__COUNT; r++) {
		t = smtp_reply_text((enum reply)r);
		ck_assert_msg(t != NULL, "reply %d has no text", r);
		ck_assert_uint_lt(strlen(t), 510);
		ck_assert(t[0] >= '2' && t[0] <= '5');
		ck_assert(t[1] >= '0' && t[1] <= '5');
		ck_assert(t[2] >= '0' && t[2] <= '9');
		ck_assert(t[3] == ' ' || t[3] == '-');
		/* RFC 2034: every 2xx/4xx/5xx reply but the greeting and
		 * HELO/EHLO carries "class.subject.detail", class = t[0]. */
		if (r == R_GREET || r == R_HELO || r == R_EHLO ||
		    r == R_EHLO_TLS || t[0] == '3')
			continue;
		ck_assert_msg(t[4] == t[0] && t[5] == '.' && t[6] >= '0' &&
		    t[6] <= '9' && t[7] == '.' && t[8] >= '0' && t[8] <= '9',
		    "reply %d lacks an enhanced code: %s", r, t);
	}
	ck_assert_ptr_null(smtp_reply_text(R_NONE));
	ck_assert_ptr_null(smtp_reply_text(R__COUNT));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("smtp_parse");
	TCase *tc;

	log_init("smtpd-test", LOG_SYSLOG);
	tc = tcase_create("addr");
	tcase_add_test(tc, addr_plain);
	tcase_add_test(tc, addr_null_and_bare);
	tcase_add_test(tc, addr_route);
	tcase_add_test(tc, addr_quoted);
	tcase_add_test(tc, addr_literal);
	tcase_add_loop_test(tc, addr_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, addr_limits);
	tcase_add_test(tc, addr_utf8);
	suite_add_tcase(s, tc);
	tc = tcase_create("params");
	tcase_add_test(tc, params_mail);
	tcase_add_test(tc, params_bad);
	tcase_add_test(tc, params_rcpt);
	suite_add_tcase(s, tc);
	tc = tcase_create("cmd");
	tcase_add_test(tc, cmd_verbs);
	tcase_add_test(tc, cmd_args);
	tcase_add_test(tc, cmd_states);
	suite_add_tcase(s, tc);
	tc = tcase_create("rcpt");
	tcase_add_test(tc, names);
	tcase_add_test(tc, domains);
	suite_add_tcase(s, tc);
	tc = tcase_create("aliases");
	tcase_add_test(tc, aliases_good);
	tcase_add_test(tc, aliases_unsupported);
	tcase_add_test(tc, resolve_events);
	tcase_add_loop_test(tc, aliases_bad, 0,
	    sizeof(bad_aliases) / sizeof(bad_aliases[0]));
	tcase_add_test(tc, aliases_io);
	suite_add_tcase(s, tc);
	tc = tcase_create("reply");
	tcase_add_test(tc, replies);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
