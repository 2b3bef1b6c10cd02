/* num.c: the one strict decimal parser (no sign, no spaces, no junk, no
 * overflow), and sizes with a K, M or G suffix on top of it.  strtoul()
 * accepts "-1", " 7" and "12abc"; a protocol number must not. */
#include <stddef.h>
#include <stdint.h>

#include "num.h"

/* Read LEN decimal digits at S into *V, stopping the value at MAX: *OVER
 * says it went past (however many digits, 2^64 included).  Every byte is
 * checked even then: "999...9x" is junk, not "a big number".  Returns 0, or
 * -1 for an empty string or a non-digit. */
static int
digits(const char *s, size_t len, uint64_t max, uint64_t *v, int *over)
{
	unsigned d;
	size_t i;

	*v = 0;
	*over = 0;
	if (s == NULL || len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		/* v * 10 + d > max, asked without overflowing. */
		if (*over || d > max || *v > (max - d) / 10)
			*over = 1;
		else
			*v = *v * 10 + d;
	}
	return 0;
}

int
num_parse(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int over;

	if (digits(s, len, max, &v, &over) == -1 || over || v < min)
		return -1;
	*out = v;
	return 0;
}

int
num_parse_sat(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int over;

	if (digits(s, len, max, &v, &over) == -1)
		return -1;
	*out = over ? max : v;
	return 0;
}

int
num_parse_size(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v, unit = 1;
	int over;

	if (s != NULL && len > 1) {
		switch (s[len - 1]) {
		case 'k':
		case 'K':
			unit = 1024;
			break;
		case 'm':
		case 'M':
			unit = 1024 * 1024;
			break;
		case 'g':
		case 'G':
			unit = 1024 * 1024 * 1024;
			break;
		default:
			break;
		}
	}
	if (unit > 1)
		len--;
	/* The digits may not pass MAX / UNIT: the product then cannot pass
	 * MAX, nor wrap past 2^64. */
	if (digits(s, len, max / unit, &v, &over) == -1 || over ||
	    v * unit < min)
		return -1;
	*out = v * unit;
	return 0;
}
