/* The CA an action acts for: its directory opened (ca.json, ca.crt,
 * chain.pem, ca.db) and, when it signs, its token key. */
#ifndef HSMCA_ISSUE_CA_H
#define HSMCA_ISSUE_CA_H

#include <jansson.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "sign/signer.h"
#include "store/store.h"

struct ca_dir {
	char *path;
	json_t *config;		  /* ca.json */
	X509 *cert;		  /* ca.crt */
	STACK_OF(X509) * chain;	  /* chain.pem, empty for a root */
	ca_store *store;	  /* ca.db */
	struct ca_signer *signer; /* after ca_dir_signer() */
};

/* Open an existing CA directory (config, certificate, chain, store). */
int ca_dir_open(const char *path, struct ca_dir **out) CA_WUR;
void ca_dir_free(struct ca_dir *d);
/* Open the CA's token key (PIN from pin_source) and check it is the key of
 * ca.crt. */
int ca_dir_signer(struct ca_dir *d, const char *pin_source) CA_WUR;
/* Configuration accessors. */
const char *ca_dir_key_uri(const struct ca_dir *d);
json_t *ca_dir_urls(const struct ca_dir *d,
		    const char *key); /* borrowed array */
/* ca.json "signature_algorithm" (rsa-pkcs1, rsa-pss; absent: the key
 * type's default). */
enum ca_sigalg ca_dir_sigalg(const struct ca_dir *d);

#endif
