/* Unit tests (TAP) for distinguished names from the command line
 * (tools/lib/input/name.c): RFC 4514 strings and OpenSSL's slash form,
 * escapes, multi-valued RDNs, refusals, and the one-line rendering. Each
 * parsed name is read back entry by entry with OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "fixture.h"
#include "input/name.h"
#include "tap.h"

/* "SET:TYPE=VALUE|..." in encoding order (raw value bytes). */
static void render(const X509_NAME *name, char *out, size_t len)
{
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
		const ASN1_OBJECT *o = X509_NAME_ENTRY_get_object(e);
		char type[64];
		int n;

		if (OBJ_obj2nid(o) != NID_undef)
			snprintf(type, sizeof(type), "%s",
				 OBJ_nid2sn(OBJ_obj2nid(o)));
		else
			OBJ_obj2txt(type, sizeof(type), o, 1);
		n = snprintf(out + used, len - used, "%s%d:%s=%.*s",
			     i ? "|" : "", X509_NAME_ENTRY_set(e), type,
			     ASN1_STRING_length(v),
			     (const char *)ASN1_STRING_get0_data(v));
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

static int der_equal(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int na = i2d_X509_NAME(a, &da), nb = i2d_X509_NAME(b, &db);
	int same = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;

	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

static void test_parse(void)
{
	static const struct {
		const char *dn, *want, *what;
	} cases[] = {
	    {"CN=Example Root R1,O=Example,C=GB",
	     "0:C=GB|1:O=Example|2:CN=Example Root R1",
	     "RFC 4514: RDNs listed last-to-first"},
	    {"/C=GB/O=Example/CN=Example Root R1",
	     "0:C=GB|1:O=Example|2:CN=Example Root R1",
	     "slash form: RDNs in encoding order"},
	    {"CN=a+UID=b,O=x", "0:O=x|1:CN=a|1:UID=b",
	     "RFC 4514: '+' joins a multi-valued RDN"},
	    {"/O=x/CN=a+UID=b", "0:O=x|1:CN=a|1:UID=b",
	     "slash form: '+' joins a multi-valued RDN"},
	    {"CN=a\\,b", "0:CN=a,b", "escaped comma"},
	    {"CN=a\\+b", "0:CN=a+b", "escaped plus"},
	    {"CN=a\\\\b", "0:CN=a\\b", "escaped backslash"},
	    {"CN=a\\=b\\;c\\\"d\\<e\\>f\\#g", "0:CN=a=b;c\"d<e>f#g",
	     "the other RFC 4514 special characters escaped"},
	    {"CN=\\4a\\4F", "0:CN=JO", "hex pairs, either case"},
	    {"CN=caf\\c3\\a9", "0:CN=caf\xc3\xa9", "UTF-8 as hex pairs"},
	    {"CN=caf\xc3\xa9", "0:CN=caf\xc3\xa9", "UTF-8 as is"},
	    {"CN=x;O=y", "0:O=y|1:CN=x", "';' separates RDNs (RFC 2253)"},
	    {"CN=a , O=b", "0:O=b|1:CN=a",
	     "spaces around a separator are not part of values"},
	    {"CN=a\\ ", "0:CN=a ", "an escaped trailing space is kept"},
	    {"CN=\\ a", "0:CN= a", "an escaped leading space is kept"},
	    {"CN=a\\\\ ", "0:CN=a\\",
	     "an unescaped space after an escaped backslash is dropped"},
	    {"CN = Example Root R1, O = Example, C = GB",
	     "0:C=GB|1:O=Example|2:CN=Example Root R1",
	     "spaces around '=' (as openssl prints subjects) are dropped"},
	    {"/CN=a,b/O=c", "0:CN=a,b|1:O=c", "a comma in the slash form"},
	    {"/CN=a\\/b", "0:CN=a/b", "an escaped slash in the slash form"},
	    {"2.5.4.3=x", "0:CN=x", "a dotted OID names a known type"},
	    {"1.2.3.4.5=x", "0:1.2.3.4.5=x",
	     "a dotted OID OpenSSL has no name "
	     "for"},
	    {"commonName=x,emailAddress=a@example.com",
	     "0:emailAddress=a@example.com|1:CN=x", "long attribute names"},
	    {"DC=example,DC=com", "0:DC=com|1:DC=example",
	     "domainComponent, repeated"},
	    {"cn=x,o=y,c=GB", "0:C=GB|1:O=y|2:CN=x",
	     "RFC 4514 keywords in lower case"},
	    {"STREET=1 High St,L=London,ST=Greater London,OU=Ops,UID=u1",
	     "0:UID=u1|1:OU=Ops|2:ST=Greater London|3:L=London|4:street=1 "
	     "High St",
	     "every keyword of RFC 4514 section 3"},
	    {"CN=a+CN=b", "0:CN=a|0:CN=b", "two values of a type in one RDN"},
	};
	char got[1024];
	X509_NAME *n = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_err_clear();
		rc = ca_name_parse(cases[i].dn, &n);
		got[0] = '\0';
		if (n != NULL)
			render(n, got, sizeof(got));
		ok(rc == CA_OK && fx_streq(got, cases[i].want), "%s",
		   cases[i].what);
		if (rc == CA_OK && strcmp(got, cases[i].want) != 0)
			printf("#   got %s\n", got);
		X509_NAME_free(n);
		n = NULL;
	}
}

static void test_same_name(void)
{
	X509_NAME *a = NULL, *b = NULL, *want = X509_NAME_new();
	const ASN1_STRING *c;

	X509_NAME_add_entry_by_txt(want, "C", MBSTRING_ASC,
				   (const unsigned char *)"GB", -1, -1, 0);
	X509_NAME_add_entry_by_txt(want, "O", MBSTRING_ASC,
				   (const unsigned char *)"Example", -1, -1, 0);
	X509_NAME_add_entry_by_txt(want, "CN", MBSTRING_ASC,
				   (const unsigned char *)"Example Root R1", -1,
				   -1, 0);
	ok(ca_name_parse("CN=Example Root R1,O=Example,C=GB", &a) == CA_OK &&
	       ca_name_parse("/C=GB/O=Example/CN=Example Root R1", &b) ==
		   CA_OK &&
	       der_equal(a, b) && der_equal(a, want),
	   "both SPEC examples encode the same Name as OpenSSL builds it");
	c = a != NULL ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(a, 0))
		      : NULL;
	ok(c != NULL && ASN1_STRING_type(c) == V_ASN1_PRINTABLESTRING,
	   "countryName is a PrintableString (RFC 5280 Appendix A)");
	c = a != NULL ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(a, 2))
		      : NULL;
	ok(c != NULL && ASN1_STRING_type(c) == V_ASN1_UTF8STRING,
	   "commonName is a UTF8String (RFC 5280 4.1.2.6)");
	X509_NAME_free(a);
	X509_NAME_free(b);
	X509_NAME_free(want);
}

