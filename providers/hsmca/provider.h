/* The hsmca OpenSSL 3 provider: KEYMGMT, SIGNATURE and STORE for keys that
 * live on a PKCS#11 token. Loaded as a module (build/lib/hsmca.so, which
 * exports only OSSL_provider_init) or added in-process by the tools with
 * OSSL_PROVIDER_add_builtin(libctx, "hsmca", ca_provider_init).
 */
#ifndef HSMCA_PROVIDER_H
#define HSMCA_PROVIDER_H

#include <openssl/core.h>

/* Provider configuration (openssl.cnf [hsmca_sect]). */
#define CA_PROV_PARAM_MODULE	      "pkcs11-module" /* path or p11-kit name */
#define CA_PROV_PARAM_MODULE_ARGS     "pkcs11-module-args"  /* C_Initialize */
#define CA_PROV_PARAM_PIN_SOURCE      "pin-source"	    /* file:/fd:/env: */
#define CA_PROV_PARAM_ALLOW_PIN_VALUE "allow-pin-value"	    /* yes|no */
#define CA_PROV_PARAM_ALLOW_FINAL_TRY "allow-final-pin-try" /* yes|no */

/* Extra gettable key parameters (UTF-8 strings) naming where a key lives. */
#define CA_PKEY_PARAM_URI	   "hsmca-uri"
#define CA_PKEY_PARAM_TOKEN_LABEL  "hsmca-token-label"
#define CA_PKEY_PARAM_TOKEN_SERIAL "hsmca-token-serial"
/* The public key's DER SubjectPublicKeyInfo, as read from the token. */
#define CA_PKEY_PARAM_SPKI "hsmca-spki"

OSSL_provider_init_fn ca_provider_init;

#endif
