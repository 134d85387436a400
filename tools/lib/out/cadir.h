/* CA directories: DIR/ca.crt, DIR/chain.pem (absent for a root),
 * DIR/ca.json (configuration), DIR/ca.db (state store and audit log). */
#ifndef HSMCA_CADIR_H
#define HSMCA_CADIR_H

#include <jansson.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "sign/signer.h"
#include "store/store.h"

struct ca_dir {
	char *path;
	json_t *config;         /* ca.json */
	X509 *cert;             /* ca.crt */
	STACK_OF(X509) *chain;  /* chain.pem, empty for a root */
	ca_store *store;        /* ca.db */
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
json_t *ca_dir_urls(const struct ca_dir *d, const char *key); /* borrowed array */
/* Path of a file inside the CA directory (malloc'd). */
char *ca_dir_file(const char *dir, const char *name);
/* Validate a ca.json object (unknown keys refused). */
int ca_config_check(json_t *config, const char *path) CA_WUR;

/* A CA directory under construction: everything is written into a fresh
 * sibling directory which is renamed into place at the end, so a failure
 * leaves nothing behind. */
struct ca_stage {
	char *final;
	char *tmp;
};
int ca_stage_begin(const char *path, struct ca_stage *st) CA_WUR;
int ca_stage_publish(struct ca_stage *st) CA_WUR;
void ca_stage_discard(struct ca_stage *st);

#endif
