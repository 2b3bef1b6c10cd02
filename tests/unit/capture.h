/* capture.h: the session tests' output capture: a growing, NUL-terminated
 * buffer that io's write callback appends to. */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Append LEN bytes at BUF to *OUT (*USED bytes of *CAP), keeping a NUL after. */
static inline void
capture_append(char **out, size_t *used, size_t *cap, const void *buf,
    size_t len)
{
	if (*used + len + 1 > *cap) {
		*cap = (*used + len + 1) * 2;
		*out = realloc(*out, *cap);
		ck_assert_ptr_nonnull(*out);
	}
	memcpy(*out + *used, buf, len);
	*used += len;
	(*out)[*used] = '\0';
}

#endif
