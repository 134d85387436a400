#include "lint/lint.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lint/issuer.h"
#include "lint/name.h"
#include "x509/cert.h"
#include "x509/san.h"
#include "x509/tbsmark.h"

#define LINT(...) ca_err(CA_EPOLICY, "lint: " __VA_ARGS__)

int ca_lint_pubkey(EVP_PKEY *pub, const char *what)
{
	int type = EVP_PKEY_get_base_id(pub), bits = EVP_PKEY_get_bits(pub);
	BIGNUM *e = NULL;
	char group[64];
	size_t n = 0;
	EVP_PKEY_CTX *c = NULL;
	int rc = CA_OK;

	switch (type) {
	case EVP_PKEY_RSA:
		if (bits < 2048 || bits > 16384) {
			rc = ca_err(CA_EPOLICY,
				    "%s: RSA key of %d bits is refused "
				    "(at least 2048)",
				    what, bits);
			break;
		}
		if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) !=
			1 ||
		    !BN_is_word(e, 65537))
			rc = ca_err(CA_EPOLICY,
				    "%s: RSA public exponent is not "
				    "65537: refused",
				    what);
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(
			pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&n) != 1 ||
		    (strcmp(group, "prime256v1") != 0 &&
		     strcmp(group, "secp384r1") != 0 &&
		     strcmp(group, "secp521r1") != 0)) {
			rc = ca_err(CA_EPOLICY,
				    "%s: EC curve %s is refused (P-256, "
				    "P-384 and P-521 only)",
				    what, n ? group : "(explicit parameters)");
			break;
		}
		/* The point is on the curve: enough for these prime-order
		 * curves (cofactor 1), without a scalar multiplication. */
		c = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
		if (c == NULL || EVP_PKEY_public_check_quick(c) != 1)
			rc = ca_err(CA_EPOLICY,
				    "%s: EC public key is not a valid "
				    "point on %s: refused",
				    what, group);
		break;
	case EVP_PKEY_ED25519:
		break;
	default:
		rc = ca_err(CA_EPOLICY,
			    "%s: key type %s is refused (RSA, EC "
			    "P-256/384/521 or Ed25519)",
			    what, OBJ_nid2sn(type));
	}
	ERR_clear_error();
	BN_free(e);
	EVP_PKEY_CTX_free(c);
	return rc;
}

/* Inside the issuer's validity: lint/issuer.c. */
static int lint_time_order(X509 *x)
{
	time_t nb, na;
	int rc;

	GUARD(ca_asn1_time(X509_get0_notBefore(x), &nb));
	GUARD(ca_asn1_time(X509_get0_notAfter(x), &na));
	if (nb >= na)
		return LINT("notBefore is not before notAfter");
out:
	return rc;
}

static int lint_serial(X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	int rc = CA_OK;

	/* RFC 5280 4.1.2.2: positive, at most 20 octets. */
	if (bn == NULL || BN_is_negative(bn) || BN_is_zero(bn))
		rc = LINT("serial number is not a positive integer");
	else if (ASN1_STRING_length(s) > 20 || BN_num_bytes(bn) > 20 ||
		 (BN_num_bytes(bn) == 20 && BN_is_bit_set(bn, 159)))
		rc = LINT("serial number is longer than 20 octets");
	BN_free(bn);
	return rc;
}

/* A known extension must decode with its ASN.1 type. */
static int ext_decodes(X509_EXTENSION *e)
{
	const X509V3_EXT_METHOD *m = X509V3_EXT_get(e);
	void *v;

	if (m == NULL || m->it == NULL)
		return 1;
	v = X509V3_EXT_d2i(e);
	if (v == NULL) {
		ERR_clear_error();
		return 0;
	}
	ASN1_item_free(v, ASN1_ITEM_ptr(m->it));
	return 1;
}

static int lint_no_duplicates(X509 *x)
{
	int i, j, n = X509_get_ext_count(x);

	for (i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		ASN1_OBJECT *o = X509_EXTENSION_get_object(e);

		for (j = i + 1; j < n; j++)
			if (OBJ_cmp(o, X509_EXTENSION_get_object(
					   X509_get_ext(x, j))) == 0)
				return LINT("duplicate extension %s",
					    OBJ_nid2sn(OBJ_obj2nid(o)));
		if (!ext_decodes(e))
			return LINT("extension %s does not decode",
				    OBJ_nid2sn(OBJ_obj2nid(o)));
	}
	return CA_OK;
}

static int ext_critical(X509 *x, int nid, int *present)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	*present = i >= 0;
	return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* Extensions are read from the certificate itself, never from OpenSSL's
 * per-certificate cache: lint may run on a certificate being built. */
static uint32_t key_usage_bits(X509 *x)
{
	ASN1_BIT_STRING *bits = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	uint32_t ku = 0;

	if (bits != NULL && ASN1_STRING_length(bits) > 0) {
		ku = ASN1_STRING_get0_data(bits)[0];
		if (ASN1_STRING_length(bits) > 1)
			ku |= (uint32_t)ASN1_STRING_get0_data(bits)[1] << 8;
	}
	ASN1_BIT_STRING_free(bits);
	return ku;
}

