/* bench_sign: signing throughput of one token key through one signing path.
 *
 * Every path signs the same N deterministic messages (message i depends only
 * on i), so runs of different paths, each in its own process, do the same
 * token work:
 *
 *   raw       C_SignInit + C_Sign on one session, PKCS#11 straight through
 *             p11-kit (p11_kit_module_load + C_Initialize, token and key found
 *             by label), nothing of ours in between. The SHA-256 digests are
 *             precomputed; P-256 signs with CKM_ECDSA over the digest, RSA
 *             with CKM_RSA_PKCS over DigestInfo(SHA-256) || digest. The module
 *             is loaded as the token layer loads it (managed by p11-kit).
 *   raw-direct  the same on the module's own function list
 *             (P11_KIT_MODULE_UNMANAGED), as libp11 calls it.
 *   token     our token layer (ca_key_sign) with the same mechanisms: the
 *             provider minus OpenSSL's dispatch, to tell where time goes.
 *   provider  the hsmca provider in-process (ca_crypto_init, ca_signer_open),
 *             a fresh EVP_MD_CTX + EVP_DigestSignInit_ex("?provider=hsmca") +
 *             EVP_DigestSign per message, as ca_signer_sign does.
 *   provider-reuse  the same, one EVP_DigestSignInit_ex for all messages and
 *             EVP_DigestSign repeated on that context (OpenSSL 3.0 allows it:
 *             the provider's one-shot DIGEST_SIGN restarts its hash; the
 *             verified samples show each signature covers its own message).
 *   signer    ca_signer_sign() (tools/lib/sign/signer.c): a fresh context, a
 * size query and a malloc'd copy per message, as the tools sign. engine    the
 * libp11 "pkcs11" engine (ENGINE_load_private_key), a fresh EVP_MD_CTX +
 * EVP_DigestSignInit + EVP_DigestSign per message.
 *
 * A few untimed warm-up signatures come first; then the N timed ones. Every
 * Kth timed signature (and the first and last) is kept and, after the clock
 * stops, verified with OpenSSL's default provider against the public key in
 * --pubkey, so a run cannot silently measure failures. Any signing or
 * verification failure ends the run with exit status 1.
 *
 * A new path is a struct bench_path entry (open, sign, optional to_der,
 * close) in paths[] below.
 *
 * Output: one line on stdout that scripts/bench parses, e.g.
 *   path=raw key=ec-p256 n=10000 warmup=100 seconds=0.8123 rate=12310.6
 *   cpu_seconds=0.8101 cpu_rate=12344.0 verified=11/11
 * (one line). rate is wall-clock signatures per second, cpu_rate the same
 * over this process's CPU time (less disturbed by other processes).
 */

/* The libp11 engine is reached through OpenSSL's ENGINE API, deprecated in
 * 3.0: declare it without deprecation warnings (the build may use -Werror). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <p11-kit/p11-kit.h>

#include "base/number.h"
#include "base/process.h"
#include "base/read.h"
#include "common/err.h"
#include "common/pin.h"
#include "providers/hsmca/token/token.h"
#include "sign/internal.h" /* the raw signer, measured */
#include "sign/signer.h"

#define MSG_LEN	    256	 /* about a small TBSCertificate */
#define SIG_MAX	    1024 /* RSA-8192 fits */
#define BENCH_N_MAX 1000000L
#define LABEL_MAX   32 /* CK_TOKEN_INFO label */
#define PROPQ_HSMCA "?provider=hsmca"

/* RFC 8017 9.2 note 1: DER DigestInfo prefix for SHA-256. */
static const unsigned char sha256_digestinfo[19] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

struct opts {
	const char *path;
	const char *module;
	const char *token;
	const char *key;
	const char *pin_source;
	const char *pubkey;
	const char *engine_so; /* NULL: ENGINE_by_id("pkcs11") */
	size_t n;
	size_t warmup;
	size_t verify_every;
	int help;
};

/* What every path gets: options, the software public key, key facts. */
struct bench_ctx {
	const struct opts *o;
	EVP_PKEY *pub;
	int is_ec;
	size_t ec_half; /* EC: byte length of r and of s */
	char key_name[32];
};

