/* STORE for "pkcs11:" URIs (provider-storemgmt(7), RFC 7512): one private
 * key per URI, handed to OpenSSL as a reference that our KEYMGMT loads.
 *
 * PIN, in order: none if the token is already logged in; the URI's
 * pin-source; its pin-value (only when allowed); the provider's configured
 * pin-source; the passphrase callback (e.g. openssl -passin).
 */
#include "prov.h"
#include "token/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/store.h>

struct store {
	struct ca_prov *prov;
	P11KitUri *uri;
	ca_token *tok;
	int expect;
	int eof;
};

static void close_store(struct store *st)
{
	if (st == NULL)
		return;
	ca_token_free(st->tok);
	if (st->uri != NULL)
		p11_kit_uri_free(st->uri);
	free(st);
}

static void *open_store(void *provctx, const char *uri)
{
	struct store *st = calloc(1, sizeof(*st));
	int rc;

	if (st == NULL)
		return NULL;
	st->prov = provctx;
	ca_err_clear();
	if (st->prov->config_error[0] != '\0') {
		rc = ca_err(CA_EUSAGE, "%s", st->prov->config_error);
		goto out;
	}
	GUARD(ca_p11_uri_parse(uri, &st->uri));
	GUARD(ca_token_open_parsed(st->uri, uri, &st->tok));
out:
	if (rc < 0) {
		CA_RAISE(st->prov, rc);
		close_store(st);
		st = NULL;
	}
	return st;
}

static int close_fn(void *vctx)
{
	close_store(vctx);
	return 1;
}

static int eof_fn(void *vctx)
{
	struct store *st = vctx;

	return st->eof;
}

static const OSSL_PARAM *settable_ctx_params(void *provctx)
{
	static const OSSL_PARAM params[] = {
	    OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
	    OSSL_PARAM_END,
	};

	(void)provctx;
	return params;
}

static int set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct store *st = vctx;
	const OSSL_PARAM *p;

	p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT);
	if (p != NULL && !OSSL_PARAM_get_int(p, &st->expect))
		return 0;
	return 1;
}

/* RFC 7512 2.3 pin-source: file:, env:, fd: (ca_pin_read), or a path. */
static int pin_from_source(const char *src, struct ca_pin *pin)
{
	char buf[CA_PIN_MAX + 8];

	if (src[0] != '/')
		return ca_pin_read(src, NULL, pin);
	if (strlen(src) + 5 >= sizeof(buf))
		return ca_err(CA_EUSAGE, "pin-source path is too long");
	memcpy(buf, "file:", 5);
	memcpy(buf + 5, src, strlen(src) + 1);
	return ca_pin_read(buf, NULL, pin);
}

static int pin_from_callback(struct store *st, OSSL_PASSPHRASE_CALLBACK *cb,
			     void *cbarg, struct ca_pin *pin)
{
	char info[96];
	OSSL_PARAM params[2];
	size_t len = 0;

	snprintf(info, sizeof(info), "token '%s'", st->tok->label);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PASSPHRASE_PARAM_INFO,
						     info, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (cb == NULL || !cb(pin->value, CA_PIN_MAX, &len, params, cbarg) ||
	    len == 0 || len > CA_PIN_MAX)
		return ca_err(
		    CA_EUSAGE,
		    "no PIN for token '%s': use -passin, a pin-source "
		    "in the URI or pin-source in the provider "
		    "configuration",
		    st->tok->label);
	pin->len = len;
	pin->value[len] = '\0';
	return CA_OK;
}

static int login(struct store *st, OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
	struct ca_pin pin;
	const char *src, *value;
	int rc;

	memset(&pin, 0, sizeof(pin));
	GUARD(ca_token_logged_in(st->tok));
	if (rc == 1) {
		rc = CA_OK;
		goto out;
	}
	src = p11_kit_uri_get_pin_source(st->uri);
	value = p11_kit_uri_get_pin_value(st->uri);
	GUARD(ca_token_login_check(st->tok));
	if (rc == 0) {
		/* protected authentication path: no PIN asked */
	} else if (src != NULL) {
		GUARD(pin_from_source(src, &pin));
	} else if (value != NULL && ca_p11_pin_value_allowed()) {
		pin.len = strlen(value);
		if (pin.len > CA_PIN_MAX) {
			rc = ca_err(CA_EUSAGE, "pin-value is too long");
			goto out;
		}
		memcpy(pin.value, value, pin.len + 1);
	} else if (st->prov->pin_source[0] != '\0') {
		GUARD(ca_pin_read(st->prov->pin_source, NULL, &pin));
	} else {
		GUARD(pin_from_callback(st, cb, cbarg, &pin));
	}
	rc = ca_token_login(st->tok, pin.value, pin.len);
out:
	ca_pin_wipe(&pin);
	return rc;
}

static const char *data_type(const ca_key *key)
{
	switch (key->type) {
	case CA_KT_RSA:
		return "RSA";
	case CA_KT_EC:
		return "EC";
	default:
		return "ED25519";
	}
}

static int load(void *vctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
		OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	struct store *st = vctx;
	ca_key *key = NULL;
	int type = OSSL_OBJECT_PKEY;
	OSSL_PARAM params[4];
	int ok = 0, rc;

	st->eof = 1;
	/* Only private keys live here; another expected type: nothing. */
	if (st->expect != 0 && st->expect != OSSL_STORE_INFO_PKEY)
		return 0;
	ca_err_clear();
	GUARD(login(st, pw_cb, pw_cbarg));
	GUARD(ca_token_find_key(st->tok, st->uri, &key));
	params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_OBJECT_PARAM_DATA_TYPE, (char *)data_type(key), 0);
	/* The reference is the key pointer; KEYMGMT LOAD takes its own
	 * reference before we drop ours. */
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_OBJECT_PARAM_REFERENCE, &key, sizeof(key));
	params[3] = OSSL_PARAM_construct_end();
	ok = object_cb(params, object_cbarg);
out:
	if (rc < 0)
		CA_RAISE(st->prov, rc);
	ca_key_free(key);
	return ok;
}

const OSSL_DISPATCH ca_store[] = {
    {OSSL_FUNC_STORE_OPEN, (void (*)(void))open_store},
    {OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))settable_ctx_params},
    {OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))set_ctx_params},
    {OSSL_FUNC_STORE_LOAD, (void (*)(void))load},
    {OSSL_FUNC_STORE_EOF, (void (*)(void))eof_fn},
    {OSSL_FUNC_STORE_CLOSE, (void (*)(void))close_fn},
    {0, NULL},
};
