/* Certificate building and signing of exact TBS bytes.
 *
 * Flow: build an X509 with its TBS signature algorithm set to the signer's
 * AlgorithmIdentifier, take the TBS DER, lint it, (approve it), sign exactly
 * those bytes on the token, assemble SEQUENCE { tbs, algid, BIT STRING },
 * and verify the result against the issuer's public key before anything is
 * written.
 */
#ifndef HSMCA_CERT_H
#define HSMCA_CERT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "sign/signer.h"

#define CA_SERIAL_LEN 17 /* 0x01 prefix + 128 random bits */
#define CA_MAX_DAYS 36500

/* DER AlgorithmIdentifier for signatures by pub's type with digest. */
int ca_algid_der(const EVP_PKEY *pub, unsigned char **der, size_t *len) CA_WUR;

/* Serial: CA_SERIAL_LEN octets, 0x01 then 16 bytes from the token RNG
 * (positive, fixed length, 128 random bits). */
int ca_serial_new(ca_token *tok, ASN1_INTEGER **out) CA_WUR;
/* Lowercase hex of the serial's magnitude ("01a2..."); out >= 41 bytes. */
int ca_serial_hex(const ASN1_INTEGER *serial, char *out, size_t len) CA_WUR;
/* Parse hex as `openssl x509 -serial` prints it (colons, case ignored). */
int ca_serial_parse(const char *hex, ASN1_INTEGER **out) CA_WUR;

int ca_x509_set_validity(X509 *x, time_t not_before, time_t not_after) CA_WUR;
/* Add an extension from OpenSSL's config syntax ("critical,CA:TRUE"). */
int ca_x509_add_ext(X509 *x, X509 *issuer, int nid, const char *value) CA_WUR;
/* Set the TBS signature algorithm and return the TBS DER (malloc'd). */
int ca_x509_tbs(X509 *x, const unsigned char *algid, size_t algid_len,
		unsigned char **tbs, size_t *tbs_len) CA_WUR;
/* Parse a TBSCertificate (wrapped with a placeholder signature). */
int ca_tbs_parse(const unsigned char *tbs, size_t tbs_len, X509 **out) CA_WUR;
/* time_t of an ASN1_TIME. */
int ca_asn1_time(const ASN1_TIME *t, time_t *out) CA_WUR;

/* SEQUENCE { tbs, algid, BIT STRING sig } (certificates and CRLs alike). */
int ca_signed_assemble(const unsigned char *tbs, size_t tbs_len,
		       const unsigned char *algid, size_t algid_len,
		       const unsigned char *sig, size_t sig_len,
		       unsigned char **der, size_t *len) CA_WUR;
/* DER length header for a SEQUENCE of content_len bytes; returns its size. */
size_t ca_der_header(unsigned char tag, size_t content_len, unsigned char out[6]);

/* The AlgorithmIdentifier inside a TBSCertificate or TBSCertList (DER
 * walk, no parsing of the rest). */
int ca_tbs_sigalg(const unsigned char *tbs, size_t tbs_len,
		  const unsigned char **algid, size_t *algid_len) CA_WUR;
/* Verify a signature over tbs with the issuer's public key. */
int ca_signed_verify(EVP_PKEY *issuer_pub, const unsigned char *tbs,
		     size_t tbs_len, const unsigned char *sig, size_t sig_len) CA_WUR;
/* Sign exactly tbs with the token key and check the signature verifies
 * with issuer_pub before returning the signed DER (malloc'd). Refuses when
 * the TBS signature algorithm is not the signer's. */
int ca_cert_sign_der(struct ca_signer *s, const unsigned char *tbs,
		     size_t tbs_len, EVP_PKEY *issuer_pub, unsigned char **der,
		     size_t *der_len) CA_WUR;
/* The same, returning the parsed certificate. */
int ca_cert_sign(struct ca_signer *s, const unsigned char *tbs, size_t tbs_len,
		 EVP_PKEY *issuer_pub, X509 **out) CA_WUR;
/* Sign the same TBS with a throwaway software key of the signer's type and
 * write it to path, so external linters can examine it (--lint-cert). */
int ca_cert_lint_copy(const EVP_PKEY *pub, const unsigned char *tbs,
		      size_t tbs_len, const char *path, int force) CA_WUR;

/* What was written to the memory BIO mem, as a malloc'd NUL-terminated
 * copy; CA_EIO with no message (the caller says what it was encoding). */
int ca_bio_copy(BIO *mem, char **out, size_t *len) CA_WUR;
/* PEM text of a certificate (malloc'd). */
int ca_x509_pem(X509 *x, char **pem, size_t *len) CA_WUR;
/* PEM text of DER bytes under label ("CERTIFICATE", "X509 CRL"). */
int ca_der_pem(const char *label, const unsigned char *der, size_t der_len,
	       char **pem, size_t *len) CA_WUR;
/* DER of a certificate (malloc'd with OPENSSL_malloc; free with OPENSSL_free). */
int ca_x509_der(X509 *x, unsigned char **der, size_t *len) CA_WUR;
/* Load one PEM or DER certificate from a file. */
int ca_x509_load(const char *path, X509 **out) CA_WUR;
/* Load every PEM certificate in a file (may be empty). */
int ca_x509_load_all(const char *path, STACK_OF(X509) **out) CA_WUR;
/* SHA-256 of a certificate's DER, hex. */
void ca_x509_sha256_hex(X509 *x, char out[65]);

#endif
