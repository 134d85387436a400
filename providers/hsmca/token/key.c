/* Private keys on a token: lookup by URI, the public half as an OpenSSL
 * key, and signing on a pooled session.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#define ED25519_PUB_LEN	    32
#define DER_PRINTABLESTRING 0x13

/* --- the public half ------------------------------------------------- */

static int rsa_public(const unsigned char *n, size_t nlen,
		      const unsigned char *e, size_t elen, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	BIGNUM *bn_n = BN_bin2bn(n, (int)nlen, NULL);
	BIGNUM *bn_e = BN_bin2bn(e, (int)elen, NULL);
	int rc = CA_OK;

	bld = OSSL_PARAM_BLD_new();
	if (bn_n == NULL || bn_e == NULL || bld == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(ca_p11_libctx(), "RSA", NULL)) ==
		NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		rc = ca_err(CA_EIO, "the token's RSA public key is not valid");
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return rc;
}

static int ec_public(int nid, const unsigned char *pt, size_t ptlen,
		     EVP_PKEY **out)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pc = NULL;
	int rc = CA_OK;

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)OBJ_nid2sn(nid), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      (void *)pt, ptlen);
	params[2] = OSSL_PARAM_construct_end();
	pc = EVP_PKEY_CTX_new_from_name(ca_p11_libctx(), "EC", NULL);
	if (pc == NULL || EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		rc = ca_err(CA_EIO,
			    "the token's EC public key is not a valid "
			    "point on %s",
			    OBJ_nid2sn(nid));
	EVP_PKEY_CTX_free(pc);
	return rc;
}

/* CKA_EC_PARAMS: the curve OID (RFC 5480 2.1.1 namedCurve); for Edwards
 * keys also the PrintableString form of PKCS#11 v3.0 2.3.5. */
static int curve_nid(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_OBJECT *obj = NULL;
	int nid = NID_undef;

	if (len == 14 && der[0] == DER_PRINTABLESTRING && der[1] == 12 &&
	    memcmp(der + 2, "edwards25519", 12) == 0)
		return NID_ED25519;
	if (d2i_ASN1_OBJECT(&obj, &p, (long)len) != NULL && p == der + len)
		nid = OBJ_obj2nid(obj);
	ASN1_OBJECT_free(obj);
	return nid;
}

/* CKA_EC_POINT is a DER OCTET STRING (PKCS#11 v2.40 2.3.3); some tokens
 * store the raw point, accepted when its length is the expected one. */
static int unwrap_point(const unsigned char *der, size_t len, size_t want,
			const unsigned char **pt)
{
	if (len == want + 2 && der[0] == 0x04 && der[1] == want && want < 128) {
		*pt = der + 2;
		return CA_OK;
	}
	if (want >= 128 && len == want + 3 && der[0] == 0x04 &&
	    der[1] == 0x81 && der[2] == want) {
		*pt = der + 3;
		return CA_OK;
	}
	if (len == want) {
		*pt = der;
		return CA_OK;
	}
	return ca_err(CA_EIO, "the token's CKA_EC_POINT is malformed");
}

static size_t point_len(int nid)
{
	switch (nid) {
	case NID_X9_62_prime256v1:
		return 1 + 2 * 32;
	case NID_secp384r1:
		return 1 + 2 * 48;
	case NID_secp521r1:
		return 1 + 2 * 66;
	case NID_ED25519:
		return ED25519_PUB_LEN;
	default:
		return 0;
	}
}

