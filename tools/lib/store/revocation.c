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

static char *column_dup(ca_stmt *q, int col)
{
	const char *t = ca_col_text(q, col);

	return t ? strdup(t) : NULL;
}

int ca_store_cert_state(ca_store *st, const char *serial,
			struct ca_cert_state *cs, int *found)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *q = NULL;
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
	bound |= ca_bind_text(q, 1, serial);
	r = ca_store_step(st, q, bound);
	if (r == SQLITE_ROW) {
		*found = 1;
		snprintf(cs->kind, sizeof(cs->kind), "%s", ca_col_text(q, 0));
		cs->cn = column_dup(q, 1);
		cs->subject = column_dup(q, 2);
		cs->not_before = (time_t)ca_col_int64(q, 3);
		cs->not_after = (time_t)ca_col_int64(q, 4);
		cs->partition =
		    ca_col_null(q, 5) ? -1 : (int)ca_col_int64(q, 5);
		cs->reason = (int)ca_col_int64(q, 6);
		cs->revoked_at = (time_t)ca_col_int64(q, 7);
		cs->revoked = (int)ca_col_int64(q, 8);
		if (cs->subject == NULL)
			rc = ca_err(CA_EIO, "out of memory");
	} else if (r != SQLITE_DONE) {
		rc = ca_store_fail(st, "cannot look the certificate up");
	}
	ca_store_done(st, q);
	return rc;
}

static int step_done(ca_store *st, ca_stmt *q, int bound)
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
	ca_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(
	    st,
	    "INSERT INTO revocations(serial, reason, revoked_at,"
	    " recorded_at, partition, not_after, expired_listed)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
	    &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(q, 1, cs->serial);
	bound |= ca_bind_int64(q, 2, reason);
	bound |= ca_bind_int64(q, 3, (long long)revoked_at);
	bound |= ca_bind_int64(q, 4, (long long)recorded_at);
	if (cs->partition >= 0)
		bound |= ca_bind_int64(q, 5, cs->partition);
	else
		bound |= ca_bind_null(q, 5);
	bound |= ca_bind_int64(q, 6, (long long)cs->not_after);
	return step_done(st, q, bound);
}

int ca_store_revocation_set_reason(ca_store *st, const char *serial, int reason,
				   time_t recorded_at)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st,
			      "UPDATE revocations SET reason = ?2,"
			      " recorded_at = ?3 WHERE serial = ?1",
			      &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(q, 1, serial);
	bound |= ca_bind_int64(q, 2, reason);
	bound |= ca_bind_int64(q, 3, (long long)recorded_at);
	return step_done(st, q, bound);
}

int ca_store_revocation_delete(ca_store *st, const char *serial)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *q = NULL;
	int rc;

	rc = ca_store_prepare(st, "DELETE FROM revocations WHERE serial = ?1",
			      &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(q, 1, serial);
	return step_done(st, q, bound);
}
