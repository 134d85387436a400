#include "lint/copy.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "out/file.h"
#include "x509/algid.h"
#include "x509/der.h"

static EVP_PKEY *throwaway_key(const EVP_PKEY *pub)
{
	int type = EVP_PKEY_get_base_id(pub);
	char group[64];
	size_t n = 0;

	if (type == EVP_PKEY_RSA) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		EVP_PKEY *k = NULL;

		if (c != NULL && EVP_PKEY_keygen_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_keygen_bits(
			c, EVP_PKEY_get_bits(pub)) == 1)
			(void)EVP_PKEY_keygen(c, &k);
		EVP_PKEY_CTX_free(c);
		return k;
	}
	if (type == EVP_PKEY_EC && EVP_PKEY_get_utf8_string_param(
				       pub, "group", group, sizeof(group), &n))
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);
	if (type == EVP_PKEY_ED25519)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return NULL;
}

int ca_cert_lint_copy(const EVP_PKEY *pub, enum ca_sigalg sigalg,
		      const unsigned char *tbs, size_t tbs_len,
		      const char *path, int force)
{
	unsigned char *algid = NULL, *sig = NULL, *der = NULL;
	size_t algid_len = 0, sig_len = 0, der_len = 0;
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	int rc = CA_EIO;

	GUARD(ca_algid_der(pub, sigalg, &algid, &algid_len));
	k = throwaway_key(pub);
	md = EVP_MD_CTX_new();
	if (k == NULL || md == NULL ||
	    EVP_DigestSignInit_ex(md, NULL, ca_digest_for_key(pub), NULL, NULL,
				  k, NULL) != 1 ||
	    ca_sigalg_apply(md, sigalg, ca_digest_for_key(pub)) < 0 ||
	    EVP_DigestSign(md, NULL, &sig_len, tbs, tbs_len) != 1 ||
	    (sig = malloc(sig_len)) == NULL ||
	    EVP_DigestSign(md, sig, &sig_len, tbs, tbs_len) != 1) {
		rc = ca_err(CA_EIO,
			    "cannot sign the lint copy with a throwaway key");
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
