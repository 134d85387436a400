#include "sign/tbs.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "x509/der.h"

int ca_cert_sign_der(struct ca_signer *s, const unsigned char *tbs,
		     size_t tbs_len, EVP_PKEY *issuer_pub, unsigned char **der,
		     size_t *der_len)
{
	unsigned char *algid = NULL, *sig = NULL;
	const unsigned char *want;
	size_t algid_len = 0, want_len = 0, sig_len = 0;
	int rc;

	*der = NULL;
	GUARD(ca_tbs_sigalg(tbs, tbs_len, &want, &want_len));
	GUARD(ca_signer_algid(s, &algid, &algid_len));
	if (algid_len != want_len ||
	    CRYPTO_memcmp(algid, want, want_len) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "the certificate's signature algorithm is "
			    "not the one the key %s signs with",
			    s->uri);
		goto out;
	}
	GUARD(ca_signer_sign(s, tbs, tbs_len, &sig, &sig_len));
	/* Never release a faulty HSM signature. */
	GUARD(ca_signed_verify(issuer_pub, s->sigalg, tbs, tbs_len, sig,
			       sig_len));
	GUARD(ca_signed_assemble(tbs, tbs_len, algid, algid_len, sig, sig_len,
				 der, der_len));
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
