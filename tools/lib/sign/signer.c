#include "sign/signer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>

#include "base/hex.h"
#include "base/sha256.h"
#include "common/pin.h"
#include "providers/hsmca/provider.h"
#include "sign/internal.h"
#include "x509/algid.h"

#define PROPQ "?provider=hsmca"

static OSSL_PROVIDER *prov_hsmca, *prov_default;

int ca_crypto_init(void)
{
	if (prov_hsmca != NULL)
		return CA_OK;
	if (OSSL_PROVIDER_add_builtin(NULL, "hsmca", ca_provider_init) != 1)
		return ca_err(CA_EIO, "cannot register the hsmca provider");
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	prov_hsmca = OSSL_PROVIDER_load(NULL, "hsmca");
	if (prov_default == NULL || prov_hsmca == NULL)
		return ca_err(CA_EIO, "cannot load the OpenSSL providers");
	/* One library context in the tools: no second copy of the default
	 * provider for the token layer. */
	ca_p11_use_libctx(OSSL_LIB_CTX_get0_global_default());
	return CA_OK;
}

void ca_crypto_fini(void)
{
	ca_p11_shutdown();
}

void ca_signer_free(struct ca_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pkey);
	EVP_PKEY_free(s->pub);
	ca_token_free(s->tok);
	free(s->uri);
	free(s->token_label);
	free(s->token_serial);
	free(s->algid);
	free(s);
}

static char *get_str(EVP_PKEY *pkey, const char *name)
{
	char buf[1024];
	size_t n = 0;

	if (EVP_PKEY_get_utf8_string_param(pkey, name, buf, sizeof(buf), &n) !=
	    1)
		return NULL;
	return strdup(buf);
}

/* Log in to the token behind uri unless it already is. */
static int login(const char *uri, const char *pin_source, ca_token **tok_out)
{
	ca_token *tok = NULL;
	int rc;

	GUARD(ca_token_open(uri, &tok));
	GUARD(ca_token_login_source(tok, pin_source));
	*tok_out = tok;
	tok = NULL;
out:
	ca_token_free(tok);
	return rc;
}

static int load_pkey(const char *uri, EVP_PKEY **out)
{
	OSSL_STORE_CTX *sc = NULL;
	OSSL_STORE_INFO *info = NULL;
	int rc = CA_EIO;

	*out = NULL;
	ca_err_clear();
	sc = OSSL_STORE_open_ex(uri, NULL, "provider=hsmca", NULL, NULL, NULL,
				NULL, NULL);
	if (sc == NULL)
		goto out;
	(void)OSSL_STORE_expect(sc, OSSL_STORE_INFO_PKEY);
	while (*out == NULL && !OSSL_STORE_eof(sc)) {
		info = OSSL_STORE_load(sc);
		if (info == NULL)
			break;
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			*out = OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	if (*out != NULL)
		rc = CA_OK;
out:
	if (rc < 0 && ca_errmsg()[0] == '\0')
		ca_err(CA_EIO, "cannot load the private key %s", uri);
	else if (rc < 0)
		rc = ca_errcode();
	OSSL_STORE_close(sc);
	ERR_clear_error();
	return rc;
}

/* The public key as a software key: the expected one when its DER is the
 * token key's (no decoding), else decoded from the token key's DER. */
static int public_copy(struct ca_signer *s, X509 *expect)
{
	unsigned char spki[8192], *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	int n, rc = CA_OK;

	if (EVP_PKEY_get_octet_string_param(s->pkey, CA_PKEY_PARAM_SPKI, spki,
					    sizeof(spki), &len) != 1 ||
	    len == 0)
		return ca_err(CA_EIO, "cannot read the token key's public key");
	GUARD(ca_sha256(spki, len, s->spki_sha256));
	ca_hex(s->spki_sha256, 32, s->spki_sha256_hex);
	if (expect != NULL &&
	    (n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(expect), &der)) > 0 &&
	    (size_t)n == len && memcmp(der, spki, len) == 0 &&
	    EVP_PKEY_up_ref(X509_get0_pubkey(expect)) == 1) {
		s->pub = X509_get0_pubkey(expect);
		goto out;
	}
	p = spki;
	s->pub = d2i_PUBKEY(NULL, &p, (long)len);
	if (s->pub == NULL)
		rc = ca_err(CA_EIO, "cannot decode the token key's public key");
out:
	OPENSSL_free(der);
	return rc;
}

