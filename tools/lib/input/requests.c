/* Batch leaf requests: the serverless CA's tls.json, parsed strictly.
 *
 * The keys and forms the serverless CA documents are accepted as written,
 * except three that hsmca cannot honour and refuses by name: the "profile"
 * key (sign-leaf --profile chooses), the DN SAN type, and a request with
 * no CSR (the serverless CA can make the key; here the key never leaves
 * its owner). Anything else unknown (keys, types, duplicate keys, SAN
 * types, purposes, EKU names) is refused with the file, the request
 * (1-based) and the key. Values are kept as written: DNS syntax, wildcard
 * rules and SAN lengths are checked by lint at signing time, never fixed
 * or dropped here. A JSON null stands for "not given", as it does for the
 * serverless CA (except notify_*, which are recorded as given).
 */
#include "input/requests.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "base/base64.h"
#include "base/json.h"
#include "base/number.h"
#include "base/read.h"
#include "base/text.h"
#include "input/csr.h"
#include "x509/limits.h"
#include "x509/serial.h"

#define MAX_REQUESTS   10000   /* ca_requests_parse: one JSON tree */
#define MAX_STREAMED   1000000 /* ca_requests_open: one request at a time */
#define MAX_BATCH_FILE (256L * 1024 * 1024)
#define MAX_SANS       CA_MAX_SANS /* per request, all forms together */
#define MAX_EKUS       64 /* entries in purposes, in extended_key_usages */
#define MAX_EXTENSIONS 64
#define MAX_TEXT       2048 /* a SAN value, a name, an EKU */
#define MAX_CSR_PATH   4096 /* csr_file */
#define MAX_CSR_B64    (256 * 1024)
#define MAX_EXT_VALUE  4096  /* decoded value_b64 */
#define MAX_EXT_B64    16384 /* value_b64 as written, whitespace included */
#define MAX_LIFETIME   36500 /* days: 100 years */
#define SAN_UNTYPED    (-1)  /* classify the value (string and list forms) */

/* Where we are, for error messages. */
struct ctx {
	const char *what; /* the file */
	size_t index;	  /* request, from 0 */
	char *key;	  /* NULL, or where req_err names the key (KEY_MAX) */
};

#define KEY_MAX	   128
#define ERRORS_MAX 1000 /* errors of an invalid batch file listed */

static const char *const request_keys[] = {
    "common_name",
    "sans",
    "purposes",
    "extended_key_usages",
    "lifetime",
    "country",
    "state",
    "locality",
    "organization",
    "organizational_unit",
    "email_address",
    "csr_file",
    "base64_csr_data",
    "force_issue",
    "cert_bundle",
    "ca_chain_only",
    "notify_expiry",
    "notify_issued",
    "extensions",
    "renew",
    NULL,
};
static const char *const extension_keys[] = {"oid", "value_b64", "critical",
					     NULL};
static const char *const san_object_keys[] = {"type", "value", NULL};

/* EKU names (AWS Private CA's, as the serverless CA takes them). */
static const struct {
	const char *name;
	const char *oid;
} eku_names[] = {
    {"TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1"},
    {"TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2"},
    {"CODE_SIGNING", "1.3.6.1.5.5.7.3.3"},
    {"EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4"},
    {"IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.5"},
    {"IPSEC_TUNNEL", "1.3.6.1.5.5.7.3.6"},
    {"IPSEC_USER", "1.3.6.1.5.5.7.3.7"},
    {"TIME_STAMPING", "1.3.6.1.5.5.7.3.8"},
    {"OCSP_SIGNING", "1.3.6.1.5.5.7.3.9"},
    {"ANY", "2.5.29.37.0"},
};

static const struct {
	const char *purpose;
	const char *eku;
} purposes[] = {
    {"client_auth", "TLS_WEB_CLIENT_AUTHENTICATION"},
    {"server_auth", "TLS_WEB_SERVER_AUTHENTICATION"},
};

static const struct {
	const char *name;
	enum ca_san_type type;
} san_map_types[] = {
    {"DNS_NAME", CA_SAN_DNS},
    {"IP_ADDRESS", CA_SAN_IP},
    {"EMAIL_ADDRESS", CA_SAN_EMAIL},
    {"URL", CA_SAN_URI},
};

static const struct {
	const char *prefix;
	enum ca_san_type type;
} san_arg_types[] = {
    {"dns", CA_SAN_DNS},
    {"ip", CA_SAN_IP},
    {"email", CA_SAN_EMAIL},
    {"uri", CA_SAN_URI},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int oom(void)
{
	return ca_err(CA_EIO, "out of memory");
}

static int req_err(const struct ctx *c, const char *key, const char *fmt, ...)
    CA_PRINTF(3, 4);

/* "what: request N: key: message" (CA_EUSAGE). */
static int req_err(const struct ctx *c, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->key != NULL)
		snprintf(c->key, KEY_MAX, "%s", key != NULL ? key : "");
	if (key == NULL)
		return ca_err(CA_EUSAGE, "%s: request %zu: %s", c->what,
			      c->index + 1, msg);
	return ca_err(CA_EUSAGE, "%s: request %zu: %s: %s", c->what,
		      c->index + 1, key, msg);
}

