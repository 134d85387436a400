/* CSR policy: the key, the self-signature, no request for a CA. */
#ifndef HSMCA_LINT_CSR_H
#define HSMCA_LINT_CSR_H

#include <openssl/x509.h>

#include "common/err.h"
#include "input/csrder.h"

/* The key policy, then the self-signature (CA_EPOLICY). */
int ca_csr_check(const struct ca_csr_der *csr, const char *what) CA_WUR;
/* A CSR asking for cA=TRUE is refused (CA_EPOLICY). */
int ca_csr_refuse_ca(X509_REQ *req, const char *what) CA_WUR;

#endif