int ca_signer_open(const char *uri, const char *pin_source,
		   struct ca_signer **out)
{
	return ca_signer_open_expect(uri, pin_source, NULL, out);
}

int ca_signer_open_expect(const char *uri, const char *pin_source, X509 *expect,
			  struct ca_signer **out)
{
	struct ca_signer *s = NULL;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_crypto_init());
	GUARD(login(uri, pin_source, &s->tok));
	GUARD(load_pkey(uri, &s->pkey));
	GUARD(public_copy(s, expect));
	s->uri = get_str(s->pkey, CA_PKEY_PARAM_URI);
	s->token_label = get_str(s->pkey, CA_PKEY_PARAM_TOKEN_LABEL);
	s->token_serial = get_str(s->pkey, CA_PKEY_PARAM_TOKEN_SERIAL);
	if (s->uri == NULL || s->token_label == NULL ||
	    s->token_serial == NULL) {
		rc = ca_err(CA_EIO, "the key %s does not name its token", uri);
		goto out;
	}
	s->type = EVP_PKEY_get_base_id(s->pub);
	s->bits = EVP_PKEY_get_bits(s->pub);
	*out = s;
	s = NULL;
out:
	ca_signer_free(s);
	return rc;
}

int ca_signer_open_public(const char *uri, struct ca_signer **out)
{
	struct ca_signer *s = NULL;
	P11KitUri *parsed = NULL;
	ca_key *key = NULL;
	const unsigned char *spki, *p;
	size_t len;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_crypto_init());
	GUARD(ca_p11_uri_parse(uri, &parsed));
	GUARD(ca_token_open_parsed(parsed, uri, &s->tok));
	GUARD(ca_token_find_public(s->tok, parsed, &key));
	spki = ca_key_spki(key, &len);
	p = spki;
	s->pub = d2i_PUBKEY(NULL, &p, (long)len);
	s->uri = strdup(ca_key_uri(key));
	s->token_label = strdup(ca_token_label(s->tok));
	s->token_serial = strdup(ca_token_serial(s->tok));
	if (s->pub == NULL || s->uri == NULL || s->token_label == NULL ||
	    s->token_serial == NULL) {
		rc = ca_err(CA_EIO, "cannot read the public key %s", uri);
		goto out;
	}
	memcpy(s->spki_sha256, ca_key_spki_sha256(key), 32);
	ca_hex(s->spki_sha256, 32, s->spki_sha256_hex);
	s->type = EVP_PKEY_get_base_id(s->pub);
	s->bits = EVP_PKEY_get_bits(s->pub);
	*out = s;
	s = NULL;
out:
	ca_key_free(key);
	if (parsed != NULL)
		p11_kit_uri_free(parsed);
	ca_signer_free(s);
	return rc;
}

static int sign_init(struct ca_signer *s, EVP_MD_CTX **out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	*out = NULL;
	if (md == NULL)
		return ca_err(CA_EIO, "out of memory");
	ca_err_clear();
	if (EVP_DigestSignInit_ex(md, NULL, ca_digest_for_key(s->pub), NULL,
				  PROPQ, s->pkey, NULL) != 1 ||
	    ca_sigalg_apply(md, s->sigalg, ca_digest_for_key(s->pub)) < 0) {
		EVP_MD_CTX_free(md);
		ERR_clear_error();
		if (ca_errmsg()[0] != '\0')
			return CA_EIO;
		return ca_err(CA_EIO, "cannot start a signature with %s",
			      s->uri);
	}
	*out = md;
	return CA_OK;
}

/* Guards every signer's kept algorithm identifier (held for a copy). */
static pthread_mutex_t algid_lock = PTHREAD_MUTEX_INITIALIZER;

/* The kept identifier, copied, when it is for the signer's algorithm. */
static int algid_kept(struct ca_signer *s, unsigned char **der, size_t *len)
{
	int found = 0;

	pthread_mutex_lock(&algid_lock);
	if (s->algid != NULL && s->algid_sigalg == s->sigalg &&
	    (*der = malloc(s->algid_len)) != NULL) {
		memcpy(*der, s->algid, s->algid_len);
		*len = s->algid_len;
		found = 1;
	}
	pthread_mutex_unlock(&algid_lock);
	return found;
}

