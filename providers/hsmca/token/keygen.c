/* Key pair generation on a token (PKCS#11 v2.40 5.14 C_GenerateKeyPair). */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include <openssl/obj_mac.h>

#define ID_RANDOM_LEN 16

/* CKA_EC_PARAMS: DER namedCurve OIDs (RFC 5480 2.1.1.1, RFC 8410 3). */
static const unsigned char oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
					 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char oid_p384[] = {0x06, 0x05, 0x2b, 0x81,
					 0x04, 0x00, 0x22};
static const unsigned char oid_p521[] = {0x06, 0x05, 0x2b, 0x81,
					 0x04, 0x00, 0x23};
static const unsigned char oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const unsigned char rsa_e[] = {0x01, 0x00, 0x01}; /* 65537 */

static void hex(const unsigned char *v, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o + 3 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%02x", v[i]);
}

/* Refuse (CA_EPOLICY) when any object has this label or id. */
static int refuse_existing(ca_token *tok, CK_SESSION_HANDLE s,
			   CK_ATTRIBUTE_TYPE type, const void *v, size_t len)
{
	CK_ATTRIBUTE a = {type, (void *)v, (CK_ULONG)len};
	CK_OBJECT_HANDLE h;
	CK_ULONG n;
	char shown[2 * CA_ID_MAX + 1];
	int rc;

	GUARD(ca_token_find(tok, s, &a, 1, &h, 1, &n));
	if (n == 0)
		goto out;
	if (type == CKA_LABEL) {
		rc = ca_err(CA_EPOLICY,
			    "an object labelled '%s' already exists on "
			    "token '%s'",
			    (const char *)v, tok->label);
	} else {
		hex(v, len, shown, sizeof(shown));
		rc = ca_err(CA_EPOLICY,
			    "an object with id %s already exists on "
			    "token '%s'",
			    shown, tok->label);
	}
out:
	return rc;
}

static int check_args(ca_token *tok, const struct ca_keyspec *spec,
		      const char *label, size_t id_len)
{
	int rc = CA_OK;

	if (strcmp(ca_keyspec_name(spec), "unknown") == 0)
		rc = ca_err(CA_EUSAGE, "unknown key type");
	else if (label == NULL || label[0] == '\0' ||
		 strlen(label) > CA_LABEL_MAX)
		rc = ca_err(CA_EUSAGE, "a key label of 1 to %d bytes is needed",
			    CA_LABEL_MAX);
	else if (id_len > CA_ID_MAX)
		rc = ca_err(CA_EUSAGE, "a key id is at most %d bytes",
			    CA_ID_MAX);
	else if (ca_token_logged_in(tok) != 1)
		rc = ca_err(CA_EIO,
			    "token '%s' is not logged in: generating a "
			    "key needs the PIN",
			    tok->label);
	return rc;
}

static void curve_params(const struct ca_keyspec *spec, const void **p,
			 size_t *len)
{
	switch (spec->curve_nid) {
	case NID_X9_62_prime256v1:
		*p = oid_p256, *len = sizeof(oid_p256);
		break;
	case NID_secp384r1:
		*p = oid_p384, *len = sizeof(oid_p384);
		break;
	case NID_secp521r1:
		*p = oid_p521, *len = sizeof(oid_p521);
		break;
	default:
		*p = oid_ed25519, *len = sizeof(oid_ed25519);
		break;
	}
}

static const char *type_name(const struct ca_keyspec *spec)
{
	return spec->type == CA_KT_RSA	? "RSA"
	       : spec->type == CA_KT_EC ? "EC"
					: "Ed25519";
}

/* Before generating: the token offers key pair generation for the type,
 * and the size is within what it reports (C_GetMechanismInfo sizes are
 * bits for RSA and EC; a module that reports EC sizes in bytes, or
 * nothing, is not second-guessed). */
