/* Unit tests (TAP) for RFC 7512 URI handling, key specifications and
 * module-loading errors of the token layer. No token needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "providers/hsmca/token/internal.h"
#include "providers/hsmca/token/token.h"
#include "tap.h"

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* Parse uri, expect rc; the message must contain msg (when not NULL). */
static void parse_case(const char *uri, int want, const char *msg,
		       const char *what)
{
	P11KitUri *u = NULL;
	int rc;

	ca_err_clear();
	rc = ca_p11_uri_parse(uri, &u);
	ok(rc == want && (want != CA_OK) == (u == NULL) &&
	       (msg == NULL || has(ca_errmsg(), msg)),
	   "%s", what);
	if (u != NULL)
		p11_kit_uri_free(u);
}

static void test_parse(void)
{
	parse_case("pkcs11:token=Root;object=root-key", CA_OK, NULL,
		   "token and object URI parses");
	parse_case("pkcs11:token=My%20CA;id=%01%02;type=private", CA_OK, NULL,
		   "percent-encoded label, id and type parse");
	parse_case(
	    "pkcs11:serial=0123abcd;model=SoftHSM%20v2?module-name=softhsm2",
	    CA_OK, NULL, "serial, model and module-name parse");
	parse_case("file:/etc/key.pem", CA_EUSAGE, "malformed PKCS#11 URI",
		   "non-pkcs11 scheme refused");
	parse_case("pkcs11:token=%zz", CA_EUSAGE, "malformed PKCS#11 URI",
		   "bad percent-encoding refused");
	parse_case("pkcs11:tokn=Root", CA_EUSAGE, "unknown attribute",
		   "unknown path attribute refused");
	parse_case("pkcs11:type=secret-ish", CA_EUSAGE, "unknown attribute",
		   "unknown type value refused");
	parse_case("pkcs11:slot-id=3;object=k", CA_EUSAGE, "slot-id",
		   "slot-id refused");
	parse_case("", CA_EUSAGE, "empty PKCS#11 URI", "empty URI refused");
	parse_case(NULL, CA_EUSAGE, "empty PKCS#11 URI", "NULL URI refused");
	parse_case("pkcs11:token=A?pin-value=s3cr3t", CA_EPOLICY, /* refused */
		   "pin-value is refused", "pin-value refused by default");
	/* the refused value must not be echoed */
	ok(!has(ca_errmsg(), "s3cr3t") &&
	       has(ca_errmsg(), "pin-value=***"), /* refused */
	   "the refused PIN is not echoed");
	ok(has(ca_errmsg(), "use pin-source"),
	   "the refusal says use pin-source");
	ca_p11_allow_pin_value(1);
	ok(ca_p11_pin_value_allowed() == 1, "pin-value can be allowed");
	/* Allowing pin-value keeps pin-source working. */
	parse_case("pkcs11:token=A?pin-source=file:/x", CA_OK, NULL,
		   "pin-source accepted while pin-value is allowed");
	ca_p11_allow_pin_value(0);
	parse_case(
	    "pkcs11:token=A?pin-source=file:/x&pin-value=1", /* refused */
	    CA_EPOLICY, "pin-value",
	    "pin-value refused again after disallowing");
}

static void test_attributes(void)
{
	P11KitUri *u = NULL;
	CK_ATTRIBUTE *a;
	CK_TOKEN_INFO *ti;
	int rc;

	rc =
	    ca_p11_uri_parse("pkcs11:token=My%20CA;object=k%2F1;id=%01%ff", &u);
	ok(rc == CA_OK, "URI with encoded attributes parses");
	if (rc != CA_OK)
		return;
	a = p11_kit_uri_get_attribute(u, CKA_LABEL);
	ok(a != NULL && a->ulValueLen == 3 && memcmp(a->pValue, "k/1", 3) == 0,
	   "object label decoded");
	a = p11_kit_uri_get_attribute(u, CKA_ID);
	ok(a != NULL && a->ulValueLen == 2 &&
	       memcmp(a->pValue, "\x01\xff", 2) == 0,
	   "id decoded");
	ti = p11_kit_uri_get_token_info(u);
	ok(ti != NULL && memcmp(ti->label, "My CA ", 6) == 0,
	   "token label decoded and space padded");
	p11_kit_uri_free(u);
}

