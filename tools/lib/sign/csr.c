#include "sign/csr.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "x509/algid.h"

int ca_csr_build(struct ca_signer *s, X509_NAME *subject, X509_REQ **out)
{
	X509_REQ *req = X509_REQ_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = CA_EIO;

	*out = NULL;
	if (req == NULL || md == NULL || X509_REQ_set_version(req, 0) != 1 ||
	    X509_REQ_set_subject_name(req, subject) != 1 ||
	    X509_REQ_set_pubkey(req, s->pub) != 1) {
		rc = ca_err(CA_EIO, "cannot build the CSR");
		goto out;
	}
	ca_err_clear();
	if (EVP_DigestSignInit_ex(md, NULL, ca_digest_for_key(s->pub), NULL,
				  "?provider=hsmca", s->pkey, NULL) != 1 ||
	    ca_sigalg_apply(md, s->sigalg, ca_digest_for_key(s->pub)) < 0 ||
	    X509_REQ_sign_ctx(req, md) <= 0) {
		rc = ca_errmsg()[0]
			 ? CA_EIO
			 : ca_err(CA_EIO, "the token did not sign the CSR");
		goto out;
	}
	if (X509_REQ_verify(req, s->pub) != 1) {
		rc = ca_err(CA_EIO,
			    "the CSR signed by the token does not verify");
		goto out;
	}
	*out = req;
	req = NULL;
	rc = CA_OK;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	X509_REQ_free(req);
	return rc;
}
