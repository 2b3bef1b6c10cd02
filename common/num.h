/* num.h: the one strict number parser: digits only, no sign, no junk, no overflow. */
#ifndef INETMAIL_NUM_H
#define INETMAIL_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parse the LEN bytes at S as a decimal in [MIN, MAX] into *OUT.
 * Returns 0, or -1 for an empty string, any non-digit, or a value out of range. */
int num_parse(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* The same digits-only parse, but a value above MAX (however many digits,
 * past 2^64 too) gives MAX: for counts where "more than there is" means "all"
 * (RFC 1939 TOP's line count).  Returns 0, or -1 for an empty string or any
 * non-digit. */
int num_parse_sat(const char *s, size_t len, uint64_t max, uint64_t *out);

/* A size as an admin writes it on a command line: decimal digits and at
 * most one suffix, K, M or G in either case, for 1024, 1024^2 and 1024^3
 * (as Dovecot reads "10M": 10485760).  Nothing else may follow: no "B",
 * no space, no fraction.  Returns 0 with the bytes in [MIN, MAX] in *OUT,
 * or -1 for junk, a product past 2^64, or a value out of range. */
int num_parse_size(const char *s, size_t len, uint64_t min, uint64_t max,
    uint64_t *out);

#endif
