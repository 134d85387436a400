#include "quorum/approval.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base/base64.h"
#include "base/json.h"
#include "input/quorum.h"
#include "quorum/fields.h"

#define MAX_SIG 2048 /* RSA-16384 */

/* The approved message: prefix then the request file's SHA-256 in hex. */
void ca_approval_message(const char *request_sha256,
			 unsigned char msg[CA_APPROVAL_MSG_LEN])
{
	memcpy(msg, CA_APPROVAL_PREFIX, sizeof(CA_APPROVAL_PREFIX) - 1);
	memcpy(msg + sizeof(CA_APPROVAL_PREFIX) - 1, request_sha256, 64);
}

static const struct ca_approval_alg alg_ed25519 = {"ed25519", NULL, 0};
static const struct ca_approval_alg alg_p256 = {"ecdsa-sha256", "SHA256", 0};
static const struct ca_approval_alg alg_p384 = {"ecdsa-sha384", "SHA384", 0};
static const struct ca_approval_alg alg_rsa = {"rsa-pkcs1-sha256", "SHA256", 1};

const struct ca_approval_alg *ca_approval_alg_for_key(const EVP_PKEY *pub)
{
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_ED25519:
		return &alg_ed25519;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_bits(pub) == 256)
			return &alg_p256;
		if (EVP_PKEY_get_bits(pub) == 384)
			return &alg_p384;
		return NULL;
	case EVP_PKEY_RSA:
		return &alg_rsa;
	default:
		return NULL;
	}
}

int ca_approval_alg_known(const char *name)
{
	return strcmp(name, alg_ed25519.name) == 0 ||
	       strcmp(name, alg_p256.name) == 0 ||
	       strcmp(name, alg_p384.name) == 0 ||
	       strcmp(name, alg_rsa.name) == 0;
}

/* 1 when sig is a valid signature by pub over msg with alg. */
int ca_approval_sig_ok(EVP_PKEY *pub, const struct ca_approval_alg *alg,
		       const unsigned char *msg, size_t msglen,
		       const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	if (md == NULL)
		goto out;
	if (EVP_DigestVerifyInit_ex(md, &pctx, alg->md, NULL, NULL, pub,
				    NULL) != 1)
		goto out;
	/* RSA: PKCS#1 v1.5 only (RFC 8017 8.2), never PSS by default. */
	if (alg->rsa_pkcs1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	ok = EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1;
out:
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

void ca_approval_free(struct ca_approval *a)
{
	if (a == NULL)
		return;
	free(a->signature);
	free(a);
}

static int parse_approval(json_t *root, const char *what, struct ca_approval *a)
{
	static const char *const allowed[] = {"hsmca_approval",
					      "approver",
					      "request_sha256",
					      "algorithm",
					      "signature",
					      "signed_at",
					      NULL};
	const char *s = NULL;
	json_t *v;
	int rc;

	if (!json_is_object(root))
		return ca_err(CA_EPOLICY, "%s: an approval is a JSON object",
			      what);
	GUARD(ca_json_keys_refuse(root, what, allowed));
	v = json_object_get(root, "hsmca_approval");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		rc =
		    ca_err(CA_EPOLICY,
			   "%s: not an approval (\"hsmca_approval\": 1)", what);
		goto out;
	}
	GUARD(ca_fields_get_str(root, "approver", what, &s));
	if (!ca_quorum_id_ok(s)) {
		rc = ca_err(CA_EPOLICY, "%s: \"approver\" is not a valid id",
			    what);
		goto out;
	}
	memcpy(a->approver, s, strlen(s) + 1);
	GUARD(ca_fields_get_hex64(root, "request_sha256", what,
				  a->request_sha256));
	GUARD(ca_fields_get_str(root, "algorithm", what, &s));
	if (!ca_approval_alg_known(s)) {
		rc = ca_err(CA_EPOLICY, "%s: unknown algorithm \"%.32s\"", what,
			    s);
		goto out;
	}
	memcpy(a->algorithm, s, strlen(s) + 1);
	GUARD(ca_fields_get_str(root, "signature", what, &s));
	if (ca_base64_decode(s, &a->signature, &a->signature_len) < 0 ||
	    a->signature_len == 0 || a->signature_len > MAX_SIG) {
		rc =
		    ca_err(CA_EPOLICY,
			   "%s: \"signature\" is not a base64 signature", what);
		goto out;
	}
	GUARD(ca_fields_get_str(root, "signed_at", what, &s));
	if (!ca_fields_time_strict(s, &a->signed_at)) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"signed_at\" is not a UTC time like "
			    "2026-01-31T12:00:00Z",
			    what);
		goto out;
	}
out:
	return rc;
}

int ca_approval_parse(const unsigned char *data, size_t len, const char *what,
		      struct ca_approval **out)
{
	struct ca_approval *a = NULL;
	json_t *root = NULL;
	int rc;

	*out = NULL;
	if (what == NULL)
		what = "approval";
	GUARD(ca_json_parse_strict(data, len, what, "truncated or damaged? ",
				   &root));
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(parse_approval(root, what, a));
	*out = a;
	a = NULL;
out:
	json_decref(root);
	ca_approval_free(a);
	return rc;
}
