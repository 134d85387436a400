#include "x509/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/number.h"

#include "x509/cert.h"
#include "x509/san.h"
#include "x509/spki.h"

int ca_validity_days(long days, time_t *not_before, time_t *not_after)
{
	time_t now = time(NULL);

	if (days < 1 || days > CA_MAX_DAYS)
		return ca_err(CA_EUSAGE, "--days %ld is out of range (1 to %d)",
			      days, CA_MAX_DAYS);
	*not_before = now;
	*not_after = now + (time_t)days * 86400;
	return CA_OK;
}

/* Copy an encoded SubjectPublicKeyInfo (OpenSSL 3.0 would otherwise run
 * its encoder framework for every certificate). */
static int copy_spki(X509 *x, X509_PUBKEY *from)
{
	const unsigned char *pk;
	X509_ALGOR *alg;
	int pklen;

	return X509_PUBKEY_get0_param(NULL, &pk, &pklen, &alg, from) == 1 &&
	       ca_x509_pubkey_copy(X509_get_X509_PUBKEY(x), alg, pk, pklen) ==
		   CA_OK;
}

int ca_profile_base(const struct ca_cert_spec *spec, const X509_NAME *issuer,
		    X509 **out)
{
	X509 *x = X509_new();
	int rc = CA_EIO;

	*out = NULL;
	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, spec->serial) != 1 ||
	    X509_set_subject_name(x, spec->subject) != 1 ||
	    X509_set_issuer_name(x, issuer ? issuer : spec->subject) != 1 ||
	    (spec->spki != NULL ? copy_spki(x, spec->spki) != 1
				: X509_set_pubkey(x, spec->pub) != 1)) {
		rc = ca_err(CA_EIO, "cannot build the certificate");
		goto out;
	}
	rc = ca_x509_set_validity(x, spec->not_before, spec->not_after);
	if (rc < 0)
		goto out;
	*out = x;
	x = NULL;
out:
	ERR_clear_error();
	X509_free(x);
	return rc;
}

/* Join a JSON array of strings as "PREFIXa,PREFIXb" for OpenSSL's config
 * syntax. Values holding ',' are refused (they would split). */
static int join(json_t *arr, const char *prefix, char *out, size_t len)
{
	size_t i, used = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		int n;

		if (s == NULL || strchr(s, ',') != NULL || s[0] == '\0')
			return ca_err(CA_EUSAGE,
				      "bad value '%s' (empty or with a comma)",
				      s ? s : "(not a string)");
		n = snprintf(out + used, len - used, "%s%s%s", used ? "," : "",
			     prefix, s);
		if (n < 0 || (size_t)n >= len - used)
			return ca_err(CA_EUSAGE, "too many values");
		used += (size_t)n;
	}
	return CA_OK;
}

int ca_profile_add_policies(X509 *x, json_t *policies)
{
	CERTIFICATEPOLICIES *cp = NULL;
	size_t i;
	json_t *v;
	int rc = CA_OK;

	if (json_array_size(policies) == 0)
		return CA_OK;
	cp = sk_POLICYINFO_new_null();
	if (cp == NULL)
		return ca_err(CA_EIO, "out of memory");
	json_array_foreach(policies, i, v)
	{
		const char *oid = json_string_value(v);
		POLICYINFO *pi = POLICYINFO_new();
		ASN1_OBJECT *o =
		    ca_oid_syntax_ok(oid) ? OBJ_txt2obj(oid, 1) : NULL;

		if (o == NULL || pi == NULL) {
			ERR_clear_error();
			POLICYINFO_free(pi);
			rc =
			    ca_err(CA_EUSAGE, "policy '%s' is not a dotted OID",
				   oid ? oid : "?");
			goto out;
		}
		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = o;
		if (!sk_POLICYINFO_push(cp, pi)) {
			POLICYINFO_free(pi);
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
	}
	if (X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0,
			      X509V3_ADD_DEFAULT) != 1)
		rc = ca_err(CA_EIO, "cannot add the certificate policies");
out:
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return rc;
}

