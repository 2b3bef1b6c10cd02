/* num.c: the one strict decimal parser (no sign, no spaces, no junk, no overflow).
 * strtoul() accepts "-1", " 7" and "12abc"; a protocol number must not. */
#include <stddef.h>
#include <stdint.h>

#include "num.h"

int
num_parse(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;
	size_t i;

	if (s == NULL || len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		/* Checked before the multiply: v * 10 + d must not wrap. */
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
num_parse_sat(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;
	size_t i;
	int over = 0;

	if (s == NULL || len == 0)
		return -1;
	/* Every byte is checked even once the value is past MAX: "9x" with
	 * many nines is still junk, not "as many as possible". */
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		/* v * 10 + d > max, asked without overflowing. */
		if (over || d > max || v > (max - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	*out = over ? max : v;
	return 0;
}
