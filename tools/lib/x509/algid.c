#include "x509/algid.h"

#include <string.h>

#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "providers/hsmca/token/token.h"

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

int ca_sigalg_parse(const char *name, enum ca_sigalg *out)
{
	if (name != NULL && strcmp(name, "rsa-pss") == 0)
		*out = CA_SIGALG_RSA_PSS;
	else if (name != NULL && strcmp(name, "rsa-pkcs1") == 0)
		*out = CA_SIGALG_DEFAULT;
	else
		return ca_err(CA_EUSAGE,
			      "unknown signature algorithm '%s': use rsa-pkcs1 "
			      "or rsa-pss",
			      name != NULL ? name : "");
	return CA_OK;
}

int ca_sigalg_check(enum ca_sigalg alg, const EVP_PKEY *pub)
{
	if (alg == CA_SIGALG_RSA_PSS &&
	    EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
		return ca_err(CA_EUSAGE, "rsa-pss needs an RSA key");
	return CA_OK;
}

int ca_sigalg_apply(EVP_MD_CTX *md, enum ca_sigalg alg, const char *digest)
{
	EVP_PKEY_CTX *pc = EVP_MD_CTX_get_pkey_ctx(md);

	if (alg != CA_SIGALG_RSA_PSS)
		return CA_OK;
	/* RFC 4055 3.1, RFC 8017 9.1: MGF1 with the same digest, a salt as
	 * long as the digest (what a TPM signs with). */
	if (pc == NULL ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, digest, NULL) != 1)
		return ca_err(CA_EIO, "cannot set up an RSASSA-PSS signature");
	return CA_OK;
}

/* RFC 4055 3.1: the parameters the hsmca provider writes for the PSS
 * signature ca_sigalg_apply sets up. */
static int pss_algid(const char *md, unsigned char **der, size_t *len)
{
	unsigned char buf[128];
	int md_nid = OBJ_sn2nid(md);

	if (ca_rsa_pss_aid(md_nid, md_nid,
			   EVP_MD_get_size(EVP_get_digestbynid(md_nid)), buf,
			   sizeof(buf), len) < 0)
		return CA_EIO;
	if ((*der = OPENSSL_memdup(buf, *len)) == NULL)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

int ca_algid_der(const EVP_PKEY *pub, enum ca_sigalg sigalg,
		 unsigned char **der, size_t *len)
{
	X509_ALGOR *alg = NULL;
	const char *md = ca_digest_for_key(pub);
	int type = EVP_PKEY_get_base_id(pub), nid = NID_undef,
	    ptype = V_ASN1_UNDEF;
	int n, rc = CA_EIO;

	*der = NULL;
	if (ca_sigalg_check(sigalg, pub) < 0)
		return CA_EUSAGE;
	if (sigalg == CA_SIGALG_RSA_PSS)
		return pss_algid(md, der, len);
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
	if (alg == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL) != 1)
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
