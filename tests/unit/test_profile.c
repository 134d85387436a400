/* Unit tests (TAP) for certificate profiles (tools/lib/x509/profile.c,
 * leafprof.c): the root and sub-CA builders carry the extensions SPEC
 * names, critical where it says so and nothing else; the built-in and
 * ca.json leaf profiles; validity from --days, clamped inside the
 * issuer's; the leaf subject. Certificates are signed with software keys
 * and checked with OpenSSL's own verifier. No token needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fixture.h"
#include "lint/lint.h"
#include "tap.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/leafprof.h"
#include "x509/profile.h"
#include "x509/san.h"

#define DAY 86400L

static EVP_PKEY *root_key, *sub_key, *rsa_key, *ed_key;
static X509 *root;
static time_t now;

/* ---------------------------------------------------------------------- */
/* Reading certificates back                                               */

/* The extension nid: 0 absent, 1 present, 2 present and critical. */
static int ext_state(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	if (i < 0)
		return 0;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i)) ? 2 : 1;
}

static unsigned key_usage(X509 *x)
{
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	unsigned bits = 0;
	int i;

	for (i = 0; ku != NULL && i < 9; i++)
		if (ASN1_BIT_STRING_get_bit(ku, i))
			bits |= i < 8 ? 0x80u >> i : KU_DECIPHER_ONLY;
	ASN1_BIT_STRING_free(ku);
	return bits;
}

/* The SKI is the SHA-1 of the subjectPublicKey (RFC 5280 4.2.1.2 (1)). */
static int ski_is_key_hash(X509 *x)
{
	ASN1_OCTET_STRING *ski =
	    X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int same = ski != NULL && X509_pubkey_digest(x, EVP_sha1(), md, &n) &&
		   (unsigned)ASN1_STRING_length(ski) == n &&
		   memcmp(ASN1_STRING_get0_data(ski), md, n) == 0;

	ASN1_OCTET_STRING_free(ski);
	return same;
}

/* The AKI holds exactly issuer's SKI as keyIdentifier. */
static int aki_is(X509 *x, X509 *issuer)
{
	AUTHORITY_KEYID *aki =
	    X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	ASN1_OCTET_STRING *ski =
	    X509_get_ext_d2i(issuer, NID_subject_key_identifier, NULL, NULL);
	int same = aki != NULL && ski != NULL && aki->keyid != NULL &&
		   aki->issuer == NULL && aki->serial == NULL &&
		   ASN1_OCTET_STRING_cmp(aki->keyid, ski) == 0;

	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(ski);
	return same;
}

static int basic_constraints(X509 *x, int *ca, long *pathlen)
{
	BASIC_CONSTRAINTS *bc =
	    X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);

	if (bc == NULL)
		return 0;
	*ca = bc->ca != 0;
	*pathlen = bc->pathlen ? ASN1_INTEGER_get(bc->pathlen) : -1;
	BASIC_CONSTRAINTS_free(bc);
	return 1;
}

/* Dotted OIDs of the certificate policies, joined by spaces. */
static void policies(X509 *x, char *out, size_t len)
{
	CERTIFICATEPOLICIES *cp =
	    X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < sk_POLICYINFO_num(cp) && used + 1 < len; i++) {
		char oid[80];

		OBJ_obj2txt(oid, sizeof(oid),
			    sk_POLICYINFO_value(cp, i)->policyid, 1);
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 i ? " " : "", oid);
	}
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
}

/* The EKU short names, joined by spaces. */
static void ekus(X509 *x, char *out, size_t len)
{
	EXTENDED_KEY_USAGE *eku =
	    X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < sk_ASN1_OBJECT_num(eku) && used + 1 < len; i++)
		used += (size_t)snprintf(
		    out + used, len - used, "%s%s", i ? " " : "",
		    OBJ_nid2sn(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))));
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
}

/* The GeneralNames of one name list as TYPE:VALUE, joined by spaces (IP
 * ranges in hex). */
static void general_names(const GENERAL_NAMES *gens, char *out, size_t len)
{
	size_t used = 0;
	int i, j;

	out[0] = '\0';
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && used + 1 < len; i++) {
		int type;
		ASN1_STRING *s = GENERAL_NAME_get0_value(
		    sk_GENERAL_NAME_value(gens, i), &type);
		const unsigned char *d = ASN1_STRING_get0_data(s);
		const char *tag = type == GEN_DNS     ? "DNS"
				  : type == GEN_URI   ? "URI"
				  : type == GEN_EMAIL ? "email"
				  : type == GEN_IPADD ? "IP"
						      : "?";

		used += (size_t)snprintf(out + used, len - used,
					 "%s%s:", i ? " " : "", tag);
		for (j = 0; j < ASN1_STRING_length(s) && used + 3 < len; j++)
			used += (size_t)snprintf(
			    out + used, len - used,
			    type == GEN_IPADD ? "%02x" : "%c", d[j]);
	}
}

static void subtrees(const STACK_OF(GENERAL_SUBTREE) * t, char *out, size_t len)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int i;

	for (i = 0; gens != NULL && i < sk_GENERAL_SUBTREE_num(t); i++)
		sk_GENERAL_NAME_push(gens,
				     sk_GENERAL_SUBTREE_value(t, i)->base);
	general_names(gens, out, len);
	sk_GENERAL_NAME_free(gens);
}

