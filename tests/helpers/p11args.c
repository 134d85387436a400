/* p11args.so: a PKCS#11 module that forwards to another one and hands it
 * initialisation arguments, for test tools that cannot pass any
 * (pkcs11-tool, the libp11 engine) in front of a module that needs them
 * (NSS softokn).
 *
 *   HSMCA_P11ARGS_MODULE=/usr/lib/.../libsoftokn3.so \
 *   HSMCA_MODULE_ARGS="configdir='sql:DIR' ..." \
 *     pkcs11-tool --module build/tests/p11args.so -L
 *
 * C_Initialize passes HSMCA_MODULE_ARGS in pReserved (where p11-kit puts a
 * module's x-init-reserved setting and NSS reads its LibraryParameters),
 * with CKF_OS_LOCKING_OK. Every other function is the module's own.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST table;
static CK_C_Initialize real_initialize;

static CK_RV forward_initialize(CK_VOID_PTR in)
{
	CK_C_INITIALIZE_ARGS args;

	memset(&args, 0, sizeof(args));
	if (in != NULL)
		memcpy(&args, in, sizeof(args));
	args.flags |= CKF_OS_LOCKING_OK;
	args.pReserved = getenv("HSMCA_MODULE_ARGS");
	return real_initialize(&args);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	const char *path = getenv("HSMCA_P11ARGS_MODULE");
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST_PTR real = NULL;
	void *dl;
	CK_RV rv;

	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	if (real_initialize == NULL) {
		if (path == NULL || (dl = dlopen(path, RTLD_NOW)) == NULL)
			return CKR_GENERAL_ERROR;
		get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
		if (get == NULL)
			return CKR_GENERAL_ERROR;
		rv = get(&real);
		if (rv != CKR_OK)
			return rv;
		table = *real;
		real_initialize = real->C_Initialize;
		table.C_Initialize = forward_initialize;
	}
	*list = &table;
	return CKR_OK;
}
