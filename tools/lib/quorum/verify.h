/* Verifying approvals: the files against a request and a quorum. */
#ifndef HSMCA_QUORUM_VERIFY_H
#define HSMCA_QUORUM_VERIFY_H

#include <stdio.h>

#include <jansson.h>

#include "common/err.h"
#include "input/quorum.h"
#include "quorum/request.h"
#include "store/store.h"

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

#endif
