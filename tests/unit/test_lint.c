/* Unit tests (TAP) for lint before sign (tools/lib/lint/): every rule of
 * the certificate lint (lint.c) with a TBS that passes and one that fails
 * it, the public-key policy, the CSR checks (csr.c), the lint copy
 * (copy.c) and the rules of the CRL lint (crl.c) that tests/unit/test_crl.c
 * does not reach with the library's own encoder. TBSs are built with
 * OpenSSL directly, then changed one thing at a time. No token needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fixture.h"
#include "input/csrder.h"
#include "lint/copy.h"
#include "lint/crl.h"
#include "lint/csr.h"
#include "lint/lint.h"
#include "tap.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/san.h"

#define DAY 86400L

static EVP_PKEY *ca_key, *ec_key, *rsa_key, *ed_key, *p384_key, *p521_key;
static EVP_PKEY *rsa1024_key, *rsa_e3_key, *k1_key, *ed448_key;
static X509 *ca;
static time_t now, ca_nb, ca_na;
static unsigned char *algid;
static size_t algid_len;

/* ---------------------------------------------------------------------- */
/* Building certificates                                                   */

static X509_NAME *cn_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n != NULL && cn != NULL &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1,
				       0) != 1) {
		X509_NAME_free(n);
		n = NULL;
	}
	return n;
}

static void set_name(X509 *x, int subject, const char *cn)
{
	X509_NAME *n = cn_name(cn);

	if (subject)
		X509_set_subject_name(x, n);
	else
		X509_set_issuer_name(x, n);
	X509_NAME_free(n);
}

static void del_ext(X509 *x, int nid)
{
	int i;

	while ((i = X509_get_ext_by_NID(x, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
}

/* Replace the extension nid with one from OpenSSL's config syntax. */
static void set_ext(X509 *x, X509 *issuer, int nid, const char *conf)
{
	del_ext(x, nid);
	if (ca_x509_add_ext(x, issuer, nid, conf) < 0)
		printf("# cannot add %s = %s\n", OBJ_nid2sn(nid), conf);
}

/* An extension whose value is the given raw bytes. */
static void set_raw_ext(X509 *x, int nid, int crit, const char *der, int len)
{
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;

	del_ext(x, nid);
	if (v != NULL &&
	    ASN1_OCTET_STRING_set(v, (const unsigned char *)der, len) == 1)
		e = X509_EXTENSION_create_by_NID(NULL, nid, crit, v);
	if (e == NULL || X509_add_ext(x, e, -1) != 1)
		printf("# cannot add raw %s\n", OBJ_nid2sn(nid));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
}

/* authorityKeyIdentifier with keyid = len bytes of id. */
static void set_aki(X509 *x, const unsigned char *id, int len)
{
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();

	del_ext(x, NID_authority_key_identifier);
	if (aki == NULL || (aki->keyid = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(aki->keyid, id, len) != 1 ||
	    X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0, 0) != 1)
		printf("# cannot set the AKI\n");
	AUTHORITY_KEYID_free(aki);
}

/* The AKI naming issuer's SKI (x itself for a root). */
static void aki_from(X509 *x, X509 *issuer)
{
	ASN1_OCTET_STRING *ski =
	    X509_get_ext_d2i(issuer, NID_subject_key_identifier, NULL, NULL);

	if (ski != NULL)
		set_aki(x, ASN1_STRING_get0_data(ski), ASN1_STRING_length(ski));
	ASN1_OCTET_STRING_free(ski);
}

static void set_validity(X509 *x, time_t nb, time_t na)
{
	if (ca_x509_set_validity(x, nb, na) < 0)
		printf("# cannot set the validity\n");
}

/* A certificate of each kind that passes lint: the baseline every case
 * changes one thing in. */
static X509 *baseline(enum ca_lint_kind kind)
{
	X509 *x = X509_new();

	if (x == NULL)
		return NULL;
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	set_validity(x, now, now + 30 * DAY);
	X509_set_pubkey(x, ec_key);
	switch (kind) {
	case CA_LINT_ROOT:
		set_name(x, 1, "Lint Root R2");
		set_name(x, 0, "Lint Root R2");
		set_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
		set_ext(x, NULL, NID_key_usage,
			"critical,keyCertSign,cRLSign,digitalSignature");
		set_ext(x, NULL, NID_subject_key_identifier, "hash");
		aki_from(x, x);
		break;
	case CA_LINT_SUBCA:
		set_name(x, 1, "Lint Sub CA");
		X509_set_issuer_name(x, X509_get_subject_name(ca));
		set_ext(x, NULL, NID_basic_constraints,
			"critical,CA:TRUE,pathlen:0");
		set_ext(x, NULL, NID_key_usage,
			"critical,keyCertSign,cRLSign,digitalSignature");
		set_ext(x, NULL, NID_subject_key_identifier, "hash");
		aki_from(x, ca);
		break;
	case CA_LINT_LEAF:
		set_name(x, 1, "leaf.example.com");
		X509_set_issuer_name(x, X509_get_subject_name(ca));
		set_ext(x, NULL, NID_basic_constraints, "critical,CA:FALSE");
		set_ext(x, NULL, NID_key_usage, "critical,digitalSignature");
		set_ext(x, NULL, NID_ext_key_usage, "serverAuth");
		set_ext(x, NULL, NID_subject_alt_name, "DNS:leaf.example.com");
		set_ext(x, NULL, NID_subject_key_identifier, "hash");
		aki_from(x, ca);
		break;
	}
	return x;
}

static void make_ca(void)
{
	X509_NAME *n = cn_name("Lint Test CA");

	ca = X509_new();
	ca_nb = now - DAY;
	ca_na = now + 3650 * DAY;
	X509_set_version(ca, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(ca), 1);
	X509_set_subject_name(ca, n);
	X509_set_issuer_name(ca, n);
	X509_NAME_free(n);
	set_validity(ca, ca_nb, ca_na);
	X509_set_pubkey(ca, ca_key);
	set_ext(ca, NULL, NID_basic_constraints, "critical,CA:TRUE");
	set_ext(ca, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
	set_ext(ca, NULL, NID_subject_key_identifier, "hash");
	if (X509_sign(ca, ca_key, EVP_sha256()) <= 0)
		printf("# cannot sign the CA certificate\n");
}

/* ---------------------------------------------------------------------- */
/* Mutations: one rule each                                                */

static void set_serial_hex(X509 *x, const char *hex)
{
	BIGNUM *bn = NULL;

	if (BN_hex2bn(&bn, hex) == 0 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		printf("# cannot set serial %s\n", hex);
	BN_free(bn);
}

static void set_sans(X509 *x, int crit, int type, const char *v, int len)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_STRING *s = ASN1_STRING_type_new(
	    type == GEN_IPADD ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING);

	del_ext(x, NID_subject_alt_name);
	if (gens == NULL || g == NULL || s == NULL ||
	    ASN1_STRING_set(s, v, len) != 1) {
		printf("# cannot build a SAN\n");
		ASN1_STRING_free(s);
		GENERAL_NAME_free(g);
	} else {
		GENERAL_NAME_set0_value(g, type, s);
		sk_GENERAL_NAME_push(gens, g);
		X509_add1_ext_i2d(x, NID_subject_alt_name, gens, crit, 0);
	}
	GENERAL_NAMES_free(gens);
}

static void m_none(X509 *x)
{
	(void)x;
}
static void m_v1(X509 *x)
{
	X509_set_version(x, X509_VERSION_1);
}
static void m_serial_zero(X509 *x)
{
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0);
}
static void m_serial_negative(X509 *x)
{
	ASN1_INTEGER_set(X509_get_serialNumber(x), -1234);
}
static void m_serial_20(X509 *x)
{
	set_serial_hex(x, "7f0102030405060708090a0b0c0d0e0f10111213");
}
static void m_serial_20_high(X509 *x)
{
	set_serial_hex(x, "800102030405060708090a0b0c0d0e0f10111213");
}
static void m_serial_21(X509 *x)
{
	set_serial_hex(x, "01000102030405060708090a0b0c0d0e0f10111213");
}
static void m_issuer_empty(X509 *x)
{
	set_name(x, 0, NULL);
}
static void m_issuer_other(X509 *x)
{
	set_name(x, 0, "Someone Else");
}
static void m_subject_empty(X509 *x)
{
	set_name(x, 1, NULL);
}
static void m_times_equal(X509 *x)
{
	set_validity(x, now, now);
}
static void m_times_reversed(X509 *x)
{
	set_validity(x, now, now - DAY);
}
static void m_after_ca(X509 *x)
{
	set_validity(x, now, ca_na + 1);
}
static void m_before_ca(X509 *x)
{
	set_validity(x, ca_nb - 1, now + DAY);
}
static void m_key_rsa1024(X509 *x)
{
	X509_set_pubkey(x, rsa1024_key);
}
static void m_key_rsa_e3(X509 *x)
{
	X509_set_pubkey(x, rsa_e3_key);
}
static void m_key_k1(X509 *x)
{
	X509_set_pubkey(x, k1_key);
}
static void m_key_ed448(X509 *x)
{
	X509_set_pubkey(x, ed448_key);
}
static void m_key_p384(X509 *x)
{
	X509_set_pubkey(x, p384_key);
}
static void m_key_p521(X509 *x)
{
	X509_set_pubkey(x, p521_key);
}
/* EC P-256 with the point at infinity (a single 0x00 octet). */
static void m_key_infinity(X509 *x)
{
	unsigned char *zero = OPENSSL_zalloc(1);

	if (zero == NULL ||
	    X509_PUBKEY_set0_param(
		X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
		V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), zero, 1) != 1)
		printf("# cannot set the key\n");
}
/* Not a key at all: an RSA SPKI whose key bits are not RSAPublicKey. */
static void m_key_garbage(X509 *x)
{
	unsigned char *bits = OPENSSL_malloc(3);

	if (bits == NULL)
		return;
	memcpy(bits, "\x05\x00\x00", 3);
	if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
				   OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL,
				   NULL, bits, 3) != 1)
		printf("# cannot set the key\n");
}
static void m_dup_bc(X509 *x)
{
	if (ca_x509_add_ext(x, NULL, NID_basic_constraints,
			    "critical,CA:FALSE") < 0)
		printf("# cannot add a second basicConstraints\n");
}
static void m_ku_undecodable(X509 *x)
{
	set_raw_ext(x, NID_key_usage, 1, "\x05\x00", 2);
}
static void m_leaf_ca(X509 *x)
{
	set_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
}
static void m_leaf_pathlen(X509 *x)
{
	set_ext(x, NULL, NID_basic_constraints, "critical,CA:FALSE,pathlen:0");
}
static void m_leaf_no_bc(X509 *x)
{
	del_ext(x, NID_basic_constraints);
}
static void m_no_ku(X509 *x)
{
	del_ext(x, NID_key_usage);
}
static void m_leaf_certsign(X509 *x)
{
	set_ext(x, NULL, NID_key_usage,
		"critical,digitalSignature,keyCertSign");
}
static void m_leaf_crlsign(X509 *x)
{
	set_ext(x, NULL, NID_key_usage, "critical,digitalSignature,cRLSign");
}
static void m_ec_keyenc(X509 *x)
{
	set_ext(x, NULL, NID_key_usage,
		"critical,digitalSignature,keyEncipherment");
}
static void m_ec_keyagree(X509 *x)
{
	set_ext(x, NULL, NID_key_usage,
		"critical,digitalSignature,keyAgreement");
}
static void m_rsa_keyenc(X509 *x)
{
	X509_set_pubkey(x, rsa_key);
	m_ec_keyenc(x);
}
static void m_rsa_keyagree(X509 *x)
{
	X509_set_pubkey(x, rsa_key);
	m_ec_keyagree(x);
}
static void m_ed_plain(X509 *x)
{
	X509_set_pubkey(x, ed_key);
}
static void m_ed_dataenc(X509 *x)
{
	X509_set_pubkey(x, ed_key);
	set_ext(x, NULL, NID_key_usage,
		"critical,digitalSignature,dataEncipherment");
}
static void m_ed_keyagree(X509 *x)
{
	X509_set_pubkey(x, ed_key);
	m_ec_keyagree(x);
}
static void m_no_ski(X509 *x)
{
	del_ext(x, NID_subject_key_identifier);
}
static void m_no_aki(X509 *x)
{
	del_ext(x, NID_authority_key_identifier);
}
static void m_aki_other(X509 *x)
{
	static const unsigned char other[20] = {0x42, 0x42, 0x42};

	set_aki(x, other, sizeof(other));
}
static void m_aki_issuer_serial(X509 *x)
{
	set_ext(x, ca, NID_authority_key_identifier, "issuer:always");
}
static void m_no_san(X509 *x)
{
	del_ext(x, NID_subject_alt_name);
}
static void m_no_san_no_eku(X509 *x)
{
	m_no_san(x);
	del_ext(x, NID_ext_key_usage);
}
static void m_no_san_any_eku(X509 *x)
{
	m_no_san(x);
	set_ext(x, NULL, NID_ext_key_usage, "anyExtendedKeyUsage");
}
static void m_client_no_san(X509 *x)
{
	m_no_san(x);
	set_ext(x, NULL, NID_ext_key_usage, "clientAuth");
}
static void m_client_nothing(X509 *x)
{
	m_client_no_san(x);
	m_subject_empty(x);
}
static void m_empty_subject_san(X509 *x)
{
	m_subject_empty(x);
	set_ext(x, NULL, NID_subject_alt_name, "DNS:leaf.example.com");
}
static void m_empty_subject_san_critical(X509 *x)
{
	m_subject_empty(x);
	set_ext(x, NULL, NID_subject_alt_name, "critical,DNS:leaf.example.com");
}
static void m_san_all_kinds(X509 *x)
{
	set_ext(x, NULL, NID_subject_alt_name,
		"DNS:*.example.com,IP:192.0.2.1,IP:2001:db8::1,"
		"email:ops@example.com,URI:https://example.com/x");
}
static void m_san_bad_dns(X509 *x)
{
	set_ext(x, NULL, NID_subject_alt_name, "DNS:bad name.example.com");
}
static void m_san_mid_wildcard(X509 *x)
{
	set_ext(x, NULL, NID_subject_alt_name, "DNS:a.*.example.com");
}
static void m_san_ip5(X509 *x)
{
	set_sans(x, 0, GEN_IPADD, "\xc0\x00\x02\x01\x00", 5);
}
static void m_san_email_empty(X509 *x)
{
	set_sans(x, 0, GEN_EMAIL, "", 0);
}
static void m_san_uri_nul(X509 *x)
{
	set_sans(x, 0, GEN_URI, "https://a\0.example", 18);
}
/* Names (lint/name.c): control characters, and the caps of
 * x509/limits.h on attributes, their lengths and SANs. */