struct bench_path {
	const char *name;
	int (*open)(const struct bench_ctx *bc, void **state);
	/* Sign message i (msg); sig holds *siglen bytes in, the length out. */
	int (*sign)(void *state, size_t i, const unsigned char *msg,
		    size_t msg_len, unsigned char *sig, size_t *siglen);
	/* Raw token output to a standard signature (NULL: already one). */
	int (*to_der)(const struct bench_ctx *bc, const unsigned char *raw,
		      size_t raw_len, unsigned char *der, size_t *der_len);
	void (*close)(void *state);
};

/* --- messages ------------------------------------------------------------ */

/* Message i: a fixed text, the big-endian index, a fixed byte pattern. */
static void bench_message(size_t i, unsigned char msg[MSG_LEN])
{
	static const char tag[16] = "hsmca-bench-msg:";
	size_t j;

	memcpy(msg, tag, sizeof(tag));
	for (j = 0; j < 8; j++)
		msg[16 + j] = (unsigned char)((uint64_t)i >> (56 - 8 * j));
	for (j = 24; j < MSG_LEN; j++)
		msg[j] = (unsigned char)(j * 131u + 7u);
}

/* --- raw PKCS#11 --------------------------------------------------------- */

struct raw_state {
	CK_FUNCTION_LIST *fl;
	int initialized;
	CK_SESSION_HANDLE session;
	int have_session;
	int logged_in;
	CK_OBJECT_HANDLE key;
	CK_MECHANISM_TYPE mech;
	unsigned char *in; /* per message: [DigestInfo prefix] || digest */
	size_t in_len;	   /* bytes per message */
	size_t count;	   /* messages precomputed */
};

static int p11_fail(const char *what, CK_RV rv)
{
	return ca_err(CA_EIO, "%s: %s", what, p11_kit_strerror(rv));
}

static int raw_find_slot(struct raw_state *st, const char *label,
			 CK_SLOT_ID *slot)
{
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ti;
	unsigned char want[LABEL_MAX];
	CK_ULONG n = 0, i, found = 0;
	CK_RV rv;
	int rc = CA_OK;

	/* CK_TOKEN_INFO.label is blank-padded, not NUL-terminated. */
	memset(want, ' ', sizeof(want));
	memcpy(want, label, strlen(label));
	rv = st->fl->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK) {
		rc = p11_fail("C_GetSlotList", rv);
		goto out;
	}
	slots = calloc(n ? n : 1, sizeof(*slots));
	if (slots == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	rv = st->fl->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK) {
		rc = p11_fail("C_GetSlotList", rv);
		goto out;
	}
	for (i = 0; i < n; i++) {
		rv = st->fl->C_GetTokenInfo(slots[i], &ti);
		if (rv != CKR_OK) {
			rc = p11_fail("C_GetTokenInfo", rv);
			goto out;
		}
		if (memcmp(ti.label, want, sizeof(want)) == 0) {
			*slot = slots[i];
			found++;
		}
	}
	if (found != 1)
		rc = ca_err(CA_EIO, "%s token labelled '%s'",
			    found ? "more than one" : "no", label);
out:
	free(slots);
	return rc;
}

static int raw_find_key(struct raw_state *st, const char *label,
			CK_KEY_TYPE *type)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
	};
	CK_ATTRIBUTE kt = {CKA_KEY_TYPE, type, sizeof(*type)};
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	CK_RV rv;

	rv = st->fl->C_FindObjectsInit(st->session, tmpl, 2);
	if (rv != CKR_OK)
		return p11_fail("C_FindObjectsInit", rv);
	rv = st->fl->C_FindObjects(st->session, h, 2, &n);
	/* Always end the search, and report the first failure. */
	{
		CK_RV rv2 = st->fl->C_FindObjectsFinal(st->session);

		if (rv == CKR_OK)
			rv = rv2;
	}
	if (rv != CKR_OK)
		return p11_fail("C_FindObjects", rv);
	if (n != 1)
		return ca_err(CA_EIO, "%s private key labelled '%s'",
			      n ? "more than one" : "no", label);
	st->key = h[0];
	rv = st->fl->C_GetAttributeValue(st->session, st->key, &kt, 1);
	if (rv != CKR_OK)
		return p11_fail("C_GetAttributeValue(CKA_KEY_TYPE)", rv);
	return CA_OK;
}

