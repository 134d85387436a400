/* Partitioned CRLs. ca.json "crl" holds the configuration:
 *   { "partitions": N }            N partitions, certificate -> partition
 *                                  by its serial (balanced), or
 *   { "partition_size": BYTES }    partitions filled in issuance order so
 *                                  that each CRL stays under BYTES even if
 *                                  every certificate in it is revoked;
 *   plus "url": "http://crl.example/issuing-{n}.crl" ({n}: partition number).
 * Without "crl" (or with neither key) there is one CRL and no partitions.
 * A certificate is bound to its partition at issuance: the partition's URL
 * goes into its CDP and gen-crl lists it only in that partition's CRL. */
#ifndef HSMCA_ISSUE_PARTITION_H
#define HSMCA_ISSUE_PARTITION_H

#include <jansson.h>

#include "common/err.h"
#include "store/store.h"

struct ca_partitions {
	int count;	    /* fixed count, or 0 */
	long size;	    /* max partition CRL size in bytes, or 0 */
	long per_partition; /* certificates per partition for size mode */
	const char *url;    /* template with {n} */
};

/* Read ca.json's "crl" (config may lack it: no partitions). */
int ca_partitions_config(json_t *config, struct ca_partitions *pc) CA_WUR;
int ca_partitions_enabled(const struct ca_partitions *pc);
/* Size mode: where the filling stands. A batch places a whole chunk
 * before any of it is in the store, so it keeps one cursor per chunk
 * (zeroed at the chunk's start): the first placement reads the store,
 * later ones count the certificates placed since. */
struct ca_partition_cursor {
	int valid;
	long last; /* the partition being filled */
	long used; /* certificates bound to it, placed ones included */
};

/* Choose the partition of a certificate about to be issued. cur may be
 * NULL (one certificate: the store alone says how full partitions are). */
int ca_partition_assign(ca_store *st, const struct ca_partitions *pc,
			struct ca_partition_cursor *cur,
			const unsigned char *serial, size_t serial_len,
			int *partition) CA_WUR;
/* The CDP URL of a partition (malloc'd). */
char *ca_partition_url(const struct ca_partitions *pc, int partition);

#endif
