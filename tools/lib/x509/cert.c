#include "x509/cert.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/util.h"
#include "out/file.h"

int ca_algid_der(const EVP_PKEY *pub, unsigned char **der, size_t *len)
{
	X509_ALGOR *alg = NULL;
	const char *md = ca_digest_for_key(pub);
	int type = EVP_PKEY_get_base_id(pub), nid = NID_undef, ptype = V_ASN1_UNDEF;
	int n, rc = CA_EIO;

	*der = NULL;
	if (type == EVP_PKEY_ED25519) {
		nid = NID_ED25519;
	} else if (type == EVP_PKEY_EC) {
		nid = strcmp(md, "SHA512") == 0	  ? NID_ecdsa_with_SHA512
		      : strcmp(md, "SHA384") == 0 ? NID_ecdsa_with_SHA384
						  : NID_ecdsa_with_SHA256;
	} else if (type == EVP_PKEY_RSA) {
		nid = NID_sha256WithRSAEncryption;
		ptype = V_ASN1_NULL; /* RFC 4055 / 3279: NULL parameters */
	} else {
		return ca_err(CA_EPOLICY, "unsupported key type for signing");
	}
	alg = X509_ALGOR_new();
	if (alg == NULL || X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL) != 1)
		goto out;
	n = i2d_X509_ALGOR(alg, der);
	if (n <= 0)
		goto out;
	*len = (size_t)n;
	rc = CA_OK;
out:
	if (rc < 0)
		ca_err(CA_EIO, "cannot encode the signature algorithm");
	X509_ALGOR_free(alg);
	return rc;
}

