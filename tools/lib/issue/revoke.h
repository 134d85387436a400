/* Revocation: entries in the state store's revocations table, from which
 * gen-crl builds CRLs.
 *
 * A revocation names a certificate this CA issued (by serial), a reason
 * (RFC 5280 5.3.1) and a date. Rules:
 *   - a serial the CA never issued, and the CA's own root certificate, are
 *     refused;
 *   - the same serial with the same reason again is idempotent ("already
 *     revoked"); with another reason it is refused, except that a
 *     certificateHold may be made permanent (any other reason; the
 *     original date stays) or released with removeFromCRL (the entry is
 *     deleted, the audit log keeps the history);
 *   - the date (default now) may not be in the future nor before the
 *     certificate's notBefore;
 *   - on a CA with a pinned quorum, revoking a CA certificate (subca,
 *     cross) is a two-phase operation whose approved bytes ("tbs_type":
 *     "revocation") are the canonical JSON text
 *       {"action":"revoke","date":"...","reason":"...","serial":"..."}
 *     (compact, keys sorted, date RFC 3339 UTC, serial canonical lowercase
 *     hex); the execution rebuilds it from the command line with the
 *     request's date and refuses any difference.
 * The revocation and its audit entry commit in one transaction before the
 * tool reports success. revoked.json (--revoked) is read by
 * input/revoked.h.
 */
#ifndef HSMCA_ISSUE_REVOKE_H
#define HSMCA_ISSUE_REVOKE_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"
#include "quorum/twophase.h"

struct ca_revoke_params {
	const char *serial;  /* --serial HEX */
	const char *cert;    /* --cert FILE: its serial, once it is checked to
			      * be the certificate this CA issued */
	int reason;	     /* CA_REASON_* (--reason, default unspecified) */
	const char *date;    /* --date, NULL: now */
	const char *revoked; /* --revoked FILE (instead of --serial) */
	int force;	     /* --prepare may replace its output */
	struct ca_twophase tp;
};

struct ca_revoke_result {
	json_t *entries; /* [{serial, common_name, subject, status, reason,
			  *   date}]; status: "revoked", "already revoked",
			  *   "hold made permanent", "hold released" */
	int changed;	 /* entries whose state changed */
	int unchanged;	 /* already revoked */
	int prepared;	 /* wrote an approval request only */
};

int ca_revoke(const char *dir, const struct ca_revoke_params *p,
	      struct ca_revoke_result *res) CA_WUR;
void ca_revoke_result_free(struct ca_revoke_result *res);

#endif
