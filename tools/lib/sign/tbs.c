#include "sign/tbs.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "sign/internal.h"
#include "x509/der.h"

/* The flow's order, checked on the bytes about to be signed: the lint
 * mark, and the approval mark for a quorum key. */
static int admit(const struct ca_signer *s, const struct ca_tbs *t,
		 const unsigned char *body_mac)
{
	const char *what = ca_tbs_kind_name(t->kind);
	int approval = s->quorum && ca_tbs_needs_approval(t);
	int rc;

	if (!ca_tbs_is_cert(t) && t->kind != CA_TBS_CRL)
		return ca_err(CA_EIO,
			      "internal error: a %s is not signed with a CA "
			      "key: nothing was signed",
			      what);
	rc = ca_tbs_marked(t, CA_TBS_LINTED, body_mac);
	if (rc == 0 && approval)
		rc = ca_tbs_marked(t, CA_TBS_APPROVED, body_mac) == 0 ? 0 : 2;
	if (rc < 0)
		return rc;
	if (rc == 1)
		return ca_err(CA_EIO,
			      "internal error: the %s to be signed was not "
			      "linted, or changed after lint: nothing was "
			      "signed",
			      what);
	if (rc == 2)
		return ca_err(CA_EIO,
			      "internal error: the key %s is protected by a "
			      "quorum and the %s to be signed was not "
			      "approved, or changed after approval: nothing "
			      "was signed",
			      s->uri, what);
	return CA_OK;
}

int ca_tbs_sign(struct ca_signer *s, const struct ca_tbs *t,
		unsigned char **sig, size_t *siglen)
{
	int rc;

	*sig = NULL;
	rc = ca_tbs_in_memory(t, "sign");
	if (rc == CA_OK)
		rc = admit(s, t, NULL);
	if (rc < 0)
		return rc;
	return ca_signer_sign(s, t->der, t->len, sig, siglen);
}

int ca_cert_sign_der(struct ca_signer *s, const struct ca_tbs *t,
		     EVP_PKEY *issuer_pub, unsigned char **der, size_t *der_len)
{
	unsigned char *algid = NULL, *sig = NULL;
	const unsigned char *want;
	size_t algid_len = 0, want_len = 0, sig_len = 0;
	int rc;

	*der = NULL;
	if (!ca_tbs_is_cert(t) || t->der == NULL)
		return ca_err(CA_EIO, "internal error: not a certificate TBS");
	GUARD(ca_tbs_sigalg(t->der, t->len, &want, &want_len));
	GUARD(ca_signer_algid(s, &algid, &algid_len));
	if (algid_len != want_len ||
	    CRYPTO_memcmp(algid, want, want_len) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "the certificate's signature algorithm is "
			    "not the one the key %s signs with",
			    s->uri);
		goto out;
	}
	GUARD(ca_tbs_sign(s, t, &sig, &sig_len));
	/* Never release a faulty HSM signature. */
	GUARD(ca_signed_verify(issuer_pub, s->sigalg, t->der, t->len, sig,
			       sig_len));
	GUARD(ca_signed_assemble(t->der, t->len, algid, algid_len, sig, sig_len,
				 der, der_len));
out:
	free(algid);
	free(sig);
	return rc;
}

int ca_cert_sign(struct ca_signer *s, const struct ca_tbs *t,
		 EVP_PKEY *issuer_pub, X509 **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t der_len = 0;
	int rc;

	*out = NULL;
	rc = ca_cert_sign_der(s, t, issuer_pub, &der, &der_len);
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

struct ca_tbs_stream {
	struct ca_signer *s;
	const struct ca_tbs *t;
	ca_sign_stream *sign;
	ca_tbs_body_mac *body; /* the body as streamed, for the marks */
	size_t body_len;
};

void ca_tbs_stream_free(ca_tbs_stream *st)
{
	if (st == NULL)
		return;
	ca_sign_stream_free(st->sign);
	ca_tbs_body_mac_free(st->body);
	free(st);
}

int ca_tbs_stream_new(struct ca_signer *s, const struct ca_tbs *t,
		      ca_tbs_stream **out)
{
	ca_tbs_stream *st = calloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	if (st == NULL)
		return ca_err(CA_EIO, "out of memory");
	st->s = s;
	st->t = t;
	GUARD(ca_tbs_body_mac_new(&st->body));
	GUARD(ca_sign_stream_new(s, &st->sign));
	GUARD(ca_sign_stream_update(st->sign, t->head, t->head_len));
	*out = st;
	st = NULL;
out:
	ca_tbs_stream_free(st);
	return rc;
}

int ca_tbs_stream_update(ca_tbs_stream *st, const unsigned char *body,
			 size_t len)
{
	int rc = ca_tbs_body_mac_update(st->body, body, len);

	if (rc == CA_OK)
		rc = ca_sign_stream_update(st->sign, body, len);
	st->body_len += len;
	return rc;
}

int ca_tbs_stream_final(ca_tbs_stream *st, unsigned char **sig, size_t *siglen)
{
	const struct ca_tbs *t = st->t;
	unsigned char body_mac[CA_TBS_MARK_LEN];
	int rc;

	*sig = NULL;
	GUARD(ca_tbs_body_mac_final(st->body, body_mac));
	st->body = NULL;
	if (t->head_len + st->body_len + t->tail_len != t->len) {
		rc = ca_err(CA_EIO,
			    "internal error: the %s streamed to the signer is "
			    "%zu bytes, not the %zu linted: nothing was signed",
			    ca_tbs_kind_name(t->kind),
			    t->head_len + st->body_len + t->tail_len, t->len);
		goto out;
	}
	GUARD(admit(st->s, t, body_mac));
	GUARD(ca_sign_stream_update(st->sign, t->tail, t->tail_len));
	rc = ca_sign_stream_final(st->sign, sig, siglen);
	st->sign = NULL;
out:
	ca_tbs_stream_free(st);
	return rc;
}
