/* faultp11: a fault-injecting PKCS#11 module for tests.
 *
 * It wraps a real module (SoftHSM by default), forwards every call and, as
 * its configuration says, behaves like the tokens hsmca meets in the field:
 * slow signatures, only raw or only hashed ECDSA, keys that need a login
 * before each signature, few sessions, idle sessions that expire, a device
 * pulled out mid-batch, PIN retry flags, a PIN pad, failing C_Finalize.
 * Built as $(BUILD)/tests/faultp11.so; only C_GetFunctionList is exported.
 *
 * Configuration: the file named by $FAULTP11_CONF, read at each
 * C_Initialize (no variable, or an empty one: plain pass-through to the
 * default module). One "key=value" a line; blanks around key and value are
 * ignored; lines whose first non-blank character is '#' and empty lines are
 * skipped; a key given twice keeps its last value; an unknown key or a bad
 * value makes C_Initialize print "faultp11: FILE:LINE: ..." on stderr and
 * return CKR_GENERAL_ERROR. The caller's C_Initialize arguments (pReserved
 * included) are handed to the wrapped module unchanged.
 *
 *   module=PATH          the wrapped module (default
 *                        /usr/lib/softhsm/libsofthsm2.so)
 *   pin=PIN              the user PIN: what protected_auth logs in with, and
 *                        what a context-specific login is checked against
 *                        (without it: the PIN of the last successful
 *                        C_Login(CKU_USER) through this module)
 *   log=PATH             append one line per call (see "Log" below)
 *   sign_latency_ms=N    sleep N ms in every C_Sign/C_SignFinal that
 *                        produces a signature (not in length queries), with
 *                        no lock held: signatures on several sessions sleep
 *                        at the same time
 *   ecdsa=any|raw-only|hashed-only
 *                        raw-only hides CKM_ECDSA_SHA1/224/256/384/512;
 *                        hashed-only hides CKM_ECDSA and offers
 *                        CKM_ECDSA_SHA256/384/512 (sign and verify, single-
 *                        and multi-part), hashed here and performed by the
 *                        wrapped module's raw CKM_ECDSA
 *   rsa=any|raw-only|hashed-only
 *                        raw-only hides CKM_MD5/SHA*_RSA_PKCS and
 *                        CKM_SHA*_RSA_PKCS_PSS; hashed-only hides
 *                        CKM_RSA_PKCS, CKM_RSA_X_509 and CKM_RSA_PKCS_PSS
 *                        A hidden mechanism is missing from
 *                        C_GetMechanismList, and C_GetMechanismInfo and every
 *                        C_*Init taking a mechanism return
 *                        CKR_MECHANISM_INVALID for it.
 *   always_authenticate=0|1
 *                        private keys report CKA_ALWAYS_AUTHENTICATE=TRUE;
 *                        after a C_SignInit with a private key,
 *                        C_Login(CKU_CONTEXT_SPECIFIC, PIN) is needed before
 *                        C_Sign/C_SignUpdate/C_SignFinal, else they return
 *                        CKR_USER_NOT_LOGGED_IN and end the operation; the
 *                        login is good for that one operation. A wrong PIN
 *                        gives CKR_PIN_INCORRECT, a context-specific login
 *                        with no operation waiting for one
 *                        CKR_OPERATION_NOT_INITIALIZED.
 *   max_sessions=N       C_OpenSession with N sessions of this process open
 *                        returns CKR_SESSION_COUNT; C_GetTokenInfo reports
 *                        ulMaxSessionCount = ulMaxRwSessionCount = N and
 *                        ulSessionCount = the sessions open
 *   session_idle_ms=N    a session not used for N ms (from the end of its
 *                        last call) is closed underneath: its next use
 *                        returns CKR_SESSION_HANDLE_INVALID; C_OpenSession
 *                        and C_GetTokenInfo first close every idle session
 *   remove_at_sign=K     the Kth signature of the process (C_Sign or
 *                        C_SignFinal with an output buffer) returns
 *                        CKR_DEVICE_REMOVED without signing, and every open
 *                        session becomes invalid (closed underneath;
 *                        signatures sleeping in sign_latency_ms at that
 *                        moment return CKR_DEVICE_REMOVED too). Once: later
 *                        C_OpenSession and signatures work ("re-inserted").
 *   token_absent_at_sign=K
 *                        the same with CKR_TOKEN_NOT_PRESENT (a token taken
 *                        out of its reader): every session invalid, once
 *   session_closed_at_sign=K
 *                        the Kth signature returns CKR_SESSION_CLOSED
 *                        without signing and its session is closed
 *                        underneath (later calls on it:
 *                        CKR_SESSION_HANDLE_INVALID); the other sessions
 *                        and the login live on
 *   data_gone_at_read=K  the Kth C_GetAttributeValue of the process
 *                        reading CKA_VALUE of a data object returns
 *                        CKR_OBJECT_HANDLE_INVALID without reading it (as
 *                        when another process replaced the object since
 *                        it was found; logged fault=data-gone); once
 *   remove_at_update=K   the Kth C_SignUpdate of the process returns
 *                        CKR_DEVICE_REMOVED, as remove_at_sign does (a
 *                        device pulled out in the middle of a multi-part
 *                        signature); once
 *   hide_slots_inits=N   C_GetSlotList reports no slot until the process's
 *                        (N+1)th successful C_Initialize (logged
 *                        fault=slots-hidden), as SoftHSM's file store drops
 *                        a token another process is rewriting until it is
 *                        initialised again
 *   token_info_errors=N  once the process has opened a session, its next N
 *                        C_GetTokenInfo calls return CKR_GENERAL_ERROR
 *                        without reaching the wrapped module (logged
 *                        fault=token-busy), as SoftHSM's file store answers
 *                        while another process rewrites the token's files
 *   one_operation=0|1    one operation per session at a time, as HSMs
 *                        that serialise a session enforce: any C_*Init
 *                        (sign, verify, encrypt, decrypt, digest,
 *                        recover, C_FindObjectsInit) on a session with a
 *                        signature, verification or object search under
 *                        way, and any call on a session while another
 *                        call on it is in progress (another thread),
 *                        return CKR_OPERATION_ACTIVE (logged
 *                        fault=operation-active); the operation under way
 *                        goes on
 *   pin_flags=none|count_low|final_try|locked
 *                        C_GetTokenInfo reports CKF_USER_PIN_COUNT_LOW,
 *                        CKF_USER_PIN_FINAL_TRY or CKF_USER_PIN_LOCKED in
 *                        place of the wrapped module's PIN flags; locked:
 *                        user and context-specific C_Login return
 *                        CKR_PIN_LOCKED without reaching the wrapped module.
 *                        A wrong user or context-specific PIN while
 *                        final_try is reported locks the token for the rest
 *                        of the process (reported as locked, logins
 *                        refused), across C_Finalize/C_Initialize.
 *   protected_auth=0|1   CKF_PROTECTED_AUTHENTICATION_PATH is reported; a
 *                        C_Login (user or context-specific) with a NULL PIN
 *                        logs in with pin= (required with this setting)
 *   already_logged_in=pass|report|ok
 *                        C_Login(CKU_USER) on a session that the wrapped
 *                        module already shows logged in: report returns
 *                        CKR_USER_ALREADY_LOGGED_IN, ok returns CKR_OK,
 *                        neither reaching the wrapped module; pass (the
 *                        default) forwards the call (SoftHSM itself
 *                        answers CKR_USER_ALREADY_LOGGED_IN). 0 and 1 are
 *                        pass and report.
 *   random_needs_login=0|1
 *                        C_GenerateRandom on a session not logged in returns
 *                        CKR_USER_NOT_LOGGED_IN
 *   finalize_fail=0|1    C_Finalize finalizes the wrapped module, then
 *                        returns CKR_GENERAL_ERROR
 *   finalize_crash=0|1   C_Finalize logs itself and calls abort(): a caller
 *                        that finalizes explicitly before exit dies with
 *                        SIGABRT after its work is done, which a test can
 *                        tell from one that dies earlier
 *
 * Session handles are this module's own (never reused in a process) and
 * mapped onto the wrapped module's, so that a handle invalidated here never
 * reaches a session the wrapped module opened later under the same number.
 * The signature count, the wrong-PIN count and a PIN locked by final_try
 * last as long as the process (a forked child inherits them); everything
 * else starts again at C_Initialize. In a child after fork(), C_Initialize
 * works again: the parent's sessions are forgotten and the wrapped module
 * is initialised anew (its CKR_CRYPTOKI_ALREADY_INITIALIZED, SoftHSM's
 * answer there, taken as success). Limitation: C_FindObjects* pass templates
 * through, so a search on CKA_ALWAYS_AUTHENTICATE sees the wrapped module's
 * values.
 *
 * Log: with log=PATH, each call appends one line (O_APPEND, one write):
 *   pid=P C_Name rv=CKR_X [key=value ...]
 * with mech=CKM_X on every C_*Init taking a mechanism (and via=CKM_ECDSA
 * when emulated), sig=K inflight=M on each signature produced (K: the
 * process's signature count, M: signatures in flight in the process,
 * this one included), user=CKU_X pin=given|null|config wrong_pins=N on
 * C_Login, session=H open=N on C_OpenSession, and fault=NAME on every
 * injected fault: idle-expired, device-removed, token-absent,
 * session-closed, operation-active, finalize-fail, finalize-crash,
 * pin-locked, already-logged-in, not-logged-in, context-login-missing,
 * session-count, mechanism-hidden, slots-hidden, token-busy; update=K on each
 * C_SignUpdate counted by remove_at_update.
 *
 * Thread safety: one mutex guards the session table and the counters; it is
 * never held while the wrapped module works or while a signature sleeps.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "p11names.h"

#define FP_EXPORT      __attribute__((visibility("default")))
#define DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define MAX_PIN	       256
#define MAX_NUMBER     1000000000UL

enum { ANY, RAW_ONLY, HASHED_ONLY };
enum { PIN_NONE, PIN_COUNT_LOW, PIN_FINAL_TRY, PIN_LOCKED };
enum { RELOGIN_PASS, RELOGIN_REPORT, RELOGIN_OK };

struct conf {
	char module[PATH_MAX];
	char log[PATH_MAX];
	unsigned char pin[MAX_PIN];
	size_t pin_len;
	unsigned long sign_latency_ms, max_sessions, session_idle_ms;
	unsigned long remove_at_sign, token_absent_at_sign;
	unsigned long session_closed_at_sign, remove_at_update;
	unsigned long data_gone_at_read;
	unsigned long hide_slots_inits, token_info_errors;
	int ecdsa, rsa, pin_flags, one_operation;
	int always_authenticate, protected_auth, already_logged_in;
	int random_needs_login, finalize_fail, finalize_crash;
};

/* A sign or verify operation hashed here (ecdsa=hashed-only). */
struct op {
	EVP_MD_CTX *md;
};

