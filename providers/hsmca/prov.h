/* Internals of the hsmca provider shared by provider.c, keymgmt.c,
 * signature.c and store.c. */
#ifndef HSMCA_PROV_H
#define HSMCA_PROV_H

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

#include "common/pin.h"
#include "provider.h"
#include "token/token.h"

/* Reason codes of the errors we raise (see provider.c reason strings). */
#define CA_R_TOKEN	   1 /* CA_EIO */
#define CA_R_USAGE	   2 /* CA_EUSAGE */
#define CA_R_POLICY	   3 /* CA_EPOLICY */
#define CA_R_NOT_SUPPORTED 4

struct ca_prov {
	const OSSL_CORE_HANDLE *handle;
	OSSL_FUNC_core_new_error_fn *new_error;
	OSSL_FUNC_core_set_error_debug_fn *set_error_debug;
	OSSL_FUNC_core_vset_error_fn *vset_error;
	char pin_source[CA_PIN_MAX + 8]; /* "" when not configured */
	/* A configuration error is reported on first use rather than by a
	 * failed load: OpenSSL's config loader does not print the reason. */
	char config_error[256];
};

/* Raise the token layer's last message (ca_errmsg()) for return code rc
 * as an OpenSSL error, so that the CLI prints the real reason. */
void ca_prov_raise(const struct ca_prov *prov, int rc, const char *file,
		   int line, const char *func);
#define CA_RAISE(prov, rc)                                                     \
	ca_prov_raise((prov), (rc), OPENSSL_FILE, OPENSSL_LINE, OPENSSL_FUNC)

extern const OSSL_DISPATCH ca_rsa_keymgmt[];
extern const OSSL_DISPATCH ca_ec_keymgmt[];
extern const OSSL_DISPATCH ca_ed25519_keymgmt[];
extern const OSSL_DISPATCH ca_rsa_signature[];
extern const OSSL_DISPATCH ca_ecdsa_signature[];
extern const OSSL_DISPATCH ca_ed25519_signature[];
extern const OSSL_DISPATCH ca_store[];

#endif
