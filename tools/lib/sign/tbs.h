/* Signing exact TBS bytes on the token: sign, assemble the signed
 * SEQUENCE, and verify it with the issuer's public key before anything
 * is written. */
#ifndef HSMCA_SIGN_TBS_H
#define HSMCA_SIGN_TBS_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "sign/signer.h"

/* Sign exactly tbs with the token key and check the signature verifies
 * with issuer_pub before returning the signed DER (malloc'd). Refuses when
 * the TBS signature algorithm is not the signer's. */
int ca_cert_sign_der(struct ca_signer *s, const unsigned char *tbs,
		     size_t tbs_len, EVP_PKEY *issuer_pub, unsigned char **der,
		     size_t *der_len) CA_WUR;
/* The same, returning the parsed certificate. */
int ca_cert_sign(struct ca_signer *s, const unsigned char *tbs, size_t tbs_len,
		 EVP_PKEY *issuer_pub, X509 **out) CA_WUR;

#endif
