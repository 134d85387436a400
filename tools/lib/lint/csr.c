#include "lint/csr.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lint/lint.h"

int ca_csr_check(const struct ca_csr_der *csr, const char *what)
{
	int rc;

	if (csr->pub == NULL)
		return ca_err(CA_EPOLICY, "%s: %s", what, csr->why);
	rc = ca_lint_pubkey(csr->pub, what);
	if (rc < 0)
		return rc;
	if (!csr->sig_ok && csr->why[0] != '\0')
		return ca_err(CA_EPOLICY, "%s: %s", what, csr->why);
	if (!csr->sig_ok)
		return ca_err(CA_EPOLICY, "CSR signature does not verify: %s",
			      what);
	return CA_OK;
}

int ca_csr_refuse_ca(X509_REQ *req, const char *what)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	BASIC_CONSTRAINTS *bc = NULL;
	int rc = CA_OK;

	if (exts != NULL)
		bc = X509V3_get_d2i(exts, NID_basic_constraints, NULL, NULL);
	if (bc != NULL && bc->ca)
		rc = ca_err(CA_EPOLICY,
			    "the CSR %s asks for a CA certificate (cA=TRUE): "
			    "refused for an end-entity certificate",
			    what);
	BASIC_CONSTRAINTS_free(bc);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return rc;
}
