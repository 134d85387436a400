/* Lowercase hex encoding, a lenient decoder and a canonical one. */
#ifndef HSMCA_BASE_HEX_H
#define HSMCA_BASE_HEX_H

#include <stddef.h>

#include "common/err.h"

void ca_hex(const unsigned char *in, size_t len, char *out); /* out: 2*len+1 */
/* Decode hex (case-insensitive, ':' separators allowed). */
int ca_unhex(const char *in, unsigned char *out, size_t max,
	     size_t *len) CA_WUR;

/* Canonical: exactly n (even) lowercase hex digits, no separators, into
 * n / 2 bytes; -1 otherwise, with no message (a table: a CRL decodes a
 * million serials). */
int ca_unhex_lower(const char *in, size_t n, unsigned char *out) CA_WUR;

#endif
