/* What this CA issued, answered from its store (hsmca-audit show and
 * export): read only, no token, no PIN. */
#ifndef HSMCA_ISSUE_LOOKUP_H
#define HSMCA_ISSUE_LOOKUP_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"

/* One certificate, by serial (hex as openssl x509 -serial prints it,
 * "serial=" prefix, colons and case ignored):
 *   { serial, subject, kind, profile, status ("valid", "not yet valid",
 *     "expired", "revoked", "on hold", "superseded"), not_before,
 *     not_after, issued_at, sans [...], partition, spki_sha256,
 *     sha256 (of the DER), superseded_by (or null), revoked
 *     ({date, reason} or null), audit: [{seq, entry, hash}] }
 * A serial this CA never issued: CA_EPOLICY. */
int ca_lookup_serial(const char *dir, const char *serial, json_t **out) CA_WUR;
/* Every certificate whose CN or one of whose SANs is name, oldest first:
 *   { name, certificates: [as above] }
 * None: CA_EPOLICY. */
int ca_lookup_name(const char *dir, const char *name, json_t **out) CA_WUR;
/* The certificate as PEM; with chain, followed by this CA's certificate
 * and its chain (up to the root). */
int ca_lookup_export(const char *dir, const char *serial, int chain, char **pem,
		     size_t *len) CA_WUR;

#endif
