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
/* The signature algorithm a key signs with: its type's default (RSA
 * PKCS#1 v1.5, ECDSA, Ed25519), or RSASSA-PSS (RFC 4055) for an RSA key,
 * with the digest for hash and MGF1 and a salt as long as the digest. */
enum ca_sigalg {
	CA_SIGALG_DEFAULT = 0,
	CA_SIGALG_RSA_PSS,
};
/* "rsa-pkcs1" (the RSA default) or "rsa-pss"; CA_EUSAGE otherwise. */
int ca_sigalg_parse(const char *name, enum ca_sigalg *out) CA_WUR;
/* Refuse (CA_EUSAGE) PSS for a key that is not RSA. */
int ca_sigalg_check(enum ca_sigalg alg, const EVP_PKEY *pub) CA_WUR;
/* Set a signing or verifying context (EVP_DigestSign/VerifyInit) to alg
 * with digest md. */
int ca_sigalg_apply(EVP_MD_CTX *md, enum ca_sigalg alg,
		    const char *digest) CA_WUR;

/* DER AlgorithmIdentifier for signatures by pub's type with its digest
 * (ca_digest_for_key), RSASSA-PSS for alg CA_SIGALG_RSA_PSS. */
int ca_algid_der(const EVP_PKEY *pub, enum ca_sigalg alg, unsigned char **der,
		 size_t *len) CA_WUR;

#endif
