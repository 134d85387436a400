/* Certificate signing requests: build one with a token key (keygen --csr),
 * load and check one from outside (signature, key policy). */
#ifndef HSMCA_CSR_H
#define HSMCA_CSR_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "input/csrder.h"
#include "sign/signer.h"

/* A CSR for subject signed by the token key (proof of possession). */
int ca_csr_build(struct ca_signer *s, X509_NAME *subject, X509_REQ **out) CA_WUR;
/* Parse PEM or DER bytes (see csrder.h); what names the source in errors.
 * Garbage or a truncated file is CA_EUSAGE ("... is not a CSR"). */
int ca_csr_parse(const unsigned char *data, size_t len, const char *what,
		 struct ca_csr_der *out) CA_WUR;
int ca_csr_load(const char *path, struct ca_csr_der *out) CA_WUR;
/* The key policy, then the self-signature (CA_EPOLICY). */
int ca_csr_check(const struct ca_csr_der *csr, const char *what) CA_WUR;
int ca_csr_pem(X509_REQ *req, char **pem, size_t *len) CA_WUR;

#endif
