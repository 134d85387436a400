/* KEYMGMT for token keys (provider-keymgmt(7)): LOAD of a STORE reference,
 * public parameters, public-only EXPORT and MATCH. There is deliberately no
 * IMPORT and no GEN: with IMPORT, OpenSSL would move other providers' keys
 * into ours to verify them, and our SIGNATURE cannot verify.
 *
 * Provider order: OpenSSL 3.0 answers a fetch without a property query
 * with the first provider's implementation. With hsmca loaded before
 * default, EVP_PKEY_CTX_new_from_name(ctx, "EC", NULL) gets this KEYMGMT,
 * so software key generation or EVP_PKEY_fromdata by name in the same
 * library context fails (openssl genpkey / req -newkey). Everything done
 * with a token key works in both orders; programs that also make software
 * keys load default first (the example openssl-hsmca.cnf does) or fetch
 * with "?provider=default". */
#include "prov.h"
#include "token/internal.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

static void *load(const void *ref, size_t ref_sz, enum ca_keytype type)
{
	ca_key *key;

	if (ref == NULL || ref_sz != sizeof(key))
		return NULL;
	memcpy(&key, ref, sizeof(key));
	if (key == NULL || key->magic != CA_KEY_MAGIC || key->type != type)
		return NULL;
	return ca_key_ref(key);
}

static void *rsa_load(const void *ref, size_t ref_sz)
{
	return load(ref, ref_sz, CA_KT_RSA);
}

static void *ec_load(const void *ref, size_t ref_sz)
{
	return load(ref, ref_sz, CA_KT_EC);
}

static void *ed25519_load(const void *ref, size_t ref_sz)
{
	return load(ref, ref_sz, CA_KT_ED25519);
}

/* NEW hands out an inert placeholder that nothing can be imported into
 * (there is no IMPORT). Without NEW, EVP_PKEY_eq(software key, token key)
 * first tries to move the software key here and leaves a bogus "malloc
 * failure" on the error queue even when it then succeeds the other way. */
static ca_key placeholder;

static void *km_new(void *provctx)
{
	(void)provctx;
	return &placeholder;
}

static int is_key(const void *keydata)
{
	const ca_key *key = keydata;

	return key != NULL && key->magic == CA_KEY_MAGIC;
}

static void km_free(void *keydata)
{
	if (is_key(keydata))
		ca_key_free(keydata);
}

/* A token key has both halves (the private one stays on the token). */
static int has(const void *keydata, int selection)
{
	(void)selection;
	return is_key(keydata);
}

static void *dup(const void *keydata, int selection)
{
	(void)selection;
	return is_key(keydata) ? ca_key_ref((ca_key *)keydata) : NULL;
}

static int set_utf8(OSSL_PARAM params[], const char *name, const char *v)
{
	OSSL_PARAM *p = OSSL_PARAM_locate(params, name);

	return p == NULL || OSSL_PARAM_set_utf8_string(p, v);
}

/* bits, security-bits, max-size, default-digest, n/e, group, pub... are
 * those of the public key (default provider); ours name the token. */
static int get_params(void *keydata, OSSL_PARAM params[])
{
	ca_key *key = keydata;
	OSSL_PARAM *p;

	if (!is_key(key))
		return 0;
	if (!set_utf8(params, CA_PKEY_PARAM_URI, key->uri) ||
	    !set_utf8(params, CA_PKEY_PARAM_TOKEN_LABEL, key->tok->label) ||
	    !set_utf8(params, CA_PKEY_PARAM_TOKEN_SERIAL, key->tok->serial))
		return 0;
	p = OSSL_PARAM_locate(params, CA_PKEY_PARAM_SPKI);
	if (p != NULL &&
	    !OSSL_PARAM_set_octet_string(p, key->spki, key->spki_len))
		return 0;
	return EVP_PKEY_get_params(key->pub, params);
}

