/* Unit tests (TAP) for certificate serial numbers (tools/lib/x509/serial.c):
 * parsing as `openssl x509 -serial` prints them, hex of a serial, and new
 * serials from a token's RNG. The token is a SoftHSM token made here,
 * reached through the fault-injecting module (tests/faultp11) so that a
 * failing C_GenerateRandom can be shown too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "fixture.h"
#include "providers/hsmca/token/token.h"
#include "tap.h"
#include "x509/serial.h"

/* Parse hex, print it back; NULL when refused. */
static const char *roundtrip(const char *hex, char *out, size_t len)
{
	ASN1_INTEGER *s = NULL;
	int rc;

	ca_err_clear();
	rc = ca_serial_parse(hex, &s);
	if (rc == CA_OK)
		rc = ca_serial_hex(s, out, len);
	ASN1_INTEGER_free(s);
	return rc == CA_OK ? out : NULL;
}

static void test_parse(void)
{
	static const struct {
		const char *in, *hex, *msg, *what;
	} cases[] = {
	    {"01a2b3", "01a2b3", NULL, "lowercase hex"},
	    {"01:A2:B3", "01a2b3", NULL,
	     "colons and capitals, as openssl "
	     "prints"},
	    {"1a2b3", "01a2b3", NULL, "an odd number of digits"},
	    {"00:00:7f", "7f", NULL, "leading zero octets dropped"},
	    {"80", "80", NULL, "a high first bit is still positive"},
	    {"0102030405060708090a0b0c0d0e0f1011121314",
	     "0102030405060708090a0b0c0d0e0f1011121314", NULL, "20 octets"},
	    {"", NULL, "malformed serial ''", "empty"},
	    {":", NULL, "malformed serial", "only a colon"},
	    {"0", NULL, "not zero", "zero"},
	    {"00:00", NULL, "not zero", "zero in two octets"},
	    {"zz", NULL, "'z' is not a hex digit", "not hex"},
	    {"-01", NULL, "'-' is not a hex digit", "a minus sign"},
	    {"01 02", NULL, "' ' is not a hex digit", "a space"},
	    {"0102030405060708090a0b0c0d0e0f101112131415", NULL,
	     "1 to 20 octets", "21 octets"},
	    {"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
	     "21",
	     NULL, "longer than 32 bytes", "33 octets"},
	    {"01020304050607080910111213141516171819202122232425262728293031"
	     "3233343536373839404142",
	     NULL, "malformed serial", "more digits than any serial"},
	};
	char out[80];
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = roundtrip(cases[i].in, out, sizeof(out));
		ok(cases[i].hex != NULL ? fx_streq(got, cases[i].hex)
					: got == NULL && fx_err(cases[i].msg) &&
					      fx_err(cases[i].in),
		   "serial %s: %s", cases[i].hex ? "parses" : "refused",
		   cases[i].what);
	}
}

static void test_hex(void)
{
	ASN1_INTEGER *s = ASN1_INTEGER_new();
	BIGNUM *bn = BN_new();
	char out[80];

	ok(s != NULL && ASN1_INTEGER_set(s, 0) == 1 &&
	       ca_serial_hex(s, out, sizeof(out)) == CA_OK &&
	       fx_streq(out, "00"),
	   "hex of serial zero is 00");
	ok(ASN1_INTEGER_set(s, -5) == 1 &&
	       ca_serial_hex(s, out, sizeof(out)) == CA_EPOLICY &&
	       fx_err("negative or too long"),
	   "a negative serial has no hex");
	/* 32 octets fit in 65 bytes; 33 do not exist here. */
	ok(bn != NULL && BN_set_bit(bn, 255) == 1 &&
	       BN_to_ASN1_INTEGER(bn, s) != NULL &&
	       ca_serial_hex(s, out, 65) == CA_OK && strlen(out) == 64 &&
	       strncmp(out, "80000000", 8) == 0,
	   "hex of a 32-octet serial");
	ok(BN_set_bit(bn, 256) == 1 && BN_to_ASN1_INTEGER(bn, s) != NULL &&
	       ca_serial_hex(s, out, sizeof(out)) == CA_EPOLICY,
	   "a serial over 32 octets is refused");
	ok(ASN1_INTEGER_set(s, 0x1234) == 1 &&
	       ca_serial_hex(s, out, 4) == CA_EPOLICY &&
	       ca_serial_hex(s, out, 5) == CA_OK && fx_streq(out, "1234"),
	   "hex needs 2 bytes an octet and a NUL");
	BN_free(bn);
	ASN1_INTEGER_free(s);
}

