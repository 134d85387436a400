/* A batch's store work kept off its critical path (SQLite): checkpoints
 * behind its commits, and index pages read ahead of its lookups.
 *
 * Checkpoints. A commit's WAL pages are copied
 * into ca.db by a checkpoint; SQLite runs one in the committing thread
 * once the WAL holds 1,000 pages, and in a large store, where every
 * certificate dirties a random leaf page of each random-key index, that
 * copy and its fsync of ca.db hold up the batch's next chunk. Started for
 * a batch, a thread of its own with a connection of its own runs passive
 * checkpoints (they never block a writer, and copy only what is
 * committed) while the batch signs on. Durability is the commits' alone,
 * as before; ca_store_close still leaves ca.db self-contained. The WAL
 * grows to CA_CKPT_FORCE_PAGES (64 MiB of 4 KiB pages) during a batch. */
#ifndef HSMCA_STORE_BEHIND_H
#define HSMCA_STORE_BEHIND_H

#include "common/err.h"
#include "store/store.h"

/* WAL pages after a commit that wake the thread (SQLite's own default
 * for its checkpoints), and past which the committing thread checkpoints
 * as SQLite would (the thread has fallen behind). */
#define CA_CKPT_WAKE_PAGES  1000
#define CA_CKPT_FORCE_PAGES 16000

/* Start checkpointing s behind its commits (a no-op on PostgreSQL, where
 * the server does). When the thread or its connection cannot start,
 * SQLite's own checkpoints stay, and this says nothing. */
int ca_store_checkpoint_behind(ca_store *s) CA_WUR;
/* Stop: a checkpoint asked for is run first (not for a store found
 * untrusted meanwhile), the thread joined and its connection closed
 * (ca_store_close calls it). Returns the checkpoints the thread ran that
 * copied pages, 0 when none was started. */
long ca_store_checkpoint_stop(ca_store *s);

/* Read ahead. In a store larger than memory the index pages a lookup
 * needs are read from disk, one random page a request, while the batch
 * waits: a second, read-only connection can do the same lookups first
 * (on the next chunk, while the current one commits), so that the pages
 * are in the page cache when the lookup that counts runs. Its answers
 * decide nothing. *out is NULL on PostgreSQL (the server caches) or when
 * the connection cannot open; ca_store_close closes it without a
 * checkpoint. */
void ca_store_reader(ca_store *s, ca_store **out);

#endif
