/* Base64 (RFC 4648 section 4). */
#ifndef HSMCA_BASE_BASE64_H
#define HSMCA_BASE_BASE64_H

#include <stddef.h>

#include "common/err.h"

/* Strict: padded, no whitespace, unused bits zero, so one value has
 * exactly one encoding. *out is malloc'd. Not such base64 (or no memory):
 * CA_EUSAGE with no message recorded (the caller names the field). */
int ca_base64_decode(const char *in, unsigned char **out,
		     size_t *outlen) CA_WUR;
/* Lenient, for files people write: spaces, tabs and newlines anywhere are
 * ignored and unused bits are not checked; still padded, standard
 * alphabet. *out is malloc'd and NUL-terminated. Not base64: CA_EUSAGE
 * with no message recorded; out of memory: CA_EIO. */
int ca_base64_decode_lenient(const char *in, unsigned char **out,
			     size_t *outlen) CA_WUR;
/* Base64 text of data (malloc'd, NUL-terminated), NULL on failure. */
char *ca_base64_encode(const unsigned char *data, size_t len);

#endif
