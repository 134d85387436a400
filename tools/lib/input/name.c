#include "input/name.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "base/number.h"
#include "x509/pem.h"

#define MAX_DN 4096

struct ava {
	char type[64];
	char value[1024];
	size_t vlen;
};

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Read one AVA "type=value" from *p up to an unescaped separator in seps;
 * leaves *p at the separator or the end. */
static int read_ava(const char **p, const char *seps, const char *dn,
		    struct ava *a)
{
	const char *s = *p;
	size_t n = 0, kept;

	while (*s == ' ')
		s++;
	while (*s != '\0' && *s != '=' && n + 1 < sizeof(a->type))
		a->type[n++] = *s++;
	while (n > 0 && a->type[n - 1] == ' ')
		n--;
	a->type[n] = '\0';
	if (*s != '=' || n == 0)
		return ca_err(
		    CA_EUSAGE,
		    "subject DN does not parse: expected TYPE=VALUE in '%s'",
		    dn);
	s++;
	/* RFC 4514 2.4: a leading space in a value is escaped; unescaped
	 * ones ("CN = x", as openssl prints names) surround the '='. */
	while (*s == ' ')
		s++;
	if (*s == '#')
		return ca_err(CA_EUSAGE,
			      "subject DN: hex-encoded values (#...) are not "
			      "supported: '%s'",
			      dn);
	n = 0;
	kept = 0;
	while (*s != '\0' && strchr(seps, *s) == NULL) {
		unsigned char c = (unsigned char)*s++;
		int escaped = c == '\\';

		if (escaped) {
			int h1, h2;

			if (*s == '\0')
				return ca_err(
				    CA_EUSAGE,
				    "subject DN: dangling '\\' in '%s'", dn);
			h1 = hexv((unsigned char)s[0]);
			h2 = h1 >= 0 ? hexv((unsigned char)s[1]) : -1;
			if (h1 >= 0 && h2 >= 0) {
				c = (unsigned char)(h1 << 4 | h2);
				s += 2;
			} else {
				c = (unsigned char)*s++;
			}
			if (c == '\0')
				return ca_err(
				    CA_EUSAGE,
				    "subject DN: NUL character in a value");
		}
		if (n + 1 >= sizeof(a->value))
			return ca_err(CA_EUSAGE, "subject DN: value too long");
		a->value[n++] = (char)c;
		if (escaped)
			kept = n;
	}
	/* RFC 4514 2.4: unescaped trailing spaces are not part of the value;
	 * an escaped one ("\ ") is, and so is all before it. */
	while (n > kept && a->value[n - 1] == ' ')
		n--;
	a->value[n] = '\0';
	a->vlen = n;
	if (n == 0)
		return ca_err(CA_EUSAGE,
			      "subject DN: empty value for %s in '%s'", a->type,
			      dn);
	*p = s;
	return CA_OK;
}

/* RFC 4514 section 3: the keywords every parser knows, case-insensitive
 * (RFC 4512 1.4), as OpenSSL spells them. */
static const char *keyword(const char *type)
{
	static const char *const names[][2] = {
	    {"CN", "CN"},	  {"L", "L"},	{"ST", "ST"},
	    {"O", "O"},		  {"OU", "OU"}, {"C", "C"},
	    {"STREET", "street"}, {"DC", "DC"}, {"UID", "UID"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(type, names[i][0]) == 0)
			return names[i][1];
	return type;
}

static int add_ava(X509_NAME *name, const struct ava *a, int set)
{
	/* A dotted OID must be one: OpenSSL reads "2.5.4.03" as 2.5.4.3. */
	int dotted = isdigit((unsigned char)a->type[0]);
	ASN1_OBJECT *obj = !dotted || ca_oid_syntax_ok(a->type)
			       ? OBJ_txt2obj(keyword(a->type), 0)
			       : NULL;
	int ok;

	if (obj == NULL || OBJ_obj2nid(obj) == NID_undef) {
		/* Dotted OIDs are allowed even when OpenSSL has no name. */
		if (obj == NULL || !dotted) {
			ASN1_OBJECT_free(obj);
			ERR_clear_error();
			return ca_err(CA_EUSAGE,
				      "subject DN: unknown attribute type '%s'",
				      a->type);
		}
	}
	ok = X509_NAME_add_entry_by_OBJ(name, obj, MBSTRING_UTF8,
					(const unsigned char *)a->value,
					(int)a->vlen, -1, set);
	ASN1_OBJECT_free(obj);
	if (!ok) {
		ERR_clear_error();
		return ca_err(CA_EUSAGE,
			      "subject DN: value for %s is not allowed "
			      "(too long, or wrong characters): '%s'",
			      a->type, a->value);
	}
	return CA_OK;
}

/* A parsed RDN sequence: up to 64 RDNs of up to 8 AVAs. */
struct rdns {
	struct ava ava[64];
	int multi[64]; /* joined to the previous AVA with '+' */
	int n;
};

static int split(const char *dn, int slash, struct rdns *r)
{
	const char *p = dn + (slash ? 1 : 0);
	const char *seps = slash ? "/+" : ",+;";
	int rc, joined = 0;

	r->n = 0;
	while (*p != '\0') {
		if (r->n == 64)
			return ca_err(CA_EUSAGE,
				      "subject DN has too many attributes");
		rc = read_ava(&p, seps, dn, &r->ava[r->n]);
		if (rc < 0)
			return rc;
		r->multi[r->n++] = joined;
		if (*p == '\0')
			break;
		joined = (*p == '+');
		p++;
		if (*p == '\0')
			return ca_err(
			    CA_EUSAGE,
			    "subject DN does not parse: trailing separator "
			    "in '%s'",
			    dn);
	}
	if (r->n == 0)
		return ca_err(CA_EUSAGE, "subject DN is empty");
	return CA_OK;
}

int ca_name_parse(const char *dn, X509_NAME **out)
{
	struct rdns *r = NULL;
	X509_NAME *name = NULL;
	int rc, i, slash;

	*out = NULL;
	if (dn == NULL || strlen(dn) > MAX_DN)
		return ca_err(CA_EUSAGE, "subject DN is missing or too long");
	slash = dn[0] == '/';
	r = calloc(1, sizeof(*r));
	name = X509_NAME_new();
	if (r == NULL || name == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(split(dn, slash, r));
	if (slash) {
		for (i = 0; i < r->n; i++)
			GUARD(add_ava(name, &r->ava[i], r->multi[i] ? -1 : 0));
	} else {
		/* RFC 4514 lists RDNs last-to-first: walk RDN groups backwards,
		 * keeping the AVAs of a multi-valued RDN together. */
		int end = r->n;

		while (end > 0) {
			int start = end - 1;

			while (start > 0 && r->multi[start])
				start--;
			for (i = start; i < end; i++)
				GUARD(add_ava(name, &r->ava[i],
					      i == start ? 0 : -1));
			end = start;
		}
	}
	*out = name;
	name = NULL;
	rc = CA_OK;
out:
	X509_NAME_free(name);
	free(r);
	return rc;
}

char *ca_name_oneline(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	size_t len;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0,
			       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    ca_bio_copy(b, &s, &len) < 0)
		s = NULL;
	BIO_free(b);
	return s;
}

char *ca_name_cn(const X509_NAME *name)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	char *s = NULL;
	int n;

	if (i < 0)
		return NULL;
	n = ASN1_STRING_to_UTF8(
	    &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s != NULL) {
		memcpy(s, utf8, (size_t)n);
		s[n] = '\0';
	}
	OPENSSL_free(utf8);
	return s;
}
