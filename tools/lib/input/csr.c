#include "input/csr.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/read.h"
#include "lint/lint.h"
#include "sign/signer.h"
#include "x509/algid.h"
#include "x509/pem.h"

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
	    X509_REQ_sign_ctx(req, md) <= 0) {
		rc = ca_errmsg()[0] ? CA_EIO
				    : ca_err(CA_EIO, "the token did not sign the CSR");
		goto out;
	}
	if (X509_REQ_verify(req, s->pub) != 1) {
		rc = ca_err(CA_EIO, "the CSR signed by the token does not verify");
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

int ca_csr_parse(const unsigned char *data, size_t len, const char *what,
		 struct ca_csr_der *out)
{
	unsigned char *der = NULL;
	long der_len = 0;
	BIO *b = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > 11 && memmem(data, len, "-----BEGIN", 10) != NULL) {
		/* PEM: "CERTIFICATE REQUEST" (or the old "NEW ..." label). */
		b = BIO_new_mem_buf(data, (int)len);
		if (b == NULL || PEM_bytes_read_bio(&der, &der_len, NULL,
						    PEM_STRING_X509_REQ, b, NULL,
						    NULL) != 1) {
			rc = CA_EUSAGE;
			goto out;
		}
		rc = ca_csr_der_parse(der, (size_t)der_len, out);
	} else {
		rc = ca_csr_der_parse(data, len, out);
	}
out:
	ERR_clear_error();
	BIO_free(b);
	OPENSSL_free(der);
	if (rc == CA_EUSAGE)
		return ca_err(CA_EUSAGE, "%s is not a CSR (garbage or truncated PEM/DER)",
			      what);
	return rc;
}

int ca_csr_load(const char *path, struct ca_csr_der *out)
{
	unsigned char *data = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ca_read_file(path, 64 * 1024, &data, &len);
	if (rc < 0)
		return rc;
	rc = ca_csr_parse(data, len, path, out);
	free(data);
	return rc;
}

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
		return ca_err(CA_EPOLICY, "CSR signature does not verify: %s", what);
	return CA_OK;
}

int ca_csr_pem(X509_REQ *req, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc = CA_EIO;

	*pem = NULL;
	if (b != NULL && PEM_write_bio_X509_REQ(b, req) == 1)
		rc = ca_bio_copy(b, pem, len);
	BIO_free(b);
	if (rc < 0)
		return ca_err(CA_EIO, "cannot encode the CSR");
	return CA_OK;
}
