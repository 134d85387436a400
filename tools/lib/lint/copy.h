/* A lint copy (--lint-cert): the exact TBS signed with a throwaway
 * software key, for external linters. */
#ifndef HSMCA_LINT_COPY_H
#define HSMCA_LINT_COPY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "x509/algid.h"

/* Sign the same TBS with a throwaway software key of the signer's type and
 * signature algorithm alg and write it to path, so external linters can
 * examine it (--lint-cert). */
int ca_cert_lint_copy(const EVP_PKEY *pub, enum ca_sigalg alg,
		      const unsigned char *tbs, size_t tbs_len,
		      const char *path, int force) CA_WUR;

#endif
