/* A worker pool: one function over n items on up to a given number of
 * threads, the calling thread included, items taken in order as threads
 * come free. For the CPU- and token-bound stages of a batch. */
#ifndef HSMCA_BATCH_POOL_H
#define HSMCA_BATCH_POOL_H

#include <stddef.h>

#define CA_POOL_MAX_WORKERS 64

/* fn(ctx, i) for every i below n, on min(workers, n, CA_POOL_MAX_WORKERS)
 * threads; returns when all are done. fn reports failures through ctx. */
void ca_pool_run(size_t n, int workers, void (*fn)(void *ctx, size_t i),
		 void *ctx);

#endif
