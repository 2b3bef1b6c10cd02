/* fuzz_aliases.c: libFuzzer harness for smtpd's aliases file (-a), in
 * /etc/aliases syntax: each input is a whole file, parsed as start-up and
 * -T parse it, then looked up.
 * Oracles besides ASan/UBSan:
 *  - a file with a NUL byte is refused;
 *  - every problem is reported with a line number within the file;
 *  - every alias has targets, and every one of them is inside the target
 *    table; a local target is a name smtpd could deliver to
 *    (smtp_rcpt_name_ok), at most USER_MAX bytes;
 *  - every alias is found again by its own name, in any case. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"
#include "fuzz.h"

static char path[PATH_MAX];
static struct smtpd_conf conf;
static unsigned long lines;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init("aliases-fuzz");
	snprintf(path, sizeof(path), "%s/aliases", fuzz_scratch("aliases"));
	snprintf(conf.o.host, sizeof(conf.o.host), "mail.example.org");
	conf.domain[0] = "example.org";
	conf.ndomain = 1;
	return 0;
}

static void
problem(void *ctx, unsigned long line, int error, const char *msg)
{
	(void)ctx;
	(void)error;
	if (line > lines + 1)
		fuzz_fail("problem on line %lu of %lu: %s", line, lines, msg);
	if (msg == NULL || msg[0] == '\0')
		fuzz_fail("a problem without words");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aliases al;
	const struct alias *a;
	const struct alias_target *t;
	char up[USER_MAX + 1];
	size_t i, j, k;
	int r;

	lines = 0;
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	fuzz_put(path, data, size, 0600);
	r = smtp_aliases_load(&conf, path, &al, problem, NULL);
	if (r == -1)
		fuzz_fail("aliases file unreadable");
	if (r == 0 && memchr(data, '\0', size) != NULL)
		fuzz_fail("aliases file with a NUL byte loaded");
	for (i = 0; i < al.na; i++) {
		a = &al.a[i];
		if (a->first > al.nt || a->count > al.nt - a->first)
			fuzz_fail("alias %s: targets outside the table", a->name);
		for (j = 0; j < a->count; j++) {
			t = &al.t[a->first + j];
			if (strlen(t->name) > USER_MAX)
				fuzz_fail("target name too long");
			if (t->kind == AT_LOCAL &&
			    !smtp_rcpt_name_ok(t->name, strlen(t->name)))
				fuzz_fail("local target %s not deliverable", t->name);
		}
		for (k = 0; a->name[k] != '\0'; k++)
			up[k] = a->name[k] >= 'a' && a->name[k] <= 'z' ?
			    (char)(a->name[k] - 32) : a->name[k];
		up[k] = '\0';
		if (smtp_aliases_find(&al, up, k) == NULL)
			fuzz_fail("alias %s not found by its name", a->name);
	}
	smtp_aliases_free(&al);
	return 0;
}
