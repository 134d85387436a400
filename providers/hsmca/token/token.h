/* PKCS#11 token layer shared by the hsmca provider and the tools.
 *
 * Modules are loaded through p11-kit. One rule chooses the module, the
 * first of: ca_p11_set_module() (--module, the provider's pkcs11-module),
 * $HSMCA_MODULE, the module recorded with the key (ca_p11_set_key_module:
 * ca.json), the URI's module-path or module-name; else p11-kit's registry.
 * A module is a file path or the name of a module registered with p11-kit;
 * p11-kit-proxy.so means the registry. Only the chosen module is
 * initialised, with the arguments (C_Initialize pReserved) of
 * ca_p11_set_module_args() (--module-args, pkcs11-module-args),
 * $HSMCA_MODULE_ARGS or those recorded with the key; a registered module
 * without them gets its p11-kit x-init-reserved. Tokens and objects are
 * selected by RFC 7512 URI (token
 * label/serial/manufacturer/model, object label/id); slot numbers are never
 * used. All state is process-global and thread-safe: a token opened twice is
 * the same ca_token, so a login made by a tool is seen by the provider.
 *
 * Errors: negative CA_E* codes with the reason recorded by ca_err().
 */
#ifndef HSMCA_TOKEN_H
#define HSMCA_TOKEN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "common/err.h"

typedef struct ca_token ca_token;
typedef struct ca_key ca_key;

enum ca_keytype {
	CA_KT_NONE = 0,
	CA_KT_RSA,
	CA_KT_EC,
	CA_KT_ED25519,
};

struct ca_keyspec {
	enum ca_keytype type;
	int bits;      /* RSA modulus bits; EC/Ed field bits */
	int curve_nid; /* EC: NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1
			*/
};

/* Parse "rsa:2048|rsa:3072|rsa:4096|ec:p256|ec:p384|ec:p521|ed25519". */
int ca_keyspec_parse(const char *s, struct ca_keyspec *spec) CA_WUR;
const char *ca_keyspec_name(const struct ca_keyspec *spec);

/* --- process-wide settings --------------------------------------------- */
void ca_p11_set_module(const char *module);    /* NULL: the next rule */
void ca_p11_set_module_args(const char *args); /* NULL: the next rule */
/* The module (and its arguments) recorded with the key, e.g. in ca.json. */
void ca_p11_set_key_module(const char *module, const char *args);
/* 1 when the operator chose the module (--module or $HSMCA_MODULE), which
 * then wins over the one recorded with the key. */
int ca_p11_module_explicit(void);
void ca_p11_allow_pin_value(int allow); /* pin-value in URIs */
/* Log in even when the token reports CKF_USER_PIN_FINAL_TRY
 * (--allow-final-pin-try); refused by default. */
void ca_p11_allow_final_pin_try(int allow);
int ca_p11_pin_value_allowed(void);
/* Use this library context (with OpenSSL's default provider loaded) for
 * public keys and hashing instead of a private one; before first use. */
void ca_p11_use_libctx(OSSL_LIB_CTX *ctx);
/* C_Finalize every module we initialised. Call before exit (SoftHSM must not
 * be finalized from atexit after its own destructors ran). Idempotent. */
void ca_p11_shutdown(void);

/* --- URIs ---------------------------------------------------------------- */
/* Parse an RFC 7512 URI. Refuses a non-pkcs11 scheme, bad syntax, slot-id,
 * and pin-value unless allowed (CA_EUSAGE / CA_EPOLICY). */
int ca_p11_uri_parse(const char *uri, P11KitUri **out) CA_WUR;

/* --- tokens -------------------------------------------------------------- */
/* Find exactly one token matching the token attributes of uri (and its
 * module-name/module-path). "no token matches 'pkcs11:token=X'" when none,
 * "more than one token matches ..." when ambiguous, "cannot load PKCS#11
 * module PATH: ..." when the module fails. Returns a new reference. */
int ca_token_open(const char *uri, ca_token **out) CA_WUR;
int ca_token_open_parsed(P11KitUri *uri, const char *uri_text,
			 ca_token **out) CA_WUR;
ca_token *ca_token_ref(ca_token *tok); /* a new reference */
void ca_token_free(ca_token *tok);     /* drops a reference */

const char *ca_token_label(const ca_token *tok);  /* trimmed */
const char *ca_token_serial(const ca_token *tok); /* trimmed */
/* The module the token was found on as a path or p11-kit name (what a CA
 * directory records), and its initialisation arguments (NULL for none). */
const char *ca_token_module(const ca_token *tok);
const char *ca_token_module_args(const ca_token *tok);
/* 1 logged in (or no login needed), 0 not, negative on error. A session
 * lost underneath is opened again first. */
