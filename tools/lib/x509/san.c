#include "x509/san.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/text.h"

int ca_san_dns_check(const char *name, size_t len, int allow_wildcard)
{
	size_t i, label = 0, labels = 1;

	if (len == 0 || len > 253)
		return ca_err(CA_EPOLICY,
			      "DNS name '%.*s' is empty or longer than "
			      "253 characters",
			      (int)(len > 300 ? 300 : len), name);
	if (memchr(name, '\0', len) != NULL)
		return ca_err(CA_EPOLICY, "DNS name contains a NUL byte");
	if (allow_wildcard && len > 2 && name[0] == '*' && name[1] == '.') {
		/* A wildcard needs at least two labels under it
		 * ("*.example.com", never "*.com"). */
		const char *rest = name + 2;

		if (memchr(rest, '.', len - 2) == NULL)
			return ca_err(CA_EPOLICY,
				      "wildcard DNS name '%.*s' is too "
				      "broad",
				      (int)len, name);
		name += 2;
		len -= 2;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				goto bad;
			label = 0;
			labels++;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_') || c > 127)
			goto bad;
		if (c == '-' && label == 0)
			goto bad;
		if (++label > 63)
			goto bad;
	}
	if (label == 0 || name[len - 1] == '-')
		goto bad;
	(void)labels;
	return CA_OK;
bad:
	return ca_err(CA_EPOLICY, "'%.*s' is not a valid DNS name", (int)len,
		      name);
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
		return ca_err(CA_EPOLICY, "'%s' is not a valid email address",
			      v);
	if (ca_san_dns_check(at + 1, strlen(at + 1), 0) < 0)
		return ca_err(CA_EPOLICY, "'%s' is not a valid email address",
			      v);
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
		if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' &&
		    *p != '.')
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
		rc = ca_san_dns_check(v, strlen(v), 1);
		return rc < 0 ? rc : ia5(g, GEN_DNS, v);
	case CA_SAN_IP: {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(v);

		if (ip == NULL) {
			ERR_clear_error();
			return ca_err(CA_EPOLICY,
				      "'%s' is not an IPv4 or IPv6 address", v);
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
			rc = ca_err(CA_EPOLICY,
				    "SAN %s:%s is not allowed by the profile",
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
					san_type_name(sans[i].type),
					sans[i].value);
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
		return ca_err(CA_EPOLICY,
			      "the CSR has a SAN with an embedded NUL byte");
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
		ASN1_STRING *s = GENERAL_NAME_get0_value(
		    sk_GENERAL_NAME_value(gens, i), &type);
		const unsigned char *d = s ? ASN1_STRING_get0_data(s) : NULL;
		size_t len = s ? (size_t)ASN1_STRING_length(s) : 0;

		switch (type) {
		case GEN_DNS:
			rc = push_san(sans, n, CA_SAN_DNS, d, len);
			break;
		case GEN_EMAIL:
			rc = push_san(sans, n, CA_SAN_EMAIL, d, len);
			break;
		case GEN_URI:
			rc = push_san(sans, n, CA_SAN_URI, d, len);
			break;
		case GEN_IPADD:
			if ((len != 4 && len != 16) ||
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip,
				      sizeof(ip)) == NULL) {
				rc = ca_err(CA_EPOLICY,
					    "the CSR has a malformed IP SAN");
				break;
			}
			rc = push_san(sans, n, CA_SAN_IP,
				      (const unsigned char *)ip, strlen(ip));
			break;
		default:
			rc = ca_err(CA_EPOLICY,
				    "the CSR has a SAN of an unsupported type");
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

/* One GeneralName as text ("dns:..."); escaped for a terminal. */
static json_t *general_name_json(const GENERAL_NAME *g)
{
	char ip[INET6_ADDRSTRLEN], *clean = NULL, *v = NULL;
	const char *prefix;
	json_t *j = NULL;
	BIO *b = NULL;
	int type;
	const ASN1_STRING *s = GENERAL_NAME_get0_value(g, &type);

	switch (type) {
	case GEN_DNS:
		prefix = "dns:";
		break;
	case GEN_EMAIL:
		prefix = "email:";
		break;
	case GEN_URI:
		prefix = "uri:";
		break;
	case GEN_IPADD:
		if ((ASN1_STRING_length(s) != 4 &&
		     ASN1_STRING_length(s) != 16) ||
		    inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6,
			      ASN1_STRING_get0_data(s), ip, sizeof(ip)) == NULL)
			return json_string("ip:(malformed)");
		if (asprintf(&v, "ip:%s", ip) < 0)
			return NULL;
		j = json_string(v);
		free(v);
		return j;
	case GEN_DIRNAME:
		b = BIO_new(BIO_s_mem());
		if (b != NULL && BIO_puts(b, "dirname:") > 0 &&
		    X509_NAME_print_ex(b, g->d.directoryName, 0,
				       XN_FLAG_RFC2253) >= 0 &&
		    BIO_write(b, "", 1) == 1) {
			char *data;

			BIO_get_mem_data(b, &data);
			clean = ca_text_clean((const unsigned char *)data,
					      strlen(data), 0, 1);
		}
		BIO_free(b);
		j = clean ? json_string(clean) : NULL;
		free(clean);
		return j;
	case GEN_OTHERNAME:
		return json_string("othername:(not shown)");
	case GEN_RID:
		return json_string("rid:(not shown)");
	default:
		return json_string("other:(not shown)");
	}
	clean = ca_text_clean(ASN1_STRING_get0_data(s),
			      (size_t)ASN1_STRING_length(s), 0, 0);
	if (clean != NULL && asprintf(&v, "%s%s", prefix, clean) >= 0)
		j = json_string(v);
	free(clean);
	free(v);
	return j;
}

json_t *ca_sans_json(const GENERAL_NAMES *gens)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; arr != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		json_t *one = general_name_json(sk_GENERAL_NAME_value(gens, i));

		if (one == NULL || json_array_append_new(arr, one) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *ca_cert_sans_json(X509 *x)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	json_t *arr = ca_sans_json(gens);

	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	return arr;
}

/* A certificate as far as its extensions: the names, validity and key
 * are kept as undecoded values. */
typedef struct {
	ASN1_INTEGER *version;
	ASN1_INTEGER *serial;
	X509_ALGOR *sig;
	ASN1_TYPE *issuer, *validity, *subject, *spki;
	ASN1_BIT_STRING *issuer_uid, *subject_uid;
	STACK_OF(X509_EXTENSION) * exts;
} CA_TBS_LITE;

typedef struct {
	CA_TBS_LITE *tbs;
	X509_ALGOR *alg;
	ASN1_BIT_STRING *sig;
} CA_CERT_LITE;

ASN1_SEQUENCE(CA_TBS_LITE) =
    {
	ASN1_EXP_OPT(CA_TBS_LITE, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(CA_TBS_LITE, serial, ASN1_INTEGER),
	ASN1_SIMPLE(CA_TBS_LITE, sig, X509_ALGOR),
	ASN1_SIMPLE(CA_TBS_LITE, issuer, ASN1_ANY),
	ASN1_SIMPLE(CA_TBS_LITE, validity, ASN1_ANY),
	ASN1_SIMPLE(CA_TBS_LITE, subject, ASN1_ANY),
	ASN1_SIMPLE(CA_TBS_LITE, spki, ASN1_ANY),
	ASN1_IMP_OPT(CA_TBS_LITE, issuer_uid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(CA_TBS_LITE, subject_uid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(CA_TBS_LITE, exts, X509_EXTENSION, 3),
} static_ASN1_SEQUENCE_END(CA_TBS_LITE)

	ASN1_SEQUENCE(CA_CERT_LITE) =
	    {
		ASN1_SIMPLE(CA_CERT_LITE, tbs, CA_TBS_LITE),
		ASN1_SIMPLE(CA_CERT_LITE, alg, X509_ALGOR),
		ASN1_SIMPLE(CA_CERT_LITE, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CA_CERT_LITE)

		int ca_der_sans_json(const unsigned char *der, size_t len,
				     json_t **out)
{
	const unsigned char *p = der;
	CA_CERT_LITE *c = NULL;
	GENERAL_NAMES *gens = NULL;
	int crit = 0;

	*out = NULL;
	if (len <= LONG_MAX)
		c = (CA_CERT_LITE *)ASN1_item_d2i(NULL, &p, (long)len,
						  ASN1_ITEM_rptr(CA_CERT_LITE));
	if (c != NULL && p == der + len)
		gens = X509V3_get_d2i(c->tbs->exts, NID_subject_alt_name, &crit,
				      NULL);
	/* Only after a failure: a thread's first ERR_ call loads every error
	 * string (a million instructions in a lookup). */
	if (gens == NULL)
		ERR_clear_error();
	/* -1: no subjectAltName; anything else without names is damage. */
	if (c == NULL || p != der + len || (gens == NULL && crit != -1)) {
		ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(CA_CERT_LITE));
		return ca_err(CA_EIO, "the certificate does not parse");
	}
	*out = ca_sans_json(gens);
	GENERAL_NAMES_free(gens);
	ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(CA_CERT_LITE));
	return *out != NULL ? CA_OK : ca_err(CA_EIO, "out of memory");
}

static int same_text(const ASN1_STRING *s, const char *name)
{
	size_t n = strlen(name);

	return (size_t)ASN1_STRING_length(s) == n &&
	       strncasecmp((const char *)ASN1_STRING_get0_data(s), name, n) ==
		   0;
}

int ca_cert_has_name(X509 *x, const char *name)
{
	X509_NAME *subj = X509_get_subject_name(x);
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, type, found = 0;

	ERR_clear_error();
	for (i = -1; !found && (i = X509_NAME_get_index_by_NID(
				    subj, NID_commonName, i)) >= 0;)
		found = same_text(
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)),
		    name);
	for (i = 0; !found && i < sk_GENERAL_NAME_num(gens); i++) {
		const ASN1_STRING *s = GENERAL_NAME_get0_value(
		    sk_GENERAL_NAME_value(gens, i), &type);

		if (type == GEN_DNS || type == GEN_EMAIL || type == GEN_URI)
			found = same_text(s, name);
		else if (type == GEN_IPADD && ip != NULL)
			found = ASN1_STRING_cmp(s, ip) == 0;
	}
	GENERAL_NAMES_free(gens);
	ASN1_OCTET_STRING_free(ip);
	return found;
}