static void test_refusals(void)
{
	static char long_dn[4200], long_value[1200], many[400], long_type[80];
	static const struct {
		const char *dn, *msg, *what;
	} fixed[] = {
	    {"", "subject DN is empty", "empty"},
	    {"/", "subject DN is empty", "only a slash"},
	    {"CN", "expected TYPE=VALUE in 'CN'", "no '='"},
	    {"=x", "expected TYPE=VALUE", "no type"},
	    {"CN=", "empty value for CN", "empty value"},
	    {"CN=   ", "empty value for CN", "only spaces"},
	    {"CN=a,", "trailing separator", "trailing comma"},
	    {"CN=a+", "trailing separator", "trailing plus"},
	    {"/CN=a/", "trailing separator", "trailing slash"},
	    {"CN=a,,O=b", NULL, "an empty RDN"},
	    {"FOO=bar", "unknown attribute type 'FOO'", "unknown type"},
	    {"1.2.x=y", "unknown attribute type '1.2.x'", "a broken OID"},
	    {"2.5.4.03=y", "unknown attribute type '2.5.4.03'",
	     "an OID with a leading zero (not read as CN)"},
	    {"1.3..6=y", "unknown attribute type '1.3..6'",
	     "an OID with an empty arc"},
	    {"CN=#04026869", "hex-encoded values (#...) are not supported",
	     "a #hex value"},
	    {"CN=a\\", "dangling '\\'", "a dangling backslash"},
	    {"CN=a\\00b", "NUL character", "an escaped NUL"},
	    {"C=GBR", "value for C is not allowed", "a 3-letter country"},
	    {"CN=\\ff", "value for CN is not allowed", "invalid UTF-8"},
	    {"CN="
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "a",
	     "value for CN is not allowed", "a 65-character commonName"},
	};
	X509_NAME *n = (X509_NAME *)1;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		ca_err_clear();
		n = (X509_NAME *)1;
		rc = ca_name_parse(fixed[i].dn, &n);
		ok(rc == CA_EUSAGE && n == NULL && fx_err(fixed[i].msg),
		   "refused: %s", fixed[i].what);
		if (rc == CA_OK)
			X509_NAME_free(n);
	}
	memset(long_dn, 'a', sizeof(long_dn) - 1);
	memcpy(long_dn, "CN=", 3);
	ok(ca_name_parse(long_dn, &n) == CA_EUSAGE &&
	       fx_err("missing or too long"),
	   "refused: a DN over 4096 bytes");
	memset(long_value, 'a', sizeof(long_value) - 1);
	memcpy(long_value, "O=", 2);
	ok(ca_name_parse(long_value, &n) == CA_EUSAGE &&
	       fx_err("value too long"),
	   "refused: a value over the parser's buffer");
	for (i = 0; i + 4 < sizeof(many) && i < 65 * 4; i += 4)
		memcpy(many + i, "O=a,", 4);
	many[i - 1] = '\0';
	ok(ca_name_parse(many, &n) == CA_EUSAGE &&
	       fx_err("too many attributes"),
	   "refused: 65 attributes");
	memset(long_type, 'T', sizeof(long_type) - 1);
	long_type[sizeof(long_type) - 3] = '=';
	ok(ca_name_parse(long_type, &n) == CA_EUSAGE &&
	       fx_err("expected TYPE=VALUE"),
	   "refused: a type longer than any attribute name");
}