static int point_public(CK_KEY_TYPE kt, const unsigned char *params,
			size_t plen, const unsigned char *der, size_t dlen,
			EVP_PKEY **out)
{
	int nid = curve_nid(params, plen);
	size_t want = point_len(nid);
	const unsigned char *pt = NULL;
	int rc;

	if (want == 0 || (kt == CKK_EC_EDWARDS) != (nid == NID_ED25519)) {
		rc = ca_err(CA_EPOLICY,
			    "unsupported key type: %s curve %s (P-256, "
			    "P-384, P-521 and Ed25519 only)",
			    kt == CKK_EC ? "EC" : "Edwards",
			    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
		goto out;
	}
	GUARD(unwrap_point(der, dlen, want, &pt));
	if (nid == NID_ED25519) {
		*out = EVP_PKEY_new_raw_public_key_ex(
		    ca_p11_libctx(), "ED25519", NULL, pt, want);
		if (*out == NULL)
			rc = ca_err(CA_EIO, "the token's Ed25519 public key is "
					    "not valid");
	} else {
		rc = ec_public(nid, pt, want, out);
	}
out:
	return rc;
}

/* Public key from a certificate object with the key's CKA_ID. */
static int cert_public(ca_token *tok, CK_SESSION_HANDLE s,
		       CK_OBJECT_HANDLE cert, EVP_PKEY **out)
{
	unsigned char *der = NULL, *spki = NULL;
	const unsigned char *p;
	size_t len;
	X509 *x = NULL;
	int n, rc;

	GUARD(ca_token_attr(tok, s, cert, CKA_VALUE, &der, &len));
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL ||
	    (n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0) {
		rc = ca_err(CA_EIO,
			    "the certificate next to the key on token "
			    "'%s' cannot be parsed",
			    tok->label);
		goto out;
	}
	p = spki;
	*out = d2i_PUBKEY_ex(NULL, &p, n, ca_p11_libctx(), NULL);
	if (*out == NULL)
		rc = ca_err(CA_EIO,
			    "the certificate next to the key on token "
			    "'%s' has an unusable public key",
			    tok->label);
out:
	OPENSSL_free(spki);
	X509_free(x);
	free(der);
	return rc;
}

/* The public-key object (else certificate) with the same CKA_ID. */
static int companion(ca_token *tok, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
		     const ca_key *key, CK_OBJECT_HANDLE *obj, int *found)
{
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof(cls)},
				{CKA_ID, (void *)key->id, key->id_len}};
	CK_ULONG n;
	int rc;

	*found = 0;
	if (key->id_len == 0) {
		tmpl[1].type = CKA_LABEL;
		tmpl[1].pValue = key->label;
		tmpl[1].ulValueLen = strlen(key->label);
	}
	GUARD(ca_token_find(tok, s, tmpl, 2, obj, 1, &n));
	*found = n == 1;
out:
	return rc;
}

static int load_rsa(ca_token *tok, CK_SESSION_HANDLE s, ca_key *key)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nlen, elen;
	CK_OBJECT_HANDLE obj = key->priv;
	int found, rc;

	/* The modulus is on the private object (PKCS#11 v2.40 2.1.3), but
	 * some tokens hide it: then ask the public object. */
	if (ca_token_attr(tok, s, obj, CKA_MODULUS, &n, &nlen) < 0) {
		GUARD(companion(tok, s, CKO_PUBLIC_KEY, key, &obj, &found));
		if (!found) {
			rc = ca_err(CA_EIO,
				    "cannot read the public key of '%s' "
				    "on token '%s'",
				    key->label, tok->label);
			goto out;
		}
		GUARD(ca_token_attr(tok, s, obj, CKA_MODULUS, &n, &nlen));
	}
	GUARD(ca_token_attr(tok, s, obj, CKA_PUBLIC_EXPONENT, &e, &elen));
	GUARD(rsa_public(n, nlen, e, elen, &key->pub));
	key->type = CA_KT_RSA;
	key->bits = EVP_PKEY_get_bits(key->pub);
	key->curve_nid = NID_undef;
	if (key->bits < 2048 || key->bits > 4096)
		rc = ca_err(CA_EPOLICY,
			    "unsupported key type: RSA %d bits "
			    "(2048 to 4096 only)",
			    key->bits);
out:
	free(n);
	free(e);
	return rc;
}

static int load_point(ca_token *tok, CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
		      ca_key *key)
{
	unsigned char *params = NULL, *pt = NULL;
	size_t plen, ptlen;
	CK_OBJECT_HANDLE obj;
	int found, rc;

	GUARD(companion(tok, s, CKO_PUBLIC_KEY, key, &obj, &found));
	if (found) {
		GUARD(
		    ca_token_attr(tok, s, obj, CKA_EC_PARAMS, &params, &plen));
		GUARD(ca_token_attr(tok, s, obj, CKA_EC_POINT, &pt, &ptlen));
		GUARD(point_public(kt, params, plen, pt, ptlen, &key->pub));
	} else {
		GUARD(companion(tok, s, CKO_CERTIFICATE, key, &obj, &found));
		if (!found) {
			rc = ca_err(CA_EIO,
				    "key '%s' on token '%s' has no public "
				    "key or certificate object with its id",
				    key->label, tok->label);
			goto out;
		}
		GUARD(cert_public(tok, s, obj, &key->pub));
	}
	key->type = kt == CKK_EC ? CA_KT_EC : CA_KT_ED25519;
	key->bits = kt == CKK_EC ? EVP_PKEY_get_bits(key->pub) : 255;
	key->curve_nid = NID_undef;
	if (kt == CKK_EC) {
		char group[64];

		if (EVP_PKEY_get_utf8_string_param(
			key->pub, OSSL_PKEY_PARAM_GROUP_NAME, group,
			sizeof(group), NULL) == 1)
			key->curve_nid = OBJ_sn2nid(group);
	}
	if ((kt == CKK_EC && point_len(key->curve_nid) == 0) ||
	    (kt == CKK_EC_EDWARDS && !EVP_PKEY_is_a(key->pub, "ED25519")))
		rc = ca_err(CA_EPOLICY,
			    "unsupported key type: the certificate "
			    "of '%s' has another key type",
			    key->label);
out:
	free(params);
	free(pt);
	return rc;
}

