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
/* The largest CSR taken, from a file or inline in a request. */
#define CA_MAX_CSR (64 * 1024)
/* A CSR file: a regular file, not a symbolic link, read without blocking
 * on a FIFO (base/read.h ca_read_regular), of at most CA_MAX_CSR bytes. */
int ca_csr_load(const char *path, struct ca_csr_der *out) CA_WUR;
/* The same for rel inside dir (--csr-dir): refused (CA_EPOLICY) when the
 * path, symbolic links resolved, leads outside dir. */
int ca_csr_load_in(const char *dir, const char *rel,
		   struct ca_csr_der *out) CA_WUR;

#endif