/* Precompute the token input for every message (warm-up reuses them). */
static int raw_precompute(const struct bench_ctx *bc, struct raw_state *st)
{
	unsigned char msg[MSG_LEN], *p;
	size_t i, prefix = bc->is_ec ? 0 : sizeof(sha256_digestinfo);

	st->count = bc->o->n;
	st->in_len = prefix + 32;
	st->in = malloc(st->count * st->in_len);
	if (st->in == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < st->count; i++) {
		p = st->in + i * st->in_len;
		bench_message(i, msg);
		memcpy(p, sha256_digestinfo, prefix);
		if (EVP_Digest(msg, sizeof(msg), p + prefix, NULL, EVP_sha256(),
			       NULL) != 1)
			return ca_err(CA_EIO, "SHA-256 failed");
	}
	return CA_OK;
}

static void raw_close(void *state)
{
	struct raw_state *st = state;

	if (st == NULL)
		return;
	if (st->logged_in)
		(void)st->fl->C_Logout(st->session);
	if (st->have_session)
		(void)st->fl->C_CloseSession(st->session);
	/* SoftHSM: finalize explicitly, never from atexit. */
	if (st->initialized)
		(void)st->fl->C_Finalize(NULL);
	if (st->fl != NULL)
		p11_kit_module_release(st->fl);
	free(st->in);
	free(st);
}

static int raw_open_flags(const struct bench_ctx *bc, int load_flags,
			  void **state)
{
	CK_C_INITIALIZE_ARGS args;
	struct raw_state *st = NULL;
	struct ca_pin pin;
	CK_SLOT_ID slot = 0;
	CK_KEY_TYPE kt = 0;
	CK_RV rv;
	int rc;

	memset(&pin, 0, sizeof(pin));
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	st->fl = p11_kit_module_load(bc->o->module, load_flags);
	if (st->fl == NULL) {
		rc = ca_err(CA_EIO, "cannot load PKCS#11 module %s: %s",
			    bc->o->module, p11_kit_message());
		goto out;
	}
	rv = st->fl->C_Initialize(&args);
	if (rv != CKR_OK) {
		rc = p11_fail("C_Initialize", rv);
		goto out;
	}
	st->initialized = 1;
	GUARD(raw_find_slot(st, bc->o->token, &slot));
	rv = st->fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL,
				   &st->session);
	if (rv != CKR_OK) {
		rc = p11_fail("C_OpenSession", rv);
		goto out;
	}
	st->have_session = 1;
	GUARD(ca_pin_read(bc->o->pin_source, "PIN: ", &pin));
	rv = st->fl->C_Login(st->session, CKU_USER, (CK_UTF8CHAR_PTR)pin.value,
			     (CK_ULONG)pin.len);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = p11_fail("C_Login", rv);
		goto out;
	}
	st->logged_in = 1;
	GUARD(raw_find_key(st, bc->o->key, &kt));
	if (kt != (bc->is_ec ? CKK_EC : CKK_RSA)) {
		rc =
		    ca_err(CA_EIO, "key '%s' is not an %s key like %s",
			   bc->o->key, bc->is_ec ? "EC" : "RSA", bc->o->pubkey);
		goto out;
	}
	st->mech = bc->is_ec ? CKM_ECDSA : CKM_RSA_PKCS;
	GUARD(raw_precompute(bc, st));
	*state = st;
	st = NULL;
out:
	ca_pin_wipe(&pin);
	raw_close(st);
	return rc;
}

/* The same load flags as the token layer (providers/hsmca/token/p11.c): p11-kit
 * manages the module (its session tracking sits in every call). */
static int raw_open(const struct bench_ctx *bc, void **state)
{
	return raw_open_flags(bc, 0, state);
}

/* The module's own function list, p11-kit only dlopen()s it. */
static int raw_direct_open(const struct bench_ctx *bc, void **state)
{
	return raw_open_flags(bc, P11_KIT_MODULE_UNMANAGED, state);
}

static int raw_sign(void *state, size_t i, const unsigned char *msg,
		    size_t msg_len, unsigned char *sig, size_t *siglen)
{
	struct raw_state *st = state;
	CK_MECHANISM m = {st->mech, NULL, 0};
	CK_ULONG len = (CK_ULONG)*siglen;
	CK_RV rv;

	(void)msg;
	(void)msg_len;
	rv = st->fl->C_SignInit(st->session, &m, st->key);
	if (rv != CKR_OK)
		return p11_fail("C_SignInit", rv);
	rv = st->fl->C_Sign(st->session, st->in + (i % st->count) * st->in_len,
			    (CK_ULONG)st->in_len, sig, &len);
	if (rv != CKR_OK)
		return p11_fail("C_Sign", rv);
	*siglen = (size_t)len;
	return CA_OK;
}

