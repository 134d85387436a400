/* PKCS#11 modules through p11-kit, and the process-wide state of the token
 * layer: settings, the module cache, teardown, the private OpenSSL library
 * context used for public keys and hashing.
 */
#include "internal.h"

#include <dlfcn.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/provider.h>

#define MAX_MODULES 32

/* A module loaded by path (or by p11-kit name with arguments of our own):
 * unmanaged, so that C_Initialize gets our arguments. */
struct module {
	char *spec; /* as chosen: a path or a p11-kit module name */
	char *args; /* C_Initialize pReserved, NULL for none */
	CK_FUNCTION_LIST *fl;
	int initialised; /* our C_Initialize succeeded: C_Finalize at the end */
	struct module *next;
};

/* p11-kit's registry, loaded without initialising anything; a module is
 * initialised when it is chosen (by name, or all for a search). */
struct registered {
	CK_FUNCTION_LIST *fl;
	char *name;
	int state; /* 0 not tried, 1 initialised, -1 failed */
	char why[128];
};

/* g_lock guards modules, tokens and settings; g_ctx_lock the libctx. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct module *g_modules; /* loaded by path */
static CK_FUNCTION_LIST **g_reg_list;
static struct registered g_reg[MAX_MODULES];
static size_t g_reg_n;
static CK_FUNCTION_LIST *g_search[MAX_MODULES + 1];
static char *g_module;	    /* --module, provider pkcs11-module */
static char *g_module_args; /* --module-args, provider pkcs11-module-args */
static char *g_key_module;  /* recorded with the key (ca.json) */
static char *g_key_module_args;
static atomic_int g_allow_pin_value;
static int g_atexit_done;   /* handler registered */
static atomic_int g_forked; /* set in a child after fork() */
static int g_exiting;	    /* handler ran: no PKCS#11 any more */

static OSSL_LIB_CTX *g_libctx;
static OSSL_PROVIDER *g_default;
/* In-process users (the tools) that already run OpenSSL's default provider
 * hand their library context over; the provider in someone else's process
 * keeps a private one. */
static OSSL_LIB_CTX *g_shared;
static EVP_MD *g_md[3]; /* SHA-256, SHA-384, SHA-512 */
static int g_libctx_users;
static int g_libctx_release_pending;

void ca_p11_lock(void)
{
	pthread_mutex_lock(&g_lock);
}

void ca_p11_unlock(void)
{
	pthread_mutex_unlock(&g_lock);
}

/* Under g_lock: replace a setting ("" counts as unset). */
static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v != NULL && v[0] != '\0' ? strdup(v) : NULL;
}

void ca_p11_set_module(const char *module)
{
	ca_p11_lock();
	set_str(&g_module, module);
	ca_p11_unlock();
}

void ca_p11_set_module_args(const char *args)
{
	ca_p11_lock();
	set_str(&g_module_args, args);
	ca_p11_unlock();
}

void ca_p11_set_key_module(const char *module, const char *args)
{
	ca_p11_lock();
	set_str(&g_key_module, module);
	set_str(&g_key_module_args, args);
	ca_p11_unlock();
}

static const char *env(const char *name);

int ca_p11_module_explicit(void)
{
	int explicit;

	ca_p11_lock();
	explicit = g_module != NULL || env("HSMCA_MODULE") != NULL;
	ca_p11_unlock();
	return explicit;
}

void ca_p11_allow_pin_value(int allow)
{
	atomic_store(&g_allow_pin_value, allow != 0);
}

int ca_p11_pin_value_allowed(void)
{
	return atomic_load(&g_allow_pin_value);
}

/* Runs before SoftHSM's C++ destructors: registered after the first module
 * was initialised, and atexit handlers run in reverse order. OpenSSL's own
 * cleanup (provider teardown) runs after that and finds nothing to do. */
static void at_exit(void)
{
	ca_p11_shutdown();
	ca_p11_lock();
	g_exiting = 1;
	ca_p11_unlock();
}

/* In the child after fork(): nothing but a flag (PKCS#11 v2.40 5.1: the
 * child must call C_Initialize before using a module). */
static void at_fork_child(void)
{
	atomic_store(&g_forked, 1);
}

static void module_ready(void)
{
	if (g_atexit_done)
		return;
	if (atexit(at_exit) == 0)
		g_atexit_done = 1;
	(void)pthread_atfork(NULL, NULL, at_fork_child);
}

