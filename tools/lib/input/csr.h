/* Certificate signing requests from outside: PEM or DER bytes, or a file.
 * Their policy checks are in lint/csr.h, building one in sign/csr.h. */
#ifndef HSMCA_INPUT_CSR_H
#define HSMCA_INPUT_CSR_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "input/csrder.h"

/* Parse PEM or DER bytes (see input/csrder.h); what names the source in errors.
 * Garbage or a truncated file is CA_EUSAGE ("... is not a CSR"). */
int ca_csr_parse(const unsigned char *data, size_t len, const char *what,
		 struct ca_csr_der *out) CA_WUR;
int ca_csr_load(const char *path, struct ca_csr_der *out) CA_WUR;

#endif
