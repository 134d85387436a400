/* Unit tests (TAP): the streaming CRL encoder and its lint (x509/crl.c,
 * lint/crl.c), the partition configuration and assignment
 * (issue/partition.c) and the revoked.json parser (input/revoked.c). A software
 * CA key stands in for the token; no PKCS#11 module is loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "input/revoked.h"
#include "issue/partition.h"
#include "lint/crl.h"
#include "store/partition.h"
#include "store/store.h"
#include "tap.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/der.h"

static int has(const char *needle)
{
	return strstr(ca_errmsg(), needle) != NULL;
}

/* ---- a software CA ---------------------------------------------------- */

static EVP_PKEY *sw_key;
static X509 *ca_cert;
static time_t ca_nb, ca_na;
static unsigned char *algid, *issuer_der;
static size_t algid_len, issuer_len;
static unsigned char keyid[64];
static size_t keyid_len;

static void make_ca(void)
{
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int n;

	sw_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ca_cert = X509_new();
	ca_nb = time(NULL) - 86400;
	ca_na = ca_nb + 365 * 86400;
	X509_set_version(ca_cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(ca_cert), 1);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"Unit Test CA", -1,
				   -1, 0);
	X509_set_subject_name(ca_cert, name);
	X509_set_issuer_name(ca_cert, name);
	if (ca_x509_set_validity(ca_cert, ca_nb, ca_na) < 0)
		abort();
	X509_set_pubkey(ca_cert, sw_key);
	X509V3_set_ctx(&ctx, ca_cert, ca_cert, NULL, NULL, 0);
	ext =
	    X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(ca_cert, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(ca_cert, sw_key, EVP_sha256());
	X509_NAME_free(name);
	if (ca_algid_der(sw_key, CA_SIGALG_DEFAULT, &algid, &algid_len) < 0)
		abort();
	n = i2d_X509_NAME(X509_get_subject_name(ca_cert), &issuer_der);
	issuer_len = (size_t)n;
	if (ca_crl_issuer_keyid(ca_cert, keyid, &keyid_len) < 0)
		abort();
}

static void base_spec(struct ca_crl_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->algid = algid;
	s->algid_len = algid_len;
	s->issuer = issuer_der;
	s->issuer_len = issuer_len;
	s->aki = keyid;
	s->aki_len = keyid_len;
	s->this_update = time(NULL) - 60;
	s->next_update = s->this_update + 7 * 86400;
	s->number = 42;
}

/* A growing buffer of encoded entries. */
struct ents {
	unsigned char *p;
	size_t len, n;
};

static void ents_add(struct ents *e, const unsigned char *der, size_t len)
{
	e->p = realloc(e->p, e->len + len);
	memcpy(e->p + e->len, der, len);
	e->len += len;
	e->n++;
}

static void entry(struct ca_crl_entry *e, unsigned long v, int reason,
		  time_t when)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	e->serial[0] = 0x01;
	for (i = 1; i < 17; i++)
		e->serial[i] = (unsigned char)(v >> (8 * ((16 - i) % 8)));
	e->serial_len = 17;
	e->reason = reason;
	e->revoked_at = when;
}

/* TBS = frame around the entries; *len set. */
static unsigned char *build_tbs(const struct ca_crl_spec *s,
				const struct ents *e, size_t *len)
{
	struct ca_crl_frame f;
	unsigned char *tbs;

	if (ca_crl_frame_new(s, e->n, e->len, &f) < 0)
		return NULL;
	tbs = malloc(f.tbs_len);
	memcpy(tbs, f.prefix, f.prefix_len);
	if (e->len)
		memcpy(tbs + f.prefix_len, e->p, e->len);
	memcpy(tbs + f.prefix_len + e->len, f.suffix, f.suffix_len);
	*len = f.tbs_len;
	ca_crl_frame_free(&f);
	return tbs;
}

static X509_CRL *sign_tbs(const unsigned char *tbs, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL, *der = NULL;
	size_t sig_len = 0, der_len = 0;
	const unsigned char *p;
	X509_CRL *crl = NULL;

	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, sw_key) == 1 &&
	    EVP_DigestSign(md, NULL, &sig_len, tbs, len) == 1 &&
	    (sig = malloc(sig_len)) != NULL &&
	    EVP_DigestSign(md, sig, &sig_len, tbs, len) == 1 &&
	    ca_signed_assemble(tbs, len, algid, algid_len, sig, sig_len, &der,
			       &der_len) == CA_OK) {
		p = der;
		crl = d2i_X509_CRL(NULL, &p, (long)der_len);
	}
	EVP_MD_CTX_free(md);
	free(sig);
	free(der);
	return crl;
}

/* ---- tests ----------------------------------------------------------- */

