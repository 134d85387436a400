/* Certificate signing requests: build one with a token key (keygen --csr),
 * load and check one from outside (signature, key policy). */
#ifndef HSMCA_CSR_H
#define HSMCA_CSR_H

#include <stddef.h>

#include <openssl/x509.h>

#include "err.h"
#include "signer.h"

/* A CSR for subject signed by the token key (proof of possession). */
int ca_csr_build(struct ca_signer *s, X509_NAME *subject, X509_REQ **out) CA_WUR;
/* Parse PEM or DER bytes; what names the source in errors. Garbage or a
 * truncated file is CA_EUSAGE ("... is not a CSR"). */
int ca_csr_parse(const unsigned char *data, size_t len, const char *what,
		 X509_REQ **out) CA_WUR;
int ca_csr_load(const char *path, X509_REQ **out) CA_WUR;
/* Verify the CSR's self-signature and the key policy (CA_EPOLICY). */
int ca_csr_check(X509_REQ *req, const char *what) CA_WUR;
int ca_csr_pem(X509_REQ *req, char **pem, size_t *len) CA_WUR;

#endif
