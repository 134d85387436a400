/* The CA an action acts for: its directory opened (ca.json, ca.crt,
 * chain.pem, ca.db) and, when it signs, its token key. */
#ifndef HSMCA_ISSUE_CA_H
#define HSMCA_ISSUE_CA_H

#include <jansson.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "quorum/twophase.h"
#include "sign/anchor.h"
#include "sign/signer.h"
#include "store/store.h"

struct ca_dir {
	char *path;
	json_t *config;		  /* ca.json */
	X509 *cert;		  /* ca.crt */
	STACK_OF(X509) * chain;	  /* chain.pem, empty for a root */
	ca_store *store;	  /* ca.db */
	struct ca_signer *signer; /* after ca_dir_signer() */
	struct ca_anchor *anchor; /* after ca_dir_signer(), NULL unanchored */
};

/* Where DIR's state store is (ca_dir_store_where; config NULL: DIR's
 * ca.json is read), with ca.json's store_password_source made the
 * store's password source (ca_store_password_source). */
int ca_dir_store_find(const char *dir, const json_t *config,
		      char **where) CA_WUR;
/* Open an existing CA directory (config, certificate, chain, store). */
int ca_dir_open(const char *path, struct ca_dir **out) CA_WUR;
/* The same for a report that reads the store alone: ca.crt and chain.pem
 * are not read (cert NULL, chain NULL). */
int ca_dir_open_report(const char *path, struct ca_dir **out) CA_WUR;
/* The same with another state store than DIR/ca.db (a backup). */
int ca_dir_open_store(const char *path, const char *db,
		      struct ca_dir **out) CA_WUR;
void ca_dir_free(struct ca_dir *d);
/* Open the CA's token key (PIN from pin_source) and check it is the key of
 * ca.crt; then check the store (ca_dir_check_store) and against the
 * token anchor (sign/anchor.h), refusing (CA_EPOLICY) what does not
 * match, and anchor every later commit. A directory made with
 * --unanchored ("anchor": "none" in ca.json) is checked only when its key
 * has no anchor (else refused). With a pinned quorum the signer is
 * marked quorum-protected. */
int ca_dir_signer(struct ca_dir *d, const char *pin_source) CA_WUR;
/* Before a state change: PRAGMA quick_check and the whole audit chain
 * (a store over 256 MiB: the last 1,024 audit entries; the anchor vouches
 * for the head); CA_EPOLICY naming the damage. */
int ca_dir_check_store(struct ca_dir *d) CA_WUR;
/* Configuration accessors. */
/* The CA's key as an approval request names it. */
/* Certificate rows an earlier hsmca-audit migrate left without their SPKI
 * hash (store/repair.h) get it back from their certificates, in one
 * transaction with a "repair" audit entry; nothing to do (one row read)
 * for any other store. For a tool about to look keys up, once
 * ca_dir_signer has checked the store against its anchor. */
int ca_dir_repair(struct ca_dir *d) CA_WUR;
struct ca_tp_key ca_dir_tp_key(const struct ca_dir *d);
const char *ca_dir_key_uri(const struct ca_dir *d);
json_t *ca_dir_urls(const struct ca_dir *d,
		    const char *key); /* borrowed array */
/* ca.json "signature_algorithm" (rsa-pkcs1, rsa-pss; absent: the key
 * type's default). */
enum ca_sigalg ca_dir_sigalg(const struct ca_dir *d);

#endif
