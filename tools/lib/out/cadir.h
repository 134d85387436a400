/* CA directory files: DIR/ca.crt, DIR/chain.pem (absent for a root),
 * DIR/ca.json (configuration), DIR/ca.db (state store and audit log);
 * paths, ca.json, and building a new directory (issue/ca.h opens one). */
#ifndef HSMCA_OUT_CADIR_H
#define HSMCA_OUT_CADIR_H

#include <jansson.h>

#include "common/err.h"

/* Path of a file inside the CA directory (malloc'd). */
char *ca_dir_file(const char *dir, const char *name);
/* Validate a ca.json object against its schema: unknown keys, missing
 * keys and values of the wrong type or syntax are refused, naming the key
 * (CA_EUSAGE). */
int ca_config_check(json_t *config, const char *path) CA_WUR;
/* The CA directory and its files (ca.json, ca.crt, chain.pem, ca.db and
 * its journal, quorum.json) are the running user's and writable by nobody
 * else; else CA_EPOLICY with the chmod/chown that fixes it. */
int ca_dir_check_owner(const char *dir) CA_WUR;
/* Read and check DIR/ca.json. */
int ca_config_load(const char *dir, json_t **config) CA_WUR;
/* Where the CA's state store is (malloc'd): the PostgreSQL connection
 * string ca.json names ("store"), else DIR/ca.db. */
int ca_dir_store_where(const char *dir, const json_t *config,
		       char **where) CA_WUR;
/* Replace DIR/ca.json with config (keys sorted, indented); *text gets the
 * bytes written (malloc'd, also on failure after encoding). */
int ca_config_write(const char *dir, json_t *config, char **text) CA_WUR;

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
