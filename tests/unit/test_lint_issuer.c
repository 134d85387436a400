/* Unit tests (TAP): lint against the issuer's own certificate
 * (lint/issuer.c through ca_lint_cert): name constraints of every form,
 * permitted and excluded, the issuer's EKU, pathLenConstraint, the issuer
 * being a CA, validity inside the issuer's. Each rule has a TBS that
 * passes and one that fails; software keys stand in for the token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "input/name.h"
#include "lint/issuer.h"
#include "lint/lint.h"
#include "tap.h"
#include "x509/algid.h"
#include "x509/cert.h"

static EVP_PKEY *issuer_key, *subject_key;
static time_t now;

/* ---- the issuer ---------------------------------------------------------- */

struct ispec {
	const char *permit[6]; /* "DNS:example.com", "IP:10.0.0.0/255.0.0.0",
				* "email:..", "URI:..", "dirName:RFC 4514" */
	const char *exclude[4];
	const char *eku; /* OpenSSL config syntax, or NULL */
	int pathlen;	 /* -1: none */
	const char *bc;	 /* basicConstraints, default critical,CA:TRUE */
	const char *ku;	 /* keyUsage, default with keyCertSign */
};

static GENERAL_NAME *general_name(const char *spec, int is_nc)
{
	const char *colon = strchr(spec, ':');
	GENERAL_NAME *g = NULL;
	X509_NAME *dn = NULL;
	int type;

	if (colon == NULL)
		return NULL;
	if (strncmp(spec, "dirName:", 8) == 0) {
		if (ca_name_parse(colon + 1, &dn) < 0 ||
		    (g = GENERAL_NAME_new()) == NULL)
			return NULL;
		GENERAL_NAME_set0_value(g, GEN_DIRNAME, dn);
		return g;
	}
	if (strncmp(spec, "DNS:", 4) == 0)
		type = GEN_DNS;
	else if (strncmp(spec, "IP:", 3) == 0)
		type = GEN_IPADD;
	else if (strncmp(spec, "email:", 6) == 0)
		type = GEN_EMAIL;
	else if (strncmp(spec, "URI:", 4) == 0)
		type = GEN_URI;
	else if (strncmp(spec, "RID:", 4) == 0)
		type = GEN_RID;
	else
		return NULL;
	return a2i_GENERAL_NAME(NULL, NULL, NULL, type, colon + 1, is_nc);
}

static void nc_add(STACK_OF(GENERAL_SUBTREE) * *sk, const char *spec)
{
	GENERAL_SUBTREE *st = GENERAL_SUBTREE_new();

	GENERAL_NAME_free(st->base);
	st->base = general_name(spec, 1);
	if (st->base == NULL)
		abort();
	if (*sk == NULL)
		*sk = sk_GENERAL_SUBTREE_new_null();
	sk_GENERAL_SUBTREE_push(*sk, st);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL || X509_add_ext(x, e, -1) != 1)
		abort();
	X509_EXTENSION_free(e);
}

static X509_NAME *dn(const char *s)
{
	X509_NAME *n = NULL;

	if (ca_name_parse(s, &n) < 0)
		abort();
	return n;
}

static X509 *make_issuer(const struct ispec *is)
{
	X509 *x = X509_new();
	X509_NAME *name = dn("CN=Issuing CA,O=Example");
	NAME_CONSTRAINTS *nc = NULL;
	char bc[64];
	int i;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	if (ca_x509_set_validity(x, now - 86400, now + 365 * 86400) < 0)
		abort();
	X509_set_pubkey(x, issuer_key);
	if (is->pathlen >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d",
			 is->pathlen);
	else
		snprintf(bc, sizeof(bc), "critical,CA:TRUE");
	add_ext(x, x, NID_basic_constraints, is->bc ? is->bc : bc);
	add_ext(x, x, NID_key_usage,
		is->ku ? is->ku
		       : "critical,keyCertSign,cRLSign,digitalSignature");
	add_ext(x, x, NID_subject_key_identifier, "hash");
	if (is->eku != NULL)
		add_ext(x, x, NID_ext_key_usage, is->eku);
	if (is->permit[0] != NULL || is->exclude[0] != NULL) {
		nc = NAME_CONSTRAINTS_new();
		for (i = 0; i < 6 && is->permit[i] != NULL; i++)
			nc_add(&nc->permittedSubtrees, is->permit[i]);
		for (i = 0; i < 4 && is->exclude[i] != NULL; i++)
			nc_add(&nc->excludedSubtrees, is->exclude[i]);
		if (X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, 0) != 1)
			abort();
		NAME_CONSTRAINTS_free(nc);
	}
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
		abort();
	X509_NAME_free(name);
	return x;
}