/* PKCS#11 v2.40 2.3.1: CKM_ECDSA returns r || s; X9.62 wants DER. */
static int ecdsa_raw_to_der(const struct bench_ctx *bc,
			    const unsigned char *raw, size_t raw_len,
			    unsigned char *der, size_t *der_len)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = der;
	int n, rc = CA_EIO;

	if (raw_len != 2 * bc->ec_half) {
		rc = ca_err(CA_EIO, "ECDSA signature of %zu bytes, want %zu",
			    raw_len, 2 * bc->ec_half);
		goto out;
	}
	es = ECDSA_SIG_new();
	r = BN_bin2bn(raw, (int)bc->ec_half, NULL);
	s = BN_bin2bn(raw + bc->ec_half, (int)bc->ec_half, NULL);
	if (es == NULL || r == NULL || s == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1) {
		rc = ca_err(CA_EIO, "cannot build an ECDSA signature");
		goto out;
	}
	r = s = NULL; /* owned by es */
	n = i2d_ECDSA_SIG(es, NULL);
	if (n <= 0 || (size_t)n > *der_len || i2d_ECDSA_SIG(es, &p) != n) {
		rc = ca_err(CA_EIO, "cannot encode an ECDSA signature");
		goto out;
	}
	*der_len = (size_t)n;
	rc = CA_OK;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

static int raw_to_der(const struct bench_ctx *bc, const unsigned char *raw,
		      size_t raw_len, unsigned char *der, size_t *der_len)
{
	if (!bc->is_ec) {
		if (raw_len > *der_len)
			return ca_err(CA_EIO, "signature too long");
		memcpy(der, raw, raw_len);
		*der_len = raw_len;
		return CA_OK;
	}
	return ecdsa_raw_to_der(bc, raw, raw_len, der, der_len);
}

/* --- our token layer ------------------------------------------------------ */

struct token_state {
	ca_token *tok;
	ca_key *key;
	CK_MECHANISM_TYPE mech;
	int is_ec;
};

static void token_close(void *state)
{
	struct token_state *st = state;

	if (st == NULL)
		return;
	ca_key_free(st->key);
	ca_token_free(st->tok);
	ca_p11_shutdown();
	free(st);
}

static int key_uri(const struct opts *o, char *buf, size_t len)
{
	int n = snprintf(buf, len, "pkcs11:token=%s;object=%s;type=private",
			 o->token, o->key);

	if (n < 0 || (size_t)n >= len)
		return ca_err(CA_EUSAGE, "token or key label too long");
	return CA_OK;
}

static int token_open(const struct bench_ctx *bc, void **state)
{
	struct token_state *st = NULL;
	struct ca_pin pin;
	P11KitUri *uri = NULL;
	char uri_text[256];
	int rc;

	memset(&pin, 0, sizeof(pin));
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	ca_p11_set_module(bc->o->module);
	GUARD(key_uri(bc->o, uri_text, sizeof(uri_text)));
	GUARD(ca_p11_uri_parse(uri_text, &uri));
	GUARD(ca_token_open(uri_text, &st->tok));
	GUARD(ca_pin_read(bc->o->pin_source, "PIN: ", &pin));
	GUARD(ca_token_login(st->tok, pin.value, pin.len));
	GUARD(ca_token_find_key(st->tok, uri, &st->key));
	st->is_ec = bc->is_ec;
	st->mech = bc->is_ec ? CKM_ECDSA : CKM_RSA_PKCS;
	*state = st;
	st = NULL;
out:
	ca_pin_wipe(&pin);
	if (uri != NULL)
		p11_kit_uri_free(uri);
	token_close(st);
	return rc;
}

static int token_sign(void *state, size_t i, const unsigned char *msg,
		      size_t msg_len, unsigned char *sig, size_t *siglen)
{
	struct token_state *st = state;
	unsigned char in[sizeof(sha256_digestinfo) + 32];
	size_t prefix = st->is_ec ? 0 : sizeof(sha256_digestinfo);

	(void)i;
	/* Hash per message, as the provider does. */
	memcpy(in, sha256_digestinfo, prefix);
	if (EVP_Digest(msg, msg_len, in + prefix, NULL, EVP_sha256(), NULL) !=
	    1)
		return ca_err(CA_EIO, "SHA-256 failed");
	return ca_key_sign(st->key, st->mech, NULL, 0, in, prefix + 32, sig,
			   siglen);
}

