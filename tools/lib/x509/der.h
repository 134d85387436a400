/* DER helpers: length headers, the signed wrapper SEQUENCE { tbs, algid,
 * BIT STRING sig } of certificates and CRLs, and its verification. */
#ifndef HSMCA_X509_DER_H
#define HSMCA_X509_DER_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "x509/algid.h"

/* SEQUENCE { tbs, algid, BIT STRING sig } (certificates and CRLs alike). */
int ca_signed_assemble(const unsigned char *tbs, size_t tbs_len,
		       const unsigned char *algid, size_t algid_len,
		       const unsigned char *sig, size_t sig_len,
		       unsigned char **der, size_t *len) CA_WUR;
/* DER length header for a SEQUENCE of content_len bytes; returns its size. */
size_t ca_der_header(unsigned char tag, size_t content_len,
		     unsigned char out[6]);
/* The AlgorithmIdentifier inside a TBSCertificate or TBSCertList (DER
 * walk, no parsing of the rest). */
int ca_tbs_sigalg(const unsigned char *tbs, size_t tbs_len,
		  const unsigned char **algid, size_t *algid_len) CA_WUR;
/* Verify a signature over tbs with the issuer's public key. */
int ca_signed_verify(EVP_PKEY *issuer_pub, enum ca_sigalg alg,
		     const unsigned char *tbs, size_t tbs_len,
		     const unsigned char *sig, size_t sig_len) CA_WUR;

#endif
