/* Rows an earlier hsmca wrote wrongly, mended in place.
 *
 * hsmca-audit migrate once copied certs.spki_sha256 as an integer: every
 * row it copied got, for its key's SHA-256, the number the hash's leading
 * decimal digits spell ("0eca10..." became "0"), so the store no longer
 * knew which keys it had certified (key reuse went undetected, a request
 * already issued was issued again). Such a migration rewrote every row it
 * copied, which are the first rows of the store: a store whose first row
 * has a 64-digit hash has nothing to mend.
 */
#ifndef HSMCA_STORE_REPAIR_H
#define HSMCA_STORE_REPAIR_H

#include <stddef.h>

#include "common/err.h"
#include "store/store.h"

/* Does the store's first certificate row lack a 64-digit SPKI hash? */
int ca_store_spki_damaged(ca_store *s, int *damaged) CA_WUR;

/* How many certificate rows lack a 64-digit SPKI hash (counted only when
 * the first row does: one row read on any other store). */
int ca_store_spki_unmended(ca_store *s, long long *n) CA_WUR;

/* The SPKI SHA-256 (hex) of a certificate given as DER. */
typedef int (*ca_spki_of_der)(const unsigned char *der, size_t len,
			      char hex[65]);

/* Inside the caller's transaction: every certificate row whose SPKI hash
 * is not 64 digits gets the hash of its certificate's key, as spki
 * computes it; *fixed counts them. */
int ca_store_spki_repair(ca_store *s, ca_spki_of_der spki,
			 long long *fixed) CA_WUR;

#endif
