/* The hsmca provider: initialisation, configuration, algorithm tables and
 * error reporting (OpenSSL 3.0 provider(7), provider-base(7)). */
#include "prov.h"
#include "token/internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>

#define PROPS "provider=hsmca"

static const OSSL_ALGORITHM keymgmt_algs[] = {
    {"RSA:rsaEncryption", PROPS, ca_rsa_keymgmt, "RSA key on a PKCS#11 token"},
    {"EC:id-ecPublicKey", PROPS, ca_ec_keymgmt, "EC key on a PKCS#11 token"},
    {"ED25519", PROPS, ca_ed25519_keymgmt, "Ed25519 key on a PKCS#11 token"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM signature_algs[] = {
    {"RSA:rsaEncryption", PROPS, ca_rsa_signature, "RSA signing on a token"},
    {"ECDSA", PROPS, ca_ecdsa_signature, "ECDSA signing on a token"},
    {"ED25519", PROPS, ca_ed25519_signature, "Ed25519 signing on a token"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM store_algs[] = {
    {"pkcs11", PROPS, ca_store, "RFC 7512 pkcs11: URIs"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ITEM reason_strings[] = {
    {CA_R_TOKEN, "PKCS#11 token error"},
    {CA_R_USAGE, "bad argument"},
    {CA_R_POLICY, "refused by policy"},
    {CA_R_NOT_SUPPORTED, "not supported"},
    {0, NULL},
};

static void set_error(const struct ca_prov *prov, int reason, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	prov->vset_error(prov->handle, (uint32_t)reason, fmt, ap);
	va_end(ap);
}

void ca_prov_raise(const struct ca_prov *prov, int rc, const char *file,
		   int line, const char *func)
{
	int reason = rc == CA_EPOLICY  ? CA_R_POLICY
		     : rc == CA_EUSAGE ? CA_R_USAGE
				       : CA_R_TOKEN;

	if (prov == NULL || prov->new_error == NULL || prov->vset_error == NULL)
		return;
	prov->new_error(prov->handle);
	if (prov->set_error_debug != NULL)
		prov->set_error_debug(prov->handle, file, line, func);
	set_error(prov, reason, "%s",
		  ca_errmsg()[0] != '\0' ? ca_errmsg() : "unknown error");
}

static const OSSL_ALGORITHM *query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_KEYMGMT:
		return keymgmt_algs;
	case OSSL_OP_SIGNATURE:
		return signature_algs;
	case OSSL_OP_STORE:
		return store_algs;
	default:
		return NULL;
	}
}

static const OSSL_PARAM *gettable_params(void *provctx)
{
	static const OSSL_PARAM params[] = {
	    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
	    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL,
			    0),
	    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR,
			    NULL, 0),
	    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL,
			    0),
	    OSSL_PARAM_END,
	};

	(void)provctx;
	return params;
}

static int get_params(void *provctx, OSSL_PARAM params[])
{
	OSSL_PARAM *p;

	(void)provctx;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "hsmca PKCS#11 provider"))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, HSMCA_VERSION))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
	if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "hsmca " HSMCA_VERSION))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
	if (p != NULL && !OSSL_PARAM_set_int(p, 1))
		return 0;
	return 1;
}

static const OSSL_ITEM *get_reason_strings(void *provctx)
{
	(void)provctx;
	return reason_strings;
}

/* Provider teardown does not finalize PKCS#11: the token layer is process
 * wide (the tools call ca_p11_shutdown(), the module's atexit handler does
 * it for other programs). It only lets the private library context go. */
static void teardown(void *provctx)
{
	struct ca_prov *prov = provctx;

	if (prov == NULL)
		return;
	OPENSSL_cleanse(prov->pin_source, sizeof(prov->pin_source));
	free(prov);
	ca_p11_libctx_release();
}

static const OSSL_DISPATCH prov_dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))teardown},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))query},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))get_params},
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))get_reason_strings},
    {0, NULL},
};

static int yes_no(const char *name, const char *v, int *out)
{
	static const char *const yes[] = {"yes", "1", "true", "on"};
	static const char *const no[] = {"no", "0", "false", "off"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return CA_OK;
		}
	}
	return ca_err(
	    CA_EUSAGE,
	    "hsmca provider configuration: %s must be yes or no, not '%s'",
	    name, v);
}

