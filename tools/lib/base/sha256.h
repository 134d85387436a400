/* SHA-256 of bytes or of a file. */
#ifndef HSMCA_BASE_SHA256_H
#define HSMCA_BASE_SHA256_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/err.h"

/* SHA-256, fetched once per process. */
const EVP_MD *ca_sha256_md(void);
int ca_sha256(const unsigned char *in, size_t len,
	      unsigned char out[32]) CA_WUR;
void ca_sha256_hex(const unsigned char *in, size_t len, char out[65]);
/* A fingerprint shown to the operator, on which nothing is decided: SHA-256
 * outside the provider framework, whose first fetch in a process (OpenSSL
 * 3.0 builds its name map and starts the default provider: 3.5 million
 * instructions) would be a third of a lookup such as hsmca-audit show.
 * Everything a tool checks, chains or signs uses ca_sha256. */
void ca_sha256_fingerprint(const unsigned char *in, size_t len, char out[65]);
int ca_sha256_file(const char *path, char out[65]) CA_WUR;

#endif