int ca_profile_add_urls(X509 *x, json_t *crl_urls, json_t *aia_urls)
{
	char buf[4096];
	int rc;

	if (json_array_size(crl_urls) > 0) {
		rc = join(crl_urls, "URI:", buf, sizeof(buf));
		if (rc < 0)
			return rc;
		rc = ca_x509_add_ext(x, NULL, NID_crl_distribution_points, buf);
		if (rc < 0)
			return rc;
	}
	if (json_array_size(aia_urls) > 0) {
		rc = join(aia_urls, "caIssuers;URI:", buf, sizeof(buf));
		if (rc < 0)
			return rc;
		rc = ca_x509_add_ext(x, NULL, NID_info_access, buf);
		if (rc < 0)
			return rc;
	}
	return CA_OK;
}

int ca_profile_add_ski(X509 *x, const ASN1_OCTET_STRING *ski)
{
	int ok;

	if (ski == NULL)
		return ca_x509_add_ext(x, NULL, NID_subject_key_identifier,
				       "hash");
	/* Cross-certificates keep the original SKI (same key, same id). */
	ok = X509_add1_ext_i2d(x, NID_subject_key_identifier,
			       (ASN1_OCTET_STRING *)ski, 0, X509V3_ADD_DEFAULT);
	return ok == 1
		   ? CA_OK
		   : ca_err(CA_EIO, "cannot add the subject key identifier");
}

int ca_profile_add_aki(X509 *x, X509 *issuer)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	/* Read the extension itself: the cached key id of a certificate
	 * being built is stale. */
	ASN1_OCTET_STRING *iski = X509_get_ext_d2i(
	    issuer ? issuer : x, NID_subject_key_identifier, NULL, NULL);
	int ok = 0;

	/* RFC 5280 4.2.1.1: keyIdentifier = the issuer's SKI. */
	if (akid != NULL && iski != NULL) {
		akid->keyid = iski;
		iski = NULL;
		ok = X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
				       X509V3_ADD_DEFAULT) == 1;
	}
	ASN1_OCTET_STRING_free(iski);
	AUTHORITY_KEYID_free(akid);
	return ok ? CA_OK
		  : ca_err(CA_EIO, "cannot add the authority key identifier");
}

/* What every CA certificate carries first: basicConstraints, key usage and
 * its subject key identifier. */
static int add_ca_basics(X509 *x, const struct ca_cert_spec *spec)
{
	char bc[64];
	int rc;

	if (spec->pathlen >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d",
			 spec->pathlen);
	else
		snprintf(bc, sizeof(bc), "critical,CA:TRUE");
	GUARD(ca_x509_add_ext(x, NULL, NID_basic_constraints, bc));
	GUARD(ca_x509_add_ext(x, NULL, NID_key_usage,
			      "critical,keyCertSign,cRLSign,digitalSignature"));
	GUARD(ca_profile_add_ski(x, spec->ski));
out:
	return rc;
}

int ca_profile_root(const struct ca_cert_spec *spec, X509 **out)
{
	X509 *x = NULL;
	int rc;

	*out = NULL;
	GUARD(ca_profile_base(spec, NULL, &x));
	GUARD(add_ca_basics(x, spec));
	GUARD(ca_profile_add_aki(x, NULL));
	GUARD(ca_profile_add_policies(x, spec->policies));
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return rc;
}

int ca_validity_clamp(X509 *issuer, long days, time_t *not_before,
		      time_t *not_after, int *clamped)
{
	time_t inb, ina;
	int rc;

	*clamped = 0;
	rc = ca_validity_days(days, not_before, not_after);
	if (rc < 0)
		return rc;
	GUARD(ca_asn1_time(X509_get0_notBefore(issuer), &inb));
	GUARD(ca_asn1_time(X509_get0_notAfter(issuer), &ina));
	if (*not_before < inb)
		return ca_err(CA_EPOLICY,
			      "the issuer is not valid yet (notBefore %ld)",
			      (long)inb);
	if (*not_after > ina) {
		*not_after = ina;
		*clamped = 1;
	}
	/* Clamped to a day or less: the issuer is about to expire. */
	if (*clamped && *not_after - *not_before <= 86400)
		return ca_err(
		    CA_EPOLICY,
		    "validity cannot fit inside the issuer's: the issuer "
		    "expires within a day");
out:
	return rc;
}

