/* Creating CA directories: a self-signed root, or a subordinate CA whose
 * certificate was signed elsewhere. Everything is staged in a sibling
 * directory and renamed into place, so a failure leaves nothing behind. */
#ifndef HSMCA_ISSUE_INITCA_H
#define HSMCA_ISSUE_INITCA_H

#include <jansson.h>

#include "common/err.h"
#include "quorum/twophase.h"
#include "x509/algid.h"

struct ca_init_params {
	const char *dir;
	const char *key_uri;
	const char *pin_source;
	const char *subject; /* --self-sign */
	long days;	     /* --self-sign */
	int pathlen;	     /* -1: none */
	json_t *crl_urls;    /* for certificates this CA issues */
	json_t *aia_urls;
	json_t *policies;      /* root: in the root certificate too */
	const char *lint_cert; /* --lint-cert FILE */
	int force;	       /* for --lint-cert and --prepare only */
	const char *cert;      /* --cert: subordinate CA certificate */
	const char *chain;     /* --chain: its issuers up to the root */
	enum ca_sigalg sigalg; /* --sig-alg: recorded in ca.json */
	struct ca_twophase tp; /* --quorum, --prepare, --request, --approval */
	int unanchored;	       /* --unanchored: no token anchor */
	const char *store;     /* --store: a PostgreSQL database, or NULL */
	const char *store_password_source; /* its password's source, or NULL */
};

struct ca_init_result {
	char serial[80];
	char cert_sha256[65];
	char spki_sha256[65];
	char key_uri[1024];
	char subject[1024];
	char not_after[32];
	int prepared; /* wrote an approval request only */
};

/* --self-sign: a root CA (with --quorum: two-phase, see quorum/twophase.h). */
int ca_init_root(const struct ca_init_params *p,
		 struct ca_init_result *res) CA_WUR;
/* --cert/--chain: a subordinate CA certified elsewhere. */
int ca_init_sub(const struct ca_init_params *p,
		struct ca_init_result *res) CA_WUR;

#endif