/* Label and id of the private key object. */
static int load_names(ca_token *tok, CK_SESSION_HANDLE s, ca_key *key)
{
	unsigned char *v = NULL;
	size_t len;
	int rc;

	GUARD(ca_token_attr(tok, s, key->priv, CKA_LABEL, &v, &len));
	if (len > CA_LABEL_MAX || memchr(v, '\0', len) != NULL) {
		rc = ca_err(CA_EIO, "a key on token '%s' has an unusable label",
			    tok->label);
		goto out;
	}
	key->label = malloc(len + 1);
	if (key->label == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	memcpy(key->label, v, len);
	key->label[len] = '\0';
	free(v);
	v = NULL;
	GUARD(ca_token_attr(tok, s, key->priv, CKA_ID, &v, &len));
	if (len > CA_ID_MAX) {
		rc = ca_err(CA_EIO,
			    "key '%s' on token '%s' has an id longer "
			    "than %d bytes",
			    key->label, tok->label, CA_ID_MAX);
		goto out;
	}
	memcpy(key->id, v, len);
	key->id_len = len;
out:
	free(v);
	return rc;
}

/* DER SPKI, its SHA-256 and the canonical URI. */
static int load_derived(ca_key *key)
{
	int n, rc = CA_OK;

	n = i2d_PUBKEY(key->pub, &key->spki);
	if (n <= 0 || EVP_Digest(key->spki, (size_t)n, key->spki_sha256, NULL,
				 ca_p11_md(NID_sha256), NULL) != 1) {
		rc = ca_err(CA_EIO, "cannot encode the public key of '%s'",
			    key->label);
		goto out;
	}
	key->spki_len = (size_t)n;
	key->uri = ca_uri_for_key(key->tok, key->label, key->id, key->id_len);
	if (key->uri == NULL)
		rc = ca_err(CA_EIO, "out of memory");
out:
	return rc;
}

/* CKA_ALLOWED_MECHANISMS (PKCS#11 v2.40 4.6), when the key has it. */
static int load_allowed(ca_token *tok, CK_SESSION_HANDLE s, ca_key *key)
{
	CK_ATTRIBUTE a = {CKA_ALLOWED_MECHANISMS, NULL, 0};
	CK_RV rv;

	rv = tok->fl->C_GetAttributeValue(s, key->priv, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen < sizeof(CK_MECHANISM_TYPE))
		return CA_OK; /* absent: any mechanism */
	a.pValue = malloc(a.ulValueLen);
	if (a.pValue == NULL)
		return ca_err(CA_EIO, "out of memory");
	rv = tok->fl->C_GetAttributeValue(s, key->priv, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return CA_OK;
	}
	key->allowed = a.pValue;
	key->n_allowed = a.ulValueLen / sizeof(CK_MECHANISM_TYPE);
	return CA_OK;
}

/* CKA_ALWAYS_AUTHENTICATE (PKCS#11 v2.40 4.9): a context-specific login
 * before each signature. Absent or unreadable: false. */
static void load_always_auth(ca_token *tok, CK_SESSION_HANDLE s, ca_key *key)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = {CKA_ALWAYS_AUTHENTICATE, &v, sizeof(v)};

	if (tok->fl->C_GetAttributeValue(s, key->priv, &a, 1) == CKR_OK &&
	    a.ulValueLen == sizeof(v))
		key->always_auth = v == CK_TRUE;
}

int ca_key_load(ca_token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
		ca_key **out)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	ca_key *key = NULL;
	CK_RV rv;
	int rc;

	*out = NULL;
	if (ca_p11_libctx() == NULL) {
		rc = ca_err(CA_EIO,
			    "cannot set up the OpenSSL default provider");
		goto out;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	key->magic = CA_KEY_MAGIC;
	atomic_init(&key->refs, 1);
	key->tok = ca_token_ref(tok);
	key->priv = priv;
	ca_p11_libctx_hold();
	rv = tok->fl->C_GetAttributeValue(s, priv, &a, 1);
	if (rv != CKR_OK) {
		rc = ca_err(CA_EIO, "cannot read a key on token '%s': %s",
			    tok->label, p11_kit_strerror(rv));
		goto out;
	}
	GUARD(load_names(tok, s, key));
	if (kt == CKK_RSA) {
		GUARD(load_rsa(tok, s, key));
	} else if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
		GUARD(load_point(tok, s, kt, key));
	} else {
		rc = ca_err(CA_EPOLICY,
			    "unsupported key type 0x%lx of '%s' on "
			    "token '%s' (RSA, EC and Ed25519 only)",
			    (unsigned long)kt, key->label, tok->label);
		goto out;
	}
	GUARD(load_derived(key));
	GUARD(load_allowed(tok, s, key));
	load_always_auth(tok, s, key);
	atomic_store(&key->sign_handle, priv);
	atomic_store(&key->sign_gen, tok->gen);
	*out = key;
	key = NULL;
