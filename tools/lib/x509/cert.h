/* Certificates as OpenSSL objects: validity, extensions, the TBS DER
 * with the signer's AlgorithmIdentifier, DER, loading from files.
 *
 * Flow: build an X509 with its TBS signature algorithm set to the signer's
 * AlgorithmIdentifier, take the TBS DER, lint it (lint/), (approve it,
 * quorum/), sign exactly those bytes on the token and verify the result
 * against the issuer's public key (sign/tbs.h) before anything is written.
 */
#ifndef HSMCA_X509_CERT_H
#define HSMCA_X509_CERT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"

#define CA_MAX_DAYS 36500

int ca_x509_set_validity(X509 *x, time_t not_before, time_t not_after) CA_WUR;
/* Add an extension from OpenSSL's config syntax ("critical,CA:TRUE"). */
int ca_x509_add_ext(X509 *x, X509 *issuer, int nid, const char *value) CA_WUR;
/* Set the TBS signature algorithm and return the TBS DER (malloc'd). */
int ca_x509_tbs(X509 *x, const unsigned char *algid, size_t algid_len,
		unsigned char **tbs, size_t *tbs_len) CA_WUR;
/* Parse a TBSCertificate (wrapped with a placeholder signature). */
int ca_tbs_parse(const unsigned char *tbs, size_t tbs_len, X509 **out) CA_WUR;
/* The TBSCertificate inside a certificate's DER (points into der). */
int ca_x509_der_tbs(const unsigned char *der, size_t len,
		    const unsigned char **tbs, size_t *tbs_len) CA_WUR;
/* time_t of an ASN1_TIME. */
int ca_asn1_time(const ASN1_TIME *t, time_t *out) CA_WUR;

/* DER of a certificate (malloc'd with OPENSSL_malloc; free with OPENSSL_free).
 */
int ca_x509_der(X509 *x, unsigned char **der, size_t *len) CA_WUR;
/* Load one PEM or DER certificate from a file. */
int ca_x509_load(const char *path, X509 **out) CA_WUR;
/* Load every PEM certificate in a file (may be empty). */
int ca_x509_load_all(const char *path, STACK_OF(X509) * *out) CA_WUR;
/* SHA-256 of a certificate's DER, hex. */
void ca_x509_sha256_hex(X509 *x, char out[65]);

#endif