/* A key's value; NULL when absent or null. */
static json_t *opt(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* Characters (not bytes) of a UTF-8 string; jansson has checked UTF-8. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Refuse keys not in known[] (NULL-terminated) as every JSON file does
 * (base/json.h); where is NULL for the request itself. */
static int check_keys(const struct ctx *c, const char *where, const json_t *obj,
		      const char *const *known)
{
	const char *key = ca_json_unknown_key((json_t *)obj, known);
	char what[600];

	if (key == NULL)
		return CA_OK;
	if (where == NULL && strcmp(key, "profile") == 0)
		return req_err(c, NULL,
			       "key 'profile' is not supported in "
			       "requests: choose the profile with "
			       "sign-leaf --profile");
	snprintf(what, sizeof(what), "%s: request %zu%s%s", c->what,
		 c->index + 1, where != NULL ? ": " : "",
		 where != NULL ? where : "");
	/* The key an error list names: the unknown one. */
	if (c->key != NULL)
		ca_text_show(where != NULL ? where : key, c->key, KEY_MAX);
	return ca_json_key_refuse(what, key);
}

/* A JSON string as a C string (borrowed): no NUL inside, at most max
 * bytes. */
static int get_str(const struct ctx *c, const char *key, const json_t *v,
		   size_t max, const char **out)
{
	size_t len;

	if (!json_is_string(v))
		return req_err(c, key, "must be a string, not %s",
			       ca_json_type_name(v));
	len = json_string_length(v);
	if (strlen(json_string_value(v)) != len)
		return req_err(c, key,
			       "contains a NUL byte (\\u0000), which cannot be "
			       "carried in a certificate field");
	if (len > max)
		return req_err(c, key, "is longer than %zu bytes", max);
	*out = json_string_value(v);
	return CA_OK;
}

static int dup_str(const char *s, char **out)
{
	*out = strdup(s);
	return *out != NULL ? CA_OK : oom();
}

/* Syntax, and OpenSSL can encode it (what the signing code will do). */
static int oid_ok(const char *s)
{
	ASN1_OBJECT *o;

	if (!ca_oid_syntax_ok(s))
		return 0;
	o = OBJ_txt2obj(s, 1);
	if (o == NULL) {
		ERR_clear_error();
		return 0;
	}
	ASN1_OBJECT_free(o);
	return 1;
}

/* Untyped SAN (string and list forms): an IP literal, a URI, an email
 * address, else a DNS name. "://" wins over '@' so that a URI with user
 * information stays a URI. */
static enum ca_san_type classify(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1)
		return CA_SAN_IP;
	if (strstr(s, "://") != NULL)
		return CA_SAN_URI;
	if (strchr(s, '@') != NULL)
		return CA_SAN_EMAIL;
	return CA_SAN_DNS;
}

static int san_map_type(const struct ctx *c, const char *key, const char *name,
			enum ca_san_type *out)
{
	char shown[80];
	size_t i;

	for (i = 0; i < COUNT(san_map_types); i++) {
		if (strcasecmp(name, san_map_types[i].name) == 0) {
			*out = san_map_types[i].type;
			return CA_OK;
		}
	}
	if (strcasecmp(name, "DN") == 0)
		return req_err(
		    c, key,
		    "SAN type DN (directoryName) is not supported "
		    "(use DNS_NAME, IP_ADDRESS, EMAIL_ADDRESS or URL)");
	return req_err(c, key,
		       "unknown SAN type '%s' (use DNS_NAME, IP_ADDRESS, "
		       "EMAIL_ADDRESS or URL)",
		       ca_text_show(name, shown, sizeof(shown)));
}

/* Append one SAN value as written; type SAN_UNTYPED classifies it. */
static int san_add(const struct ctx *c, const char *key, int type,
		   const json_t *v, struct ca_leaf_request *r, size_t *cap)
{
	const char *s;
	char *value = NULL;
	int rc;

	GUARD(get_str(c, key, v, MAX_TEXT, &s));
	if (r->n_sans == MAX_SANS) {
		rc = req_err(c, "sans", "more than %d SANs", MAX_SANS);
		goto out;
	}
	if (r->n_sans == *cap) {
		size_t ncap = *cap == 0 ? 4 : *cap * 2;
		struct ca_san *ns;

		if (ncap > MAX_SANS)
			ncap = MAX_SANS;
		ns = realloc(r->sans, ncap * sizeof(*ns));
		if (ns == NULL) {
			rc = oom();
			goto out;
		}
		r->sans = ns;
		*cap = ncap;
	}
	GUARD(dup_str(s, &value));
	r->sans[r->n_sans].type =
	    type == SAN_UNTYPED ? classify(value) : (enum ca_san_type)type;
	r->sans[r->n_sans].value = value;
	r->n_sans++;
	value = NULL;
	rc = CA_OK;
out:
	free(value);
	return rc;
}

/* {"type": "DNS_NAME", "value": "a.example"}; type defaults to DNS_NAME
 * as in the serverless CA. */
static int san_object(const struct ctx *c, const char *key, const json_t *o,
		      struct ca_leaf_request *r, size_t *cap)
{
	enum ca_san_type type = CA_SAN_DNS;
	const json_t *t, *v;
	const char *name;
	char sub[128];
	int rc;

	GUARD(check_keys(c, key, o, san_object_keys));
	snprintf(sub, sizeof(sub), "%s: type", key);
	if ((t = opt(o, "type")) != NULL) {
		GUARD(get_str(c, sub, t, MAX_TEXT, &name));
		GUARD(san_map_type(c, sub, name, &type));
	}
	snprintf(sub, sizeof(sub), "%s: value", key);
	if ((v = opt(o, "value")) == NULL) {
		rc = req_err(c, sub, "is required");
		goto out;
	}
	rc = san_add(c, sub, (int)type, v, r, cap);
out:
	return rc;
}

