/* CSR parsing without OpenSSL 3.0's decoder framework, which costs more
 * than the rest of issuing a certificate: the DER is read with a template
 * that keeps the SubjectPublicKeyInfo raw, the key is built from its
 * parameters (RSA n/e, EC named curve + point, Ed25519 raw), and the
 * self-signature is verified over the exact bytes of the request info. */
#ifndef HSMCA_INPUT_CSRDER_H
#define HSMCA_INPUT_CSRDER_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"

struct ca_csr_der {
	X509_REQ *req; /* subject, encoded public key, attributes */
	EVP_PKEY *pub; /* NULL when the key type or encoding is not one we
			* take (see why) */
	char why[96];  /* why pub is NULL, or why the signature is refused */
	int sig_ok;    /* the self-signature verifies with pub */
};

/* Parse one DER CSR (all of der). Not a CSR: CA_EUSAGE. */
int ca_csr_der_parse(const unsigned char *der, size_t len,
		     struct ca_csr_der *out) CA_WUR;
void ca_csr_der_clear(struct ca_csr_der *c);

#endif