/* ---- the certificate to lint --------------------------------------------- */

struct cspec {
	int is_ca;
	const char *subject; /* RFC 4514 */
	const char *sans;    /* OpenSSL config syntax, or NULL */
	const char *eku;     /* default: clientAuth for a leaf, none for a CA */
	int pathlen;	     /* CA: -1 none */
	long nb, na; /* offsets from now, seconds (default 0, 30 days) */
};

/* Lint the TBS of the certificate spec describes under the issuer is;
 * CA_OK or the refusal. */
static int lint_one(const struct ispec *is, const struct cspec *cs)
{
	X509 *issuer = make_issuer(is), *x = X509_new();
	X509_NAME *name = dn(cs->subject);
	unsigned char *algid = NULL, *tbs = NULL;
	size_t algid_len, tbs_len;
	struct ca_lint lc = {cs->is_ca ? CA_LINT_SUBCA : CA_LINT_LEAF, issuer,
			     NULL, NULL, 0};
	char bc[64];
	int rc;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	if (ca_x509_set_validity(x, now + cs->nb,
				 now + (cs->na ? cs->na : 30 * 86400)) < 0)
		abort();
	X509_set_pubkey(x, subject_key);
	if (cs->is_ca) {
		if (cs->pathlen >= 0)
			snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d",
				 cs->pathlen);
		else
			snprintf(bc, sizeof(bc), "critical,CA:TRUE");
		add_ext(x, issuer, NID_basic_constraints, bc);
		add_ext(x, issuer, NID_key_usage,
			"critical,keyCertSign,cRLSign,digitalSignature");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
	}
	if (cs->eku != NULL && cs->eku[0] != '\0')
		add_ext(x, issuer, NID_ext_key_usage, cs->eku);
	else if (cs->eku == NULL && !cs->is_ca)
		add_ext(x, issuer, NID_ext_key_usage, "clientAuth");
	if (cs->sans != NULL)
		add_ext(x, issuer, NID_subject_alt_name, cs->sans);
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (ca_algid_der(issuer_key, CA_SIGALG_DEFAULT, &algid, &algid_len) <
		0 ||
	    ca_x509_tbs(x, algid, algid_len, &tbs, &tbs_len) < 0)
		abort();
	rc = ca_lint_cert(tbs, tbs_len, &lc);
	free(tbs);
	OPENSSL_free(algid);
	X509_NAME_free(name);
	X509_free(x);
	X509_free(issuer);
	return rc;
}

struct lint_case {
	const char *desc;
	struct ispec is;
	struct cspec cs;
	const char *refusal; /* NULL: passes; else a part of the message */
};

#define NONE	    -1
#define DNS_EXAMPLE {"DNS:example.com"}, {NULL}, NULL, NONE, NULL, NULL