/* p11-kit's message repeats the path: keep only the reason. */
static const char *load_reason(const char *path)
{
	const char *msg = p11_kit_message();
	const char *p;
	size_t n = strlen(path);

	if (msg == NULL)
		return "unknown error";
	for (p = strstr(msg, path); p != NULL; p = strstr(p + 1, path)) {
		if (strncmp(p + n, ": ", 2) == 0)
			msg = p + n + 2;
	}
	return msg;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A module is a file when it looks like one; anything else is the name of
 * a module registered with p11-kit ("softhsm2", "p11-kit-trust"). */
static int is_path(const char *spec)
{
	return strchr(spec, '/') != NULL || strstr(spec, ".so") != NULL;
}

/* p11-kit-proxy.so is p11-kit's registry as one module; p11-kit refuses to
 * load it as a module, so it means: search the registry. */
static int is_proxy(const char *spec)
{
	const char *base = strrchr(spec, '/');
	char want[PATH_MAX], got[PATH_MAX];
	Dl_info info;

	base = base != NULL ? base + 1 : spec;
	if (strncmp(base, "p11-kit-proxy.so", 16) == 0)
		return 1;
	if (strchr(spec, '/') == NULL || realpath(spec, got) == NULL ||
	    dladdr((void *)p11_kit_module_load, &info) == 0 ||
	    info.dli_fname == NULL || realpath(info.dli_fname, want) == NULL)
		return 0;
	return strcmp(want, got) == 0;
}

static sigjmp_buf g_fin_jmp;

static void fin_crashed(int sig)
{
	siglongjmp(g_fin_jmp, sig);
}

/* C_Finalize, or p11-kit's for a registered module, at the end of the
 * work: a module that fails there or crashes (abort, a fault) does not
 * take the result with it; the crash is reported and the process goes on
 * to exit. Under g_lock, one call at a time. */
static void finalize_guarded(CK_FUNCTION_LIST *fl, int registered,
			     const char *name)
{
	static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE};
	struct sigaction sa, old[sizeof(sigs) / sizeof(sigs[0])];
	volatile int crashed = 0;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fin_crashed;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, &old[i]);
	if (sigsetjmp(g_fin_jmp, 1) == 0) {
		if (registered)
			(void)p11_kit_module_finalize(fl);
		else
			(void)fl->C_Finalize(NULL);
	} else {
		crashed = 1;
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	if (crashed)
		fprintf(stderr,
			"hsmca: warning: PKCS#11 module %s crashed in "
			"C_Finalize (ignored: the work was done)\n",
			name != NULL ? name : "?");
}

static void module_free(struct module *m)
{
	if (m == NULL)
		return;
	if (m->fl != NULL && m->initialised)
		finalize_guarded(m->fl, 0, m->spec);
	if (m->fl != NULL)
		p11_kit_module_release(m->fl);
	free(m->spec);
	free(m->args);
	free(m);
}

/* C_Initialize with the arguments in pReserved (where p11-kit passes a
 * module's x-init-reserved and NSS reads its library parameters). A
 * module someone else in this process initialised is used as it is. */
static CK_RV initialise(struct module *m)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	args.pReserved = m->args;
	rv = m->fl->C_Initialize(&args);
	m->initialised = rv == CKR_OK;
	return rv == CKR_CRYPTOKI_ALREADY_INITIALIZED ? CKR_OK : rv;
}

/* Under g_lock: the module file at path, loaded and initialised once with
 * args (spec is what names it in messages and ca.json). */
static int module_by_path(const char *spec, const char *path, const char *args,
			  CK_FUNCTION_LIST **out)
{
	struct module *m = NULL;
	CK_RV rv;
	int rc = CA_OK;

	for (m = g_modules; m != NULL; m = m->next) {
		if (strcmp(m->spec, spec) == 0 &&
		    (m->args == NULL
			 ? args == NULL
			 : args != NULL && strcmp(m->args, args) == 0)) {
			/* Finalized by ca_p11_restart and not started again. */
			if (!m->initialised && (rv = initialise(m)) != CKR_OK)
				return ca_err(CA_EIO,
					      "cannot load PKCS#11 module %s: "
					      "C_Initialize: %s",
					      spec, p11_kit_strerror(rv));
			*out = m->fl;
			return CA_OK;
		}
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->spec = strdup(spec)) == NULL ||
	    (args != NULL && (m->args = strdup(args)) == NULL)) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	p11_kit_be_quiet();
	m->fl = p11_kit_module_load(path, P11_KIT_MODULE_UNMANAGED);
	if (m->fl == NULL) {
		rc = ca_err(CA_EIO, "cannot load PKCS#11 module %s: %s", spec,
			    load_reason(path));
		goto out;
	}
	rv = initialise(m);
	if (rv != CKR_OK) {
		rc = ca_err(CA_EIO,
			    "cannot load PKCS#11 module %s: C_Initialize: %s%s",
			    spec, p11_kit_strerror(rv),
			    rv == CKR_ARGUMENTS_BAD && args == NULL
				? " (this module needs initialisation "
				  "arguments: --module-args or "
				  "HSMCA_MODULE_ARGS)"
				: "");
		goto out;
	}
	m->next = g_modules;
	g_modules = m;
	module_ready();
	*out = m->fl;
	m = NULL;