/* --- EVP paths: provider and engine ------------------------------------- */

struct evp_state {
	struct ca_signer *signer; /* provider */
	int crypto_init;	  /* provider: ca_crypto_init() done */
	ENGINE *engine;		  /* engine */
	int engine_init;
	EVP_PKEY *pkey;
	const char *propq; /* provider: "?provider=hsmca" */
	EVP_MD_CTX *reuse; /* provider-reuse: the one context */
};

static void evp_close(void *state)
{
	struct evp_state *st = state;

	if (st == NULL)
		return;
	EVP_MD_CTX_free(st->reuse);
	if (st->crypto_init) {
		ca_signer_free(st->signer); /* owns pkey */
		ca_crypto_fini();
	} else {
		EVP_PKEY_free(st->pkey);
	}
	if (st->engine_init)
		(void)ENGINE_finish(st->engine);
	ENGINE_free(st->engine);
	free(st);
}

static int openssl_fail(const char *what)
{
	char reason[256] = "";

	ca_err_openssl(reason, sizeof(reason));
	ERR_clear_error();
	return ca_err(CA_EIO, "%s failed%s", what, reason);
}

static int provider_open(const struct bench_ctx *bc, void **state)
{
	struct evp_state *st = NULL;
	char uri[256];
	int rc;

	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	ca_p11_set_module(bc->o->module);
	GUARD(key_uri(bc->o, uri, sizeof(uri)));
	st->crypto_init = 1; /* ca_crypto_fini() is harmless if this fails */
	GUARD(ca_crypto_init());
	GUARD(ca_signer_open(uri, bc->o->pin_source, &st->signer));
	st->pkey = st->signer->pkey;
	st->propq = PROPQ_HSMCA;
	/* Measure our provider, not a key some other provider took over. */
	if (EVP_PKEY_get0_provider(st->pkey) == NULL ||
	    strcmp(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(st->pkey)),
		   "hsmca") != 0) {
		rc = ca_err(CA_EIO, "%s is not a key of the hsmca provider",
			    uri);
		goto out;
	}
	*state = st;
	st = NULL;
out:
	evp_close(st);
	return rc;
}