static void test_reasons(void)
{
	int code = -1;

	ok(ca_crl_reason_parse("keyCompromise", &code) == CA_OK && code == 1,
	   "keyCompromise is 1");
	ok(ca_crl_reason_parse("KEYCOMPROMISE", &code) == CA_OK && code == 1,
	   "reason names are case-insensitive");
	ok(ca_crl_reason_parse("aACompromise", &code) == CA_OK && code == 10,
	   "aACompromise is 10");
	ok(ca_crl_reason_parse("removeFromCRL", &code) == CA_OK && code == 8,
	   "removeFromCRL is 8");
	ok(ca_crl_reason_parse("compromised", &code) == CA_EUSAGE &&
	       has("unknown revocation reason"),
	   "unknown reason refused (usage)");
	ok(strcmp(ca_crl_reason_name(6), "certificateHold") == 0,
	   "6 is certificateHold");
	ok(!ca_crl_reason_listable(7) && !ca_crl_reason_listable(8) &&
	       ca_crl_reason_listable(0) && ca_crl_reason_listable(10),
	   "7 and removeFromCRL are never listed");
}

static void test_time(void)
{
	unsigned char out[17];
	size_t len = 0;

	ok(ca_crl_time_der(2524607999, out, &len) == CA_OK && len == 15 &&
	       out[0] == V_ASN1_UTCTIME &&
	       memcmp(out + 2, "491231235959Z", 13) == 0,
	   "2049-12-31T23:59:59Z is UTCTime");
	ok(ca_crl_time_der(2524608000, out, &len) == CA_OK && len == 17 &&
	       out[0] == V_ASN1_GENERALIZEDTIME &&
	       memcmp(out + 2, "20500101000000Z", 15) == 0,
	   "2050-01-01T00:00:00Z is GeneralizedTime");
	ok(ca_crl_time_der(-631152001, out, &len) < 0,
	   "1949 cannot be encoded");
	{
		/* The calendar arithmetic agrees with OpenSSL's over 1950-9999.
		 */
		unsigned char *ref = NULL;
		ASN1_TIME *at;
		long long t;
		int i, same = 1, n;

		for (i = 0; i < 20000 && same; i++) {
			t = -631152000LL + (long long)i * 12622780LL +
			    i % 86400;
			at = ASN1_TIME_set(NULL, (time_t)t);
			n = at ? i2d_ASN1_TIME(at, &ref) : -1;
			if (ca_crl_time_der((time_t)t, out, &len) < 0 ||
			    n != (int)len || memcmp(ref, out, len) != 0)
				same = 0;
			OPENSSL_free(ref);
			ref = NULL;
			ASN1_TIME_free(at);
		}
		ok(same, "Time encoding matches OpenSSL's from 1950 to 9999");
	}
}

static void test_serial_hex(void)
{
	struct ca_crl_entry e;

	ok(ca_crl_serial_from_hex("01a2b3", &e) == CA_OK && e.serial_len == 3 &&
	       e.serial[2] == 0xb3,
	   "canonical hex serial parses");
	ok(ca_crl_serial_from_hex("00a2", &e) < 0,
	   "leading zero octet refused");
	ok(ca_crl_serial_from_hex("abc", &e) < 0,
	   "odd number of digits refused");
	ok(ca_crl_serial_from_hex("ABCD", &e) < 0,
	   "uppercase refused (not canonical)");
	ok(ca_crl_serial_from_hex("", &e) < 0, "empty serial refused");
	ok(ca_crl_serial_from_hex("010203040506070809101112131415161718192021",
				  &e) < 0,
	   "21 octets refused");
	ok(ca_crl_serial_from_hex("00", &e) < 0, "zero refused");
}

static void test_entry(void)
{
	unsigned char der[CA_CRL_ENTRY_MAX];
	const unsigned char *p = der;
	struct ca_crl_entry e;
	X509_REVOKED *r;
	size_t len = 0;
	int crit = 0;
	ASN1_ENUMERATED *reason;

	memset(&e, 0, sizeof(e));
	e.serial[0] = 0x80;
	e.serial[1] = 0x01;
	e.serial_len = 2;
	e.revoked_at = 1700000000;
	e.reason = CA_REASON_KEY_COMPROMISE;
	ok(ca_crl_entry_der(&e, der, &len) == CA_OK && der[2] == 0x02 &&
	       der[3] == 3 && der[4] == 0x00,
	   "high-bit serial gets a zero octet (stays positive)");
	r = d2i_X509_REVOKED(NULL, &p, (long)len);
	ok(r != NULL && p == der + len, "entry parses as X509_REVOKED");
	reason =
	    r ? X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL) : NULL;
	ok(reason != NULL && ASN1_ENUMERATED_get(reason) == 1 && crit == 0,
	   "reasonCode keyCompromise, non-critical");
	ok(r != NULL &&
	       ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(r)) == 0x8001,
	   "serial value kept");
	ASN1_ENUMERATED_free(reason);
	X509_REVOKED_free(r);
	e.reason = CA_REASON_UNSPECIFIED;
	p = der;
	ok(ca_crl_entry_der(&e, der, &len) == CA_OK &&
	       (r = d2i_X509_REVOKED(NULL, &p, (long)len)) != NULL &&
	       X509_REVOKED_get_ext_count(r) == 0,
	   "unspecified: no reasonCode extension (RFC 5280 5.3.1)");
	X509_REVOKED_free(r);
	e.reason = CA_REASON_REMOVE_FROM_CRL;
	ok(ca_crl_entry_der(&e, der, &len) == CA_EPOLICY,
	   "removeFromCRL never encoded in a CRL entry");
	memset(e.serial, 0xff, sizeof(e.serial));
	e.serial_len = 20;
	e.reason = 0;
	ok(ca_crl_entry_der(&e, der, &len) == CA_EPOLICY,
	   "20-octet serial with the high bit (21 encoded octets) refused");
}

