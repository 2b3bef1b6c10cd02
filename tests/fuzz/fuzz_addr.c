/* fuzz_addr.c: libFuzzer harness for smtpd's command line splitter, path
 * parser (RFC 5321 4.1.2) and MAIL parameters.  The input is taken three
 * ways: as a whole command line, as a path "<...>" with parameters after
 * it, and as a mailbox name.
 * Oracles besides ASan/UBSan, for a parsed path:
 *  - it ended at a '>' inside the input;
 *  - local part, domain and text are within the RFC 5321 limits and
 *    NUL-terminated, and <> has neither local part nor domain;
 *  - 8-bit bytes in local part or domain are flagged utf8. */
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init("addr-fuzz");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const struct smtp_cmd *c;
	char *line, *arg;
	struct mail_params mp;
	struct addr a;
	size_t end = 0, arglen, i;
	int r, high = 0;

	/* As the session's line buffer: writable, with room for the NUL
	 * the splitter puts after the line. */
	if ((line = malloc(size + 1)) == NULL)
		fuzz_fail("out of memory");
	memcpy(line, data, size);
	c = smtp_cmd_find(line, size, &arg, &arglen);
	if (c != NULL && arglen > 0 && (arg < line || arg + arglen > line + size))
		fuzz_fail("command argument outside the line");
	free(line);

	memset(&a, 0x5a, sizeof(a));
	r = smtp_addr_parse(s, size, &a, &end);
	if (r != ADDR_OK && r != ADDR_ESYNTAX && r != ADDR_ELONG)
		fuzz_fail("smtp_addr_parse returned %d", r);
	if (r == ADDR_OK) {
		if (end == 0 || end > size || s[end - 1] != '>')
			fuzz_fail("path ends at %zu of %zu", end, size);
		if (a.locallen > ADDR_LOCAL_MAX ||
		    strnlen(a.domain, sizeof(a.domain)) > ADDR_DOMAIN_MAX ||
		    strnlen(a.text, sizeof(a.text)) > ADDR_PATH_MAX ||
		    a.local[a.locallen] != '\0')
			fuzz_fail("path parts over their limits");
		if (a.null && (a.locallen != 0 || a.domain[0] != '\0'))
			fuzz_fail("<> with a local part or domain");
		/* The source route is dropped, 8-bit or not. */
		for (i = 0; a.text[i] != '\0'; i++)
			high |= (unsigned char)a.text[i] >= 0x80;
		if (high && !a.utf8 && !a.null)
			fuzz_fail("8-bit path not flagged utf8");
		memset(&mp, 0, sizeof(mp));
		r = smtp_params_parse(s + end, size - end, &mp);
		if (r != R_NONE && r != R_PARAM_SYNTAX && r != R_PARAM_UNKNOWN)
			fuzz_fail("smtp_params_parse returned %d", r);
		(void)smtp_params_parse(s + end, size - end, NULL);
		(void)smtp_rcpt_name_ok(a.local, a.locallen);
	}
	(void)smtp_rcpt_name_ok(s, size);
	return 0;
}
