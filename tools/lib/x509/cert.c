#include "x509/cert.h"
#include "x509/der.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/read.h"
#include "base/sha256.h"

int ca_x509_set_validity(X509 *x, time_t not_before, time_t not_after)
{
	/* ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime from
	 * 2050 on, as RFC 5280 4.1.2.5 requires. */
	ASN1_TIME *nb = ASN1_TIME_set(NULL, not_before);
	ASN1_TIME *na = ASN1_TIME_set(NULL, not_after);
	int ok = nb != NULL && na != NULL && X509_set1_notBefore(x, nb) &&
		 X509_set1_notAfter(x, na);

	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return ok ? CA_OK
		  : ca_err(CA_EUSAGE, "validity period cannot be encoded");
}

/* Extensions whose value alone makes them (no certificate or issuer in
 * it) are built from their text once and kept: a batch adds the same
 * basic constraints, key usage, CRL and AIA URLs to every certificate.
 * Kept for the process, under a lock (workers build certificates). */
#define KEPT_EXTS 32
static struct {
	int nid;
	char *value;
	X509_EXTENSION *ext;
} kept_exts[KEPT_EXTS];
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

static int context_free(int nid)
{
	return nid == NID_basic_constraints || nid == NID_key_usage ||
	       nid == NID_ext_key_usage || nid == NID_crl_distribution_points ||
	       nid == NID_info_access || nid == NID_id_pkix_OCSP_noCheck;
}

/* Add the kept extension for (nid, value) to x (X509_add_ext copies it):
 * 1 added, 0 none kept, -1 failed. */
static int add_kept_ext(X509 *x, int nid, const char *value)
{
	int i, r = 0;

	pthread_mutex_lock(&kept_lock);
	for (i = 0; i < KEPT_EXTS && kept_exts[i].ext != NULL; i++)
		if (kept_exts[i].nid == nid &&
		    strcmp(kept_exts[i].value, value) == 0) {
			r = X509_add_ext(x, kept_exts[i].ext, -1) ? 1 : -1;
			break;
		}
	pthread_mutex_unlock(&kept_lock);
	return r;
}

static void keep_ext(int nid, const char *value, const X509_EXTENSION *ext)
{
	X509_EXTENSION *copy = X509_EXTENSION_dup(ext);
	char *v = strdup(value);
	int i;

	pthread_mutex_lock(&kept_lock);
	for (i = 0; i < KEPT_EXTS && kept_exts[i].ext != NULL; i++)
		if (kept_exts[i].nid == nid &&
		    strcmp(kept_exts[i].value, value) == 0)
			break;
	if (i < KEPT_EXTS && kept_exts[i].ext == NULL && copy != NULL &&
	    v != NULL) {
		kept_exts[i].nid = nid;
		kept_exts[i].value = v;
		kept_exts[i].ext = copy;
		copy = NULL;
		v = NULL;
	}
	pthread_mutex_unlock(&kept_lock);
	X509_EXTENSION_free(copy);
	free(v);
}

int ca_x509_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	int ok = 0, keep = issuer == NULL && context_free(nid);

	if (keep)
		ok = add_kept_ext(x, nid, value);
	if (ok == 0) {
		X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
		if (ext == NULL) {
			ERR_clear_error();
			return ca_err(CA_EUSAGE,
				      "invalid %s extension value '%s'",
				      OBJ_nid2sn(nid), value);
		}
		if (keep)
			keep_ext(nid, value, ext);
		ok = X509_add_ext(x, ext, -1) ? 1 : -1;
		X509_EXTENSION_free(ext);
	}
	return ok > 0 ? CA_OK
		      : ca_err(CA_EIO, "cannot add the %s extension",
			       OBJ_nid2sn(nid));
}

int ca_x509_tbs(X509 *x, const unsigned char *algid, size_t algid_len,
		unsigned char **tbs, size_t *tbs_len)
{
	const unsigned char *p = algid;
	X509_ALGOR *want = d2i_X509_ALGOR(NULL, &p, (long)algid_len);
	/* OpenSSL 3.0 has no setter for the TBS signature field; it is part
	 * of the TBS we own and re-encode below. */
	X509_ALGOR *tbs_alg = (X509_ALGOR *)X509_get0_tbs_sigalg(x);
	unsigned char *der = NULL;
	int n, rc = CA_EIO;

	*tbs = NULL;
	if (want == NULL || X509_ALGOR_copy(tbs_alg, want) != 1)
		goto out;
	n = i2d_re_X509_tbs(x, &der);
	if (n <= 0)
		goto out;
	*tbs = malloc((size_t)n);
	if (*tbs == NULL)
		goto out;
	memcpy(*tbs, der, (size_t)n);
	*tbs_len = (size_t)n;
	rc = CA_OK;
out:
	if (rc < 0)
		ca_err(CA_EIO, "cannot encode the certificate to be signed");
	OPENSSL_free(der);
	X509_ALGOR_free(want);
	return rc;
}

int ca_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return ca_err(CA_EUSAGE, "invalid time in certificate");
	*out = timegm(&tm);
	return CA_OK;
}

