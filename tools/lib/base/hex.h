/* Lowercase hex encoding and a lenient decoder. */
#ifndef HSMCA_BASE_HEX_H
#define HSMCA_BASE_HEX_H

#include <stddef.h>

#include "common/err.h"

void ca_hex(const unsigned char *in, size_t len, char *out); /* out: 2*len+1 */
/* Decode hex (case-insensitive, ':' separators allowed). */
int ca_unhex(const char *in, unsigned char *out, size_t max,
	     size_t *len) CA_WUR;

#endif