static int provider_reuse_open(const struct bench_ctx *bc, void **state)
{
	struct evp_state *st = NULL;
	int rc;

	GUARD(provider_open(bc, state));
	st = *state;
	st->reuse = EVP_MD_CTX_new();
	if (st->reuse == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (EVP_DigestSignInit_ex(st->reuse, NULL, "SHA256", NULL, st->propq,
				  st->pkey, NULL) != 1) {
		rc = openssl_fail("EVP_DigestSignInit_ex");
		goto out;
	}
	st = NULL;
out:
	if (st != NULL) {
		evp_close(st);
		*state = NULL;
	}
	return rc;
}

static int engine_get(const struct opts *o, ENGINE **out)
{
	ENGINE *e = NULL;

	*out = NULL;
	if (o->engine_so == NULL) {
		e = ENGINE_by_id("pkcs11");
		if (e == NULL)
			return openssl_fail("ENGINE_by_id(pkcs11)");
		*out = e;
		return CA_OK;
	}
	e = ENGINE_by_id("dynamic");
	if (e == NULL ||
	    ENGINE_ctrl_cmd_string(e, "SO_PATH", o->engine_so, 0) != 1 ||
	    ENGINE_ctrl_cmd_string(e, "ID", "pkcs11", 0) != 1 ||
	    ENGINE_ctrl_cmd_string(e, "LIST_ADD", "1", 0) != 1 ||
	    ENGINE_ctrl_cmd_string(e, "LOAD", NULL, 0) != 1) {
		ENGINE_free(e);
		return openssl_fail("loading the engine");
	}
	*out = e;
	return CA_OK;
}

static int engine_open(const struct bench_ctx *bc, void **state)
{
	struct evp_state *st = NULL;
	struct ca_pin pin;
	char uri[256];
	int rc;

	memset(&pin, 0, sizeof(pin));
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(key_uri(bc->o, uri, sizeof(uri)));
	GUARD(engine_get(bc->o, &st->engine));
	if (ENGINE_ctrl_cmd_string(st->engine, "MODULE_PATH", bc->o->module,
				   0) != 1) {
		rc = openssl_fail("engine MODULE_PATH");
		goto out;
	}
	if (ENGINE_init(st->engine) != 1) {
		rc = openssl_fail("ENGINE_init(pkcs11)");
		goto out;
	}
	st->engine_init = 1;
	GUARD(ca_pin_read(bc->o->pin_source, "PIN: ", &pin));
	/* libp11 keeps its own copy of the PIN; ours is wiped below. */
	if (ENGINE_ctrl_cmd_string(st->engine, "PIN", pin.value, 0) != 1) {
		rc = openssl_fail("engine PIN");
		goto out;
	}
	st->pkey = ENGINE_load_private_key(st->engine, uri, NULL, NULL);
	if (st->pkey == NULL) {
		rc = openssl_fail("ENGINE_load_private_key");
		goto out;
	}
	*state = st;
	st = NULL;
out:
	ca_pin_wipe(&pin);
	evp_close(st);
	return rc;
}

static int evp_sign(void *state, size_t i, const unsigned char *msg,
		    size_t msg_len, unsigned char *sig, size_t *siglen)
{
	struct evp_state *st = state;
	EVP_MD_CTX *md = NULL;
	int ok;

	(void)i;
	if (st->reuse != NULL) {
		if (EVP_DigestSign(st->reuse, sig, siglen, msg, msg_len) != 1)
			return openssl_fail("EVP_DigestSign (reused context)");
		return CA_OK;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (st->engine != NULL)
		ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, st->pkey);
	else
		ok = EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, st->propq,
					   st->pkey, NULL);
	if (ok == 1)
		ok = EVP_DigestSign(md, sig, siglen, msg, msg_len);
	EVP_MD_CTX_free(md);
	if (ok != 1)
		return openssl_fail("EVP_DigestSign");
	return CA_OK;
}

/* ca_signer_sign() itself: the tools' call, with its size query and copy. */
static int signer_sign(void *state, size_t i, const unsigned char *msg,
		       size_t msg_len, unsigned char *sig, size_t *siglen)
{
	struct evp_state *st = state;
	unsigned char *out = NULL;
	size_t len = 0;
	int rc;

	(void)i;
	GUARD(ca_signer_sign(st->signer, msg, msg_len, &out, &len));
	if (len > *siglen) {
		rc = ca_err(CA_EIO, "signature of %zu bytes is too long", len);
		goto out;
	}
	memcpy(sig, out, len);
	*siglen = len;
out:
	free(out);
	return rc;
}

static const struct bench_path paths[] = {
    {"raw", raw_open, raw_sign, raw_to_der, raw_close},
    {"raw-direct", raw_direct_open, raw_sign, raw_to_der, raw_close},
    {"token", token_open, token_sign, raw_to_der, token_close},
    {"provider", provider_open, evp_sign, NULL, evp_close},
    {"provider-reuse", provider_reuse_open, evp_sign, NULL, evp_close},
    {"signer", provider_open, signer_sign, NULL, evp_close},
    {"engine", engine_open, evp_sign, NULL, evp_close},
};

/* --- the run -------------------------------------------------------------- */

struct sample {
	size_t index;
	size_t len;
	unsigned char sig[SIG_MAX];
};

static int load_pubkey(const char *file, struct bench_ctx *bc)
{
	unsigned char *data = NULL;
	const unsigned char *p;
	BIO *b = NULL;
	size_t len = 0;
	int rc, bits;

	GUARD(ca_read_file(file, CA_MAX_INPUT, &data, &len));
	p = data;
	bc->pub = d2i_PUBKEY(NULL, &p, (long)len);
	if (bc->pub == NULL) {
		ERR_clear_error();
		b = BIO_new_mem_buf(data, (int)len);
		if (b != NULL)
			bc->pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	}
	if (bc->pub == NULL) {
		rc = openssl_fail(file);
		goto out;
	}
	bits = EVP_PKEY_get_bits(bc->pub);
	if (EVP_PKEY_is_a(bc->pub, "EC") && bits == 256) {
		bc->is_ec = 1;
		bc->ec_half = 32;
		snprintf(bc->key_name, sizeof(bc->key_name), "ec-p256");
	} else if (EVP_PKEY_is_a(bc->pub, "RSA") && bits >= 2048 &&
		   bits <= 8192) {
		snprintf(bc->key_name, sizeof(bc->key_name), "rsa-%d", bits);
	} else {
		rc = ca_err(CA_EUSAGE, "%s: not a P-256 or RSA key", file);
		goto out;
	}
out:
	BIO_free(b);
	free(data);
	return rc;
}