struct session {
	CK_SESSION_HANDLE handle;  /* ours */
	CK_SESSION_HANDLE wrapped; /* the wrapped module's */
	CK_SLOT_ID slot;
	unsigned refs; /* calls in progress on it */
	int gone;      /* out of the table; closed at refs 0 */
	CK_RV removed; /* by a fault: what its calls in progress return */
	uint64_t last_used_ms;
	struct op sign, verify;
	int signing; /* a C_SignInit succeeded, the operation goes on */
	int verifying, finding; /* the same for C_VerifyInit, search */
	int need_context_login, context_logged_in;
	struct session *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_initialized, g_initializing;
static pid_t g_pid; /* the process that initialised */
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;
static struct conf g_conf;
static CK_FUNCTION_LIST *g_w;
static OSSL_LIB_CTX *g_libctx;
static EVP_MD *g_sha[3]; /* SHA-256, SHA-384, SHA-512 */
static int g_log_fd = -1;
static struct session *g_sessions;
static unsigned long g_open, g_opening;
static CK_SESSION_HANDLE g_next_handle = 0x1000;
static unsigned char g_login_pin[MAX_PIN];
static size_t g_login_pin_len;
/* For the life of the process. */
static unsigned long g_signatures, g_in_flight, g_wrong_pins, g_updates;
static unsigned long g_data_reads;
static unsigned long g_inits, g_sessions_opened, g_info_errors;
static int g_pin_locked;

static CK_FUNCTION_LIST g_functions;

/* --- small helpers --------------------------------------------------- */

static void lock(void)
{
	(void)pthread_mutex_lock(&g_lock);
}

static void unlock(void)
{
	(void)pthread_mutex_unlock(&g_lock);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = {(time_t)(ms / 1000),
			      (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int initialized(void)
{
	int yes;

	lock();
	yes = g_initialized;
	unlock();
	return yes;
}

/* A child forked while another thread held g_lock gets it unlocked. */
static void atfork_prepare(void)
{
	lock();
}

static void atfork_parent(void)
{
	unlock();
}

static void atfork_child(void)
{
	(void)pthread_mutex_init(&g_lock, NULL);
}

static void atfork_register(void)
{
	(void)pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* One log line "pid=P NAME rv=CKR_X EXTRA" in one write (O_APPEND). */
static CK_RV emit(CK_RV rv, const char *name, const char *extra)
{
	char line[600], rvbuf[24];
	int n;

	if (g_log_fd < 0)
		return rv;
	n = snprintf(line, sizeof(line), "pid=%ld %s rv=%s%s%s\n",
		     (long)getpid(), name, P11_RV_NAME(rv, rvbuf),
		     extra[0] != '\0' ? " " : "", extra);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(g_log_fd, line, (size_t)n) != n) {
		/* A test reading the log finds the line missing. */
	}
	return rv;
}

static CK_RV logged(CK_RV rv, const char *name)
{
	return emit(rv, name, "");
}

__attribute__((format(printf, 3, 4))) static CK_RV
note(CK_RV rv, const char *name, const char *fmt, ...)
{
	char extra[512];
	va_list ap;

	if (g_log_fd < 0)
		return rv;
	va_start(ap, fmt);
	(void)vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	return emit(rv, name, extra);
}

/* --- configuration --------------------------------------------------- */

static int parse_number(const char *v, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > MAX_NUMBER)
		return -1;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
		return -1;
	*out = v[0] == '1';
	return 0;
}

static int parse_choice(const char *v, const char *const *names, int *out)
{
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static int parse_string(const char *v, char *out, size_t max)
{
	size_t n = strlen(v);

	if (n == 0 || n >= max)
		return -1;
	memcpy(out, v, n + 1);
	return 0;
}

/* A configuration key and where its value goes in struct conf. */
struct field {
	const char *key;
	size_t offset;
};

/* One key=value; 0 ok, -1 bad value, -2 unknown key. */
static int conf_set(struct conf *c, const char *k, const char *v)
{
	static const char *const kinds[] = {"any", "raw-only", "hashed-only",
					    NULL};
	static const char *const pins[] = {"none", "count_low", "final_try",
					   "locked", NULL};
	static const char *const relogin[] = {"pass", "report", "ok", NULL};
	static const struct field numbers[] = {
	    {"sign_latency_ms", offsetof(struct conf, sign_latency_ms)},
	    {"max_sessions", offsetof(struct conf, max_sessions)},
	    {"session_idle_ms", offsetof(struct conf, session_idle_ms)},
	    {"remove_at_sign", offsetof(struct conf, remove_at_sign)},
	    {"token_absent_at_sign",
	     offsetof(struct conf, token_absent_at_sign)},
	    {"session_closed_at_sign",
	     offsetof(struct conf, session_closed_at_sign)},
	    {"remove_at_update", offsetof(struct conf, remove_at_update)},
	    {"data_gone_at_read", offsetof(struct conf, data_gone_at_read)},
	    {"hide_slots_inits", offsetof(struct conf, hide_slots_inits)},
	    {"token_info_errors", offsetof(struct conf, token_info_errors)},
	};
	static const struct field bools[] = {
	    {"always_authenticate", offsetof(struct conf, always_authenticate)},
	    {"protected_auth", offsetof(struct conf, protected_auth)},
	    {"random_needs_login", offsetof(struct conf, random_needs_login)},
	    {"finalize_fail", offsetof(struct conf, finalize_fail)},
	    {"finalize_crash", offsetof(struct conf, finalize_crash)},
	    {"one_operation", offsetof(struct conf, one_operation)},
	};
	char *base = (char *)c;
	size_t i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (strcmp(k, numbers[i].key) == 0)
			return parse_number(
			    v, (unsigned long *)(base + numbers[i].offset));
	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (strcmp(k, bools[i].key) == 0)
			return parse_bool(v, (int *)(base + bools[i].offset));
	if (strcmp(k, "module") == 0)
		return parse_string(v, c->module, sizeof(c->module));
	if (strcmp(k, "log") == 0)
		return parse_string(v, c->log, sizeof(c->log));
	if (strcmp(k, "ecdsa") == 0)
		return parse_choice(v, kinds, &c->ecdsa);
	if (strcmp(k, "rsa") == 0)
		return parse_choice(v, kinds, &c->rsa);
	if (strcmp(k, "pin_flags") == 0)
		return parse_choice(v, pins, &c->pin_flags);
	if (strcmp(k, "already_logged_in") == 0)
		return parse_choice(strcmp(v, "0") == 0	  ? "pass"
				    : strcmp(v, "1") == 0 ? "report"
							  : v,
				    relogin, &c->already_logged_in);
	if (strcmp(k, "pin") == 0) {
		c->pin_len = strlen(v);
		if (c->pin_len == 0 || c->pin_len > sizeof(c->pin))
			return -1;
		memcpy(c->pin, v, c->pin_len);
		return 0;
	}
	return -2;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Read $FAULTP11_CONF into c; 0 ok, -1 after a message on stderr. */
static int conf_read(struct conf *c)
{
	const char *path = getenv("FAULTP11_CONF");
	char buf[PATH_MAX + 64], *line, *eq;
	unsigned lineno = 0;
	FILE *f = NULL;
	int rc = 0, r;

	memset(c, 0, sizeof(*c));
	memcpy(c->module, DEFAULT_MODULE, sizeof(DEFAULT_MODULE));
	if (path == NULL || path[0] == '\0')
		return 0;
	f = fopen(path, "re");
	if (f == NULL) {
		fprintf(stderr,
			"faultp11: cannot read %s (FAULTP11_CONF): %s\n", path,
			strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(buf, sizeof(buf), f) != NULL) {
		lineno++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "faultp11: %s:%u: line too long\n",
				path, lineno);
			rc = -1;
			break;
		}
		line = trim(buf);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			fprintf(stderr, "faultp11: %s:%u: expected key=value\n",
				path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		r = conf_set(c, trim(line), trim(eq + 1));
		if (r != 0) {
			fprintf(stderr, "faultp11: %s:%u: %s '%s'\n", path,
				lineno,
				r == -2 ? "unknown key" : "bad value for",
				trim(line));
			rc = -1;
		}
	}
	if (rc == 0 && c->protected_auth && c->pin_len == 0) {
		fprintf(stderr, "faultp11: %s: protected_auth=1 needs pin=\n",
			path);
		rc = -1;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
	return rc;
}

/* --- mechanisms ------------------------------------------------------ */

static int mech_in(CK_MECHANISM_TYPE m, const CK_MECHANISM_TYPE *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == m)
			return 1;
	return 0;
}

#define MECH_IN(m, set) mech_in((m), (set), sizeof(set) / sizeof((set)[0]))

static const CK_MECHANISM_TYPE ecdsa_hashed[] = {
    CKM_ECDSA_SHA1, CKM_ECDSA_SHA224, CKM_ECDSA_SHA256, CKM_ECDSA_SHA384,
    CKM_ECDSA_SHA512};
static const CK_MECHANISM_TYPE ecdsa_emulated[] = {
    CKM_ECDSA_SHA256, CKM_ECDSA_SHA384, CKM_ECDSA_SHA512};
static const CK_MECHANISM_TYPE rsa_raw[] = {CKM_RSA_PKCS, CKM_RSA_X_509,
					    CKM_RSA_PKCS_PSS};
static const CK_MECHANISM_TYPE rsa_hashed[] = {
    CKM_MD5_RSA_PKCS,	     CKM_SHA1_RSA_PKCS,	      CKM_SHA224_RSA_PKCS,
    CKM_SHA256_RSA_PKCS,     CKM_SHA384_RSA_PKCS,     CKM_SHA512_RSA_PKCS,
    CKM_SHA1_RSA_PKCS_PSS,   CKM_SHA224_RSA_PKCS_PSS, CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS};

static int mech_hidden(CK_MECHANISM_TYPE m)
{
	if (g_conf.ecdsa == RAW_ONLY && MECH_IN(m, ecdsa_hashed))
		return 1;
	if (g_conf.ecdsa == HASHED_ONLY && m == CKM_ECDSA)
		return 1;
	if (g_conf.rsa == RAW_ONLY && MECH_IN(m, rsa_hashed))
		return 1;
	if (g_conf.rsa == HASHED_ONLY && MECH_IN(m, rsa_raw))
		return 1;
	return 0;
}

/* The digest of an ECDSA mechanism emulated over raw CKM_ECDSA, or NULL. */
static const EVP_MD *mech_emulated(CK_MECHANISM_TYPE m)
{
	size_t i;

	if (g_conf.ecdsa != HASHED_ONLY)
		return NULL;
	for (i = 0; i < sizeof(ecdsa_emulated) / sizeof(ecdsa_emulated[0]); i++)
		if (ecdsa_emulated[i] == m)
			return g_sha[i];
	return NULL;
}

/* --- sessions -------------------------------------------------------- */

static void op_clear(struct op *op)
{
	EVP_MD_CTX_free(op->md);
	op->md = NULL;
}

static void session_free(struct session *s, int close_wrapped)
{
	if (close_wrapped)
		(void)g_w->C_CloseSession(s->wrapped);
	op_clear(&s->sign);
	op_clear(&s->verify);
	free(s);
}

/* Under g_lock: take s out of the table. */
static void unlink_session(struct session *s)
{
	struct session **p;

	for (p = &g_sessions; *p != NULL; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			g_open--;
			break;
		}
	}
	s->next = NULL;
	s->gone = 1;
}

/* Under g_lock: is s idle past session_idle_ms? */
static int idle_expired(const struct session *s, uint64_t now)
{
	return g_conf.session_idle_ms != 0 && s->refs == 0 &&
	       now - s->last_used_ms >= g_conf.session_idle_ms;
}

static void expire(struct session *list)
{
	struct session *next;

	for (; list != NULL; list = next) {
		next = list->next;
		(void)note(CKR_SESSION_HANDLE_INVALID, "expire",
			   "session=%lu fault=idle-expired",
			   (unsigned long)list->handle);
		session_free(list, 1);
	}
}

/* Close every idle session underneath. */
static void sweep_idle(void)
{
	struct session *s, *next, *expired = NULL;
	uint64_t now = now_ms();

	lock();
	for (s = g_sessions; s != NULL; s = next) {
		next = s->next;
		if (idle_expired(s, now)) {
			unlink_session(s);
			s->next = expired;
			expired = s;
		}
	}
	unlock();
	expire(expired);
}

/* Take a reference on session h for one call. */
static CK_RV enter(CK_SESSION_HANDLE h, struct session **out)
{
	struct session *s, *expired = NULL;
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;

	lock();
	if (!g_initialized) {
		unlock();
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	for (s = g_sessions; s != NULL && s->handle != h; s = s->next)
		;
	if (s != NULL && idle_expired(s, now_ms())) {
		unlink_session(s);
		expired = s;
	} else if (s != NULL && g_conf.one_operation && s->refs > 0) {
		rv = CKR_OPERATION_ACTIVE;
	} else if (s != NULL) {
		s->refs++;
		*out = s;
		rv = CKR_OK;
	}
	unlock();
	expire(expired);
	if (rv == CKR_OPERATION_ACTIVE)
		(void)note(rv, "enter", "session=%lu fault=operation-active",
			   (unsigned long)h);
	return rv;
}

static void leave(struct session *s)
{
	int last;

	lock();
	s->refs--;
	s->last_used_ms = now_ms();
	last = s->gone && s->refs == 0;
	unlock();
	if (last)
		session_free(s, 1);
}

/* remove_at_sign and the like: every session invalid, its calls in
 * progress returning rv; the ones in use are closed by the last call to
 * leave them. */
static void remove_device(CK_RV rv)
{
	struct session *s, *next, *idle = NULL;

	lock();
	for (s = g_sessions; s != NULL; s = next) {
		next = s->next;
		unlink_session(s);
		s->removed = rv;
		if (s->refs == 0) {
			s->next = idle;
			idle = s;
		}
	}
	unlock();
	for (; idle != NULL; idle = next) {
		next = idle->next;
		session_free(idle, 1);
	}
}

/* Is s logged in (user or SO) in the wrapped module? */
static int logged_in(const struct session *s)
{
	CK_SESSION_INFO info;

	if (g_w->C_GetSessionInfo(s->wrapped, &info) != CKR_OK)
		return 0;
	return info.state == CKS_RO_USER_FUNCTIONS ||
	       info.state == CKS_RW_USER_FUNCTIONS ||
	       info.state == CKS_RW_SO_FUNCTIONS;
}

static int is_private_key(const struct session *s, CK_OBJECT_HANDLE obj)
{
	CK_OBJECT_CLASS cls = 0;
	CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof(cls)};

	return g_w->C_GetAttributeValue(s->wrapped, obj, &a, 1) == CKR_OK &&
	       cls == CKO_PRIVATE_KEY;
}

/* one_operation: an operation under way on s (under a reference). */
static int op_busy(const struct session *s)
{
	return g_conf.one_operation &&
	       (s->signing || s->verifying || s->finding);
}

#define BUSY_FAULT " fault=operation-active"

/* --- plain forwarding ------------------------------------------------ */

#define FORWARD(name, ...)                                                     \
	do {                                                                   \
		if (!initialized())                                            \
			return CKR_CRYPTOKI_NOT_INITIALIZED;                   \
		return logged(g_w->C_##name(__VA_ARGS__), "C_" #name);         \
	} while (0)

#define FORWARD_SESSION(name, ...)                                             \
	do {                                                                   \
		struct session *s_;                                            \
		CK_RV rv_ = enter(hSession, &s_);                              \
		if (rv_ == CKR_OK) {                                           \
			rv_ = g_w->C_##name(s_->wrapped, __VA_ARGS__);         \
			leave(s_);                                             \
		}                                                              \
		return logged(rv_, "C_" #name);                                \
	} while (0)

#define FORWARD_SESSION0(name)                                                 \
	do {                                                                   \
		struct session *s_;                                            \
		CK_RV rv_ = enter(hSession, &s_);                              \
		if (rv_ == CKR_OK) {                                           \
			rv_ = g_w->C_##name(s_->wrapped);                      \
			leave(s_);                                             \
		}                                                              \
		return logged(rv_, "C_" #name);                                \
	} while (0)

/* A C_*Init taking a mechanism, refused when the mechanism is hidden. */
#define FORWARD_INIT(name, mech, key)                                          \
	do {                                                                   \
		struct session *s_;                                            \
		char mb_[24];                                                  \
		const char *f_ = "";                                           \
		CK_RV rv_ = enter(hSession, &s_);                              \
		if (rv_ == CKR_OK) {                                           \
			if (op_busy(s_)) {                                     \
				rv_ = CKR_OPERATION_ACTIVE;                    \
				f_ = BUSY_FAULT;                               \
			} else if ((mech) != NULL &&                           \
				   mech_hidden((mech)->mechanism)) {           \
				rv_ = CKR_MECHANISM_INVALID;                   \
			} else {                                               \
				rv_ = g_w->C_##name(s_->wrapped, mech, key);   \
			}                                                      \
			leave(s_);                                             \
		}                                                              \
		return note(rv_, "C_" #name, "mech=%s%s",                      \
			    (mech) != NULL                                     \
				? P11_MECH_NAME((mech)->mechanism, mb_)        \
				: "null",                                      \
			    f_);                                               \
	} while (0)

/* Whole wrappers for the calls of one shape. */
#define FORWARD_IN_OUT(name)                                                   \
	static CK_RV fp_##name(CK_SESSION_HANDLE hSession, CK_BYTE_PTR in,     \
			       CK_ULONG inlen, CK_BYTE_PTR out,                \
			       CK_ULONG_PTR outlen)                            \
	{                                                                      \
		FORWARD_SESSION(name, in, inlen, out, outlen);                 \
	}
#define FORWARD_OUT(name)                                                      \
	static CK_RV fp_##name(CK_SESSION_HANDLE hSession, CK_BYTE_PTR out,    \
			       CK_ULONG_PTR outlen)                            \
	{                                                                      \
		FORWARD_SESSION(name, out, outlen);                            \
	}
#define FORWARD_KEY_INIT(name)                                                 \
	static CK_RV fp_##name(CK_SESSION_HANDLE hSession,                     \
			       CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)    \
	{                                                                      \
		FORWARD_INIT(name, mech, key);                                 \
	}

FORWARD_IN_OUT(Encrypt)
FORWARD_IN_OUT(EncryptUpdate)
FORWARD_IN_OUT(Decrypt)
FORWARD_IN_OUT(DecryptUpdate)
FORWARD_IN_OUT(Digest)
FORWARD_IN_OUT(SignRecover)
FORWARD_IN_OUT(VerifyRecover)
FORWARD_IN_OUT(DigestEncryptUpdate)
FORWARD_IN_OUT(DecryptDigestUpdate)
FORWARD_IN_OUT(SignEncryptUpdate)
FORWARD_IN_OUT(DecryptVerifyUpdate)
FORWARD_OUT(EncryptFinal)
FORWARD_OUT(DecryptFinal)
FORWARD_OUT(DigestFinal)
FORWARD_KEY_INIT(EncryptInit)
FORWARD_KEY_INIT(DecryptInit)
FORWARD_KEY_INIT(SignRecoverInit)
FORWARD_KEY_INIT(VerifyRecoverInit)

static CK_RV fp_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list,
			    CK_ULONG_PTR count)
{
	int hidden;

	lock();
	hidden = g_inits <= g_conf.hide_slots_inits;
	unlock();
	if (hidden && initialized() && count != NULL) {
		*count = 0;
		return note(CKR_OK, "C_GetSlotList", "fault=slots-hidden");
	}
	FORWARD(GetSlotList, present, list, count);
}

static CK_RV fp_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	FORWARD(GetSlotInfo, slot, info);
}

static CK_RV fp_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot,
				 CK_VOID_PTR reserved)
{
	FORWARD(WaitForSlotEvent, flags, slot, reserved);
}

static CK_RV fp_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG len,
			  CK_UTF8CHAR_PTR label)
{
	FORWARD(InitToken, slot, pin, len, label);
}