out:
	ca_key_free(key);
	return rc;
}

/* A short text for the object part of a URI, for messages. */
static void object_text(P11KitUri *uri, char *buf, size_t len)
{
	P11KitUri *obj = p11_kit_uri_new();
	char *s = NULL;
	CK_ULONG n = 0;
	CK_ATTRIBUTE *attrs = p11_kit_uri_get_attributes(uri, &n);

	snprintf(buf, len, "pkcs11:");
	if (obj != NULL &&
	    p11_kit_uri_set_attributes(obj, attrs, n) == P11_KIT_URI_OK &&
	    p11_kit_uri_format(obj, P11_KIT_URI_FOR_OBJECT, &s) ==
		P11_KIT_URI_OK)
		snprintf(buf, len, "%s", s);
	free(s);
	if (obj != NULL)
		p11_kit_uri_free(obj);
}

/* The template for the key of class *cls that uri names by label and id.
 * A public key is the public half of the key the URI names, whatever its
 * type= says. */
static int key_template(P11KitUri *uri, CK_OBJECT_CLASS *cls,
			CK_ATTRIBUTE *tmpl, CK_ULONG *n)
{
	CK_ATTRIBUTE *a;

	*n = 0;
	a = p11_kit_uri_get_attribute(uri, CKA_CLASS);
	if (*cls == CKO_PRIVATE_KEY && a != NULL &&
	    (a->ulValueLen != sizeof(CK_OBJECT_CLASS) ||
	     *(CK_OBJECT_CLASS *)a->pValue != CKO_PRIVATE_KEY))
		return ca_err(CA_EUSAGE, "the URI names another object type: "
					 "use type=private (or no type)");
	tmpl[(*n)++] = (CK_ATTRIBUTE){CKA_CLASS, cls, sizeof(*cls)};
	a = p11_kit_uri_get_attribute(uri, CKA_LABEL);
	if (a != NULL)
		tmpl[(*n)++] = *a;
	a = p11_kit_uri_get_attribute(uri, CKA_ID);
	if (a != NULL)
		tmpl[(*n)++] = *a;
	return CA_OK;
}

/* The one key of class cls (private or public) that uri names. */
static int find_one(ca_token *tok, P11KitUri *uri, CK_OBJECT_CLASS cls,
		    ca_key **out)
{
	CK_ATTRIBUTE tmpl[3];
	CK_OBJECT_HANDLE found[2];
	CK_SESSION_HANDLE s = 0;
	CK_ULONG ntmpl, n = 0;
	char what[256];
	int have = 0, rc, priv = cls == CKO_PRIVATE_KEY;

	*out = NULL;
	GUARD(key_template(uri, &cls, tmpl, &ntmpl));
	GUARD(ca_token_session(tok, &s));
	have = 1;
	GUARD(ca_token_find(tok, s, tmpl, ntmpl, found, 2, &n));
	if (n != 1) {
		object_text(uri, what, sizeof(what));
		rc = ca_err(CA_EIO, "%s %s key matches '%s' on token '%s'%s",
			    n == 0 ? "no" : "more than one",
			    priv ? "private" : "public", what, tok->label,
			    priv && n == 0 && ca_token_logged_in(tok) == 0
				? " (not logged in: private keys are hidden)"
				: "");
		goto out;
	}
	/* Label, id and key material all read the same from the public
	 * object; signing with it is refused. */
	GUARD(ca_key_load(tok, s, found[0], out));
	if (!priv)
		(*out)->public_only = 1;
out:
	if (have)
		ca_token_release(tok, s, 0);
	return rc;
}

int ca_token_find_key(ca_token *tok, P11KitUri *uri, ca_key **out)
{
	return find_one(tok, uri, CKO_PRIVATE_KEY, out);
}

int ca_token_key_by_label(ca_token *tok, const char *label, ca_key **out)
{
	CK_ATTRIBUTE a = {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)};
	CK_OBJECT_HANDLE found;
	CK_SESSION_HANDLE s = 0;
	P11KitUri *uri = NULL;
	CK_ULONG n = 0;
	int rc;

	*out = NULL;
	/* Any object with the label at all (public key, certificate...). */
	rc = ca_token_session(tok, &s);
	if (rc < 0)
		return rc;
	rc = ca_token_find(tok, s, &a, 1, &found, 1, &n);
	ca_token_release(tok, s, 0);
	if (rc < 0 || n == 0)
		return rc;
	/* Then exactly one private key of that label. */
	uri = p11_kit_uri_new();
	if (uri == NULL ||
	    p11_kit_uri_set_attribute(uri, &a) != P11_KIT_URI_OK) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	rc = ca_token_find_key(tok, uri, out);
