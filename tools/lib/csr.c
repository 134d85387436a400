#include "csr.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "cert.h"
#include "lint.h"
#include "util.h"

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
		 X509_REQ **out)
{
	const unsigned char *p = data;
	BIO *b = NULL;

	*out = NULL;
	if (len > 11 && memmem(data, len, "-----BEGIN", 10) != NULL) {
		b = BIO_new_mem_buf(data, (int)len);
		if (b != NULL)
			*out = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
		BIO_free(b);
	} else {
		*out = d2i_X509_REQ(NULL, &p, (long)len);
		if (*out != NULL && p != data + len) {
			X509_REQ_free(*out);
			*out = NULL;
		}
	}
	ERR_clear_error();
	if (*out == NULL)
		return ca_err(CA_EUSAGE, "%s is not a CSR (garbage or truncated PEM/DER)",
			      what);
	return CA_OK;
}

int ca_csr_load(const char *path, X509_REQ **out)
{
	unsigned char *data = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = ca_read_file(path, 64 * 1024, &data, &len);
	if (rc < 0)
		return rc;
	rc = ca_csr_parse(data, len, path, out);
	free(data);
	return rc;
}

int ca_csr_check(X509_REQ *req, const char *what)
{
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
	int rc;

	if (pub == NULL) {
		ERR_clear_error();
		return ca_err(CA_EPOLICY, "CSR public key does not decode: %s", what);
	}
	rc = ca_lint_pubkey(pub, what);
	if (rc < 0)
		return rc;
	if (X509_REQ_verify(req, pub) != 1) {
		ERR_clear_error();
		return ca_err(CA_EPOLICY, "CSR signature does not verify: %s", what);
	}
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