static void test_crl_roundtrip(void)
{
	struct ca_crl_spec s;
	struct ca_crl_entry e;
	struct ents es = {0};
	unsigned char der[CA_CRL_ENTRY_MAX], *tbs;
	size_t len, tbs_len = 0;
	X509_CRL *crl;
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *probe;
	BIGNUM *bn;
	unsigned long i;
	int crit = -1;
	ASN1_INTEGER *num;

	base_spec(&s);
	for (i = 1; i <= 2000; i++) {
		entry(&e, i, (int)(i % 6), s.this_update - (time_t)i);
		if (ca_crl_entry_der(&e, der, &len) < 0)
			break;
		ents_add(&es, der, len);
	}
	tbs = build_tbs(&s, &es, &tbs_len);
	ok(tbs != NULL, "frame around 2000 entries");
	ok(tbs && ca_crl_lint_tbs(tbs, tbs_len, &s, ca_cert, es.n) == CA_OK,
	   "lint passes a well-formed TBSCertList");
	crl = tbs ? sign_tbs(tbs, tbs_len) : NULL;
	ok(crl != NULL, "signed CRL parses (OpenSSL)");
	ok(crl && X509_CRL_verify(crl, sw_key) == 1, "signature verifies");
	ok(crl && X509_CRL_get_version(crl) == X509_CRL_VERSION_2, "version 2");
	ok(crl && sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) == 2000,
	   "2000 entries");
	num =
	    crl ? X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL) : NULL;
	ok(num != NULL && ASN1_INTEGER_get(num) == 42 && crit == 0,
	   "cRLNumber 42, non-critical");
	ASN1_INTEGER_free(num);
	ok(crl && X509_CRL_get_ext_by_NID(crl, NID_issuing_distribution_point,
					  -1) < 0,
	   "no IDP without partitions");
	bn = BN_new();
	BN_hex2bn(&bn, "0100000000000003e800000000000003e8");
	probe = BN_to_ASN1_INTEGER(bn, NULL);
	ok(crl && X509_CRL_get0_by_serial(crl, &rev, probe) == 1,
	   "entry 1000 found by serial");
	ASN1_INTEGER_free(probe);
	BN_free(bn);
	{
		AUTHORITY_KEYID *aki =
		    crl ? X509_CRL_get_ext_d2i(
			      crl, NID_authority_key_identifier, &crit, NULL)
			: NULL;
		const ASN1_OCTET_STRING *ski =
		    X509_get0_subject_key_id(ca_cert);

		ok(aki != NULL && aki->keyid != NULL && crit == 0 &&
		       ski != NULL &&
		       ASN1_OCTET_STRING_cmp(aki->keyid, ski) == 0,
		   "AKI keyIdentifier is the CA's SKI, non-critical");
		AUTHORITY_KEYID_free(aki);
	}
	X509_CRL_free(crl);
	free(tbs);
	free(es.p);
}

static void test_empty_and_idp(void)
{
	static const char *urls[] = {"http://crl.example/p-3.crl"};
	struct ca_crl_spec s;
	struct ents es = {0};
	unsigned char *tbs;
	size_t tbs_len = 0;
	X509_CRL *crl;
	ISSUING_DIST_POINT *idp;
	int crit = 0;

	base_spec(&s);
	s.idp_urls = urls;
	s.n_idp_urls = 1;
	tbs = build_tbs(&s, &es, &tbs_len);
	ok(tbs && ca_crl_lint_tbs(tbs, tbs_len, &s, ca_cert, 0) == CA_OK,
	   "empty partition CRL passes lint");
	crl = tbs ? sign_tbs(tbs, tbs_len) : NULL;
	ok(crl && X509_CRL_get_REVOKED(crl) == NULL,
	   "no entries: revokedCertificates absent (RFC 5280 5.1.2.6)");
	idp = crl ? X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point,
					 &crit, NULL)
		  : NULL;
	ok(idp != NULL && crit == 1, "IDP present and critical");
	ok(idp && idp->distpoint && idp->distpoint->type == 0 &&
	       sk_GENERAL_NAME_num(idp->distpoint->name.fullname) == 1,
	   "IDP names one fullName");
	ISSUING_DIST_POINT_free(idp);
	X509_CRL_free(crl);
	/* Lint: the IDP must be what the scope says. */
	s.idp_urls = NULL;
	s.n_idp_urls = 0;
	ok(tbs && ca_crl_lint_tbs(tbs, tbs_len, &s, ca_cert, 0) == CA_EPOLICY &&
	       has("issuingDistributionPoint"),
	   "lint: unexpected IDP refused");
	free(tbs);
	s.idp_urls = urls;
	s.n_idp_urls = 1;
	{
		struct ca_crl_spec none = s;

		none.idp_urls = NULL;
		none.n_idp_urls = 0;
		tbs = build_tbs(&none, &es, &tbs_len);
	}
	ok(tbs && ca_crl_lint_tbs(tbs, tbs_len, &s, ca_cert, 0) == CA_EPOLICY &&
	       has("no issuingDistributionPoint"),
	   "lint: partition CRL without IDP refused");
	free(tbs);
	{
		static const char *other[] = {"http://crl.example/p-4.crl"};
		struct ca_crl_spec wrong = s;

		wrong.idp_urls = other;
		tbs = build_tbs(&wrong, &es, &tbs_len);
	}
	ok(tbs && ca_crl_lint_tbs(tbs, tbs_len, &s, ca_cert, 0) == CA_EPOLICY &&
	       has("does not name"),
	   "lint: IDP naming another URL refused");
	free(tbs);
}

