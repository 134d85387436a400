/* p11attrs: print the boolean attributes of a token's private key, read
 * with plain PKCS#11 (dlopen, no p11-kit, no hsmca token layer): an
 * independent view of what a module made (pkcs11-tool does not show
 * CKA_SIGN_RECOVER).
 *
 *   p11attrs MODULE TOKEN-LABEL KEY-LABEL PIN-FILE
 *
 * C_Initialize gets $HSMCA_MODULE_ARGS in pReserved when it is set. Prints
 * one "CKA_NAME=true|false|absent" line per attribute; exit 1 on errors.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

static const struct {
	CK_ATTRIBUTE_TYPE type;
	const char *name;
} attrs[] = {
    {CKA_TOKEN, "CKA_TOKEN"},	      {CKA_PRIVATE, "CKA_PRIVATE"},
    {CKA_SENSITIVE, "CKA_SENSITIVE"}, {CKA_EXTRACTABLE, "CKA_EXTRACTABLE"},
    {CKA_SIGN, "CKA_SIGN"},	      {CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER"},
    {CKA_DECRYPT, "CKA_DECRYPT"},     {CKA_UNWRAP, "CKA_UNWRAP"},
    {CKA_DERIVE, "CKA_DERIVE"},
};

static int fail(const char *what, CK_RV rv)
{
	fprintf(stderr, "p11attrs: %s: 0x%lx\n", what, (unsigned long)rv);
	return 1;
}

static int find_slot(CK_FUNCTION_LIST *f, const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	size_t len = strlen(label);

	if (f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (i = 0; i < n; i++) {
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || len > 32 ||
		    memcmp(ti.label, label, len) != 0 ||
		    (len < 32 && ti.label[len] != ' '))
			continue;
		*out = slots[i];
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	CK_C_INITIALIZE_ARGS init;
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST *f = NULL;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[2];
	CK_OBJECT_HANDLE key;
	CK_ULONG n = 0;
	CK_BBOOL v;
	CK_RV rv;
	char pin[256];
	FILE *fp;
	void *dl;
	size_t i;

	if (argc != 5) {
		fprintf(stderr, "usage: p11attrs MODULE TOKEN KEY PIN-FILE\n");
		return 2;
	}
	fp = fopen(argv[4], "r");
	if (fp == NULL || fgets(pin, sizeof(pin), fp) == NULL)
		return fail("cannot read the PIN file", 0);
	fclose(fp);
	pin[strcspn(pin, "\n")] = '\0';
	dl = dlopen(argv[1], RTLD_NOW);
	if (dl == NULL ||
	    (get = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) ==
		NULL ||
	    get(&f) != CKR_OK)
		return fail("cannot load the module", 0);
	memset(&init, 0, sizeof(init));
	init.flags = CKF_OS_LOCKING_OK;
	init.pReserved = getenv("HSMCA_MODULE_ARGS");
	if (init.pReserved != NULL && ((char *)init.pReserved)[0] == '\0')
		init.pReserved = NULL;
	if ((rv = f->C_Initialize(&init)) != CKR_OK)
		return fail("C_Initialize", rv);
	if (find_slot(f, argv[2], &slot) < 0)
		return fail("no such token", 0);
	if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) !=
	    CKR_OK)
		return fail("C_OpenSession", rv);
	rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return fail("C_Login", rv);
	tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
	tmpl[1] = (CK_ATTRIBUTE){CKA_LABEL, argv[3], strlen(argv[3])};
	if ((rv = f->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK ||
	    (rv = f->C_FindObjects(s, &key, 1, &n)) != CKR_OK)
		return fail("C_FindObjects", rv);
	(void)f->C_FindObjectsFinal(s);
	if (n != 1)
		return fail("no such private key", 0);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		tmpl[0] = (CK_ATTRIBUTE){attrs[i].type, &v, sizeof(v)};
		rv = f->C_GetAttributeValue(s, key, tmpl, 1);
		printf("%s=%s\n", attrs[i].name,
		       rv != CKR_OK ? "absent"
		       : v	    ? "true"
				    : "false");
	}
	(void)f->C_CloseSession(s);
	(void)f->C_Finalize(NULL);
	return 0;
}