static json_t *strings(const char *a, const char *b)
{
	json_t *arr = json_array();

	if (a != NULL)
		json_array_append_new(arr, json_string(a));
	if (b != NULL)
		json_array_append_new(arr, json_string(b));
	return arr;
}

/* Lint the TBS of x as kind under issuer, with algorithm of signer. */
static int lint(X509 *x, enum ca_lint_kind kind, X509 *issuer, EVP_PKEY *signer)
{
	struct ca_lint lc = {kind, issuer, NULL, NULL, 0};
	unsigned char *alg = NULL, *tbs = NULL;
	size_t alg_len = 0, len = 0;
	int rc;

	rc = ca_algid_der(signer, CA_SIGALG_DEFAULT, &alg, &alg_len);
	if (rc == CA_OK)
		rc = ca_x509_tbs(x, alg, alg_len, &tbs, &len);
	if (rc == CA_OK)
		rc = ca_lint_cert(tbs, len, &lc);
	OPENSSL_free(alg);
	free(tbs);
	return rc;
}

/* OpenSSL's verifier: cert chains to the trusted root. */
static int verifies(X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int good = store != NULL && ctx != NULL &&
		   X509_STORE_add_cert(store, root) == 1 &&
		   X509_STORE_CTX_init(ctx, store, cert, NULL) == 1 &&
		   X509_verify_cert(ctx) == 1;

	if (!good && ctx != NULL)
		printf("#   verify: %s\n", X509_verify_cert_error_string(
					       X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return good;
}

static X509_NAME *cn_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
				   (const unsigned char *)"Example", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	return n;
}

static void base_spec(struct ca_cert_spec *s, const char *cn, EVP_PKEY *pub)
{
	memset(s, 0, sizeof(*s));
	s->subject = cn_name(cn);
	s->pub = pub;
	s->serial = ASN1_INTEGER_new();
	ASN1_INTEGER_set(s->serial, 0x0102);
	s->not_before = now - 60;
	s->not_after = now + 365 * DAY;
	s->pathlen = -1;
}

static void spec_free(struct ca_cert_spec *s)
{
	X509_NAME_free(s->subject);
	ASN1_INTEGER_free(s->serial);
	json_decref(s->policies);
	json_decref(s->crl_urls);
	json_decref(s->aia_urls);
	json_decref(s->ekus);
}

/* ---------------------------------------------------------------------- */
/* Root                                                                    */

static void test_root(void)
{
	struct ca_cert_spec s;
	char text[512];
	time_t nb = 0, na = 0;
	int ca = -1, n;
	long pathlen = 0;
	X509 *x = NULL;

	base_spec(&s, "Profile Root R1", root_key);
	s.pathlen = 1;
	s.policies = strings("2.23.140.1.2.1", "1.3.6.1.4.1.99999.1");
	ok(ca_profile_root(&s, &x) == CA_OK && x != NULL, "root: built");
	if (x == NULL) {
		tap_missed(13);
		spec_free(&s);
		return;
	}
	ok(X509_get_version(x) == X509_VERSION_3 &&
	       ASN1_INTEGER_get(X509_get0_serialNumber(x)) == 0x0102 &&
	       X509_NAME_cmp(X509_get_subject_name(x), s.subject) == 0 &&
	       X509_NAME_cmp(X509_get_issuer_name(x), s.subject) == 0,
	   "root: v3, the serial, issuer = subject");
	ok(ca_asn1_time(X509_get0_notBefore(x), &nb) == CA_OK &&
	       ca_asn1_time(X509_get0_notAfter(x), &na) == CA_OK &&
	       nb == s.not_before && na == s.not_after,
	   "root: the validity asked for");
	ok(ext_state(x, NID_basic_constraints) == 2 &&
	       basic_constraints(x, &ca, &pathlen) && ca == 1 && pathlen == 1,
	   "root: basicConstraints critical, cA, pathlen 1");
	ok(ext_state(x, NID_key_usage) == 2 &&
	       key_usage(x) ==
		   (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE),
	   "root: keyUsage critical: keyCertSign, cRLSign, digitalSignature");
	ok(ext_state(x, NID_subject_key_identifier) == 1 && ski_is_key_hash(x),
	   "root: SKI (not critical) is the key's SHA-1");
	ok(ext_state(x, NID_authority_key_identifier) == 1 && aki_is(x, x),
	   "root: AKI (not critical) is its own SKI");
	policies(x, text, sizeof(text));
	ok(ext_state(x, NID_certificate_policies) == 1 &&
	       fx_streq(text, "2.23.140.1.2.1 1.3.6.1.4.1.99999.1"),
	   "root: certificate policies (not critical), in order");
	n = X509_get_ext_count(x);
	ok(n == 5 && ext_state(x, NID_ext_key_usage) == 0 &&
	       ext_state(x, NID_subject_alt_name) == 0 &&
	       ext_state(x, NID_name_constraints) == 0,
	   "root: those five extensions and no other (no EKU)");
	ok(lint(x, CA_LINT_ROOT, NULL, root_key) == CA_OK,
	   "root: passes lint as a root");
	ok(X509_sign(x, root_key, EVP_sha256()) > 0 &&
	       X509_check_issued(x, x) == X509_V_OK && X509_check_ca(x) == 1,
	   "root: OpenSSL sees a self-issued CA");
	root = x;
	ok(verifies(root), "root: verifies as a trust anchor");
	spec_free(&s);

	base_spec(&s, "Profile Root R2", root_key);
	ok(ca_profile_root(&s, &x) == CA_OK &&
	       basic_constraints(x, &ca, &pathlen) && ca == 1 &&
	       pathlen == -1 && ext_state(x, NID_certificate_policies) == 0 &&
	       X509_get_ext_count(x) == 4,
	   "root: pathlen -1 gives no pathLenConstraint; no policies, no "
	   "extension");
	X509_free(x);
	spec_free(&s);
}

/* ---------------------------------------------------------------------- */
/* Sub-CA                                                                  */

static void test_subca(void)
{
	struct ca_name_constraints nc;
	NAME_CONSTRAINTS *got = NULL;
	CRL_DIST_POINTS *cdp = NULL;
	AUTHORITY_INFO_ACCESS *aia = NULL;
	struct ca_cert_spec s;
	char text[512];
	int ca = -1;
	long pathlen = 9;
	X509 *x = NULL;

	if (root == NULL) {
		tap_missed(13);
		return;
	}
	memset(&nc, 0, sizeof(nc));
	nc.permit_dns = strings("example.com", NULL);
	nc.exclude_dns = strings(".internal.example.com", NULL);
	nc.permit_ip = strings("10.0.0.0/8", "2001:db8::/32");
	nc.exclude_ip = strings("10.1.0.0/16", NULL);
	nc.permit_email = strings("example.com", NULL);
	nc.permit_uri = strings(".example.com", NULL);
	base_spec(&s, "Profile Issuing CA 1", sub_key);
	s.pathlen = 0;
	s.not_after = now + 30 * DAY;
	s.policies = strings("2.23.140.1.2.1", NULL);
	s.ekus = strings("serverAuth", "TLS_WEB_CLIENT_AUTHENTICATION");
	json_array_append_new(s.ekus, json_string("serverAuth"));
	s.crl_urls = strings("http://crl.example.com/root.crl", NULL);
	s.aia_urls = strings("http://ca.example.com/root.crt", NULL);
	ok(ca_profile_subca(&s, root, &nc, &x) == CA_OK && x != NULL,
	   "sub-CA: built");
	if (x == NULL) {
		tap_missed(12);
		goto out;
	}
	ok(X509_NAME_cmp(X509_get_issuer_name(x),
			 X509_get_subject_name(root)) == 0 &&
	       X509_NAME_cmp(X509_get_subject_name(x), s.subject) == 0,
	   "sub-CA: issued by the root's subject");
	ok(ext_state(x, NID_basic_constraints) == 2 &&
	       basic_constraints(x, &ca, &pathlen) && ca == 1 && pathlen == 0,
	   "sub-CA: basicConstraints critical, cA, pathlen 0");
	ok(ext_state(x, NID_key_usage) == 2 &&
	       key_usage(x) ==
		   (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE),
	   "sub-CA: keyUsage critical: keyCertSign, cRLSign, "
	   "digitalSignature");
	ok(ext_state(x, NID_subject_key_identifier) == 1 && ski_is_key_hash(x),
	   "sub-CA: SKI from its key");
	ok(ext_state(x, NID_authority_key_identifier) == 1 && aki_is(x, root),
	   "sub-CA: AKI is the root's SKI");
	got = X509_get_ext_d2i(x, NID_name_constraints, NULL, NULL);
	text[0] = '\0';
	if (got != NULL)
		subtrees(got->permittedSubtrees, text, sizeof(text));
	ok(ext_state(x, NID_name_constraints) == 2 &&
	       fx_streq(text, "DNS:example.com IP:0a000000ff000000 "
			      "IP:20010db8000000000000000000000000"
			      "ffffffff000000000000000000000000 "
			      "email:example.com URI:.example.com"),
	   "sub-CA: nameConstraints critical; permitted DNS, IP ranges "
	   "(address and mask), email, URI");
	text[0] = '\0';
	if (got != NULL)
		subtrees(got->excludedSubtrees, text, sizeof(text));
	ok(fx_streq(text, "DNS:.internal.example.com IP:0a010000ffff0000"),
	   "sub-CA: excluded subtrees");
	ekus(x, text, sizeof(text));
	ok(ext_state(x, NID_ext_key_usage) == 1 &&
	       fx_streq(text, "serverAuth clientAuth"),
	   "sub-CA: EKU (not critical), by either name, once each");
	cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	text[0] = '\0';
	if (sk_DIST_POINT_num(cdp) == 1 &&
	    sk_DIST_POINT_value(cdp, 0)->distpoint != NULL)
		general_names(
		    sk_DIST_POINT_value(cdp, 0)->distpoint->name.fullname, text,
		    sizeof(text));
	ok(ext_state(x, NID_crl_distribution_points) == 1 &&
	       fx_streq(text, "URI:http://crl.example.com/root.crl"),
	   "sub-CA: CRL distribution point (not critical)");
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	ok(ext_state(x, NID_info_access) == 1 &&
	       sk_ACCESS_DESCRIPTION_num(aia) == 1 &&
	       OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 0)->method) ==
		   NID_ad_ca_issuers,
	   "sub-CA: AIA caIssuers (not critical)");
	ok(X509_get_ext_count(x) == 9 &&
	       ext_state(x, NID_subject_alt_name) == 0 &&
	       ext_state(x, NID_certificate_policies) == 1,
	   "sub-CA: nine extensions: those and policies, no SAN");
	ok(lint(x, CA_LINT_SUBCA, root, root_key) == CA_OK &&
	       X509_sign(x, root_key, EVP_sha256()) > 0 && verifies(x),
	   "sub-CA: passes lint; OpenSSL verifies it under the root");