static CK_RV fp_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pin,
			CK_ULONG len)
{
	FORWARD_SESSION(InitPIN, pin, len);
}

static CK_RV fp_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR old,
		       CK_ULONG oldlen, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	FORWARD_SESSION(SetPIN, old, oldlen, pin, len);
}

static CK_RV fp_GetSessionInfo(CK_SESSION_HANDLE hSession,
			       CK_SESSION_INFO_PTR info)
{
	FORWARD_SESSION(GetSessionInfo, info);
}

static CK_RV fp_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR state,
				  CK_ULONG_PTR len)
{
	FORWARD_SESSION(GetOperationState, state, len);
}

static CK_RV fp_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR state,
				  CK_ULONG len, CK_OBJECT_HANDLE enc,
				  CK_OBJECT_HANDLE auth)
{
	FORWARD_SESSION(SetOperationState, state, len, enc, auth);
}

static CK_RV fp_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR tmpl,
			     CK_ULONG n, CK_OBJECT_HANDLE_PTR obj)
{
	FORWARD_SESSION(CreateObject, tmpl, n, obj);
}

static CK_RV fp_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE obj,
			   CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			   CK_OBJECT_HANDLE_PTR copy)
{
	FORWARD_SESSION(CopyObject, obj, tmpl, n, copy);
}