static void add_attr(X509 *x, int nid, int type, const char *v, int len)
{
	X509_NAME_add_entry_by_NID(X509_get_subject_name(x), nid, type,
				   (const unsigned char *)v, len, -1, 0);
}
static void m_cn_nul(X509 *x)
{
	add_attr(x, NID_commonName, MBSTRING_UTF8, "evil.example\0.com", 17);
}
static void m_cn_escape(X509 *x)
{
	add_attr(x, NID_commonName, MBSTRING_UTF8, "\x1b]2;owned\x07", -1);
}
static void m_o_c1(X509 *x)
{
	add_attr(x, NID_organizationName, MBSTRING_UTF8,
		 "Ex\xc2\x9b"
		 "2J",
		 -1);
}
static void m_o_utf8(X509 *x)
{
	add_attr(x, NID_organizationName, MBSTRING_UTF8,
		 "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", -1);
}
static void fill_ou(X509 *x, size_t n)
{
	char *v = malloc(n + 1);

	if (v == NULL)
		return;
	memset(v, 'u', n);
	v[n] = '\0';
	/* A UTF8String as such: MBSTRING_UTF8 would apply OpenSSL's own
	 * upper bound, which a decoded CSR never meets. */
	add_attr(x, NID_organizationalUnitName, V_ASN1_UTF8STRING, v, -1);
	free(v);
}
static void m_ou_64(X509 *x)
{
	fill_ou(x, 64);
}
static void m_ou_65(X509 *x)
{
	fill_ou(x, 65);
}
static void m_ou_40k(X509 *x)
{
	fill_ou(x, 40 * 1024);
}
static void add_ous(X509 *x, int n)
{
	int i;

	/* The baseline subject has one attribute (its CN). */
	for (i = 0; i < n; i++)
		add_attr(x, NID_organizationalUnitName, MBSTRING_UTF8, "u", -1);
}
static void m_attrs_30(X509 *x)
{
	add_ous(x, 29);
}
static void m_attrs_31(X509 *x)
{
	add_ous(x, 30);
}
static void m_attrs_2000(X509 *x)
{
	add_ous(x, 1999);
}
static void set_dns_sans(X509 *x, int n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	char name[32];
	int i;

	del_ext(x, NID_subject_alt_name);
	for (i = 0; gens != NULL && i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		snprintf(name, sizeof(name), "h%d.example.com", i);
		if (g == NULL || s == NULL ||
		    ASN1_STRING_set(s, name, -1) != 1) {
			ASN1_STRING_free(s);
			GENERAL_NAME_free(g);
			break;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		sk_GENERAL_NAME_push(gens, g);
	}
	X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0);
	GENERAL_NAMES_free(gens);
}
static void m_sans_100(X509 *x)
{
	set_dns_sans(x, 100);
}
static void m_sans_101(X509 *x)
{
	set_dns_sans(x, 101);
}
static void m_sans_10000(X509 *x)
{
	set_dns_sans(x, 10000);
}
static void m_san_email_ctrl(X509 *x)
{
	set_sans(x, 0, GEN_EMAIL, "a\x1b[2J@example.com", -1);
}
static void m_san_dirname_ctrl(X509 *x)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = GENERAL_NAME_new();
	X509_NAME *n = X509_NAME_new();

	del_ext(x, NID_subject_alt_name);
	set_sans(x, 0, GEN_DNS, "a.example.com", 13);
	del_ext(x, NID_subject_alt_name);
	if (gens != NULL && g != NULL && n != NULL &&
	    X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)"x\ty", -1, -1,
				       0) == 1) {
		GENERAL_NAME_set0_value(g, GEN_DIRNAME, n);
		n = NULL;
		sk_GENERAL_NAME_push(gens, g);
		g = NULL;
		sk_GENERAL_NAME_push(gens, GENERAL_NAME_new());
		GENERAL_NAME_set0_value(sk_GENERAL_NAME_value(gens, 1), GEN_DNS,
					ASN1_IA5STRING_new());
		ASN1_STRING_set(GENERAL_NAME_get0_value(
				    sk_GENERAL_NAME_value(gens, 1), NULL),
				"a.example.com", -1);
		X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0);
	}
	X509_NAME_free(n);
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(gens);
}
static void m_nc_critical(X509 *x)
{
	set_ext(x, NULL, NID_name_constraints,
		"critical,permitted;DNS:example.com");
}
static void m_nc_noncritical(X509 *x)
{
	set_ext(x, NULL, NID_name_constraints, "permitted;DNS:example.com");
}
static void m_ca_no_bc(X509 *x)
{
	del_ext(x, NID_basic_constraints);
}
static void m_ca_bc_false(X509 *x)
{
	set_ext(x, NULL, NID_basic_constraints, "critical,CA:FALSE");
}
static void m_ca_bc_noncritical(X509 *x)
{
	set_ext(x, NULL, NID_basic_constraints, "CA:TRUE");
}
static void m_ca_ku_noncritical(X509 *x)
{
	set_ext(x, NULL, NID_key_usage, "keyCertSign,cRLSign");
}
static void m_ca_no_certsign(X509 *x)
{
	set_ext(x, NULL, NID_key_usage, "critical,cRLSign,digitalSignature");
}

