#include "batch/pool.h"

#include <pthread.h>

struct pool {
	size_t n;
	size_t next;
	pthread_mutex_t lock;
	void (*fn)(void *ctx, size_t i);
	void *ctx;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		p->fn(p->ctx, i);
	}
}

void ca_pool_run(size_t n, int workers, void (*fn)(void *ctx, size_t i),
		 void *ctx)
{
	struct pool p = {n, 0, PTHREAD_MUTEX_INITIALIZER, fn, ctx};
	pthread_t t[CA_POOL_MAX_WORKERS];
	int k, started = 0;

	for (k = 1; k < workers && k < CA_POOL_MAX_WORKERS && (size_t)k < n;
	     k++)
		if (pthread_create(&t[started], NULL, pool_worker, &p) == 0)
			started++;
	pool_worker(&p);
	for (k = 0; k < started; k++)
		pthread_join(t[k], NULL);
}
