#include "x509/leafprof.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "base/json.h"
#include "x509/profile.h"
#include "x509/san.h"

static const struct ca_leaf_profile builtins[] = {
    {"server",
     {"serverAuth"},
     1,
     NULL,
     0,
     825,
     365,
     CA_SANT_DNS | CA_SANT_IP,
     0,
     0},
    {"client", {"clientAuth"}, 1, NULL, 0, 825, 365, CA_SANT_ALL, 0, 0},
    {"server-client",
     {"serverAuth", "clientAuth"},
     2,
     NULL,
     0,
     825,
     365,
     CA_SANT_ALL,
     0,
     0},
    {"code-signing",
     {"codeSigning"},
     1,
     NULL,
     KU_DIGITAL_SIGNATURE,
     1095,
     365,
     CA_SANT_ALL,
     0,
     0},
    {"email", {"emailProtection"}, 1, NULL, 0, 825, 365, CA_SANT_EMAIL, 0, 0},
    {"ocsp-signing",
     {"OCSPSigning"},
     1,
     NULL,
     KU_DIGITAL_SIGNATURE,
     365,
     30,
     CA_SANT_ALL,
     1,
     0},
    {"csr-passthrough", {NULL}, 0, NULL, 0, 825, 365, CA_SANT_ALL, 0, 1},
};

static const struct {
	const char *name;
	unsigned bit;
} ku_names[] = {
    {"digitalSignature", KU_DIGITAL_SIGNATURE},
    {"nonRepudiation", KU_NON_REPUDIATION},
    {"keyEncipherment", KU_KEY_ENCIPHERMENT},
    {"dataEncipherment", KU_DATA_ENCIPHERMENT},
    {"keyAgreement", KU_KEY_AGREEMENT},
};

static int custom_san_types(json_t *arr, const char *name, unsigned *out)
{
	size_t i;
	json_t *v;

	*out = 0;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);

		if (s != NULL && strcmp(s, "dns") == 0)
			*out |= CA_SANT_DNS;
		else if (s != NULL && strcmp(s, "ip") == 0)
			*out |= CA_SANT_IP;
		else if (s != NULL && strcmp(s, "email") == 0)
			*out |= CA_SANT_EMAIL;
		else if (s != NULL && strcmp(s, "uri") == 0)
			*out |= CA_SANT_URI;
		else
			return ca_err(CA_EUSAGE,
				      "profile %s: unknown SAN type '%s'", name,
				      s ? s : "?");
	}
	return CA_OK;
}

static int custom_key_usage(json_t *arr, const char *name, unsigned *out)
{
	size_t i, k;
	json_t *v;

	*out = 0;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);

		for (k = 0; k < sizeof(ku_names) / sizeof(ku_names[0]); k++)
			if (s != NULL && strcmp(s, ku_names[k].name) == 0)
				break;
		if (k == sizeof(ku_names) / sizeof(ku_names[0]))
			return ca_err(CA_EUSAGE,
				      "profile %s: key usage '%s' is not "
				      "allowed in a leaf",
				      name, s ? s : "?");
		*out |= ku_names[k].bit;
	}
	return CA_OK;
}

/* ekus, key_usage, san_types: lists of strings; max_days, default_days:
 * whole numbers. */
static int profile_types(json_t *def, const char *name)
{
	static const char *const lists[] = {"ekus", "key_usage", "san_types"};
	static const char *const numbers[] = {"max_days", "default_days"};
	size_t i, k;
	json_t *v, *e;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		v = json_object_get(def, lists[i]);
		if (v != NULL && !json_is_array(v))
			return ca_err(CA_EUSAGE,
				      "profile %s: '%s' must be a list of "
				      "names, not a single value",
				      name, lists[i]);
		json_array_foreach(v, k, e) if (
		    !json_is_string(e)) return ca_err(CA_EUSAGE,
						      "profile %s: '%s' item "
						      "%zu must be a string",
						      name, lists[i], k + 1);
	}
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		v = json_object_get(def, numbers[i]);
		if (v != NULL && !json_is_integer(v))
			return ca_err(CA_EUSAGE,
				      "profile %s: '%s' must be a whole number "
				      "of days",
				      name, numbers[i]);
	}
	return CA_OK;
}

static int custom_profile(json_t *def, const char *name,
			  struct ca_leaf_profile *p)
{
	static const char *const keys[] = {
	    "ekus", "key_usage", "max_days", "default_days", "san_types", NULL};
	char what[160];
	json_t *v, *ekus;
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!json_is_object(def))
		return ca_err(CA_EUSAGE,
			      "profile %s in ca.json is not an object", name);
	snprintf(what, sizeof(what), "profile %s", name);
	GUARD(ca_json_keys_refuse(def, what, keys));
	/* Every value of its one type: a string where a list is due would
	 * otherwise give a certificate without the extension. */
	GUARD(profile_types(def, name));
	p->max_days =
	    (long)json_integer_value(json_object_get(def, "max_days"));
	p->default_days =
	    (long)json_integer_value(json_object_get(def, "default_days"));
	if (p->max_days < 1 || p->max_days > 36500)
		return ca_err(CA_EUSAGE,
			      "profile %s: max_days must be 1 to 36500", name);
	if (p->default_days < 1 || p->default_days > p->max_days)
		p->default_days = p->max_days;
	p->san_types = CA_SANT_ALL;
	if (json_object_get(def, "san_types") != NULL)
		GUARD(custom_san_types(json_object_get(def, "san_types"), name,
				       &p->san_types));
	GUARD(custom_key_usage(json_object_get(def, "key_usage"), name,
			       &p->key_usage));
	ekus = json_object_get(def, "ekus");
	json_array_foreach(ekus, i, v)
	{
		ASN1_OBJECT *o = ca_eku_parse(json_string_value(v));

		if (o == NULL)
			return ca_err(
			    CA_EUSAGE, "profile %s: unknown EKU '%s'", name,
			    json_string_value(v) ? json_string_value(v) : "?");
		ASN1_OBJECT_free(o);
	}
	p->custom_ekus = ekus;
