/* Signing subordinate CA certificates and cross-certificates. */
#ifndef HSMCA_ISSUE_SUBCA_H
#define HSMCA_ISSUE_SUBCA_H

#include <jansson.h>

#include "common/err.h"
#include "quorum/twophase.h"
#include "x509/profile.h"

struct ca_subca_params {
	const char *csr;	/* --csr (or cross_sign) */
	const char *cross_sign; /* --cross-sign CERT */
	const char *subject;	/* --subject, overrides the CSR's */
	long days;
	int pathlen; /* -1: issuer's minus one, or none */
	struct ca_name_constraints nc;
	json_t *policies, *ekus, *crl_urls, *aia_urls; /* empty: CA config */
	const char *out;
	const char *lint_cert;
	const char *pin_source;
	int force;
	struct ca_twophase tp;
};

struct ca_subca_result {
	char serial[80];
	char subject[1024];
	char not_after[32];
	char cert_sha256[65];
	int clamped;
	int prepared; /* wrote an approval request, signed nothing */
	/* The request was executed already (a run stopped after the commit):
	 * 1: the output written from the store, 2: the output held it. */
	int resumed;
};

int ca_subca_sign(const char *dir, const struct ca_subca_params *p,
		  struct ca_subca_result *res) CA_WUR;

#endif