int ca_tbs_parse(const unsigned char *tbs, size_t tbs_len, X509 **out)
{
	/* ecdsa-with-SHA256: any well-formed AlgorithmIdentifier will do. */
	static const unsigned char placeholder_alg[] = {0x30, 0x0a, 0x06, 0x08,
							0x2a, 0x86, 0x48, 0xce,
							0x3d, 0x04, 0x03, 0x02};
	static const unsigned char placeholder_sig[] = {0x00};
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len;
	int rc;

	rc = ca_signed_assemble(tbs, tbs_len, placeholder_alg,
				sizeof(placeholder_alg), placeholder_sig,
				sizeof(placeholder_sig), &der, &len);
	if (rc < 0)
		return rc;
	p = der;
	*out = d2i_X509(NULL, &p, (long)len);
	free(der);
	if (*out == NULL) {
		ERR_clear_error();
		return ca_err(CA_EPOLICY,
			      "the certificate to be signed does not parse");
	}
	return CA_OK;
}

int ca_x509_der(X509 *x, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_X509(x, der);
	if (n <= 0)
		return ca_err(CA_EIO, "cannot encode the certificate");
	*len = (size_t)n;
	return CA_OK;
}

int ca_x509_load(const char *path, X509 **out)
{
	unsigned char *data = NULL;
	const unsigned char *p;
	size_t len;
	BIO *b = NULL;
	int rc;

	*out = NULL;
	rc = ca_read_file(path, CA_MAX_INPUT, &data, &len);
	if (rc < 0)
		return rc;
	b = BIO_new_mem_buf(data, (int)len);
	if (b != NULL)
		*out = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (*out == NULL) {
		p = data;
		*out = d2i_X509(NULL, &p, (long)len);
	}
	ERR_clear_error();
	BIO_free(b);
	free(data);
	if (*out == NULL)
		return ca_err(CA_EUSAGE, "%s is not a certificate (PEM or DER)",
			      path);
	return CA_OK;
}

/* One "-----BEGIN CERTIFICATE-----" block at text[*at] (after
 * whitespace): parsed completely, or CA_EPOLICY naming where the file is
 * damaged. *x is NULL at the end of the text. */
static int next_pem_cert(const char *path, const char *text, size_t len,
			 size_t *at, size_t nth, X509 **x)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	size_t i = *at, stop;
	const char *e;
	BIO *b;

	*x = NULL;
	while (i < len && strchr(" \t\r\n", text[i]) != NULL && text[i])
		i++;
	if (i == len) {
		*at = i;
		return CA_OK;
	}
	e = len - i >= sizeof(begin) - 1 &&
		    memcmp(text + i, begin, sizeof(begin) - 1) == 0
		? strstr(text + i, end)
		: NULL;
	stop = e ? (size_t)(e - text) + sizeof(end) - 1 : len;
	/* The block on its own, its END line terminated. */
	b = e ? BIO_new(BIO_s_mem()) : NULL;
	if (b != NULL && BIO_write(b, text + i, (int)(stop - i)) > 0 &&
	    BIO_write(b, "\n", 1) == 1)
		*x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (*x == NULL)
		return ca_err(CA_EPOLICY,
			      "%s is damaged: certificate %zu (at byte %zu) is "
			      "not a readable PEM certificate; restore the "
			      "file before using it",
			      path, nth, i);
	*at = stop;
	return CA_OK;
}

int ca_x509_load_all(const char *path, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	unsigned char *data = NULL;
	size_t len = 0, at = 0;
	X509 *x = NULL;
	int rc;

	*out = NULL;
	if (sk == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_read_file(path, CA_MAX_INPUT, &data, &len));
	if (memchr(data, '\0', len) != NULL) {
		rc = ca_err(CA_EPOLICY,
			    "%s is damaged: it holds a NUL byte (PEM "
			    "certificates expected)",
			    path);
		goto out;
	}
	/* Nothing but PEM certificates and whitespace: a file damaged after
	 * its first certificate is refused, never used in part. */
	for (;;) {
		GUARD(next_pem_cert(path, (const char *)data, len, &at,
				    (size_t)sk_X509_num(sk) + 1, &x));
		if (x == NULL)
			break;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
	}
	*out = sk;
	sk = NULL;
out:
	sk_X509_pop_free(sk, X509_free);
	free(data);
	return rc;
}

void ca_x509_sha256_hex(X509 *x, char out[65])
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	if (n > 0)
		ca_sha256_hex(der, (size_t)n, out);
	else
		snprintf(out, 65, "unavailable");
	OPENSSL_free(der);
}

int ca_x509_der_tbs(const unsigned char *der, size_t len,
		    const unsigned char **tbs, size_t *tbs_len)
{
	const unsigned char *p = der, *q;
	long clen;
	int tag, xclass, r;

	r = ASN1_get_object(&p, &clen, &tag, &xclass, (long)len);
	if ((r & 0x80) || tag != V_ASN1_SEQUENCE)
		goto bad;
	q = p;
	r = ASN1_get_object(&q, &clen, &tag, &xclass, (long)(der + len - p));
	if ((r & 0x80) || tag != V_ASN1_SEQUENCE)
		goto bad;
	*tbs = p;
	*tbs_len = (size_t)(q - p) + (size_t)clen;
	return CA_OK;
bad:
	ERR_clear_error();
	return ca_err(CA_EIO, "a stored certificate is not DER");
}