/* Usable for TLS servers: no EKU at all, serverAuth or anyExtendedKeyUsage. */
static int server_usable(X509 *x)
{
	EXTENDED_KEY_USAGE *eku =
	    X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	int i, nid, ok = eku == NULL;

	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
		ok |= nid == NID_server_auth || nid == NID_anyExtendedKeyUsage;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return ok;
}

static ASN1_OCTET_STRING *skid_of(X509 *x)
{
	return X509_get_ext_d2i(x, NID_subject_key_identifier, NULL, NULL);
}

static int lint_key_usage(X509 *x, EVP_PKEY *pub, int is_ca)
{
	uint32_t ku = key_usage_bits(x);
	int present, crit = ext_critical(x, NID_key_usage, &present);
	int type = EVP_PKEY_get_base_id(pub);

	if (!present)
		return LINT("key usage extension is missing");
	if (is_ca && !crit)
		return LINT("key usage must be critical in a CA certificate");
	if (is_ca && !(ku & KU_KEY_CERT_SIGN))
		return LINT("CA certificate without keyCertSign");
	if (!is_ca && (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)))
		return LINT(
		    "end-entity certificate with keyCertSign or cRLSign");
	/* RFC 8813 / RFC 8410: no encipherment with EC or EdDSA keys. */
	if (type != EVP_PKEY_RSA &&
	    (ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT)))
		return LINT("key encipherment is not possible with a %s key",
			    OBJ_nid2sn(type));
	if (type != EVP_PKEY_EC && (ku & KU_KEY_AGREEMENT))
		return LINT("key agreement is not possible with a %s key",
			    OBJ_nid2sn(type));
	return CA_OK;
}

static int lint_basic_constraints(X509 *x, int is_ca)
{
	BASIC_CONSTRAINTS *bc =
	    X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	int present, crit = ext_critical(x, NID_basic_constraints, &present);
	int rc = CA_OK;

	if (is_ca) {
		if (bc == NULL || !bc->ca)
			rc = LINT(
			    "CA certificate without basicConstraints cA=TRUE");
		else if (!crit)
			rc = LINT("basicConstraints must be critical in a CA "
				  "certificate");
	} else {
		if (bc != NULL && bc->ca)
			rc = LINT("end-entity certificate with cA=TRUE");
		/* RFC 5280 4.2.1.9: pathLenConstraint only when cA is set */
		else if (bc != NULL && bc->pathlen != NULL)
			rc = LINT("pathLenConstraint without cA=TRUE");
	}
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

static int lint_key_ids(X509 *x, X509 *issuer)
{
	ASN1_OCTET_STRING *ski = skid_of(x), *iski = NULL;
	AUTHORITY_KEYID *aki =
	    X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	int rc = CA_OK;

	if (ski == NULL) {
		rc = LINT("subject key identifier is missing");
		goto out;
	}
	if (issuer == NULL)
		goto out;
	if (aki == NULL || aki->keyid == NULL) {
		rc = LINT("authority key identifier is missing");
		goto out;
	}
	iski = skid_of(issuer);
	if (iski != NULL && ASN1_OCTET_STRING_cmp(aki->keyid, iski) != 0)
		rc =
		    LINT("authority key identifier is not the issuer's subject "
			 "key identifier");
out:
	ASN1_OCTET_STRING_free(ski);
	ASN1_OCTET_STRING_free(iski);
	AUTHORITY_KEYID_free(aki);
	return rc;
}

static int lint_san(X509 *x, int leaf)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int present, crit = ext_critical(x, NID_subject_alt_name, &present);
	int i, rc = CA_OK;

	/* SANs are required of a TLS server (RFC 6125) and of a certificate
	 * with an empty subject (RFC 5280 4.2.1.6); checked when present. */
	if (gens == NULL || sk_GENERAL_NAME_num(gens) == 0) {
		/* No EKU at all means any purpose, TLS server included. */
		if (leaf && server_usable(x))
			rc = LINT("TLS server certificate without subject "
				  "alternative names");
		else if (leaf &&
			 X509_NAME_entry_count(X509_get_subject_name(x)) == 0)
			rc = LINT(
			    "certificate with neither a subject nor subject "
			    "alternative names");
		goto out;
	}
	GUARD(ca_lint_general_names(gens));
	/* RFC 5280 4.2.1.6: critical when the subject is empty. */
	if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0 && !crit) {
		rc = LINT("subjectAltName must be critical when the subject is "
			  "empty");
		goto out;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && rc == CA_OK; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		int type;
		ASN1_STRING *s = GENERAL_NAME_get0_value(g, &type);

		switch (type) {
		case GEN_DNS:
			rc = ca_san_dns_check(
			    (const char *)ASN1_STRING_get0_data(s),
			    (size_t)ASN1_STRING_length(s), 1);
			if (rc < 0)
				rc = ca_err_ctx(CA_EPOLICY,
						"lint: subjectAltName");
			break;
		case GEN_IPADD:
			if (ASN1_STRING_length(s) != 4 &&
			    ASN1_STRING_length(s) != 16)
				rc = LINT(
				    "subjectAltName IP address of %d octets",
				    ASN1_STRING_length(s));
			break;
		case GEN_EMAIL:
		case GEN_URI:
			if (ASN1_STRING_length(s) == 0 ||
			    memchr(ASN1_STRING_get0_data(s), '\0',
				   (size_t)ASN1_STRING_length(s)) != NULL)
				rc = LINT(
				    "subjectAltName %s is empty or has a NUL",
				    type == GEN_EMAIL ? "email" : "URI");
			break;
		default:
			break;
		}
	}
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static int lint_reencode(const unsigned char *tbs, size_t tbs_len, X509 *x)
{
	unsigned char *der = NULL;
	int n, rc = CA_OK;

	/* DER must re-encode to itself (no BER, no non-canonical forms);
	 * x is our private parse, so its cached encoding may be dropped. */
	n = i2d_re_X509_tbs(x, &der);
	if (n <= 0 || (size_t)n != tbs_len || memcmp(der, tbs, tbs_len) != 0)
		rc = LINT("the TBS certificate is not canonical DER");
	OPENSSL_free(der);
	return rc;
}

