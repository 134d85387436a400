#include "x509/leafprof.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "lint/lint.h"
#include "x509/profile.h"

static const struct ca_leaf_profile builtins[] = {
	{"server", {"serverAuth"}, 1, NULL, 0, 825, 365, CA_SANT_DNS | CA_SANT_IP, 0, 0},
	{"client", {"clientAuth"}, 1, NULL, 0, 825, 365, CA_SANT_ALL, 0, 0},
	{"server-client", {"serverAuth", "clientAuth"}, 2, NULL, 0, 825, 365,
	 CA_SANT_ALL, 0, 0},
	{"code-signing", {"codeSigning"}, 1, NULL, KU_DIGITAL_SIGNATURE, 1095, 365,
	 CA_SANT_ALL, 0, 0},
	{"email", {"emailProtection"}, 1, NULL, 0, 825, 365, CA_SANT_EMAIL, 0, 0},
	{"ocsp-signing", {"OCSPSigning"}, 1, NULL, KU_DIGITAL_SIGNATURE, 365, 30,
	 CA_SANT_ALL, 1, 0},
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
	json_array_foreach(arr, i, v) {
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
			return ca_err(CA_EUSAGE, "profile %s: unknown SAN type '%s'",
				      name, s ? s : "?");
	}
	return CA_OK;
}

static int custom_key_usage(json_t *arr, const char *name, unsigned *out)
{
	size_t i, k;
	json_t *v;

	*out = 0;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		for (k = 0; k < sizeof(ku_names) / sizeof(ku_names[0]); k++)
			if (s != NULL && strcmp(s, ku_names[k].name) == 0)
				break;
		if (k == sizeof(ku_names) / sizeof(ku_names[0]))
			return ca_err(CA_EUSAGE, "profile %s: key usage '%s' is not "
						 "allowed in a leaf", name, s ? s : "?");
		*out |= ku_names[k].bit;
	}
	return CA_OK;
}

static int custom_profile(json_t *def, const char *name, struct ca_leaf_profile *p)
{
	static const char *const keys[] = {"ekus", "key_usage", "max_days",
					   "default_days", "san_types", NULL};
	const char *k;
	json_t *v, *ekus;
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!json_is_object(def))
		return ca_err(CA_EUSAGE, "profile %s in ca.json is not an object", name);
	json_object_foreach(def, k, v) {
		for (i = 0; keys[i] && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL)
			return ca_err(CA_EUSAGE, "profile %s: unknown key '%s'", name, k);
	}
	p->max_days = (long)json_integer_value(json_object_get(def, "max_days"));
	p->default_days = (long)json_integer_value(json_object_get(def, "default_days"));
	if (p->max_days < 1 || p->max_days > 36500)
		return ca_err(CA_EUSAGE, "profile %s: max_days must be 1 to 36500", name);
	if (p->default_days < 1 || p->default_days > p->max_days)
		p->default_days = p->max_days;
	p->san_types = CA_SANT_ALL;
	if (json_object_get(def, "san_types") != NULL)
		GUARD(custom_san_types(json_object_get(def, "san_types"), name,
				       &p->san_types));
	GUARD(custom_key_usage(json_object_get(def, "key_usage"), name,
			       &p->key_usage));
	ekus = json_object_get(def, "ekus");
	json_array_foreach(ekus, i, v) {
		ASN1_OBJECT *o = ca_eku_parse(json_string_value(v));

		if (o == NULL)
			return ca_err(CA_EUSAGE, "profile %s: unknown EKU '%s'", name,
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
	json_t *custom = json_object_get(json_object_get(config, "profiles"), name);
	size_t i;

	if (custom != NULL)
		return custom_profile(custom, name, out);
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strcmp(builtins[i].name, name) == 0) {
			*out = builtins[i];
			return CA_OK;
		}
	}
	return ca_err(CA_EUSAGE,
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
		ku = type == EVP_PKEY_RSA ? KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT
					  : KU_DIGITAL_SIGNATURE;
	/* Never ask a key for what its type cannot do (RFC 8813, RFC 8410). */
	if (type != EVP_PKEY_RSA)
		ku &= ~(unsigned)(KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT);
	if (type != EVP_PKEY_EC)
		ku &= ~(unsigned)KU_KEY_AGREEMENT;
	return ku;
}

