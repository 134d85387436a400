/* Writing a quorum file (hsmca-two-person-approve quorum init|add): the
 * people who approve a CA's quorum-protected actions, from their public
 * keys (PEM files or keys on tokens), in the format of SPEC.md. */
#ifndef HSMCA_ISSUE_QUORUM_H
#define HSMCA_ISSUE_QUORUM_H

#include <jansson.h>

#include "common/err.h"

/* A new quorum file with threshold M and no approvers yet (refused when
 * path exists, unless force). */
int ca_quorum_file_init(const char *path, int threshold, int force,
			json_t **summary) CA_WUR;

struct ca_quorum_member {
	const char *id;	  /* 1-64 of A-Za-z0-9._- */
	const char *name; /* the person, as printed to approvers */
	const char *key;  /* a PEM public key or certificate file, or a
			   * pkcs11: URI (read through the provider, no PIN) */
};

/* Add one approver (id and key unique in the file); threshold > 0 also
 * sets the threshold. The file is rewritten only when the result is a
 * valid quorum file (a complete one once it has M approvers). */
int ca_quorum_file_add(const char *path, const struct ca_quorum_member *m,
		       int threshold, json_t **summary) CA_WUR;

/* summary: { "file", "threshold", "approvers": [{ "id", "name", "key",
 * "spki_sha256" }], "complete" (at least threshold approvers),
 * "sha256" (of the file: what a CA pins) }. */

#endif