static int sans_list(const struct ctx *c, const json_t *list,
		     struct ca_leaf_request *r, size_t *cap)
{
	size_t i, n_str = 0, n_obj = 0;
	const json_t *v;
	char key[96];
	int rc = CA_OK;

	if (json_array_size(list) > MAX_SANS)
		return req_err(c, "sans", "more than %d SANs", MAX_SANS);
	json_array_foreach(list, i, v)
	{
		snprintf(key, sizeof(key), "sans item %zu", i + 1);
		if (json_is_string(v))
			n_str++;
		else if (json_is_object(v))
			n_obj++;
		else
			return req_err(c, key,
				       "must be a string or a {\"type\", "
				       "\"value\"} object, not %s",
				       ca_json_type_name(v));
	}
	if (n_str > 0 && n_obj > 0)
		return req_err(c, "sans",
			       "mixes strings and {\"type\", \"value\"} "
			       "objects: use one form");
	json_array_foreach(list, i, v)
	{
		snprintf(key, sizeof(key), "sans item %zu", i + 1);
		if (json_is_string(v))
			rc = san_add(c, key, SAN_UNTYPED, v, r, cap);
		else
			rc = san_object(c, key, v, r, cap);
		if (rc < 0)
			break;
	}
	return rc;
}

/* {"DNS_NAME": "a" | ["a", "b"], "IP_ADDRESS": ..., ...} */
static int sans_map(const struct ctx *c, const json_t *map,
		    struct ca_leaf_request *r, size_t *cap)
{
	enum ca_san_type type;
	const char *name;
	const json_t *vals, *v;
	char key[128], shown[80];
	size_t i;
	int rc = CA_OK;

	json_object_foreach((json_t *)map, name, vals)
	{
		snprintf(key, sizeof(key), "sans: %s",
			 ca_text_show(name, shown, sizeof(shown)));
		GUARD(san_map_type(c, "sans", name, &type));
		if (json_is_string(vals)) {
			GUARD(san_add(c, key, (int)type, vals, r, cap));
			continue;
		}
		if (!json_is_array(vals)) {
			rc = req_err(c, key,
				     "must be a string or a list of strings, "
				     "not %s",
				     ca_json_type_name(vals));
			goto out;
		}
		if (json_array_size(vals) > MAX_SANS) {
			rc = req_err(c, "sans", "more than %d SANs", MAX_SANS);
			goto out;
		}
		json_array_foreach(vals, i, v)
		{
			snprintf(key, sizeof(key), "sans: %s item %zu",
				 ca_text_show(name, shown, sizeof(shown)),
				 i + 1);
			GUARD(san_add(c, key, (int)type, v, r, cap));
		}
	}
out:
	return rc;
}

static int parse_sans(const struct ctx *c, const json_t *obj,
		      struct ca_leaf_request *r)
{
	const json_t *v = opt(obj, "sans");
	size_t cap = 0;

	if (v == NULL)
		return CA_OK;
	r->sans_given = 1;
	if (json_is_string(v))
		return san_add(c, "sans", SAN_UNTYPED, v, r, &cap);
	if (json_is_array(v))
		return sans_list(c, v, r, &cap);
	if (json_is_object(v))
		return sans_map(c, v, r, &cap);
	return req_err(c, "sans",
		       "must be a string, a list, or a map of SAN type to "
		       "values, not %s",
		       ca_json_type_name(v));
}

/* The OID an EKU entry stands for: its table OID, or itself. */
static const char *eku_oid(const char *name)
{
	size_t i;

	for (i = 0; i < COUNT(eku_names); i++)
		if (strcmp(name, eku_names[i].name) == 0)
			return eku_names[i].oid;
	return name;
}

/* Append name unless an entry with the same OID is already there. */
static int eku_add(struct ca_leaf_request *r, const char *name)
{
	const char *oid = eku_oid(name);
	char *copy = NULL;
	size_t i;
	int rc;

	for (i = 0; i < r->n_ekus; i++)
		if (strcmp(eku_oid(r->ekus[i]), oid) == 0)
			return CA_OK;
	/* The caller caps each list at MAX_EKUS entries, so 2 * MAX_EKUS
	 * slots always suffice; r->ekus is allocated with that many. */
	GUARD(dup_str(name, &copy));
	r->ekus[r->n_ekus++] = copy;
	copy = NULL;
out:
	return rc;
}

static int parse_purposes(const struct ctx *c, const json_t *v,
			  struct ca_leaf_request *r)
{
	const json_t *p;
	const char *s;
	char key[64], shown[80];
	size_t i, k;
	int rc = CA_OK;

	if (!json_is_array(v))
		return req_err(c, "purposes", "must be a list, not %s",
			       ca_json_type_name(v));
	if (json_array_size(v) > MAX_EKUS)
		return req_err(c, "purposes", "more than %d entries", MAX_EKUS);
	json_array_foreach(v, i, p)
	{
		snprintf(key, sizeof(key), "purposes item %zu", i + 1);
		GUARD(get_str(c, key, p, MAX_TEXT, &s));
		for (k = 0; k < COUNT(purposes); k++)
			if (strcmp(s, purposes[k].purpose) == 0)
				break;
		if (k == COUNT(purposes)) {
			rc = req_err(c, key,
				     "unknown purpose '%s' (use client_auth or "
				     "server_auth)",
				     ca_text_show(s, shown, sizeof(shown)));
			goto out;
		}
		GUARD(eku_add(r, purposes[k].eku));
	}
out:
	return rc;
}

