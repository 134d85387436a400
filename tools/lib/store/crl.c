#include "store/crl.h"

static const char *rows_sql(enum ca_crl_rows rows)
{
	/* Entries not yet dropped: never expired-listed, or listed after
	 * expiry by a CRL of this very run (another scope). */
	if (rows == CA_CRL_ROWS_PARTITION)
		return "SELECT serial, reason, revoked_at, not_after, "
		       "expired_listed"
		       " FROM revocations WHERE partition = ?2 AND"
		       " (expired_listed = 0 OR expired_listed >= ?1)"
		       " ORDER BY serial";
	if (rows == CA_CRL_ROWS_UNPARTITIONED)
		return "SELECT serial, reason, revoked_at, not_after, "
		       "expired_listed"
		       " FROM revocations WHERE partition IS NULL AND"
		       " (expired_listed = 0 OR expired_listed >= ?1)"
		       " ORDER BY serial";
	return "SELECT serial, reason, revoked_at, not_after, expired_listed"
	       " FROM revocations WHERE (expired_listed = 0 OR expired_listed "
	       ">= ?1)"
	       " ORDER BY serial";
}

int ca_store_crl_rows(ca_store *st, enum ca_crl_rows rows, int partition,
		      uint64_t run_first, ca_crl_row_fn fn, void *ctx)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	struct ca_crl_row row;
	ca_stmt *q = NULL;
	int rc, r;

	GUARD(ca_store_prepare(st, rows_sql(rows), &q));
	bound |= ca_bind_int64(q, 1, (long long)run_first);
	if (rows == CA_CRL_ROWS_PARTITION)
		bound |= ca_bind_int64(q, 2, partition);
	while ((r = ca_store_step(st, q, bound)) == SQLITE_ROW) {
		row.serial = ca_col_text(q, 0);
		row.reason = (int)ca_col_int64(q, 1);
		row.revoked_at = (time_t)ca_col_int64(q, 2);
		row.not_after = (time_t)ca_col_int64(q, 3);
		row.expired_listed = ca_col_int64(q, 4);
		GUARD(fn(ctx, &row));
	}
	if (r != SQLITE_DONE)
		rc = ca_store_fail(st, "cannot read the revocations");
out:
	ca_store_done(st, q);
	return rc;
}

int ca_store_crl_add(ca_store *st, uint64_t number, int partition,
		     time_t this_update, time_t next_update, size_t entries,
		     time_t issued_at, const char *sha256)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st,
			      "INSERT INTO crls(number, partition, this_update,"
			      " next_update, entries, issued_at, sha256)"
			      " VALUES (?,?,?,?,?,?,?)",
			      &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_int64(q, 1, (long long)number);
	if (partition >= 0)
		bound |= ca_bind_int64(q, 2, partition);
	else
		bound |= ca_bind_null(q, 2);
	bound |= ca_bind_int64(q, 3, (long long)this_update);
	bound |= ca_bind_int64(q, 4, (long long)next_update);
	bound |= ca_bind_int64(q, 5, (long long)entries);
	bound |= ca_bind_int64(q, 6, (long long)issued_at);
	bound |= ca_bind_text(q, 7, sha256);
	if (ca_store_step(st, q, bound) != SQLITE_DONE)
		rc = ca_store_fail(st, "cannot record the CRL number");
	ca_store_done(st, q);
	return rc;
}

int ca_store_crl_mark_expired(ca_store *st, enum ca_crl_rows rows,
			      int partition, uint64_t number,
			      time_t this_update)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	const char *sql =
	    rows == CA_CRL_ROWS_PARTITION
		? "UPDATE revocations SET expired_listed = ?1 WHERE"
		  " expired_listed = 0 AND not_after < ?2 AND"
		  " partition = ?3"
	    : rows == CA_CRL_ROWS_UNPARTITIONED
		? "UPDATE revocations SET expired_listed = ?1 WHERE"
		  " expired_listed = 0 AND not_after < ?2 AND"
		  " partition IS NULL"
		: "UPDATE revocations SET expired_listed = ?1 WHERE"
		  " expired_listed = 0 AND not_after < ?2";
	ca_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st, sql, &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_int64(q, 1, (long long)number);
	bound |= ca_bind_int64(q, 2, (long long)this_update);
	if (rows == CA_CRL_ROWS_PARTITION)
		bound |= ca_bind_int64(q, 3, partition);
	if (ca_store_step(st, q, bound) != SQLITE_DONE)
		rc = ca_store_fail(st, "cannot mark expired entries");
	ca_store_done(st, q);
	return rc;
}