static void test_redact(void)
{
	P11KitUri *u = NULL;
	char buf[64];

	/* Redaction as a refusal shows it: the PIN hidden, the rest kept. */
	ok(ca_p11_uri_parse(
	       "pkcs11:token=A?pin-value=1234&module-name=x", /* refused */
	       &u) == CA_EPOLICY &&
	       has(ca_errmsg(), "pin-value=***&module-name=x") && /* refused */
	       !has(ca_errmsg(), "1234"),
	   "a refused URI's message hides pin-value and keeps the rest");
	p11_kit_uri_free(u);
	ca_uri_redact(
	    "pkcs11:token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    buf, 20);
	ok(strlen(buf) < 20 && has(buf, "..."), "redact truncates long URIs");
}

static void test_canonical(void)
{
	ca_token tok;
	static const unsigned char id[] = {0x01, 0xab, 0x20};
	P11KitUri *u = NULL;
	CK_ATTRIBUTE *a;
	char *uri;

	memset(&tok, 0, sizeof(tok));
	snprintf(tok.label, sizeof(tok.label), "Root CA;1");
	snprintf(tok.serial, sizeof(tok.serial), "0a1b2c");
	uri = ca_uri_for_key(&tok, "root key/2024", id, sizeof(id));
	ok(uri != NULL &&
	       strcmp(uri, "pkcs11:token=Root%20CA%3B1;serial=0a1b2c;"
			   "object=root%20key%2F2024;id=%01%AB%20;"
			   "type=private") == 0,
	   "canonical key URI is percent-encoded (RFC 7512)");
	ok(uri != NULL && ca_p11_uri_parse(uri, &u) == CA_OK,
	   "canonical URI parses back");
	if (u != NULL) {
		a = p11_kit_uri_get_attribute(u, CKA_LABEL);
		ok(a != NULL && a->ulValueLen == 13 &&
		       memcmp(a->pValue, "root key/2024", 13) == 0,
		   "label survives the round trip");
		a = p11_kit_uri_get_attribute(u, CKA_ID);
		ok(a != NULL && a->ulValueLen == 3 &&
		       memcmp(a->pValue, id, 3) == 0,
		   "id survives the round trip");
		p11_kit_uri_free(u);
	}
	free(uri);
}

static void test_keyspec(void)
{
	static const char *const names[] = {"rsa:2048", "rsa:3072", "rsa:4096",
					    "ec:p256",	"ec:p384",  "ec:p521",
					    "ed25519"};
	static const char *const bad[] = {"rsa:1024", "rsa:2047", "ec:p224",
					  "ed448",    "RSA:2048", "",
					  "ec:p256 "};
	struct ca_keyspec spec;
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		all &= ca_keyspec_parse(names[i], &spec) == CA_OK &&
		       strcmp(ca_keyspec_name(&spec), names[i]) == 0;
	ok(all, "every key type parses and names itself back");
	ok(ca_keyspec_parse("rsa:3072", &spec) == CA_OK &&
	       spec.type == CA_KT_RSA && spec.bits == 3072,
	   "rsa:3072 is RSA 3072 bits");
	ok(ca_keyspec_parse("ec:p384", &spec) == CA_OK &&
	       spec.type == CA_KT_EC && spec.curve_nid == NID_secp384r1 &&
	       spec.bits == 384,
	   "ec:p384 is secp384r1");
	ok(ca_keyspec_parse("ed25519", &spec) == CA_OK &&
	       spec.type == CA_KT_ED25519,
	   "ed25519 is Ed25519");
	all = 1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		all &= ca_keyspec_parse(bad[i], &spec) == CA_EUSAGE;
	ok(all && has(ca_errmsg(), "unknown key type"),
	   "bad key types refused");
	ok(ca_keyspec_parse(NULL, &spec) == CA_EUSAGE, "NULL key type refused");
	spec.type = CA_KT_RSA;
	spec.bits = 1024;
	ok(strcmp(ca_keyspec_name(&spec), "unknown") == 0,
	   "an unlisted spec has no name");
}

static void test_modules(void)
{
	ca_token *tok = NULL;
	int rc;

	setenv("HSMCA_MODULE", "/nonexistent/libnothing.so", 1);
	rc = ca_token_open("pkcs11:token=X", &tok);
	ok(rc == CA_EIO && tok == NULL &&
	       has(ca_errmsg(), "cannot load PKCS#11 module "
				"/nonexistent/libnothing.so: ") &&
	       has(ca_errmsg(), "No such file"),
	   "HSMCA_MODULE that does not load is reported");
	/* One rule (token.h): --module > $HSMCA_MODULE > the key's recorded
	 * module (ca.json) > the URI's module-path > p11-kit's registry. */
	rc =
	    ca_token_open("pkcs11:token=X?module-path=/nonexistent/m.so", &tok);
	ok(rc == CA_EIO && has(ca_errmsg(), "/nonexistent/libnothing.so"),
	   "HSMCA_MODULE wins over the URI's module-path");
	ca_p11_set_key_module("/nonexistent/key.so", NULL);
	rc =
	    ca_token_open("pkcs11:token=X?module-path=/nonexistent/m.so", &tok);
	ok(rc == CA_EIO && has(ca_errmsg(), "/nonexistent/libnothing.so"),
	   "HSMCA_MODULE wins over the module recorded with the key");
	ca_p11_set_module("/nonexistent/set.so");
	rc =
	    ca_token_open("pkcs11:token=X?module-path=/nonexistent/m.so", &tok);
	ok(rc == CA_EIO && has(ca_errmsg(), "/nonexistent/set.so"),
	   "ca_p11_set_module (--module) wins over HSMCA_MODULE");
	ca_p11_set_module(NULL);
	unsetenv("HSMCA_MODULE");
	rc =
	    ca_token_open("pkcs11:token=X?module-path=/nonexistent/m.so", &tok);
	ok(rc == CA_EIO && has(ca_errmsg(), "/nonexistent/key.so"),
	   "the module recorded with the key wins over the URI's");
	ca_p11_set_key_module(NULL, NULL);
	rc =
	    ca_token_open("pkcs11:token=X?module-path=/nonexistent/m.so", &tok);
	ok(rc == CA_EIO && has(ca_errmsg(), "/nonexistent/m.so"),
	   "then the URI's module-path");
	setenv("HSMCA_MODULE", "", 1);
	rc =
	    ca_token_open("pkcs11:token=X?module-path=/nonexistent/m.so", &tok);
	ok(rc == CA_EIO && has(ca_errmsg(), "/nonexistent/m.so"),
	   "an empty HSMCA_MODULE counts as unset");
	ca_p11_set_module(NULL);
	unsetenv("HSMCA_MODULE");
	rc = ca_token_open("pkcs11:token=X?module-name=no-such-module", &tok);
	ok(rc == CA_EIO && has(ca_errmsg(), "no-such-module") &&
	       has(ca_errmsg(), "registered"),
	   "unknown module-name is reported");
	rc = ca_token_open("pkcs11:slot-id=1", &tok);
	ok(rc == CA_EUSAGE && tok == NULL, "ca_token_open refuses slot-id");
	ca_p11_shutdown();
	ca_p11_shutdown();
	ok(1, "ca_p11_shutdown is idempotent");
}

int main(void)
{
	test_parse();
	test_attributes();
	test_redact();
	test_canonical();
	test_keyspec();
	test_modules();
	return tap_done();
}