static const struct {
	const char *name;
	int nid;
} eku_names[] = {
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
    {"clientAuth", NID_client_auth},
    {"codeSigning", NID_code_sign},
    {"emailProtection", NID_email_protect},
    {"timeStamping", NID_time_stamp},
    {"OCSPSigning", NID_OCSP_sign},
};

ASN1_OBJECT *ca_eku_parse(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return NULL;
	for (i = 0; i < sizeof(eku_names) / sizeof(eku_names[0]); i++)
		if (strcmp(eku_names[i].name, name) == 0)
			return OBJ_nid2obj(eku_names[i].nid);
	/* Dotted OIDs only: no other OpenSSL names. */
	if (!ca_oid_syntax_ok(name))
		return NULL;
	return OBJ_txt2obj(name, 1);
}

int ca_profile_add_ekus(X509 *x, json_t *ekus)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	size_t i;
	json_t *v;
	int rc = CA_OK;

	if (json_array_size(ekus) == 0)
		return CA_OK;
	eku = sk_ASN1_OBJECT_new_null();
	if (eku == NULL)
		return ca_err(CA_EIO, "out of memory");
	json_array_foreach(ekus, i, v)
	{
		ASN1_OBJECT *o = ca_eku_parse(json_string_value(v));
		int j, dup = 0;

		if (o == NULL) {
			ERR_clear_error();
			rc = ca_err(
			    CA_EUSAGE, "unknown extended key usage '%s'",
			    json_string_value(v) ? json_string_value(v) : "?");
			goto out;
		}
		for (j = 0; j < sk_ASN1_OBJECT_num(eku); j++)
			dup |= OBJ_cmp(o, sk_ASN1_OBJECT_value(eku, j)) == 0;
		if (dup || !sk_ASN1_OBJECT_push(eku, o))
			ASN1_OBJECT_free(o);
	}
	if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0,
			      X509V3_ADD_DEFAULT) != 1)
		rc = ca_err(CA_EIO, "cannot add the extended key usage");
out:
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return rc;
}

/* An IP subtree: address || mask (RFC 5280 4.2.1.10) from CIDR. */
static int ip_subtree(const char *cidr, ASN1_OCTET_STRING **out)
{
	char addr[64];
	unsigned char buf[32];
	const char *slash = strchr(cidr, '/');
	ASN1_OCTET_STRING *ip = NULL;
	long bits;
	int n, i, rc;

	*out = NULL;
	if (slash == NULL || (size_t)(slash - cidr) >= sizeof(addr))
		return ca_err(CA_EUSAGE,
			      "IP range '%s' is not in CIDR form "
			      "(10.0.0.0/8, 2001:db8::/32)",
			      cidr);
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	ip = a2i_IPADDRESS(addr);
	if (ip == NULL) {
		ERR_clear_error();
		return ca_err(CA_EUSAGE,
			      "IP range '%s': '%s' is not an address", cidr,
			      addr);
	}
	n = ASN1_STRING_length(ip);
	rc = ca_parse_long(slash + 1, 0, n * 8, "IP prefix length", &bits);
	if (rc < 0) {
		ASN1_OCTET_STRING_free(ip);
		return ca_err(CA_EUSAGE, "IP range '%s': bad prefix length",
			      cidr);
	}
	memcpy(buf, ASN1_STRING_get0_data(ip), (size_t)n);
	for (i = 0; i < n; i++) {
		int b = (int)bits - 8 * i;
		unsigned char m = b >= 8   ? 0xff
				  : b <= 0 ? 0
					   : (unsigned char)(0xff << (8 - b));

		if (buf[i] & ~m) {
			ASN1_OCTET_STRING_free(ip);
			return ca_err(CA_EUSAGE,
				      "IP range '%s' has host bits set", cidr);
		}
		buf[n + i] = m;
	}
	if (ASN1_OCTET_STRING_set(ip, buf, 2 * n) != 1) {
		ASN1_OCTET_STRING_free(ip);
		return ca_err(CA_EIO, "out of memory");
	}
	*out = ip;
	return CA_OK;
}

