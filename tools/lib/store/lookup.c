#include "store/lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_COLUMNS                                                         \
	"c.serial, c.subject, c.cn, c.kind, c.profile, c.spki_sha256,"         \
	" c.superseded_by, c.notify, c.not_before, c.not_after, c.issued_at,"  \
	" c.partition, r.serial IS NOT NULL, r.reason, r.revoked_at, c.der"    \
	" FROM certs c LEFT JOIN revocations r ON r.serial = c.serial"

void ca_cert_record_free(struct ca_cert_record *rec)
{
	free(rec->subject);
	free(rec->cn);
	free(rec->kind);
	free(rec->profile);
	free(rec->spki_sha256);
	free(rec->superseded_by);
	free(rec->notify);
	free(rec->der);
	memset(rec, 0, sizeof(*rec));
}

static char *text(ca_stmt *q, int col, int *oom)
{
	const char *t = ca_col_text(q, col);
	char *s;

	if (t == NULL)
		return NULL;
	s = strdup(t);
	*oom |= s == NULL;
	return s;
}

/* The row q is on as a record. */
static int record_of(ca_stmt *q, struct ca_cert_record *rec)
{
	const void *der;
	size_t n;
	int oom = 0;

	memset(rec, 0, sizeof(*rec));
	snprintf(rec->serial, sizeof(rec->serial), "%s", ca_col_text(q, 0));
	rec->subject = text(q, 1, &oom);
	rec->cn = text(q, 2, &oom);
	rec->kind = text(q, 3, &oom);
	rec->profile = text(q, 4, &oom);
	rec->spki_sha256 = text(q, 5, &oom);
	rec->superseded_by = text(q, 6, &oom);
	rec->notify = text(q, 7, &oom);
	rec->not_before = (time_t)ca_col_int64(q, 8);
	rec->not_after = (time_t)ca_col_int64(q, 9);
	rec->issued_at = (time_t)ca_col_int64(q, 10);
	rec->partition = ca_col_null(q, 11) ? -1 : (int)ca_col_int64(q, 11);
	rec->revoked = (int)ca_col_int64(q, 12);
	rec->reason = (int)ca_col_int64(q, 13);
	rec->revoked_at = (time_t)ca_col_int64(q, 14);
	der = ca_col_blob(q, 15, &n);
	if (n > 0 && (rec->der = malloc(n)) != NULL) {
		memcpy(rec->der, der, n);
		rec->der_len = n;
	}
	if (oom || rec->subject == NULL || rec->kind == NULL ||
	    rec->der == NULL) {
		ca_cert_record_free(rec);
		return ca_err(CA_EIO, "out of memory");
	}
	return CA_OK;
}

/* The first row of "SELECT record WHERE where" with arg bound to ?1 and
 * arg2 (when not NULL) to ?2. */
static int two_args_record(ca_store *st, const char *sql, const char *arg,
			   const char *arg2, struct ca_cert_record *rec,
			   int *found)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *q = NULL;
	int rc, r;

	memset(rec, 0, sizeof(*rec));
	*found = 0;
	rc = ca_store_prepare(st, sql, &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(q, 1, arg);
	if (arg2 != NULL)
		bound |= ca_bind_text(q, 2, arg2);
	r = ca_store_step(st, q, bound);
	if (r == SQLITE_ROW) {
		rc = record_of(q, rec);
		*found = rc == CA_OK;
	} else if (r != SQLITE_DONE) {
		rc = ca_store_fail(st, "cannot look the certificate up");
	}
	ca_store_done(st, q);
	return rc;
}

static int one_record(ca_store *st, const char *sql, const char *arg,
		      struct ca_cert_record *rec, int *found)
{
	return two_args_record(st, sql, arg, NULL, rec, found);
}

int ca_store_cert_lookup(ca_store *st, const char *serial,
			 struct ca_cert_record *rec, int *found)
{
	return one_record(st, "SELECT " RECORD_COLUMNS " WHERE c.serial = ?",
			  serial, rec, found);
}

/* Newest first: issued_at has one-second steps, rowid breaks the tie.
 * Through the SPKI index: request keys are hashes over the SPKI, and have
 * no index of their own (store/store.c). */
int ca_store_cert_by_request_key(ca_store *st, const char *spki_sha256,
				 const char *request_key,
				 struct ca_cert_record *rec, int *found)
{
	return two_args_record(
	    st,
	    "SELECT " RECORD_COLUMNS " WHERE c.spki_sha256 = ?1"
	    " AND c.request_key = ?2"
	    " ORDER BY c.issued_at DESC, c.rowid DESC LIMIT 1",
	    spki_sha256, request_key, rec, found);
}

int ca_store_cert_current(ca_store *st, const char *spki_sha256,
			  struct ca_cert_record *rec, int *found)
{
	return one_record(st,
			  "SELECT " RECORD_COLUMNS " WHERE c.spki_sha256 = ?"
			  " AND c.superseded_by IS NULL AND r.serial IS NULL"
			  " ORDER BY c.issued_at DESC, c.rowid DESC LIMIT 1",
			  spki_sha256, rec, found);
}

int ca_store_certs_named(ca_store *st, const char *name,
			 const unsigned char *ip, size_t ip_len,
			 ca_cert_each_fn each, void *ctx)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *q = NULL;
	struct ca_cert_record rec;
	int rc, r;

	/* A scan: lookups by name are an operator's question, not a step of
	 * signing. The DER holds a SAN's text as is (IA5String) and an IP
	 * address as its octets. */
	rc = ca_store_prepare(
	    st,
	    ca_store_sql(
		st,
		"SELECT " RECORD_COLUMNS " WHERE c.cn = ?1 COLLATE NOCASE"
		" OR instr(lower(c.der), lower(?1)) > 0"
		" OR (?2 IS NOT NULL AND instr(c.der, ?2) > 0)"
		" ORDER BY c.issued_at, c.serial",
		"SELECT " RECORD_COLUMNS " WHERE lower(c.cn) = lower(?1::text)"
		" OR strpos(lower(encode(c.der, 'escape')),"
		" lower(?1::text)) > 0"
		" OR (?2::bytea IS NOT NULL AND"
		" position(?2::bytea in c.der) > 0)"
		" ORDER BY c.issued_at, c.serial"),
	    &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(q, 1, name);
	if (ip != NULL)
		bound |= ca_bind_blob(q, 2, ip, ip_len);
	else
		bound |= ca_bind_null(q, 2);
	while ((r = ca_store_step(st, q, bound)) == SQLITE_ROW) {
		rc = record_of(q, &rec);
		if (rc == CA_OK) {
			rc = each(&rec, ctx);
			ca_cert_record_free(&rec);
		}
		if (rc < 0)
			break;
	}
	if (rc == CA_OK && r != SQLITE_DONE)
		rc = ca_store_fail(st, "cannot look certificates up");
	ca_store_done(st, q);
	return rc;
}