static void test_cert_rules(void)
{
	static const struct {
		enum ca_lint_kind kind;
		void (*mutate)(X509 *);
		int rc;
		const char *msg, *what;
	} cases[] = {
	    /* what passes */
	    {CA_LINT_LEAF, m_none, CA_OK, NULL, "leaf: the baseline passes"},
	    {CA_LINT_SUBCA, m_none, CA_OK, NULL, "sub-CA: the baseline passes"},
	    {CA_LINT_ROOT, m_none, CA_OK, NULL, "root: the baseline passes"},
	    {CA_LINT_ROOT, m_no_aki, CA_OK, NULL,
	     "root: no AKI passes (RFC 5280 4.2.1.1)"},
	    {CA_LINT_LEAF, m_serial_20, CA_OK, NULL,
	     "serial: 20 octets, high bit clear, passes"},
	    {CA_LINT_LEAF, m_key_p384, CA_OK, NULL, "key: P-384 passes"},
	    {CA_LINT_LEAF, m_key_p521, CA_OK, NULL, "key: P-521 passes"},
	    {CA_LINT_LEAF, m_ed_plain, CA_OK, NULL, "key: Ed25519 passes"},
	    {CA_LINT_LEAF, m_rsa_keyenc, CA_OK, NULL,
	     "key usage: RSA with keyEncipherment passes"},
	    {CA_LINT_LEAF, m_ec_keyagree, CA_OK, NULL,
	     "key usage: EC with keyAgreement passes"},
	    {CA_LINT_LEAF, m_leaf_no_bc, CA_OK, NULL,
	     "basic constraints: a leaf without them passes"},
	    {CA_LINT_LEAF, m_client_no_san, CA_OK, NULL,
	     "SAN: a client-only leaf with a subject needs none"},
	    {CA_LINT_LEAF, m_empty_subject_san_critical, CA_OK, NULL,
	     "SAN: critical with an empty subject passes"},
	    {CA_LINT_LEAF, m_san_all_kinds, CA_OK, NULL,
	     "SAN: wildcard DNS, IPv4, IPv6, email and URI pass"},
	    {CA_LINT_SUBCA, m_nc_critical, CA_OK, NULL,
	     "name constraints: critical in a CA passes"},
	    /* what fails, rule by rule */
	    {CA_LINT_LEAF, m_v1, CA_EPOLICY,
	     "lint: certificate is not version 3", "version: v1 refused"},
	    {CA_LINT_LEAF, m_serial_zero, CA_EPOLICY,
	     "serial number is not a positive integer", "serial: zero refused"},
	    {CA_LINT_LEAF, m_serial_negative, CA_EPOLICY,
	     "serial number is not a positive integer",
	     "serial: negative refused"},
	    {CA_LINT_LEAF, m_serial_20_high, CA_EPOLICY,
	     "serial number is longer than 20 octets",
	     "serial: 20 octets with the high bit set (21 encoded) refused"},
	    {CA_LINT_LEAF, m_serial_21, CA_EPOLICY,
	     "serial number is longer than 20 octets",
	     "serial: 21 octets refused"},
	    {CA_LINT_LEAF, m_issuer_empty, CA_EPOLICY, "issuer name is empty",
	     "issuer: empty refused"},
	    {CA_LINT_LEAF, m_issuer_other, CA_EPOLICY,
	     "issuer name is not the issuer's subject name",
	     "issuer: another name refused"},
	    {CA_LINT_ROOT, m_issuer_other, CA_EPOLICY,
	     "issuer name is not the issuer's subject name",
	     "root: issuer other than its subject refused"},
	    {CA_LINT_SUBCA, m_subject_empty, CA_EPOLICY,
	     "CA certificate with an empty subject",
	     "subject: empty in a CA refused"},
	    {CA_LINT_LEAF, m_times_equal, CA_EPOLICY,
	     "notBefore is not before notAfter",
	     "validity: notBefore = notAfter refused"},
	    {CA_LINT_LEAF, m_times_reversed, CA_EPOLICY,
	     "notBefore is not before notAfter",
	     "validity: notAfter before notBefore refused"},
	    {CA_LINT_LEAF, m_after_ca, CA_EPOLICY,
	     "is not inside the validity of CN=Lint Test CA (",
	     "validity: ending after the issuer's refused"},
	    {CA_LINT_SUBCA, m_before_ca, CA_EPOLICY,
	     "is not inside the validity of CN=Lint Test CA (",
	     "validity: starting before the issuer's refused"},
	    {CA_LINT_LEAF, m_key_rsa1024, CA_EPOLICY,
	     "RSA key of 1024 bits is refused", "key: RSA 1024 refused"},
	    {CA_LINT_LEAF, m_key_rsa_e3, CA_EPOLICY,
	     "RSA public exponent is not 65537", "key: RSA e=3 refused"},
	    {CA_LINT_LEAF, m_key_k1, CA_EPOLICY,
	     "EC curve secp256k1 is refused", "key: secp256k1 refused"},
	    {CA_LINT_LEAF, m_key_ed448, CA_EPOLICY, "key type ED448 is refused",
	     "key: Ed448 refused"},
	    {CA_LINT_LEAF, m_key_infinity, CA_EPOLICY,
	     "EC public key is not a valid point on prime256v1",
	     "key: the EC point at infinity refused"},
	    {CA_LINT_LEAF, m_key_garbage, CA_EPOLICY,
	     "subject public key does not decode", "key: undecodable refused"},
	    {CA_LINT_LEAF, m_dup_bc, CA_EPOLICY,
	     "duplicate extension basicConstraints",
	     "extensions: a duplicate refused"},
	    {CA_LINT_LEAF, m_ku_undecodable, CA_EPOLICY,
	     "extension keyUsage does not decode",
	     "extensions: one that does not decode refused"},
	    {CA_LINT_LEAF, m_leaf_ca, CA_EPOLICY,
	     "end-entity certificate with cA=TRUE",
	     "basic constraints: cA in a leaf refused"},
	    {CA_LINT_LEAF, m_leaf_pathlen, CA_EPOLICY,
	     "pathLenConstraint without cA=TRUE",
	     "basic constraints: pathlen without cA refused"},
	    {CA_LINT_SUBCA, m_ca_no_bc, CA_EPOLICY,
	     "CA certificate without basicConstraints cA=TRUE",
	     "basic constraints: missing in a CA refused"},
	    {CA_LINT_ROOT, m_ca_bc_false, CA_EPOLICY,
	     "CA certificate without basicConstraints cA=TRUE",
	     "basic constraints: cA=FALSE in a CA refused"},
	    {CA_LINT_SUBCA, m_ca_bc_noncritical, CA_EPOLICY,
	     "basicConstraints must be critical in a CA certificate",
	     "basic constraints: not critical in a CA refused"},
	    {CA_LINT_LEAF, m_no_ku, CA_EPOLICY,
	     "key usage extension is missing", "key usage: missing refused"},
	    {CA_LINT_SUBCA, m_ca_ku_noncritical, CA_EPOLICY,
	     "key usage must be critical in a CA certificate",
	     "key usage: not critical in a CA refused"},
	    {CA_LINT_SUBCA, m_ca_no_certsign, CA_EPOLICY,
	     "CA certificate without keyCertSign",
	     "key usage: a CA without keyCertSign refused"},
	    {CA_LINT_LEAF, m_leaf_certsign, CA_EPOLICY,
	     "end-entity certificate with keyCertSign or cRLSign",
	     "key usage: keyCertSign in a leaf refused"},
	    {CA_LINT_LEAF, m_leaf_crlsign, CA_EPOLICY,
	     "end-entity certificate with keyCertSign or cRLSign",
	     "key usage: cRLSign in a leaf refused"},
	    {CA_LINT_LEAF, m_ec_keyenc, CA_EPOLICY,
	     "key encipherment is not possible with a id-ecPublicKey key",
	     "key usage: keyEncipherment with EC refused (RFC 8813)"},
	    {CA_LINT_LEAF, m_ed_dataenc, CA_EPOLICY,
	     "key encipherment is not possible with a ED25519 key",
	     "key usage: dataEncipherment with Ed25519 refused (RFC 8410)"},
	    {CA_LINT_LEAF, m_rsa_keyagree, CA_EPOLICY,
	     "key agreement is not possible with a rsaEncryption key",
	     "key usage: keyAgreement with RSA refused"},
	    {CA_LINT_LEAF, m_ed_keyagree, CA_EPOLICY,
	     "key agreement is not possible with a ED25519 key",
	     "key usage: keyAgreement with Ed25519 refused"},
	    {CA_LINT_LEAF, m_no_ski, CA_EPOLICY,
	     "subject key identifier is missing",
	     "SKI: missing in a leaf refused"},
	    {CA_LINT_ROOT, m_no_ski, CA_EPOLICY,
	     "subject key identifier is missing",
	     "SKI: missing in a root refused"},
	    {CA_LINT_LEAF, m_no_aki, CA_EPOLICY,
	     "authority key identifier is missing", "AKI: missing refused"},
	    {CA_LINT_SUBCA, m_aki_issuer_serial, CA_EPOLICY,
	     "authority key identifier is missing",
	     "AKI: issuer and serial without keyIdentifier refused"},
	    {CA_LINT_LEAF, m_aki_other, CA_EPOLICY,
	     "not the issuer's subject key identifier",
	     "AKI: another key's identifier refused"},
	    {CA_LINT_ROOT, m_aki_other, CA_EPOLICY,
	     "root certificate is not self-issued",
	     "root: AKI other than its own SKI refused"},
	    {CA_LINT_LEAF, m_no_san, CA_EPOLICY,
	     "TLS server certificate without subject alternative names",
	     "SAN: a serverAuth leaf without SANs refused"},
	    {CA_LINT_LEAF, m_no_san_no_eku, CA_EPOLICY,
	     "TLS server certificate without subject alternative names",
	     "SAN: a leaf with no EKU (any purpose) and no SANs refused"},
	    {CA_LINT_LEAF, m_no_san_any_eku, CA_EPOLICY,
	     "TLS server certificate without subject alternative names",
	     "SAN: anyExtendedKeyUsage without SANs refused"},
	    {CA_LINT_LEAF, m_client_nothing, CA_EPOLICY,
	     "neither a subject nor subject alternative names",
	     "SAN: neither subject nor SANs refused"},
	    {CA_LINT_LEAF, m_empty_subject_san, CA_EPOLICY,
	     "subjectAltName must be critical when the subject is empty",
	     "SAN: not critical with an empty subject refused"},
	    {CA_LINT_LEAF, m_san_bad_dns, CA_EPOLICY, "lint: subjectAltName",
	     "SAN: a DNS name with a space refused"},
	    {CA_LINT_LEAF, m_san_mid_wildcard, CA_EPOLICY,
	     "lint: subjectAltName", "SAN: a wildcard not leftmost refused"},
	    {CA_LINT_LEAF, m_san_ip5, CA_EPOLICY,
	     "subjectAltName IP address of 5 octets",
	     "SAN: an IP address of 5 octets refused"},
	    {CA_LINT_LEAF, m_san_email_empty, CA_EPOLICY,
	     "subjectAltName email is empty or has a NUL",
	     "SAN: an empty email refused"},
	    {CA_LINT_LEAF, m_san_uri_nul, CA_EPOLICY,
	     "subjectAltName 'https://a\\x00.example' has a control "
	     "character (byte 10)",
	     "SAN: a URI with a NUL refused"},
	    {CA_LINT_LEAF, m_cn_nul, CA_EPOLICY,
	     "subject CN 'evil.example\\x00.com' has a control character "
	     "(byte 13)",
	     "names: a CN with an embedded NUL refused, shown escaped"},
	    {CA_LINT_LEAF, m_cn_escape, CA_EPOLICY,
	     "subject CN '\\x1b]2;owned\\x07' has a control character",
	     "names: a CN with a terminal escape refused, shown escaped"},
	    {CA_LINT_LEAF, m_o_c1, CA_EPOLICY,
	     "subject O 'Ex\\xc2\\x9b2J' has a control character (byte 3)",
	     "names: a C1 control (U+009B CSI) refused"},
	    {CA_LINT_LEAF, m_o_utf8, CA_OK, NULL,
	     "names: UTF-8 letters beyond ASCII pass"},
	    {CA_LINT_LEAF, m_ou_64, CA_OK, NULL,
	     "names: an OU of 64 characters passes"},
	    {CA_LINT_LEAF, m_ou_65, CA_EPOLICY,
	     "subject OU is 65 characters long: at most 64",
	     "names: an OU of 65 characters refused (RFC 5280 ub)"},
	    {CA_LINT_LEAF, m_ou_40k, CA_EPOLICY,
	     "subject OU is 40960 bytes long: at most 64 characters",
	     "names: a 40 KB OU refused"},
	    {CA_LINT_LEAF, m_attrs_30, CA_OK, NULL,
	     "names: a subject of 30 attributes passes"},
	    {CA_LINT_LEAF, m_attrs_31, CA_EPOLICY,
	     "subject has 31 attributes: at most 30",
	     "names: a subject of 31 attributes refused"},
	    {CA_LINT_LEAF, m_attrs_2000, CA_EPOLICY,
	     "subject has 2000 attributes: at most 30",
	     "names: a subject of 2,000 attributes refused"},
	    {CA_LINT_SUBCA, m_attrs_31, CA_EPOLICY,
	     "subject has 31 attributes: at most 30",
	     "names: the same caps for a CA certificate"},
	    {CA_LINT_LEAF, m_sans_100, CA_OK, NULL, "SAN: 100 names pass"},
	    {CA_LINT_LEAF, m_sans_101, CA_EPOLICY,
	     "101 subject alternative names: at most 100",
	     "SAN: 101 names refused"},
	    {CA_LINT_LEAF, m_sans_10000, CA_EPOLICY,
	     "10000 subject alternative names: at most 100",
	     "SAN: 10,000 names refused"},
	    {CA_LINT_LEAF, m_san_email_ctrl, CA_EPOLICY,
	     "subjectAltName 'a\\x1b[2J@example.com' has a control character",
	     "SAN: an email with an escape sequence refused"},
	    {CA_LINT_LEAF, m_san_dirname_ctrl, CA_EPOLICY,
	     "subjectAltName directoryName CN 'x\\x09y' has a control "
	     "character",
	     "SAN: a directoryName with a tab refused"},
	    {CA_LINT_LEAF, m_nc_critical, CA_EPOLICY,
	     "name constraints must be critical and only in CA certificates",
	     "name constraints: in a leaf refused"},
	    {CA_LINT_SUBCA, m_nc_noncritical, CA_EPOLICY,
	     "name constraints must be critical and only in CA certificates",
	     "name constraints: not critical refused"},
	};
	size_t i, len;
	unsigned char *tbs;
	X509 *x;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ca_lint lc = {cases[i].kind,
				     cases[i].kind == CA_LINT_ROOT ? NULL : ca,
				     NULL, NULL, 0};

		tbs = NULL;
		x = baseline(cases[i].kind);
		if (x != NULL)
			cases[i].mutate(x);
		ca_err_clear();
		rc = x != NULL && ca_x509_tbs(x, algid, algid_len, &tbs,
					      &len) == CA_OK
			 ? ca_lint_cert(tbs, len, &lc)
			 : CA_EIO;
		ok(rc == cases[i].rc && fx_err(cases[i].msg), "%s",
		   cases[i].what);
		free(tbs);
		X509_free(x);
	}
}

