/* Internals of the token layer, shared by p11.c (modules), uri.c, token.c
 * (tokens, login, session pool), key.c (key lookup, signing) and keygen.c.
 * Nothing here is part of the token.h contract.
 */
#ifndef HSMCA_INTERNAL_H
#define HSMCA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "token.h"

#define CA_SIG_SCHEMES 4	   /* enum ca_sig_scheme */
#define CA_KEY_MAGIC   0x6873636bu /* "hsck": sanity check on references */
#define CA_ID_MAX      64	   /* longest CKA_ID we handle */
#define CA_LABEL_MAX   256	   /* longest CKA_LABEL we handle */

struct ca_token {
	atomic_int refs;
	CK_FUNCTION_LIST *fl;
	CK_SLOT_ID slot;
	CK_TOKEN_INFO info;
	char label[33];
	char serial[17];
	int login_required;
	int protected_path; /* CKF_PROTECTED_AUTHENTICATION_PATH: no PIN */
	int dead;	    /* module finalized: no PKCS#11 call any more */
	pthread_mutex_t lock;
	/* Sessions opened and closed alone (write), operations on sessions
	 * side by side (read): a module's session closed while another
	 * thread is inside a call on it frees what that call uses
	 * (tpm2-pkcs11 crashed in C_Sign so). */
	pthread_rwlock_t ops;
	CK_SESSION_HANDLE anchor; /* kept open: holds the login state */
	CK_SESSION_HANDLE *idle;  /* session pool (stack) */
	size_t n_idle;
	size_t cap_idle;
	size_t n_out;	      /* sessions taken out of the pool */
	pthread_cond_t freed; /* a session came back (session limit) */
	/* Sessions lost (device removed, sessions closed underneath, fork):
	 * gen counts the recoveries; a session taken out before the last one
	 * is closed, not pooled. lost: recover before the next session. */
	unsigned gen;
	int lost;
	/* The PIN of our login (secure heap), kept to log in again after a
	 * recovery and for context-specific logins; logged_in_by_us is set
	 * by a successful C_Login (a NULL PIN on a protected path). */
	char *pin;
	size_t pin_len;
	int logged_in_by_us;
	int count_low_warned;
	char *module;		  /* ca_token_module() */
	char *module_args;	  /* ca_token_module_args() */
	CK_MECHANISM_TYPE *mechs; /* C_GetMechanismList, read once */
	CK_ULONG n_mechs;
	int mechs_read;
	struct ca_token *next; /* token cache list (under the global lock) */
};

struct ca_key {
	unsigned int magic;
	atomic_int refs;
	ca_token *tok;
	CK_OBJECT_HANDLE priv; /* the public-key object when public_only */
	int public_only;       /* found by ca_token_find_public: cannot sign */
	enum ca_keytype type;
	int bits;
	int curve_nid;
	char *label;
	unsigned char id[CA_ID_MAX];
	size_t id_len;
	EVP_PKEY *pub;
	unsigned char *spki;
	size_t spki_len;
	unsigned char spki_sha256[32];
	char *uri;
	int always_auth; /* CKA_ALWAYS_AUTHENTICATE */
	/* The handle to sign with and the session generation it was found
	 * in: found again after a recovery (handles of private objects go
	 * with the login; a device put back numbers them anew). */
	atomic_ulong sign_handle;
	atomic_uint sign_gen;
	CK_MECHANISM_TYPE *allowed; /* CKA_ALLOWED_MECHANISMS, NULL: any */
	CK_ULONG n_allowed;
	/* The mechanism chosen per scheme and digest, once (0: not yet). */
	atomic_ulong chosen[CA_SIG_SCHEMES][3];
};

/* p11.c: module cache and process-wide state. */
/* Modules to search for uri, in order (NULL-terminated, borrowed). */
int ca_p11_modules(P11KitUri *uri, CK_FUNCTION_LIST ***out) CA_WUR;
/* How module fl was chosen (a path or a p11-kit name) and its arguments
 * (*args, NULL for none); NULL when it is unknown. Under the lock. */
const char *ca_p11_module_spec(CK_FUNCTION_LIST *fl, const char **args);
/* "name (reason), ..." for registered modules that did not start. */
void ca_p11_failed_modules(char *buf, size_t len);
/* Under the global lock, before any token is open: C_Finalize and
 * C_Initialize again each SoftHSM module of mods that we initialised
 * (SoftHSM reads its tokens once, at C_Initialize, and drops one another
 * process is rewriting), so that it reads them afresh. Other modules are
 * left alone. 1 when one was started again, else 0. */