int ca_token_logged_in(ca_token *tok);
/* Before a login, from the token's current flags: CA_EPOLICY naming
 * CKF_USER_PIN_LOCKED (no login is attempted), or CKF_USER_PIN_FINAL_TRY
 * unless ca_p11_allow_final_pin_try(); a warning on stderr for
 * CKF_USER_PIN_COUNT_LOW. Returns 1 when a PIN is needed, 0 on a
 * protected authentication path (a PIN pad: C_Login with a NULL PIN). */
int ca_token_login_check(ca_token *tok) CA_WUR;
/* C_Login as CKU_USER after ca_token_login_check (pin ignored on a
 * protected authentication path). Already logged in: success. Wrong PIN:
 * CA_EIO with "wrong PIN for token 'L'"; locked: "PIN of token 'L' is
 * locked". The PIN is kept (secure heap, wiped at shutdown) to log in
 * again after a lost session and for keys with CKA_ALWAYS_AUTHENTICATE. */
int ca_token_login(ca_token *tok, const char *pin, size_t pin_len) CA_WUR;
/* Log in unless logged in: the checks above, then a PIN read from
 * pin_source (common/pin.h; prompt "PIN for token 'L': ") unless the token
 * has a protected authentication path. */
int ca_token_login_source(ca_token *tok, const char *pin_source) CA_WUR;
/* How many signatures may be in flight at once on this token: its
 * session limit (ulMaxSessionCount / ulMaxRwSessionCount, the smaller)
 * less the session that holds the login; 0 when the token sets none.
 * Beyond it, a signature waits for a session to come free. */
unsigned long ca_token_max_sessions(ca_token *tok);
/* C_GenerateRandom into buf. */
int ca_token_random(ca_token *tok, unsigned char *buf, size_t len) CA_WUR;

/* Generate a key pair on the token: private key CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE true, CKA_EXTRACTABLE false, CKA_SIGN only; public key on
 * the token with the same label and id. id NULL: 16 random bytes from the
 * token RNG. Refuses (CA_EPOLICY) a label or id that already exists. The
 * public key is read back and checked against spec. */
int ca_token_generate(ca_token *tok, const struct ca_keyspec *spec,
		      const char *label, const unsigned char *id, size_t id_len,
		      ca_key **out) CA_WUR;

/* Find the one private key matching the object attributes of uri
 * (object=, id=, type=private or absent). "no private key matches ..." /
 * "more than one private key matches ...". The public half is read from
 * the private object (RSA) or the matching public-key or certificate object
 * (EC, Ed25519). Needs a login for CKA_PRIVATE keys. */
int ca_token_find_key(ca_token *tok, P11KitUri *uri, ca_key **out) CA_WUR;

/* The private key labelled label (needs a login for CKA_PRIVATE keys), or
 * *out NULL when no object of any class carries the label. Objects with
 * the label but not exactly one private key: as ca_token_find_key. */
int ca_token_key_by_label(ca_token *tok, const char *label,
			  ca_key **out) CA_WUR;

/* The public half of the key named by uri (label/id), from its public-key
 * object; needs no login. The key cannot sign. For work that must not
 * touch the private key (preparing an approval request). */
int ca_token_find_public(ca_token *tok, P11KitUri *uri, ca_key **out) CA_WUR;

/* --- data objects ---------------------------------------------------------
 * Private token objects of class CKO_DATA (CKA_TOKEN, CKA_PRIVATE,
 * CKA_MODIFIABLE true) found by CKA_APPLICATION app and CKA_LABEL label;
 * they need a login. Where a token refuses private data objects (NSS
 * softokn), generic secret keys with the same label (of zeros, usable
 * for nothing) hold the value as their CKA_ID. A value is replaced by a new
 * object and the old one deleted, never in place (CKA_VALUE is read-only on
 * some tokens, not kept by others): a crash in between leaves both, and the
 * reader tells which is newer from the values. */
#define CA_TOKEN_DATA_MAX 4
struct ca_token_data {
	size_t n; /* objects found (0: none) */
	unsigned char *val[CA_TOKEN_DATA_MAX];
	size_t len[CA_TOKEN_DATA_MAX];
};
/* CKA_VALUE of each such object (malloc'd; ca_token_data_clear). */
int ca_token_data_read(ca_token *tok, const char *app, const char *label,
		       struct ca_token_data *out) CA_WUR;
void ca_token_data_clear(struct ca_token_data *d);
/* create: make the object (CA_EPOLICY if one exists; CA_EIO naming the
 * token when it cannot hold one); else replace the value of the existing
 * ones (CA_EPOLICY if there are none). */