/* DER that is not canonical: the outer length in one more octet than it
 * needs (BER allows it; DER does not). */
static unsigned char *long_form(const unsigned char *der, size_t len,
				size_t *out_len)
{
	unsigned char *out;
	size_t k;

	if (len < 4 || der[1] < 0x81 || der[1] > 0x83)
		return NULL;
	k = der[1] & 0x7f;
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	out[0] = der[0];
	out[1] = (unsigned char)(0x80 | (k + 1));
	out[2] = 0x00;
	memcpy(out + 3, der + 2, len - 2);
	*out_len = len + 1;
	return out;
}

static void test_cert_encoding(void)
{
	static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	struct ca_lint lc = {CA_LINT_LEAF, NULL, NULL, NULL, 0};
	unsigned char *tbs = NULL, *ber = NULL;
	size_t len = 0, ber_len = 0;
	X509 *x = baseline(CA_LINT_LEAF), *other = baseline(CA_LINT_LEAF);

	lc.issuer = ca;
	ca_err_clear();
	ok(ca_lint_cert(junk, sizeof(junk), &lc) == CA_EPOLICY &&
	       fx_err("the certificate to be signed does not parse"),
	   "encoding: a TBS that does not parse refused");
	ok(x != NULL && ca_x509_tbs(x, algid, algid_len, &tbs, &len) == CA_OK &&
	       (ber = long_form(tbs, len, &ber_len)) != NULL &&
	       ca_lint_cert(ber, ber_len, &lc) == CA_EPOLICY &&
	       fx_err("the TBS certificate is not canonical DER"),
	   "encoding: a BER length (not DER) refused");
	lc.draft = x;
	ca_err_clear();
	ok(tbs != NULL && ca_lint_cert(tbs, len, &lc) == CA_OK,
	   "draft: the object the TBS was encoded from passes");
	ASN1_INTEGER_set(X509_get_serialNumber(other), 0x4321);
	lc.draft = other;
	ok(tbs != NULL && ca_lint_cert(tbs, len, &lc) == CA_EPOLICY &&
	       fx_err("not canonical DER"),
	   "draft: an object other than the TBS refused");
	lc.draft = NULL;
	lc.subject_pub = rsa1024_key;
	ok(tbs != NULL && ca_lint_cert(tbs, len, &lc) == CA_EPOLICY &&
	       fx_err("lint: subject public key: RSA key of 1024 bits"),
	   "subject_pub: the key given is the key linted");
	free(ber);
	free(tbs);
	X509_free(x);
	X509_free(other);
}

