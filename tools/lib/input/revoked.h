/* revoked.json: revocations in bulk (hsmca-revoke --revoked).
 *
 * revoked.json is the serverless CA's format, unchanged: a JSON array of
 *   { "common_name": "host.example", "serial_number": "4875...485" }
 * with the serial in decimal (a string, or a JSON integer when it fits in
 * 63 bits). Both keys are required, unknown keys are refused. The format
 * has no reason: new entries are revoked as unspecified, now; entries
 * already revoked (for any reason) are reported as already revoked. The
 * common_name must be the certificate's CN. The whole file is applied in
 * one transaction or not at all.
 */
#ifndef HSMCA_INPUT_REVOKED_H
#define HSMCA_INPUT_REVOKED_H

#include <stddef.h>

#include "common/err.h"

/* 200,000 entries with 20-octet serials and long names fit. */
#define CA_REVOKED_MAX_INPUT (64 * 1024 * 1024)

struct ca_revoked_entry {
	size_t index; /* position in the file, from 0 */
	char *common_name;
	char serial[48];     /* canonical lowercase hex */
	char serial_dec[64]; /* as written */
};

/* Parse a revoked.json. Not JSON, not an array, unknown or missing keys,
 * wrong types, a serial that is not a positive decimal of at most 20
 * octets, or a serial listed twice: CA_EUSAGE naming the file and the
 * entry. Nothing is partially returned. */
int ca_revoked_parse(const unsigned char *data, size_t len, const char *what,
		     struct ca_revoked_entry **entries, size_t *n) CA_WUR;
void ca_revoked_free(struct ca_revoked_entry *entries, size_t n);

#endif
