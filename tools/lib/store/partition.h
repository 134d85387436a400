/* The state store's side of CRL partitions (issue/partition.h): which
 * partitions certificates were bound to. */
#ifndef HSMCA_STORE_PARTITION_H
#define HSMCA_STORE_PARTITION_H

#include "common/err.h"
#include "store/store.h"

/* The highest partition a certificate is bound to; *none = 1 when no
 * certificate is bound to any. */
int ca_store_partition_last(ca_store *st, long *last, int *none) CA_WUR;
/* How many certificates are bound to partition. */
int ca_store_partition_used(ca_store *st, long partition, long *used) CA_WUR;
/* How many certificates are bound to a partition at all. */
int ca_store_partition_bound(ca_store *st, long *n) CA_WUR;

#endif
