#include "input/csrder.h"
#include "x509/spki.h"

#include <pthread.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

/* RFC 2986 4: CertificationRequest, with the key left as encoded. */
typedef struct {
	X509_ALGOR *alg;
	ASN1_BIT_STRING *bits;
} SPKI_RAW;

ASN1_SEQUENCE(SPKI_RAW) =
    {
	ASN1_SIMPLE(SPKI_RAW, alg, X509_ALGOR),
	ASN1_SIMPLE(SPKI_RAW, bits, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(SPKI_RAW)

	typedef struct {
	ASN1_ENCODING enc; /* the exact bytes the signature covers */
	ASN1_INTEGER *version;
	X509_NAME *subject;
	SPKI_RAW *spki;
	STACK_OF(X509_ATTRIBUTE) * attributes;
} CRI_RAW;

ASN1_SEQUENCE_enc(CRI_RAW, enc, NULL) =
    {
	ASN1_SIMPLE(CRI_RAW, version, ASN1_INTEGER),
	ASN1_SIMPLE(CRI_RAW, subject, X509_NAME),
	ASN1_SIMPLE(CRI_RAW, spki, SPKI_RAW),
	ASN1_IMP_SET_OF_OPT(CRI_RAW, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(CRI_RAW, CRI_RAW)

	typedef struct {
	CRI_RAW *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *sig;
} CSR_RAW;

ASN1_SEQUENCE(CSR_RAW) =
    {
	ASN1_SIMPLE(CSR_RAW, info, CRI_RAW),
	ASN1_SIMPLE(CSR_RAW, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CSR_RAW, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CSR_RAW)

    /* RFC 8017 A.1.1: RSAPublicKey */
    typedef struct {
	ASN1_INTEGER *n;
	ASN1_INTEGER *e;
} RSA_PUB_RAW;

ASN1_SEQUENCE(RSA_PUB_RAW) =
    {
	ASN1_SIMPLE(RSA_PUB_RAW, n, ASN1_INTEGER),
	ASN1_SIMPLE(RSA_PUB_RAW, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(RSA_PUB_RAW)

	static EVP_PKEY
    * from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
	EVP_PKEY_CTX *ctx =
	    params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_key(const ASN1_BIT_STRING *bits, char *why, size_t len)
{
	const unsigned char *p = ASN1_STRING_get0_data(bits);
	RSA_PUB_RAW *r = (RSA_PUB_RAW *)ASN1_item_d2i(
	    NULL, &p, ASN1_STRING_length(bits), ASN1_ITEM_rptr(RSA_PUB_RAW));
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (r == NULL ||
	    p != ASN1_STRING_get0_data(bits) + ASN1_STRING_length(bits) ||
	    (n = ASN1_INTEGER_to_BN(r->n, NULL)) == NULL ||
	    (e = ASN1_INTEGER_to_BN(r->e, NULL)) == NULL || BN_is_negative(n) ||
	    BN_is_negative(e) || BN_is_zero(e)) {
		snprintf(why, len, "malformed RSA public key");
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		pkey = from_params("RSA", bld);
	if (pkey == NULL)
		snprintf(why, len, "unusable RSA public key");
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	ASN1_item_free((ASN1_VALUE *)r, ASN1_ITEM_rptr(RSA_PUB_RAW));
	return pkey;
}

/* One EC key per curve made from parameters (its group built once);
 * every later key of that curve is a copy of it with its own point, which
 * is decoded onto the curve or refused (EC_POINT_oct2point). Copies are
 * independent keys: threads decode CSRs at the same time. */
static struct {
	const char *name;
	EVP_PKEY *key;
} ec_templates[] = {
    {"prime256v1", NULL}, {"secp384r1", NULL}, {"secp521r1", NULL}};
static pthread_mutex_t ec_lock = PTHREAD_MUTEX_INITIALIZER;

/* Not inlined: scripts/bench-lib.sh names it in its cost breakdown. */
static __attribute__((noinline)) EVP_PKEY *
ec_from_template(const char *name, const unsigned char *pt, size_t pt_len,
		 OSSL_PARAM_BLD *bld)
{
	EVP_PKEY *t = NULL, *k = NULL;
	size_t i;

	for (i = 0; i < sizeof(ec_templates) / sizeof(ec_templates[0]); i++)
		if (strcmp(ec_templates[i].name, name) == 0)
			break;
	if (i == sizeof(ec_templates) / sizeof(ec_templates[0]))
		return from_params("EC", bld);
	pthread_mutex_lock(&ec_lock);
	t = ec_templates[i].key;
	pthread_mutex_unlock(&ec_lock);
	if (t == NULL) {
		k = from_params("EC", bld);
		pthread_mutex_lock(&ec_lock);
		if (k != NULL && ec_templates[i].key == NULL &&
		    EVP_PKEY_up_ref(k) == 1)
			ec_templates[i].key = k;
		pthread_mutex_unlock(&ec_lock);
		return k;
	}
	k = EVP_PKEY_dup(t);
	if (k != NULL && EVP_PKEY_set1_encoded_public_key(k, pt, pt_len) != 1) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

static EVP_PKEY *ec_key(const X509_ALGOR *alg, const ASN1_BIT_STRING *bits,
			char *why, size_t len)
{
	const ASN1_OBJECT *curve;
	const void *pval;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	const char *name;
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype != V_ASN1_OBJECT) {
		/* RFC 5480 2.1.1: named curves only */
		snprintf(why, len,
			 "EC key with explicit or missing curve parameters");
		return NULL;
	}
	curve = pval;
	name = OBJ_nid2sn(OBJ_obj2nid(curve));
	if (OBJ_obj2nid(curve) == NID_undef || name == NULL) {
		snprintf(why, len, "EC key on an unknown curve");
		return NULL;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					    name, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					     ASN1_STRING_get0_data(bits),
					     (size_t)ASN1_STRING_length(bits)))
		pkey = ec_from_template(name, ASN1_STRING_get0_data(bits),
					(size_t)ASN1_STRING_length(bits), bld);
	/* The point is decoded onto the curve, or refused. */
	if (pkey == NULL)
		snprintf(why, len, "EC public key is not a valid point on %s",
			 name);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static EVP_PKEY *public_key(const SPKI_RAW *spki, char *why, size_t len)
{
	const ASN1_OBJECT *obj;
	int nid;

	X509_ALGOR_get0(&obj, NULL, NULL, spki->alg);
	nid = OBJ_obj2nid(obj);
	/* Keys are whole octets (no unused bits) for every type we take. */
	if (spki->bits->flags & 0x07) {
		snprintf(why, len, "public key with unused bits");
		return NULL;
	}
	switch (nid) {
	case NID_rsaEncryption:
		return rsa_key(spki->bits, why, len);
	case NID_X9_62_id_ecPublicKey:
		return ec_key(spki->alg, spki->bits, why, len);
	case NID_ED25519:
		if (ASN1_STRING_length(spki->bits) == 32)
			return EVP_PKEY_new_raw_public_key_ex(
			    NULL, "ED25519", NULL,
			    ASN1_STRING_get0_data(spki->bits), 32);
		snprintf(why, len, "malformed Ed25519 public key");
		return NULL;
	default:
		snprintf(why, len,
			 "key type %s is refused (RSA, EC P-256/384/521 "
			 "or Ed25519)",
			 nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
		return NULL;
	}
}

/* SHA-2 signatures only (no MD5 or SHA-1 proof of possession); Ed25519
 * and RSASSA-PSS name their hash elsewhere. */
static int strong_sig_alg(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj;
	int md = NID_undef, pk = NID_undef, nid;

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_ED25519 || nid == NID_rsassaPss)
		return 1;
	if (!OBJ_find_sigid_algs(nid, &md, &pk))
		return 0;
	return md == NID_sha256 || md == NID_sha384 || md == NID_sha512;
}

/* An X509_REQ carrying what the tools read: subject, key, attributes. */
static int as_req(const CSR_RAW *raw, X509_REQ **out)
{
	X509_REQ *req = X509_REQ_new();
	int i, rc = CA_OK;

	*out = NULL;
	if (req == NULL || X509_REQ_set_version(req, 0) != 1 ||
	    X509_REQ_set_subject_name(req, raw->info->subject) != 1) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	rc = ca_x509_pubkey_copy(X509_REQ_get_X509_PUBKEY(req),
				 raw->info->spki->alg,
				 ASN1_STRING_get0_data(raw->info->spki->bits),
				 ASN1_STRING_length(raw->info->spki->bits));
	for (i = 0;
	     rc == CA_OK && i < sk_X509_ATTRIBUTE_num(raw->info->attributes);
	     i++)
		if (X509_REQ_add1_attr(req, sk_X509_ATTRIBUTE_value(
						raw->info->attributes, i)) != 1)
			rc = ca_err(CA_EIO, "out of memory");
	if (rc == CA_OK) {
		*out = req;
		req = NULL;
	}
out:
	X509_REQ_free(req);
	return rc;
}

int ca_csr_der_parse(const unsigned char *der, size_t len,
		     struct ca_csr_der *out)
{
	const unsigned char *p = der;
	CSR_RAW *raw = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	raw = (CSR_RAW *)ASN1_item_d2i(NULL, &p, (long)len,
				       ASN1_ITEM_rptr(CSR_RAW));
	if (raw == NULL || p != der + len ||
	    ASN1_INTEGER_get(raw->info->version) != 0) {
		rc = ca_err(CA_EUSAGE, "not a CSR");
		goto out;
	}
	rc = as_req(raw, &out->req);
	if (rc < 0)
		goto out;
	out->pub = public_key(raw->info->spki, out->why, sizeof(out->why));
	/* RFC 2986 4.2: the signature covers the DER of the request info,
	 * verified over the bytes received, with a digest we would sign with.
	 */
	if (out->pub != NULL && !strong_sig_alg(raw->sig_alg))
		snprintf(out->why, sizeof(out->why),
			 "the CSR is signed with a digest other than SHA-2 "
			 "(refused)");
	out->sig_ok =
	    out->pub != NULL && out->why[0] == '\0' &&
	    ASN1_item_verify_ex(ASN1_ITEM_rptr(CRI_RAW), raw->sig_alg, raw->sig,
				raw->info, NULL, out->pub, NULL, NULL) == 1;
out:
	ERR_clear_error();
	ASN1_item_free((ASN1_VALUE *)raw, ASN1_ITEM_rptr(CSR_RAW));
	if (rc < 0)
		ca_csr_der_clear(out);
	return rc;
}

void ca_csr_der_clear(struct ca_csr_der *c)
{
	X509_REQ_free(c->req);
	EVP_PKEY_free(c->pub);
	memset(c, 0, sizeof(*c));
}