static int subtree_value(int type, const char *v, GENERAL_NAME **out)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ip = NULL;
	ASN1_IA5STRING *s = NULL;
	int rc = CA_OK;

	*out = NULL;
	if (g == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (v == NULL || v[0] == '\0' || strlen(v) > 253) {
		rc = ca_err(CA_EUSAGE, "empty or too long name constraint");
		goto out;
	}
	if (type == GEN_IPADD) {
		rc = ip_subtree(v, &ip);
		if (rc < 0)
			goto out;
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		goto out;
	}
	if (type == GEN_DNS) {
		rc = ca_san_dns_check(v[0] == '.' ? v + 1 : v,
				      strlen(v[0] == '.' ? v + 1 : v), 0);
		if (rc < 0) {
			rc = ca_err_ctx(CA_EUSAGE, "DNS name constraint");
			goto out;
		}
	}
	s = ASN1_IA5STRING_new();
	if (s == NULL || ASN1_STRING_set(s, v, (int)strlen(v)) != 1) {
		ASN1_IA5STRING_free(s);
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GENERAL_NAME_set0_value(g, type, s);
out:
	if (rc < 0)
		GENERAL_NAME_free(g);
	else
		*out = g;
	return rc;
}

static int add_subtrees(STACK_OF(GENERAL_SUBTREE) * *sk, int type,
			json_t *values)
{
	size_t i;
	json_t *v;
	int rc;

	json_array_foreach(values, i, v)
	{
		GENERAL_SUBTREE *t = GENERAL_SUBTREE_new();
		GENERAL_NAME *g = NULL;

		if (t == NULL)
			return ca_err(CA_EIO, "out of memory");
		rc = subtree_value(type, json_string_value(v), &g);
		if (rc < 0) {
			GENERAL_SUBTREE_free(t);
			return rc;
		}
		GENERAL_NAME_free(t->base);
		t->base = g;
		if ((*sk == NULL &&
		     (*sk = sk_GENERAL_SUBTREE_new_null()) == NULL) ||
		    !sk_GENERAL_SUBTREE_push(*sk, t)) {
			GENERAL_SUBTREE_free(t);
			return ca_err(CA_EIO, "out of memory");
		}
	}
	return CA_OK;
}

int ca_profile_add_name_constraints(X509 *x,
				    const struct ca_name_constraints *nc)
{
	NAME_CONSTRAINTS *c = NAME_CONSTRAINTS_new();
	int rc;

	if (c == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(add_subtrees(&c->permittedSubtrees, GEN_DNS, nc->permit_dns));
	GUARD(add_subtrees(&c->permittedSubtrees, GEN_IPADD, nc->permit_ip));
	GUARD(add_subtrees(&c->permittedSubtrees, GEN_EMAIL, nc->permit_email));
	GUARD(add_subtrees(&c->permittedSubtrees, GEN_URI, nc->permit_uri));
	GUARD(add_subtrees(&c->excludedSubtrees, GEN_DNS, nc->exclude_dns));
	GUARD(add_subtrees(&c->excludedSubtrees, GEN_IPADD, nc->exclude_ip));
	GUARD(add_subtrees(&c->excludedSubtrees, GEN_EMAIL, nc->exclude_email));
	GUARD(add_subtrees(&c->excludedSubtrees, GEN_URI, nc->exclude_uri));
	if (c->permittedSubtrees == NULL && c->excludedSubtrees == NULL)
		goto out;
	/* RFC 5280 4.2.1.10: conforming CAs MUST mark this critical. */
	if (X509_add1_ext_i2d(x, NID_name_constraints, c, 1,
			      X509V3_ADD_DEFAULT) != 1)
		rc = ca_err(CA_EIO, "cannot add the name constraints");
out:
	NAME_CONSTRAINTS_free(c);
	return rc;
}

int ca_profile_subca(const struct ca_cert_spec *spec, X509 *issuer,
		     const struct ca_name_constraints *nc, X509 **out)
{
	X509 *x = NULL;
	int rc;

	*out = NULL;
	GUARD(ca_profile_base(spec, X509_get_subject_name(issuer), &x));
	GUARD(add_ca_basics(x, spec));
	GUARD(ca_profile_add_aki(x, issuer));
	if (nc != NULL)
		GUARD(ca_profile_add_name_constraints(x, nc));
	GUARD(ca_profile_add_policies(x, spec->policies));
	GUARD(ca_profile_add_ekus(x, spec->ekus));
	GUARD(ca_profile_add_urls(x, spec->crl_urls, spec->aia_urls));
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return rc;
}
