/* Reading the certificates, CSRs and CRLs a ceremony handles (PEM or DER)
 * for its checks and its record. */
#include "ceremony/internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "base/read.h"
#include "base/sha256.h"
#include "input/csr.h"
#include "input/csrder.h"
#include "x509/spki.h"

/* The file's bytes and, when PEM, the DER inside the first block of
 * label; der points into *data or into *buf. */
static int read_der(const char *path, const char *label, unsigned char **data,
		    size_t *len, unsigned char **buf, const unsigned char **der,
		    long *der_len)
{
	char *name = NULL, *header = NULL;
	BIO *b = NULL;
	int rc;

	*buf = NULL;
	GUARD(ca_read_file(path, CA_MAX_INPUT, data, len));
	*der = *data;
	*der_len = (long)*len;
	if (*len == 0 || (*data)[0] == 0x30)
		goto out;
	b = BIO_new_mem_buf(*data, (int)*len);
	if (b == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	for (;;) {
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(*buf);
		name = header = NULL;
		*buf = NULL;
		if (PEM_read_bio(b, &name, &header, buf, der_len) != 1) {
			rc = ca_err(CA_EUSAGE, "%s holds no %s (PEM or DER)",
				    path, label);
			goto out;
		}
		if (strcmp(name, label) == 0)
			break;
	}
	*der = *buf;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(b);
	return rc;
}

#define LOADER(fn, type, d2i, label, what)                                     \
	int fn(const char *path, type **out)                                   \
	{                                                                      \
		unsigned char *data = NULL, *buf = NULL;                       \
		const unsigned char *der = NULL;                               \
		size_t len = 0;                                                \
		long der_len = 0;                                              \
		int rc;                                                        \
                                                                               \
		*out = NULL;                                                   \
		GUARD(                                                         \
		    read_der(path, label, &data, &len, &buf, &der, &der_len)); \
		*out = d2i(NULL, &der, der_len);                               \
		if (*out == NULL)                                              \
			rc = ca_err(CA_EUSAGE, "%s is not a readable %s",      \
				    path, what);                               \
	out:                                                                   \
		OPENSSL_free(buf);                                             \
		free(data);                                                    \
		return rc;                                                     \
	}

LOADER(ca_cert_load, X509, d2i_X509, "CERTIFICATE", "certificate")
LOADER(ca_crl_load, X509_CRL, d2i_X509_CRL, "X509 CRL", "CRL")

void ca_spki_sha256_hex(X509_PUBKEY *k, char hex[65])
{
	if (ca_spki_der_sha256_hex(k, hex) < 0)
		hex[0] = '\0';
}

int ca_spki_of_file(const char *path, char hex[65])
{
	struct ca_csr_der r;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	X509_PUBKEY *xk = NULL;
	BIO *b = NULL;
	int rc = CA_OK;

	memset(&r, 0, sizeof(r));
	ca_err_clear();
	if (ca_cert_load(path, &x) == CA_OK) {
		ca_spki_sha256_hex(X509_get_X509_PUBKEY(x), hex);
		goto out;
	}
	if (ca_csr_load(path, &r) == CA_OK) {
		ca_spki_sha256_hex(X509_REQ_get_X509_PUBKEY(r.req), hex);
		goto out;
	}
	b = BIO_new_file(path, "r");
	if (b != NULL)
		k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (k == NULL || X509_PUBKEY_set(&xk, k) != 1) {
		rc = ca_err(CA_EUSAGE,
			    "%s is no certificate, CSR or public key", path);
		goto out;
	}
	ca_spki_sha256_hex(xk, hex);
out:
	X509_PUBKEY_free(xk);
	EVP_PKEY_free(k);
	BIO_free(b);
	ca_csr_der_clear(&r);
	X509_free(x);
	return rc;
}

/* DER length of the TLV at p (at most avail bytes), 0 when malformed. */
static size_t tlv_len(const unsigned char *p, size_t avail)
{
	size_t n, i, len = 0;

	if (avail < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80)
		return 2 + (size_t)p[1] <= avail ? 2 + (size_t)p[1] : 0;
	n = p[1] & 0x7f;
	if (n == 0 || n > 4 || 2 + n > avail)
		return 0;
	for (i = 0; i < n; i++)
		len = (len << 8) | p[2 + i];
	return 2 + n + len <= avail ? 2 + n + len : 0;
}

int ca_tbs_sha256_of_file(const char *path, char hex[65])
{
	unsigned char *data = NULL, *buf = NULL;
	const unsigned char *der = NULL;
	size_t len = 0, outer, hdr, tbs;
	long der_len = 0;
	int rc;

	rc = read_der(path, "CERTIFICATE", &data, &len, &buf, &der, &der_len);
	if (rc < 0) {
		free(data);
		OPENSSL_free(buf);
		rc = read_der(path, "X509 CRL", &data, &len, &buf, &der,
			      &der_len);
	}
	if (rc < 0)
		goto out;
	/* SEQUENCE { tbs SEQUENCE, algid, signature }: the tbs TLV. */
	outer = tlv_len(der, (size_t)der_len);
	hdr =
	    der_len > 1 ? (der[1] < 0x80 ? 2 : 2 + (size_t)(der[1] & 0x7f)) : 0;
	tbs = outer > hdr ? tlv_len(der + hdr, outer - hdr) : 0;
	if (tbs == 0) {
		rc = ca_err(CA_EUSAGE, "%s is not a signed certificate or CRL",
			    path);
		goto out;
	}
	ca_sha256_hex(der + hdr, tbs, hex);
out:
	OPENSSL_free(buf);
	free(data);
	return rc;
}