out:
	NAME_CONSTRAINTS_free(got);
	CRL_DIST_POINTS_free(cdp);
	AUTHORITY_INFO_ACCESS_free(aia);
	json_decref(nc.permit_dns);
	json_decref(nc.exclude_dns);
	json_decref(nc.permit_ip);
	json_decref(nc.exclude_ip);
	json_decref(nc.permit_email);
	json_decref(nc.permit_uri);
	X509_free(x);
	spec_free(&s);
}

/* A sub-CA from a CSR keeps the SPKI bytes; a cross-certificate its SKI;
 * no constraints, no NC extension. */
static void test_subca_variants(void)
{
	static const unsigned char keep[20] = {0xaa, 0xbb, 0xcc};
	struct ca_name_constraints none;
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new(), *got_ski = NULL;
	X509_REQ *req = X509_REQ_new();
	unsigned char *a = NULL, *b = NULL;
	struct ca_cert_spec s;
	X509 *x = NULL;
	int na = 0, nb = 0;

	memset(&none, 0, sizeof(none));
	base_spec(&s, "Profile Issuing CA 2", rsa_key);
	s.spki = req != NULL && X509_REQ_set_pubkey(req, rsa_key) == 1
		     ? X509_REQ_get_X509_PUBKEY(req)
		     : NULL;
	ok(s.spki != NULL && root != NULL &&
	       ca_profile_subca(&s, root, &none, &x) == CA_OK,
	   "sub-CA from a CSR's SPKI: built");
	if (x != NULL) {
		na = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &a);
		nb = i2d_X509_PUBKEY(s.spki, &b);
	}
	ok(na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0,
	   "sub-CA: the SPKI is the CSR's, byte for byte");
	ok(x != NULL && ext_state(x, NID_name_constraints) == 0 &&
	       ext_state(x, NID_ext_key_usage) == 0 &&
	       ext_state(x, NID_crl_distribution_points) == 0 &&
	       X509_get_ext_count(x) == 4,
	   "sub-CA: no constraints, EKUs or URLs: BC, KU, SKI, AKI only");
	X509_free(x);
	x = NULL;
	s.spki = NULL;
	if (ski != NULL)
		ASN1_OCTET_STRING_set(ski, keep, sizeof(keep));
	s.ski = ski;
	ok(root != NULL && ca_profile_subca(&s, root, NULL, &x) == CA_OK &&
	       (got_ski = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL,
					   NULL)) != NULL &&
	       ASN1_OCTET_STRING_cmp(got_ski, ski) == 0,
	   "cross-certificate: keeps the SKI it is given");
	OPENSSL_free(a);
	OPENSSL_free(b);
	ASN1_OCTET_STRING_free(ski);
	ASN1_OCTET_STRING_free(got_ski);
	X509_REQ_free(req);
	X509_free(x);
	spec_free(&s);
}

