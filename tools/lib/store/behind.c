#include "store/behind.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/process.h"

struct ca_ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *db; /* the thread's own connection */
	int wanted, stop;
	long done;
};

static void *ckpt_main(void *arg)
{
	struct ca_ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->wanted)
			break;
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
		/* Busy (another process checkpoints) or failed: the next
		 * wake-up, the committing thread past CA_CKPT_FORCE_PAGES or
		 * the close does it. */
		(void)sqlite3_wal_checkpoint_v2(
		    c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		c->done++;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* sqlite3_wal_hook: after every commit of the batch's connection. */
static int ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	ca_store *s = arg;
	struct ca_ckpt *c = s->ckpt;

	if (s->untrusted)
		return SQLITE_OK;
	if (pages >= CA_CKPT_FORCE_PAGES)
		(void)sqlite3_wal_checkpoint_v2(
		    db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	else if (pages >= CA_CKPT_WAKE_PAGES) {
		pthread_mutex_lock(&c->mu);
		c->wanted = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void ckpt_free(struct ca_ckpt *c)
{
	sqlite3_close_v2(c->db);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int ca_store_checkpoint_behind(ca_store *s)
{
	struct ca_ckpt *c;

	if (s->db == NULL || s->ckpt != NULL || s->untrusted)
		return CA_OK;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CA_OK;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* Its own connection: the batch's is used by one thread at a time.
	 * WAL mode confirmed here (a connection that has read nothing has
	 * no WAL to checkpoint); its checkpoints fsync as the batch's do. */
	if (sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(c->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			 "PRAGMA cache_size=-64",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		ckpt_free(c);
		return CA_OK;
	}
	s->ckpt = c;
	/* In place of SQLite's own checkpoints on this connection. */
	(void)sqlite3_wal_hook(s->db, ckpt_hook, s);
	return CA_OK;
}

long ca_store_checkpoint_stop(ca_store *s)
{
	struct ca_ckpt *c = s->ckpt;
	long done;

	if (c == NULL)
		return 0;
	(void)sqlite3_wal_autocheckpoint(s->db, CA_CKPT_WAKE_PAGES);
	ca_thread_finish(&c->mu, &c->cv, &c->stop, c->thread);
	done = c->done;
	s->ckpt = NULL;
	ckpt_free(c);
	return done;
}

void ca_store_reader(ca_store *s, ca_store **out)
{
	ca_store *r;

	*out = NULL;
	if (s->db == NULL || (r = calloc(1, sizeof(*r))) == NULL)
		return;
	/* Read-only, and closed as found (no checkpoint). */
	r->untrusted = 1;
	if ((r->path = strdup(s->path)) == NULL ||
	    sqlite3_open_v2(s->path, &r->db, SQLITE_OPEN_READONLY, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(r->db, "PRAGMA cache_size=-2048", NULL, NULL, NULL) !=
		SQLITE_OK) {
		ca_store_close(r);
		return;
	}
	sqlite3_busy_timeout(r->db, 1000);
	*out = r;
}
