/* PEM text of certificates and of DER under a label. */
#ifndef HSMCA_X509_PEM_H
#define HSMCA_X509_PEM_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "common/err.h"

/* What was written to the memory BIO mem, as a malloc'd NUL-terminated
 * copy; CA_EIO with no message (the caller says what it was encoding). */
int ca_bio_copy(BIO *mem, char **out, size_t *len) CA_WUR;
/* PEM text of a certificate (malloc'd). */
int ca_x509_pem(X509 *x, char **pem, size_t *len) CA_WUR;
/* PEM text of DER bytes under label ("CERTIFICATE", "X509 CRL"). */
int ca_der_pem(const char *label, const unsigned char *der, size_t der_len,
	       char **pem, size_t *len) CA_WUR;
int ca_csr_pem(X509_REQ *req, char **pem, size_t *len) CA_WUR;

#endif