out:
	module_free(m);
	return rc;
}

/* Under g_lock: p11-kit's registry, loaded once, nothing initialised. */
static int registry(void)
{
	size_t i;

	if (g_reg_list != NULL)
		return CA_OK;
	p11_kit_be_quiet();
	g_reg_list = p11_kit_modules_load(NULL, 0);
	if (g_reg_list == NULL)
		return ca_err(CA_EIO,
			      "cannot load the PKCS#11 modules registered "
			      "with p11-kit: %s",
			      p11_kit_message() ? p11_kit_message()
						: "unknown");
	for (i = 0; g_reg_list[i] != NULL && i < MAX_MODULES; i++) {
		g_reg[i].fl = g_reg_list[i];
		g_reg[i].name = p11_kit_module_get_name(g_reg_list[i]);
	}
	g_reg_n = i;
	return CA_OK;
}

/* Under g_lock: initialise one registered module (with its p11-kit
 * configuration's x-init-reserved), once. */
static int registered_ready(struct registered *r)
{
	CK_RV rv;

	if (r->state == 0) {
		p11_kit_be_quiet();
		rv = p11_kit_module_initialize(r->fl);
		r->state = rv == CKR_OK ? 1 : -1;
		if (rv == CKR_OK)
			module_ready();
		else
			snprintf(r->why, sizeof(r->why), "%s",
				 p11_kit_strerror(rv));
	}
	return r->state;
}

/* Under g_lock: the registered module called name (only that one is
 * initialised). With arguments of our own it is loaded again by path. */
static int registered_named(const char *name, const char *args,
			    CK_FUNCTION_LIST **out)
{
	struct registered *r = NULL;
	char *path;
	size_t i;
	int rc;

	GUARD(registry());
	for (i = 0; i < g_reg_n && r == NULL; i++) {
		if (g_reg[i].name != NULL && strcmp(g_reg[i].name, name) == 0)
			r = &g_reg[i];
	}
	if (r == NULL) {
		rc = ca_err(CA_EIO,
			    "cannot load PKCS#11 module %s: no module of that "
			    "name is registered with p11-kit",
			    name);
		goto out;
	}
	if (args != NULL) {
		path = p11_kit_config_option(r->fl, "module");
		if (path == NULL) {
			rc = ca_err(CA_EIO,
				    "cannot load PKCS#11 module %s: its "
				    "p11-kit configuration names no file",
				    name);
			goto out;
		}
		rc = module_by_path(name, path, args, out);
		free(path);
		goto out;
	}
	if (registered_ready(r) < 0) {
		rc = ca_err(CA_EIO,
			    "cannot load PKCS#11 module %s: "
			    "C_Initialize: %s",
			    name, r->why);
		goto out;
	}
	*out = r->fl;
out:
	return rc;
}

/* Under g_lock: every registered module that starts. */
static void registered_all(void)
{
	size_t i, n = 0;

	for (i = 0; i < g_reg_n; i++) {
		if (registered_ready(&g_reg[i]) > 0)
			g_search[n++] = g_reg[i].fl;
	}
	g_search[n] = NULL;
}

/* Under g_lock, in a child after fork(): C_Initialize every module we
 * use again (a module someone else initialised answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED, taken as success), and have every
 * token open new sessions and log in again on next use. */
static void forked_locked(void)
{
	struct module *m;
	size_t i;
	int was;

	if (!atomic_load(&g_forked))
		return;
	atomic_store(&g_forked, 0);
	for (m = g_modules; m != NULL; m = m->next) {
		was = m->initialised;
		(void)initialise(m);
		m->initialised |= was;
	}
	for (i = 0; i < g_reg_n; i++) {
		if (g_reg[i].state > 0)
			(void)p11_kit_module_initialize(g_reg[i].fl);
	}
	ca_token_forked_all();
}

