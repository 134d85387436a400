/* Two-phase execution of quorum-protected actions (see quorum/request.h and
 * quorum/approval.h).
 *
 * Phase 1, --prepare REQUEST: the tool builds the exact TBS, lints it and
 * writes the request; no private key is used.
 * Phase 2, --request REQUEST --approval A.sig...: the tool rebuilds the
 * operation with the request's serial and validity, refuses unless the
 * rebuilt TBS is byte-identical to the approved one and the approvals
 * satisfy the pinned quorum, then signs exactly the approved TBS and
 * records the request's nonce in the same transaction as the result.
 */
#ifndef HSMCA_QUORUM_TWOPHASE_H
#define HSMCA_QUORUM_TWOPHASE_H

#include <time.h>

#include <jansson.h>
#include <openssl/asn1.h>

#include "common/err.h"
#include "input/quorum.h"
#include "quorum/request.h"
#include "store/audit.h"
#include "x509/tbs.h"

struct ca_twophase {
	const char *prepare;	   /* --prepare FILE */
	const char *request;	   /* --request FILE */
	const char *approvals[64]; /* --approval FILE... */
	int n_approvals;
	long ttl;		 /* --approval-ttl, seconds */
	const char *quorum_path; /* --quorum FILE (default DIR/quorum.json) */
};

struct ca_tp {
	int active; /* quorum-protected */
	int preparing;
	int executing;
	struct ca_request *req; /* when executing */
	struct ca_quorum *quorum;
	json_t *approvers; /* after ca_tp_check */
};

/* Options every two-phase tool accepts; returns 1 when handled. */
int ca_tp_option(struct ca_twophase *tp, const char *name, const char *arg);

/* Decide the mode. pinned: the CA's pinned quorum hash (NULL: no quorum).
 * Refuses a quorum CA used without --prepare/--request (CA_EPOLICY), a
 * non-quorum CA with them (CA_EUSAGE), a quorum file whose hash is not the
 * pinned one (CA_EPOLICY). Loads the request when executing. */
int ca_tp_begin(const struct ca_twophase *tp, const char *dir,
		const char *pinned, struct ca_tp *st) CA_WUR;
void ca_tp_free(struct ca_tp *st);

/* Values the request fixes: serial (hex) and validity. */
int ca_tp_param_str(const struct ca_tp *st, const char *key,
		    const char **out) CA_WUR;
int ca_tp_param_time(const struct ca_tp *st, const char *key,
		     time_t *out) CA_WUR;

/* --days on the command line must be the approved one. */
int ca_tp_param_days(const struct ca_tp *st, long days) CA_WUR;

/* A certificate's serial and validity as the request being executed fixes
 * them (with --days checked against the approved one). */
int ca_tp_cert_params(const struct ca_tp *st, long days, ASN1_INTEGER **serial,
		      time_t *not_before, time_t *not_after) CA_WUR;
/* What a certificate's request records for that: { serial, not_before,
 * not_after, days }; NULL when out of memory. */
json_t *ca_tp_cert_params_json(const ASN1_INTEGER *serial, time_t not_before,
			       time_t not_after, long days);

/* The key a request is for. */
struct ca_tp_key {
	const char *spki_sha256;
	const char *token_serial;
	const char *uri;
};

/* Phase 1, for every action: write the approval request for t (a
 * certificate or CRL must carry its lint mark) and, when there is a store,
 * record ACTION-prepare in the audit log: in the caller's transaction when
 * one is open, else in one of its own. */
int ca_tp_prepare(const struct ca_twophase *tp, const struct ca_tp *st,
		  const char *action, const struct ca_tp_key *key,
		  const struct ca_tbs *t, json_t *summary, json_t *params,
		  int force, ca_store *store, ca_audit *a) CA_WUR;
/* *done = 1 when this CA's store records exactly the request being
 * executed (its nonce and file hash) as executed: a run that stopped after
 * the commit. The caller then passes store NULL to ca_tp_check (approvals
 * checked, no replay check) and writes the stored result, signing nothing.
 */
int ca_tp_executed(const struct ca_tp *st, ca_store *store, int *done) CA_WUR;
/* Phase 2: the rebuilt TBS must equal the approved one; approvals must
 * satisfy the quorum. store may be NULL (a CA not created yet). On
 * success t carries the approval mark the signer requires of a
 * quorum-protected key. */
int ca_tp_check(const struct ca_twophase *tp, struct ca_tp *st,
		const char *action, const char *ca_spki_sha256, ca_store *store,
		struct ca_tbs *t) CA_WUR;
/* Name the approvers, the request and its nonce in the audit entry. */
void ca_tp_audit(const struct ca_tp *st, ca_audit *a);
/* Inside the caller's transaction: record the nonce, name the approvers in
 * the audit entry. No-op when not executing. */
int ca_tp_record(const struct ca_tp *st, ca_store *store, ca_audit *a) CA_WUR;

#endif