int ca_serial_new(ca_token *tok, ASN1_INTEGER **out)
{
	unsigned char raw[CA_SERIAL_LEN];
	BIGNUM *bn = NULL;
	int rc;

	*out = NULL;
	raw[0] = 0x01;
	rc = ca_token_random(tok, raw + 1, sizeof(raw) - 1);
	if (rc < 0)
		return rc;
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	if (bn == NULL || (*out = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		rc = ca_err(CA_EIO, "cannot encode the serial number");
	BN_free(bn);
	return rc;
}

int ca_serial_hex(const ASN1_INTEGER *serial, char *out, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	unsigned char buf[64];
	int n;

	if (bn == NULL)
		return ca_err(CA_EIO, "cannot read the serial number");
	n = BN_num_bytes(bn);
	if (BN_is_negative(bn) || n > 32 || (size_t)(2 * n + 1) > len) {
		BN_free(bn);
		return ca_err(CA_EPOLICY, "serial number is negative or too long");
	}
	BN_bn2bin(bn, buf);
	BN_free(bn);
	if (n == 0) {
		snprintf(out, len, "00");
		return CA_OK;
	}
	ca_hex(buf, (size_t)n, out);
	return CA_OK;
}

int ca_serial_parse(const char *hex, ASN1_INTEGER **out)
{
	unsigned char raw[32];
	char clean[80];
	size_t n = 0, i, len;
	BIGNUM *bn = NULL;
	int rc;

	*out = NULL;
	/* Accept an odd number of digits by left-padding with a zero. */
	for (i = 0; hex[i] != '\0' && n + 2 < sizeof(clean); i++)
		if (hex[i] != ':')
			clean[n++] = hex[i];
	if (hex[i] != '\0' || n == 0)
		return ca_err(CA_EUSAGE, "malformed serial '%s'", hex);
	clean[n] = '\0';
	if (n % 2) {
		memmove(clean + 1, clean, n + 1);
		clean[0] = '0';
	}
	rc = ca_unhex(clean, raw, sizeof(raw), &len);
	if (rc < 0)
		return ca_err(CA_EUSAGE, "malformed serial '%s': %s", hex, ca_errmsg());
	bn = BN_bin2bn(raw, (int)len, NULL);
	if (bn == NULL || BN_is_zero(bn) || BN_num_bytes(bn) > 20) {
		BN_free(bn);
		return ca_err(CA_EUSAGE, "malformed serial '%s': must be 1 to 20 "
					 "octets and not zero", hex);
	}
	*out = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return *out ? CA_OK : ca_err(CA_EIO, "out of memory");
}

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
	return ok ? CA_OK : ca_err(CA_EUSAGE, "validity period cannot be encoded");
}

int ca_x509_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL) {
		ERR_clear_error();
		return ca_err(CA_EUSAGE, "invalid %s extension value '%s'",
			      OBJ_nid2sn(nid), value);
	}
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? CA_OK : ca_err(CA_EIO, "cannot add the %s extension",
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

size_t ca_der_header(unsigned char tag, size_t len, unsigned char out[6])
{
	size_t n = 0, i;

	out[n++] = tag;
	if (len < 0x80) {
		out[n++] = (unsigned char)len;
		return n;
	}
	i = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
	out[n++] = (unsigned char)(0x80 | i);
	while (i-- > 0)
		out[n++] = (unsigned char)(len >> (8 * i));
	return n;
}

int ca_signed_assemble(const unsigned char *tbs, size_t tbs_len,
		       const unsigned char *algid, size_t algid_len,
		       const unsigned char *sig, size_t sig_len,
		       unsigned char **der, size_t *len)
{
	unsigned char bh[6], sh[6], *p;
	size_t bhl, shl, body;

	bhl = ca_der_header(0x03, sig_len + 1, bh);
	body = tbs_len + algid_len + bhl + sig_len + 1;
	shl = ca_der_header(0x30, body, sh);
	*len = shl + body;
	*der = p = malloc(*len);
	if (p == NULL)
		return ca_err(CA_EIO, "out of memory");
	memcpy(p, sh, shl);
	p += shl;
	memcpy(p, tbs, tbs_len);
	p += tbs_len;
	memcpy(p, algid, algid_len);
	p += algid_len;
	memcpy(p, bh, bhl);
	p += bhl;
	*p++ = 0x00; /* no unused bits */
	memcpy(p, sig, sig_len);
	return CA_OK;
}

int ca_tbs_parse(const unsigned char *tbs, size_t tbs_len, X509 **out)
{
	/* ecdsa-with-SHA256: any well-formed AlgorithmIdentifier will do. */
	static const unsigned char placeholder_alg[] = {
		0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
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
		return ca_err(CA_EPOLICY, "the certificate to be signed does not parse");
	}
	return CA_OK;
}

/* Read one DER TLV at p (definite lengths up to 4 octets). */
static int der_tlv(const unsigned char *p, const unsigned char *end,
		   unsigned char *tag, const unsigned char **content, size_t *len)
{
	size_t n, i, hdr = 2;

	if (end - p < 2)
		return -1;
	*tag = p[0];
	n = p[1];
	if (n & 0x80) {
		i = n & 0x7f;
		if (i == 0 || i > 4 || (size_t)(end - p) < 2 + i)
			return -1;
		for (n = 0; i > 0; i--, hdr++)
			n = n << 8 | p[hdr];
	}
	if ((size_t)(end - p) - hdr < n)
		return -1;
	*content = p + hdr;
	*len = n;
	return 0;
}

int ca_tbs_sigalg(const unsigned char *tbs, size_t tbs_len,
		  const unsigned char **algid, size_t *algid_len)
{
	const unsigned char *end = tbs + tbs_len, *c, *p;
	unsigned char tag;
	size_t len;

	/* TBSCertificate / TBSCertList: SEQUENCE { [0] version OPTIONAL or
	 * INTEGER version OPTIONAL, (serial INTEGER,) signature AlgId, ... } */
	if (der_tlv(tbs, end, &tag, &c, &len) < 0 || tag != 0x30)
		goto bad;
	end = c + len;
	p = c;
	while (p < end) {
		if (der_tlv(p, end, &tag, &c, &len) < 0)
			goto bad;
		if (tag == 0x30) {
			*algid = p;
			*algid_len = (size_t)(c + len - p);
			return CA_OK;
		}
		if (tag != 0xa0 && tag != 0x02)
			goto bad;
		p = c + len;
	}
bad:
	return ca_err(CA_EPOLICY, "the data to be signed is not a TBS structure");
}

int ca_signed_verify(EVP_PKEY *issuer_pub, const unsigned char *tbs,
		     size_t tbs_len, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md != NULL &&
	     EVP_DigestVerifyInit_ex(md, NULL, ca_digest_for_key(issuer_pub), NULL,
				     NULL, issuer_pub, NULL) == 1 &&
	     EVP_DigestVerify(md, sig, sig_len, tbs, tbs_len) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok ? CA_OK
		  : ca_err(CA_EIO, "the token's signature does not verify with the "
				   "issuer's public key: nothing was written");
}

int ca_cert_sign_der(struct ca_signer *s, const unsigned char *tbs, size_t tbs_len,
		     EVP_PKEY *issuer_pub, unsigned char **der, size_t *der_len)
{
	unsigned char *algid = NULL, *sig = NULL;
	const unsigned char *want;
	size_t algid_len = 0, want_len = 0, sig_len = 0;
	int rc;

	*der = NULL;
	GUARD(ca_tbs_sigalg(tbs, tbs_len, &want, &want_len));
	GUARD(ca_signer_algid(s, &algid, &algid_len));
	if (algid_len != want_len || CRYPTO_memcmp(algid, want, want_len) != 0) {
		rc = ca_err(CA_EPOLICY, "the certificate's signature algorithm is "
					"not the one the key %s signs with", s->uri);
		goto out;
	}
	GUARD(ca_signer_sign(s, tbs, tbs_len, &sig, &sig_len));
	/* Never release a faulty HSM signature. */
	GUARD(ca_signed_verify(issuer_pub, tbs, tbs_len, sig, sig_len));
	GUARD(ca_signed_assemble(tbs, tbs_len, algid, algid_len, sig, sig_len, der,
				 der_len));
out:
	free(algid);
	free(sig);
	return rc;
}

int ca_cert_sign(struct ca_signer *s, const unsigned char *tbs, size_t tbs_len,
		 EVP_PKEY *issuer_pub, X509 **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t der_len = 0;
	int rc;

	*out = NULL;
	rc = ca_cert_sign_der(s, tbs, tbs_len, issuer_pub, &der, &der_len);
	if (rc < 0)
		return rc;
	p = der;
	*out = d2i_X509(NULL, &p, (long)der_len);
	if (*out == NULL || p != der + der_len) {
		X509_free(*out);
		*out = NULL;
		rc = ca_err(CA_EIO, "the signed certificate does not parse");
	}
	free(der);
	return rc;
}

static EVP_PKEY *throwaway_key(const EVP_PKEY *pub)
{
	int type = EVP_PKEY_get_base_id(pub);
	char group[64];
	size_t n = 0;

	if (type == EVP_PKEY_RSA) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		EVP_PKEY *k = NULL;

		if (c != NULL && EVP_PKEY_keygen_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_keygen_bits(c, EVP_PKEY_get_bits(pub)) == 1)
			(void)EVP_PKEY_keygen(c, &k);
		EVP_PKEY_CTX_free(c);
		return k;
	}
	if (type == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), &n))
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
	if (type == EVP_PKEY_ED25519)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return NULL;
}