static int parse_eku_list(const struct ctx *c, const json_t *v,
			  struct ca_leaf_request *r)
{
	const json_t *e;
	const char *s;
	char key[64], shown[80];
	size_t i;
	int rc = CA_OK;

	if (!json_is_array(v))
		return req_err(c, "extended_key_usages",
			       "must be a list, not %s", ca_json_type_name(v));
	if (json_array_size(v) > MAX_EKUS)
		return req_err(c, "extended_key_usages", "more than %d entries",
			       MAX_EKUS);
	json_array_foreach(v, i, e)
	{
		snprintf(key, sizeof(key), "extended_key_usages item %zu",
			 i + 1);
		GUARD(get_str(c, key, e, MAX_TEXT, &s));
		/* NONE: "no additional extended key usages" (serverless CA). */
		if (strcmp(s, "NONE") == 0)
			continue;
		if (eku_oid(s) == s && !oid_ok(s)) {
			rc = req_err(
			    c, key,
			    "unknown extended key usage '%s' (a name "
			    "such as TLS_WEB_SERVER_AUTHENTICATION, "
			    "CODE_SIGNING, IPSEC_USER, ANY, or a dotted "
			    "OID such as 1.3.6.1.5.5.7.3.17)",
			    ca_text_show(s, shown, sizeof(shown)));
			goto out;
		}
		GUARD(eku_add(r, s));
	}
out:
	return rc;
}

/* purposes then extended_key_usages, merged, deduplicated by OID. */
static int parse_ekus(const struct ctx *c, const json_t *obj,
		      struct ca_leaf_request *r)
{
	const json_t *p = opt(obj, "purposes");
	const json_t *e = opt(obj, "extended_key_usages");
	int rc = CA_OK;

	if (p == NULL && e == NULL)
		goto out;
	r->ekus = calloc(2 * MAX_EKUS, sizeof(*r->ekus));
	if (r->ekus == NULL) {
		rc = oom();
		goto out;
	}
	if (p != NULL)
		GUARD(parse_purposes(c, p, r));
	if (e != NULL)
		GUARD(parse_eku_list(c, e, r));
out:
	return rc;
}

static int parse_lifetime(const struct ctx *c, const json_t *obj,
			  struct ca_leaf_request *r)
{
	const json_t *v = opt(obj, "lifetime");
	json_int_t days;

	if (v == NULL)
		return CA_OK;
	if (!json_is_integer(v))
		return req_err(c, "lifetime",
			       "must be a whole number of days, not %s",
			       ca_json_type_name(v));
	days = json_integer_value(v);
	if (days < 1)
		return req_err(c, "lifetime",
			       "must be at least 1 day (got %lld)",
			       (long long)days);
	if (days > MAX_LIFETIME)
		return req_err(c, "lifetime",
			       "must be at most %d days (got %lld)",
			       MAX_LIFETIME, (long long)days);
	r->lifetime = (long)days;
	return CA_OK;
}

static int parse_common_name(const struct ctx *c, const json_t *obj,
			     struct ca_leaf_request *r)
{
	const json_t *v = opt(obj, "common_name");
	const char *s;
	int rc = CA_OK;

	if (v == NULL)
		goto out;
	GUARD(get_str(c, "common_name", v, MAX_TEXT, &s));
	if (*s == '\0') {
		rc = req_err(c, "common_name", "must not be empty");
		goto out;
	}
	if (utf8_chars(s) > CA_UB_COMMON_NAME) {
		rc = req_err(c, "common_name",
			     "is longer than %d characters (RFC 5280 "
			     "ub-common-name)",
			     CA_UB_COMMON_NAME);
		goto out;
	}
	rc = dup_str(s, &r->common_name);
out:
	return rc;
}

/* A subject attribute of 1..ub characters (exactly ub when exact). An
 * empty string is "not given", as for the serverless CA. */
static int subject_field(const struct ctx *c, const json_t *obj,
			 const char *key, size_t ub, int exact, char **out)
{
	const json_t *v = opt(obj, key);
	const char *s;
	size_t n;
	int rc = CA_OK;

	if (v == NULL)
		goto out;
	GUARD(get_str(c, key, v, MAX_TEXT, &s));
	if (*s == '\0')
		goto out;
	n = utf8_chars(s);
	if (exact && n != ub) {
		rc = req_err(c, key, "must be %zu characters (ISO 3166 code)",
			     ub);
		goto out;
	}
	if (n > ub) {
		rc = req_err(c, key, "is longer than %zu characters (RFC 5280)",
			     ub);
		goto out;
	}
	rc = dup_str(s, out);
out:
	return rc;
}

static int parse_subject(const struct ctx *c, const json_t *obj,
			 struct ca_leaf_request *r)
{
	int rc;

	GUARD(subject_field(c, obj, "country", CA_UB_COUNTRY, 1, &r->country));
	GUARD(subject_field(c, obj, "state", CA_UB_STATE_NAME, 0, &r->state));
	GUARD(subject_field(c, obj, "locality", CA_UB_LOCALITY_NAME, 0,
			    &r->locality));
	GUARD(subject_field(c, obj, "organization", CA_UB_ORGANIZATION_NAME, 0,
			    &r->organization));
	GUARD(subject_field(c, obj, "organizational_unit",
			    CA_UB_ORGANIZATIONAL_UNIT_NAME, 0,
			    &r->organizational_unit));
	GUARD(subject_field(c, obj, "email_address", CA_UB_EMAIL_ADDRESS, 0,
			    &r->email_address));
out:
	return rc;
}

