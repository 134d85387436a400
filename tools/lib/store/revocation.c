#include "store/revocation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ca_cert_state_free(struct ca_cert_state *cs)
{
	free(cs->cn);
	free(cs->subject);
	cs->cn = cs->subject = NULL;
}

static char *column_dup(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	return t ? strdup((const char *)t) : NULL;
}

int ca_store_cert_state(ca_store *st, const char *serial,
			struct ca_cert_state *cs, int *found)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	sqlite3_stmt *q = NULL;
	int rc, r;

	memset(cs, 0, sizeof(*cs));
	*found = 0;
	snprintf(cs->serial, sizeof(cs->serial), "%s", serial);
	rc = ca_store_prepare(st,
			      "SELECT c.kind, c.cn, c.subject, c.not_before,"
			      " c.not_after, c.partition, r.reason,"
			      " r.revoked_at, r.serial IS NOT NULL"
			      " FROM certs c LEFT JOIN revocations r"
			      " ON r.serial = c.serial WHERE c.serial = ?",
			      &q);
	if (rc < 0)
		return rc;
	bound |= sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC);
	r = ca_store_step(st, q, bound);
	if (r == SQLITE_ROW) {
		*found = 1;
		snprintf(cs->kind, sizeof(cs->kind), "%s",
			 (const char *)sqlite3_column_text(q, 0));
		cs->cn = column_dup(q, 1);
		cs->subject = column_dup(q, 2);
		cs->not_before = (time_t)sqlite3_column_int64(q, 3);
		cs->not_after = (time_t)sqlite3_column_int64(q, 4);
		cs->partition = sqlite3_column_type(q, 5) == SQLITE_NULL
				    ? -1
				    : sqlite3_column_int(q, 5);
		cs->reason = sqlite3_column_int(q, 6);
		cs->revoked_at = (time_t)sqlite3_column_int64(q, 7);
		cs->revoked = sqlite3_column_int(q, 8);
		if (cs->subject == NULL)
			rc = ca_err(CA_EIO, "out of memory");
	} else if (r != SQLITE_DONE) {
		rc = ca_store_fail(st, "cannot look the certificate up");
	}
	ca_store_done(st, q);
	return rc;
}

static int step_done(ca_store *st, sqlite3_stmt *q, int bound)
{
	int rc = CA_OK;

	if (ca_store_step(st, q, bound) != SQLITE_DONE)
		rc = ca_store_fail(st, "cannot record the revocation");
	ca_store_done(st, q);
	return rc;
}

int ca_store_revocation_add(ca_store *st, const struct ca_cert_state *cs,
			    int reason, time_t revoked_at, time_t recorded_at)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	sqlite3_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(
	    st,
	    "INSERT INTO revocations(serial, reason, revoked_at,"
	    " recorded_at, partition, not_after, expired_listed)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
	    &q);
	if (rc < 0)
		return rc;
	bound |= sqlite3_bind_text(q, 1, cs->serial, -1, SQLITE_STATIC);
	bound |= sqlite3_bind_int(q, 2, reason);
	bound |= sqlite3_bind_int64(q, 3, (sqlite3_int64)revoked_at);
	bound |= sqlite3_bind_int64(q, 4, (sqlite3_int64)recorded_at);
	if (cs->partition >= 0)
		bound |= sqlite3_bind_int(q, 5, cs->partition);
	else
		bound |= sqlite3_bind_null(q, 5);
	bound |= sqlite3_bind_int64(q, 6, (sqlite3_int64)cs->not_after);
	return step_done(st, q, bound);
}

int ca_store_revocation_set_reason(ca_store *st, const char *serial, int reason,
				   time_t recorded_at)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	sqlite3_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st,
			      "UPDATE revocations SET reason = ?2,"
			      " recorded_at = ?4 WHERE serial = ?1",
			      &q);
	if (rc < 0)
		return rc;
	bound |= sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC);
	bound |= sqlite3_bind_int(q, 2, reason);
	bound |= sqlite3_bind_int64(q, 4, (sqlite3_int64)recorded_at);
	return step_done(st, q, bound);
}

int ca_store_revocation_delete(ca_store *st, const char *serial)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	sqlite3_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st, "DELETE FROM revocations WHERE serial = ?1",
			      &q);
	if (rc < 0)
		return rc;
	bound |= sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC);
	return step_done(st, q, bound);
}
