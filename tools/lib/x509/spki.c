#include "x509/spki.h"

#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "base/hex.h"
#include "base/sha256.h"

int ca_spki_sha256(EVP_PKEY *pub, unsigned char out[32])
{
	X509_PUBKEY *spki = NULL;
	int rc;

	if (X509_PUBKEY_set(&spki, pub) != 1)
		return ca_err(CA_EIO, "cannot encode the public key");
	rc = ca_spki_der_sha256(spki, out);
	X509_PUBKEY_free(spki);
	return rc;
}

int ca_spki_der_sha256(X509_PUBKEY *spki, unsigned char out[32])
{
	unsigned char *der = NULL;
	int n, rc;

	/* The SubjectPublicKeyInfo as encoded: no re-encoding through the
	 * OpenSSL 3.0 encoder framework. */
	n = i2d_X509_PUBKEY(spki, &der);
	if (n <= 0)
		return ca_err(CA_EIO, "cannot encode the public key");
	rc = ca_sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

int ca_spki_der_sha256_hex(X509_PUBKEY *spki, char hex[65])
{
	unsigned char md[32];
	int rc = ca_spki_der_sha256(spki, md);

	if (rc == CA_OK)
		ca_hex(md, sizeof(md), hex);
	OPENSSL_cleanse(md, sizeof(md));
	return rc;
}

int ca_x509_pubkey_copy(X509_PUBKEY *to, const X509_ALGOR *alg,
			const unsigned char *bits, int n)
{
	const ASN1_OBJECT *o;
	const void *pval;
	ASN1_OBJECT *obj;
	void *val = NULL;
	unsigned char *key;
	int ptype;

	X509_ALGOR_get0(&o, &ptype, &pval, alg);
	/* Parameters absent, NULL, a curve OID or a SEQUENCE (explicit
	 * parameters, RSASSA-PSS) and nothing else: X509_ALGOR_set0 takes no
	 * value of type 0 (EOC), which would leak our copy, and the value of
	 * a BOOLEAN is no string to copy. */
	if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL &&
	    ptype != V_ASN1_OBJECT && ptype != V_ASN1_SEQUENCE)
		return ca_err(CA_EUSAGE,
			      "public key algorithm parameters of ASN.1 type "
			      "%d: refused",
			      ptype);
	obj = OBJ_dup(o);
	if (ptype == V_ASN1_OBJECT)
		val = OBJ_dup(pval);
	else if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
		val = ASN1_STRING_dup(pval);
	key = OPENSSL_memdup(bits, n > 0 ? (size_t)n : 1);
	if (obj == NULL || key == NULL ||
	    (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL && val == NULL) ||
	    X509_PUBKEY_set0_param(to, obj, ptype, val, key, n) != 1) {
		ASN1_OBJECT_free(obj);
		if (ptype == V_ASN1_OBJECT)
			ASN1_OBJECT_free(val);
		else
			ASN1_STRING_free(val);
		OPENSSL_free(key);
		return ca_err(CA_EIO, "out of memory");
	}
	return CA_OK;
}