/* Relative to --csr-dir: not absolute, no ".." component. */
static int csr_path_ok(const char *p)
{
	const char *seg = p;

	if (*p == '\0' || *p == '/')
		return 0;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (len == 2 && seg[0] == '.' && seg[1] == '.')
			return 0;
		if (end == NULL)
			return 1;
		seg = end + 1;
	}
}

static int parse_csr(const struct ctx *c, const json_t *obj,
		     struct ca_leaf_request *r)
{
	const json_t *file = opt(obj, "csr_file");
	const json_t *b64 = opt(obj, "base64_csr_data");
	const char *s;
	char shown[80];
	int rc = CA_OK;

	if (file != NULL && b64 != NULL) {
		rc = req_err(
		    c, NULL,
		    "give either csr_file or base64_csr_data, not both");
		goto out;
	}
	if (file == NULL && b64 == NULL) {
		rc = req_err(c, NULL, "needs csr_file or base64_csr_data");
		goto out;
	}
	if (file != NULL) {
		GUARD(get_str(c, "csr_file", file, MAX_CSR_PATH, &s));
		if (!csr_path_ok(s)) {
			rc = req_err(
			    c, "csr_file",
			    "'%s' must be a path relative to --csr-dir, "
			    "without '..'",
			    ca_text_show(s, shown, sizeof(shown)));
			goto out;
		}
		rc = dup_str(s, &r->csr_file);
		goto out;
	}
	GUARD(get_str(c, "base64_csr_data", b64, MAX_CSR_B64, &s));
	rc = ca_base64_decode_lenient(s, &r->csr_pem, &r->csr_pem_len);
	if (rc == CA_EUSAGE) {
		rc = req_err(c, "base64_csr_data",
			     "is not valid base64 (standard alphabet, with "
			     "padding)");
		goto out;
	}
	if (rc < 0)
		goto out;
	if (r->csr_pem_len == 0) {
		rc = req_err(c, "base64_csr_data", "decodes to nothing");
		goto out;
	}
	/* The cap of a CSR file (input/csr.h), whichever way it comes. */
	if (r->csr_pem_len > CA_MAX_CSR) {
		rc = req_err(c, "base64_csr_data",
			     "decodes to %zu bytes, more than a CSR may have "
			     "(%d)",
			     r->csr_pem_len, CA_MAX_CSR);
		goto out;
	}
out:
	return rc;
}

static int get_bool(const struct ctx *c, const json_t *obj, const char *key,
		    int *out)
{
	const json_t *v = opt(obj, key);

	*out = 0;
	if (v == NULL)
		return CA_OK;
	if (!json_is_boolean(v))
		return req_err(c, key, "must be true or false, not %s",
			       ca_json_type_name(v));
	*out = json_is_true(v);
	return CA_OK;
}

/* notify_expiry / notify_issued: any JSON value, recorded as given. */
static int parse_notify(const json_t *obj, struct ca_leaf_request *r)
{
	static const char *const keys[] = {"notify_expiry", "notify_issued"};
	size_t i;
	int rc = CA_OK;

	for (i = 0; i < COUNT(keys); i++) {
		const json_t *v = json_object_get(obj, keys[i]);

		if (v == NULL)
			continue;
		if (r->notify == NULL && (r->notify = json_object()) == NULL) {
			rc = oom();
			goto out;
		}
		if (json_object_set_new(r->notify, keys[i],
					json_deep_copy(v)) != 0) {
			rc = oom();
			goto out;
		}
	}
out:
	return rc;
}

/* One {"oid", "value_b64", "critical"} entry, normalised: value_b64
 * re-encoded without whitespace, critical always present. */
static int extension_one(const struct ctx *c, const char *key, const json_t *e,
			 json_t *list)
{
	const json_t *v;
	const char *oid, *b64;
	unsigned char *der = NULL;
	char *canon = NULL, sub[96], shown[80];
	size_t der_len, i;
	const json_t *prev;
	int critical = 0, rc;

	if (!json_is_object(e)) {
		rc = req_err(c, key, "must be an object, not %s",
			     ca_json_type_name(e));
		goto out;
	}
	GUARD(check_keys(c, key, e, extension_keys));
	snprintf(sub, sizeof(sub), "%s: oid", key);
	if ((v = opt(e, "oid")) == NULL) {
		rc = req_err(c, sub, "is required");
		goto out;
	}
	GUARD(get_str(c, sub, v, CA_OID_MAX, &oid));
	if (!oid_ok(oid)) {
		rc = req_err(c, sub, "'%s' is not a dotted OID",
			     ca_text_show(oid, shown, sizeof(shown)));
		goto out;
	}
	json_array_foreach(list, i, prev)
	{
		if (strcmp(json_string_value(json_object_get(prev, "oid")),
			   oid) == 0) {
			/* RFC 5280 4.2: one instance of an extension. */
			rc = req_err(c, sub, "%s is given twice", oid);
			goto out;
		}
	}
	snprintf(sub, sizeof(sub), "%s: value_b64", key);
	if ((v = opt(e, "value_b64")) == NULL) {
		rc = req_err(c, sub, "is required");
		goto out;
	}
	GUARD(get_str(c, sub, v, MAX_EXT_B64, &b64));
	rc = ca_base64_decode_lenient(b64, &der, &der_len);
	if (rc == CA_EUSAGE) {
		rc = req_err(c, sub,
			     "is not valid base64 (standard alphabet, with "
			     "padding)");
		goto out;
	}
	if (rc < 0)
		goto out;
	if (der_len < 1 || der_len > MAX_EXT_VALUE) {
		rc = req_err(c, sub, "must decode to 1 to %d bytes (got %zu)",
			     MAX_EXT_VALUE, der_len);
		goto out;
	}
	snprintf(sub, sizeof(sub), "%s: critical", key);
	if ((v = opt(e, "critical")) != NULL) {
		if (!json_is_boolean(v)) {
			rc = req_err(c, sub, "must be true or false, not %s",
				     ca_json_type_name(v));
			goto out;
		}
		critical = json_is_true(v);
	}
	canon = ca_base64_encode(der, der_len);
	if (canon == NULL) {
		rc = oom();
		goto out;
	}
	if (json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "oid", oid,
						  "value_b64", canon,
						  "critical", critical)) != 0) {
		rc = oom();
		goto out;
	}
	rc = CA_OK;