int ca_p11_restart(CK_FUNCTION_LIST **mods);
void ca_p11_lock(void);
void ca_p11_unlock(void);
/* Private library context (default provider) for public keys and hashing;
 * created on first use. ca_p11_libctx_hold/drop count the keys using it. */
OSSL_LIB_CTX *ca_p11_libctx(void);
void ca_p11_libctx_hold(void);
void ca_p11_libctx_drop(void);
/* Free the private library context unless a key still uses it. */
void ca_p11_libctx_release(void);
/* After fork(): initialise the modules again in the child (once). Cheap
 * when there was no fork. */
void ca_p11_check_fork(void);
/* Fetched once per process: SHA-256/384/512 by NID, NULL for others. */
const EVP_MD *ca_p11_md(int nid);

/* token.c */
void ca_token_forget_all(void); /* under the global lock, at shutdown */
int ca_token_session(ca_token *tok, CK_SESSION_HANDLE *out) CA_WUR;
/* Return a session to the pool; bad != 0 closes it instead. */
void ca_token_release(ca_token *tok, CK_SESSION_HANDLE s, int bad);
/* The same with the generation the session belongs to: a session from
 * before a recovery is closed when it comes back. */
int ca_token_session_gen(ca_token *tok, CK_SESSION_HANDLE *out,
			 unsigned *gen) CA_WUR;
void ca_token_release_gen(ca_token *tok, CK_SESSION_HANDLE s, unsigned gen,
			  int bad);
/* rv says the session or the device went away (the call did not happen
 * on the token): CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
 * CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, and CKR_USER_NOT_LOGGED_IN
 * when we logged in (the login went with the last session). */
int ca_token_lost(ca_token *tok, CK_RV rv);
/* After a session of generation gen was lost: unless another thread did
 * it already, drop the pool, open a new anchor session and log in again
 * as before. */
int ca_token_recover(ca_token *tok, unsigned gen) CA_WUR;
/* C_Login(CKU_CONTEXT_SPECIFIC) on s after a C_SignInit with a key that
 * has CKA_ALWAYS_AUTHENTICATE (PKCS#11 v2.40 4.9): with our PIN, or a NULL
 * PIN on a protected authentication path. */
CK_RV ca_token_context_login(ca_token *tok, CK_SESSION_HANDLE s);
/* Child after fork(): sessions are the parent's; forget them without a
 * PKCS#11 call and recover on next use. Under the global lock. */
void ca_token_forked_all(void);
/* Find up to max objects matching tmpl; *n is the number found (<= max). */
int ca_token_find(ca_token *tok, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
		  CK_ULONG ntmpl, CK_OBJECT_HANDLE *found, CK_ULONG max,
		  CK_ULONG *n) CA_WUR;
/* Does the token offer mech with all of flags (CKF_SIGN...)? 1 yes (info
 * filled when not NULL), 0 no, negative on error. */
int ca_token_mechanism(ca_token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS flags,
		       CK_MECHANISM_INFO *info) CA_WUR;
/* Read one variable-length attribute into a new buffer. */
int ca_token_attr(ca_token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		  CK_ATTRIBUTE_TYPE type, unsigned char **val,
		  size_t *len) CA_WUR;
/* The same, with the module's return value in *rv (CKR_OK when it
 * succeeded). */
int ca_token_attr_rv(ca_token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, unsigned char **val, size_t *len,
		     CK_RV *rv) CA_WUR;

/* key.c */
/* Build a ca_key for the private key object priv (reads the public half). */
int ca_key_load(ca_token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
		ca_key **out) CA_WUR;

/* uri.c */
/* Copy uri into buf with any pin-value replaced by "***" (for messages). */
void ca_uri_redact(const char *uri, char *buf, size_t len);
/* Canonical key URI (RFC 7512 percent-encoding); malloc'd. */
char *ca_uri_for_key(const ca_token *tok, const char *label,
		     const unsigned char *id, size_t id_len);

/* Around one PKCS#11 call: an operation on a session (shared) or a
 * session opened or closed (alone). */
static inline void ca_token_ops_shared(ca_token *tok)
{
	pthread_rwlock_rdlock(&tok->ops);
}
static inline void ca_token_ops_alone(ca_token *tok)
{
	pthread_rwlock_wrlock(&tok->ops);
}
static inline void ca_token_ops_done(ca_token *tok)
{
	pthread_rwlock_unlock(&tok->ops);
}

#endif
