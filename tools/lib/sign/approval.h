/* Signing an approval (two-person-approve sign). */
#ifndef HSMCA_SIGN_APPROVAL_H
#define HSMCA_SIGN_APPROVAL_H

#include "common/err.h"
#include "input/quorum.h"
#include "quorum/request.h"

/* Sign an approval of a loaded request with key (a PEM private key file,
 * passphrase from pass_source or a prompt; or a pkcs11: URI, PIN from
 * pass_source) as approver id; write it to out. The request is the one the
 * approver was shown (no second read of the file). */
int ca_approval_sign_req(const struct ca_request *req, const char *id,
			 const char *key, const char *pass_source,
			 const char *out, int force) CA_WUR;
/* The same for approver expect of a quorum file (id is expect->id): a key
 * that is not expect's public key is refused before it signs. */
int ca_approval_sign_as(const struct ca_request *req, const char *id,
			const struct ca_approver *expect, const char *key,
			const char *pass_source, const char *out,
			int force) CA_WUR;

/* Whether key (as for ca_approval_sign_req) can sign and is the one the
 * quorum lists for approver id: a probe (never an approval message) is
 * signed with it and verified with the quorum's public key for id.
 * spki_sha256 gets that key's fingerprint. Another key, or an id not in
 * the quorum: CA_EPOLICY. */
int ca_approval_key_check(const struct ca_quorum *q, const char *id,
			  const char *key, const char *pass_source,
			  char spki_sha256[65]) CA_WUR;

#endif