/* Verify one sample with OpenSSL's default provider (sha256WithRSA or
 * ecdsa-with-SHA256 over message index). */
static int verify_sample(const struct bench_ctx *bc,
			 const struct bench_path *bp, const struct sample *sm)
{
	unsigned char msg[MSG_LEN], der[SIG_MAX];
	const unsigned char *sig = sm->sig;
	size_t sig_len = sm->len, der_len = sizeof(der);
	EVP_MD_CTX *md = NULL;
	int rc = CA_OK;

	if (bp->to_der != NULL) {
		GUARD(bp->to_der(bc, sm->sig, sm->len, der, &der_len));
		sig = der;
		sig_len = der_len;
	}
	bench_message(sm->index, msg);
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL,
				    "provider=default", bc->pub, NULL) != 1) {
		rc = openssl_fail("EVP_DigestVerifyInit_ex");
		goto out;
	}
	if (EVP_DigestVerify(md, sig, sig_len, msg, sizeof(msg)) != 1) {
		ERR_clear_error();
		rc = ca_err(CA_EIO, "%s: signature %zu does not verify",
			    bp->name, sm->index);
	}
out:
	EVP_MD_CTX_free(md);
	return rc;
}

static int keep_sample(const struct opts *o, size_t i)
{
	return i == 0 || i == o->n - 1 || i % o->verify_every == 0;
}

static double clock_seconds(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const struct bench_ctx *bc, const struct bench_path *bp)
{
	const struct opts *o = bc->o;
	unsigned char msg[MSG_LEN], sig[SIG_MAX];
	struct sample *samples = NULL;
	size_t i, siglen, ns = 0, max_samples;
	void *state = NULL;
	double t0, t1, c0, c1;
	int rc;

	max_samples = o->n / o->verify_every + 2;
	samples = calloc(max_samples, sizeof(*samples));
	if (samples == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(bp->open(bc, &state));
	for (i = 0; i < o->warmup; i++) {
		siglen = sizeof(sig);
		bench_message(i % o->n, msg);
		GUARD(
		    bp->sign(state, i % o->n, msg, sizeof(msg), sig, &siglen));
	}
	t0 = clock_seconds(CLOCK_MONOTONIC);
	c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < o->n; i++) {
		siglen = sizeof(sig);
		bench_message(i, msg);
		rc = bp->sign(state, i, msg, sizeof(msg), sig, &siglen);
		if (rc < 0) {
			(void)ca_err_ctx(rc, "%s: signature %zu", bp->name, i);
			goto out;
		}
		if (keep_sample(o, i) && ns < max_samples) {
			samples[ns].index = i;
			samples[ns].len = siglen;
			memcpy(samples[ns].sig, sig, siglen);
			ns++;
		}
	}
	c1 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	t1 = clock_seconds(CLOCK_MONOTONIC);
	for (i = 0; i < ns; i++)
		GUARD(verify_sample(bc, bp, &samples[i]));
	if (t1 <= t0 || c1 <= c0) {
		rc = ca_err(CA_EIO, "the clock did not advance");
		goto out;
	}
	printf("path=%s key=%s n=%zu warmup=%zu seconds=%.4f rate=%.1f "
	       "cpu_seconds=%.4f cpu_rate=%.1f verified=%zu/%zu\n",
	       bp->name, bc->key_name, o->n, o->warmup, t1 - t0,
	       (double)o->n / (t1 - t0), c1 - c0, (double)o->n / (c1 - c0), ns,
	       ns);
	rc = CA_OK;
out:
	if (state != NULL)
		bp->close(state);
	free(samples);
	return rc;
}

/* --- arguments ------------------------------------------------------------ */

static const char usage[] =
    "usage: bench_sign --path PATH --module SO --token LABEL --key LABEL\n"
    "                  --pin-source SRC --pubkey FILE [--n N] [--warmup W]\n"
    "                  [--verify-every K] [--engine-so FILE]\n"
    "PATH: raw, raw-direct, token, provider, provider-reuse, signer, engine\n";