/* ---------------------------------------------------------------------- */
/* What the builders refuse                                                */

static int with_policies(const char *oid)
{
	X509 *x = X509_new();
	json_t *p = strings(oid, NULL);
	int rc;

	ca_err_clear();
	rc = ca_profile_add_policies(x, p);
	json_decref(p);
	X509_free(x);
	return rc;
}

static int with_urls(json_t *crl, json_t *aia)
{
	X509 *x = X509_new();
	int rc;

	ca_err_clear();
	rc = ca_profile_add_urls(x, crl, aia);
	json_decref(crl);
	json_decref(aia);
	X509_free(x);
	return rc;
}

static int with_constraint(int ip, const char *v)
{
	struct ca_name_constraints nc;
	X509 *x = X509_new();
	json_t *arr = strings(v, NULL);
	int rc;

	memset(&nc, 0, sizeof(nc));
	if (ip)
		nc.exclude_ip = arr;
	else
		nc.permit_email = arr;
	ca_err_clear();
	rc = ca_profile_add_name_constraints(x, &nc);
	json_decref(arr);
	X509_free(x);
	return rc;
}

static void test_refusals(void)
{
	static const struct {
		int ip;
		const char *value, *msg, *what;
	} constraints[] = {
	    {1, "10.0.0.1/8", "IP range '10.0.0.1/8' has host bits set",
	     "an IP range with host bits"},
	    {1, "10.0.0.0", "is not in CIDR form",
	     "an address without a "
	     "prefix"},
	    {1, "10.0.0.0/33", "bad prefix length", "an IPv4 prefix over 32"},
	    {1, "2001:db8::/129", "bad prefix length",
	     "an IPv6 prefix over "
	     "128"},
	    {1, "10.0.0.0/x", "bad prefix length",
	     "a prefix that is not a "
	     "number"},
	    {1, "300.0.0.0/8", "'300.0.0.0' is not an address",
	     "an address that is none"},
	    {0, "", "empty or too long name constraint",
	     "an empty email "
	     "constraint"},
	};
	char long_value[300];
	X509 *x = X509_new();
	json_t *arr;
	size_t i;

	ok(with_policies("not.an.oid") == CA_EUSAGE &&
	       fx_err("policy 'not.an.oid' is not a dotted OID"),
	   "refused: a policy that is not an OID");
	ok(with_policies("anyPolicy") == CA_EUSAGE,
	   "refused: a policy by name (dotted OIDs only)");
	ok(with_policies("2.23.140..1") == CA_EUSAGE &&
	       fx_err("policy '2.23.140..1' is not a dotted OID"),
	   "refused: a policy with an empty arc (not taken as another OID)");
	ok(with_urls(strings("http://a.example/x,y.crl", NULL), NULL) ==
		   CA_EUSAGE &&
	       fx_err("bad value 'http://a.example/x,y.crl' (empty or with a "
		      "comma)"),
	   "refused: a CRL URL with a comma (it would split)");
	ok(with_urls(NULL, strings("", NULL)) == CA_EUSAGE,
	   "refused: an empty AIA URL");
	arr = json_array();
	json_array_append_new(arr, json_integer(3));
	ok(with_urls(arr, NULL) == CA_EUSAGE && fx_err("(not a string)"),
	   "refused: a URL that is not a string");
	arr = strings("serverAuth", "serverauth");
	ca_err_clear();
	ok(ca_profile_add_ekus(x, arr) == CA_EUSAGE &&
	       fx_err("unknown extended key usage 'serverauth'") &&
	       ext_state(x, NID_ext_key_usage) == 0,
	   "refused: an unknown EKU name; nothing added");
	json_decref(arr);
	for (i = 0; i < sizeof(constraints) / sizeof(constraints[0]); i++)
		ok(with_constraint(constraints[i].ip, constraints[i].value) ==
			   CA_EUSAGE &&
		       fx_err(constraints[i].msg),
		   "refused: %s", constraints[i].what);
	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	ok(with_constraint(0, long_value) == CA_EUSAGE &&
	       fx_err("empty or too long"),
	   "refused: a 299-character constraint");
	arr = strings("bad name.example.com", NULL);
	{
		struct ca_name_constraints nc;

		memset(&nc, 0, sizeof(nc));
		nc.permit_dns = arr;
		ca_err_clear();
		ok(ca_profile_add_name_constraints(x, &nc) == CA_EUSAGE &&
		       fx_err("DNS name constraint"),
		   "refused: a DNS constraint that is no DNS name");
	}
	json_decref(arr);
	X509_free(x);
}