out:
	free(der);
	free(canon);
	return rc;
}

static int parse_extensions(const struct ctx *c, const json_t *obj,
			    struct ca_leaf_request *r)
{
	const json_t *v = opt(obj, "extensions"), *e;
	json_t *list = NULL;
	char key[64];
	size_t i;
	int rc = CA_OK;

	if (v == NULL)
		goto out;
	if (!json_is_array(v)) {
		rc = req_err(c, "extensions", "must be a list, not %s",
			     ca_json_type_name(v));
		goto out;
	}
	if (json_array_size(v) > MAX_EXTENSIONS) {
		rc = req_err(c, "extensions", "more than %d entries",
			     MAX_EXTENSIONS);
		goto out;
	}
	if (json_array_size(v) == 0)
		goto out;
	list = json_array();
	if (list == NULL) {
		rc = oom();
		goto out;
	}
	json_array_foreach(v, i, e)
	{
		snprintf(key, sizeof(key), "extensions item %zu", i + 1);
		GUARD(extension_one(c, key, e, list));
	}
	r->extensions = list;
	list = NULL;
out:
	json_decref(list);
	return rc;
}

/* renew: the serial of the certificate this request renews, as
 * `openssl x509 -serial` prints it; kept in the store's form. */
static int parse_renew(const struct ctx *c, const json_t *obj,
		       struct ca_leaf_request *r)
{
	const json_t *v = opt(obj, "renew");
	const char *s;
	char serial[48];
	int rc;

	if (v == NULL)
		return CA_OK;
	GUARD(get_str(c, "renew", v, MAX_TEXT, &s));
	if (ca_serial_canonical(s, serial, sizeof(serial)) < 0) {
		rc = req_err(c, "renew", "%s", ca_errmsg());
		goto out;
	}
	if (r->force_issue) {
		rc = req_err(c, "renew",
			     "a renewal is not combined with force_issue");
		goto out;
	}
	rc = dup_str(serial, &r->renew);
out:
	return rc;
}

/* One request object; r is zeroed and freed by the caller on error. */
static int parse_one(const struct ctx *c, const json_t *obj,
		     struct ca_leaf_request *r)
{
	int rc;

	r->index = c->index;
	if (!json_is_object(obj)) {
		rc = req_err(c, NULL, "must be a JSON object, not %s",
			     ca_json_type_name(obj));
		goto out;
	}
	GUARD(check_keys(c, NULL, obj, request_keys));
	GUARD(parse_common_name(c, obj, r));
	GUARD(parse_sans(c, obj, r));
	GUARD(parse_ekus(c, obj, r));
	GUARD(parse_lifetime(c, obj, r));
	GUARD(parse_subject(c, obj, r));
	GUARD(parse_csr(c, obj, r));
	GUARD(get_bool(c, obj, "force_issue", &r->force_issue));
	GUARD(get_bool(c, obj, "cert_bundle", &r->cert_bundle));
	GUARD(get_bool(c, obj, "ca_chain_only", &r->ca_chain_only));
	GUARD(parse_notify(obj, r));
	GUARD(parse_extensions(c, obj, r));
	GUARD(parse_renew(c, obj, r));
	if (r->common_name == NULL && r->n_sans == 0)
		rc = req_err(c, NULL, "needs a common_name or sans");
out:
	return rc;
}

int ca_requests_parse(const unsigned char *data, size_t len, const char *what,
		      struct ca_leaf_request **reqs, size_t *n)
{
	struct ca_leaf_request *list = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	struct ctx c;
	size_t count = 0, i;
	char shown[200];
	int rc = CA_OK;

	*reqs = NULL;
	*n = 0;
	c.what = what != NULL ? what : "requests";
	c.index = 0;
	c.key = NULL;
	if (len > CA_MAX_INPUT) {
		rc = ca_err(CA_EUSAGE, "%s is larger than %d bytes", c.what,
			    CA_MAX_INPUT);
		goto out;
	}
	/* NUL inside strings is let through jansson so that we can name
	 * the key that holds it (get_str). */
	root = json_loadb(
	    data != NULL ? (const char *)data : "", len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		rc = ca_err(CA_EUSAGE,
			    "%s: not valid JSON at line %d column %d: %s",
			    c.what, jerr.line, jerr.column,
			    ca_text_show(jerr.text, shown, sizeof(shown)));
		goto out;
	}
	if (!json_is_array(root)) {
		rc = ca_err(CA_EUSAGE,
			    "%s: the top level must be a list of requests "
			    "([...]), not %s",
			    c.what, ca_json_type_name(root));
		goto out;
	}
	count = json_array_size(root);
	if (count > MAX_REQUESTS) {
		rc = ca_err(CA_EUSAGE, "%s: more than %d requests", c.what,
			    MAX_REQUESTS);
		count = 0;
		goto out;
	}
	if (count == 0)
		goto out;
	list = calloc(count, sizeof(*list));
	if (list == NULL) {
		rc = oom();
		count = 0;
		goto out;
	}
	for (i = 0; i < count; i++) {
		c.index = i;
		GUARD(parse_one(&c, json_array_get(root, i), &list[i]));
	}
	*reqs = list;
	*n = count;
	list = NULL;
out:
	ca_requests_free(list, count);
	json_decref(root);
	return rc;
}

