#include "x509/describe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "base/hex.h"
#include "base/sha256.h"
#include "base/text.h"
#include "base/time.h"
#include "x509/der.h"
#include "x509/spki.h"

#define SHOW_CRL_ENTRIES 10 /* first CRL entries shown */

static json_t *bio_text(BIO *b, int newlines, int escaped)
{
	char *data = NULL, *clean;
	long n = BIO_get_mem_data(b, &data);
	json_t *j;

	if (n < 0 || data == NULL)
		return json_string("");
	/* Drop trailing newlines. */
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' '))
		n--;
	clean = ca_text_clean((const unsigned char *)data, (size_t)n, newlines,
			      escaped);
	if (clean == NULL)
		return NULL;
	j = json_string(clean);
	free(clean);
	return j;
}

/* RFC 2253 with every non-ASCII byte escaped (\C3\A9): look-alike
 * characters are visible to the people approving. */
static json_t *name_json(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	json_t *j = NULL;

	if (b != NULL && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
		j = bio_text(b, 0, 1);
	BIO_free(b);
	return j;
}

static json_t *time_json(const ASN1_TIME *t)
{
	char buf[32];
	struct tm tm;

	if (t == NULL)
		return json_null();
	if (ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return json_string("(invalid time)");
	}
	ca_time_rfc3339(timegm(&tm), buf, sizeof(buf));
	return json_string(buf);
}

/* Colon-separated hex of an INTEGER's magnitude, "-" when negative. */
static json_t *integer_hex_json(const ASN1_INTEGER *a)
{
	const unsigned char *p = ASN1_STRING_get0_data(a);
	int i, n = ASN1_STRING_length(a), neg;
	char *s;
	size_t o = 0;
	json_t *j;

	neg = ASN1_STRING_type(a) == V_ASN1_NEG_INTEGER;
	if (n <= 0)
		return json_string("00");
	s = malloc((size_t)n * 3 + 2);
	if (s == NULL)
		return NULL;
	if (neg)
		s[o++] = '-';
	for (i = 0; i < n; i++) {
		snprintf(s + o, 4, "%s%02x", i ? ":" : "", p[i]);
		o += i ? 3 : 2;
	}
	j = json_string(s);
	free(s);
	return j;
}

static json_t *alg_json(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj = NULL;
	char buf[128];

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj == NULL || OBJ_obj2txt(buf, sizeof(buf), obj, 0) <= 0)
		return json_string("(unknown)");
	return json_string(buf);
}

