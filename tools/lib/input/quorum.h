/* Quorum files: who may approve quorum-protected actions, and how many.
 *
 *   { "version": 1, "threshold": M,
 *     "approvers": [ { "id": "alice", "name": "Alice Example",
 *                      "public_key": "-----BEGIN PUBLIC KEY-----\n..." } ] }
 *
 * Loading validates everything: version 1, 1 <= M <= N, ids unique and made
 * of [A-Za-z0-9._-] (1 to 64), names non-empty, public keys unique and of an
 * accepted type (Ed25519, ECDSA P-256/P-384, RSA >= 2048 with e = 65537),
 * no unknown keys at any level. Any violation is CA_EPOLICY naming the file
 * and the problem. The file's SHA-256 (exact bytes) is what a CA pins.
 */
#ifndef HSMCA_INPUT_QUORUM_H
#define HSMCA_INPUT_QUORUM_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/err.h"

#define CA_QUORUM_MAX_ID 64 /* approver ids: 1 to 64 of A-Za-z0-9._- */

struct ca_approver {
	char *id;
	char *name;
	EVP_PKEY *pub;
	unsigned char spki_sha256[32];
};

struct ca_quorum {
	int version;
	int threshold;
	int n;
	struct ca_approver *approvers;
	char sha256_hex[65]; /* of the file's exact bytes */
};

int ca_quorum_parse(const unsigned char *data, size_t len, const char *what,
		    struct ca_quorum **out) CA_WUR;
/* The same for a quorum file being written (quorum init/add): fewer
 * approvers than the threshold, none included, are accepted; everything
 * else is checked as above. Not for use by a CA. */
int ca_quorum_parse_draft(const unsigned char *data, size_t len,
			  const char *what, struct ca_quorum **out) CA_WUR;
int ca_quorum_load(const char *path, struct ca_quorum **out) CA_WUR;
void ca_quorum_free(struct ca_quorum *q);
const struct ca_approver *ca_quorum_find(const struct ca_quorum *q,
					 const char *id);
/* Accepted approver key types (also used when signing an approval). */
int ca_quorum_key_ok(EVP_PKEY *pub, const char *what) CA_WUR;

/* 1 when id is a valid approver id. */
int ca_quorum_id_ok(const char *id);

#endif
