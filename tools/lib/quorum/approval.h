/* Approval requests and approvals: M-of-N consent bound to exact bytes.
 *
 * An approval request (written by a tool's --prepare) is a JSON file:
 *   { "hsmca_approval_request": 1,
 *     "action": "init-ca" | "sign-subca" | "gen-crl" | "revoke",
 *     "ca": { "spki_sha256": hex, "token_serial": s, "key": uri },
 *     "tbs_type": "certificate" | "crl" | "revocation",
 *     "tbs": base64 of the exact DER (or canonical bytes) to be signed,
 *     "tbs_sha256": hex,
 *     "summary": { human-readable fields, informative only },
 *     "params": { tool-specific values needed to rebuild the operation },
 *     "created": RFC 3339, "expires": RFC 3339,
 *     "nonce": 64 hex digits (256 random bits),
 *     "quorum_sha256": hex of the quorum file the CA pins }
 *
 * An approval (two-person-approve sign) is a JSON file:
 *   { "hsmca_approval": 1, "approver": id, "request_sha256": hex,
 *     "algorithm": "ed25519" | "ecdsa-sha256" | "ecdsa-sha384" |
 *                  "rsa-pkcs1-sha256",
 *     "signature": base64, "signed_at": RFC 3339 }
 * The signature is over the bytes "hsmca-approval-v1:" followed by the 64
 * lowercase hex digits of the SHA-256 of the request file's exact bytes.
 */
#ifndef HSMCA_APPROVAL_H
#define HSMCA_APPROVAL_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"
#include "input/quorum.h"
#include "store/store.h"

#define CA_APPROVAL_TTL_DEFAULT (24 * 3600)
#define CA_APPROVAL_PREFIX "hsmca-approval-v1:"

struct ca_request {
	unsigned char *raw; /* the file's exact bytes */
	size_t raw_len;
	char sha256_hex[65];
	char *action;
	char *tbs_type;
	char *ca_spki_sha256;
	char *ca_token_serial;
	char *ca_key;
	unsigned char *tbs;
	size_t tbs_len;
	json_t *summary;
	json_t *params;
	time_t created;
	time_t expires;
	char nonce[65];
	char quorum_sha256[65];
};

struct ca_request_spec {
	const char *action;
	const char *tbs_type;
	const char *ca_spki_sha256;
	const char *ca_token_serial;
	const char *ca_key;
	const unsigned char *tbs;
	size_t tbs_len;
	json_t *summary; /* borrowed */
	json_t *params;  /* borrowed, may be NULL */
	long ttl_seconds;
	const char *quorum_sha256;
};

/* --approval-ttl: "90s", "30m", "24h", "2d" or plain seconds; 1 s to 30 d
 * (short lifetimes are for rehearsals and tests). */
int ca_ttl_parse(const char *s, long *seconds) CA_WUR;

/* Write a request file (O_EXCL unless force) with a fresh nonce. */
int ca_request_write(const struct ca_request_spec *spec, const char *path,
		     int force) CA_WUR;
/* Parse a request file; malformed or unknown keys -> CA_EPOLICY. */
int ca_request_load(const char *path, struct ca_request **out) CA_WUR;
int ca_request_parse(const unsigned char *data, size_t len, const char *what,
		     struct ca_request **out) CA_WUR;
void ca_request_free(struct ca_request *r);

/* A human summary of a certificate TBS for the request's "summary". */
json_t *ca_request_summary_cert(const unsigned char *tbs, size_t tbs_len);

/* Everything a person must check, decoded from the request's own bytes
 * (never from "summary"): request_sha256, request_words, action, ca,
 * tbs_type, tbs_sha256, tbs_bytes, created, expires, expired, nonce,
 * quorum_sha256, and one of "certificate" (subject, issuer, serial,
 * validity, signature_algorithm, public_key, extensions), "crl" (issuer,
 * this_update, next_update, crl_number, entries, first_entries,
 * extensions) or "revocation" (the canonical text). Text is printable
 * ASCII: other bytes appear as \xNN (names as RFC 2253 escapes). */
int ca_request_describe(const struct ca_request *req, json_t **out) CA_WUR;

/* An approval file, parsed (no signature check). */
struct ca_approval {
	char approver[65];
	char request_sha256[65];
	char algorithm[24];
	unsigned char *signature;
	size_t signature_len;
	time_t signed_at; /* informative: not covered by the signature */
};

/* Malformed, truncated or unknown keys -> CA_EPOLICY. */
int ca_approval_parse(const unsigned char *data, size_t len, const char *what,
		      struct ca_approval **out) CA_WUR;
void ca_approval_free(struct ca_approval *a);

/* Sign an approval of a loaded request with key (a PEM private key file,
 * passphrase from pass_source or a prompt; or a pkcs11: URI, PIN from
 * pass_source) as approver id; write it to out. The request is the one the
 * approver was shown (no second read of the file). */
int ca_approval_sign_req(const struct ca_request *req, const char *id,
			 const char *key, const char *pass_source,
			 const char *out, int force) CA_WUR;

/* Everything an execution must check before the token signs:
 * request not expired; request's quorum hash equals quorum->sha256_hex and
 * (when pinned != NULL) the pinned hash; action equals want_action; CA
 * identity equals ca_spki_sha256 (when not NULL); nonce never executed (when
 * st != NULL); at least threshold distinct approvers of the quorum with
 * valid signatures over this request. Files that are truncated, not JSON,
 * by unknown approvers, over another request or with bad signatures are
 * reported in the refusal. *approvers gets the JSON array of the distinct
 * valid approver ids. Any failure is CA_EPOLICY. */
int ca_request_check(const struct ca_request *req, const char *want_action,
		     const char *ca_spki_sha256, const struct ca_quorum *quorum,
		     const char *pinned, ca_store *st,
		     const char *const *approval_files, int n_files,
		     json_t **approvers) CA_WUR;

/* Evaluate approval files against the request and quorum (no time, replay
 * or pin checks): *report = { request_sha256, quorum_sha256,
 * request_quorum_sha256, quorum_matches, threshold, approvers, valid,
 * threshold_met, approved_by: [ids], approvals: [{ file, approver, valid,
 * counted, reason }] }. */
int ca_approvals_eval(const struct ca_request *req,
		      const struct ca_quorum *quorum,
		      const char *const *approval_files, int n_files,
		      json_t **report) CA_WUR;

/* Verify approvals against a quorum only (two-person-approve verify):
 * prints one line per file to out; returns CA_OK when the threshold is met. */
int ca_approvals_report(const struct ca_request *req,
			const struct ca_quorum *quorum,
			const char *const *approval_files, int n_files,
			FILE *out) CA_WUR;

/* The request digest as words to read aloud (PGP word list: even bytes
 * from the two-syllable list, odd bytes from the three-syllable list). */
void ca_words(const unsigned char *digest, size_t len, char *out, size_t outlen);

#endif
