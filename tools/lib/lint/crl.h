/* Lint before sign for CRLs (RFC 5280 section 5): the streamed entries
 * one by one, and a whole TBSCertList. */
#ifndef HSMCA_LINT_CRL_H
#define HSMCA_LINT_CRL_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "x509/crl.h"
#include "x509/tbs.h"

/* Lint before sign. Any finding: CA_EPOLICY "lint: CRL ...". */
struct ca_crl_lint {
	X509 *issuer;			/* the CA certificate */
	const struct ca_crl_spec *spec; /* what the TBS must say */
	/* streaming state (ca_crl_lint_entry) */
	unsigned char prev[CA_CRL_SERIAL_MAX];
	size_t prev_len;
	size_t n;
	/* ca_crl_lint_open: the entries' bytes, for the TBS's lint mark */
	ca_tbs_body_mac *body;
	size_t body_len;
};

void ca_crl_lint_init(struct ca_crl_lint *l, X509 *issuer,
		      const struct ca_crl_spec *spec);
/* The same for a CRL that will be signed: the entries linted are also
 * MAC'd, in order, for ca_crl_lint_finish; free with ca_crl_lint_clear. */
int ca_crl_lint_open(struct ca_crl_lint *l, X509 *issuer,
		     const struct ca_crl_spec *spec) CA_WUR;
void ca_crl_lint_clear(struct ca_crl_lint *l);
/* One encoded entry, as streamed: structure and DER of the serial
 * (positive, 1 to 20 octets, minimal), revocationDate (the right Time
 * type, not after thisUpdate), only a non-critical reasonCode with a
 * listable value, strictly increasing serials (no duplicates). */
int ca_crl_lint_entry(struct ca_crl_lint *l, const unsigned char *der,
		      size_t len) CA_WUR;
/* A whole TBSCertList in memory, parsed by OpenSSL: DER that re-encodes
 * to itself, version v2, signature algorithm, issuer, thisUpdate <
 * nextUpdate inside the issuer's validity, AKI = the issuer's SKI,
 * cRLNumber present, non-critical and as expected, IDP critical and naming
 * exactly the expected URLs (or absent), no other or duplicate extensions,
 * and n_entries entries that pass the entry rules above. */
int ca_crl_lint_tbs(const unsigned char *tbs, size_t len,
		    const struct ca_crl_spec *spec, X509 *issuer,
		    size_t n_entries) CA_WUR;

/* The lint step for a CRL to be signed, after its entries went through
 * ca_crl_lint_entry (ca_crl_lint_open): t is the TBS as head (the frame's
 * prefix) || entries || tail (its suffix). In memory (t->der), the whole
 * TBS is linted; streamed, the frame is checked to be the encoder's for
 * the spec and the entries, and linted on its own. On success t carries
 * the lint mark (x509/tbs.h), over the entries exactly as linted. */
int ca_crl_lint_finish(struct ca_crl_lint *l, struct ca_tbs *t,
		       size_t n_entries) CA_WUR;

#endif