static void test_pubkey_policy(void)
{
	static const struct {
		EVP_PKEY **key;
		int rc;
		const char *msg, *what;
	} cases[] = {
	    {&ec_key, CA_OK, NULL, "P-256"},
	    {&p384_key, CA_OK, NULL, "P-384"},
	    {&p521_key, CA_OK, NULL, "P-521"},
	    {&rsa_key, CA_OK, NULL, "RSA 2048"},
	    {&ed_key, CA_OK, NULL, "Ed25519"},
	    {&rsa1024_key, CA_EPOLICY,
	     "host.csr: RSA key of 1024 bits is refused (at least 2048)",
	     "RSA 1024"},
	    {&rsa_e3_key, CA_EPOLICY,
	     "host.csr: RSA public exponent is not 65537", "RSA e=3"},
	    {&k1_key, CA_EPOLICY,
	     "EC curve secp256k1 is refused (P-256, P-384 and P-521 only)",
	     "secp256k1"},
	    {&ed448_key, CA_EPOLICY, "key type ED448 is refused", "Ed448"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_err_clear();
		ok(*cases[i].key != NULL &&
		       ca_lint_pubkey(*cases[i].key, "host.csr") ==
			   cases[i].rc &&
		       fx_err(cases[i].msg),
		   "key policy: %s %s", cases[i].what,
		   cases[i].rc == CA_OK ? "accepted" : "refused");
	}
}

/* ---------------------------------------------------------------------- */
/* CSRs                                                                    */

/* DER of a CSR for key (signed with md), asking for cA when ca_flag. */
static unsigned char *csr_der(EVP_PKEY *key, const EVP_MD *md, int ca_flag,
			      size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = cn_name("host.example.com");
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *bc = NULL;
	unsigned char *der = NULL;
	int n_der = 0;

	if (ca_flag >= 0)
		bc = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
					 ca_flag ? "critical,CA:TRUE"
						 : "critical,CA:FALSE");
	if (req != NULL && n != NULL && exts != NULL &&
	    X509_REQ_set_version(req, X509_REQ_VERSION_1) == 1 &&
	    X509_REQ_set_subject_name(req, n) == 1 &&
	    X509_REQ_set_pubkey(req, key) == 1 &&
	    (bc == NULL || (sk_X509_EXTENSION_push(exts, bc) &&
			    X509_REQ_add_extensions(req, exts) == 1)) &&
	    X509_REQ_sign(req, key, md) > 0)
		n_der = i2d_X509_REQ(req, &der);
	*len = n_der > 0 ? (size_t)n_der : 0;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(req);
	return n_der > 0 ? der : NULL;
}

/* Parse and check a CSR for key signed with md (flip: spoil its
 * signature). */
static int csr_check(EVP_PKEY *key, const EVP_MD *md, int flip)
{
	struct ca_csr_der c;
	size_t len = 0;
	unsigned char *der = csr_der(key, md, -1, &len);
	int rc;

	if (der == NULL)
		return CA_EIO;
	if (flip)
		der[len - 1] ^= 0x01; /* the signature's last octet */
	ca_err_clear();
	rc = ca_csr_der_parse(der, len, &c);
	if (rc == CA_OK)
		rc = ca_csr_check(&c, "host.csr");
	ca_csr_der_clear(&c);
	OPENSSL_free(der);
	return rc;
}

static int csr_refuse_ca(int ca_flag)
{
	size_t len;
	unsigned char *der = csr_der(ec_key, EVP_sha256(), ca_flag, &len);
	const unsigned char *p = der;
	X509_REQ *req = der ? d2i_X509_REQ(NULL, &p, (long)len) : NULL;
	int rc = req != NULL ? ca_csr_refuse_ca(req, "host.csr") : CA_EIO;

	X509_REQ_free(req);
	OPENSSL_free(der);
	return rc;
}

/* Parse a CSR of key; its decoded key, or NULL (why in *why). */
static EVP_PKEY *csr_key(EVP_PKEY *key, int spoil_point, char *why,
			 size_t why_len)
{
	struct ca_csr_der c;
	size_t len = 0, i;
	unsigned char *der = csr_der(key, EVP_sha256(), -1, &len);
	unsigned char *pt = NULL;
	size_t pt_len;
	EVP_PKEY *pub = NULL;

	pt_len = EVP_PKEY_get1_encoded_public_key(key, &pt);
	/* The point's last octet (its y) changed: off the curve. */
	for (i = 0; spoil_point && der && pt_len && i + pt_len <= len; i++)
		if (memcmp(der + i, pt, pt_len) == 0) {
			der[i + pt_len - 1] ^= 0x01;
			break;
		}
	if (der != NULL && ca_csr_der_parse(der, len, &c) == CA_OK) {
		pub = c.pub;
		c.pub = NULL;
		snprintf(why, why_len, "%s", c.why);
		ca_csr_der_clear(&c);
	}
	OPENSSL_free(pt);
	OPENSSL_free(der);
	return pub;
}

/* EC keys of CSRs are copies of one key per curve with their own point
 * (input/csrder.c): each copy is its own key, and a point off the curve
 * is refused on the copy path too. */
static void test_csr_key_copies(void)
{
	EVP_PKEY *other = fx_key("EC", "P-256", 0, 0);
	EVP_PKEY *a, *b, *c;
	char why[256];

	a = csr_key(ec_key, 0, why, sizeof(why));
	b = csr_key(other, 0, why, sizeof(why));
	c = csr_key(ec_key, 0, why, sizeof(why));
	ok(a && b && c && EVP_PKEY_eq(a, ec_key) == 1 &&
	       EVP_PKEY_eq(b, other) == 1 && EVP_PKEY_eq(c, ec_key) == 1 &&
	       EVP_PKEY_eq(a, b) != 1,
	   "CSR keys: every P-256 CSR key is its own key, not the first's");
	ok(b && EVP_PKEY_is_a(b, "EC") && ca_lint_pubkey(b, "copy") == CA_OK,
	   "CSR keys: a copied key is a P-256 key that passes the policy");
	EVP_PKEY_free(c);
	c = csr_key(other, 1, why, sizeof(why));
	ok(c == NULL && strstr(why, "EC public key is not a valid point on "
				    "prime256v1") != NULL,
	   "CSR keys: a point off the curve refused after the first key "
	   "(%s)",
	   why);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
	EVP_PKEY_free(other);
}

static void test_csr(void)
{
	ok(csr_check(ec_key, EVP_sha256(), 0) == CA_OK,
	   "CSR: P-256 with SHA-256 passes");
	ok(csr_check(ed_key, NULL, 0) == CA_OK, "CSR: Ed25519 passes");
	ok(csr_check(ec_key, EVP_sha256(), 1) == CA_EPOLICY &&
	       fx_err("CSR signature does not verify: host.csr"),
	   "CSR: a signature that does not verify refused");
	ok(csr_check(ec_key, EVP_sha1(), 0) == CA_EPOLICY &&
	       fx_err("host.csr: the CSR is signed with a digest other than "
		      "SHA-2"),
	   "CSR: a SHA-1 signature refused");
	ok(csr_check(rsa1024_key, EVP_sha256(), 0) == CA_EPOLICY &&
	       fx_err("host.csr: RSA key of 1024 bits is refused"),
	   "CSR: a weak key refused before its signature is looked at");
	ok(csr_check(ed448_key, NULL, 0) == CA_EPOLICY &&
	       fx_err("host.csr: key type ED448 is refused"),
	   "CSR: a key type we do not take refused, saying why");
	ok(csr_refuse_ca(-1) == CA_OK, "CSR: no basicConstraints passes");
	ok(csr_refuse_ca(0) == CA_OK, "CSR: cA=FALSE passes");
	ca_err_clear();
	ok(csr_refuse_ca(1) == CA_EPOLICY &&
	       fx_err("the CSR host.csr asks for a CA certificate (cA=TRUE)"),
	   "CSR: cA=TRUE refused for an end-entity certificate");
}

/* ---------------------------------------------------------------------- */
/* The lint copy                                                           */

