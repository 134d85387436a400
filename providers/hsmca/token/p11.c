/* PKCS#11 modules through p11-kit, and the process-wide state of the token
 * layer: settings, the module cache, teardown, the private OpenSSL library
 * context used for public keys and hashing.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/provider.h>

#define MAX_MODULES 32

struct module {
	char *path;
	CK_FUNCTION_LIST *fl;
	struct module *next;
};

/* g_lock guards modules, tokens and settings; g_ctx_lock the libctx. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct module *g_modules;	/* loaded by path */
static CK_FUNCTION_LIST **g_registered; /* p11-kit registry */
static CK_FUNCTION_LIST *g_search[MAX_MODULES + 1];
static char *g_module_path;
static atomic_int g_allow_pin_value;
static int g_atexit_done; /* handler registered */
static int g_exiting;	  /* handler ran: no PKCS#11 any more */

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

void ca_p11_set_module(const char *path)
{
	ca_p11_lock();
	free(g_module_path);
	g_module_path = path != NULL ? strdup(path) : NULL;
	ca_p11_unlock();
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

static void module_ready(void)
{
	if (g_atexit_done)
		return;
	if (atexit(at_exit) == 0)
		g_atexit_done = 1;
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

/* Under g_lock: the module at path, loaded and initialised once. */
static int module_by_path(const char *path, CK_FUNCTION_LIST **out)
{
	struct module *m;
	CK_FUNCTION_LIST *fl = NULL;
	CK_RV rv;
	int rc = CA_OK;

	for (m = g_modules; m != NULL; m = m->next) {
		if (strcmp(m->path, path) == 0) {
			*out = m->fl;
			goto out;
		}
	}
	p11_kit_be_quiet();
	fl = p11_kit_module_load(path, 0);
	if (fl == NULL) {
		rc = ca_err(CA_EIO, "cannot load PKCS#11 module %s: %s", path,
			    load_reason(path));
		goto out;
	}
	rv = p11_kit_module_initialize(fl);
	if (rv != CKR_OK) {
		rc = ca_err(CA_EIO,
			    "cannot load PKCS#11 module %s: C_Initialize: %s",
			    path, p11_kit_strerror(rv));
		p11_kit_module_release(fl);
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->path = strdup(path)) == NULL) {
		free(m);
		(void)p11_kit_module_finalize(fl);
		p11_kit_module_release(fl);
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	m->fl = fl;
	m->next = g_modules;
	g_modules = m;
	module_ready();
	*out = fl;
out:
	return rc;
}

/* Under g_lock: every module registered with p11-kit, initialised once. */
static int registry(void)
{
	if (g_registered != NULL)
		return CA_OK;
	p11_kit_be_quiet();
	g_registered = p11_kit_modules_load_and_initialize(0);
	if (g_registered == NULL)
		return ca_err(CA_EIO,
			      "cannot load the PKCS#11 modules registered "
			      "with p11-kit: %s",
			      p11_kit_message() ? p11_kit_message()
						: "unknown");
	module_ready();
	return CA_OK;
}

/* Under g_lock: registered modules whose p11-kit name is name (or all). */
static int registered_named(const char *name)
{
	size_t i, n = 0;
	char *mname;
	int rc;

	GUARD(registry());
	for (i = 0; g_registered[i] != NULL && n < MAX_MODULES; i++) {
		if (name != NULL) {
			mname = p11_kit_module_get_name(g_registered[i]);
			if (mname == NULL || strcmp(mname, name) != 0) {
				free(mname);
				continue;
			}
			free(mname);
		}
		g_search[n++] = g_registered[i];
	}
	g_search[n] = NULL;
	if (n == 0 && name != NULL)
		rc = ca_err(CA_EIO,
			    "cannot load PKCS#11 module %s: no module of that "
			    "name is registered with p11-kit",
			    name);
out:
	return rc;
}

/* Order (token.h): ca_p11_set_module(), the URI's module-path, its
 * module-name, $HSMCA_MODULE, else all modules registered with p11-kit.
 * Called with g_lock held; the list stays valid until it is released. */
int ca_p11_modules(P11KitUri *uri, CK_FUNCTION_LIST ***out)
{
	const char *path = g_module_path;
	const char *name = NULL;
	int rc = CA_OK;

	if (g_exiting) {
		rc = ca_err(CA_EIO, "PKCS#11 is shut down (process exiting)");
		goto out;
	}
	if (path == NULL && uri != NULL)
		path = p11_kit_uri_get_module_path(uri);
	if (path == NULL && uri != NULL)
		name = p11_kit_uri_get_module_name(uri);
	if (path == NULL && name == NULL) {
		path = getenv("HSMCA_MODULE");
		if (path != NULL && path[0] == '\0')
			path = NULL;
	}
	if (path != NULL) {
		GUARD(module_by_path(path, &g_search[0]));
		g_search[1] = NULL;
	} else {
		GUARD(registered_named(name));
	}
	*out = g_search;
out:
	return rc;
}

void ca_p11_shutdown(void)
{
	struct module *m, *next;

	ca_p11_lock();
	ca_token_forget_all();
	for (m = g_modules; m != NULL; m = next) {
		next = m->next;
		(void)p11_kit_module_finalize(m->fl);
		p11_kit_module_release(m->fl);
		free(m->path);
		free(m);
	}
	g_modules = NULL;
	if (g_registered != NULL)
		p11_kit_modules_finalize_and_release(g_registered);
	g_registered = NULL;
	g_search[0] = NULL;
	free(g_module_path);
	g_module_path = NULL;
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
	if (g_shared == NULL && (g_default = OSSL_PROVIDER_load(g_libctx, "default")) == NULL)
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
