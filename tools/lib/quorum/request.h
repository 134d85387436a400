/* Approval requests: what a quorum is asked to approve, bound to exact bytes.
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
 */
#ifndef HSMCA_QUORUM_REQUEST_H
#define HSMCA_QUORUM_REQUEST_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"

#define CA_APPROVAL_TTL_DEFAULT (24 * 3600)

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
	json_t *params;	 /* borrowed, may be NULL */
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

#endif