out:
	p11_kit_uri_free(uri);
	return rc;
}

int ca_token_find_public(ca_token *tok, P11KitUri *uri, ca_key **out)
{
	return find_one(tok, uri, CKO_PUBLIC_KEY, out);
}

/* --- accessors ------------------------------------------------------- */

ca_key *ca_key_ref(ca_key *key)
{
	atomic_fetch_add(&key->refs, 1);
	return key;
}

void ca_key_free(ca_key *key)
{
	if (key == NULL || atomic_fetch_sub(&key->refs, 1) != 1)
		return;
	EVP_PKEY_free(key->pub);
	OPENSSL_free(key->spki);
	free(key->allowed);
	free(key->uri);
	free(key->label);
	ca_token_free(key->tok);
	key->magic = 0;
	free(key);
	ca_p11_libctx_drop();
}

enum ca_keytype ca_key_type(const ca_key *key)
{
	return key->type;
}

int ca_key_bits(const ca_key *key)
{
	return key->bits;
}

int ca_key_curve_nid(const ca_key *key)
{
	return key->type == CA_KT_EC ? key->curve_nid : NID_undef;
}

ca_token *ca_key_token(const ca_key *key)
{
	return key->tok;
}

EVP_PKEY *ca_key_public(const ca_key *key)
{
	return key->pub;
}

const unsigned char *ca_key_spki(const ca_key *key, size_t *len)
{
	*len = key->spki_len;
	return key->spki;
}

const unsigned char *ca_key_spki_sha256(const ca_key *key)
{
	return key->spki_sha256;
}

const char *ca_key_uri(const ca_key *key)
{
	return key->uri;
}

const char *ca_key_label(const ca_key *key)
{
	return key->label;
}

/* --- signing --------------------------------------------------------- */

static const struct {
	int md_nid;
	CK_MECHANISM_TYPE pkcs1, pss, ecdsa;
	const char *name;
} hashing[] = {
    {NID_sha256, CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS, CKM_ECDSA_SHA256,
     "SHA-256"},
    {NID_sha384, CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS, CKM_ECDSA_SHA384,
     "SHA-384"},
    {NID_sha512, CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS, CKM_ECDSA_SHA512,
     "SHA-512"},
};

static const char *const scheme_names[CA_SIG_SCHEMES] = {
    "RSA PKCS#1 v1.5", "RSA-PSS", "ECDSA", "Ed25519"};

/* The token signs with mech, and the key allows it. */
static int usable(ca_key *key, CK_MECHANISM_TYPE mech)
{
	CK_ULONG i;
	int rc = ca_token_mechanism(key->tok, mech, CKF_SIGN, NULL);

	if (rc <= 0 || key->allowed == NULL)
		return rc;
	for (i = 0; i < key->n_allowed; i++) {
		if (key->allowed[i] == mech)
			return 1;
	}
	return 0;
}

static const char *mech_name(CK_MECHANISM_TYPE m)
{
	switch (m) {
	case CKM_RSA_PKCS:
		return "CKM_RSA_PKCS";
	case CKM_RSA_PKCS_PSS:
		return "CKM_RSA_PKCS_PSS";
	case CKM_ECDSA:
		return "CKM_ECDSA";
	case CKM_EDDSA:
		return "CKM_EDDSA";
	case CKM_SHA256_RSA_PKCS:
		return "CKM_SHA256_RSA_PKCS";
	case CKM_SHA384_RSA_PKCS:
		return "CKM_SHA384_RSA_PKCS";
	case CKM_SHA512_RSA_PKCS:
		return "CKM_SHA512_RSA_PKCS";
	case CKM_SHA256_RSA_PKCS_PSS:
		return "CKM_SHA256_RSA_PKCS_PSS";
	case CKM_SHA384_RSA_PKCS_PSS:
		return "CKM_SHA384_RSA_PKCS_PSS";
	case CKM_SHA512_RSA_PKCS_PSS:
		return "CKM_SHA512_RSA_PKCS_PSS";
	case CKM_ECDSA_SHA256:
		return "CKM_ECDSA_SHA256";
	case CKM_ECDSA_SHA384:
		return "CKM_ECDSA_SHA384";
	case CKM_ECDSA_SHA512:
		return "CKM_ECDSA_SHA512";
	default:
		return "?";
	}
}

/* Candidates in order of preference (token.h): [0] and [1]; the one that
 * hashes on the token is marked. */