static void test_render(void)
{
	static const char *const dns[] = {
	    "CN=Example Root R1,O=Example,C=GB",
	    "CN=a\\,b\\+c,O=x",
	    "CN=caf\xc3\xa9,DC=example",
	    "CN=a+UID=b,O=x",
	};
	X509_NAME *a = NULL, *b = NULL;
	char *line = NULL, *cn = NULL;
	size_t i;

	for (i = 0; i < sizeof(dns) / sizeof(dns[0]); i++) {
		int good = ca_name_parse(dns[i], &a) == CA_OK &&
			   (line = ca_name_oneline(a)) != NULL &&
			   ca_name_parse(line, &b) == CA_OK && der_equal(a, b);

		ok(good,
		   "one-line rendering of %s parses back to the same "
		   "Name",
		   dns[i]);
		if (i == 0)
			ok(fx_streq(line, dns[0]),
			   "one-line rendering is RFC 4514 order");
		if (i == 1)
			ok(fx_streq(line, "CN=a\\,b\\+c,O=x"),
			   "one-line rendering escapes ',' and '+'");
		free(line);
		line = NULL;
		X509_NAME_free(a);
		X509_NAME_free(b);
		a = b = NULL;
	}
	ok(ca_name_parse("/CN=first/O=x/CN=second", &a) == CA_OK &&
	       fx_streq(cn = ca_name_cn(a), "first"),
	   "the first commonName in encoding order");
	free(cn);
	X509_NAME_free(a);
	ok(ca_name_parse("O=x", &a) == CA_OK && ca_name_cn(a) == NULL,
	   "no commonName: NULL");
	X509_NAME_free(a);
}

static void test_bad_arguments(void)
{
	X509_NAME *n = (X509_NAME *)1;

	ca_err_clear();
	ok(ca_name_parse(NULL, &n) == CA_EUSAGE && n == NULL &&
	       fx_err("subject DN is missing"),
	   "a missing DN is refused");
}

int main(void)
{
	test_parse();
	test_same_name();
	test_refusals();
	test_render();
	test_bad_arguments();
	return tap_done();
}