int ca_token_data_write(ca_token *tok, const char *app, const char *label,
			const unsigned char *val, size_t len,
			int create) CA_WUR;
/* Delete the object if there is one. */
int ca_token_data_destroy(ca_token *tok, const char *app,
			  const char *label) CA_WUR;

/* --- keys ---------------------------------------------------------------- */
ca_key *ca_key_ref(ca_key *key);
void ca_key_free(ca_key *key);
enum ca_keytype ca_key_type(const ca_key *key);
int ca_key_bits(const ca_key *key);
int ca_key_curve_nid(const ca_key *key);   /* EC only, else NID_undef */
ca_token *ca_key_token(const ca_key *key); /* borrowed */
/* Public key as a plain OpenSSL key (default provider, library context of
 * the token layer); borrowed. */
EVP_PKEY *ca_key_public(const ca_key *key);
/* DER SubjectPublicKeyInfo and its SHA-256; borrowed. */
const unsigned char *ca_key_spki(const ca_key *key, size_t *len);
const unsigned char *ca_key_spki_sha256(const ca_key *key); /* 32 bytes */
/* Canonical URI: pkcs11:token=..;serial=..;object=..;id=..;type=private */
const char *ca_key_uri(const ca_key *key);
const char *ca_key_label(const ca_key *key);

/* Signing schemes and the mechanism a key signs them with. The choice is
 * made once per key, scheme and digest from the token's mechanisms
 * (C_GetMechanismList, C_GetMechanismInfo with CKF_SIGN) and the key's
 * CKA_ALLOWED_MECHANISMS when it has them:
 *   RSA PKCS#1 v1.5 and PSS: CKM_SHA*_RSA_PKCS(_PSS), the token hashing,
 *     else raw CKM_RSA_PKCS over a DigestInfo / CKM_RSA_PKCS_PSS over a
 *     digest (a TPM performs a raw RSA signature as a decryption, which a
 *     sign-only key refuses, and no mechanism flag says so beforehand);
 *   ECDSA: raw CKM_ECDSA over a software digest, else CKM_ECDSA_SHA*;
 *   Ed25519: CKM_EDDSA over the message.
 * raw_only: the caller holds a digest, not the data. */
enum ca_sig_scheme {
	CA_SIG_PKCS1 = 0,
	CA_SIG_PSS,
	CA_SIG_ECDSA,
	CA_SIG_EDDSA,
};
struct ca_sig_mech {
	CK_MECHANISM_TYPE mech;
	int token_hashes; /* the token gets the data, not a digest */
};
/* md_nid: NID_sha256/384/512 (ignored for EdDSA). Error (CA_EIO) naming
 * the mechanisms the token lacks. */
int ca_key_sig_mech(ca_key *key, enum ca_sig_scheme scheme, int md_nid,
		    int raw_only, struct ca_sig_mech *out) CA_WUR;

/* DER AlgorithmIdentifier rsassaPss (RFC 4055 3.1) with hash md_nid, MGF1
 * with mgf1_nid and salt bytes of salt; hash parameters NULL, as OpenSSL's
 * default provider writes them. What the provider reports for a PSS
 * signature, for those who build a TBS before signing. */
int ca_rsa_pss_aid(int md_nid, int mgf1_nid, int salt, unsigned char *out,
		   size_t cap, size_t *len) CA_WUR;

/* One C_SignInit + C_Sign with mechanism mech on a pooled logged-in
 * session. *siglen in: capacity, out: length. ECDSA output is the
 * token's raw r||s. */
int ca_key_sign(ca_key *key, CK_MECHANISM_TYPE mech, void *param,
		CK_ULONG param_len, const unsigned char *in, size_t inlen,
		unsigned char *sig, size_t *siglen) CA_WUR;

/* A multi-part signature (C_SignInit, C_SignUpdate..., C_SignFinal) on a
 * session of its own for the whole operation; data is passed on in
 * chunks of at least 16 KiB, and a signature over one chunk is a single
 * C_Sign. _final and _free end it (free abandons it). */
typedef struct ca_sign_op ca_sign_op;
int ca_key_sign_begin(ca_key *key, CK_MECHANISM_TYPE mech, void *param,
		      CK_ULONG param_len, ca_sign_op **out) CA_WUR;
int ca_sign_op_update(ca_sign_op *op, const unsigned char *in,
		      size_t len) CA_WUR;
int ca_sign_op_final(ca_sign_op *op, unsigned char *sig, size_t *siglen) CA_WUR;
void ca_sign_op_free(ca_sign_op *op);

#endif