static void test_copy(void)
{
	X509 *x = baseline(CA_LINT_LEAF), *copy = NULL;
	unsigned char *tbs = NULL, *re = NULL;
	const X509_ALGOR *sigalg = NULL;
	unsigned char *alg_der = NULL;
	size_t len = 0;
	const char *path = fx_path("lint.der");
	int n = 0, alg_n = 0;

	ok(x != NULL && ca_x509_tbs(x, algid, algid_len, &tbs, &len) == CA_OK &&
	       ca_cert_lint_copy(ca_key, CA_SIGALG_DEFAULT, tbs, len, path,
				 0) == CA_OK,
	   "lint copy written");
	ok(ca_x509_load(path, &copy) == CA_OK, "lint copy is a certificate");
	if (copy != NULL) {
		n = i2d_re_X509_tbs(copy, &re);
		X509_get0_signature(NULL, &sigalg, copy);
		alg_n = i2d_X509_ALGOR(sigalg, &alg_der);
	}
	ok(n > 0 && (size_t)n == len && memcmp(re, tbs, len) == 0,
	   "lint copy holds exactly the TBS");
	ok(alg_n > 0 && (size_t)alg_n == algid_len &&
	       memcmp(alg_der, algid, algid_len) == 0,
	   "lint copy is signed with the CA key's algorithm");
	ok(copy != NULL && X509_verify(copy, ca_key) != 1,
	   "lint copy is signed by a throwaway key, not the CA's");
	ERR_clear_error();
	ca_err_clear();
	ok(tbs != NULL &&
	       ca_cert_lint_copy(ca_key, CA_SIGALG_DEFAULT, tbs, len, path,
				 0) == CA_EUSAGE &&
	       fx_err("already exists"),
	   "lint copy does not overwrite without force");
	ok(tbs != NULL && ca_cert_lint_copy(rsa_key, CA_SIGALG_DEFAULT, tbs,
					    len, path, 1) == CA_OK,
	   "lint copy replaces with force (RSA signer)");
	ok(tbs != NULL && ca_cert_lint_copy(ed448_key, CA_SIGALG_DEFAULT, tbs,
					    len, fx_path("x.der"), 0) < 0,
	   "lint copy for a key type we cannot sign with fails");
	OPENSSL_free(re);
	OPENSSL_free(alg_der);
	X509_free(copy);
	X509_free(x);
	free(tbs);
}

/* ---------------------------------------------------------------------- */
/* CRL lint: what the library's encoder cannot produce                     */

enum {
	NO_NEXT = 1,
	NO_AKI = 2,
	NO_NUMBER = 4,
	NO_ENTRIES = 8,
	WITH_IDP = 16,
};

static void crl_ext(X509_CRL *crl, int nid, const char *conf)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, conf);
	if (e == NULL || X509_CRL_add_ext(crl, e, -1) != 1)
		printf("# cannot add %s = %s\n", OBJ_nid2sn(nid), conf);
	X509_EXTENSION_free(e);
}

static void crl_raw_ext(X509_CRL *crl, int nid, const char *der, int len)
{
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;

	if (v != NULL &&
	    ASN1_OCTET_STRING_set(v, (const unsigned char *)der, len) == 1)
		e = X509_EXTENSION_create_by_NID(NULL, nid, 0, v);
	if (e == NULL || X509_CRL_add_ext(crl, e, -1) != 1)
		printf("# cannot add raw %s\n", OBJ_nid2sn(nid));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
}

/* An INTEGER extension (cRLNumber, deltaCRLIndicator) from hex. */
static void crl_int_ext(X509_CRL *crl, int nid, int crit, const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *v = NULL;

	if (BN_hex2bn(&bn, hex) == 0 ||
	    (v = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_CRL_add1_ext_i2d(crl, nid, v, crit, X509V3_ADD_APPEND) != 1)
		printf("# cannot add %s = %s\n", OBJ_nid2sn(nid), hex);
	ASN1_INTEGER_free(v);
	BN_free(bn);
}

static void add_revoked(X509_CRL *crl, long serial, time_t when, int reason,
			int invalidity)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *s = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, when);
	ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
	int good = r && s && t && e && ASN1_INTEGER_set(s, serial) &&
		   X509_REVOKED_set_serialNumber(r, s) &&
		   X509_REVOKED_set_revocationDate(r, t);

	if (good && reason >= 0)
		good = ASN1_ENUMERATED_set(e, reason) &&
		       X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
	if (good && invalidity)
		good =
		    X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, t, 0, 0);
	if (good && X509_CRL_add0_revoked(crl, r))
		r = NULL;
	else
		printf("# cannot add a revoked entry\n");
	X509_REVOKED_free(r);
	ASN1_INTEGER_free(s);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
}

static void c_none(X509_CRL *c)
{
	(void)c;
}
static void c_v1(X509_CRL *c)
{
	X509_CRL_set_version(c, X509_CRL_VERSION_1);
}
static void c_issuer_other(X509_CRL *c)
{
	X509_NAME *n = cn_name("Someone Else");

	X509_CRL_set_issuer_name(c, n);
	X509_NAME_free(n);
}
static void c_aki_twice(X509_CRL *c)
{
	crl_ext(c, NID_authority_key_identifier, "keyid:always");
}
static void c_aki_critical(X509_CRL *c)
{
	crl_ext(c, NID_authority_key_identifier, "critical,keyid:always");
}
static void c_aki_no_keyid(X509_CRL *c)
{
	crl_ext(c, NID_authority_key_identifier, "issuer:always");
}
static void c_aki_with_issuer(X509_CRL *c)
{
	crl_ext(c, NID_authority_key_identifier, "keyid:always,issuer:always");
}
static void c_number_twice(X509_CRL *c)
{
	crl_int_ext(c, NID_crl_number, 0, "7");
}
static void c_number_critical(X509_CRL *c)
{
	crl_int_ext(c, NID_crl_number, 1, "7");
}
static void c_number_garbage(X509_CRL *c)
{
	crl_raw_ext(c, NID_crl_number, "\x05\x00", 2);
}
static void c_number_negative(X509_CRL *c)
{
	crl_int_ext(c, NID_crl_number, 0, "-7");
}
static void c_number_long(X509_CRL *c)
{
	crl_int_ext(c, NID_crl_number, 0,
		    "0102030405060708090a0b0c0d0e0f101112131415");
}
static void c_idp(X509_CRL *c)
{
	crl_ext(c, NID_issuing_distribution_point,
		"critical,fullname:URI:http://crl.example/1.crl");
}
static void c_idp_twice(X509_CRL *c)
{
	c_idp(c);
	c_idp(c);
}
static void c_idp_noncritical(X509_CRL *c)
{
	crl_ext(c, NID_issuing_distribution_point,
		"fullname:URI:http://crl.example/1.crl");
}
static void c_idp_no_fullname(X509_CRL *c)
{
	crl_ext(c, NID_issuing_distribution_point, "critical,onlyuser:TRUE");
}
static void c_idp_only_ca(X509_CRL *c)
{
	crl_ext(c, NID_issuing_distribution_point,
		"critical,fullname:URI:http://crl.example/1.crl,onlyCA:TRUE");
}
static void c_idp_two_urls(X509_CRL *c)
{
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	static const char *const urls[] = {"http://crl.example/1.crl",
					   "http://crl2.example/1.crl"};
	int i, good = idp != NULL && names != NULL &&
		      (idp->distpoint = DIST_POINT_NAME_new()) != NULL;

	for (i = 0; good && i < 2; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *u = ASN1_IA5STRING_new();

		good = g != NULL && u != NULL &&
		       ASN1_STRING_set(u, urls[i], -1) == 1;
		if (good) {
			GENERAL_NAME_set0_value(g, GEN_URI, u);
			good = sk_GENERAL_NAME_push(names, g) > 0;
		} else {
			ASN1_IA5STRING_free(u);
		}
		if (!good)
			GENERAL_NAME_free(g);
	}
	if (good) {
		idp->distpoint->type = 0;
		idp->distpoint->name.fullname = names;
		names = NULL;
		good = X509_CRL_add1_ext_i2d(c, NID_issuing_distribution_point,
					     idp, 1, 0) == 1;
	}
	if (!good)
		printf("# cannot add an IDP with two URLs\n");
	GENERAL_NAMES_free(names);
	ISSUING_DIST_POINT_free(idp);
}
static void c_idp_dns(X509_CRL *c)
{
	crl_ext(c, NID_issuing_distribution_point,
		"critical,fullname:DNS:crl.example");
}
static void c_delta(X509_CRL *c)
{
	crl_int_ext(c, NID_delta_crl, 1, "6");
}
static void c_entry_invalidity(X509_CRL *c)
{
	add_revoked(c, 0x30, now - 3600, -1, 1);
}
static void c_entry_reason7(X509_CRL *c)
{
	add_revoked(c, 0x30, now - 3600, 7, 0);
}
static void c_entry_remove(X509_CRL *c)
{
	add_revoked(c, 0x30, now - 3600, CA_REASON_REMOVE_FROM_CRL, 0);
}
static void c_entries_emptied(X509_CRL *c)
{
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(c);

	while (sk_X509_REVOKED_num(rev) > 0)
		X509_REVOKED_free(sk_X509_REVOKED_pop(rev));
}