int ca_requests_load(const char *path, struct ca_leaf_request **reqs, size_t *n)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	*reqs = NULL;
	*n = 0;
	GUARD(ca_read_file(path, CA_MAX_INPUT, &data, &len));
	rc = ca_requests_parse(data, len, path, reqs, n);
out:
	free(data);
	return rc;
}

static void ca_requests_free_one(struct ca_leaf_request *r)
{
	size_t k;

	free(r->common_name);
	for (k = 0; k < r->n_sans; k++)
		free(r->sans[k].value);
	free(r->sans);
	for (k = 0; k < r->n_ekus; k++)
		free(r->ekus[k]);
	free(r->ekus);
	free(r->country);
	free(r->state);
	free(r->locality);
	free(r->organization);
	free(r->organizational_unit);
	free(r->email_address);
	free(r->csr_file);
	free(r->csr_pem);
	json_decref(r->notify);
	json_decref(r->extensions);
	free(r->renew);
}

void ca_requests_free(struct ca_leaf_request *reqs, size_t n)
{
	size_t i;

	if (reqs == NULL)
		return;
	for (i = 0; i < n; i++)
		ca_requests_free_one(&reqs[i]);
	free(reqs);
}

/* --- streaming: one request parsed at a time ---------------------------- */

struct ca_requests_iter {
	unsigned char *data; /* the file, mapped read-only */
	size_t len;
	size_t released; /* bytes before this are dropped from memory */
	size_t first;	 /* offset of the first element */
	size_t pos;	 /* offset of the next element */
	size_t index;	 /* index of the next element */
	size_t count;
	char *what;
	int element_error; /* the last error was in one element (skipped) */
	char key[KEY_MAX]; /* the key the last element error names */
};