static CK_RV fp_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE obj)
{
	FORWARD_SESSION(DestroyObject, obj);
}

static CK_RV fp_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE obj,
			      CK_ULONG_PTR size)
{
	FORWARD_SESSION(GetObjectSize, obj, size);
}

static CK_RV fp_SetAttributeValue(CK_SESSION_HANDLE hSession,
				  CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl,
				  CK_ULONG n)
{
	FORWARD_SESSION(SetAttributeValue, obj, tmpl, n);
}

static CK_RV fp_FindObjectsInit(CK_SESSION_HANDLE hSession,
				CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, "C_FindObjectsInit");
	if (op_busy(s)) {
		leave(s);
		return note(CKR_OPERATION_ACTIVE, "C_FindObjectsInit", "%s",
			    BUSY_FAULT + 1);
	}
	rv = g_w->C_FindObjectsInit(s->wrapped, tmpl, n);
	if (rv == CKR_OK)
		s->finding = 1;
	leave(s);
	return logged(rv, "C_FindObjectsInit");
}

static CK_RV fp_FindObjects(CK_SESSION_HANDLE hSession,
			    CK_OBJECT_HANDLE_PTR obj, CK_ULONG max,
			    CK_ULONG_PTR count)
{
	FORWARD_SESSION(FindObjects, obj, max, count);
}

static CK_RV fp_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv == CKR_OK) {
		rv = g_w->C_FindObjectsFinal(s->wrapped);
		s->finding = 0;
		leave(s);
	}
	return logged(rv, "C_FindObjectsFinal");
}

static CK_RV fp_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech)
{
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, "C_DigestInit");
	if (op_busy(s)) {
		leave(s);
		return note(CKR_OPERATION_ACTIVE, "C_DigestInit", "%s",
			    BUSY_FAULT + 1);
	}
	rv = g_w->C_DigestInit(s->wrapped, mech);
	leave(s);
	return logged(rv, "C_DigestInit");
}

static CK_RV fp_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR in,
			     CK_ULONG inlen)
{
	FORWARD_SESSION(DigestUpdate, in, inlen);
}

static CK_RV fp_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE key)
{
	FORWARD_SESSION(DigestKey, key);
}

static CK_RV fp_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech,
			    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			    CK_OBJECT_HANDLE_PTR key)
{
	FORWARD_SESSION(GenerateKey, mech, tmpl, n, key);
}