static void crl_spec(struct ca_crl_spec *s, const char *const *urls,
		     size_t n_urls)
{
	static unsigned char *issuer_der;
	static int issuer_len;
	static unsigned char keyid[64];
	static size_t keyid_len;

	if (issuer_der == NULL) {
		issuer_len =
		    i2d_X509_NAME(X509_get_subject_name(ca), &issuer_der);
		if (ca_crl_issuer_keyid(ca, keyid, &keyid_len) < 0)
			keyid_len = 0;
	}
	memset(s, 0, sizeof(*s));
	s->algid = algid;
	s->algid_len = algid_len;
	s->issuer = issuer_der;
	s->issuer_len = issuer_len > 0 ? (size_t)issuer_len : 0;
	s->aki = keyid;
	s->aki_len = keyid_len;
	s->this_update = now - 60;
	s->next_update = s->this_update + 7 * DAY;
	s->number = 7;
	s->idp_urls = urls;
	s->n_idp_urls = n_urls;
}

/* The TBS of a CRL built with OpenSSL (two entries, AKI, cRLNumber 7),
 * without what flags leave out, then changed by mutate. */
static unsigned char *crl_tbs(int flags, void (*mutate)(X509_CRL *),
			      const struct ca_crl_spec *s, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *tu = ASN1_TIME_set(NULL, s->this_update);
	ASN1_TIME *nu = ASN1_TIME_set(NULL, s->next_update);
	unsigned char *der = NULL, *tbs = NULL;
	int n = 0;

	if (crl == NULL || tu == NULL || nu == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, tu) != 1 ||
	    (!(flags & NO_NEXT) && X509_CRL_set1_nextUpdate(crl, nu) != 1))
		goto out;
	if (!(flags & NO_ENTRIES)) {
		add_revoked(crl, 0x10, now - 3600, -1, 0);
		add_revoked(crl, 0x20, now - 3600, CA_REASON_KEY_COMPROMISE, 0);
	}
	if (!(flags & NO_AKI))
		crl_ext(crl, NID_authority_key_identifier, "keyid:always");
	if (!(flags & NO_NUMBER))
		crl_int_ext(crl, NID_crl_number, 0, "7");
	if (flags & WITH_IDP)
		c_idp(crl);
	mutate(crl);
	if (X509_CRL_sign(crl, ca_key, EVP_sha256()) > 0)
		n = i2d_re_X509_CRL_tbs(crl, &der);
	if (n > 0 && (tbs = malloc((size_t)n)) != NULL) {
		memcpy(tbs, der, (size_t)n);
		*len = (size_t)n;
	}
out:
	OPENSSL_free(der);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	X509_CRL_free(crl);
	return tbs;
}

static void test_crl_rules(void)
{
	static const char *const one_url[] = {"http://crl.example/1.crl"};
	static const struct {
		int flags;
		void (*mutate)(X509_CRL *);
		size_t n_entries;
		int rc;
		const char *msg, *what;
	} cases[] = {
	    {0, c_none, 2, CA_OK, NULL, "CRL: the baseline passes"},
	    {WITH_IDP, c_none, 2, CA_OK, NULL,
	     "CRL: a partition CRL with its IDP passes"},
	    {NO_ENTRIES, c_none, 0, CA_OK, NULL, "CRL: no entries passes"},
	    {0, c_v1, 2, CA_EPOLICY, "lint: CRL is not version 2",
	     "CRL: version 1 refused"},
	    {0, c_issuer_other, 2, CA_EPOLICY,
	     "issuer is not the CA certificate's subject",
	     "CRL: another issuer refused"},
	    {NO_NEXT, c_none, 2, CA_EPOLICY, "has no nextUpdate",
	     "CRL: no nextUpdate refused (RFC 5280 5.1.2.5)"},
	    {0, c_aki_twice, 2, CA_EPOLICY,
	     "has two authorityKeyIdentifier extensions",
	     "CRL: two AKIs refused"},
	    {NO_AKI, c_aki_critical, 2, CA_EPOLICY,
	     "authorityKeyIdentifier is critical",
	     "CRL: a critical AKI refused"},
	    {NO_AKI, c_aki_no_keyid, 2, CA_EPOLICY,
	     "authorityKeyIdentifier has no keyIdentifier",
	     "CRL: an AKI without keyIdentifier refused"},
	    {NO_AKI, c_aki_with_issuer, 2, CA_EPOLICY,
	     "authorityKeyIdentifier names an issuer and serial",
	     "CRL: an AKI naming issuer and serial refused"},
	    {NO_AKI, c_none, 2, CA_EPOLICY,
	     "has no authorityKeyIdentifier (RFC 5280 5.2.1)",
	     "CRL: no AKI refused"},
	    {0, c_number_twice, 2, CA_EPOLICY, "has two cRLNumber extensions",
	     "CRL: two cRLNumbers refused"},
	    {NO_NUMBER, c_number_critical, 2, CA_EPOLICY,
	     "cRLNumber is critical (RFC 5280 5.2.3)",
	     "CRL: a critical cRLNumber refused"},
	    {NO_NUMBER, c_number_garbage, 2, CA_EPOLICY,
	     "cRLNumber does not parse",
	     "CRL: a cRLNumber that is no INTEGER "
	     "refused"},
	    {NO_NUMBER, c_number_negative, 2, CA_EPOLICY,
	     "cRLNumber is negative or longer than 20 octets",
	     "CRL: a negative cRLNumber refused"},
	    {NO_NUMBER, c_number_long, 2, CA_EPOLICY,
	     "cRLNumber is negative or longer than 20 octets",
	     "CRL: a 21-octet cRLNumber refused"},
	    {NO_NUMBER, c_none, 2, CA_EPOLICY, "has no cRLNumber",
	     "CRL: no cRLNumber refused"},
	    {0, c_idp_twice, 2, CA_EPOLICY,
	     "has two issuingDistributionPoint extensions",
	     "CRL: two IDPs refused"},
	    {0, c_idp_noncritical, 2, CA_EPOLICY,
	     "issuingDistributionPoint is not critical (RFC 5280 5.2.5)",
	     "CRL: a non-critical IDP refused"},
	    {0, c_idp_no_fullname, 2, CA_EPOLICY,
	     "issuingDistributionPoint has no fullName",
	     "CRL: an IDP without fullName refused"},
	    {0, c_idp_only_ca, 2, CA_EPOLICY,
	     "issuingDistributionPoint restricts the scope beyond its URL",
	     "CRL: an IDP limited to CA certificates refused"},
	    {0, c_idp_two_urls, 2, CA_EPOLICY,
	     "issuingDistributionPoint names 2 URLs, not 1",
	     "CRL: an IDP with another number of URLs refused"},
	    {0, c_idp_dns, 2, CA_EPOLICY,
	     "issuingDistributionPoint does not name http://crl.example/1.crl",
	     "CRL: an IDP naming a DNS name refused"},
	    {0, c_delta, 2, CA_EPOLICY, "has an unexpected extension deltaCRL",
	     "CRL: an extension we never sign refused"},
	    {NO_ENTRIES, c_none, 2, CA_EPOLICY,
	     "has no revokedCertificates but 2 entries were expected",
	     "CRL: entries missing refused"},
	    {0, c_none, 3, CA_EPOLICY, "has 2 entries, not 3",
	     "CRL: another number of entries refused"},
	    {0, c_entries_emptied, 0, CA_EPOLICY,
	     "has an empty revokedCertificates (RFC 5280 5.1.2.6",
	     "CRL: an empty revokedCertificates refused"},
	    {0, c_entry_invalidity, 3, CA_EPOLICY,
	     "entry 3: an extension other than a non-critical reasonCode",
	     "CRL entry: an invalidityDate extension refused"},
	    {0, c_entry_reason7, 3, CA_EPOLICY,
	     "entry 3: reasonCode 7 cannot appear in a CRL",
	     "CRL entry: reasonCode 7 (unused) refused"},
	    {0, c_entry_remove, 3, CA_EPOLICY,
	     "entry 3: reasonCode 8 cannot appear in a CRL",
	     "CRL entry: removeFromCRL refused (delta CRLs only)"},
	};
	struct ca_crl_spec s;
	unsigned char *tbs, *ber;
	size_t i, len = 0, ber_len = 0;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int idp = (cases[i].flags & WITH_IDP) ||
			  cases[i].mutate == c_idp_twice ||
			  cases[i].mutate == c_idp_noncritical ||
			  cases[i].mutate == c_idp_no_fullname ||
			  cases[i].mutate == c_idp_only_ca ||
			  cases[i].mutate == c_idp_two_urls ||
			  cases[i].mutate == c_idp_dns;

		crl_spec(&s, idp ? one_url : NULL, idp ? 1 : 0);
		tbs = crl_tbs(cases[i].flags, cases[i].mutate, &s, &len);
		ca_err_clear();
		rc = tbs != NULL
			 ? ca_crl_lint_tbs(tbs, len, &s, ca, cases[i].n_entries)
			 : CA_EIO;
		ok(rc == cases[i].rc && fx_err(cases[i].msg), "%s",
		   cases[i].what);
		free(tbs);
	}
	crl_spec(&s, NULL, 0);
	ca_err_clear();
	ok(ca_crl_lint_tbs((const unsigned char *)"\x30\x03\x02\x01\x01", 5, &s,
			   ca, 0) == CA_EPOLICY &&
	       fx_err("lint: CRL to be signed does not parse"),
	   "CRL: a TBS that does not parse refused");
	tbs = crl_tbs(0, c_none, &s, &len);
	ber = tbs != NULL ? long_form(tbs, len, &ber_len) : NULL;
	ok(ber != NULL &&
	       ca_crl_lint_tbs(ber, ber_len, &s, ca, 2) == CA_EPOLICY &&
	       fx_err("is not canonical DER"),
	   "CRL: a BER length (not DER) refused");
	free(tbs);
	free(ber);
}

