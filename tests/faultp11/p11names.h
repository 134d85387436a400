/* p11names.h: PKCS#11 return values and mechanisms by their names, for the
 * fault-injecting module's log and for the test driver that reads it back
 * (tests/helpers/p11drive.c). Header-only: every function is static. */
#ifndef FAULTP11_P11NAMES_H
#define FAULTP11_P11NAMES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

struct p11_name {
	CK_ULONG value;
	const char *name;
};

#define P11_NAME(x)                                                            \
	{                                                                      \
		x, #x                                                          \
	}

static const struct p11_name p11_rv_names[] = {
    P11_NAME(CKR_OK),
    P11_NAME(CKR_CANCEL),
    P11_NAME(CKR_HOST_MEMORY),
    P11_NAME(CKR_SLOT_ID_INVALID),
    P11_NAME(CKR_GENERAL_ERROR),
    P11_NAME(CKR_FUNCTION_FAILED),
    P11_NAME(CKR_ARGUMENTS_BAD),
    P11_NAME(CKR_ATTRIBUTE_SENSITIVE),
    P11_NAME(CKR_ATTRIBUTE_TYPE_INVALID),
    P11_NAME(CKR_ATTRIBUTE_VALUE_INVALID),
    P11_NAME(CKR_DATA_INVALID),
    P11_NAME(CKR_DATA_LEN_RANGE),
    P11_NAME(CKR_DEVICE_ERROR),
    P11_NAME(CKR_DEVICE_MEMORY),
    P11_NAME(CKR_DEVICE_REMOVED),
    P11_NAME(CKR_FUNCTION_CANCELED),
    P11_NAME(CKR_FUNCTION_NOT_SUPPORTED),
    P11_NAME(CKR_KEY_HANDLE_INVALID),
    P11_NAME(CKR_KEY_TYPE_INCONSISTENT),
    P11_NAME(CKR_KEY_FUNCTION_NOT_PERMITTED),
    P11_NAME(CKR_MECHANISM_INVALID),
    P11_NAME(CKR_MECHANISM_PARAM_INVALID),
    P11_NAME(CKR_OBJECT_HANDLE_INVALID),
    P11_NAME(CKR_OPERATION_ACTIVE),
    P11_NAME(CKR_OPERATION_NOT_INITIALIZED),
    P11_NAME(CKR_PIN_INCORRECT),
    P11_NAME(CKR_PIN_INVALID),
    P11_NAME(CKR_PIN_LEN_RANGE),
    P11_NAME(CKR_PIN_EXPIRED),
    P11_NAME(CKR_PIN_LOCKED),
    P11_NAME(CKR_SESSION_CLOSED),
    P11_NAME(CKR_SESSION_COUNT),
    P11_NAME(CKR_SESSION_HANDLE_INVALID),
    P11_NAME(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    P11_NAME(CKR_SESSION_READ_ONLY),
    P11_NAME(CKR_SESSION_EXISTS),
    P11_NAME(CKR_SIGNATURE_INVALID),
    P11_NAME(CKR_SIGNATURE_LEN_RANGE),
    P11_NAME(CKR_TEMPLATE_INCOMPLETE),
    P11_NAME(CKR_TEMPLATE_INCONSISTENT),
    P11_NAME(CKR_TOKEN_NOT_PRESENT),
    P11_NAME(CKR_TOKEN_NOT_RECOGNIZED),
    P11_NAME(CKR_TOKEN_WRITE_PROTECTED),
    P11_NAME(CKR_USER_ALREADY_LOGGED_IN),
    P11_NAME(CKR_USER_NOT_LOGGED_IN),
    P11_NAME(CKR_USER_PIN_NOT_INITIALIZED),
    P11_NAME(CKR_USER_TYPE_INVALID),
    P11_NAME(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    P11_NAME(CKR_USER_TOO_MANY_TYPES),
    P11_NAME(CKR_RANDOM_NO_RNG),
    P11_NAME(CKR_BUFFER_TOO_SMALL),
    P11_NAME(CKR_CRYPTOKI_NOT_INITIALIZED),
    P11_NAME(CKR_CRYPTOKI_ALREADY_INITIALIZED),
};

static const struct p11_name p11_mech_names[] = {
    P11_NAME(CKM_RSA_PKCS_KEY_PAIR_GEN),
    P11_NAME(CKM_RSA_PKCS),
    P11_NAME(CKM_RSA_X_509),
    P11_NAME(CKM_RSA_PKCS_PSS),
    P11_NAME(CKM_RSA_PKCS_OAEP),
    P11_NAME(CKM_MD5_RSA_PKCS),
    P11_NAME(CKM_SHA1_RSA_PKCS),
    P11_NAME(CKM_SHA224_RSA_PKCS),
    P11_NAME(CKM_SHA256_RSA_PKCS),
    P11_NAME(CKM_SHA384_RSA_PKCS),
    P11_NAME(CKM_SHA512_RSA_PKCS),
    P11_NAME(CKM_SHA1_RSA_PKCS_PSS),
    P11_NAME(CKM_SHA224_RSA_PKCS_PSS),
    P11_NAME(CKM_SHA256_RSA_PKCS_PSS),
    P11_NAME(CKM_SHA384_RSA_PKCS_PSS),
    P11_NAME(CKM_SHA512_RSA_PKCS_PSS),
    P11_NAME(CKM_EC_KEY_PAIR_GEN),
    P11_NAME(CKM_ECDSA),
    P11_NAME(CKM_ECDSA_SHA1),
    P11_NAME(CKM_ECDSA_SHA224),
    P11_NAME(CKM_ECDSA_SHA256),
    P11_NAME(CKM_ECDSA_SHA384),
    P11_NAME(CKM_ECDSA_SHA512),
    P11_NAME(CKM_EC_EDWARDS_KEY_PAIR_GEN),
    P11_NAME(CKM_EDDSA),
    P11_NAME(CKM_SHA_1),
    P11_NAME(CKM_SHA224),
    P11_NAME(CKM_SHA256),
    P11_NAME(CKM_SHA384),
    P11_NAME(CKM_SHA512),
};

#undef P11_NAME

/* The name of value in table (n entries), else its hex form in buf. */
static inline const char *p11_name_of(const struct p11_name *table, size_t n,
				      CK_ULONG value, char *buf, size_t buflen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	snprintf(buf, buflen, "0x%lx", (unsigned long)value);
	return buf;
}

/* The value named name (a table name or a 0x hex number); 0 ok, -1 unknown. */
static inline int p11_value_of(const struct p11_name *table, size_t n,
			       const char *name, CK_ULONG *value)
{
	size_t i;
	char *end;
	unsigned long v;

	for (i = 0; i < n; i++) {
		if (strcmp(table[i].name, name) == 0) {
			*value = table[i].value;
			return 0;
		}
	}
	if (strncmp(name, "0x", 2) != 0 || name[2] == '\0')
		return -1;
	v = strtoul(name + 2, &end, 16);
	if (*end != '\0')
		return -1;
	*value = v;
	return 0;
}

#define P11_RV_NAME(rv, buf)                                                   \
	p11_name_of(p11_rv_names,                                              \
		    sizeof(p11_rv_names) / sizeof(p11_rv_names[0]), (rv),      \
		    (buf), sizeof(buf))
#define P11_MECH_NAME(m, buf)                                                  \
	p11_name_of(p11_mech_names,                                            \
		    sizeof(p11_mech_names) / sizeof(p11_mech_names[0]), (m),   \
		    (buf), sizeof(buf))
#define P11_MECH_VALUE(name, vp)                                               \
	p11_value_of(p11_mech_names,                                           \
		     sizeof(p11_mech_names) / sizeof(p11_mech_names[0]),       \
		     (name), (vp))
#define P11_RV_VALUE(name, vp)                                                 \
	p11_value_of(p11_rv_names,                                             \
		     sizeof(p11_rv_names) / sizeof(p11_rv_names[0]), (name),   \
		     (vp))

#endif