static void lint_case(void (*mutate)(struct ca_crl_spec *,
				     struct ca_crl_spec *),
		      const char *msg, const char *what)
{
	struct ca_crl_spec want, built;
	struct ents es = {0};
	struct ca_crl_entry e;
	unsigned char der[CA_CRL_ENTRY_MAX], *tbs;
	size_t len, tbs_len = 0;

	base_spec(&want);
	entry(&e, 7, 1, want.this_update - 100);
	if (ca_crl_entry_der(&e, der, &len) == CA_OK)
		ents_add(&es, der, len);
	built = want;
	mutate(&want, &built);
	tbs = build_tbs(&built, &es, &tbs_len);
	ca_err_clear();
	ok(tbs == NULL || (ca_crl_lint_tbs(tbs, tbs_len, &want, ca_cert,
					   es.n) == CA_EPOLICY &&
			   has(msg)),
	   "%s", what);
	free(tbs);
	free(es.p);
}

static unsigned char other_keyid[20] = {1, 2, 3};

static void m_number(struct ca_crl_spec *w, struct ca_crl_spec *b)
{
	(void)w;
	b->number = 41;
}
static void m_aki(struct ca_crl_spec *w, struct ca_crl_spec *b)
{
	(void)w;
	b->aki = other_keyid;
	b->aki_len = sizeof(other_keyid);
}
static void m_next_past_ca(struct ca_crl_spec *w, struct ca_crl_spec *b)
{
	w->next_update = b->next_update = ca_na + 1;
}
static void m_order(struct ca_crl_spec *w, struct ca_crl_spec *b)
{
	w->next_update = b->next_update = w->this_update;
}
static void m_before_ca(struct ca_crl_spec *w, struct ca_crl_spec *b)
{
	w->this_update = b->this_update = ca_nb - 10;
}
static void m_times(struct ca_crl_spec *w, struct ca_crl_spec *b)
{
	(void)w;
	b->next_update += 60;
}
static void m_algid(struct ca_crl_spec *w, struct ca_crl_spec *b)
{
	static const unsigned char ed[] = {0x30, 0x05, 0x06, 0x03,
					   0x2b, 0x65, 0x70};

	(void)w;
	b->algid = ed;
	b->algid_len = sizeof(ed);
}

static void test_lint_refusals(void)
{
	lint_case(m_number, "cRLNumber is not 42",
		  "lint: wrong CRL number refused");
	lint_case(m_aki, "not the CA's subject key identifier",
		  "lint: AKI that is not the CA's SKI refused");
	lint_case(m_next_past_ca, "past the CA certificate's notAfter",
		  "lint: nextUpdate past the CA's notAfter refused");
	lint_case(m_order, "thisUpdate is not before nextUpdate",
		  "lint: thisUpdate >= nextUpdate refused");
	lint_case(m_before_ca, "before the CA certificate's notBefore",
		  "lint: thisUpdate before the CA's notBefore refused");
	lint_case(m_times, "not the ones requested",
		  "lint: times other than the requested ones refused");
	lint_case(m_algid, "signature algorithm",
		  "lint: signature algorithm other than the CA key's refused");
}

