/* What gen-crl reads from and records in the state store: the
 * revocations a CRL lists, the CRL itself, and the entries listed once
 * after their certificate expired. */
#ifndef HSMCA_STORE_CRL_H
#define HSMCA_STORE_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "store/store.h"

/* Which revocations a CRL covers. */
enum ca_crl_rows {
	CA_CRL_ROWS_ALL,	   /* every revocation of the CA */
	CA_CRL_ROWS_PARTITION,	   /* those of one partition */
	CA_CRL_ROWS_UNPARTITIONED, /* those of no partition (the base CRL) */
};

struct ca_crl_row {
	const char *serial; /* lowercase hex; valid during the callback */
	int reason;
	time_t revoked_at;
	time_t not_after;	/* the certificate's */
	int64_t expired_listed; /* CRL number that listed it expired, or 0 */
};

typedef int (*ca_crl_row_fn)(void *ctx, const struct ca_crl_row *row);

/* The revocations not yet dropped (never listed after expiry, or listed
 * after expiry by a CRL numbered run_first or later), by serial. A
 * negative return of fn stops the walk and is returned. */
int ca_store_crl_rows(ca_store *st, enum ca_crl_rows rows, int partition,
		      uint64_t run_first, ca_crl_row_fn fn, void *ctx) CA_WUR;
/* Record an issued CRL (partition < 0: none). */
int ca_store_crl_add(ca_store *st, uint64_t number, int partition,
		     time_t this_update, time_t next_update, size_t entries,
		     time_t issued_at, const char *sha256) CA_WUR;
/* Listed once after expiry: later CRLs drop them. Marks the covered
 * revocations whose certificate expired before this_update. */
int ca_store_crl_mark_expired(ca_store *st, enum ca_crl_rows rows,
			      int partition, uint64_t number,
			      time_t this_update) CA_WUR;

#endif
