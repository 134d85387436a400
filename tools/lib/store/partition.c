#include "store/partition.h"

int ca_store_partition_last(ca_store *st, long *last, int *none)
{
	ca_stmt *q = NULL;
	int rc;

	*last = 0;
	*none = 1;
	rc = ca_store_prepare(st, "SELECT max(partition) FROM certs", &q);
	if (rc < 0)
		return rc;
	if (ca_store_step(st, q, 0) != SQLITE_ROW) {
		rc = ca_store_fail(st, "cannot count CRL partitions");
	} else if (!ca_col_null(q, 0)) {
		*none = 0;
		*last = (long)ca_col_int64(q, 0);
	}
	ca_store_done(st, q);
	return rc;
}

static int count(ca_store *st, const char *sql, int bind, long arg, long *n,
		 const char *what)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *q = NULL;
	int rc;

	*n = 0;
	rc = ca_store_prepare(st, sql, &q);
	if (rc < 0)
		return rc;
	if (bind)
		bound |= ca_bind_int64(q, 1, arg);
	if (ca_store_step(st, q, bound) == SQLITE_ROW)
		*n = (long)ca_col_int64(q, 0);
	else
		rc = ca_store_fail(st, what);
	ca_store_done(st, q);
	return rc;
}

int ca_store_partition_used(ca_store *st, long partition, long *used)
{
	return count(st, "SELECT count(*) FROM certs WHERE partition = ?", 1,
		     partition, used,
		     "cannot count certificates per CRL partition");
}

int ca_store_partition_bound(ca_store *st, long *n)
{
	return count(st,
		     "SELECT count(*) FROM certs WHERE partition IS NOT NULL",
		     0, 0, n, "cannot count partitioned certificates");
}