/* Hand-made entries the encoder would never produce. */
static void test_entry_lint(void)
{
	struct ca_crl_spec s;
	struct ca_crl_lint l;
	struct ca_crl_entry e;
	unsigned char a[CA_CRL_ENTRY_MAX], b[CA_CRL_ENTRY_MAX];
	size_t al, bl;
	/* serial 1, UTCTime 2020-01-01, no extensions */
	static const unsigned char good[] = {
	    0x30, 0x12, 0x02, 0x01, 0x01, 0x17, 0x0d, '2', '0', '0',
	    '1',  '0',	'1',  '0',  '0',  '0',	'0',  '0', '0', 'Z'};
	static const unsigned char neg[] = {
	    0x30, 0x12, 0x02, 0x01, 0x81, 0x17, 0x0d, '2', '0', '0',
	    '1',  '0',	'1',  '0',  '0',  '0',	'0',  '0', '0', 'Z'};
	static const unsigned char zero[] = {
	    0x30, 0x12, 0x02, 0x01, 0x00, 0x17, 0x0d, '2', '0', '0',
	    '1',  '0',	'1',  '0',  '0',  '0',	'0',  '0', '0', 'Z'};
	static const unsigned char pad[] = {
	    0x30, 0x13, 0x02, 0x02, 0x00, 0x01, 0x17, 0x0d, '2', '0', '0',
	    '1',  '0',	'1',  '0',  '0',  '0',	'0',  '0',  '0', 'Z'};
	static const unsigned char longlen[] = {
	    0x30, 0x81, 0x12, 0x02, 0x01, 0x01, 0x17, 0x0d, '2', '0', '0',
	    '1',  '0',	'1',  '0',  '0',  '0',	'0',  '0',  '0', 'Z'};
	static const unsigned char gen2020[] = {
	    0x30, 0x14, 0x02, 0x01, 0x01, 0x18, 0x0f, '2', '0', '2', '0',
	    '0',  '1',	'0',  '1',  '0',  '0',	'0',  '0', '0', '0', 'Z'};
	static const unsigned char badday[] = {
	    0x30, 0x12, 0x02, 0x01, 0x01, 0x17, 0x0d, '2', '0', '0',
	    '2',  '3',	'1',  '0',  '0',  '0',	'0',  '0', '0', 'Z'};
	static const unsigned char unspec[] = {
	    0x30, 0x20, 0x02, 0x01, 0x01, 0x17, 0x0d, '2',  '0',
	    '0',  '1',	'0',  '1',  '0',  '0',	'0',  '0',  '0',
	    '0',  'Z',	0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
	    0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, 0x00};
	static const unsigned char crit[] = {
	    0x30, 0x23, 0x02, 0x01, 0x01, 0x17, 0x0d, '2',  '0',  '0',
	    '1',  '0',	'1',  '0',  '0',  '0',	'0',  '0',  '0',  'Z',
	    0x30, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x01,
	    0x01, 0xff, 0x04, 0x03, 0x0a, 0x01, 0x01};

	base_spec(&s);
#define ONE(bytes, expect, what)                                               \
	do {                                                                   \
		ca_crl_lint_init(&l, ca_cert, &s);                             \
		ok(ca_crl_lint_entry(&l, bytes, sizeof(bytes)) == (expect),    \
		   what);                                                      \
	} while (0)
	ONE(good, CA_OK, "entry lint: well-formed entry passes");
	ONE(neg, CA_EPOLICY, "entry lint: negative serial refused");
	ONE(zero, CA_EPOLICY, "entry lint: zero serial refused");
	ONE(pad, CA_EPOLICY, "entry lint: non-minimal serial refused");
	ONE(longlen, CA_EPOLICY,
	    "entry lint: non-minimal length octets refused");
	ONE(gen2020, CA_EPOLICY,
	    "entry lint: GeneralizedTime before 2050 refused");
	ONE(badday, CA_EPOLICY, "entry lint: 31 February refused");
	ONE(unspec, CA_EPOLICY,
	    "entry lint: encoded reasonCode unspecified refused");
	ONE(crit, CA_EPOLICY, "entry lint: critical reasonCode refused");
	/* order and duplicates */
	entry(&e, 5, 0, s.this_update - 10);
	if (ca_crl_entry_der(&e, a, &al) < 0)
		al = 0;
	entry(&e, 4, 0, s.this_update - 10);
	if (ca_crl_entry_der(&e, b, &bl) < 0)
		bl = 0;
	ca_crl_lint_init(&l, ca_cert, &s);
	ok(ca_crl_lint_entry(&l, a, al) == CA_OK &&
	       ca_crl_lint_entry(&l, a, al) == CA_EPOLICY && has("increasing"),
	   "entry lint: duplicate entry refused");
	ca_crl_lint_init(&l, ca_cert, &s);
	ok(ca_crl_lint_entry(&l, a, al) == CA_OK &&
	       ca_crl_lint_entry(&l, b, bl) == CA_EPOLICY,
	   "entry lint: entries out of order refused");
	entry(&e, 6, 0, s.this_update + 10);
	if (ca_crl_entry_der(&e, a, &al) < 0)
		al = 0;
	ca_crl_lint_init(&l, ca_cert, &s);
	ok(ca_crl_lint_entry(&l, a, al) == CA_EPOLICY &&
	       has("after thisUpdate"),
	   "entry lint: revocation date after thisUpdate refused");
#undef ONE
}

