/* Approvals: M-of-N consent bound to exact bytes.
 *
 * An approval (two-person-approve sign) is a JSON file:
 *   { "hsmca_approval": 1, "approver": id, "request_sha256": hex,
 *     "algorithm": "ed25519" | "ecdsa-sha256" | "ecdsa-sha384" |
 *                  "rsa-pkcs1-sha256",
 *     "signature": base64, "signed_at": RFC 3339 }
 * The signature is over the bytes "hsmca-approval-v1:" followed by the 64
 * lowercase hex digits of the SHA-256 of the request file's exact bytes.
 */
#ifndef HSMCA_QUORUM_APPROVAL_H
#define HSMCA_QUORUM_APPROVAL_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/err.h"

#define CA_APPROVAL_PREFIX  "hsmca-approval-v1:"
#define CA_APPROVAL_MSG_LEN (sizeof(CA_APPROVAL_PREFIX) - 1 + 64)

/* An approval file, parsed (no signature check). */
struct ca_approval {
	char approver[65];
	char request_sha256[65];
	char algorithm[24];
	unsigned char *signature;
	size_t signature_len;
	time_t signed_at; /* informative: not covered by the signature */
};

/* Malformed, truncated or unknown keys -> CA_EPOLICY. */
int ca_approval_parse(const unsigned char *data, size_t len, const char *what,
		      struct ca_approval **out) CA_WUR;
void ca_approval_free(struct ca_approval *a);

/* The one signature algorithm each accepted key type signs with. */
struct ca_approval_alg {
	const char *name;
	const char *md; /* NULL: pure Ed25519 */
	int rsa_pkcs1;	/* RSA: PKCS#1 v1.5 padding (RFC 8017 8.2) */
};
/* The algorithm of pub's key type (NULL: not an accepted type). */
const struct ca_approval_alg *ca_approval_alg_for_key(const EVP_PKEY *pub);
/* 1 when name is one of the algorithms above. */
int ca_approval_alg_known(const char *name);
/* The approved message: the prefix, then the request file's SHA-256 in
 * hex. */
void ca_approval_message(const char *request_sha256,
			 unsigned char msg[CA_APPROVAL_MSG_LEN]);
/* 1 when sig is a valid signature by pub over msg with alg. */
int ca_approval_sig_ok(EVP_PKEY *pub, const struct ca_approval_alg *alg,
		       const unsigned char *msg, size_t msglen,
		       const unsigned char *sig, size_t siglen);

#endif