static void candidates(enum ca_sig_scheme scheme, size_t h,
		       CK_MECHANISM_TYPE c[2], int hashes[2])
{
	hashes[0] = hashes[1] = 0;
	switch (scheme) {
	case CA_SIG_PKCS1:
		c[0] = hashing[h].pkcs1, hashes[0] = 1, c[1] = CKM_RSA_PKCS;
		break;
	case CA_SIG_PSS:
		c[0] = hashing[h].pss, hashes[0] = 1, c[1] = CKM_RSA_PKCS_PSS;
		break;
	case CA_SIG_ECDSA:
		c[0] = CKM_ECDSA, c[1] = hashing[h].ecdsa, hashes[1] = 1;
		break;
	default:
		c[0] = c[1] = CKM_EDDSA;
		break;
	}
}

int ca_key_sig_mech(ca_key *key, enum ca_sig_scheme scheme, int md_nid,
		    int raw_only, struct ca_sig_mech *out)
{
	CK_MECHANISM_TYPE c[2];
	unsigned long pick;
	int hashes[2], u = 0;
	size_t h, i;

	for (h = 0; h < 3 && hashing[h].md_nid != md_nid; h++)
		;
	if (scheme == CA_SIG_EDDSA)
		h = 0;
	if (h == 3 || (unsigned)scheme >= CA_SIG_SCHEMES)
		return ca_err(CA_EUSAGE, "unsupported digest for token keys");
	candidates(scheme, h, c, hashes);
	/* chosen: 1 + index of the candidate; raw_only asks for the raw one */
	pick = atomic_load(&key->chosen[scheme][h]);
	if (pick == 0) {
		for (i = 0; i < 2 && pick == 0; i++) {
			u = usable(key, c[i]);
			if (u < 0)
				return u;
			if (u > 0)
				pick = i + 1;
		}
		if (pick == 0)
			return ca_err(
			    CA_EIO,
			    "token '%s' cannot sign %s with %s using key "
			    "'%s': neither %s nor %s is offered%s",
			    key->tok->label, scheme_names[scheme],
			    hashing[h].name, key->label, mech_name(c[0]),
			    mech_name(c[1]),
			    key->allowed != NULL ? " (or allowed by the key's "
						   "CKA_ALLOWED_MECHANISMS)"
						 : "");
		atomic_store(&key->chosen[scheme][h], pick);
	}
	i = pick - 1;
	if (raw_only && hashes[i]) {
		/* A digest in hand: only the raw mechanism will do. */
		i = 1 - i;
		if (hashes[i] || (u = usable(key, c[i])) <= 0)
			return u < 0 ? u
				     : ca_err(CA_EIO,
					      "token '%s' cannot sign a "
					      "precomputed digest with key "
					      "'%s' (it offers %s, which "
					      "hashes the data itself, and "
					      "no %s): sign the data instead",
					      key->tok->label, key->label,
					      mech_name(c[1 - i]),
					      mech_name(c[i]));
	}
	out->mech = c[i];
	out->token_hashes = hashes[i];
	return CA_OK;
}

