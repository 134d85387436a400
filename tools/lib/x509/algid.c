#include "x509/algid.h"

#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

const char *ca_digest_for_key(const EVP_PKEY *pub)
{
	int type = EVP_PKEY_get_base_id(pub), bits = EVP_PKEY_get_bits(pub);

	if (type == EVP_PKEY_ED25519)
		return NULL;
	if (type == EVP_PKEY_EC && bits > 384)
		return "SHA512";
	if (type == EVP_PKEY_EC && bits > 256)
		return "SHA384";
	return "SHA256";
}

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