static CK_RV fp_GenerateKeyPair(CK_SESSION_HANDLE hSession,
				CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pub,
				CK_ULONG npub, CK_ATTRIBUTE_PTR priv,
				CK_ULONG npriv, CK_OBJECT_HANDLE_PTR hpub,
				CK_OBJECT_HANDLE_PTR hpriv)
{
	FORWARD_SESSION(GenerateKeyPair, mech, pub, npub, priv, npriv, hpub,
			hpriv);
}

static CK_RV fp_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech,
			CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
			CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	FORWARD_SESSION(WrapKey, mech, wrapping, key, out, outlen);
}

static CK_RV fp_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech,
			  CK_OBJECT_HANDLE unwrapping, CK_BYTE_PTR in,
			  CK_ULONG inlen, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			  CK_OBJECT_HANDLE_PTR key)
{
	FORWARD_SESSION(UnwrapKey, mech, unwrapping, in, inlen, tmpl, n, key);
}

static CK_RV fp_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech,
			  CK_OBJECT_HANDLE base, CK_ATTRIBUTE_PTR tmpl,
			  CK_ULONG n, CK_OBJECT_HANDLE_PTR key)
{
	FORWARD_SESSION(DeriveKey, mech, base, tmpl, n, key);
}

static CK_RV fp_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR seed,
			   CK_ULONG len)
{
	FORWARD_SESSION(SeedRandom, seed, len);
}

static CK_RV fp_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	FORWARD_SESSION0(GetFunctionStatus);
}

static CK_RV fp_CancelFunction(CK_SESSION_HANDLE hSession)
{
	FORWARD_SESSION0(CancelFunction);
}

/* --- library, slots and tokens --------------------------------------- */

