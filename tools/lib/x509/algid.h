/* Signature algorithms: the digest a key signs with, and its DER
 * AlgorithmIdentifier. */
#ifndef HSMCA_X509_ALGID_H
#define HSMCA_X509_ALGID_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/err.h"

/* The digest a key signs certificates with: SHA-256 for RSA and P-256,
 * SHA-384 for P-384, SHA-512 for P-521, none (NULL) for Ed25519. */
const char *ca_digest_for_key(const EVP_PKEY *pub);
/* DER AlgorithmIdentifier for signatures by pub's type with digest. */
int ca_algid_der(const EVP_PKEY *pub, unsigned char **der, size_t *len) CA_WUR;

#endif
