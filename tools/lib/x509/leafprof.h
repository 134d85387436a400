/* End-entity profiles: built-in and ca.json "profiles", the key usage
 * they give, and the subject a leaf carries. */
#ifndef HSMCA_X509_LEAFPROF_H
#define HSMCA_X509_LEAFPROF_H

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"

struct ca_leaf_profile {
	char name[64];
	const char *ekus[12]; /* EKU names (see ca_eku_parse) */
	int n_ekus;
	json_t *custom_ekus; /* custom profile: allowed EKUs (array) or NULL */
	unsigned key_usage;  /* KU_* bits; 0: follow the key type */
	long max_days;
	long default_days;
	unsigned san_types; /* CA_SANT_* allowed */
	int ocsp_nocheck;   /* id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1) */
	int passthrough;    /* csr-passthrough: SAN/KU/EKU from the CSR */
};

/* Built-in profiles (server, client, server-client, code-signing, email,
 * ocsp-signing, csr-passthrough) or a custom one from ca.json "profiles":
 *   "profiles": { "NAME": { "ekus": [...], "key_usage": [...],
 *                 "max_days": N, "default_days": N,
 *                 "san_types": ["dns", "ip", "email", "uri"] } }
 * Unknown profile: CA_EUSAGE. Bad custom profile: CA_EUSAGE naming it. */
int ca_leaf_profile_find(json_t *config, const char *name,
			 struct ca_leaf_profile *out) CA_WUR;

/* Key usage for a leaf: the profile's, or by key type (RSA:
 * digitalSignature + keyEncipherment; EC, Ed25519: digitalSignature). */
unsigned ca_leaf_key_usage(const struct ca_leaf_profile *p, EVP_PKEY *pub);

/* Subject fields that override the CSR's (NULL: keep). */
struct ca_subject_override {
	const char *cn, *country, *state, *locality, *organization,
	    *organizational_unit, *email_address;
};
/* The leaf subject: the CSR's, with overrides applied per attribute type;
 * CN over 64 characters refused (RFC 5280 ub-common-name). */
int ca_leaf_subject(X509_REQ *req, const struct ca_subject_override *ov,
		    X509_NAME **out) CA_WUR;

#endif