static void test_eku_names(void)
{
	static const struct {
		const char *name;
		int nid;
	} cases[] = {
	    {"TLS_WEB_SERVER_AUTHENTICATION", NID_server_auth},
	    {"TLS_WEB_CLIENT_AUTHENTICATION", NID_client_auth},
	    {"CODE_SIGNING", NID_code_sign},
	    {"EMAIL_PROTECTION", NID_email_protect},
	    {"TIME_STAMPING", NID_time_stamp},
	    {"OCSP_SIGNING", NID_OCSP_sign},
	    {"IPSEC_END_SYSTEM", NID_ipsecEndSystem},
	    {"IPSEC_TUNNEL", NID_ipsecTunnel},
	    {"IPSEC_USER", NID_ipsecUser},
	    {"ANY", NID_anyExtendedKeyUsage},
	    {"server_auth", NID_server_auth},
	    {"client_auth", NID_client_auth},
	    {"serverAuth", NID_server_auth},
	    {"OCSPSigning", NID_OCSP_sign},
	    {"1.3.6.1.5.5.7.3.1", NID_server_auth},
	    {"1.3.6.1.4.1.99999.7", NID_undef},
	};
	static const char *const unknown[] = {
	    "serverauth", "msCodeInd", "1.3.x", "1..3", "", "-1", NULL,
	};
	ASN1_OBJECT *o;
	char oid[64];
	size_t i;
	int good = 1;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = ca_eku_parse(cases[i].name);
		if (o == NULL || OBJ_obj2nid(o) != cases[i].nid)
			good = 0;
		if (o != NULL && cases[i].nid == NID_undef &&
		    (OBJ_obj2txt(oid, sizeof(oid), o, 1) <= 0 ||
		     strcmp(oid, cases[i].name) != 0))
			good = 0;
		ASN1_OBJECT_free(o);
	}
	ok(good, "EKU names: SPEC, serverless-CA and OpenSSL names, dotted "
		 "OIDs");
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		o = ca_eku_parse(unknown[i]);
		ok(o == NULL, "EKU name '%s' is unknown",
		   unknown[i] ? unknown[i] : "(null)");
		ASN1_OBJECT_free(o);
	}
}

/* ---------------------------------------------------------------------- */
/* Validity                                                                */