enum {
	OPT_PATH = 1,
	OPT_MODULE,
	OPT_TOKEN,
	OPT_KEY,
	OPT_PIN,
	OPT_PUB,
	OPT_N,
	OPT_WARMUP,
	OPT_VERIFY,
	OPT_ENGINE,
	OPT_HELP
};

static const struct option long_opts[] = {
    {"path", required_argument, NULL, OPT_PATH},
    {"module", required_argument, NULL, OPT_MODULE},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"key", required_argument, NULL, OPT_KEY},
    {"pin-source", required_argument, NULL, OPT_PIN},
    {"pubkey", required_argument, NULL, OPT_PUB},
    {"n", required_argument, NULL, OPT_N},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"verify-every", required_argument, NULL, OPT_VERIFY},
    {"engine-so", required_argument, NULL, OPT_ENGINE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Labels go into a URI unescaped: allow only unreserved characters. */
static int check_label(const char *what, const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > LABEL_MAX ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789._-") != len)
		return ca_err(CA_EUSAGE,
			      "%s '%s': use 1 to %d of A-Z a-z 0-9 . _ -", what,
			      s, LABEL_MAX);
	return CA_OK;
}

static int parse_size(const char *s, long min, long max, const char *what,
		      size_t *out)
{
	long v;
	int rc = ca_parse_long(s, min, max, what, &v);

	if (rc == CA_OK)
		*out = (size_t)v;
	return rc;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int c, rc = CA_OK;

	memset(o, 0, sizeof(*o));
	o->n = 10000;
	o->warmup = 100;
	o->verify_every = 1000;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PATH:
			o->path = optarg;
			break;
		case OPT_MODULE:
			o->module = optarg;
			break;
		case OPT_TOKEN:
			o->token = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_PIN:
			o->pin_source = optarg;
			break;
		case OPT_PUB:
			o->pubkey = optarg;
			break;
		case OPT_ENGINE:
			o->engine_so = optarg;
			break;
		case OPT_N:
			GUARD(parse_size(optarg, 1, BENCH_N_MAX, "--n", &o->n));
			break;
		case OPT_WARMUP:
			GUARD(parse_size(optarg, 0, BENCH_N_MAX, "--warmup",
					 &o->warmup));
			break;
		case OPT_VERIFY:
			GUARD(parse_size(optarg, 1, BENCH_N_MAX,
					 "--verify-every", &o->verify_every));
			break;
		case OPT_HELP:
			o->help = 1;
			goto out;
		default:
			rc = ca_err(CA_EUSAGE, "unknown option");
			goto out;
		}
	}
	if (optind != argc) {
		rc =
		    ca_err(CA_EUSAGE, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (o->path == NULL || o->module == NULL || o->token == NULL ||
	    o->key == NULL || o->pin_source == NULL || o->pubkey == NULL) {
		rc =
		    ca_err(CA_EUSAGE, "--path, --module, --token, --key, "
				      "--pin-source and --pubkey are required");
		goto out;
	}
	GUARD(check_label("token label", o->token));
	GUARD(check_label("key label", o->key));
	GUARD(ca_pin_source_check(o->pin_source));
out:
	return rc;
}

int main(int argc, char **argv)
{
	struct bench_ctx bc;
	const struct bench_path *bp = NULL;
	struct opts o;
	size_t i;
	int rc;

	ca_harden_process();
	memset(&bc, 0, sizeof(bc));
	bc.o = &o;
	GUARD(parse_args(argc, argv, &o));
	if (o.help) {
		fputs(usage, stdout);
		goto out;
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strcmp(paths[i].name, o.path) == 0)
			bp = &paths[i];
	if (bp == NULL) {
		rc = ca_err(CA_EUSAGE, "unknown path '%s'", o.path);
		goto out;
	}
	GUARD(load_pubkey(o.pubkey, &bc));
	GUARD(run(&bc, bp));
out:
	EVP_PKEY_free(bc.pub);
	if (rc < 0) {
		fprintf(stderr, "bench_sign: %s\n", ca_errmsg());
		if (rc == CA_EUSAGE)
			fputs(usage, stderr);
	}
	return ca_exit_code(rc);
}
