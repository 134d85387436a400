#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "cert.h"

int ca_validity_days(long days, time_t *not_before, time_t *not_after)
{
	time_t now = time(NULL);

	if (days < 1 || days > CA_MAX_DAYS)
		return ca_err(CA_EUSAGE, "--days %ld is out of range (1 to %d)", days,
			      CA_MAX_DAYS);
	*not_before = now;
	*not_after = now + (time_t)days * 86400;
	return CA_OK;
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
	    X509_set_pubkey(x, spec->pub) != 1) {
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
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		int n;

		if (s == NULL || strchr(s, ',') != NULL || s[0] == '\0')
			return ca_err(CA_EUSAGE, "bad value '%s' (empty or with a comma)",
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
	char buf[2048];
	size_t i;
	json_t *v;
	int rc;

	if (json_array_size(policies) == 0)
		return CA_OK;
	json_array_foreach(policies, i, v) {
		ASN1_OBJECT *o = OBJ_txt2obj(json_string_value(v), 1);

		if (o == NULL) {
			ERR_clear_error();
			return ca_err(CA_EUSAGE, "policy '%s' is not a dotted OID",
				      json_string_value(v) ? json_string_value(v) : "?");
		}
		ASN1_OBJECT_free(o);
	}
	rc = join(policies, "", buf, sizeof(buf));
	if (rc < 0)
		return rc;
	return ca_x509_add_ext(x, NULL, NID_certificate_policies, buf);
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
		return ca_x509_add_ext(x, NULL, NID_subject_key_identifier, "hash");
	/* Cross-certificates keep the original SKI (same key, same id). */
	ok = X509_add1_ext_i2d(x, NID_subject_key_identifier,
			       (ASN1_OCTET_STRING *)ski, 0, X509V3_ADD_DEFAULT);
	return ok == 1 ? CA_OK : ca_err(CA_EIO, "cannot add the subject key identifier");
}

int ca_profile_add_aki(X509 *x, X509 *issuer)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *iski = X509_get0_subject_key_id(issuer ? issuer : x);
	int ok = 0;

	/* RFC 5280 4.2.1.1: keyIdentifier = the issuer's SKI. */
	if (akid != NULL && iski != NULL) {
		akid->keyid = ASN1_OCTET_STRING_dup(iski);
		ok = akid->keyid != NULL &&
		     X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0,
				       X509V3_ADD_DEFAULT) == 1;
	}
	AUTHORITY_KEYID_free(akid);
	return ok ? CA_OK
		  : ca_err(CA_EIO, "cannot add the authority key identifier");
}

int ca_profile_root(const struct ca_cert_spec *spec, X509 **out)
{
	char bc[64];
	X509 *x = NULL;
	int rc;

	*out = NULL;
	GUARD(ca_profile_base(spec, NULL, &x));
	if (spec->pathlen >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", spec->pathlen);
	else
		snprintf(bc, sizeof(bc), "critical,CA:TRUE");
	GUARD(ca_x509_add_ext(x, NULL, NID_basic_constraints, bc));
	GUARD(ca_x509_add_ext(x, NULL, NID_key_usage,
			      "critical,keyCertSign,cRLSign,digitalSignature"));
	GUARD(ca_profile_add_ski(x, spec->ski));
	GUARD(ca_profile_add_aki(x, NULL));
	GUARD(ca_profile_add_policies(x, spec->policies));
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return rc;
}
