/* The audit log: append-only, hash-chained entries in the state store.
 *
 * Each entry is a compact JSON object with sorted keys:
 *   seq, prev (hash of entry seq-1, 64 zeros for the first), time, tool,
 *   version, user (the effective user's name), uid, host (the host name),
 *   action, outcome ("ok", "refused", "error"), detail, inputs and
 *   outputs ({name: sha256}), hash_of ({"inputs"|"outputs": {name:
 *   "file" | "DER" | "data"}}: whether a hash is of a file's exact bytes,
 *   of an object's DER or of other bytes), details ({key: value}: serial,
 *   subject, reason, crl_number...), approvers ([ids])
 * and its hash is SHA-256 over the exact entry text. An entry is written in
 * the same transaction as the state change it describes.
 */
#ifndef HSMCA_STORE_AUDIT_H
#define HSMCA_STORE_AUDIT_H

#include <stdio.h>

#include <jansson.h>

#include "common/err.h"
#include "store/store.h"

typedef struct ca_audit ca_audit;

/* Name and version of the running tool, recorded in every entry. */
void ca_audit_set_tool(const char *tool);

ca_audit *ca_audit_new(const char *action);
void ca_audit_free(ca_audit *a);
void ca_audit_set_action(ca_audit *a, const char *action);
/* Record an input or output by SHA-256: of the exact bytes of a file the
 * tool read or wrote (given, or read from path), of an object's DER, or
 * of other data. */
void ca_audit_input(ca_audit *a, const char *name, const void *data,
		    size_t len);
void ca_audit_input_data(ca_audit *a, const char *name, const void *data,
			 size_t len);
void ca_audit_input_file(ca_audit *a, const char *name, const char *path);
void ca_audit_output(ca_audit *a, const char *name, const void *data,
		     size_t len);
void ca_audit_output_der(ca_audit *a, const char *name, const void *der,
			 size_t len);
void ca_audit_output_file(ca_audit *a, const char *name, const char *path);
/* Record an output whose SHA-256 (hex) the caller computed while writing
 * it: of the file's bytes, or of the DER written (large outputs such as
 * CRLs, whose file may be PEM). */
void ca_audit_output_sha256(ca_audit *a, const char *name, const char *hex);
void ca_audit_output_der_sha256(ca_audit *a, const char *name, const char *hex);
void ca_audit_set(ca_audit *a, const char *key,
		  const char *value); /* extra detail field */
/* A detail that is not a string (e.g. "serials": [...]); takes value. */
void ca_audit_set_json(ca_audit *a, const char *key, json_t *value);
void ca_audit_approver(ca_audit *a, const char *id);

/* Append inside the caller's transaction. */
int ca_audit_append(ca_store *s, ca_audit *a, const char *outcome,
		    const char *detail) CA_WUR;
/* The seq of the entry a's last ca_audit_append wrote (0: none yet). */
long ca_audit_seq(const ca_audit *a);
/* Append a refusal or error in a transaction of its own (state unchanged). */
int ca_audit_record(ca_store *s, ca_audit *a, const char *outcome,
		    const char *detail) CA_WUR;

struct ca_audit_head {
	long seq;
	char hash[65];
};
/* Recompute the chain. On a broken link: CA_EPOLICY with
 * "audit entry N: ..." and *bad = N. head gets the last good entry. */
int ca_audit_verify(ca_store *s, long *bad, struct ca_audit_head *head) CA_WUR;
/* The same for the entries from entry `from` on, chained to the stored
 * hash of the entry before it (from <= 1: the whole chain): the check
 * before a state change, which reads each entry's position and link
 * without parsing the rest of it (ca_audit_verify parses every entry). */
int ca_audit_verify_from(ca_store *s, long from, long *bad,
			 struct ca_audit_head *head) CA_WUR;
/* The last entry (seq 0 and 64 zeros for an empty log). */
int ca_audit_head(ca_store *s, struct ca_audit_head *head) CA_WUR;
/* The stored hash of entry seq; *found 0 when there is no such entry. */
int ca_audit_entry_hash(ca_store *s, long seq, char hash[65],
			int *found) CA_WUR;
/* Print entries (one JSON object per line, or a readable listing: who,
 * where, the details, and what each hash is of). */
int ca_audit_print(ca_store *s, FILE *out, int json) CA_WUR;
/* The entries that name serial (details.serial, details.renews, or in
 * details.serials),
 * appended to arr as {seq, entry (object), hash}. */
int ca_audit_entries_for_serial(ca_store *s, const char *serial,
				json_t *arr) CA_WUR;
/* One of those in the readable listing's form. */
void ca_audit_print_entry(FILE *out, json_t *entry);

#endif