static int sign_error(ca_key *key, CK_MECHANISM_TYPE mech, CK_RV rv)
{
	if (rv == CKR_USER_NOT_LOGGED_IN && key->always_auth)
		return ca_err(CA_EIO,
			      "key '%s' on token '%s' needs a login before "
			      "each signature (CKA_ALWAYS_AUTHENTICATE) and "
			      "there is no PIN to give it",
			      key->label, key->tok->label);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		return ca_err(CA_EIO,
			      "token '%s' is not logged in: key '%s' needs "
			      "the PIN",
			      key->tok->label, key->label);
	return ca_err(
	    CA_EIO,
	    "signing with key '%s' on token '%s' (%s) "
	    "failed: %s%s",
	    key->label, key->tok->label, mech_name(mech), p11_kit_strerror(rv),
	    (mech == CKM_RSA_PKCS || mech == CKM_RSA_PKCS_PSS) &&
		    (rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED ||
		     rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
		? " (some tokens perform a raw RSA signature as a "
		  "decryption, which a sign-only key refuses)"
		: "");
}

static int can_sign(const ca_key *key)
{
	if (key->public_only)
		return ca_err(CA_EIO,
			      "key '%s' was opened as a public key: it "
			      "cannot sign",
			      key->label);
	return CA_OK;
}

/* The private key's handle for a session of generation gen: after a
 * recovery it is looked up again by class and CKA_ID (else CKA_LABEL). */
static CK_RV sign_handle(ca_key *key, CK_SESSION_HANDLE s, unsigned gen,
			 CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0;
	CK_RV rv = CKR_OK;

	if (atomic_load(&key->sign_gen) == gen) {
		*out = atomic_load(&key->sign_handle);
		return CKR_OK;
	}
	if (key->id_len > 0)
		t[1] = (CK_ATTRIBUTE){CKA_ID, key->id, key->id_len};
	else
		t[1] =
		    (CK_ATTRIBUTE){CKA_LABEL, key->label, strlen(key->label)};
	pthread_mutex_lock(&key->tok->lock);
	if (atomic_load(&key->sign_gen) != gen) {
		rv = key->tok->fl->C_FindObjectsInit(s, t, 2);
		if (rv == CKR_OK) {
			rv = key->tok->fl->C_FindObjects(s, found, 2, &n);
			(void)key->tok->fl->C_FindObjectsFinal(s);
		}
		if (rv == CKR_OK && n != 1)
			rv = CKR_KEY_HANDLE_INVALID;
		if (rv == CKR_OK) {
			atomic_store(&key->sign_handle, found[0]);
			atomic_store(&key->sign_gen, gen);
		}
	}
	pthread_mutex_unlock(&key->tok->lock);
	*out = atomic_load(&key->sign_handle);
	return rv;
}

/* C_SignInit on s (of generation gen), then the context-specific login a
 * key with CKA_ALWAYS_AUTHENTICATE needs for this one operation. */
static CK_RV sign_init(ca_key *key, CK_SESSION_HANDLE s, unsigned gen,
		       CK_MECHANISM *m)
{
	CK_OBJECT_HANDLE h;
	CK_RV rv = sign_handle(key, s, gen, &h);

	if (rv == CKR_OK) {
		ca_token_ops_shared(key->tok);
		rv = key->tok->fl->C_SignInit(s, m, h);
		ca_token_ops_done(key->tok);
	}
	if (rv == CKR_OK && key->always_auth)
		rv = ca_token_context_login(key->tok, s);
	return rv;
}

/* One whole signature on a pooled session; a session or device lost
 * underneath (ca_token_lost) is recovered and the signature made once
 * more on a new session, only once. A signature that failed was not
 * made, so nothing is signed twice. */
static int sign_whole(ca_key *key, CK_MECHANISM *m, const unsigned char *in,
		      size_t inlen, unsigned char *sig, size_t *siglen)
{
	CK_FUNCTION_LIST *fl = key->tok->fl;
	CK_ULONG len = 0;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	unsigned gen;
	int rc, tries;

	for (tries = 0;; tries++) {
		GUARD(ca_token_session_gen(key->tok, &s, &gen));
		len = (CK_ULONG)*siglen;
		rv = sign_init(key, s, gen, m);
		if (rv == CKR_OK) {
			ca_token_ops_shared(key->tok);
			rv = fl->C_Sign(s, (CK_BYTE_PTR)in, (CK_ULONG)inlen,
					sig, &len);
			ca_token_ops_done(key->tok);
		}
		/* PKCS#11 v2.40 5.11: a failed C_Sign may leave the
		 * operation active (CKR_BUFFER_TOO_SMALL): do not reuse
		 * that session. */
		ca_token_release_gen(key->tok, s, gen, rv != CKR_OK);
		if (rv == CKR_OK || tries > 0 || !ca_token_lost(key->tok, rv))
			break;
		GUARD(ca_token_recover(key->tok, gen));
	}
	if (rv != CKR_OK)
		rc = sign_error(key, m->mechanism, rv);
	else
		*siglen = (size_t)len;
out:
	return rc;
}

int ca_key_sign(ca_key *key, CK_MECHANISM_TYPE mech, void *param,
		CK_ULONG param_len, const unsigned char *in, size_t inlen,
		unsigned char *sig, size_t *siglen)
{
	CK_MECHANISM m = {mech, param, param_len};
	int rc;

	GUARD(can_sign(key));
	GUARD(sign_whole(key, &m, in, inlen, sig, siglen));
out:
	return rc;
}

#define OP_CHUNK     16384
#define OP_PARAM_MAX 64

/* The operation starts on the token with the first full chunk: data that
 * fits in one chunk is signed by sign_whole at the end, with its retry. */
struct ca_sign_op {
	ca_key *key;
	CK_MECHANISM m;
	unsigned char param[OP_PARAM_MAX];
	CK_SESSION_HANDLE s; /* once started */
	unsigned gen;
	int updated; /* C_SignUpdate called: the end is C_SignFinal */
	int failed;  /* on the token: never continued on another session */
	size_t n;
	unsigned char buf[OP_CHUNK];
};

int ca_key_sign_begin(ca_key *key, CK_MECHANISM_TYPE mech, void *param,
		      CK_ULONG param_len, ca_sign_op **out)
{
	ca_sign_op *op;
	int rc;

	*out = NULL;
	GUARD(can_sign(key));
	if (param_len > OP_PARAM_MAX)
		return ca_err(CA_EUSAGE, "mechanism parameters too long");
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return ca_err(CA_EIO, "out of memory");
	op->key = ca_key_ref(key);
	op->s = CK_INVALID_HANDLE;
	if (param_len > 0)
		memcpy(op->param, param, param_len);
	op->m.mechanism = mech;
	op->m.pParameter = param_len > 0 ? op->param : NULL;
	op->m.ulParameterLen = param_len;
	*out = op;
out:
	return rc;
}

/* The first chunk: a session and C_SignInit, recovered once when the
 * session was lost before anything reached the token. */
static int op_start(ca_sign_op *op)
{
	CK_RV rv;
	int rc, tries;

	for (tries = 0;; tries++) {
		GUARD(ca_token_session_gen(op->key->tok, &op->s, &op->gen));
		rv = sign_init(op->key, op->s, op->gen, &op->m);
		if (rv == CKR_OK)
			break;
		ca_token_release_gen(op->key->tok, op->s, op->gen, 1);
		op->s = CK_INVALID_HANDLE;
		if (tries > 0 || !ca_token_lost(op->key->tok, rv))
			return sign_error(op->key, op->m.mechanism, rv);
		GUARD(ca_token_recover(op->key->tok, op->gen));
	}
out:
	return rc;
}

/* A multi-part signature failed with rv. The data already passed on is
 * not kept, so a session lost underneath cannot be resumed here: the
 * token is recovered (new session, logged in again) and CA_ERETRY tells
 * the caller, who holds the data, to start the whole signature again. */
static int op_failed(ca_sign_op *op, CK_RV rv)
{
	ca_token *tok = op->key->tok;
	int rc;

	op->failed = 1;
	ca_token_release_gen(tok, op->s, op->gen, 1);
	op->s = CK_INVALID_HANDLE;
	if (!ca_token_lost(tok, rv))
		return sign_error(op->key, op->m.mechanism, rv);
	rc = ca_token_recover(tok, op->gen);
	if (rc < 0)
		return rc;
	return ca_err(CA_ERETRY,
		      "token '%s' lost the session in the middle of a "
		      "multi-part signature with key '%s' (%s); logged in "
		      "again, nothing was signed",
		      tok->label, op->key->label, p11_kit_strerror(rv));
}

static int op_flush(ca_sign_op *op)
{
	CK_RV rv;
	int rc;

	if (op->failed)
		return ca_err(CA_EIO, "internal error: a multi-part signature "
				      "that failed was continued");
	if (op->s == CK_INVALID_HANDLE)
		GUARD(op_start(op));
	ca_token_ops_shared(op->key->tok);
	rv = op->key->tok->fl->C_SignUpdate(op->s, op->buf, (CK_ULONG)op->n);
	ca_token_ops_done(op->key->tok);
	op->updated = 1;
	op->n = 0;
	rc = rv == CKR_OK ? CA_OK : op_failed(op, rv);
out:
	return rc;
}

int ca_sign_op_update(ca_sign_op *op, const unsigned char *in, size_t len)
{
	size_t take;
	int rc = CA_OK;

	while (len > 0) {
		if (op->n == sizeof(op->buf))
			GUARD(op_flush(op));
		take = sizeof(op->buf) - op->n;
		if (take > len)
			take = len;
		memcpy(op->buf + op->n, in, take);
		op->n += take;
		in += take;
		len -= take;
	}
out:
	return rc;
}

int ca_sign_op_final(ca_sign_op *op, unsigned char *sig, size_t *siglen)
{
	CK_ULONG len = (CK_ULONG)*siglen;
	CK_RV rv;
	int rc = CA_OK;

	if (!op->updated) {
		rc = sign_whole(op->key, &op->m, op->buf, op->n, sig, siglen);
		goto out;
	}
	if (op->n > 0)
		GUARD(op_flush(op));
	ca_token_ops_shared(op->key->tok);
	rv = op->key->tok->fl->C_SignFinal(op->s, sig, &len);
	ca_token_ops_done(op->key->tok);
	if (rv != CKR_OK) {
		rc = op_failed(op, rv);
		goto out;
	}
	*siglen = (size_t)len;
	ca_token_release_gen(op->key->tok, op->s, op->gen, 0);
	op->s = CK_INVALID_HANDLE;
out:
	ca_sign_op_free(op);
	return rc;
}

void ca_sign_op_free(ca_sign_op *op)
{
	if (op == NULL)
		return;
	/* An operation still active: that session is not reused. */
	if (op->s != CK_INVALID_HANDLE)
		ca_token_release_gen(op->key->tok, op->s, op->gen, 1);
	OPENSSL_cleanse(op->buf, sizeof(op->buf));
	ca_key_free(op->key);
	free(op);
}