static const struct lint_case cases[] = {
    /* dNSName */
    {"dNSName inside the permitted subtree",
     {DNS_EXAMPLE},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"dNSName equal to the permitted subtree",
     {DNS_EXAMPLE},
     {0, "CN=Web", "DNS:example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"dNSName outside the permitted subtree",
     {DNS_EXAMPLE},
     {0, "CN=Web", "DNS:www.exmaple.com", "serverAuth", NONE, 0, 0},
     "lint: dNSName www.exmaple.com is not within the permitted subtree "
     "example.com of CN=Issuing CA,O=Example"},
    {"dNSName ending in the subtree's text but not its labels",
     {DNS_EXAMPLE},
     {0, "CN=Web", "DNS:fooexample.com", "serverAuth", NONE, 0, 0},
     "dNSName fooexample.com is not within"},
    {"dNSName compared without case",
     {DNS_EXAMPLE},
     {0, "CN=Web", "DNS:WWW.Example.COM", "serverAuth", NONE, 0, 0},
     NULL},
    {"leading-period subtree: a subdomain",
     {{"DNS:.example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:a.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"leading-period subtree: not the domain itself",
     {{"DNS:.example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:example.com", "serverAuth", NONE, 0, 0},
     "not within the permitted subtree .example.com"},
    {"dNSName outside every one of several permitted subtrees",
     {{"DNS:example.com", "DNS:example.net"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com,DNS:evil.org", "serverAuth", NONE, 0,
      0},
     "dNSName evil.org is not within any permitted dNSName subtree of "
     "CN=Issuing CA,O=Example (example.com, example.net)"},
    {"dNSName outside an excluded subtree",
     {{"DNS:example.com"}, {"DNS:secret.example.com"}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:public.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"dNSName inside an excluded subtree",
     {{"DNS:example.com"}, {"DNS:secret.example.com"}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:db.secret.example.com", "serverAuth", NONE, 0, 0},
     "dNSName db.secret.example.com is within the excluded subtree "
     "secret.example.com"},
    {"wildcard that cannot name an excluded host",
     {{"DNS:example.com"}, {"DNS:secret.example.com"}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:*.www.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"wildcard that names an excluded host",
     {{"DNS:example.com"}, {"DNS:secret.example.com"}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:*.example.com", "serverAuth", NONE, 0, 0},
     "dNSName *.example.com covers the excluded subtree secret.example.com"},
    /* subject CN as a dNSName (end-entity certificates) */
    {"host-name CN inside the dNSName subtree",
     {DNS_EXAMPLE},
     {0, "CN=www.example.com", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"host-name CN outside the dNSName subtree",
     {DNS_EXAMPLE},
     {0, "CN=www.exmaple.com", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     "dNSName www.exmaple.com (the subject CN) is not within the permitted "
     "subtree example.com"},
    {"a CN that is not a host name is not a dNSName",
     {DNS_EXAMPLE},
     {0, "CN=Alice Example", NULL, "clientAuth", NONE, 0, 0},
     NULL},
    {"a CA certificate's CN is not a dNSName",
     {DNS_EXAMPLE},
     {1, "CN=ca.evil.org", NULL, "", 0, 0, 0},
     NULL},
    /* iPAddress */
    {"iPAddress inside the permitted range",
     {{"IP:10.0.0.0/255.0.0.0"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Host", "IP:10.1.2.3", "serverAuth", NONE, 0, 0},
     NULL},
    {"iPAddress outside the permitted range",
     {{"IP:10.0.0.0/255.0.0.0"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Host", "IP:192.168.1.1", "serverAuth", NONE, 0, 0},
     "iPAddress 192.168.1.1 is not within the permitted subtree 10.0.0.0/8"},
    {"IPv6 address when only IPv4 ranges are permitted",
     {{"IP:10.0.0.0/255.0.0.0"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Host", "IP:2001:db8::1", "serverAuth", NONE, 0, 0},
     "iPAddress 2001:db8::1 is not within the permitted subtree 10.0.0.0/8"},
    {"IPv6 address inside a permitted IPv6 range",
     {{"IP:2001:db8::/ffff:ffff::"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Host", "IP:2001:db8::1", "serverAuth", NONE, 0, 0},
     NULL},
    {"iPAddress inside an excluded range",
     {{"IP:10.0.0.0/255.0.0.0"},
      {"IP:10.9.0.0/255.255.0.0"},
      NULL,
      NONE,
      NULL,
      NULL},
     {0, "CN=Host", "IP:10.9.1.1", "serverAuth", NONE, 0, 0},
     "iPAddress 10.9.1.1 is within the excluded subtree 10.9.0.0/16"},
    /* rfc822Name */
    {"mailbox at the permitted host",
     {{"email:example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Alice", "email:alice@example.com", "emailProtection", NONE, 0, 0},
     NULL},
    {"mailbox under the permitted host (host form: that host only)",
     {{"email:example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Alice", "email:alice@mail.example.com", "emailProtection", NONE, 0,
      0},
     "rfc822Name alice@mail.example.com is not within the permitted subtree "
     "example.com"},
    {"mailbox under a permitted domain",
     {{"email:.example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Alice", "email:alice@mail.example.com", "emailProtection", NONE, 0,
      0},
     NULL},
    {"permitted mailbox, domain case folded",
     {{"email:bob@example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Bob", "email:bob@EXAMPLE.com", "emailProtection", NONE, 0, 0},
     NULL},
    {"permitted mailbox: the local part keeps its case",
     {{"email:bob@example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Bob", "email:Bob@example.com", "emailProtection", NONE, 0, 0},
     "rfc822Name Bob@example.com is not within the permitted subtree "
     "bob@example.com"},
    {"subject emailAddress inside the rfc822Name subtree",
     {{"email:example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Alice,emailAddress=alice@example.com", NULL, "clientAuth", NONE, 0,
      0},
     NULL},
    {"subject emailAddress outside the rfc822Name subtree",
     {{"email:example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Alice,emailAddress=alice@evil.org", NULL, "clientAuth", NONE, 0,
      0},
     "rfc822Name alice@evil.org (the subject emailAddress) is not within the "
     "permitted subtree example.com"},
    /* URI */
    {"URI host under the permitted domain",
     {{"URI:.example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Signer", "URI:https://user@www.example.com:8443/x?y",
      "codeSigning", NONE, 0, 0},
     NULL},
    {"URI host outside the permitted domain",
     {{"URI:.example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Signer", "URI:https://www.evil.org/", "codeSigning", NONE, 0, 0},
     "URI https://www.evil.org/ is not within the permitted subtree "
     ".example.com"},
    {"URI whose host is the permitted host",
     {{"URI:example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Signer", "URI:http://example.com/a", "codeSigning", NONE, 0, 0},
     NULL},
    {"URI without a host under URI constraints",
     {{"URI:.example.com"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Signer", "URI:urn:example:thing", "codeSigning", NONE, 0, 0},
     "URI urn:example:thing cannot be compared with the permitted subtree "
     ".example.com of CN=Issuing CA,O=Example (it has no host)"},
    /* directoryName */
    {"subject inside the permitted directoryName",
     {{"dirName:O=Example,C=GB"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Alice,O=Example,C=GB", NULL, "clientAuth", NONE, 0, 0},
     NULL},
    {"subject inside the permitted directoryName, case and spaces folded",
     {{"dirName:O=Example,C=GB"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Alice,O=EXAMPLE  ,C=GB", NULL, "clientAuth", NONE, 0, 0},
     NULL},
    {"subject outside the permitted directoryName",
     {{"dirName:O=Example,C=GB"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Mallory,O=Other,C=GB", NULL, "clientAuth", NONE, 0, 0},
     "directoryName CN=Mallory,O=Other,C=GB (the subject) is not within the "
     "permitted subtree O=Example,C=GB"},
    {"subject inside an excluded directoryName",
     {{NULL}, {"dirName:OU=Secret,O=Example,C=GB"}, NULL, NONE, NULL, NULL},
     {0, "CN=Spy,OU=Secret,O=Example,C=GB", NULL, "clientAuth", NONE, 0, 0},
     "directoryName CN=Spy,OU=Secret,O=Example,C=GB (the subject) is within "
     "the excluded subtree OU=Secret,O=Example,C=GB"},
    {"a sub-CA's subject is checked too",
     {{"dirName:O=Example,C=GB"}, {NULL}, NULL, 1, NULL, NULL},
     {1, "CN=Rogue CA,O=Other,C=GB", NULL, "", 0, 0, 0},
     "directoryName CN=Rogue CA,O=Other,C=GB (the subject) is not within"},
    {"a self-issued CA certificate is exempt (RFC 5280 6.1.3)",
     {{"dirName:O=Other"}, {NULL}, NULL, 1, NULL, NULL},
     {1, "CN=Issuing CA,O=Example", NULL, "", 0, 0, 0},
     NULL},
    /* forms the code cannot compare */
    {"no name of an unsupported constrained form",
     {{"RID:1.2.3.4"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"a name of an unsupported constrained form",
     {{"RID:1.2.3.4"}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com,RID:1.2.3.4", "serverAuth", NONE, 0, 0},
     "registeredID (a name of that form) cannot be checked against the "
     "registeredID constraints"},
    /* EKU */
    {"EKU among the issuer's",
     {{NULL}, {NULL}, "serverAuth,clientAuth", NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"EKU not among the issuer's",
     {{NULL}, {NULL}, "serverAuth", NONE, NULL, NULL},
     {0, "CN=Client", "DNS:c.example.com", "clientAuth", NONE, 0, 0},
     "extended key usage clientAuth is not among those CN=Issuing CA,O=Example "
     "allows (serverAuth)"},
    {"no EKU (any purpose) under an issuer with EKUs",
     {{NULL}, {NULL}, "serverAuth", NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com", "", NONE, 0, 0},
     "the certificate has no extended key usage (any purpose) but CN=Issuing "
     "CA,O=Example allows only serverAuth"},
    {"issuer with anyExtendedKeyUsage allows every EKU",
     {{NULL}, {NULL}, "serverAuth,anyExtendedKeyUsage", NONE, NULL, NULL},
     {0, "CN=Signer", "URI:https://example.com/", "codeSigning", NONE, 0, 0},
     NULL},
    {"a sub-CA's EKU outside the issuer's",
     {{NULL}, {NULL}, "serverAuth", 1, NULL, NULL},
     {1, "CN=Code CA", NULL, "codeSigning", 0, 0, 0},
     "extended key usage codeSigning is not among those"},
    /* pathLenConstraint and the issuer being a CA */
    {"sub-CA pathLen 0 under pathLen 1",
     {{NULL}, {NULL}, NULL, 1, NULL, NULL},
     {1, "CN=Sub CA", NULL, "", 0, 0, 0},
     NULL},
    {"sub-CA pathLen 1 under pathLen 1",
     {{NULL}, {NULL}, NULL, 1, NULL, NULL},
     {1, "CN=Sub CA", NULL, "", 1, 0, 0},
     "the CA certificate's pathLenConstraint 1 does not fit under "
     "pathLenConstraint 1 of CN=Issuing CA,O=Example (at most 0)"},
    {"sub-CA without pathLen under pathLen 2",
     {{NULL}, {NULL}, NULL, 2, NULL, NULL},
     {1, "CN=Sub CA", NULL, "", NONE, 0, 0},
     "the CA certificate has no pathLenConstraint but CN=Issuing CA,O=Example "
     "has pathLenConstraint 2: it needs one of at most 1"},
    {"sub-CA under pathLen 0",
     {{NULL}, {NULL}, NULL, 0, NULL, NULL},
     {1, "CN=Sub CA", NULL, "", NONE, 0, 0},
     "CN=Issuing CA,O=Example has pathLenConstraint 0: it cannot certify "
     "another CA"},
    {"end-entity certificate under pathLen 0",
     {{NULL}, {NULL}, NULL, 0, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     NULL},
    {"issuer that is not a CA",
     {{NULL}, {NULL}, NULL, NONE, "critical,CA:FALSE", NULL},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     "CN=Issuing CA,O=Example is not a CA certificate"},
    {"issuer without keyCertSign",
     {{NULL}, {NULL}, NULL, NONE, NULL, "critical,cRLSign,digitalSignature"},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 0},
     "the key usage of CN=Issuing CA,O=Example has no keyCertSign"},
    /* validity */
    {"validity inside the issuer's",
     {{NULL}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 364L * 86400},
     NULL},
    {"notAfter after the issuer's",
     {{NULL}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, 0, 366L * 86400},
     "is not inside the validity of CN=Issuing CA,O=Example"},
    {"notBefore before the issuer's",
     {{NULL}, {NULL}, NULL, NONE, NULL, NULL},
     {0, "CN=Web", "DNS:www.example.com", "serverAuth", NONE, -2L * 86400, 0},
     "is not inside the validity of CN=Issuing CA,O=Example"},
};

static void run_cases(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lint_case *c = &cases[i];
		int rc;

		ca_err_clear();
		rc = lint_one(&c->is, &c->cs);
		if (c->refusal == NULL)
			ok(rc == CA_OK, "%s: passes", c->desc);
		else
			ok(rc == CA_EPOLICY &&
			       strstr(ca_errmsg(), c->refusal) != NULL,
			   "%s: refused (%s)", c->desc, ca_errmsg());
	}
}

/* ca_lint_issuer on its own, and its bad arguments. */
static void direct(void)
{
	struct ispec is = {{"DNS:example.com"}, {NULL}, NULL, NONE, NULL, NULL};
	X509 *issuer = make_issuer(&is);
	X509 *x = X509_new();
	X509_NAME *n = dn("CN=www.evil.org");

	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	if (ca_x509_set_validity(x, now, now + 86400) < 0)
		abort();
	ok(ca_lint_issuer(x, issuer, 0) == CA_EPOLICY &&
	       strstr(ca_errmsg(), "www.evil.org (the subject CN)") != NULL,
	   "ca_lint_issuer: a bare certificate's host-name CN is checked");
	ok(ca_lint_issuer(x, issuer, 1) == CA_OK,
	   "ca_lint_issuer: the same subject in a CA certificate is not a "
	   "dNSName");
	X509_NAME_free(n);
	X509_free(x);
	X509_free(issuer);
}

int main(void)
{
	now = time(NULL);
	issuer_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	subject_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (issuer_key == NULL || subject_key == NULL)
		return 1;
	run_cases();
	direct();
	EVP_PKEY_free(issuer_key);
	EVP_PKEY_free(subject_key);
	return tap_done();
}