static CK_RV open_log(const struct conf *c)
{
	if (c->log[0] == '\0')
		return CKR_OK;
	g_log_fd =
	    open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (g_log_fd < 0) {
		fprintf(stderr, "faultp11: cannot open log %s: %s\n", c->log,
			strerror(errno));
		return CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

static void digests_free(void)
{
	size_t i;

	for (i = 0; i < sizeof(g_sha) / sizeof(g_sha[0]); i++) {
		EVP_MD_free(g_sha[i]);
		g_sha[i] = NULL;
	}
	OSSL_LIB_CTX_free(g_libctx);
	g_libctx = NULL;
}

/* Digests from a library context of our own: the caller's default one may
 * hold only its own providers. */
static CK_RV digests_fetch(void)
{
	static const char *const names[] = {"SHA256", "SHA384", "SHA512"};
	size_t i;

	g_libctx = OSSL_LIB_CTX_new();
	if (g_libctx == NULL)
		return CKR_HOST_MEMORY;
	for (i = 0; i < sizeof(g_sha) / sizeof(g_sha[0]); i++) {
		g_sha[i] = EVP_MD_fetch(g_libctx, names[i], NULL);
		if (g_sha[i] == NULL)
			return CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

static CK_RV load_module(const char *path, CK_FUNCTION_LIST **out)
{
	CK_C_GetFunctionList get;
	void *dl;

	/* Never closed: the sanitizers name leaks by the module's symbols. */
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "faultp11: cannot load %s: %s\n", path,
			dlerror());
		return CKR_GENERAL_ERROR;
	}
	get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	if (get == NULL || get(out) != CKR_OK || *out == NULL) {
		fprintf(stderr, "faultp11: %s has no C_GetFunctionList\n",
			path);
		return CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

/* In a child after fork(), C_Initialize starts again (PKCS#11 2.40 6.7.7):
 * the parent's sessions are dropped without a call to the wrapped module,
 * which is initialised again (or says it already is). */
static void forget_parent(void)
{
	struct session *s = g_sessions, *next;

	for (; s != NULL; s = next) {
		next = s->next;
		session_free(s, 0);
	}
	g_sessions = NULL;
	g_open = 0;
	g_in_flight = 0;
	digests_free();
	if (g_log_fd >= 0)
		close(g_log_fd);
	g_log_fd = -1;
}

static CK_RV fp_Initialize(CK_VOID_PTR args)
{
	struct conf c;
	CK_FUNCTION_LIST *w = NULL;
	CK_RV rv;
	int ours = 0, child = 0;

	(void)pthread_once(&g_atfork_once, atfork_register);
	lock();
	if (g_initialized && g_pid != getpid()) {
		g_initialized = 0;
		child = 1;
	}
	if (g_initialized || g_initializing) {
		unlock();
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	g_initializing = 1;
	unlock();
	if (child)
		forget_parent();
	rv = conf_read(&c) == 0 ? CKR_OK : CKR_GENERAL_ERROR;
	if (rv == CKR_OK)
		rv = load_module(c.module, &w);
	if (rv == CKR_OK)
		rv = w->C_Initialize(args);
	if (rv == CKR_OK)
		ours = 1;
	/* SoftHSM 2.6 carries on in a child with the state it inherited. */
	if (child && rv == CKR_CRYPTOKI_ALREADY_INITIALIZED)
		rv = CKR_OK;
	if (rv == CKR_OK)
		rv = digests_fetch();
	if (rv == CKR_OK)
		rv = open_log(&c);
	if (rv != CKR_OK) {
		digests_free();
		if (ours)
			(void)w->C_Finalize(NULL);
	}
	lock();
	if (rv == CKR_OK) {
		g_conf = c;
		g_w = w;
		g_pid = getpid();
		g_initialized = 1;
		g_inits++;
	}
	g_initializing = 0;
	unlock();
	OPENSSL_cleanse(&c, sizeof(c));
	return logged(rv, "C_Initialize");
}

static CK_RV fp_Finalize(CK_VOID_PTR reserved)
{
	struct session *s, *next;
	CK_RV rv;

	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	lock();
	if (!g_initialized) {
		unlock();
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	g_initialized = 0;
	s = g_sessions;
	g_sessions = NULL;
	g_open = 0;
	unlock();
	if (g_conf.finalize_crash) {
		(void)note(CKR_OK, "C_Finalize", "fault=finalize-crash");
		abort();
	}
	/* The wrapped C_Finalize closes its sessions. */
	for (; s != NULL; s = next) {
		next = s->next;
		session_free(s, 0);
	}
	rv = g_w->C_Finalize(NULL);
	digests_free();
	OPENSSL_cleanse(g_login_pin, sizeof(g_login_pin));
	g_login_pin_len = 0;
	if (rv == CKR_OK && g_conf.finalize_fail)
		rv = note(CKR_GENERAL_ERROR, "C_Finalize",
			  "fault=finalize-fail");
	else
		rv = logged(rv, "C_Finalize");
	if (g_log_fd >= 0)
		close(g_log_fd);
	g_log_fd = -1;
	OPENSSL_cleanse(&g_conf, sizeof(g_conf));
	return rv;
}

static CK_RV fp_GetInfo(CK_INFO_PTR info)
{
	static const char desc[] = "faultp11";
	CK_RV rv;

	if (!initialized())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	rv = g_w->C_GetInfo(info);
	if (rv == CKR_OK) {
		memset(info->libraryDescription, ' ',
		       sizeof(info->libraryDescription));
		memcpy(info->libraryDescription, desc, sizeof(desc) - 1);
	}
	return logged(rv, "C_GetInfo");
}

/* The PIN state reported: the configured one, or locked by a wrong PIN. */
static int pin_state(void)
{
	int st;

	lock();
	st = g_pin_locked ? PIN_LOCKED : g_conf.pin_flags;
	unlock();
	return st;
}

static CK_RV fp_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	static const CK_FLAGS pin_bits[] = {0, CKF_USER_PIN_COUNT_LOW,
					    CKF_USER_PIN_FINAL_TRY,
					    CKF_USER_PIN_LOCKED};
	int st;
	CK_RV rv;

	if (!initialized())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	sweep_idle();
	lock();
	st = g_sessions_opened > 0 && g_info_errors < g_conf.token_info_errors;
	g_info_errors += (unsigned long)st;
	unlock();
	if (st)
		return note(CKR_GENERAL_ERROR, "C_GetTokenInfo",
			    "fault=token-busy");
	rv = g_w->C_GetTokenInfo(slot, info);
	if (rv != CKR_OK)
		return logged(rv, "C_GetTokenInfo");
	st = pin_state();
	if (st != PIN_NONE) {
		info->flags &= ~(CKF_USER_PIN_COUNT_LOW |
				 CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
		info->flags |= pin_bits[st];
	}
	if (g_conf.protected_auth)
		info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	if (g_conf.max_sessions != 0) {
		info->ulMaxSessionCount = g_conf.max_sessions;
		info->ulMaxRwSessionCount = g_conf.max_sessions;
		lock();
		info->ulSessionCount = g_open;
		unlock();
	}
	return logged(rv, "C_GetTokenInfo");
}

static CK_RV fp_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
				 CK_ULONG_PTR count)
{
	CK_MECHANISM_TYPE *all = NULL, *keep = NULL;
	CK_ULONG n = 0, i, m = 0;
	int raw_ecdsa = 0;
	size_t k;
	CK_RV rv;

	if (!initialized())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (count == NULL)
		return logged(CKR_ARGUMENTS_BAD, "C_GetMechanismList");
	rv = g_w->C_GetMechanismList(slot, NULL, &n);
	if (rv != CKR_OK)
		goto out;
	all = calloc(n + 1, sizeof(*all));
	keep = calloc(n + 1 + 3, sizeof(*keep));
	if (all == NULL || keep == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = g_w->C_GetMechanismList(slot, all, &n);
	if (rv != CKR_OK)
		goto out;
	for (i = 0; i < n; i++) {
		raw_ecdsa |= all[i] == CKM_ECDSA;
		/* Emulated ones are added once, below. */
		if (!mech_hidden(all[i]) && mech_emulated(all[i]) == NULL)
			keep[m++] = all[i];
	}
	for (k = 0; raw_ecdsa && g_conf.ecdsa == HASHED_ONLY && k < 3; k++)
		keep[m++] = ecdsa_emulated[k];
	if (list != NULL && *count < m)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (list != NULL)
		memcpy(list, keep, m * sizeof(*keep));
	*count = m;
out:
	free(all);
	free(keep);
	return logged(rv, "C_GetMechanismList");
}

static CK_RV fp_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
				 CK_MECHANISM_INFO_PTR info)
{
	char mb[24];
	CK_RV rv;

	if (!initialized())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (mech_hidden(type))
		rv = CKR_MECHANISM_INVALID;
	else if (mech_emulated(type) != NULL)
		rv = g_w->C_GetMechanismInfo(slot, CKM_ECDSA, info);
	else
		rv = g_w->C_GetMechanismInfo(slot, type, info);
	return note(rv, "C_GetMechanismInfo", "mech=%s",
		    P11_MECH_NAME(type, mb));
}

/* --- sessions and login ---------------------------------------------- */

static CK_RV fp_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app,
			    CK_NOTIFY notify, CK_SESSION_HANDLE_PTR out)
{
	struct session *s = NULL;
	unsigned long open = 0;
	CK_RV rv;

	if (!initialized())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (out == NULL)
		return logged(CKR_ARGUMENTS_BAD, "C_OpenSession");
	sweep_idle();
	lock();
	if (g_conf.max_sessions != 0 &&
	    g_open + g_opening >= g_conf.max_sessions) {
		unlock();
		return note(CKR_SESSION_COUNT, "C_OpenSession",
			    "fault=session-count");
	}
	g_opening++;
	unlock();
	s = calloc(1, sizeof(*s));
	rv = s == NULL
		 ? CKR_HOST_MEMORY
		 : g_w->C_OpenSession(slot, flags, app, notify, &s->wrapped);
	lock();
	g_opening--;
	if (rv == CKR_OK) {
		s->handle = g_next_handle++;
		s->slot = slot;
		s->last_used_ms = now_ms();
		s->next = g_sessions;
		g_sessions = s;
		open = ++g_open;
		g_sessions_opened++;
		*out = s->handle;
	}
	unlock();
	if (rv != CKR_OK) {
		free(s);
		return logged(rv, "C_OpenSession");
	}
	return note(rv, "C_OpenSession", "session=%lu open=%lu",
		    (unsigned long)*out, open);
}

static CK_RV fp_CloseSession(CK_SESSION_HANDLE hSession)
{
	struct session *s;
	int ours = 0;
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;

	lock();
	if (!g_initialized) {
		unlock();
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	for (s = g_sessions; s != NULL && s->handle != hSession; s = s->next)
		;
	if (s != NULL) {
		unlink_session(s);
		ours = s->refs == 0;
		rv = CKR_OK;
	}
	unlock();
	if (ours) {
		rv = g_w->C_CloseSession(s->wrapped);
		session_free(s, 0);
	}
	return logged(rv, "C_CloseSession");
}

static CK_RV fp_CloseAllSessions(CK_SLOT_ID slot)
{
	struct session *s, *next, *idle = NULL;
	int in_use = 0;

	if (!initialized())
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	lock();
	for (s = g_sessions; s != NULL; s = next) {
		next = s->next;
		if (s->slot != slot)
			continue;
		unlink_session(s);
		if (s->refs == 0) {
			s->next = idle;
			idle = s;
		} else {
			in_use = 1;
		}
	}
	unlock();
	for (; idle != NULL; idle = next) {
		next = idle->next;
		session_free(idle, 1);
	}
	/* Sessions in use are closed by their last call, not under it. */
	if (in_use)
		return logged(CKR_OK, "C_CloseAllSessions");
	return logged(g_w->C_CloseAllSessions(slot), "C_CloseAllSessions");
}

/* A context-specific login, checked here (always_authenticate=1). */
static CK_RV context_login(struct session *s, const unsigned char *pin,
			   size_t len)
{
	const unsigned char *want = g_conf.pin;
	size_t want_len = g_conf.pin_len;
	CK_RV rv = CKR_OK;

	if (!s->need_context_login)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (pin == NULL)
		return CKR_ARGUMENTS_BAD;
	lock();
	if (want_len == 0) {
		want = g_login_pin;
		want_len = g_login_pin_len;
	}
	if (want_len == 0)
		rv = CKR_USER_NOT_LOGGED_IN;
	else if (len != want_len || CRYPTO_memcmp(pin, want, len) != 0)
		rv = CKR_PIN_INCORRECT;
	unlock();
	if (rv == CKR_OK)
		s->context_logged_in = 1;
	return rv;
}

static void remember_pin(const unsigned char *pin, size_t len)
{
	lock();
	if (len <= sizeof(g_login_pin)) {
		memcpy(g_login_pin, pin, len);
		g_login_pin_len = len;
	}
	unlock();
}

static unsigned long wrong_pin(void)
{
	unsigned long n;

	lock();
	n = ++g_wrong_pins;
	if (g_conf.pin_flags == PIN_FINAL_TRY)
		g_pin_locked = 1;
	unlock();
	return n;
}

static const char *user_name(CK_USER_TYPE u)
{
	return u == CKU_USER		   ? "CKU_USER"
	       : u == CKU_SO		   ? "CKU_SO"
	       : u == CKU_CONTEXT_SPECIFIC ? "CKU_CONTEXT_SPECIFIC"
					   : "other";
}

static CK_RV fp_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE user,
		      CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	struct session *s;
	const char *how = pin != NULL ? "given" : "null";
	const char *fault = "";
	int user_pin = user == CKU_USER || user == CKU_CONTEXT_SPECIFIC;
	unsigned long wrong;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, "C_Login");
	if (pin == NULL && user_pin && g_conf.protected_auth) {
		pin = g_conf.pin;
		len = g_conf.pin_len;
		how = "config";
	}
	if (user_pin && pin_state() == PIN_LOCKED) {
		rv = CKR_PIN_LOCKED;
		fault = " fault=pin-locked";
	} else if (user == CKU_CONTEXT_SPECIFIC && g_conf.always_authenticate) {
		rv = context_login(s, pin, len);
	} else if (user == CKU_USER &&
		   g_conf.already_logged_in != RELOGIN_PASS && logged_in(s)) {
		rv = g_conf.already_logged_in == RELOGIN_REPORT
			 ? CKR_USER_ALREADY_LOGGED_IN
			 : CKR_OK;
		fault = " fault=already-logged-in";
	} else {
		rv = g_w->C_Login(s->wrapped, user, pin, len);
		if (rv == CKR_OK && user == CKU_USER && pin != NULL)
			remember_pin(pin, len);
	}
	leave(s);
	if (rv == CKR_PIN_INCORRECT && user_pin)
		wrong = wrong_pin();
	else {
		lock();
		wrong = g_wrong_pins;
		unlock();
	}
	return note(rv, "C_Login", "user=%s pin=%s wrong_pins=%lu%s",
		    user_name(user), how, wrong, fault);
}

static CK_RV fp_Logout(CK_SESSION_HANDLE hSession)
{
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv == CKR_OK) {
		rv = g_w->C_Logout(s->wrapped);
		leave(s);
	}
	if (rv == CKR_OK) {
		lock();
		OPENSSL_cleanse(g_login_pin, sizeof(g_login_pin));
		g_login_pin_len = 0;
		unlock();
	}
	return logged(rv, "C_Logout");
}

/* data_gone_at_read: does tmpl read CKA_VALUE of a data object? */
static int data_value_read(struct session *s, CK_OBJECT_HANDLE obj,
			   const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
	CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof(cls)};
	CK_ULONG i;

	for (i = 0; tmpl != NULL && i < n; i++)
		if (tmpl[i].type == CKA_VALUE)
			return g_w->C_GetAttributeValue(s->wrapped, obj, &a,
							1) == CKR_OK &&
			       cls == CKO_DATA;
	return 0;
}

static CK_RV fp_GetAttributeValue(CK_SESSION_HANDLE hSession,
				  CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR tmpl,
				  CK_ULONG n)
{
	struct session *s;
	CK_ULONG i;
	int private_key = -1;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, "C_GetAttributeValue");
	if (g_conf.data_gone_at_read != 0 && data_value_read(s, obj, tmpl, n)) {
		unsigned long k;

		lock();
		k = ++g_data_reads;
		unlock();
		if (k == g_conf.data_gone_at_read) {
			leave(s);
			return note(CKR_OBJECT_HANDLE_INVALID,
				    "C_GetAttributeValue",
				    "read=%lu fault=data-gone", k);
		}
	}
	rv = g_w->C_GetAttributeValue(s->wrapped, obj, tmpl, n);
	for (i = 0; g_conf.always_authenticate && tmpl != NULL && i < n; i++) {
		if (tmpl[i].type != CKA_ALWAYS_AUTHENTICATE)
			continue;
		if (private_key < 0)
			private_key = is_private_key(s, obj);
		if (!private_key)
			break;
		if (tmpl[i].pValue == NULL)
			tmpl[i].ulValueLen = sizeof(CK_BBOOL);
		else if (tmpl[i].ulValueLen >= sizeof(CK_BBOOL)) {
			*(CK_BBOOL *)tmpl[i].pValue = CK_TRUE;
			tmpl[i].ulValueLen = sizeof(CK_BBOOL);
		}
	}
	leave(s);
	return logged(rv, "C_GetAttributeValue");
}