static X509 *issuer_valid(time_t nb, time_t na)
{
	X509 *x = X509_new();

	if (x != NULL && ca_x509_set_validity(x, nb, na) < 0) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static void test_validity(void)
{
	time_t nb = 0, na = 0, t0, t1;
	X509 *iss;
	int clamped = -1;

	t0 = time(NULL);
	ok(ca_validity_days(1, &nb, &na) == CA_OK && na - nb == DAY,
	   "--days 1: one day");
	t1 = time(NULL);
	ok(nb >= t0 && nb <= t1, "validity starts now");
	ok(ca_validity_days(CA_MAX_DAYS, &nb, &na) == CA_OK &&
	       na - nb == (time_t)CA_MAX_DAYS * DAY,
	   "--days 36500: accepted");
	ca_err_clear();
	ok(ca_validity_days(0, &nb, &na) == CA_EUSAGE &&
	       fx_err("--days 0 is out of range (1 to 36500)"),
	   "--days 0: refused");
	ok(ca_validity_days(CA_MAX_DAYS + 1, &nb, &na) == CA_EUSAGE,
	   "--days 36501: refused");

	iss = issuer_valid(now - DAY, now + 10 * DAY);
	ok(iss != NULL &&
	       ca_validity_clamp(iss, 5, &nb, &na, &clamped) == CA_OK &&
	       clamped == 0 && na - nb == 5 * DAY,
	   "inside the issuer's validity: not clamped");
	ok(iss != NULL &&
	       ca_validity_clamp(iss, 30, &nb, &na, &clamped) == CA_OK &&
	       clamped == 1 && na == now + 10 * DAY,
	   "past the issuer's notAfter: clamped to it");
	X509_free(iss);
	iss = issuer_valid(now - DAY, now + DAY / 2);
	ca_err_clear();
	ok(iss != NULL &&
	       ca_validity_clamp(iss, 30, &nb, &na, &clamped) == CA_EPOLICY &&
	       fx_err("the issuer expires within a day"),
	   "an issuer expiring within a day: refused");
	X509_free(iss);
	iss = issuer_valid(now + DAY, now + 100 * DAY);
	ca_err_clear();
	ok(iss != NULL &&
	       ca_validity_clamp(iss, 30, &nb, &na, &clamped) == CA_EPOLICY &&
	       fx_err("the issuer is not valid yet"),
	   "an issuer not valid yet: refused");
	X509_free(iss);
}

/* ---------------------------------------------------------------------- */
/* Leaf profiles                                                           */

static int eku_list(const struct ca_leaf_profile *p, const char *want)
{
	char got[256];
	size_t used = 0;
	int i;

	got[0] = '\0';
	for (i = 0; i < p->n_ekus; i++) {
		ASN1_OBJECT *o = ca_eku_parse(p->ekus[i]);

		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s",
					 i ? " " : "",
					 o ? OBJ_nid2sn(OBJ_obj2nid(o)) : "?");
		ASN1_OBJECT_free(o);
	}
	return strcmp(got, want) == 0;
}

static void test_leaf_builtins(void)
{
	static const struct {
		const char *name, *ekus;
		unsigned ku, sans;
		long max_days, default_days;
		int nocheck, passthrough;
	} cases[] = {
	    {"server", "serverAuth", 0, CA_SANT_DNS | CA_SANT_IP, 825, 365, 0,
	     0},
	    {"client", "clientAuth", 0, CA_SANT_ALL, 825, 365, 0, 0},
	    {"server-client", "serverAuth clientAuth", 0, CA_SANT_ALL, 825, 365,
	     0, 0},
	    {"code-signing", "codeSigning", KU_DIGITAL_SIGNATURE, CA_SANT_ALL,
	     1095, 365, 0, 0},
	    {"email", "emailProtection", 0, CA_SANT_EMAIL, 825, 365, 0, 0},
	    {"ocsp-signing", "OCSPSigning", KU_DIGITAL_SIGNATURE, CA_SANT_ALL,
	     365, 30, 1, 0},
	    {"csr-passthrough", "", 0, CA_SANT_ALL, 825, 365, 0, 1},
	};
	struct ca_leaf_profile p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		ok(ca_leaf_profile_find(NULL, cases[i].name, &p) == CA_OK &&
		       fx_streq(p.name, cases[i].name) &&
		       eku_list(&p, cases[i].ekus) &&
		       p.key_usage == cases[i].ku &&
		       p.san_types == cases[i].sans &&
		       p.max_days == cases[i].max_days &&
		       p.default_days == cases[i].default_days &&
		       p.ocsp_nocheck == cases[i].nocheck &&
		       p.passthrough == cases[i].passthrough &&
		       p.custom_ekus == NULL,
		   "built-in profile %s: EKUs '%s', %ld days at most",
		   cases[i].name, cases[i].ekus, cases[i].max_days);
	}
	ca_err_clear();
	ok(ca_leaf_profile_find(NULL, "web", &p) == CA_EUSAGE &&
	       fx_err("unknown profile 'web' (server, client, server-client"),
	   "an unknown profile is refused, listing the built-in ones");
}

static int custom(const char *json, struct ca_leaf_profile *p, json_t **keep)
{
	json_error_t jerr;
	json_t *config = json_loads(json, 0, &jerr);
	int rc;

	ca_err_clear();
	if (config == NULL)
		return CA_EIO;
	memset(p, 0, sizeof(*p));
	rc = ca_leaf_profile_find(config, "iot", p);
	if (keep != NULL)
		*keep = config;
	else
		json_decref(config);
	return rc;
}

/* ca_x509_add_ext keeps context-free extensions built from their text
 * (x509/cert.c): a kept one is added whole, and another value of the same
 * extension is built afresh, not taken for the kept one. */
