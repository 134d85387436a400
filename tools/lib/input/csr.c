#include "input/csr.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/read.h"

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
						    PEM_STRING_X509_REQ, b,
						    NULL, NULL) != 1) {
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
		return ca_err(CA_EUSAGE,
			      "%s is not a CSR (garbage or truncated PEM/DER)",
			      what);
	return rc;
}

int ca_csr_load(const char *path, struct ca_csr_der *out)
{
	unsigned char *data = NULL;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ca_read_regular(path, CA_MAX_CSR, &data, &len);
	if (rc < 0)
		return rc;
	rc = ca_csr_parse(data, len, path, out);
	free(data);
	return rc;
}

int ca_csr_load_in(const char *dir, const char *rel, struct ca_csr_der *out)
{
	char real_dir[PATH_MAX], real[PATH_MAX], *path = NULL;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	n = strlen(dir) + strlen(rel) + 2;
	path = malloc(n);
	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	snprintf(path, n, "%s/%s", dir, rel);
	if (realpath(dir, real_dir) == NULL) {
		rc = ca_err(CA_EIO, "cannot open %s: %s", dir, strerror(errno));
		goto out;
	}
	if (realpath(path, real) == NULL) {
		rc =
		    ca_err(CA_EIO, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	n = strlen(real_dir);
	if (strncmp(real, real_dir, n) != 0 ||
	    (real[n] != '/' && strcmp(real_dir, "/") != 0)) {
		rc = ca_err(CA_EPOLICY,
			    "%s leads to %s, outside --csr-dir %s: refused",
			    path, real, dir);
		goto out;
	}
	rc = ca_csr_load(path, out);
out:
	free(path);
	return rc;
}