static CK_RV fp_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR out,
			       CK_ULONG len)
{
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, "C_GenerateRandom");
	if (g_conf.random_needs_login && !logged_in(s)) {
		leave(s);
		return note(CKR_USER_NOT_LOGGED_IN, "C_GenerateRandom",
			    "fault=not-logged-in");
	}
	rv = g_w->C_GenerateRandom(s->wrapped, out, len);
	leave(s);
	return logged(rv, "C_GenerateRandom");
}

/* --- signing and verifying ------------------------------------------- */

/* An operation ends unless it was a length query or the buffer was short
 * (PKCS#11 2.40 5.2). */
static int op_ends(CK_RV rv, const void *out)
{
	return !(rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL));
}

static CK_RV op_start(struct op *op, const EVP_MD *md)
{
	op->md = EVP_MD_CTX_new();
	if (op->md == NULL || EVP_DigestInit_ex(op->md, md, NULL) != 1) {
		op_clear(op);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

/* The digest of what the operation hashed so far, leaving it open for a
 * second call after a length query. */
static CK_RV op_digest(const struct op *op, unsigned char *out, CK_ULONG *len)
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned int n = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (copy != NULL && EVP_MD_CTX_copy_ex(copy, op->md) == 1 &&
	    EVP_DigestFinal_ex(copy, out, &n) == 1)
		rv = CKR_OK;
	EVP_MD_CTX_free(copy);
	*len = n;
	return rv;
}

static void sign_done(struct session *s)
{
	op_clear(&s->sign);
	s->signing = 0;
	s->need_context_login = 0;
	s->context_logged_in = 0;
}

/* End the wrapped module's signing operation (a C_Sign with data it
 * discards: any result but CKR_BUFFER_TOO_SMALL ends it). */
static void sign_abandon(struct session *s)
{
	unsigned char data[32] = {0}, sig[4096];
	CK_ULONG len = sizeof(sig);

	(void)g_w->C_Sign(s->wrapped, data, sizeof(data), sig, &len);
	sign_done(s);
}

/* The fault the Kth signature meets (CKR_OK: none). */
static CK_RV sign_fault(unsigned long k)
{
	if (k == g_conf.remove_at_sign)
		return CKR_DEVICE_REMOVED;
	if (k == g_conf.token_absent_at_sign)
		return CKR_TOKEN_NOT_PRESENT;
	if (k == g_conf.session_closed_at_sign)
		return CKR_SESSION_CLOSED;
	return CKR_OK;
}

static const char *fault_name(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED	     ? " fault=device-removed"
	       : rv == CKR_TOKEN_NOT_PRESENT ? " fault=token-absent"
	       : rv == CKR_SESSION_CLOSED    ? " fault=session-closed"
					     : "";
}

/* Under a reference: s closed underneath (CKR_SESSION_CLOSED), at the
 * last call to leave it. */
static void close_underneath(struct session *s)
{
	lock();
	if (!s->gone)
		unlink_session(s);
	s->removed = CKR_SESSION_CLOSED;
	unlock();
}

/* Before a signature is produced: count it, inject the fault of the Kth,
 * sleep sign_latency_ms. *flying is set when the signature counts as in
 * flight (sign_land() must follow). */
static CK_RV sign_take_off(struct session *s, unsigned long *k,
			   unsigned long *in_flight, int *flying)
{
	CK_RV fault;

	lock();
	*k = ++g_signatures;
	fault = sign_fault(*k);
	if (fault == CKR_OK) {
		*in_flight = ++g_in_flight;
		*flying = 1;
	}
	unlock();
	if (fault == CKR_SESSION_CLOSED)
		close_underneath(s);
	else if (fault != CKR_OK)
		remove_device(fault);
	if (fault != CKR_OK)
		return fault;
	if (g_conf.sign_latency_ms != 0)
		sleep_ms(g_conf.sign_latency_ms);
	lock();
	fault = s->removed;
	unlock();
	return fault;
}

static void sign_land(int flying)
{
	if (!flying)
		return;
	lock();
	g_in_flight--;
	unlock();
}

static CK_RV fp_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech,
			 CK_OBJECT_HANDLE key)
{
	CK_MECHANISM raw = {CKM_ECDSA, NULL, 0};
	const EVP_MD *md = NULL;
	struct session *s;
	char mb[24];
	const char *fault = "";
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK || mech == NULL) {
		if (rv == CKR_OK)
			leave(s);
		return logged(rv == CKR_OK ? CKR_ARGUMENTS_BAD : rv,
			      "C_SignInit");
	}
	if (op_busy(s)) {
		rv = CKR_OPERATION_ACTIVE;
		fault = BUSY_FAULT;
	} else if (mech_hidden(mech->mechanism)) {
		rv = CKR_MECHANISM_INVALID;
		fault = " fault=mechanism-hidden";
	} else if ((md = mech_emulated(mech->mechanism)) != NULL) {
		rv = g_w->C_SignInit(s->wrapped, &raw, key);
		if (rv == CKR_OK && (rv = op_start(&s->sign, md)) != CKR_OK)
			sign_abandon(s);
	} else {
		rv = g_w->C_SignInit(s->wrapped, mech, key);
	}
	if (rv == CKR_OK) {
		s->signing = 1;
		s->need_context_login =
		    g_conf.always_authenticate && is_private_key(s, key);
		s->context_logged_in = 0;
	}
	leave(s);
	return note(rv, "C_SignInit", "mech=%s%s%s",
		    P11_MECH_NAME(mech->mechanism, mb),
		    md != NULL ? " via=CKM_ECDSA" : "", fault);
}

/* Under a reference: is a context-specific login missing? Ends the
 * operation if so. */
static int context_login_missing(struct session *s)
{
	if (!s->need_context_login || s->context_logged_in)
		return 0;
	sign_abandon(s);
	return 1;
}

/* The hashed operation's digest; a one-shot call hashes data alone. */
static CK_RV op_digest_of(struct op *op, int one_shot, const CK_BYTE *data,
			  CK_ULONG dlen, unsigned char *out, CK_ULONG *len)
{
	if (one_shot &&
	    (EVP_DigestInit_ex(op->md, EVP_MD_CTX_get0_md(op->md), NULL) != 1 ||
	     EVP_DigestUpdate(op->md, data, dlen) != 1))
		return CKR_GENERAL_ERROR;
	return op_digest(op, out, len);
}

