/* End-entity profiles and the names that go into leaf certificates. */
#ifndef HSMCA_LEAFPROF_H
#define HSMCA_LEAFPROF_H

#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "input/requests.h"

#define CA_SANT_DNS (1u << CA_SAN_DNS)
#define CA_SANT_IP (1u << CA_SAN_IP)
#define CA_SANT_EMAIL (1u << CA_SAN_EMAIL)
#define CA_SANT_URI (1u << CA_SAN_URI)
#define CA_SANT_ALL (CA_SANT_DNS | CA_SANT_IP | CA_SANT_EMAIL | CA_SANT_URI)

struct ca_leaf_profile {
	char name[64];
	const char *ekus[12];   /* EKU names (see ca_eku_parse) */
	int n_ekus;
	json_t *custom_ekus;    /* custom profile: allowed EKUs (array) or NULL */
	unsigned key_usage;     /* KU_* bits; 0: follow the key type */
	long max_days;
	long default_days;
	unsigned san_types;     /* CA_SANT_* allowed */
	int ocsp_nocheck;       /* id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1) */
	int passthrough;        /* csr-passthrough: SAN/KU/EKU from the CSR */
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

/* SAN list -> GENERAL_NAMES, each value validated (DNS syntax and wildcard
 * rules, IPv4/IPv6 literals, mailbox syntax, absolute URIs, lengths, no NUL,
 * allowed by the profile). Invalid: CA_EPOLICY naming the value. */
int ca_sans_encode(const struct ca_san *sans, size_t n, unsigned allowed,
		   GENERAL_NAMES **out) CA_WUR;
/* The CSR's subjectAltName as ca_san values (NUL bytes refused). */
int ca_csr_sans(X509_REQ *req, struct ca_san **sans, size_t *n) CA_WUR;
void ca_sans_free(struct ca_san *sans, size_t n);
/* A CSR asking for cA=TRUE is refused (CA_EPOLICY). */
int ca_csr_refuse_ca(X509_REQ *req, const char *what) CA_WUR;

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