int ca_lint_cert(const unsigned char *tbs, size_t tbs_len,
		 const struct ca_lint *lc)
{
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;
	int is_ca = lc->kind != CA_LINT_LEAF, present;
	int rc;

	if (lc->draft != NULL)
		x = X509_up_ref(lc->draft) == 1 ? lc->draft : NULL;
	else
		GUARD(ca_tbs_parse(tbs, tbs_len, &x));
	if (x == NULL) {
		rc = ca_err(CA_EIO, "cannot lint the certificate");
		goto out;
	}
	GUARD(lint_reencode(tbs, tbs_len, x));
	if (X509_get_version(x) != X509_VERSION_3) {
		rc = LINT("certificate is not version 3");
		goto out;
	}
	GUARD(lint_serial(x));
	if (X509_NAME_entry_count(X509_get_issuer_name(x)) == 0) {
		rc = LINT("issuer name is empty");
		goto out;
	}
	if (X509_NAME_cmp(X509_get_issuer_name(x),
			  lc->issuer ? X509_get_subject_name(lc->issuer)
				     : X509_get_subject_name(x)) != 0) {
		rc = LINT("issuer name is not the issuer's subject name");
		goto out;
	}
	GUARD(ca_lint_name(X509_get_subject_name(x), "subject"));
	if (is_ca && X509_NAME_entry_count(X509_get_subject_name(x)) == 0) {
		rc = LINT("CA certificate with an empty subject");
		goto out;
	}
	GUARD(lint_time_order(x));
	pub = lc->subject_pub != NULL ? lc->subject_pub : X509_get0_pubkey(x);
	if (pub == NULL) {
		rc = LINT("subject public key does not decode");
		goto out;
	}
	if (!(lc->subject_pub_checked && pub == lc->subject_pub))
		GUARD(ca_lint_pubkey(pub, "lint: subject public key"));
	GUARD(lint_no_duplicates(x));
	GUARD(lint_basic_constraints(x, is_ca));
	GUARD(lint_key_usage(x, pub, is_ca));
	GUARD(lint_key_ids(x, lc->issuer));
	GUARD(lint_san(x, !is_ca));
	if (X509_get_ext_by_NID(x, NID_name_constraints, -1) >= 0) {
		int crit = ext_critical(x, NID_name_constraints, &present);

		if (!is_ca || !crit) {
			rc = LINT(
			    "name constraints must be critical and only in CA "
			    "certificates");
			goto out;
		}
	}
	if (lc->kind == CA_LINT_ROOT && X509_check_issued(x, x) != X509_V_OK) {
		rc = LINT("root certificate is not self-issued");
		goto out;
	}
	/* What the issuing CA's own certificate allows: name constraints,
	 * EKU, pathLen, validity (lint/issuer.h). */
	if (lc->issuer != NULL)
		GUARD(ca_lint_issuer(x, lc->issuer, is_ca));
out:
	ERR_clear_error();
	X509_free(x);
	return rc;
}

int ca_lint_tbs(struct ca_tbs *t, const struct ca_lint *lc)
{
	int rc;

	/* The kind the signer reads is the kind linted. */
	if (t->der == NULL ||
	    t->kind !=
		(lc->kind == CA_LINT_LEAF ? CA_TBS_LEAF_CERT : CA_TBS_CA_CERT))
		return ca_err(CA_EIO, "internal error: a %s linted as %s",
			      ca_tbs_kind_name(t->kind),
			      lc->kind == CA_LINT_LEAF ? "an end-entity "
							 "certificate"
						       : "a CA certificate");
	rc = ca_lint_cert(t->der, t->len, lc);
	if (rc < 0)
		return rc;
	return ca_tbs_mark(t, CA_TBS_LINTED, NULL);
}
