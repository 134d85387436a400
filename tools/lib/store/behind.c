#include "store/behind.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/process.h"

struct ca_ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Held for each checkpoint, the thread's and the committing
	 * thread's: SQLite refuses a second checkpointer at once without
	 * waiting, which would let the WAL run past its bound. */
	pthread_mutex_t run;
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
		/* Busy (another process checkpoints), stopped short by a
		 * reader or failed: the next wake-up, the committing thread
		 * past CA_CKPT_FORCE_PAGES or the close does the rest. */
		int log = 0, copied = 0, rc;

		pthread_mutex_lock(&c->run);
		rc = sqlite3_wal_checkpoint_v2(
		    c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
		pthread_mutex_unlock(&c->run);
		pthread_mutex_lock(&c->mu);
		if (rc == SQLITE_OK && copied > 0)
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
	/* The thread's checkpoints seldom finish before the next chunk
	 * begins, so the WAL grows on from its end (a writer starts it over
	 * only when it was wholly copied as the writer began). Here the WAL
	 * is copied whole and readers waited for (the busy timeout), so
	 * that the next commit starts it over: it stays under FORCE pages
	 * and a chunk's. */
	if (pages >= CA_CKPT_FORCE_PAGES) {
		pthread_mutex_lock(&c->run);
		(void)sqlite3_wal_checkpoint_v2(
		    db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		pthread_mutex_unlock(&c->run);
	} else if (pages >= CA_CKPT_WAKE_PAGES) {
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
	pthread_mutex_destroy(&c->run);
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
	pthread_mutex_init(&c->run, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* Its own connection: the batch's is used by one thread at a time.
	 * The journal_mode pragma makes it read the database (a connection
	 * that has read nothing has no WAL to checkpoint; the store is in
	 * WAL mode already); its checkpoints fsync as the batch's do. */
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
	/* A checkpoint asked for runs before the thread ends, unless the
	 * store has since been found untrusted (left as found). */
	if (s->untrusted) {
		pthread_mutex_lock(&c->mu);
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
	}
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
	if (s->db == NULL || s->untrusted ||
	    (r = calloc(1, sizeof(*r))) == NULL)
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