void ca_sans_free(struct ca_san *sans, size_t n)
{
	size_t i;

	for (i = 0; i < n && sans != NULL; i++)
		free(sans[i].value);
	free(sans);
}

static int printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* RFC 5321 mailbox: local@domain, ASCII, domain a DNS name. */
static int check_email(const char *v)
{
	const char *at = strrchr(v, '@');

	if (at == NULL || at == v || !printable_ascii(v) || strlen(v) > 254 ||
	    at - v > 64)
		return ca_err(CA_EPOLICY, "'%s' is not a valid email address", v);
	if (ca_lint_dns_name(at + 1, strlen(at + 1), 0) < 0)
		return ca_err(CA_EPOLICY, "'%s' is not a valid email address", v);
	return CA_OK;
}

/* RFC 3986 absolute URI with a scheme and ASCII only. */
static int check_uri(const char *v)
{
	const char *colon = strchr(v, ':');
	const char *p;

	if (colon == NULL || colon == v || !isalpha((unsigned char)v[0]) ||
	    !printable_ascii(v) || strlen(v) > 2048 || colon[1] == '\0')
		return ca_err(CA_EPOLICY, "'%s' is not a valid URI", v);
	for (p = v; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
			return ca_err(CA_EPOLICY, "'%s' is not a valid URI", v);
	return CA_OK;
}

static int ia5(GENERAL_NAME *g, int type, const char *v)
{
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (s == NULL || ASN1_STRING_set(s, v, (int)strlen(v)) != 1) {
		ASN1_IA5STRING_free(s);
		return ca_err(CA_EIO, "out of memory");
	}
	GENERAL_NAME_set0_value(g, type, s);
	return CA_OK;
}

static int encode_one(const struct ca_san *san, GENERAL_NAME *g)
{
	const char *v = san->value;
	int rc;

	switch (san->type) {
	case CA_SAN_DNS:
		rc = ca_lint_dns_name(v, strlen(v), 1);
		return rc < 0 ? rc : ia5(g, GEN_DNS, v);
	case CA_SAN_IP: {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(v);

		if (ip == NULL) {
			ERR_clear_error();
			return ca_err(CA_EPOLICY, "'%s' is not an IPv4 or IPv6 address", v);
		}
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		return CA_OK;
	}
	case CA_SAN_EMAIL:
		rc = check_email(v);
		return rc < 0 ? rc : ia5(g, GEN_EMAIL, v);
	case CA_SAN_URI:
		rc = check_uri(v);
		return rc < 0 ? rc : ia5(g, GEN_URI, v);
	}
	return ca_err(CA_EPOLICY, "unknown SAN type");
}

static const char *san_type_name(enum ca_san_type t)
{
	static const char *const names[] = {"DNS", "IP", "email", "URI"};

	return names[t];
}

int ca_sans_encode(const struct ca_san *sans, size_t n, unsigned allowed,
		   GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	size_t i;
	int rc = CA_OK;

	*out = NULL;
	if (gens == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < n; i++) {
		GENERAL_NAME *g;

		if (!(allowed & (1u << sans[i].type))) {
			rc = ca_err(CA_EPOLICY, "SAN %s:%s is not allowed by the profile",
				    san_type_name(sans[i].type), sans[i].value);
			goto out;
		}
		g = GENERAL_NAME_new();
		if (g == NULL) {
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
		rc = encode_one(&sans[i], g);
		if (rc < 0 || !sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			if (rc == CA_OK)
				rc = ca_err(CA_EIO, "out of memory");
			rc = ca_err_ctx(rc, "invalid SAN %s:%.300s",
					san_type_name(sans[i].type), sans[i].value);
			goto out;
		}
	}
	*out = gens;
	gens = NULL;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static int push_san(struct ca_san **sans, size_t *n, enum ca_san_type t,
		    const unsigned char *data, size_t len)
{
	struct ca_san *ns;
	char *v;

	if (memchr(data, '\0', len) != NULL)
		return ca_err(CA_EPOLICY, "the CSR has a SAN with an embedded NUL byte");
	v = malloc(len + 1);
	ns = realloc(*sans, (*n + 1) * sizeof(**sans));
	if (v == NULL || ns == NULL) {
		free(v);
		if (ns != NULL)
			*sans = ns;
		return ca_err(CA_EIO, "out of memory");
	}
	memcpy(v, data, len);
	v[len] = '\0';
	*sans = ns;
	ns[*n].type = t;
	ns[*n].value = v;
	(*n)++;
	return CA_OK;
}

int ca_csr_sans(X509_REQ *req, struct ca_san **sans, size_t *n)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *gens = NULL;
	char ip[64];
	int i, rc = CA_OK;

	*sans = NULL;
	*n = 0;
	ERR_clear_error();
	if (exts != NULL)
		gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && rc == CA_OK; i++) {
		int type;
		ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
		const unsigned char *d = s ? ASN1_STRING_get0_data(s) : NULL;
		size_t len = s ? (size_t)ASN1_STRING_length(s) : 0;

		switch (type) {
		case GEN_DNS: rc = push_san(sans, n, CA_SAN_DNS, d, len); break;
		case GEN_EMAIL: rc = push_san(sans, n, CA_SAN_EMAIL, d, len); break;
		case GEN_URI: rc = push_san(sans, n, CA_SAN_URI, d, len); break;
		case GEN_IPADD:
			if ((len != 4 && len != 16) ||
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip)) == NULL) {
				rc = ca_err(CA_EPOLICY, "the CSR has a malformed IP SAN");
				break;
			}
			rc = push_san(sans, n, CA_SAN_IP, (const unsigned char *)ip,
				      strlen(ip));
			break;
		default:
			rc = ca_err(CA_EPOLICY, "the CSR has a SAN of an unsupported type");
		}
	}
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (rc < 0) {
		ca_sans_free(*sans, *n);
		*sans = NULL;
		*n = 0;
	}
	return rc;
}