static json_t *ext_json(X509_EXTENSION *ext)
{
	ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
	char name[128], oid[128];
	BIO *b = BIO_new(BIO_s_mem());
	json_t *j = NULL, *value = NULL;

	if (b == NULL || OBJ_obj2txt(name, sizeof(name), obj, 0) <= 0 ||
	    OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
		goto out;
	if (X509V3_EXT_print(b, ext, X509V3_EXT_DUMP_UNKNOWN, 0) == 1) {
		value = bio_text(b, 1, 0);
	} else {
		/* A known extension whose value does not decode. */
		const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
		char *hex = malloc(2 * (size_t)ASN1_STRING_length(v) + 1);

		if (hex != NULL) {
			ca_hex(ASN1_STRING_get0_data(v),
			       (size_t)ASN1_STRING_length(v), hex);
			value = json_sprintf("(does not decode) DER %s", hex);
		}
		free(hex);
	}
	ERR_clear_error();
	if (value == NULL)
		goto out;
	j = json_pack("{s:s, s:s, s:b, s:o}", "name", name, "oid", oid,
		      "critical", X509_EXTENSION_get_critical(ext) > 0, "value",
		      value);
	value = NULL;
out:
	json_decref(value);
	BIO_free(b);
	return j;
}

static json_t *exts_json(const STACK_OF(X509_EXTENSION) * exts)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; arr != NULL && i < sk_X509_EXTENSION_num(exts); i++)
		if (json_array_append_new(
			arr, ext_json(sk_X509_EXTENSION_value(exts, i))) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *pubkey_json(X509_PUBKEY *xpk)
{
	char hex[65], group[80], type[128];
	EVP_PKEY *pkey;
	size_t gl = 0;
	json_t *j = NULL;

	if (ca_spki_der_sha256_hex(xpk, hex) < 0)
		goto out;
	pkey = X509_PUBKEY_get0(xpk);
	if (pkey == NULL) {
		ASN1_OBJECT *obj = NULL;

		ERR_clear_error();
		if (X509_PUBKEY_get0_param(&obj, NULL, NULL, NULL, xpk) != 1 ||
		    OBJ_obj2txt(type, sizeof(type), obj, 0) <= 0)
			snprintf(type, sizeof(type), "unknown");
		j = json_pack("{s:s, s:s}", "type", type, "spki_sha256", hex);
		goto out;
	}
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		snprintf(type, sizeof(type), "RSA");
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(type, sizeof(type), "RSA-PSS");
		break;
	case EVP_PKEY_EC:
		snprintf(type, sizeof(type), "EC");
		break;
	case EVP_PKEY_ED25519:
		snprintf(type, sizeof(type), "Ed25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(type, sizeof(type), "Ed448");
		break;
	default:
		snprintf(type, sizeof(type), "%s",
			 OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
	}
	j = json_pack("{s:s, s:i, s:s}", "type", type, "bits",
		      EVP_PKEY_get_bits(pkey), "spki_sha256", hex);
	if (j != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_utf8_string_param(
			pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&gl) != 1)
			snprintf(group, sizeof(group), "explicit parameters");
		if (json_object_set_new(j, "curve", json_string(group)) != 0) {
			json_decref(j);
			j = NULL;
		}
	}
out:
	ERR_clear_error();
	return j;
}

/* A TBS wrapped as SEQUENCE { tbs, placeholder algorithm, empty BIT
 * STRING } so OpenSSL's decoders take it; the placeholder is never shown. */
static int wrap_tbs(const unsigned char *tbs, size_t tbs_len,
		    unsigned char **der, size_t *len)
{
	/* sha256WithRSAEncryption, NULL parameters */
	static const unsigned char alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
					    0x86, 0x48, 0x86, 0xf7, 0x0d,
					    0x01, 0x01, 0x0b, 0x05, 0x00};
	static const unsigned char sig[] = {0x03, 0x01, 0x00};
	unsigned char hdr[6];
	size_t body = tbs_len + sizeof(alg) + sizeof(sig), hl;

	if (tbs_len > 0xffffff)
		return ca_err(CA_EPOLICY, "the data to be signed is too large");
	hl = ca_der_header(0x30, body, hdr);
	*len = hl + body;
	*der = malloc(*len);
	if (*der == NULL)
		return ca_err(CA_EIO, "out of memory");
	memcpy(*der, hdr, hl);
	memcpy(*der + hl, tbs, tbs_len);
	memcpy(*der + hl + tbs_len, alg, sizeof(alg));
	memcpy(*der + hl + tbs_len + sizeof(alg), sig, sizeof(sig));
	return CA_OK;
}

int ca_describe_cert(const unsigned char *tbs, size_t tbs_len, json_t **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *x = NULL;
	size_t len = 0;
	json_t *j;
	int rc;

	GUARD(wrap_tbs(tbs, tbs_len, &der, &len));
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		rc =
		    ca_err(CA_EPOLICY,
			   "the certificate to be signed (TBSCertificate) does "
			   "not decode");
		goto out;
	}
	j = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		      "version", (int)X509_get_version(x) + 1, "subject",
		      name_json(X509_get_subject_name(x)), "issuer",
		      name_json(X509_get_issuer_name(x)), "serial",
		      integer_hex_json(X509_get0_serialNumber(x)), "not_before",
		      time_json(X509_get0_notBefore(x)), "not_after",
		      time_json(X509_get0_notAfter(x)), "signature_algorithm",
		      alg_json(X509_get0_tbs_sigalg(x)), "public_key",
		      pubkey_json(X509_get_X509_PUBKEY(x)), "extensions",
		      exts_json(X509_get0_extensions(x)));
	if (j == NULL) {
		rc = ca_err(CA_EIO, "cannot describe the certificate");
		goto out;
	}
	*out = j;
out:
	ERR_clear_error();
	X509_free(x);
	free(der);
	return rc;
}

static const char *reason_name(long code)
{
	static const char *const names[] = {
	    "unspecified",	  "keyCompromise", "cACompromise",
	    "affiliationChanged", "superseded",	   "cessationOfOperation",
	    "certificateHold",	  "(7)",	   "removeFromCRL",
	    "privilegeWithdrawn", "aACompromise"};

	if (code < 0 || code > 10)
		return "(unknown)";
	return names[code];
}

