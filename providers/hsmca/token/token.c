/* Tokens: lookup by URI, the process-wide token cache, login state and the
 * session pool. A token found twice is the same ca_token, so a login made
 * by a tool is seen by the provider (PKCS#11 v2.40 5.5: login state is per
 * application and token, held while one of its sessions is open; the anchor
 * session keeps it).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/pin.h"

#define MSG_URI_MAX 200
#define POOL_MIN    8
#define GEN_ANY	    (~0u) /* a session of the current generation */

static ca_token *g_tokens; /* under ca_p11_lock() */

static int gone(const ca_token *tok);

static void trim(char *dst, const unsigned char *src, size_t n)
{
	size_t len = p11_kit_space_strlen(src, n);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static CK_RV open_raw(ca_token *tok, CK_SESSION_HANDLE *out)
{
	CK_RV rv;

	ca_token_ops_alone(tok);
	rv = tok->fl->C_OpenSession(
	    tok->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, out);
	if (rv == CKR_TOKEN_WRITE_PROTECTED)
		rv = tok->fl->C_OpenSession(tok->slot, CKF_SERIAL_SESSION, NULL,
					    NULL, out);
	ca_token_ops_done(tok);
	return rv;
}

static void close_raw(ca_token *tok, CK_SESSION_HANDLE s)
{
	ca_token_ops_alone(tok);
	(void)tok->fl->C_CloseSession(s);
	ca_token_ops_done(tok);
}

static int open_failed(ca_token *tok, CK_RV rv)
{
	return ca_err(CA_EIO, "cannot open a session on token '%s': %s",
		      tok->label, p11_kit_strerror(rv));
}

static int open_session(ca_token *tok, CK_SESSION_HANDLE *out)
{
	CK_RV rv = open_raw(tok, out);

	return rv == CKR_OK ? CA_OK : open_failed(tok, rv);
}

static void token_destroy(ca_token *tok)
{
	if (tok->pin != NULL)
		OPENSSL_secure_clear_free(tok->pin, tok->pin_len + 1);
	pthread_mutex_destroy(&tok->lock);
	pthread_cond_destroy(&tok->freed);
	pthread_rwlock_destroy(&tok->ops);
	free(tok->idle);
	free(tok->mechs);
	free(tok->module);
	free(tok->module_args);
	free(tok);
}

/* Under the global lock: a new cached token (one reference, the cache's). */
static int token_new(CK_FUNCTION_LIST *fl, CK_SLOT_ID slot,
		     const CK_TOKEN_INFO *info, ca_token **out)
{
	ca_token *tok = NULL;
	const char *spec, *args;
	int rc = CA_OK;

	tok = calloc(1, sizeof(*tok));
	if (tok == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	spec = ca_p11_module_spec(fl, &args);
	if ((spec != NULL && (tok->module = strdup(spec)) == NULL) ||
	    (args != NULL && (tok->module_args = strdup(args)) == NULL)) {
		token_destroy(tok);
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	atomic_init(&tok->refs, 1);
	tok->fl = fl;
	tok->slot = slot;
	tok->info = *info;
	trim(tok->label, info->label, sizeof(info->label));
	trim(tok->serial, info->serialNumber, sizeof(info->serialNumber));
	tok->login_required = (info->flags & CKF_LOGIN_REQUIRED) != 0;
	tok->protected_path =
	    (info->flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	pthread_mutex_init(&tok->lock, NULL);
	pthread_cond_init(&tok->freed, NULL);
	{
		pthread_rwlockattr_t ra;

		/* Writers first: a session to close does not wait behind a
		 * stream of signatures. */
		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(
		    &ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&tok->ops, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	rc = open_session(tok, &tok->anchor);
	if (rc < 0) {
		token_destroy(tok);
		goto out;
	}
	tok->next = g_tokens;
	g_tokens = tok;
	*out = tok;
out:
	return rc;
}

struct match {
	CK_FUNCTION_LIST *fl;
	CK_SLOT_ID slot;
	CK_TOKEN_INFO info;
	int n;
	char present[MSG_URI_MAX]; /* "'A', 'B'": the tokens seen */
	size_t o;
};

static void note_present(struct match *m, const CK_TOKEN_INFO *ti)
{
	char label[33];
	int n;

	if (m->o + 40 >= sizeof(m->present)) {
		if (m->o + 4 < sizeof(m->present))
			m->o += (size_t)snprintf(m->present + m->o,
						 sizeof(m->present) - m->o,
						 ", ...");
		return;
	}
	trim(label, ti->label, sizeof(ti->label));
	n = snprintf(m->present + m->o, sizeof(m->present) - m->o, "%s'%s'",
		     m->o > 0 ? ", " : "", label);
	if (n > 0)
		m->o += (size_t)n;
}

/* Count the initialised tokens of one module that match uri. */
static void scan_module(CK_FUNCTION_LIST *fl, P11KitUri *uri, struct match *m)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG i, n = 0;
	CK_TOKEN_INFO ti;
	CK_INFO mi;

	if (fl->C_GetInfo(&mi) != CKR_OK ||
	    !p11_kit_uri_match_module_info(uri, &mi))
		goto out;
	if (fl->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0)
		goto out;
	slots = calloc(n, sizeof(*slots));
	if (slots == NULL || fl->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (fl->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    (ti.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		note_present(m, &ti);
		if (!p11_kit_uri_match_token_info(uri, &ti))
			continue;
		m->fl = fl;
		m->slot = slots[i];
		m->info = ti;
		m->n++;
	}
out:
	free(slots);
}

static ca_token *cached(const struct match *m)
{
	ca_token *t;

	for (t = g_tokens; t != NULL; t = t->next) {
		if (t->fl == m->fl && t->slot == m->slot &&
		    memcmp(t->info.label, m->info.label,
			   sizeof(m->info.label)) == 0 &&
		    memcmp(t->info.serialNumber, m->info.serialNumber,
			   sizeof(m->info.serialNumber)) == 0)
			return t;
	}
	return NULL;
}

/* Under the global lock: "no token matches" with what is there. */
static int no_match(CK_FUNCTION_LIST **mods, const char *shown,
		    const struct match *m)
{
	char failed[MSG_URI_MAX];
	const char *spec = NULL, *args;

	if (mods[0] != NULL && mods[1] == NULL)
		spec = ca_p11_module_spec(mods[0], &args);
	ca_p11_failed_modules(failed, sizeof(failed));
	return ca_err(
	    CA_EIO, "no token matches '%s'%s%s: %s%s%s%s", shown,
	    spec != NULL ? " on PKCS#11 module " : "", spec != NULL ? spec : "",
	    m->o > 0 ? "tokens present: " : "no tokens present", m->present,
	    failed[0] ? "; modules that did not start: " : "", failed);
}

int ca_token_open_parsed(P11KitUri *uri, const char *uri_text, ca_token **out)
{
	CK_FUNCTION_LIST **mods;
	struct match m = {0};
	ca_token *tok;
	char shown[MSG_URI_MAX];
	size_t i;
	int rc;

	*out = NULL;
	ca_uri_redact(uri_text != NULL ? uri_text : "pkcs11:", shown,
		      sizeof(shown));
	ca_p11_lock();
	GUARD(ca_p11_modules(uri, &mods));
	for (i = 0; mods[i] != NULL; i++)
		scan_module(mods[i], uri, &m);
	/* A token another process is writing can be unreadable for a moment
	 * to SoftHSM, which reads its tokens at C_Initialize and drops that
	 * one for the process's life: before any token is open, SoftHSM is
	 * started again, twice at most, the second time a tenth of a second
	 * later, before the token is called missing. */
	for (int again = 0; m.n == 0 && g_tokens == NULL && again < 2;
	     again++) {
		if (again > 0)
			(void)nanosleep(&(struct timespec){0, 100000000L},
					NULL);
		if (!ca_p11_restart(mods))
			break;
		memset(&m, 0, sizeof(m));
		for (i = 0; mods[i] != NULL; i++)
			scan_module(mods[i], uri, &m);
	}
	if (m.n == 0) {
		rc = no_match(mods, shown, &m);
		goto out;
	}
	if (m.n > 1) {
		rc = ca_err(CA_EUSAGE,
			    "more than one token matches '%s': add token= or "
			    "serial= to the URI",
			    shown);
		goto out;
	}
	tok = cached(&m);
	if (tok == NULL)
		GUARD(token_new(m.fl, m.slot, &m.info, &tok));
	*out = ca_token_ref(tok);
out:
	ca_p11_unlock();
	return rc;
}

int ca_token_open(const char *uri, ca_token **out)
{
	P11KitUri *parsed = NULL;
	int rc;

	*out = NULL;
	GUARD(ca_p11_uri_parse(uri, &parsed));
	GUARD(ca_token_open_parsed(parsed, uri, out));
out:
	if (parsed != NULL)
		p11_kit_uri_free(parsed);
	return rc;
}

ca_token *ca_token_ref(ca_token *tok)
{
	atomic_fetch_add(&tok->refs, 1);
	return tok;
}

/* The cache holds a reference until shutdown, so the last reference is
 * only dropped once the module is finalized: no PKCS#11 call here. */
void ca_token_free(ca_token *tok)
{
	if (tok == NULL)
		return;
	if (atomic_fetch_sub(&tok->refs, 1) == 1)
		token_destroy(tok);
}

void ca_token_forget_all(void)
{
	ca_token *t, *next;

	for (t = g_tokens; t != NULL; t = next) {
		next = t->next;
		pthread_mutex_lock(&t->lock);
		t->dead = 1;
		t->n_idle = 0;
		pthread_mutex_unlock(&t->lock);
		t->next = NULL;
		ca_token_free(t);
	}
	g_tokens = NULL;
}

const char *ca_token_label(const ca_token *tok)
{
	return tok->label;
}

const char *ca_token_serial(const ca_token *tok)
{
	return tok->serial;
}

const char *ca_token_module(const ca_token *tok)
{
	return tok->module;
}

const char *ca_token_module_args(const ca_token *tok)
{
	return tok->module_args;
}

/* Under tok->lock: the mechanism list, read once. */
static int read_mechanisms(ca_token *tok)
{
	CK_ULONG n = 0;
	CK_RV rv;

	if (tok->mechs_read)
		return CA_OK;
	rv = tok->fl->C_GetMechanismList(tok->slot, NULL, &n);
	if (rv == CKR_OK && n > 0) {
		tok->mechs = calloc(n, sizeof(*tok->mechs));
		if (tok->mechs == NULL)
			return ca_err(CA_EIO, "out of memory");
		rv = tok->fl->C_GetMechanismList(tok->slot, tok->mechs, &n);
	}
	if (rv != CKR_OK)
		return ca_err(CA_EIO,
			      "cannot list the mechanisms of token '%s': %s",
			      tok->label, p11_kit_strerror(rv));
	tok->n_mechs = n;
	tok->mechs_read = 1;
	return CA_OK;
}

int ca_token_mechanism(ca_token *tok, CK_MECHANISM_TYPE mech, CK_FLAGS flags,
		       CK_MECHANISM_INFO *info)
{
	CK_MECHANISM_INFO mi;
	CK_ULONG i;
	int rc, found = 0;

	if (tok->dead)
		return gone(tok);
	pthread_mutex_lock(&tok->lock);
	rc = read_mechanisms(tok);
	for (i = 0; rc == CA_OK && i < tok->n_mechs; i++)
		found |= tok->mechs[i] == mech;
	pthread_mutex_unlock(&tok->lock);
	if (rc < 0 || !found)
		return rc;
	if (tok->fl->C_GetMechanismInfo(tok->slot, mech, &mi) != CKR_OK ||
	    (mi.flags & flags) != flags)
		return 0;
	if (info != NULL)
		*info = mi;
	return 1;
}

static int gone(const ca_token *tok)
{
	return ca_err(CA_EIO,
		      "token '%s' is no longer available (PKCS#11 shut down)",
		      tok->label);
}

int ca_token_lost(ca_token *tok, CK_RV rv)
{
	switch (rv) {
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
		return 1;
	case CKR_USER_NOT_LOGGED_IN:
		return tok->logged_in_by_us;
	default:
		return 0;
	}
}

/* Under tok->lock: C_Login(CKU_USER) on the anchor with our PIN (NULL on a
 * protected authentication path). */
static CK_RV login_anchor(ca_token *tok, const char *pin, size_t pin_len)
{
	CK_RV rv;

	/* PKCS#11 v2.40 5.6 C_Login: NULL PIN for a protected auth path */
	rv = tok->fl->C_Login(tok->anchor, CKU_USER, (CK_UTF8CHAR_PTR)pin,
			      pin != NULL ? (CK_ULONG)pin_len : 0);
	return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

/* Under tok->lock: forget every session (closing them unless they belong
 * to a parent process), open a new anchor and log in again as before. */
static int recover_locked(ca_token *tok, int close_old)
{
	CK_RV rv = CKR_OK;
	size_t i;
	int rc;

	if (close_old) {
		for (i = 0; i < tok->n_idle; i++)
			close_raw(tok, tok->idle[i]);
		if (tok->anchor != CK_INVALID_HANDLE)
			close_raw(tok, tok->anchor);
	}
	tok->n_idle = 0;
	tok->anchor = CK_INVALID_HANDLE;
	tok->gen++;
	tok->lost = 1;
	rc = open_session(tok, &tok->anchor);
	if (rc < 0) {
		tok->anchor = CK_INVALID_HANDLE;
		return rc;
	}
	if (tok->logged_in_by_us)
		rv = login_anchor(tok, tok->pin, tok->pin_len);
	if (rv != CKR_OK)
		return ca_err(CA_EIO, "cannot log in to token '%s' again: %s",
			      tok->label, p11_kit_strerror(rv));
	tok->lost = 0;
	return CA_OK;
}

int ca_token_recover(ca_token *tok, unsigned gen)
{
	int rc = CA_OK;

	pthread_mutex_lock(&tok->lock);
	if (tok->dead)
		rc = gone(tok);
	else if (tok->gen == gen || tok->lost)
		rc = recover_locked(tok, !tok->lost);
	pthread_mutex_unlock(&tok->lock);
	return rc;
}

void ca_token_forked_all(void)
{
	ca_token *t;

	for (t = g_tokens; t != NULL; t = t->next) {
		pthread_mutex_lock(&t->lock);
		t->n_idle = 0;
		t->n_out = 0;
		t->anchor = CK_INVALID_HANDLE;
		t->gen++;
		t->lost = 1;
		pthread_mutex_unlock(&t->lock);
	}
}

/* Ready for a call: a recovery pending (after fork, or one that failed)
 * is done first. */
static int ready(ca_token *tok)
{
	int rc = CA_OK;

	ca_p11_check_fork();
	if (tok->dead)
		return gone(tok);
	if (!tok->lost)
		return CA_OK;
	pthread_mutex_lock(&tok->lock);
	if (tok->lost && !tok->dead)
		rc = recover_locked(tok, 0);
	pthread_mutex_unlock(&tok->lock);
	return rc;
}

int ca_token_logged_in(ca_token *tok)
{
	CK_SESSION_INFO si;
	CK_RV rv;
	int rc, tries;

	GUARD(ready(tok));
	if (!tok->login_required)
		return 1;
	for (tries = 0;; tries++) {
		rv = tok->fl->C_GetSessionInfo(tok->anchor, &si);
		if (rv == CKR_OK || tries > 0 || !ca_token_lost(tok, rv))
			break;
		GUARD(ca_token_recover(tok, tok->gen));
	}
	if (rv != CKR_OK)
		return ca_err(CA_EIO, "cannot query token '%s': %s", tok->label,
			      p11_kit_strerror(rv));
	return si.state == CKS_RO_USER_FUNCTIONS ||
	       si.state == CKS_RW_USER_FUNCTIONS;
out:
	return rc;
}

static atomic_int g_allow_final_try;

void ca_p11_allow_final_pin_try(int allow)
{
	atomic_store(&g_allow_final_try, allow != 0);
}

int ca_token_login_check(ca_token *tok)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;
	int rc;

	GUARD(ready(tok));
	/* Fresh flags: the PIN counters change between calls. SoftHSM's
	 * file store answers CKR_GENERAL_ERROR while another process
	 * rewrites the token's files: asked twice more, a moment apart. */
	for (int tries = 0;; tries++) {
		rv = tok->fl->C_GetTokenInfo(tok->slot, &ti);
		if (rv != CKR_GENERAL_ERROR || tries == 2)
			break;
		(void)nanosleep(&(struct timespec){0, 50000000L}, NULL);
	}
	if (rv != CKR_OK)
		return ca_err(CA_EIO, "cannot query token '%s': %s", tok->label,
			      p11_kit_strerror(rv));
	if (ti.flags & CKF_USER_PIN_LOCKED)
		return ca_err(CA_EPOLICY,
			      "the user PIN of token '%s' is locked "
			      "(CKF_USER_PIN_LOCKED): no login attempted; the "
			      "security officer must unlock it",
			      tok->label);
	if ((ti.flags & CKF_USER_PIN_FINAL_TRY) &&
	    !atomic_load(&g_allow_final_try))
		return ca_err(CA_EPOLICY,
			      "token '%s' reports CKF_USER_PIN_FINAL_TRY: one "
			      "more wrong PIN locks it (some HSMs then erase "
			      "their keys); no login attempted; pass "
			      "--allow-final-pin-try to log in anyway",
			      tok->label);
	if ((ti.flags & CKF_USER_PIN_COUNT_LOW) && !tok->count_low_warned) {
		tok->count_low_warned = 1;
		fprintf(stderr,
			"hsmca: warning: token '%s' reports "
			"CKF_USER_PIN_COUNT_LOW (a wrong PIN was entered since "
			"the last good login)\n",
			tok->label);
	}
	tok->protected_path =
	    (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	return tok->protected_path ? 0 : 1;
out:
	return rc;
}

/* Under tok->lock: keep the PIN of a successful login (once). */
static int keep_pin(ca_token *tok, const char *pin, size_t pin_len)
{
	tok->logged_in_by_us = 1;
	if (pin == NULL || tok->pin != NULL)
		return CA_OK;
	tok->pin = OPENSSL_secure_zalloc(pin_len + 1);
	if (tok->pin == NULL)
		return ca_err(CA_EIO, "out of memory");
	memcpy(tok->pin, pin, pin_len);
	tok->pin_len = pin_len;
	return CA_OK;
}

int ca_token_login(ca_token *tok, const char *pin, size_t pin_len)
{
	CK_RV rv;
	int rc;

	GUARD(ca_token_login_check(tok));
	if (rc == 0)
		pin = NULL, pin_len = 0; /* protected path: the PIN pad asks */
	pthread_mutex_lock(&tok->lock);
	rv = login_anchor(tok, pin, pin_len);
	/* The anchor lost while the PIN was typed (idle sessions expire):
	 * once more on a new one. */
	if (ca_token_lost(tok, rv) && recover_locked(tok, 1) == CA_OK)
		rv = login_anchor(tok, pin, pin_len);
	rc = rv == CKR_OK ? keep_pin(tok, pin, pin_len) : CA_OK;
	pthread_mutex_unlock(&tok->lock);
	switch (rv) {
	case CKR_OK:
		return rc;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_LEN_RANGE:
		return ca_err(CA_EIO, "wrong PIN for token '%s'", tok->label);
	case CKR_PIN_LOCKED:
		return ca_err(CA_EIO, "PIN of token '%s' is locked",
			      tok->label);
	default:
		return ca_err(CA_EIO, "cannot log in to token '%s': %s",
			      tok->label, p11_kit_strerror(rv));
	}
out:
	return rc;
}

int ca_token_login_source(ca_token *tok, const char *pin_source)
{
	struct ca_pin pin;
	char prompt[300];
	int rc, need_pin;

	memset(&pin, 0, sizeof(pin));
	GUARD(ca_token_logged_in(tok));
	if (rc == 1) {
		rc = CA_OK;
		goto out;
	}
	GUARD(ca_token_login_check(tok));
	need_pin = rc == 1;
	if (need_pin) {
		snprintf(prompt, sizeof(prompt),
			 "PIN for token '%s': ", tok->label);
		GUARD(ca_pin_read(pin_source, prompt, &pin));
	}
	rc = ca_token_login(tok, need_pin ? pin.value : NULL, pin.len);
out:
	ca_pin_wipe(&pin);
	return rc;
}

CK_RV ca_token_context_login(ca_token *tok, CK_SESSION_HANDLE s)
{
	if (tok->pin == NULL && !tok->protected_path)
		return CKR_USER_NOT_LOGGED_IN;
	return tok->fl->C_Login(s, CKU_CONTEXT_SPECIFIC,
				(CK_UTF8CHAR_PTR)tok->pin,
				tok->pin != NULL ? (CK_ULONG)tok->pin_len : 0);
}

/* A pooled session, else a new one. A token at its session limit
 * (CKR_SESSION_COUNT) while some of ours are out: wait for one to come
 * back (PKCS#11 allows one operation per session at a time). */
int ca_token_session_gen(ca_token *tok, CK_SESSION_HANDLE *out, unsigned *gen)
{
	CK_RV rv;
	int rc;

	GUARD(ready(tok));
	pthread_mutex_lock(&tok->lock);
	for (;;) {
		if (tok->dead) {
			rc = gone(tok);
			break;
		}
		*gen = tok->gen;
		tok->n_out++;
		if (tok->n_idle > 0) {
			*out = tok->idle[--tok->n_idle];
			break;
		}
		pthread_mutex_unlock(&tok->lock);
		rv = open_raw(tok, out);
		pthread_mutex_lock(&tok->lock);
		if (rv == CKR_OK)
			break;
		tok->n_out--;
		if (rv != CKR_SESSION_COUNT || tok->n_out == 0) {
			rc = open_failed(tok, rv);
			break;
		}
		pthread_cond_wait(&tok->freed, &tok->lock);
	}
	pthread_mutex_unlock(&tok->lock);
out:
	return rc;
}

int ca_token_session(ca_token *tok, CK_SESSION_HANDLE *out)
{
	unsigned gen;

	return ca_token_session_gen(tok, out, &gen);
}

void ca_token_release_gen(ca_token *tok, CK_SESSION_HANDLE s, unsigned gen,
			  int bad)
{
	CK_SESSION_HANDLE *grown;
	size_t cap;

	pthread_mutex_lock(&tok->lock);
	if (tok->dead) {
		pthread_mutex_unlock(&tok->lock);
		return;
	}
	if (tok->n_out > 0)
		tok->n_out--;
	if (gen != GEN_ANY && gen != tok->gen)
		bad = 1;
	if (!bad && tok->n_idle == tok->cap_idle) {
		cap = tok->cap_idle < POOL_MIN ? POOL_MIN : tok->cap_idle * 2;
		grown = realloc(tok->idle, cap * sizeof(*grown));
		if (grown != NULL) {
			tok->idle = grown;
			tok->cap_idle = cap;
		} else {
			bad = 1;
		}
	}
	/* Closed before a waiter is woken, so that its slot is free. */
	if (bad)
		close_raw(tok, s);
	else
		tok->idle[tok->n_idle++] = s;
	pthread_cond_signal(&tok->freed);
	pthread_mutex_unlock(&tok->lock);
}

void ca_token_release(ca_token *tok, CK_SESSION_HANDLE s, int bad)
{
	ca_token_release_gen(tok, s, GEN_ANY, bad);
}

unsigned long ca_token_max_sessions(ca_token *tok)
{
	CK_TOKEN_INFO ti;
	CK_ULONG lim[2];
	unsigned long n = 0;
	size_t i;

	if (ready(tok) < 0 || tok->fl->C_GetTokenInfo(tok->slot, &ti) != CKR_OK)
		return 0;
	lim[0] = ti.ulMaxSessionCount;
	lim[1] = ti.ulMaxRwSessionCount;
	for (i = 0; i < 2; i++) {
		/* 0 is CK_EFFECTIVELY_INFINITE */
		if (lim[i] == 0 || lim[i] == CK_UNAVAILABLE_INFORMATION)
			continue;
		if (n == 0 || lim[i] < n)
			n = lim[i];
	}
	/* one is the anchor, which holds the login */
	return n == 0 ? 0 : n > 1 ? n - 1 : 1;
}

int ca_token_random(ca_token *tok, unsigned char *buf, size_t len)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;
	unsigned gen;
	int rc, tries;

	/* A session lost underneath: once more on a new one. */
	for (tries = 0;; tries++) {
		GUARD(ca_token_session_gen(tok, &s, &gen));
		ca_token_ops_shared(tok);
		rv = tok->fl->C_GenerateRandom(s, buf, (CK_ULONG)len);
		ca_token_ops_done(tok);
		ca_token_release_gen(tok, s, gen, rv != CKR_OK);
		if (rv == CKR_OK || tries > 0 || !ca_token_lost(tok, rv))
			break;
		GUARD(ca_token_recover(tok, gen));
	}
	if (rv != CKR_OK)
		rc = ca_err(CA_EIO, "C_GenerateRandom on token '%s' failed: %s",
			    tok->label, p11_kit_strerror(rv));
out:
	return rc;
}

int ca_token_find(ca_token *tok, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
		  CK_ULONG ntmpl, CK_OBJECT_HANDLE *found, CK_ULONG max,
		  CK_ULONG *n)
{
	CK_RV rv;

	*n = 0;
	rv = tok->fl->C_FindObjectsInit(s, tmpl, ntmpl);
	if (rv != CKR_OK)
		goto fail;
	rv = tok->fl->C_FindObjects(s, found, max, n);
	(void)tok->fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		goto fail;
	return CA_OK;
fail:
	return ca_err(CA_EIO, "cannot search token '%s': %s", tok->label,
		      p11_kit_strerror(rv));
}

int ca_token_attr(ca_token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		  CK_ATTRIBUTE_TYPE type, unsigned char **val, size_t *len)
{
	CK_RV rv;

	return ca_token_attr_rv(tok, s, obj, type, val, len, &rv);
}

int ca_token_attr_rv(ca_token *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		     CK_ATTRIBUTE_TYPE type, unsigned char **val, size_t *len,
		     CK_RV *rvp)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv;
	int rc = CA_OK;

	*val = NULL;
	*len = 0;
	rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		goto fail;
	a.pValue = malloc(a.ulValueLen > 0 ? a.ulValueLen : 1);
	if (a.pValue == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		goto fail;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	goto out;
fail:
	rc = ca_err(CA_EIO,
		    "cannot read attribute 0x%lx of a key on token '%s': %s",
		    (unsigned long)type, tok->label,
		    rv != CKR_OK ? p11_kit_strerror(rv) : "unavailable");
out:
	*rvp = rv;
	return rc;
}
