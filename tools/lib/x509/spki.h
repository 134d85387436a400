/* SubjectPublicKeyInfo: its SHA-256, and copying one as encoded. */
#ifndef HSMCA_X509_SPKI_H
#define HSMCA_X509_SPKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"

/* SHA-256 of a public key's DER SubjectPublicKeyInfo. */
int ca_spki_sha256(EVP_PKEY *pub, unsigned char out[32]) CA_WUR;
/* The same for an encoded SubjectPublicKeyInfo (a CSR's or certificate's). */
int ca_spki_der_sha256(X509_PUBKEY *spki, unsigned char out[32]) CA_WUR;
/* The same as 64 lower-case hex digits (the store's spki_sha256). */
int ca_spki_der_sha256_hex(X509_PUBKEY *spki, char hex[65]) CA_WUR;
/* Copy an encoded SubjectPublicKeyInfo's algorithm and key bits (no
 * decoding or re-encoding of the key). */
int ca_x509_pubkey_copy(X509_PUBKEY *to, const X509_ALGOR *alg,
			const unsigned char *bits, int len) CA_WUR;

#endif