out:
	return rc;
}

int ca_leaf_profile_find(json_t *config, const char *name,
			 struct ca_leaf_profile *out)
{
	json_t *custom =
	    json_object_get(json_object_get(config, "profiles"), name);
	size_t i;

	if (custom != NULL)
		return custom_profile(custom, name, out);
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strcmp(builtins[i].name, name) == 0) {
			*out = builtins[i];
			return CA_OK;
		}
	}
	return ca_err(
	    CA_EUSAGE,
	    "unknown profile '%s' (server, client, server-client, "
	    "code-signing, email, ocsp-signing, csr-passthrough, or a "
	    "profile in ca.json)",
	    name);
}

unsigned ca_leaf_key_usage(const struct ca_leaf_profile *p, EVP_PKEY *pub)
{
	unsigned ku = p->key_usage;
	int type = EVP_PKEY_get_base_id(pub);

	if (ku == 0)
		ku = type == EVP_PKEY_RSA
			 ? KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT
			 : KU_DIGITAL_SIGNATURE;
	/* Never ask a key for what its type cannot do (RFC 8813, RFC 8410). */
	if (type != EVP_PKEY_RSA)
		ku &= ~(unsigned)(KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT);
	if (type != EVP_PKEY_EC)
		ku &= ~(unsigned)KU_KEY_AGREEMENT;
	return ku;
}

static int add_field(X509_NAME *name, int nid, const char *value)
{
	size_t len = strlen(value);

	/* RFC 5280 Appendix A upper bounds. */
	if (len == 0 || (nid == NID_commonName && len > 64) ||
	    (nid == NID_countryName && len != 2) || len > 128)
		return ca_err(CA_EPOLICY,
			      "subject %s '%.80s%s' is empty or too long",
			      OBJ_nid2sn(nid), value, len > 80 ? "..." : "");
	if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
				       (const unsigned char *)value, (int)len,
				       -1, 0) != 1) {
		ERR_clear_error();
		return ca_err(CA_EPOLICY, "subject %s '%s' is not allowed",
			      OBJ_nid2sn(nid), value);
	}
	return CA_OK;
}

int ca_leaf_subject(X509_REQ *req, const struct ca_subject_override *ov,
		    X509_NAME **out)
{
	const struct {
		int nid;
		const char *value;
	} order[] = {
	    {NID_countryName, ov->country},
	    {NID_stateOrProvinceName, ov->state},
	    {NID_localityName, ov->locality},
	    {NID_organizationName, ov->organization},
	    {NID_organizationalUnitName, ov->organizational_unit},
	    {NID_commonName, ov->cn},
	    {NID_pkcs9_emailAddress, ov->email_address},
	};
	const X509_NAME *src = X509_REQ_get_subject_name(req);
	X509_NAME *name = X509_NAME_new();
	size_t k;
	int i, rc = CA_OK;

	*out = NULL;
	if (name == NULL)
		return ca_err(CA_EIO, "out of memory");
	/* CSR attributes of other types first, in the CSR's order. */
	for (i = 0; i < X509_NAME_entry_count(src); i++) {
		X509_NAME_ENTRY *e = X509_NAME_get_entry(src, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));

		for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
			if (order[k].nid == nid)
				break;
		if (k == sizeof(order) / sizeof(order[0]) &&
		    X509_NAME_add_entry(name, e, -1, 0) != 1) {
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
	}
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (order[k].value != NULL) {
			GUARD(add_field(name, order[k].nid, order[k].value));
			continue;
		}
		for (i = -1; (i = X509_NAME_get_index_by_NID(src, order[k].nid,
							     i)) >= 0;) {
			X509_NAME_ENTRY *e = X509_NAME_get_entry(src, i);

			if (order[k].nid == NID_commonName &&
			    ASN1_STRING_length(X509_NAME_ENTRY_get_data(e)) >
				64) {
				rc = ca_err(CA_EPOLICY,
					    "the CSR's commonName is longer "
					    "than 64 characters (RFC 5280)");
				goto out;
			}
			if (X509_NAME_add_entry(name, e, -1, 0) != 1) {
				rc = ca_err(CA_EIO, "out of memory");
				goto out;
			}
		}
	}
	*out = name;
	name = NULL;
out:
	X509_NAME_free(name);
	return rc;
}