static void algid_keep(struct ca_signer *s, const unsigned char *der,
		       size_t len)
{
	unsigned char *copy = malloc(len);

	if (copy == NULL)
		return;
	memcpy(copy, der, len);
	pthread_mutex_lock(&algid_lock);
	free(s->algid);
	s->algid = copy;
	s->algid_len = len;
	s->algid_sigalg = s->sigalg;
	pthread_mutex_unlock(&algid_lock);
}

int ca_signer_algid(struct ca_signer *s, unsigned char **der, size_t *len)
{
	unsigned char buf[256];
	OSSL_PARAM params[2];
	EVP_MD_CTX *md = NULL;
	int rc;

	*der = NULL;
	if (algid_kept(s, der, len))
		return CA_OK;
	GUARD(sign_init(s, &md));
	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_SIGNATURE_PARAM_ALGORITHM_ID, buf, sizeof(buf));
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_CTX_get_params(EVP_MD_CTX_get_pkey_ctx(md), params) != 1 ||
	    params[0].return_size == 0 || params[0].return_size > sizeof(buf)) {
		rc = ca_err(CA_EIO,
			    "the provider did not give an algorithm "
			    "identifier for %s",
			    s->uri);
		goto out;
	}
	*der = malloc(params[0].return_size);
	if (*der == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	memcpy(*der, buf, params[0].return_size);
	*len = params[0].return_size;
	algid_keep(s, buf, params[0].return_size);
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int ca_signer_sign(struct ca_signer *s, const unsigned char *data, size_t len,
		   unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *md = NULL;
	size_t n = 0;
	int rc;

	*sig = NULL;
	GUARD(sign_init(s, &md));
	if (EVP_DigestSign(md, NULL, &n, data, len) != 1 ||
	    (*sig = malloc(n)) == NULL ||
	    EVP_DigestSign(md, *sig, &n, data, len) != 1) {
		free(*sig);
		*sig = NULL;
		ERR_clear_error();
		rc = ca_errmsg()[0]
			 ? CA_EIO
			 : ca_err(CA_EIO, "the token did not sign with %s",
				  s->uri);
		goto out;
	}
	*siglen = n;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

struct ca_sign_stream {
	struct ca_signer *s;
	EVP_MD_CTX *md;
};

int ca_sign_stream_new(struct ca_signer *s, ca_sign_stream **out)
{
	ca_sign_stream *st;
	int rc;

	*out = NULL;
	if (s->type == EVP_PKEY_ED25519)
		return ca_err(CA_EUSAGE,
			      "Ed25519 cannot sign a stream; "
			      "the data must be signed in one piece");
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return ca_err(CA_EIO, "out of memory");
	st->s = s;
	rc = sign_init(s, &st->md);
	if (rc < 0) {
		free(st);
		return rc;
	}
	*out = st;
	return CA_OK;
}

/* The provider's failure, with the message and class it recorded
 * (CA_ERETRY included), else what. */
static int stream_failed(const char *what, const struct ca_signer *s)
{
	ERR_clear_error();
	if (ca_errmsg()[0])
		return ca_errcode();
	return ca_err(CA_EIO, "%s with %s", what, s->uri);
}

int ca_sign_stream_update(ca_sign_stream *st, const void *data, size_t len)
{
	ca_err_clear();
	if (EVP_DigestSignUpdate(st->md, data, len) != 1)
		return stream_failed("hashing for the signature failed", st->s);
	return CA_OK;
}

int ca_sign_stream_final(ca_sign_stream *st, unsigned char **sig,
			 size_t *siglen)
{
	size_t n = 0;
	int rc = CA_OK;

	*sig = NULL;
	ca_err_clear();
	if (EVP_DigestSignFinal(st->md, NULL, &n) != 1 ||
	    (*sig = malloc(n)) == NULL ||
	    EVP_DigestSignFinal(st->md, *sig, &n) != 1) {
		free(*sig);
		*sig = NULL;
		rc = stream_failed("the token did not sign", st->s);
	}
	*siglen = n;
	ca_sign_stream_free(st);
	return rc;
}

void ca_sign_stream_free(ca_sign_stream *st)
{
	if (st == NULL)
		return;
	EVP_MD_CTX_free(st->md);
	free(st);
}