static void test_kept_extensions(void)
{
	static const char *const kus[] = {
	    "critical,digitalSignature", "critical,keyEncipherment",
	    "critical,digitalSignature", "digitalSignature"};
	static const int bit[] = {0, 2, 0, 0}; /* RFC 5280 4.2.1.3 */
	static const int crit[] = {1, 1, 1, 0};
	ASN1_BIT_STRING *ku;
	X509 *x;
	size_t i;
	int good = 1, c;

	for (i = 0; i < sizeof(kus) / sizeof(kus[0]); i++) {
		x = X509_new();
		ku = NULL;
		c = -1;
		if (x == NULL ||
		    ca_x509_add_ext(x, NULL, NID_key_usage, kus[i]) != CA_OK ||
		    X509_get_ext_count(x) != 1 ||
		    (ku = X509_get_ext_d2i(x, NID_key_usage, &c, NULL)) ==
			NULL ||
		    c != crit[i] || ASN1_BIT_STRING_get_bit(ku, bit[i]) != 1 ||
		    ASN1_BIT_STRING_get_bit(ku, 2 - bit[i]) != 0)
			good = 0;
		ASN1_BIT_STRING_free(ku);
		X509_free(x);
	}
	ok(good, "kept extensions: each key usage text gives its own "
		 "extension, kept or built");
	ca_err_clear();
	x = X509_new();
	ok(x != NULL &&
	       ca_x509_add_ext(x, NULL, NID_key_usage, "critical,noSuchBit") ==
		   CA_EUSAGE &&
	       fx_err("invalid keyUsage extension value"),
	   "kept extensions: a bad value is still refused");
	X509_free(x);
}

static void test_leaf_custom(void)
{
	static const struct {
		const char *json, *msg, *what;
	} bad[] = {
	    {"{\"profiles\": {\"iot\": 3}}",
	     "profile iot in ca.json is not "
	     "an object",
	     "not an object"},
	    {"{\"profiles\": {\"iot\": {\"max_days\": 90, \"lifetime\": 3}}}",
	     "profile iot: unknown key 'lifetime'", "an unknown key"},
	    {"{\"profiles\": {\"iot\": {}}}", "max_days must be 1 to 36500",
	     "no max_days"},
	    {"{\"profiles\": {\"iot\": {\"max_days\": 36501}}}",
	     "max_days must be 1 to 36500", "max_days over 100 years"},
	    {"{\"profiles\": {\"iot\": {\"max_days\": 9, \"key_usage\": "
	     "[\"keyCertSign\"]}}}",
	     "profile iot: key usage 'keyCertSign' is not allowed in a leaf",
	     "keyCertSign"},
	    {"{\"profiles\": {\"iot\": {\"max_days\": 9, \"san_types\": "
	     "[\"x400\"]}}}",
	     "profile iot: unknown SAN type 'x400'", "an unknown SAN type"},
	    {"{\"profiles\": {\"iot\": {\"max_days\": 9, \"ekus\": "
	     "[\"bogus\"]}}}",
	     "profile iot: unknown EKU 'bogus'", "an unknown EKU"},
	};
	struct ca_leaf_profile p;
	json_t *config = NULL;
	size_t i;

	ok(custom("{\"profiles\": {\"iot\": {\"ekus\": [\"clientAuth\", "
		  "\"1.3.6.1.5.5.7.3.17\"], \"key_usage\": "
		  "[\"digitalSignature\", \"keyAgreement\"], \"max_days\": 90, "
		  "\"default_days\": 30, \"san_types\": [\"dns\", \"uri\"]}}}",
		  &p, &config) == CA_OK &&
	       fx_streq(p.name, "iot") && p.max_days == 90 &&
	       p.default_days == 30 &&
	       p.key_usage == (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT) &&
	       p.san_types == (CA_SANT_DNS | CA_SANT_URI) &&
	       json_array_size(p.custom_ekus) == 2 && p.n_ekus == 0,
	   "custom profile: EKUs, key usage, days and SAN types as written");
	json_decref(config);
	ok(custom("{\"profiles\": {\"iot\": {\"max_days\": 90, "
		  "\"default_days\": 400}}}",
		  &p, NULL) == CA_OK &&
	       p.default_days == 90 && p.san_types == CA_SANT_ALL,
	   "custom profile: default_days above max_days becomes max_days");
	config =
	    json_pack("{s:{s:{s:i}}}", "profiles", "server", "max_days", 10);
	ok(ca_leaf_profile_find(config, "server", &p) == CA_OK &&
	       p.max_days == 10 && p.n_ekus == 0,
	   "a ca.json profile of a built-in's name replaces it");
	json_decref(config);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(custom(bad[i].json, &p, NULL) == CA_EUSAGE &&
		       fx_err(bad[i].msg),
		   "custom profile refused: %s", bad[i].what);
}