static int check_capability(ca_token *tok, const struct ca_keyspec *spec,
			    CK_MECHANISM_TYPE mech)
{
	CK_MECHANISM_INFO mi;
	int rc;

	rc = ca_token_mechanism(tok, mech, CKF_GENERATE_KEY_PAIR, &mi);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return ca_err(
		    CA_EIO,
		    "no %s key generation on token '%s' "
		    "(its module offers no %s)",
		    type_name(spec), tok->label,
		    spec->type == CA_KT_RSA  ? "CKM_RSA_PKCS_KEY_PAIR_GEN"
		    : spec->type == CA_KT_EC ? "CKM_EC_KEY_PAIR_GEN"
					     : "CKM_EC_EDWARDS_KEY_PAIR_GEN");
	if (spec->type == CA_KT_ED25519 || mi.ulMaxKeySize == 0 ||
	    (spec->type == CA_KT_EC && mi.ulMaxKeySize < 160))
		return CA_OK;
	if ((CK_ULONG)spec->bits < mi.ulMinKeySize ||
	    (CK_ULONG)spec->bits > mi.ulMaxKeySize)
		return ca_err(CA_EIO,
			      "cannot generate a %s key on token '%s': this "
			      "token's %s keys are %lu-%lu bits",
			      ca_keyspec_name(spec), tok->label,
			      type_name(spec), (unsigned long)mi.ulMinKeySize,
			      (unsigned long)mi.ulMaxKeySize);
	return CA_OK;
}

/* Minimal templates (several modules refuse anything more): the public
 * key says only where it lives and what it is, so that a module which
 * derives its usage from the private key (tpm2-pkcs11) finds nothing to
 * contradict; the private key is a token object that signs and does
 * nothing else. */
static int generate(ca_token *tok, CK_SESSION_HANDLE s,
		    const struct ca_keyspec *spec, const char *label,
		    const unsigned char *id, size_t id_len,
		    CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = (CK_ULONG)spec->bits;
	CK_MECHANISM m = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ATTRIBUTE pubt[6] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	    {CKA_ID, (void *)id, id_len},
	    {CKA_MODULUS_BITS, &bits, sizeof(bits)},
	    {CKA_PUBLIC_EXPONENT, (void *)rsa_e, sizeof(rsa_e)},
	};
	CK_ATTRIBUTE privt[] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_EXTRACTABLE, &no, sizeof(no)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	    {CKA_SIGN_RECOVER, &no, sizeof(no)},
	    {CKA_DECRYPT, &no, sizeof(no)},
	    {CKA_UNWRAP, &no, sizeof(no)},
	    {CKA_DERIVE, &no, sizeof(no)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	    {CKA_ID, (void *)id, id_len},
	};
	CK_ULONG npub = 5;
	CK_RV rv;
	int rc;

	if (spec->type != CA_KT_RSA) {
		const void *p;
		size_t len;

		m.mechanism = spec->type == CA_KT_EC
				  ? CKM_EC_KEY_PAIR_GEN
				  : CKM_EC_EDWARDS_KEY_PAIR_GEN;
		curve_params(spec, &p, &len);
		pubt[3] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)p, len};
		npub = 4;
	}
	GUARD(check_capability(tok, spec, m.mechanism));
	rv = tok->fl->C_GenerateKeyPair(s, &m, pubt, npub, privt,
					sizeof(privt) / sizeof(privt[0]), pub,
					priv);
	if (rv != CKR_OK)
		rc = ca_err(
		    CA_EIO, "cannot generate a %s key on token '%s': %s%s",
		    ca_keyspec_name(spec), tok->label, p11_kit_strerror(rv),
		    rv == CKR_TEMPLATE_INCONSISTENT ||
			    rv == CKR_ATTRIBUTE_VALUE_INVALID
			? " (the token refuses a sign-only, "
			  "non-extractable key of this type)"
			: "");
out:
	return rc;
}

/* What the private key must be once made (SPEC keygen; read back, as a
 * module may ignore a template attribute). An attribute the module does
 * not know counts as false. */