static void test_lint_dup_in_tbs(void)
{
	struct ca_crl_spec s;
	struct ca_crl_entry e;
	struct ents es = {0};
	unsigned char der[CA_CRL_ENTRY_MAX], *tbs;
	size_t len, tbs_len = 0;

	base_spec(&s);
	entry(&e, 9, 4, s.this_update - 5);
	if (ca_crl_entry_der(&e, der, &len) == CA_OK) {
		ents_add(&es, der, len);
		ents_add(&es, der, len);
	}
	tbs = build_tbs(&s, &es, &tbs_len);
	ok(tbs && ca_crl_lint_tbs(tbs, tbs_len, &s, ca_cert, 2) == CA_EPOLICY &&
	       has("strictly increasing"),
	   "lint: TBS with a duplicate entry refused");
	free(tbs);
	free(es.p);
}

/* ---- partitions ------------------------------------------------------- */

/* pc->url borrows from the JSON: every parsed config stays alive. */
static json_t *configs;

static int config_rc(const char *text, struct ca_partitions *pc)
{
	json_t *c = json_loads(text, 0, NULL);

	if (c == NULL)
		return -100;
	if (configs == NULL)
		configs = json_array();
	json_array_append_new(configs, c);
	return ca_partitions_config(c, pc);
}

static void test_partition_config(void)
{
	struct ca_partitions pc;
	char *u;

	ok(config_rc("{}", &pc) == CA_OK && !ca_partitions_enabled(&pc),
	   "no crl: no partitions");
	ok(config_rc("{\"crl\": {\"partitions\": 4, \"url\": "
		     "\"http://c.example/p-{n}.crl\"}}",
		     &pc) == CA_OK &&
	       pc.count == 4 && ca_partitions_enabled(&pc),
	   "count mode");
	u = ca_partition_url(&pc, 3);
	ok(u && strcmp(u, "http://c.example/p-3.crl") == 0,
	   "URL of partition 3");
	free(u);
	ok(ca_partition_url(&pc, -1) == NULL, "no URL for partition -1");
	ok(config_rc("{\"crl\": {\"partition_size\": 1000000, \"url\": "
		     "\"http://c.example/{n}.crl\"}}",
		     &pc) == CA_OK &&
	       pc.per_partition ==
		   (1000000 - 2560 - (long)strlen("http://c.example/{n}.crl") -
		    16) /
		       CA_CRL_ENTRY_WORST,
	   "size mode: per_partition = (size - overhead) / worst entry");
	ok(config_rc("{\"crl\": {\"partitions\": 4, \"partition_size\": "
		     "100000, \"url\": \"http://c/{n}\"}}",
		     &pc) == CA_EUSAGE,
	   "both partitions and partition_size refused");
	ok(config_rc("{\"crl\": {\"partitions\": 4}}", &pc) == CA_EUSAGE &&
	       has("crl.url"),
	   "partitions without url refused");
	ok(config_rc(
	       "{\"crl\": {\"partitions\": 4, \"url\": \"http://c/x.crl\"}}",
	       &pc) == CA_EUSAGE &&
	       has("{n}"),
	   "url without {n} refused");
	ok(config_rc(
	       "{\"crl\": {\"partitions\": 4, \"url\": \"http://c/{n}-{n}\"}}",
	       &pc) == CA_EUSAGE,
	   "url with {n} twice refused");
	ok(config_rc(
	       "{\"crl\": {\"partitions\": 4, \"url\": \"no scheme {n}\"}}",
	       &pc) == CA_EUSAGE,
	   "url with a space / no scheme refused");
	ok(config_rc(
	       "{\"crl\": {\"partitions\": 0, \"url\": \"http://c/{n}\"}}",
	       &pc) == CA_EUSAGE,
	   "0 partitions refused");
	ok(config_rc("{\"crl\": {\"partition_size\": 100, \"url\": "
		     "\"http://c/{n}\"}}",
		     &pc) == CA_EUSAGE,
	   "partition_size below 8192 refused");
	ok(config_rc("{\"crl\": {\"partitions\": 2, \"url\": \"http://c/{n}\", "
		     "\"x\": 1}}",
		     &pc) == CA_EUSAGE &&
	       has("ca.json: crl: unknown key 'x'"),
	   "unknown key in crl refused");
	ok(config_rc("{\"crl\": {\"url\": \"http://c/{n}\"}}", &pc) ==
	       CA_EUSAGE,
	   "url alone refused");
	ok(config_rc("{\"crl\": 3}", &pc) == CA_EUSAGE,
	   "crl not an object refused");
}

/* A batch chunk: 250 certificates placed before any is stored. Each
 * counts those placed before it, so no partition takes more than
 * per_partition (and its CRL, every entry revoked, fits the size). */