/* ---------------------------------------------------------------------- */
/* New serials from a token                                                */

#define TOKEN_LABEL "unit-serial"
#define TOKEN_PIN   "1234"

static int make_token(void)
{
	char conf[1024], cmd[1024];
	int n;

	if (mkdir(fx_path("tokens"), 0700) != 0)
		return -1;
	n = snprintf(conf, sizeof(conf),
		     "directories.tokendir = %s\nobjectstore.backend = file\n"
		     "log.level = ERROR\n",
		     fx_path("tokens"));
	if (n < 0 || (size_t)n >= sizeof(conf) ||
	    fx_write(fx_path("softhsm2.conf"), conf, (size_t)n, 0600) != 0 ||
	    setenv("SOFTHSM2_CONF", fx_path("softhsm2.conf"), 1) != 0)
		return -1;
	n = snprintf(cmd, sizeof(cmd),
		     "softhsm2-util --init-token --free --label %s --pin %s "
		     "--so-pin 87654321 >/dev/null 2>&1",
		     TOKEN_LABEL, TOKEN_PIN);
	return n > 0 && (size_t)n < sizeof(cmd) && system(cmd) == 0 ? 0 : -1;
}

static void test_new(void)
{
	static const char conf[] = "random_needs_login=1\n";
	const char *build = getenv("HSMCA_BUILD");
	char module[512];
	ASN1_INTEGER *a = NULL, *b = NULL;
	const unsigned char *d;
	ca_token *tok = NULL;
	char hex[80];
	int rc;

	snprintf(module, sizeof(module), "%s/tests/faultp11.so",
		 build != NULL ? build : "build");
	if (make_token() != 0 ||
	    fx_write(fx_path("faultp11.conf"), conf, strlen(conf), 0600) != 0 ||
	    setenv("FAULTP11_CONF", fx_path("faultp11.conf"), 1) != 0) {
		printf("# cannot make a SoftHSM token\n");
		tap_missed(5);
		return;
	}
	ca_p11_set_module(module);
	rc = ca_token_open("pkcs11:token=" TOKEN_LABEL, &tok);
	ok(rc == CA_OK, "the token opens through %s", module);
	if (rc != CA_OK) {
		tap_missed(4);
		goto out;
	}
	/* This token's C_GenerateRandom needs a login. */
	ca_err_clear();
	a = (ASN1_INTEGER *)1;
	ok(ca_serial_new(tok, &a) == CA_EIO && a == NULL &&
	       fx_err("C_GenerateRandom on token '" TOKEN_LABEL "' failed"),
	   "a failing token RNG: no serial, the error names the token");
	ok(ca_token_login(tok, TOKEN_PIN, strlen(TOKEN_PIN)) == CA_OK,
	   "log in");
	ok(ca_serial_new(tok, &a) == CA_OK && ca_serial_new(tok, &b) == CA_OK,
	   "two new serials");
	d = a != NULL ? ASN1_STRING_get0_data(a) : NULL;
	ok(d != NULL && b != NULL && ASN1_STRING_length(a) == CA_SERIAL_LEN &&
	       d[0] == 0x01 && ASN1_STRING_type(a) == V_ASN1_INTEGER &&
	       ca_serial_hex(a, hex, sizeof(hex)) == CA_OK &&
	       strlen(hex) == 2 * CA_SERIAL_LEN && strncmp(hex, "01", 2) == 0 &&
	       ASN1_INTEGER_cmp(a, b) != 0,
	   "17 octets, 0x01 then 128 random bits, positive, not repeated");
out:
	ASN1_INTEGER_free(a);
	ASN1_INTEGER_free(b);
	ca_token_free(tok);
	ca_p11_shutdown();
}

static void test_bad_arguments(void)
{
	ASN1_INTEGER *s = (ASN1_INTEGER *)1;
	char out[8];

	ok(ca_serial_parse("0g", &s) == CA_EUSAGE && s == NULL,
	   "a refused serial leaves no result");
	s = ASN1_INTEGER_new();
	ok(s != NULL && ASN1_INTEGER_set(s, 1) == 1 &&
	       ca_serial_hex(s, out, 0) == CA_EPOLICY,
	   "hex into no room is refused");
	ASN1_INTEGER_free(s);
}

int main(void)
{
	fx_mkdir("serial");
	test_parse();
	test_hex();
	test_new();
	test_bad_arguments();
	fx_rmdir();
	return tap_done();
}