static const struct {
	CK_ATTRIBUTE_TYPE type;
	const char *name;
	CK_BBOOL want;
} priv_flags[] = {
    {CKA_TOKEN, "CKA_TOKEN", CK_TRUE},
    {CKA_PRIVATE, "CKA_PRIVATE", CK_TRUE},
    {CKA_SENSITIVE, "CKA_SENSITIVE", CK_TRUE},
    {CKA_EXTRACTABLE, "CKA_EXTRACTABLE", CK_FALSE},
    {CKA_SIGN, "CKA_SIGN", CK_TRUE},
    {CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER", CK_FALSE},
    {CKA_DECRYPT, "CKA_DECRYPT", CK_FALSE},
    {CKA_UNWRAP, "CKA_UNWRAP", CK_FALSE},
    {CKA_DERIVE, "CKA_DERIVE", CK_FALSE},
};

static int check_flags(ca_token *tok, CK_SESSION_HANDLE s,
		       CK_OBJECT_HANDLE priv, const char *label)
{
	CK_BBOOL v;
	CK_ATTRIBUTE a = {0, &v, sizeof(v)};
	CK_RV rv;
	size_t i;

	for (i = 0; i < sizeof(priv_flags) / sizeof(priv_flags[0]); i++) {
		a.type = priv_flags[i].type;
		a.ulValueLen = sizeof(v);
		v = CK_FALSE;
		rv = tok->fl->C_GetAttributeValue(s, priv, &a, 1);
		if (rv == CKR_ATTRIBUTE_TYPE_INVALID ||
		    (rv == CKR_OK &&
		     a.ulValueLen == CK_UNAVAILABLE_INFORMATION))
			v = CK_FALSE;
		else if (rv != CKR_OK)
			return ca_err(CA_EIO,
				      "cannot read %s of the new key '%s' on "
				      "token '%s': %s",
				      priv_flags[i].name, label, tok->label,
				      p11_kit_strerror(rv));
		if ((v != CK_FALSE) != (priv_flags[i].want != CK_FALSE))
			return ca_err(CA_EIO,
				      "token '%s' made key '%s' with %s=%s "
				      "although %s was asked for: key removed",
				      tok->label, label, priv_flags[i].name,
				      v ? "true" : "false",
				      priv_flags[i].want ? "true" : "false");
	}
	return CA_OK;
}

/* The public key read back must be what was asked for. */
static int check_key(const ca_key *key, const struct ca_keyspec *spec)
{
	if (key->type != spec->type || key->bits != spec->bits ||
	    (spec->type == CA_KT_EC && key->curve_nid != spec->curve_nid))
		return ca_err(CA_EIO,
			      "the token generated a key that is not %s",
			      ca_keyspec_name(spec));
	return CA_OK;
}

int ca_token_generate(ca_token *tok, const struct ca_keyspec *spec,
		      const char *label, const unsigned char *id, size_t id_len,
		      ca_key **out)
{
	unsigned char rid[ID_RANDOM_LEN];
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_SESSION_HANDLE s = 0;
	ca_key *key = NULL;
	int have = 0, rc;

	*out = NULL;
	GUARD(check_args(tok, spec, label, id != NULL ? id_len : 0));
	if (id == NULL || id_len == 0) {
		GUARD(ca_token_random(tok, rid, sizeof(rid)));
		id = rid;
		id_len = sizeof(rid);
	}
	GUARD(ca_token_session(tok, &s));
	have = 1;
	GUARD(refuse_existing(tok, s, CKA_LABEL, label, strlen(label)));
	GUARD(refuse_existing(tok, s, CKA_ID, id, id_len));
	GUARD(generate(tok, s, spec, label, id, id_len, &pub, &priv));
	rc = check_flags(tok, s, priv, label);
	if (rc == CA_OK)
		rc = ca_key_load(tok, s, priv, &key);
	if (rc == CA_OK)
		rc = check_key(key, spec);
	if (rc < 0) {
		/* An unusable key pair must not stay on the token. */
		(void)tok->fl->C_DestroyObject(s, priv);
		(void)tok->fl->C_DestroyObject(s, pub);
		goto out;
	}
	*out = key;
	key = NULL;
out:
	ca_key_free(key);
	if (have)
		ca_token_release(tok, s, 0);
	return rc;
}
