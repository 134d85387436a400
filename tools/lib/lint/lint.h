/* Lint before sign: the exact TBS is checked against RFC 5280 and our
 * profiles before the token signs it. Any finding is a policy refusal
 * (CA_EPOLICY, "lint: ..."). */
#ifndef HSMCA_LINT_LINT_H
#define HSMCA_LINT_LINT_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "x509/tbs.h"

enum ca_lint_kind {
	CA_LINT_ROOT,  /* self-signed CA */
	CA_LINT_SUBCA, /* CA certificate issued by issuer */
	CA_LINT_LEAF,  /* end-entity certificate issued by issuer */
};

struct ca_lint {
	enum ca_lint_kind kind;
	X509 *issuer; /* NULL for a root */
	/* Optional, for volume issuance: the object the TBS was encoded from
	 * (checked to re-encode to exactly the TBS bytes, then linted instead
	 * of a fresh parse) and the subject key already decoded (from the
	 * CSR; its encoding is the one in the TBS). */
	X509 *draft;
	EVP_PKEY *subject_pub;
	/* subject_pub already passed ca_lint_pubkey (the CSR checks): not
	 * checked a second time. */
	int subject_pub_checked;
};

int ca_lint_cert(const unsigned char *tbs, size_t tbs_len,
		 const struct ca_lint *lc) CA_WUR;

/* The lint step: ca_lint_cert on a certificate TBS, which on success
 * carries the lint mark (x509/tbs.h) the signer requires. */
int ca_lint_tbs(struct ca_tbs *t, const struct ca_lint *lc) CA_WUR;

/* Public-key policy shared by lint and CSR checks: RSA 2048-4096 with
 * e = 65537, EC P-256/P-384/P-521 with a valid point, Ed25519. */
int ca_lint_pubkey(EVP_PKEY *pub, const char *what) CA_WUR;

#endif