static json_t *revoked_json(X509_REVOKED *r)
{
	ASN1_ENUMERATED *reason;
	json_t *j;
	int crit = 0;

	j = json_pack("{s:o, s:o}", "serial",
		      integer_hex_json(X509_REVOKED_get0_serialNumber(r)),
		      "revoked_at",
		      time_json(X509_REVOKED_get0_revocationDate(r)));
	reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	if (j != NULL && reason != NULL &&
	    json_object_set_new(
		j, "reason",
		json_string(reason_name(ASN1_ENUMERATED_get(reason)))) != 0) {
		json_decref(j);
		j = NULL;
	}
	ASN1_ENUMERATED_free(reason);
	ERR_clear_error();
	return j;
}

static json_t *crl_number_json(X509_CRL *crl)
{
	ASN1_INTEGER *num;
	BIGNUM *bn = NULL;
	char *dec = NULL;
	json_t *j;
	int crit = 0;

	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num != NULL)
		bn = ASN1_INTEGER_to_BN(num, NULL);
	if (bn != NULL)
		dec = BN_bn2dec(bn);
	j = dec != NULL ? json_string(dec) : json_null();
	OPENSSL_free(dec);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	ERR_clear_error();
	return j;
}

/* TBSCertList (RFC 5280 5.1): SEQUENCE { version INTEGER OPTIONAL,
 * signature AlgorithmIdentifier, ... }; OpenSSL 3.0 has no accessor for
 * the inner algorithm, so read it from the bytes. */
static json_t *crl_tbs_alg_json(const unsigned char *tbs, size_t tbs_len)
{
	const unsigned char *p = tbs, *q;
	long len = 0;
	int tag = 0, xclass = 0, r;
	X509_ALGOR *alg = NULL;
	json_t *j = NULL;

	r = ASN1_get_object(&p, &len, &tag, &xclass, (long)tbs_len);
	if ((r & 0x80) != 0 || tag != V_ASN1_SEQUENCE)
		goto out;
	q = p;
	r = ASN1_get_object(&q, &len, &tag, &xclass, (long)(tbs + tbs_len - p));
	if ((r & 0x80) == 0 && tag == V_ASN1_INTEGER &&
	    xclass == V_ASN1_UNIVERSAL)
		p = q + len;
	alg = d2i_X509_ALGOR(NULL, &p, (long)(tbs + tbs_len - p));
	if (alg != NULL)
		j = alg_json(alg);
out:
	ERR_clear_error();
	X509_ALGOR_free(alg);
	return j != NULL ? j : json_string("(unknown)");
}

int ca_describe_crl(const unsigned char *tbs, size_t tbs_len, json_t **out)
{
	STACK_OF(X509_REVOKED) * revoked;
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_CRL *crl = NULL;
	json_t *j = NULL, *first = NULL;
	size_t len = 0;
	int rc, i, n;

	GUARD(wrap_tbs(tbs, tbs_len, &der, &len));
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl == NULL || p != der + len) {
		rc = ca_err(
		    CA_EPOLICY,
		    "the CRL to be signed (TBSCertList) does not decode");
		goto out;
	}
	revoked = X509_CRL_get_REVOKED(crl);
	n = sk_X509_REVOKED_num(revoked);
	if (n < 0)
		n = 0;
	first = json_array();
	for (i = 0; first != NULL && i < n && i < SHOW_CRL_ENTRIES; i++)
		if (json_array_append_new(
			first, revoked_json(sk_X509_REVOKED_value(revoked, i))))
			goto oom;
	j = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:i, s:O, s:o}",
		      "version", (int)X509_CRL_get_version(crl) + 1, "issuer",
		      name_json(X509_CRL_get_issuer(crl)),
		      "signature_algorithm", crl_tbs_alg_json(tbs, tbs_len),
		      "this_update", time_json(X509_CRL_get0_lastUpdate(crl)),
		      "next_update", time_json(X509_CRL_get0_nextUpdate(crl)),
		      "crl_number", crl_number_json(crl), "entries", n,
		      "first_entries", first, "extensions",
		      exts_json(X509_CRL_get0_extensions(crl)));
	if (j == NULL)
		goto oom;
	*out = j;
	goto out;
oom:
	rc = ca_err(CA_EIO, "cannot describe the CRL");
out:
	json_decref(first);
	ERR_clear_error();
	X509_CRL_free(crl);
	free(der);
	return rc;
}