static void test_partition_chunk(ca_store *st, const struct ca_partitions *pc)
{
	struct ca_partition_cursor cur;
	unsigned char serial[17];
	long held[16], placed_total = 0;
	long stored = 0;
	int i, part, good = 1, top = 0;

	memset(serial, 0x5c, sizeof(serial));
	memset(held, 0, sizeof(held));
	memset(&cur, 0, sizeof(cur));
	for (i = 0; st != NULL && i < 16; i++)
		if (ca_store_partition_used(st, i, &held[i]) < 0)
			good = 0;
	for (i = 0; i < 16; i++)
		stored += held[i];
	for (i = 0; st != NULL && i < 250; i++) {
		if (ca_partition_assign(st, pc, &cur, serial, sizeof(serial),
					&part) < 0 ||
		    part < 0 || part >= 16) {
			good = 0;
			break;
		}
		held[part]++;
		placed_total++;
		if (part > top)
			top = part;
	}
	for (i = 0; i < 16; i++)
		if (held[i] > pc->per_partition)
			good = 0;
	ok(good && placed_total == 250,
	   "size mode, one chunk of 250: no partition over per_partition");
	ok(top == (int)((stored + 250 - 1) / pc->per_partition),
	   "size mode, one chunk of 250: partitions fill in order");
}

static void test_partition_assign(void)
{
	struct ca_partitions pc;
	struct ca_cert_row row;
	unsigned char serial[17];
	char path[] = "/tmp/hsmca-unit-XXXXXX", db[64], hex[40];
	ca_store *st = NULL;
	BIGNUM *bn = NULL, *m = NULL, *r = NULL;
	BN_CTX *bctx = BN_CTX_new();
	int part = -2, i, good = 1, mine;
	long per;

	memset(serial, 0xa7, sizeof(serial));
	serial[0] = 0x01;
	ok(config_rc(
	       "{\"crl\": {\"partitions\": 7, \"url\": \"http://c/{n}\"}}",
	       &pc) == CA_OK &&
	       ca_partition_assign(NULL, &pc, NULL, serial, sizeof(serial),
				   &part) == CA_OK,
	   "count mode assigns without the store");
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	m = BN_new();
	r = BN_new();
	BN_set_word(m, 7);
	BN_mod(r, bn, m, bctx);
	ok(part == (int)BN_get_word(r),
	   "count mode: partition = serial mod count");
	BN_free(bn);
	BN_free(m);
	BN_free(r);
	BN_CTX_free(bctx);

	if (mkdtemp(path) == NULL)
		return;
	snprintf(db, sizeof(db), "%s/ca.db", path);
	ok(ca_store_create(db, &st) == CA_OK, "temporary state store");
	ok(config_rc("{\"crl\": {\"partition_size\": 8192, \"url\": "
		     "\"http://c/{n}\"}}",
		     &pc) == CA_OK,
	   "size mode, 8192 bytes");
	per = pc.per_partition;
	ok(st &&
	       ca_partition_assign(st, &pc, NULL, serial, sizeof(serial),
				   &part) == CA_OK &&
	       part == 0,
	   "size mode: the first certificate goes to partition 0");
	/* Issue 2.5 partitions' worth; each lands where assign says. */
	for (i = 0; st != NULL && i < per * 5 / 2; i++) {
		memset(&row, 0, sizeof(row));
		snprintf(hex, sizeof(hex), "01%032x", i + 1);
		if (ca_partition_assign(st, &pc, NULL, serial, sizeof(serial),
					&mine) < 0) {
			good = 0;
			break;
		}
		if (mine != (int)(i / per))
			good = 0;
		row.serial = hex;
		row.subject = "CN=x";
		row.spki_sha256 = hex;
		row.kind = "leaf";
		row.partition = mine;
		row.der = (const unsigned char *)"x";
		row.der_len = 1;
		if (ca_store_cert_add(st, &row) < 0) {
			good = 0;
			break;
		}
	}
	ok(good,
	   "size mode: partitions fill in issuance order, per_partition each");
	ok(st &&
	       ca_partition_assign(st, &pc, NULL, serial, sizeof(serial),
				   &part) == CA_OK &&
	       part == 2,
	   "size mode: the next certificate still fits partition 2");
	test_partition_chunk(st, &pc);
	ca_store_close(st);
	snprintf(db, sizeof(db), "rm -rf %s", path);
	if (system(db) != 0)
		printf("# could not remove %s\n", path);
}

/* ---- revoked.json ----------------------------------------------------- */

static int parse(const char *text, struct ca_revoked_entry **es, size_t *n)
{
	return ca_revoked_parse((const unsigned char *)text, strlen(text),
				"r.json", es, n);
}

/* 200,000 entries (the duplicate check was quadratic: 886 s): parsed,
 * and a repeat of an early serial at the very end still found. */
