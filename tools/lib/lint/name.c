#include "lint/name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "base/text.h"
#include "x509/limits.h"

#define LINT(...) ca_err(CA_EPOLICY, "lint: " __VA_ARGS__)

int ca_lint_text(const unsigned char *s, size_t n, const char *what)
{
	char *shown;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		/* C0 and DEL; C1 (U+0080..U+009F) is C2 80..C2 9F in UTF-8. */
		if (s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 &&
		     s[i + 1] <= 0x9f))
			break;
	}
	if (i == n)
		return CA_OK;
	shown = ca_text_clean(s, n > 200 ? 200 : n, 0, 0);
	rc = LINT("%s '%s%s' has a control character (byte %zu): "
		  "refused",
		  what, shown ? shown : "?", n > 200 ? "..." : "", i + 1);
	free(shown);
	return rc;
}

/* RFC 5280 Appendix A, in characters; CA_MAX_ATTR_CHARS otherwise. */
static size_t attr_max(int nid)
{
	switch (nid) {
	case NID_commonName:
		return CA_UB_COMMON_NAME;
	case NID_organizationName:
		return CA_UB_ORGANIZATION_NAME;
	case NID_organizationalUnitName:
		return CA_UB_ORGANIZATIONAL_UNIT_NAME;
	case NID_localityName:
		return CA_UB_LOCALITY_NAME;
	case NID_stateOrProvinceName:
		return CA_UB_STATE_NAME;
	case NID_countryName:
		return CA_UB_COUNTRY;
	case NID_serialNumber:
		return CA_UB_SERIAL_NUMBER;
	case NID_title:
		return CA_UB_TITLE;
	case NID_pseudonym:
		return CA_UB_PSEUDONYM;
	case NID_pkcs9_emailAddress:
		return CA_UB_EMAIL_ADDRESS;
	default:
		return CA_MAX_ATTR_CHARS;
	}
}

static size_t utf8_chars(const unsigned char *s, size_t n)
{
	size_t i, chars = 0;

	for (i = 0; i < n; i++)
		chars += (s[i] & 0xc0) != 0x80;
	return chars;
}

static int lint_attr(const X509_NAME_ENTRY *e, const char *what)
{
	int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
	const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
	const char *type = nid != NID_undef ? OBJ_nid2sn(nid) : "attribute";
	unsigned char *utf8 = NULL;
	char label[160];
	size_t max = attr_max(nid), chars;
	int n, rc;

	/* The bound first: the conversion of a huge value is not needed. */
	if ((size_t)ASN1_STRING_length(v) > 4 * max + 4)
		return LINT("%s %s is %d bytes long: at most %zu characters",
			    what, type, ASN1_STRING_length(v), max);
	n = ASN1_STRING_to_UTF8(&utf8, v);
	if (n < 0)
		return LINT("%s %s is not a valid string of its type", what,
			    type);
	chars = utf8_chars(utf8, (size_t)n);
	snprintf(label, sizeof(label), "%s %s", what, type);
	if (chars > max)
		rc = LINT("%s is %zu characters long: at most %zu", label,
			  chars, max);
	else
		rc = ca_lint_text(utf8, (size_t)n, label);
	OPENSSL_free(utf8);
	return rc;
}

int ca_lint_name(const X509_NAME *name, const char *what)
{
	int i, n = X509_NAME_entry_count(name), rc = CA_OK;

	if (n > CA_MAX_NAME_ATTRS)
		return LINT("%s has %d attributes: at most %d", what, n,
			    CA_MAX_NAME_ATTRS);
	for (i = 0; i < n && rc == CA_OK; i++)
		rc = lint_attr(X509_NAME_get_entry(name, i), what);
	return rc;
}

int ca_lint_general_names(const GENERAL_NAMES *gens)
{
	int i, type, n = sk_GENERAL_NAME_num(gens), rc = CA_OK;

	if (n > CA_MAX_SANS)
		return LINT("%d subject alternative names: at most %d", n,
			    CA_MAX_SANS);
	for (i = 0; i < n && rc == CA_OK; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		void *v = GENERAL_NAME_get0_value(g, &type);

		switch (type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			rc = ca_lint_text(ASN1_STRING_get0_data(v),
					  (size_t)ASN1_STRING_length(v),
					  "subjectAltName");
			break;
		case GEN_DIRNAME:
			rc = ca_lint_name(v, "subjectAltName directoryName");
			break;
		default:
			break;
		}
	}
	return rc;
}