void ca_p11_check_fork(void)
{
	if (!atomic_load(&g_forked))
		return;
	ca_p11_lock();
	forked_locked();
	ca_p11_unlock();
}

/* Module choice, the first of (README "Tokens"): ca_p11_set_module()
 * (--module, the provider's pkcs11-module), $HSMCA_MODULE, the module
 * recorded with the key (ca.json), the URI's module-path or module-name;
 * else p11-kit's registry. Arguments: ca_p11_set_module_args(),
 * $HSMCA_MODULE_ARGS, those recorded with the key. Only the chosen module
 * is initialised. Called with g_lock held; the list stays valid until it
 * is released. */
int ca_p11_modules(P11KitUri *uri, CK_FUNCTION_LIST ***out)
{
	const char *spec = g_module, *args = g_module_args;
	int rc = CA_OK;

	if (g_exiting) {
		rc = ca_err(CA_EIO, "PKCS#11 is shut down (process exiting)");
		goto out;
	}
	forked_locked();
	if (spec == NULL)
		spec = env("HSMCA_MODULE");
	if (spec == NULL)
		spec = g_key_module;
	if (spec == NULL && uri != NULL)
		spec = p11_kit_uri_get_module_path(uri);
	if (spec == NULL && uri != NULL)
		spec = p11_kit_uri_get_module_name(uri);
	if (args == NULL)
		args = env("HSMCA_MODULE_ARGS");
	if (args == NULL)
		args = g_key_module_args;
	if (spec != NULL && spec[0] != '\0' && is_proxy(spec))
		spec = NULL;
	if (spec == NULL || spec[0] == '\0') {
		GUARD(registry());
		registered_all();
	} else if (is_path(spec)) {
		GUARD(module_by_path(spec, spec, args, &g_search[0]));
		g_search[1] = NULL;
	} else {
		GUARD(registered_named(spec, args, &g_search[0]));
		g_search[1] = NULL;
	}
	*out = g_search;
out:
	return rc;
}

/* Is fl SoftHSM (its C_GetInfo's manufacturerID)? */
static int is_softhsm(CK_FUNCTION_LIST *fl)
{
	static const char name[] = "SoftHSM";
	CK_INFO mi;

	return fl->C_GetInfo(&mi) == CKR_OK &&
	       memcmp(mi.manufacturerID, name, sizeof(name) - 1) == 0;
}

int ca_p11_restart(CK_FUNCTION_LIST **mods)
{
	struct module *m;
	size_t i, k;
	CK_RV rv;
	int done = 0;

	for (k = 0; mods[k] != NULL; k++) {
		if (!is_softhsm(mods[k]))
			continue;
		for (m = g_modules; m != NULL; m = m->next) {
			if (m->fl != mods[k] || !m->initialised)
				continue;
			(void)m->fl->C_Finalize(NULL);
			m->initialised = 0;
			/* Not started again: the next use tries once more
			 * (module_by_path) and reports why. */
			done |= initialise(m) == CKR_OK;
		}
		for (i = 0; i < g_reg_n; i++) {
			if (g_reg[i].fl != mods[k] || g_reg[i].state <= 0)
				continue;
			(void)p11_kit_module_finalize(g_reg[i].fl);
			rv = p11_kit_module_initialize(g_reg[i].fl);
			if (rv == CKR_OK) {
				done = 1;
				continue;
			}
			g_reg[i].state = -1; /* "did not start", with why */
			snprintf(g_reg[i].why, sizeof(g_reg[i].why), "%s",
				 p11_kit_strerror(rv));
		}
	}
	return done;
}

/* Under g_lock: how a module was chosen, for messages and ca.json. */
const char *ca_p11_module_spec(CK_FUNCTION_LIST *fl, const char **args)
{
	struct module *m;
	size_t i;

	*args = NULL;
	for (m = g_modules; m != NULL; m = m->next) {
		if (m->fl == fl) {
			*args = m->args;
			return m->spec;
		}
	}
	for (i = 0; i < g_reg_n; i++) {
		if (g_reg[i].fl == fl)
			return g_reg[i].name;
	}
	return NULL;
}

