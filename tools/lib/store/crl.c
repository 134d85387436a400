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
	struct ca_crl_row row;
	sqlite3_stmt *q = NULL;
	int rc, r;

	GUARD(ca_store_prepare(st, rows_sql(rows), &q));
	sqlite3_bind_int64(q, 1, (sqlite3_int64)run_first);
	if (rows == CA_CRL_ROWS_PARTITION)
		sqlite3_bind_int(q, 2, partition);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		row.serial = (const char *)sqlite3_column_text(q, 0);
		row.reason = sqlite3_column_int(q, 1);
		row.revoked_at = (time_t)sqlite3_column_int64(q, 2);
		row.not_after = (time_t)sqlite3_column_int64(q, 3);
		row.expired_listed = sqlite3_column_int64(q, 4);
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
	sqlite3_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st,
			      "INSERT INTO crls(number, partition, this_update,"
			      " next_update, entries, issued_at, sha256)"
			      " VALUES (?,?,?,?,?,?,?)",
			      &q);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(q, 1, (sqlite3_int64)number);
	if (partition >= 0)
		sqlite3_bind_int(q, 2, partition);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)this_update);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)next_update);
	sqlite3_bind_int64(q, 5, (sqlite3_int64)entries);
	sqlite3_bind_int64(q, 6, (sqlite3_int64)issued_at);
	sqlite3_bind_text(q, 7, sha256, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = ca_store_fail(st, "cannot record the CRL number");
	ca_store_done(st, q);
	return rc;
}

int ca_store_crl_mark_expired(ca_store *st, enum ca_crl_rows rows,
			      int partition, uint64_t number,
			      time_t this_update)
{
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
	sqlite3_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st, sql, &q);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(q, 1, (sqlite3_int64)number);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)this_update);
	if (rows == CA_CRL_ROWS_PARTITION)
		sqlite3_bind_int(q, 3, partition);
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = ca_store_fail(st, "cannot mark expired entries");
	ca_store_done(st, q);
	return rc;
}