/* openssl.cnf [hsmca_sect]: pkcs11-module, pkcs11-module-args, pin-source,
 * allow-pin-value, allow-final-pin-try. */
static int configure(struct ca_prov *prov, OSSL_FUNC_core_get_params_fn *get)
{
	const char *module = NULL, *pin_source = NULL, *allow = NULL;
	const char *module_args = NULL, *final_try = NULL;
	OSSL_PARAM req[] = {
	    OSSL_PARAM_utf8_ptr(CA_PROV_PARAM_MODULE, (char **)&module, 0),
	    OSSL_PARAM_utf8_ptr(CA_PROV_PARAM_MODULE_ARGS,
				(char **)&module_args, 0),
	    OSSL_PARAM_utf8_ptr(CA_PROV_PARAM_PIN_SOURCE, (char **)&pin_source,
				0),
	    OSSL_PARAM_utf8_ptr(CA_PROV_PARAM_ALLOW_PIN_VALUE, (char **)&allow,
				0),
	    OSSL_PARAM_utf8_ptr(CA_PROV_PARAM_ALLOW_FINAL_TRY,
				(char **)&final_try, 0),
	    OSSL_PARAM_END,
	};
	int allow_v = 0, rc = CA_OK;

	if (get == NULL || !get(prov->handle, req))
		goto out;
	if (allow != NULL) {
		GUARD(yes_no(CA_PROV_PARAM_ALLOW_PIN_VALUE, allow, &allow_v));
		ca_p11_allow_pin_value(allow_v);
	}
	if (final_try != NULL) {
		GUARD(
		    yes_no(CA_PROV_PARAM_ALLOW_FINAL_TRY, final_try, &allow_v));
		ca_p11_allow_final_pin_try(allow_v);
	}
	if (pin_source != NULL) {
		rc = ca_pin_source_check(pin_source);
		if (rc < 0) {
			ca_err_ctx(rc, "hsmca provider configuration");
			goto out;
		}
		if (strlen(pin_source) >= sizeof(prov->pin_source)) {
			rc = ca_err(CA_EUSAGE, "hsmca provider configuration: "
					       "pin-source is too long");
			goto out;
		}
		memcpy(prov->pin_source, pin_source, strlen(pin_source) + 1);
	}
	if (module != NULL && module[0] != '\0')
		ca_p11_set_module(module);
	if (module_args != NULL && module_args[0] != '\0')
		ca_p11_set_module_args(module_args);
out:
	return rc;
}

static void core_functions(struct ca_prov *prov, const OSSL_DISPATCH *in,
			   OSSL_FUNC_core_get_params_fn **get)
{
	for (; in != NULL && in->function_id != 0; in++) {
		switch (in->function_id) {
		case OSSL_FUNC_CORE_GET_PARAMS:
			*get = OSSL_FUNC_core_get_params(in);
			break;
		case OSSL_FUNC_CORE_NEW_ERROR:
			prov->new_error = OSSL_FUNC_core_new_error(in);
			break;
		case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
			prov->set_error_debug =
			    OSSL_FUNC_core_set_error_debug(in);
			break;
		case OSSL_FUNC_CORE_VSET_ERROR:
			prov->vset_error = OSSL_FUNC_core_vset_error(in);
			break;
		default:
			break;
		}
	}
}

int ca_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		     const OSSL_DISPATCH **out, void **provctx)
{
	OSSL_FUNC_core_get_params_fn *get = NULL;
	struct ca_prov *prov;
	int rc;

	prov = calloc(1, sizeof(*prov));
	if (prov == NULL)
		return 0;
	prov->handle = handle;
	core_functions(prov, in, &get);
	rc = configure(prov, get);
	if (rc < 0)
		snprintf(prov->config_error, sizeof(prov->config_error), "%s",
			 ca_errmsg());
	*out = prov_dispatch;
	*provctx = prov;
	return 1;
}

/* The entry point of build/lib/hsmca.so (the only exported symbol). */
OSSL_provider_init_fn OSSL_provider_init;
int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		       const OSSL_DISPATCH **out, void **provctx)
{
	return ca_provider_init(handle, in, out, provctx);
}