static void test_revoked_large(void)
{
	struct ca_revoked_entry *es = NULL;
	size_t n = 0, i, len = 0, cap = 200000 * 80;
	char *text = malloc(cap);
	int rc;

	if (text == NULL)
		return;
	len += (size_t)snprintf(text + len, cap - len, "[");
	for (i = 0; i < 200000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"%s{\"common_name\": \"h%zu\", "
					"\"serial_number\": \"%zu\"}",
					i ? "," : "", i, 1000003 * (i + 1));
	text[len] = ']';
	rc = ca_revoked_parse((const unsigned char *)text, len + 1, "r.json",
			      &es, &n);
	ok(rc == CA_OK && n == 200000 &&
	       strcmp(es[199999].common_name, "h199999") == 0,
	   "a 200,000-entry revoked.json parses");
	ca_revoked_free(es, n);
	len += (size_t)snprintf(text + len, cap - len,
				",{\"common_name\": \"x\", "
				"\"serial_number\": \"%d\"}",
				1000003 * 4);
	text[len++] = ']';
	rc = ca_revoked_parse((const unsigned char *)text, len, "r.json", &es,
			      &n);
	ok(rc == CA_EUSAGE && has("entry 200000 repeats the serial of entry 3"),
	   "200,000 entries: a repeat at the end found");
	free(text);
}

static void test_revoked_json(void)
{
	struct ca_revoked_entry *es = NULL;
	size_t n = 0;

	ok(parse("[{\"common_name\": \"a.example\", \"serial_number\": "
		 "\"487548094217404552161959299244142788109493400485\"},"
		 " {\"serial_number\": 255, \"common_name\": \"b\"}]",
		 &es, &n) == CA_OK &&
	       n == 2,
	   "serverless revoked.json parses (string and integer serials)");
	ok(n == 2 && strcmp(es[0].serial,
			    "556669a4444ee0a4c321273629686b4c07b0f3a5") == 0,
	   "decimal serial converted to canonical hex");
	ok(n == 2 && strcmp(es[1].serial, "ff") == 0 &&
	       strcmp(es[1].common_name, "b") == 0,
	   "integer serial 255 is ff");
	ca_revoked_free(es, n);
	ok(parse("[]", &es, &n) == CA_OK && n == 0, "empty list is fine");
	ok(parse("[{\"common_name\": \"a\"", &es, &n) == CA_EUSAGE &&
	       has("not valid JSON"),
	   "truncated JSON refused");
	ok(parse("{\"common_name\": \"a\", \"serial_number\": \"1\"}", &es,
		 &n) == CA_EUSAGE &&
	       has("JSON array"),
	   "object instead of array refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": \"1\", "
		 "\"reason\": \"x\"}]",
		 &es, &n) == CA_EUSAGE &&
	       has("unknown key 'reason'"),
	   "unknown key refused");
	ok(parse("[{\"common_name\": \"a\"}]", &es, &n) == CA_EUSAGE &&
	       has("required"),
	   "missing serial_number refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": \"0x1f\"}]", &es,
		 &n) == CA_EUSAGE,
	   "hex serial_number refused (decimal)");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": \"-5\"}]", &es,
		 &n) == CA_EUSAGE,
	   "negative serial_number refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": -5}]", &es,
		 &n) == CA_EUSAGE,
	   "negative integer serial_number refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": \"0\"}]", &es,
		 &n) == CA_EUSAGE,
	   "zero serial refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": "
		 "\"99999999999999999999999999999999999999999999999999\"}]",
		 &es, &n) == CA_EUSAGE,
	   "serial longer than 20 octets refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": 1.5}]", &es,
		 &n) == CA_EUSAGE,
	   "real serial_number refused");
	ok(parse("[{\"common_name\": \"\", \"serial_number\": \"1\"}]", &es,
		 &n) == CA_EUSAGE,
	   "empty common_name refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": \"17\"},"
		 " {\"common_name\": \"a\", \"serial_number\": 17}]",
		 &es, &n) == CA_EUSAGE &&
	       has("repeats"),
	   "a serial listed twice refused");
	ok(parse("[{\"common_name\": \"a\", \"common_name\": \"b\", "
		 "\"serial_number\": \"1\"}]",
		 &es, &n) == CA_EUSAGE,
	   "duplicate key refused");
	ok(parse("[{\"common_name\": \"a\\u0000b\", \"serial_number\": \"1\"}]",
		 &es, &n) == CA_EUSAGE,
	   "common_name with NUL refused");
	ok(parse("[{\"common_name\": \"a\", \"serial_number\": \"5\"},"
		 " {\"common_name\": \"b\", \"serial_number\": \"7\"},"
		 " {\"common_name\": \"c\", \"serial_number\": \"7\"},"
		 " {\"common_name\": \"d\", \"serial_number\": \"5\"}]",
		 &es, &n) == CA_EUSAGE &&
	       has("entry 2 repeats the serial of entry 1"),
	   "the first repeat in file order is named, with its first listing");
	test_revoked_large();
}

int main(void)
{
	make_ca();
	test_reasons();
	test_time();
	test_serial_hex();
	test_entry();
	test_crl_roundtrip();
	test_empty_and_idp();
	test_lint_refusals();
	test_entry_lint();
	test_lint_dup_in_tbs();
	test_partition_config();
	test_partition_assign();
	test_revoked_json();
	X509_free(ca_cert);
	EVP_PKEY_free(sw_key);
	OPENSSL_free(algid);
	OPENSSL_free(issuer_der);
	json_decref(configs);
	return tap_done();
}