static void test_crl_entries(void)
{
#define UTC2001                                                                \
	0x17, 0x0d, '0', '1', '0', '1', '0', '1', '0', '0', '0', '0', '0',     \
	    '0', 'Z'
	static const unsigned char good[] = {0x30, 0x12, 0x02,
					     0x01, 0x01, UTC2001};
	static const unsigned char good2[] = {0x30, 0x12, 0x02,
					      0x01, 0x02, UTC2001};
	static const unsigned char octets[] = {0x04, 0x00};
	static const unsigned char trailing[] = {0x30, 0x12,	0x02, 0x01,
						 0x01, UTC2001, 0x00};
	static const unsigned char no_serial[] = {0x30, 0x0f, UTC2001};
	static const unsigned char serial21[] = {
	    0x30, 0x26, 0x02, 0x15, 0x01, 0x02, 0x03, 0x04,   0x05,
	    0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,   0x0e,
	    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, UTC2001};
	static const unsigned char no_seconds[] = {
	    0x30, 0x10, 0x02, 0x01, 0x01, 0x17, 0x0b, '0', '1',
	    '0',  '1',	'0',  '1',  '0',  '0',	'0',  '0', 'Z'};
	static const unsigned char offset[] = {
	    0x30, 0x16, 0x02, 0x01, 0x01, 0x17, 0x11, '0', '1', '0', '1', '0',
	    '1',  '0',	'0',  '0',  '0',  '0',	'0',  '+', '0', '1', '0', '0'};
	static const unsigned char after_date[] = {
	    0x30, 0x15, 0x02, 0x01, 0x01, UTC2001, 0x02, 0x01, 0x05};
#undef UTC2001
	static const struct {
		const unsigned char *der;
		size_t len;
		const char *msg, *what;
	} cases[] = {
	    {octets, sizeof(octets), "entry 1 is not one DER SEQUENCE",
	     "not a SEQUENCE"},
	    {trailing, sizeof(trailing), "entry 1 is not one DER SEQUENCE",
	     "bytes after the SEQUENCE"},
	    {no_serial, sizeof(no_serial), "entry 1 has no serial number",
	     "no serial"},
	    {serial21, sizeof(serial21),
	     "entry 1: serial longer than 20 octets", "a 21-octet serial"},
	    {no_seconds, sizeof(no_seconds),
	     "entry 1: revocationDate is not a valid RFC 5280 Time",
	     "a UTCTime without seconds"},
	    {offset, sizeof(offset),
	     "entry 1: revocationDate is not a valid RFC 5280 Time",
	     "a UTCTime with an offset"},
	    {after_date, sizeof(after_date),
	     "entry 1: trailing data after the revocationDate",
	     "an INTEGER after the revocationDate"},
	};
	struct ca_crl_spec s;
	struct ca_crl_lint l;
	size_t i;

	crl_spec(&s, NULL, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ca_crl_lint_init(&l, ca, &s);
		ca_err_clear();
		ok(ca_crl_lint_entry(&l, cases[i].der, cases[i].len) ==
			   CA_EPOLICY &&
		       fx_err(cases[i].msg),
		   "CRL entry refused: %s", cases[i].what);
	}
	ca_crl_lint_init(&l, ca, &s);
	ca_err_clear();
	ok(ca_crl_lint_entry(&l, good, sizeof(good)) == CA_OK &&
	       ca_crl_lint_entry(&l, good2, sizeof(good2)) == CA_OK &&
	       ca_crl_lint_entry(&l, octets, sizeof(octets)) == CA_EPOLICY &&
	       fx_err("entry 3 is not one DER SEQUENCE"),
	   "CRL entries: two pass, the third is named by its position");
}

/* ---------------------------------------------------------------------- */

static void test_bad_arguments(void)
{
	static const unsigned char empty[1];
	struct ca_lint lc = {CA_LINT_LEAF, NULL, NULL, NULL, 0};
	struct ca_crl_spec s;

	lc.issuer = ca;
	ca_err_clear();
	ok(ca_lint_cert(empty, 0, &lc) == CA_EPOLICY &&
	       fx_err("does not parse"),
	   "an empty TBS is refused");
	crl_spec(&s, NULL, 0);
	ca_err_clear();
	ok(ca_crl_lint_tbs(empty, 0, &s, ca, 0) == CA_EPOLICY &&
	       fx_err("does not parse"),
	   "an empty TBSCertList is refused");
	ok(ca_cert_lint_copy(ca_key, CA_SIGALG_DEFAULT, empty, 0,
			     fx_path("nodir/x.der"), 0) == CA_EIO,
	   "a lint copy into a missing directory fails");
}

static int make_keys(void)
{
	ca_key = fx_key("EC", "P-256", 0, 0);
	ec_key = fx_key("EC", "P-256", 0, 0);
	p384_key = fx_key("EC", "P-384", 0, 0);
	p521_key = fx_key("EC", "P-521", 0, 0);
	k1_key = fx_key("EC", "secp256k1", 0, 0);
	ed_key = fx_key("ED25519", NULL, 0, 0);
	ed448_key = fx_key("ED448", NULL, 0, 0);
	rsa_key = fx_key("RSA", NULL, 2048, 0);
	rsa1024_key = fx_key("RSA", NULL, 1024, 0);
	rsa_e3_key = fx_key("RSA", NULL, 2048, 3);
	return ca_key && ec_key && p384_key && p521_key && k1_key && ed_key &&
	       ed448_key && rsa_key && rsa1024_key && rsa_e3_key;
}

/* The SANs of a stored certificate, read from its DER without decoding
 * its key (hsmca-audit show): as the full parse reads them, and damage
 * refused. */
static void test_der_sans(void)
{
	X509 *leaf = baseline(CA_LINT_LEAF);
	unsigned char *der = NULL, *cader = NULL, *longer = NULL;
	int len = -1, calen;
	json_t *got = NULL, *want = NULL;
	char *g = NULL, *w = NULL;

	if (leaf != NULL && X509_sign(leaf, ca_key, EVP_sha256()) > 0)
		len = i2d_X509(leaf, &der);
	calen = i2d_X509(ca, &cader);
	want = leaf ? ca_cert_sans_json(leaf) : NULL;
	if (len > 0 && ca_der_sans_json(der, (size_t)len, &got) == CA_OK) {
		g = json_dumps(got, JSON_COMPACT);
		w = json_dumps(want, JSON_COMPACT);
	}
	ok(g != NULL && w != NULL && strcmp(g, w) == 0 &&
	       strcmp(g, "[\"dns:leaf.example.com\"]") == 0,
	   "DER SANs: a leaf's, as the full parse reads them (%s)",
	   g ? g : "none");
	json_decref(got);
	got = NULL;
	free(g);
	g = NULL;
	ok(calen > 0 && ca_der_sans_json(cader, (size_t)calen, &got) == CA_OK &&
	       json_array_size(got) == 0,
	   "DER SANs: a CA certificate without any: []");
	json_decref(got);
	got = NULL;
	ca_err_clear();
	ok(len > 0 && ca_der_sans_json(der, (size_t)len - 1, &got) == CA_EIO &&
	       got == NULL && fx_err("does not parse"),
	   "DER SANs: a truncated certificate is refused");
	longer = len > 0 ? malloc((size_t)len + 1) : NULL;
	if (longer != NULL) {
		memcpy(longer, der, (size_t)len);
		longer[len] = 0;
	}
	ca_err_clear();
	ok(longer != NULL &&
	       ca_der_sans_json(longer, (size_t)len + 1, &got) == CA_EIO &&
	       got == NULL && fx_err("does not parse"),
	   "DER SANs: a byte after the certificate is refused");
	free(longer);
	free(w);
	json_decref(want);
	OPENSSL_free(der);
	OPENSSL_free(cader);
	X509_free(leaf);
}

int main(void)
{
	now = time(NULL);
	fx_mkdir("lint");
	if (!make_keys()) {
		printf("Bail out! cannot make keys\n");
		return 1;
	}
	make_ca();
	if (ca_algid_der(ca_key, CA_SIGALG_DEFAULT, &algid, &algid_len) < 0) {
		printf("Bail out! no AlgorithmIdentifier\n");
		return 1;
	}
	test_cert_rules();
	test_cert_encoding();
	test_pubkey_policy();
	test_csr();
	test_csr_key_copies();
	test_copy();
	test_crl_rules();
	test_crl_entries();
	test_der_sans();
	test_bad_arguments();
	fx_rmdir();
	OPENSSL_free(algid);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(p384_key);
	EVP_PKEY_free(p521_key);
	EVP_PKEY_free(k1_key);
	EVP_PKEY_free(ed_key);
	EVP_PKEY_free(ed448_key);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(rsa1024_key);
	EVP_PKEY_free(rsa_e3_key);
	return tap_done();
}