int ca_cert_lint_copy(const EVP_PKEY *pub, const unsigned char *tbs,
		      size_t tbs_len, const char *path, int force)
{
	unsigned char *algid = NULL, *sig = NULL, *der = NULL;
	size_t algid_len = 0, sig_len = 0, der_len = 0;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	int rc = CA_EIO;

	GUARD(ca_algid_der(pub, &algid, &algid_len));
	k = throwaway_key(pub);
	md = EVP_MD_CTX_new();
	if (k == NULL || md == NULL ||
	    EVP_DigestSignInit_ex(md, NULL, ca_digest_for_key(pub), NULL, NULL, k,
				  NULL) != 1 ||
	    EVP_DigestSign(md, NULL, &sig_len, tbs, tbs_len) != 1 ||
	    (sig = malloc(sig_len)) == NULL ||
	    EVP_DigestSign(md, sig, &sig_len, tbs, tbs_len) != 1) {
		rc = ca_err(CA_EIO, "cannot sign the lint copy with a throwaway key");
		goto out;
	}
	GUARD(ca_signed_assemble(tbs, tbs_len, algid, algid_len, sig, sig_len,
				 &der, &der_len));
	GUARD(ca_out_write(path, der, der_len, force, 0644));
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	OPENSSL_free(algid);
	free(sig);
	free(der);
	return rc;
}

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

int ca_x509_pem(X509 *x, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc = CA_EIO;

	*pem = NULL;
	if (b != NULL && PEM_write_bio_X509(b, x) == 1)
		rc = ca_bio_copy(b, pem, len);
	BIO_free(b);
	if (rc < 0)
		return ca_err(CA_EIO, "cannot encode the certificate as PEM");
	return CA_OK;
}

int ca_der_pem(const char *label, const unsigned char *der, size_t der_len,
	       char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc = CA_EIO;

	*pem = NULL;
	if (b != NULL && PEM_write_bio(b, label, "", der, (long)der_len) > 0)
		rc = ca_bio_copy(b, pem, len);
	BIO_free(b);
	if (rc < 0)
		return ca_err(CA_EIO, "cannot encode %s as PEM", label);
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
		return ca_err(CA_EUSAGE, "%s is not a certificate (PEM or DER)", path);
	return CA_OK;
}

int ca_x509_load_all(const char *path, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = NULL;
	X509 *x;
	int rc = CA_OK;

	*out = NULL;
	if (sk == NULL)
		return ca_err(CA_EIO, "out of memory");
	b = BIO_new_file(path, "r");
	if (b == NULL) {
		sk_X509_free(sk);
		ERR_clear_error();
		return ca_err(CA_EIO, "cannot open %s", path);
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			rc = ca_err(CA_EIO, "out of memory");
			break;
		}
	}
	ERR_clear_error();
	BIO_free(b);
	if (rc < 0) {
		sk_X509_pop_free(sk, X509_free);
		return rc;
	}
	*out = sk;
	return CA_OK;
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
