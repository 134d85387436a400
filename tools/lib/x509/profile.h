/* Certificate profiles: what goes into root, subordinate CA and end-entity
 * certificates. Builders produce an X509 whose TBS the caller encodes with
 * ca_x509_tbs(). */
#ifndef HSMCA_X509_PROFILE_H
#define HSMCA_X509_PROFILE_H

#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/err.h"

struct ca_cert_spec {
	X509_NAME *subject;
	EVP_PKEY *pub;	   /* subject public key */
	X509_PUBKEY *spki; /* the same as encoded (e.g. from a CSR), or
			    * NULL: copied as is, without re-encoding */
	ASN1_INTEGER *serial;
	time_t not_before, not_after;
	int pathlen;	  /* -1: no pathLenConstraint */
	json_t *policies; /* array of dotted OIDs, may be NULL */
	json_t *crl_urls; /* array of URLs for CDP, may be NULL */
	json_t *aia_urls; /* array of caIssuers URLs, may be NULL */
	json_t *ekus;	  /* array of EKU names/OIDs, may be NULL */
	const ASN1_OCTET_STRING
	    *ski; /* keep this SKI (cross-signing), or NULL */
};

/* Self-signed root: basicConstraints critical CA:TRUE [pathlen],
 * keyUsage critical keyCertSign, cRLSign, digitalSignature, SKI, AKI,
 * optional certificate policies; no EKU. */
int ca_profile_root(const struct ca_cert_spec *spec, X509 **out) CA_WUR;

/* Helpers shared by the builders. */
int ca_profile_base(const struct ca_cert_spec *spec, const X509_NAME *issuer,
		    X509 **out) CA_WUR;
int ca_profile_add_policies(X509 *x, json_t *policies) CA_WUR;
int ca_profile_add_urls(X509 *x, json_t *crl_urls, json_t *aia_urls) CA_WUR;
int ca_profile_add_ski(X509 *x, const ASN1_OCTET_STRING *ski) CA_WUR;
int ca_profile_add_aki(X509 *x, X509 *issuer) CA_WUR;

/* Validity from --days: now .. now + days (1 to CA_MAX_DAYS). */
int ca_validity_days(long days, time_t *not_before, time_t *not_after) CA_WUR;
/* Validity from --days clamped inside the issuer's validity; refused
 * (CA_EPOLICY) when less than a day remains or the issuer is not valid
 * now. *clamped is set when notAfter was pulled in. */
int ca_validity_clamp(X509 *issuer, long days, time_t *not_before,
		      time_t *not_after, int *clamped) CA_WUR;

/* Extended key usage by name: SPEC / serverless-CA names
 * (TLS_WEB_SERVER_AUTHENTICATION, CODE_SIGNING, ...), OpenSSL short names
 * (serverAuth, clientAuth, ...) or dotted OIDs. NULL when unknown. */
ASN1_OBJECT *ca_eku_parse(const char *name);
/* Add an EKU extension (non-critical) for a JSON array of names. */
int ca_profile_add_ekus(X509 *x, json_t *ekus) CA_WUR;

struct ca_name_constraints {
	json_t *permit_dns, *exclude_dns; /* "example.com" */
	json_t *permit_ip, *exclude_ip; /* CIDR "10.0.0.0/8", "2001:db8::/32" */
	json_t *permit_email,
	    *exclude_email;		  /* "example.com", "a@example.com" */
	json_t *permit_uri, *exclude_uri; /* "example.com", ".example.com" */
};
/* Critical nameConstraints (RFC 5280 4.2.1.10); nothing when all empty. */
int ca_profile_add_name_constraints(
    X509 *x, const struct ca_name_constraints *nc) CA_WUR;

/* Subordinate CA: basicConstraints critical CA:TRUE [pathlen], keyUsage
 * critical keyCertSign, cRLSign, digitalSignature, SKI (spec->ski or from
 * the key), AKI from issuer, name constraints, policies, optional EKU, CDP
 * and AIA. */
int ca_profile_subca(const struct ca_cert_spec *spec, X509 *issuer,
		     const struct ca_name_constraints *nc, X509 **out) CA_WUR;

#endif