int ca_csr_refuse_ca(X509_REQ *req, const char *what)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	BASIC_CONSTRAINTS *bc = NULL;
	int rc = CA_OK;

	if (exts != NULL)
		bc = X509V3_get_d2i(exts, NID_basic_constraints, NULL, NULL);
	if (bc != NULL && bc->ca)
		rc = ca_err(CA_EPOLICY, "the CSR %s asks for a CA certificate (cA=TRUE): "
					"refused for an end-entity certificate", what);
	BASIC_CONSTRAINTS_free(bc);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return rc;
}

static int add_field(X509_NAME *name, int nid, const char *value)
{
	size_t len = strlen(value);

	/* RFC 5280 Appendix A upper bounds. */
	if (len == 0 || (nid == NID_commonName && len > 64) ||
	    (nid == NID_countryName && len != 2) || len > 128)
		return ca_err(CA_EPOLICY, "subject %s '%.80s%s' is empty or too long",
			      OBJ_nid2sn(nid), value, len > 80 ? "..." : "");
	if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
				       (const unsigned char *)value, (int)len, -1,
				       0) != 1) {
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
		for (i = -1; (i = X509_NAME_get_index_by_NID(src, order[k].nid, i)) >= 0;) {
			X509_NAME_ENTRY *e = X509_NAME_get_entry(src, i);

			if (order[k].nid == NID_commonName &&
			    ASN1_STRING_length(X509_NAME_ENTRY_get_data(e)) > 64) {
				rc = ca_err(CA_EPOLICY, "the CSR's commonName is longer "
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
