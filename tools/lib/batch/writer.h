/* The writer thread of a batch: entries (JSON objects) handed over after
 * each commit are written by one thread, in the order given, while the
 * next chunk is worked on (writes to one directory do not run faster in
 * parallel). What writing an entry means is the caller's write function. */
#ifndef HSMCA_BATCH_WRITER_H
#define HSMCA_BATCH_WRITER_H

#include <stddef.h>

#include <jansson.h>

#include "common/err.h"

typedef struct ca_writer ca_writer;

/* Start the thread; write(ctx, entry) is called on it for every entry. */
int ca_writer_start(int (*write)(void *ctx, json_t *entry), void *ctx,
		    ca_writer **out) CA_WUR;
/* Queue the entries of the array (copied); returns at once. */
int ca_writer_add(ca_writer *w, json_t *entries) CA_WUR;
/* The first write failure so far (CA_OK when none); its message is
 * copied to reason. */
int ca_writer_failure(ca_writer *w, char *reason, size_t len);
/* Wait until every queued entry is written, stop the thread and free w;
 * returns the first write failure as ca_writer_failure does. */
int ca_writer_stop(ca_writer *w, char *reason, size_t len);

#endif
