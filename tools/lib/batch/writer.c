#include "batch/writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/process.h"

struct ca_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	json_t *queue; /* entries waiting to be written */
	int done;      /* no more entries will come */
	int rc;	       /* first write failure */
	char reason[1024];
	int (*write)(void *ctx, json_t *entry);
	void *ctx;
};

/* The thread: entries in the order queued. */
static void *writer_main(void *arg)
{
	ca_writer *w = arg;
	json_t *batch, *o;
	size_t i;
	int rc;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (json_array_size(w->queue) == 0 && !w->done)
			pthread_cond_wait(&w->cond, &w->lock);
		if (json_array_size(w->queue) == 0)
			break;
		batch = w->queue;
		w->queue = json_array();
		pthread_mutex_unlock(&w->lock);
		rc = CA_OK;
		json_array_foreach(batch, i, o)
		{
			rc = w->write(w->ctx, o);
			if (rc < 0)
				break;
		}
		json_decref(batch);
		pthread_mutex_lock(&w->lock);
		if (rc < 0 && w->rc == CA_OK) {
			w->rc = rc;
			snprintf(w->reason, sizeof(w->reason), "%s",
				 ca_errmsg());
		}
		if (w->queue == NULL)
			break;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int ca_writer_start(int (*write)(void *ctx, json_t *entry), void *ctx,
		    ca_writer **out)
{
	ca_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL)
		return ca_err(CA_EIO, "out of memory");
	w->write = write;
	w->ctx = ctx;
	w->queue = json_array();
	if (w->queue == NULL || pthread_mutex_init(&w->lock, NULL) != 0) {
		json_decref(w->queue);
		free(w);
		return ca_err(CA_EIO, "out of memory");
	}
	if (pthread_cond_init(&w->cond, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		json_decref(w->queue);
		free(w);
		return ca_err(CA_EIO, "out of memory");
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		json_decref(w->queue);
		free(w);
		return ca_err(CA_EIO, "cannot start the file writer");
	}
	*out = w;
	return CA_OK;
}

int ca_writer_add(ca_writer *w, json_t *entries)
{
	int rc = CA_OK;

	pthread_mutex_lock(&w->lock);
	if (json_array_extend(w->queue, entries) != 0)
		rc = ca_err(CA_EIO, "out of memory");
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int ca_writer_failure(ca_writer *w, char *reason, size_t len)
{
	int rc;

	pthread_mutex_lock(&w->lock);
	rc = w->rc;
	if (rc < 0)
		snprintf(reason, len, "%s", w->reason);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int ca_writer_stop(ca_writer *w, char *reason, size_t len)
{
	int rc;

	if (w == NULL)
		return CA_OK;
	ca_thread_finish(&w->lock, &w->cond, &w->done, w->thread);
	rc = w->rc;
	if (rc < 0)
		snprintf(reason, len, "%s", w->reason);
	json_decref(w->queue);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return rc;
}
