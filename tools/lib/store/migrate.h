/* Copy a whole state store into another (SQLite to PostgreSQL or back):
 * every table, row for row, in one transaction of the destination, then
 * the audit chain verified and every table counted on both sides. */
#ifndef HSMCA_STORE_MIGRATE_H
#define HSMCA_STORE_MIGRATE_H

#include "store/audit.h"
#include "store/store.h"

struct ca_migrate_counts {
	long long certs, revocations, crls, approvals, audit, meta;
	struct ca_audit_head head; /* the same on both sides */
};

/* Copy from (which the caller holds in a write transaction, so that it
 * does not change meanwhile) into to, a store just created (empty but for
 * its schema); to is left committed. CA_EPOLICY when a count or the chain
 * differs after the copy, or when from's chain does not verify. */
int ca_store_migrate(ca_store *from, ca_store *to,
		     struct ca_migrate_counts *n) CA_WUR;

#endif
