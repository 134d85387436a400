/* A CSR signed by a token key (hsmca-keygen --csr). */
#ifndef HSMCA_SIGN_CSR_H
#define HSMCA_SIGN_CSR_H

#include <openssl/x509.h>

#include "common/err.h"
#include "sign/signer.h"

/* A CSR for subject signed by the token key (proof of possession). */
int ca_csr_build(struct ca_signer *s, X509_NAME *subject,
		 X509_REQ **out) CA_WUR;

#endif