/* Under g_lock: registered modules that did not start, for messages. */
void ca_p11_failed_modules(char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < g_reg_n && o < len; i++) {
		if (g_reg[i].state >= 0)
			continue;
		n = snprintf(buf + o, len - o, "%s%s (%s)", o ? ", " : "",
			     g_reg[i].name ? g_reg[i].name : "?", g_reg[i].why);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

void ca_p11_shutdown(void)
{
	struct module *m, *next;
	size_t i;

	ca_p11_lock();
	ca_token_forget_all();
	for (m = g_modules; m != NULL; m = next) {
		next = m->next;
		module_free(m);
	}
	g_modules = NULL;
	for (i = 0; i < g_reg_n; i++) {
		if (g_reg[i].state > 0)
			finalize_guarded(g_reg[i].fl, 1, g_reg[i].name);
		free(g_reg[i].name);
		memset(&g_reg[i], 0, sizeof(g_reg[i]));
	}
	g_reg_n = 0;
	if (g_reg_list != NULL)
		p11_kit_modules_release(g_reg_list);
	g_reg_list = NULL;
	g_search[0] = NULL;
	set_str(&g_module, NULL);
	set_str(&g_module_args, NULL);
	set_str(&g_key_module, NULL);
	set_str(&g_key_module_args, NULL);
	ca_p11_unlock();
	ca_p11_libctx_release();
}

/* --- private library context ----------------------------------------- */

static void libctx_free_locked(void)
{
	size_t i;

	for (i = 0; i < sizeof(g_md) / sizeof(g_md[0]); i++) {
		EVP_MD_free(g_md[i]);
		g_md[i] = NULL;
	}
	if (g_default != NULL)
		OSSL_PROVIDER_unload(g_default);
	g_default = NULL;
	if (g_libctx != g_shared)
		OSSL_LIB_CTX_free(g_libctx);
	g_libctx = NULL;
	g_libctx_release_pending = 0;
}

void ca_p11_use_libctx(OSSL_LIB_CTX *ctx)
{
	pthread_mutex_lock(&g_ctx_lock);
	if (g_libctx == NULL)
		g_shared = ctx;
	pthread_mutex_unlock(&g_ctx_lock);
}

static int libctx_new_locked(void)
{
	static const char *const names[] = {"SHA2-256", "SHA2-384", "SHA2-512"};
	size_t i;

	g_libctx = g_shared != NULL ? g_shared : OSSL_LIB_CTX_new();
	if (g_libctx == NULL)
		goto fail;
	if (g_shared == NULL &&
	    (g_default = OSSL_PROVIDER_load(g_libctx, "default")) == NULL)
		goto fail;
	for (i = 0; i < sizeof(g_md) / sizeof(g_md[0]); i++) {
		g_md[i] = EVP_MD_fetch(g_libctx, names[i], NULL);
		if (g_md[i] == NULL)
			goto fail;
	}
	return CA_OK;
fail:
	libctx_free_locked();
	return ca_err(CA_EIO, "cannot set up the OpenSSL default provider");
}

OSSL_LIB_CTX *ca_p11_libctx(void)
{
	OSSL_LIB_CTX *ctx;

	pthread_mutex_lock(&g_ctx_lock);
	g_libctx_release_pending = 0;
	if (g_libctx == NULL && libctx_new_locked() < 0)
		ctx = NULL;
	else
		ctx = g_libctx;
	pthread_mutex_unlock(&g_ctx_lock);
	return ctx;
}

void ca_p11_libctx_hold(void)
{
	pthread_mutex_lock(&g_ctx_lock);
	g_libctx_users++;
	pthread_mutex_unlock(&g_ctx_lock);
}

void ca_p11_libctx_drop(void)
{
	pthread_mutex_lock(&g_ctx_lock);
	if (--g_libctx_users == 0 && g_libctx_release_pending)
		libctx_free_locked();
	pthread_mutex_unlock(&g_ctx_lock);
}

void ca_p11_libctx_release(void)
{
	pthread_mutex_lock(&g_ctx_lock);
	if (g_libctx_users == 0)
		libctx_free_locked();
	else
		g_libctx_release_pending = 1;
	pthread_mutex_unlock(&g_ctx_lock);
}

const EVP_MD *ca_p11_md(int nid)
{
	const EVP_MD *md = NULL;

	if (ca_p11_libctx() == NULL)
		return NULL;
	pthread_mutex_lock(&g_ctx_lock);
	switch (nid) {
	case NID_sha256:
		md = g_md[0];
		break;
	case NID_sha384:
		md = g_md[1];
		break;
	case NID_sha512:
		md = g_md[2];
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&g_ctx_lock);
	return md;
}