#define COMMON_GETTABLE                                                        \
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),                            \
	    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),               \
	    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),                    \
	    OSSL_PARAM_utf8_string(CA_PKEY_PARAM_URI, NULL, 0),                \
	    OSSL_PARAM_utf8_string(CA_PKEY_PARAM_TOKEN_LABEL, NULL, 0),        \
	    OSSL_PARAM_utf8_string(CA_PKEY_PARAM_TOKEN_SERIAL, NULL, 0),       \
	    OSSL_PARAM_octet_string(CA_PKEY_PARAM_SPKI, NULL, 0)

static const OSSL_PARAM rsa_gettable[] = {
    COMMON_GETTABLE,
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ec_gettable[] = {
    COMMON_GETTABLE,
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ed_gettable[] = {
    COMMON_GETTABLE,
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *rsa_gettable_params(void *provctx)
{
	(void)provctx;
	return rsa_gettable;
}

static const OSSL_PARAM *ec_gettable_params(void *provctx)
{
	(void)provctx;
	return ec_gettable;
}

static const OSSL_PARAM *ed25519_gettable_params(void *provctx)
{
	(void)provctx;
	return ed_gettable;
}

/* Public parts only: a request that includes the private key fails, so
 * OpenSSL never builds a default-provider copy it would try to sign with. */
static int export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	ca_key *key = keydata;
	OSSL_PARAM *params = NULL;
	int ok;

	if (!is_key(key) || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
		return 0;
	if (EVP_PKEY_todata(key->pub, EVP_PKEY_PUBLIC_KEY, &params) != 1)
		return 0;
	ok = cb(params, cbarg);
	OSSL_PARAM_free(params);
	return ok;
}

static const OSSL_PARAM rsa_export[] = {
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ec_export[] = {
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM ed_export[] = {
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *rsa_export_types(int selection)
{
	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL
							     : rsa_export;
}

static const OSSL_PARAM *ec_export_types(int selection)
{
	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : ec_export;
}

static const OSSL_PARAM *ed25519_export_types(int selection)
{
	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : ed_export;
}

static int match(const void *k1, const void *k2, int selection)
{
	const ca_key *a = k1, *b = k2;

	if (!is_key(a) || !is_key(b) || a->type != b->type)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0)
		return a->spki_len == b->spki_len &&
		       CRYPTO_memcmp(a->spki_sha256, b->spki_sha256, 32) == 0;
	if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0)
		return EVP_PKEY_parameters_eq(a->pub, b->pub) == 1;
	return 1;
}

static const char *ec_operation_name(int op)
{
	return op == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

static const char *rsa_operation_name(int op)
{
	return op == OSSL_OP_SIGNATURE ? "RSA" : NULL;
}

static const char *ed25519_operation_name(int op)
{
	return op == OSSL_OP_SIGNATURE ? "ED25519" : NULL;
}

#define FN(id, f)                                                              \
	{                                                                      \
		OSSL_FUNC_KEYMGMT_##id, (void (*)(void))(f)                    \
	}
#define KEYMGMT(pfx)                                                           \
	const OSSL_DISPATCH ca_##pfx##_keymgmt[] = {                           \
	    FN(NEW, km_new),                                                   \
	    FN(LOAD, pfx##_load),                                              \
	    FN(FREE, km_free),                                                 \
	    FN(HAS, has),                                                      \
	    FN(DUP, dup),                                                      \
	    FN(GET_PARAMS, get_params),                                        \
	    FN(GETTABLE_PARAMS, pfx##_gettable_params),                        \
	    FN(EXPORT, export),                                                \
	    FN(EXPORT_TYPES, pfx##_export_types),                              \
	    FN(MATCH, match),                                                  \
	    FN(QUERY_OPERATION_NAME, pfx##_operation_name),                    \
	    {0, NULL},                                                         \
	}

KEYMGMT(rsa);
KEYMGMT(ec);
KEYMGMT(ed25519);