static size_t skip_ws(const unsigned char *d, size_t len, size_t i)
{
	while (i < len &&
	       (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
		i++;
	return i;
}

/* The end of the JSON value starting at d[i] (strings and nesting are
 * tracked; the value itself is checked by jansson afterwards). */
static size_t value_end(const unsigned char *d, size_t len, size_t i)
{
	int depth = 0, in_str = 0, esc = 0;

	for (; i < len; i++) {
		unsigned char ch = d[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (ch == '\\')
				esc = 1;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		if (ch == '"')
			in_str = 1;
		else if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return i;
			depth--;
		} else if (ch == ',' && depth == 0)
			return i;
	}
	return len;
}

/* Drop the pages of the file already read from memory (they are read
 * again from the file if needed): a batch file of any size costs the
 * memory of what is being parsed, not of the whole file. */
static void release(struct ca_requests_iter *it)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t upto = it->pos / page * page;

	if (upto >= it->released + 64 * page) {
		(void)madvise(it->data + it->released, upto - it->released,
			      MADV_DONTNEED);
		it->released = upto;
	}
}

/* Map a batch file read-only (at most MAX_BATCH_FILE bytes). */
static int map_file(const char *path, struct ca_requests_iter *it)
{
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return ca_err(CA_EIO, "cannot open %s: %s", path,
			      strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_BATCH_FILE || st.st_size == 0) {
		close(fd);
		return ca_err(CA_EUSAGE,
			      "%s: not a regular file of 1 to %ld bytes", path,
			      MAX_BATCH_FILE);
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return ca_err(CA_EIO, "cannot read %s: %s", path,
			      strerror(errno));
	it->data = m;
	it->len = (size_t)st.st_size;
	return CA_OK;
}

/* Parse the element at it->pos into r (or only check it when r is NULL)
 * and move past it. Returns 1 when an element was read, 0 at the end. */
static int next_element(struct ca_requests_iter *it, struct ca_leaf_request *r)
{
	const unsigned char *d = it->data;
	struct ca_leaf_request tmp;
	struct ctx c = {it->what, it->index, it->key};
	json_error_t jerr;
	json_t *v = NULL;
	char shown[200];
	size_t i = skip_ws(d, it->len, it->pos), end;
	int rc;

	it->element_error = 0;
	it->key[0] = '\0';
	if (i < it->len && d[i] == ']') {
		if (skip_ws(d, it->len, i + 1) != it->len)
			return ca_err(CA_EUSAGE,
				      "%s: text after the end of the list",
				      it->what);
		it->pos = i;
		return 0;
	}
	end = value_end(d, it->len, i);
	if (end >= it->len)
		return ca_err(CA_EUSAGE,
			      "%s: not valid JSON: the list is not closed",
			      it->what);
	v = json_loadb(
	    (const char *)d + i, end - i,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (v == NULL) {
		rc = ca_err(CA_EUSAGE, "%s: request %zu: not valid JSON: %s",
			    it->what, it->index + 1,
			    ca_text_show(jerr.text, shown, sizeof(shown)));
	} else {
		memset(&tmp, 0, sizeof(tmp));
		rc = parse_one(&c, v, r != NULL ? r : &tmp);
		json_decref(v);
		if (r == NULL)
			ca_requests_free_one(&tmp);
	}
	/* Past the element, valid or not: the next one can be checked. */
	i = skip_ws(d, it->len, end);
	if (i < it->len && d[i] == ',') {
		i = skip_ws(d, it->len, i + 1);
		if (i < it->len && d[i] == ']')
			return ca_err(CA_EUSAGE,
				      "%s: not valid JSON: a comma before ']'",
				      it->what);
	}
	it->pos = i;
	it->index++;
	release(it);
	if (rc < 0) {
		it->element_error = 1;
		return rc;
	}
	return 1;
}

/* An invalid request of a file being checked: listed (up to ERRORS_MAX)
 * with its number and key. */
static int note_error(ca_requests_iter *it, json_t *errors, size_t *n)
{
	json_t *o;

	(*n)++;
	if (json_array_size(errors) >= ERRORS_MAX)
		return CA_OK;
	o = json_pack("{s:I, s:s}", "request", (json_int_t)it->index, "message",
		      ca_errmsg());
	if (o != NULL && it->key[0] != '\0')
		json_object_set_new(o, "key", json_string(it->key));
	if (o == NULL || json_array_append_new(errors, o) != 0)
		return oom();
	return CA_OK;
}

int ca_requests_open(const char *path, ca_requests_iter **out, size_t *count,
		     json_t **errors)
{
	ca_requests_iter *it = NULL;
	json_t *errs = NULL;
	size_t i, invalid = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if (errors != NULL)
		*errors = NULL;
	it = calloc(1, sizeof(*it));
	if (it == NULL || (it->what = strdup(path)) == NULL) {
		free(it);
		return oom();
	}
	if (errors != NULL && (errs = json_array()) == NULL) {
		rc = oom();
		goto out;
	}
	GUARD(map_file(path, it));
	i = skip_ws(it->data, it->len, 0);
	if (i >= it->len || it->data[i] != '[') {
		rc = ca_err(CA_EUSAGE,
			    "%s: not valid JSON, or the top level is not a "
			    "list of requests ([...])",
			    path);
		goto out;
	}
	it->first = it->pos = i + 1;
	/* Check every request before any is used: a bad file issues nothing.
	 * With errors, every invalid request is reported, not the first. */
	for (;;) {
		rc = next_element(it, NULL);
		if (rc < 0 && errs != NULL && it->element_error)
			rc = note_error(it, errs, &invalid);
		else if (rc <= 0)
			break;
		if (rc < 0)
			break;
		if (it->index > MAX_STREAMED) {
			rc = ca_err(CA_EUSAGE, "%s: more than %d requests",
				    path, MAX_STREAMED);
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	if (invalid > 0) {
		rc = ca_err(CA_EUSAGE, "%s: %zu of %zu requests are invalid",
			    path, invalid, it->index);
		*errors = json_pack("{s:I, s:O}", "invalid",
				    (json_int_t)invalid, "errors", errs);
		goto out;
	}
	it->count = it->index;
	it->pos = it->first;
	it->index = 0;
	it->released = 0;
	*count = it->count;
	*out = it;
	it = NULL;
out:
	json_decref(errs);
	ca_requests_close(it);
	return rc;
}

int ca_requests_next(ca_requests_iter *it, size_t max,
		     struct ca_leaf_request **reqs, size_t *n)
{
	struct ca_leaf_request *list;
	size_t k = 0, left = it->count - it->index;
	int rc = CA_OK;

	*reqs = NULL;
	*n = 0;
	if (max > left)
		max = left;
	if (max == 0)
		return CA_OK;
	list = calloc(max, sizeof(*list));
	if (list == NULL)
		return oom();
	while (k < max && (rc = next_element(it, &list[k])) == 1) {
		list[k].index = it->index - 1;
		k++;
	}
	if (rc < 0) {
		ca_requests_free(list, k);
		return rc;
	}
	*reqs = list;
	*n = k;
	return CA_OK;
}

void ca_requests_close(ca_requests_iter *it)
{
	if (it == NULL)
		return;
	if (it->data != NULL)
		munmap(it->data, it->len);
	free(it->what);
	free(it);
}

int ca_san_parse(const char *arg, struct ca_san *out)
{
	const char *colon;
	char shown[80];
	size_t i, plen;

	out->type = CA_SAN_DNS;
	out->value = NULL;
	if (arg == NULL || (colon = strchr(arg, ':')) == NULL)
		return ca_err(
		    CA_EUSAGE,
		    "--san '%s': expected TYPE:VALUE with TYPE dns, "
		    "ip, email or uri",
		    arg != NULL ? ca_text_show(arg, shown, sizeof(shown)) : "");
	plen = (size_t)(colon - arg);
	for (i = 0; i < COUNT(san_arg_types); i++)
		if (strlen(san_arg_types[i].prefix) == plen &&
		    strncasecmp(arg, san_arg_types[i].prefix, plen) == 0)
			break;
	if (i == COUNT(san_arg_types))
		return ca_err(CA_EUSAGE,
			      "--san '%s': unknown type (use dns:, ip:, email: "
			      "or uri:)",
			      ca_text_show(arg, shown, sizeof(shown)));
	if (colon[1] == '\0')
		return ca_err(CA_EUSAGE, "--san '%s': the value is empty",
			      ca_text_show(arg, shown, sizeof(shown)));
	if (strlen(colon + 1) > MAX_TEXT)
		return ca_err(CA_EUSAGE,
			      "--san: the value is longer than %d bytes",
			      MAX_TEXT);
	out->value = strdup(colon + 1);
	if (out->value == NULL)
		return oom();
	out->type = san_arg_types[i].type;
	return CA_OK;
}
