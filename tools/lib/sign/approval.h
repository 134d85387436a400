/* Signing an approval (two-person-approve sign). */
#ifndef HSMCA_SIGN_APPROVAL_H
#define HSMCA_SIGN_APPROVAL_H

#include "common/err.h"
#include "quorum/request.h"

/* Sign an approval of a loaded request with key (a PEM private key file,
 * passphrase from pass_source or a prompt; or a pkcs11: URI, PIN from
 * pass_source) as approver id; write it to out. The request is the one the
 * approver was shown (no second read of the file). */
int ca_approval_sign_req(const struct ca_request *req, const char *id,
			 const char *key, const char *pass_source,
			 const char *out, int force) CA_WUR;

#endif
