#include "x509/pem.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

int ca_bio_copy(BIO *mem, char **out, size_t *len)
{
	char *data;
	long n = BIO_get_mem_data(mem, &data);

	*out = NULL;
	if (n < 0 || (*out = malloc((size_t)n + 1)) == NULL)
		return CA_EIO;
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	return CA_OK;
}

/* *pem: what was written to the memory BIO b (written: whether writing
 * succeeded; b NULL when it could not be made), or the error for what;
 * b is freed. */
static int pem_take(BIO *b, int written, const char *what, const char *how,
		    char **pem, size_t *len)
{
	int rc = CA_EIO;

	*pem = NULL;
	if (b != NULL && written)
		rc = ca_bio_copy(b, pem, len);
	BIO_free(b);
	if (rc < 0)
		return ca_err(CA_EIO, "cannot encode %s%s", what, how);
	return CA_OK;
}

int ca_x509_pem(X509 *x, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());

	return pem_take(b, b != NULL && PEM_write_bio_X509(b, x) == 1,
			"the certificate", " as PEM", pem, len);
}

int ca_der_pem(const char *label, const unsigned char *der, size_t der_len,
	       char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());

	return pem_take(
	    b, b != NULL && PEM_write_bio(b, label, "", der, (long)der_len) > 0,
	    label, " as PEM", pem, len);
}

int ca_csr_pem(X509_REQ *req, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());

	return pem_take(b, b != NULL && PEM_write_bio_X509_REQ(b, req) == 1,
			"the CSR", "", pem, len);
}