/* C_Sign (one_shot) or C_SignFinal. */
static CK_RV sign_final(CK_SESSION_HANDLE hSession, const char *name,
			int one_shot, CK_BYTE_PTR data, CK_ULONG dlen,
			CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	unsigned char dg[EVP_MAX_MD_SIZE];
	CK_ULONG dglen = 0;
	unsigned long k = 0, in_flight = 0;
	int flying = 0, counted;
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, name);
	if (context_login_missing(s)) {
		leave(s);
		return note(CKR_USER_NOT_LOGGED_IN, name,
			    "fault=context-login-missing");
	}
	/* Only a signature to produce counts (not a length query, and not a
	 * call the wrapped module refuses for want of an operation). */
	counted = sig != NULL && s->signing;
	if (counted)
		rv = sign_take_off(s, &k, &in_flight, &flying);
	if (rv == CKR_OK && s->sign.md != NULL) {
		rv = op_digest_of(&s->sign, one_shot, data, dlen, dg, &dglen);
		if (rv == CKR_OK)
			rv = g_w->C_Sign(s->wrapped, dg, dglen, sig, siglen);
	} else if (rv == CKR_OK && one_shot) {
		rv = g_w->C_Sign(s->wrapped, data, dlen, sig, siglen);
	} else if (rv == CKR_OK) {
		rv = g_w->C_SignFinal(s->wrapped, sig, siglen);
	}
	sign_land(flying);
	if (op_ends(rv, sig))
		sign_done(s);
	leave(s);
	if (!counted)
		return logged(rv, name);
	return note(rv, name, "sig=%lu inflight=%lu%s", k, in_flight,
		    fault_name(rv));
}

static CK_RV fp_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR data,
		     CK_ULONG dlen, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	return sign_final(hSession, "C_Sign", 1, data, dlen, sig, siglen);
}

static CK_RV fp_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR sig,
			  CK_ULONG_PTR siglen)
{
	return sign_final(hSession, "C_SignFinal", 0, NULL, 0, sig, siglen);
}

static CK_RV fp_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR data,
			   CK_ULONG dlen)
{
	struct session *s;
	unsigned long k = 0;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, "C_SignUpdate");
	if (context_login_missing(s)) {
		leave(s);
		return note(CKR_USER_NOT_LOGGED_IN, "C_SignUpdate",
			    "fault=context-login-missing");
	}
	if (s->signing && g_conf.remove_at_update != 0) {
		lock();
		k = ++g_updates;
		unlock();
	}
	if (k != 0 && k == g_conf.remove_at_update) {
		remove_device(CKR_DEVICE_REMOVED);
		rv = CKR_DEVICE_REMOVED;
	} else if (s->sign.md != NULL)
		rv = EVP_DigestUpdate(s->sign.md, data, dlen) == 1
			 ? CKR_OK
			 : CKR_GENERAL_ERROR;
	else
		rv = g_w->C_SignUpdate(s->wrapped, data, dlen);
	if (rv != CKR_OK) {
		if (s->sign.md != NULL)
			sign_abandon(s);
		else
			sign_done(s);
	}
	leave(s);
	if (k == 0)
		return logged(rv, "C_SignUpdate");
	return note(rv, "C_SignUpdate", "update=%lu%s", k, fault_name(rv));
}

static CK_RV fp_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech,
			   CK_OBJECT_HANDLE key)
{
	CK_MECHANISM raw = {CKM_ECDSA, NULL, 0};
	const EVP_MD *md = NULL;
	struct session *s;
	char mb[24];
	const char *fault = "";
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK || mech == NULL) {
		if (rv == CKR_OK)
			leave(s);
		return logged(rv == CKR_OK ? CKR_ARGUMENTS_BAD : rv,
			      "C_VerifyInit");
	}
	if (op_busy(s)) {
		rv = CKR_OPERATION_ACTIVE;
		fault = BUSY_FAULT;
	} else if (mech_hidden(mech->mechanism)) {
		rv = CKR_MECHANISM_INVALID;
	} else if ((md = mech_emulated(mech->mechanism)) != NULL) {
		rv = g_w->C_VerifyInit(s->wrapped, &raw, key);
		if (rv == CKR_OK)
			rv = op_start(&s->verify, md);
	} else {
		rv = g_w->C_VerifyInit(s->wrapped, mech, key);
	}
	if (rv == CKR_OK)
		s->verifying = 1;
	leave(s);
	return note(rv, "C_VerifyInit", "mech=%s%s%s",
		    P11_MECH_NAME(mech->mechanism, mb),
		    md != NULL ? " via=CKM_ECDSA" : "", fault);
}

/* C_Verify (one_shot) or C_VerifyFinal. */
static CK_RV verify_final(CK_SESSION_HANDLE hSession, const char *name,
			  int one_shot, CK_BYTE_PTR data, CK_ULONG dlen,
			  CK_BYTE_PTR sig, CK_ULONG siglen)
{
	unsigned char dg[EVP_MAX_MD_SIZE];
	CK_ULONG dglen = 0;
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, name);
	if (s->verify.md != NULL) {
		rv = op_digest_of(&s->verify, one_shot, data, dlen, dg, &dglen);
		if (rv == CKR_OK)
			rv = g_w->C_Verify(s->wrapped, dg, dglen, sig, siglen);
	} else if (one_shot) {
		rv = g_w->C_Verify(s->wrapped, data, dlen, sig, siglen);
	} else {
		rv = g_w->C_VerifyFinal(s->wrapped, sig, siglen);
	}
	op_clear(&s->verify);
	s->verifying = 0;
	leave(s);
	return logged(rv, name);
}

static CK_RV fp_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR data,
		       CK_ULONG dlen, CK_BYTE_PTR sig, CK_ULONG siglen)
{
	return verify_final(hSession, "C_Verify", 1, data, dlen, sig, siglen);
}

static CK_RV fp_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR sig,
			    CK_ULONG siglen)
{
	return verify_final(hSession, "C_VerifyFinal", 0, NULL, 0, sig, siglen);
}

static CK_RV fp_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR data,
			     CK_ULONG dlen)
{
	struct session *s;
	CK_RV rv = enter(hSession, &s);

	if (rv != CKR_OK)
		return logged(rv, "C_VerifyUpdate");
	if (s->verify.md != NULL)
		rv = EVP_DigestUpdate(s->verify.md, data, dlen) == 1
			 ? CKR_OK
			 : CKR_GENERAL_ERROR;
	else
		rv = g_w->C_VerifyUpdate(s->wrapped, data, dlen);
	if (rv != CKR_OK) {
		op_clear(&s->verify);
		s->verifying = 0;
	}
	leave(s);
	return logged(rv, "C_VerifyUpdate");
}

/* --- the function list ----------------------------------------------- */

static CK_RV fp_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);

static CK_FUNCTION_LIST g_functions = {
    {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
    fp_Initialize,
    fp_Finalize,
    fp_GetInfo,
    fp_GetFunctionList,
    fp_GetSlotList,
    fp_GetSlotInfo,
    fp_GetTokenInfo,
    fp_GetMechanismList,
    fp_GetMechanismInfo,
    fp_InitToken,
    fp_InitPIN,
    fp_SetPIN,
    fp_OpenSession,
    fp_CloseSession,
    fp_CloseAllSessions,
    fp_GetSessionInfo,
    fp_GetOperationState,
    fp_SetOperationState,
    fp_Login,
    fp_Logout,
    fp_CreateObject,
    fp_CopyObject,
    fp_DestroyObject,
    fp_GetObjectSize,
    fp_GetAttributeValue,
    fp_SetAttributeValue,
    fp_FindObjectsInit,
    fp_FindObjects,
    fp_FindObjectsFinal,
    fp_EncryptInit,
    fp_Encrypt,
    fp_EncryptUpdate,
    fp_EncryptFinal,
    fp_DecryptInit,
    fp_Decrypt,
    fp_DecryptUpdate,
    fp_DecryptFinal,
    fp_DigestInit,
    fp_Digest,
    fp_DigestUpdate,
    fp_DigestKey,
    fp_DigestFinal,
    fp_SignInit,
    fp_Sign,
    fp_SignUpdate,
    fp_SignFinal,
    fp_SignRecoverInit,
    fp_SignRecover,
    fp_VerifyInit,
    fp_Verify,
    fp_VerifyUpdate,
    fp_VerifyFinal,
    fp_VerifyRecoverInit,
    fp_VerifyRecover,
    fp_DigestEncryptUpdate,
    fp_DecryptDigestUpdate,
    fp_SignEncryptUpdate,
    fp_DecryptVerifyUpdate,
    fp_GenerateKey,
    fp_GenerateKeyPair,
    fp_WrapKey,
    fp_UnwrapKey,
    fp_DeriveKey,
    fp_SeedRandom,
    fp_GenerateRandom,
    fp_GetFunctionStatus,
    fp_CancelFunction,
    fp_WaitForSlotEvent,
};

static CK_RV fp_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	*out = &g_functions;
	return CKR_OK;
}

FP_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	return fp_GetFunctionList(out);
}