static void test_leaf_key_usage(void)
{
	struct ca_leaf_profile server, agree;

	memset(&agree, 0, sizeof(agree));
	agree.key_usage =
	    KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT | KU_KEY_ENCIPHERMENT;
	if (ca_leaf_profile_find(NULL, "server", &server) < 0)
		memset(&server, 0, sizeof(server));
	ok(ca_leaf_key_usage(&server, rsa_key) ==
	       (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT),
	   "leaf key usage: RSA gives digitalSignature, keyEncipherment");
	ok(ca_leaf_key_usage(&server, sub_key) == KU_DIGITAL_SIGNATURE,
	   "leaf key usage: EC gives digitalSignature");
	ok(ca_leaf_key_usage(&server, ed_key) == KU_DIGITAL_SIGNATURE,
	   "leaf key usage: Ed25519 gives digitalSignature");
	ok(ca_leaf_key_usage(&agree, rsa_key) ==
	       (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT),
	   "profile key usage with RSA: no keyAgreement");
	ok(ca_leaf_key_usage(&agree, sub_key) ==
	       (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT),
	   "profile key usage with EC: no keyEncipherment (RFC 8813)");
	ok(ca_leaf_key_usage(&agree, ed_key) == KU_DIGITAL_SIGNATURE,
	   "profile key usage with Ed25519: digitalSignature only (RFC "
	   "8410)");
}

/* A CSR whose subject is the given entries (type, value) in order;
 * values are set as UTF8String without OpenSSL's length limits. */
static X509_REQ *csr_with(const char *const *fields)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	int i;

	for (i = 0; n != NULL && fields[i] != NULL; i += 2)
		X509_NAME_add_entry_by_txt(n, fields[i], V_ASN1_UTF8STRING,
					   (const unsigned char *)fields[i + 1],
					   -1, -1, 0);
	if (req == NULL || n == NULL ||
	    X509_REQ_set_subject_name(req, n) != 1) {
		X509_REQ_free(req);
		req = NULL;
	}
	X509_NAME_free(n);
	return req;
}

static void test_leaf_subject(void)
{
	static const char *const fields[] = {
	    "CN", "csr.example.com", "O",  "CSR Org", "C",
	    "US", "serialNumber",    "42", NULL};
	static const char *const long_cn[] = {
	    "CN",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    NULL};
	struct ca_subject_override ov;
	X509_REQ *req = csr_with(fields), *bad = csr_with(long_cn);
	X509_NAME *n = NULL;
	char *line = NULL;

	memset(&ov, 0, sizeof(ov));
	ok(req != NULL && ca_leaf_subject(req, &ov, &n) == CA_OK &&
	       fx_streq(line = X509_NAME_oneline(n, NULL, 0),
			"/serialNumber=42/C=US/O=CSR Org/CN=csr.example.com"),
	   "leaf subject: the CSR's, other types first, then C, O, CN");
	OPENSSL_free(line);
	X509_NAME_free(n);
	n = NULL;
	ov.cn = "new.example.com";
	ov.country = "GB";
	ov.organization = "Example Ltd";
	ov.email_address = "ops@example.com";
	ok(req != NULL && ca_leaf_subject(req, &ov, &n) == CA_OK &&
	       fx_streq(line = X509_NAME_oneline(n, NULL, 0),
			"/serialNumber=42/C=GB/O=Example Ltd/CN=new.example.com"
			"/emailAddress=ops@example.com"),
	   "leaf subject: overrides replace their types, in SPEC order");
	OPENSSL_free(line);
	X509_NAME_free(n);
	n = NULL;
	ov.country = "GBR";
	ca_err_clear();
	ok(req != NULL && ca_leaf_subject(req, &ov, &n) == CA_EPOLICY &&
	       n == NULL && fx_err("subject C 'GBR' is empty or too long"),
	   "leaf subject: a 3-letter country refused");
	ov.country = NULL;
	ov.cn = long_cn[1];
	ca_err_clear();
	ok(req != NULL && ca_leaf_subject(req, &ov, &n) == CA_EPOLICY &&
	       fx_err("subject CN"),
	   "leaf subject: a 65-character CN override refused");
	memset(&ov, 0, sizeof(ov));
	ca_err_clear();
	ok(bad != NULL && ca_leaf_subject(bad, &ov, &n) == CA_EPOLICY &&
	       fx_err("the CSR's commonName is longer than 64 characters"),
	   "leaf subject: a CSR's 65-character CN refused (RFC 5280)");
	X509_REQ_free(req);
	X509_REQ_free(bad);
}

static void test_bad_arguments(void)
{
	struct ca_cert_spec s;
	X509 *x = (X509 *)1;

	base_spec(&s, "No Key", NULL);
	ca_err_clear();
	ok(ca_profile_root(&s, &x) == CA_EIO && x == NULL &&
	       fx_err("cannot build the certificate"),
	   "a spec without a key is refused");
	spec_free(&s);
	x = X509_new();
	ok(x != NULL && ca_profile_add_policies(x, NULL) == CA_OK &&
	       X509_get_ext_count(x) == 0,
	   "no policies: nothing added");
	X509_free(x);
}

int main(void)
{
	now = time(NULL);
	root_key = fx_key("EC", "P-256", 0, 0);
	sub_key = fx_key("EC", "P-384", 0, 0);
	rsa_key = fx_key("RSA", NULL, 2048, 0);
	ed_key = fx_key("ED25519", NULL, 0, 0);
	if (root_key == NULL || sub_key == NULL || rsa_key == NULL ||
	    ed_key == NULL) {
		printf("Bail out! cannot make keys\n");
		return 1;
	}
	test_root();
	test_subca();
	test_subca_variants();
	test_refusals();
	test_eku_names();
	test_validity();
	test_leaf_builtins();
	test_leaf_custom();
	test_kept_extensions();
	test_leaf_key_usage();
	test_leaf_subject();
	test_bad_arguments();
	X509_free(root);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(sub_key);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ed_key);
	return tap_done();
}
