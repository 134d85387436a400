/* The PostgreSQL backend of the state store (libpq).
 *
 * One database holds one CA. Several hosts share it: a write transaction
 * takes one transaction-level advisory lock (the key below) before it
 * reads what its commit advances (ca_store_serialise: the audit chain's
 * head, the CRL number, partition slots), so that commits are serialised
 * across hosts as SQLite serialises them on one host: the chain has one
 * head. A batch signs before it appends to the audit log, so the lock is
 * held for its commit only; gen-crl holds it throughout (its thisUpdate
 * is taken under it). Unique serials, nonces and CRL numbers are also
 * constraints of the schema, and the audit log, the issued certificates and
 * the executed approvals refuse UPDATE (audit), DELETE and TRUNCATE by
 * trigger; the tables' privileges are revoked from PUBLIC.
 */
#include "store/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "common/pin.h"

/* "hsmca" in ASCII: the advisory lock every write transaction takes. */
#define CA_PG_LOCK "SELECT pg_advisory_xact_lock(1752396643)"

const char ca_pg_schema[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE certs (\n"
    "  rowid BIGSERIAL UNIQUE,\n"
    "  serial TEXT PRIMARY KEY,\n"
    "  subject TEXT NOT NULL,\n"
    "  cn TEXT,\n"
    "  spki_sha256 TEXT NOT NULL,\n"
    "  not_before BIGINT NOT NULL,\n"
    "  not_after BIGINT NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  profile TEXT,\n"
    "  partition INTEGER,\n"
    "  request_key TEXT,\n"
    "  notify TEXT,\n"
    "  issued_at BIGINT NOT NULL,\n"
    "  der BYTEA NOT NULL,\n"
    "  superseded_by TEXT,\n"
    "  audit_seq BIGINT);\n"
    "CREATE INDEX certs_not_after ON certs(not_after);\n"
    "CREATE INDEX certs_partition ON certs(partition);\n"
    /* Hosts that sign the same request at once: the second commit is
     * refused, so a request is issued once (a re-run says "already
     * issued"); NULL request keys are distinct. It is also the SPKI
     * index: every random-key index is a random page per certificate. */
    PG_CERTS_REQUEST "CREATE TABLE revocations (\n"
    "  serial TEXT PRIMARY KEY REFERENCES certs(serial),\n"
    "  reason INTEGER,\n"
    "  revoked_at BIGINT NOT NULL,\n"
    "  recorded_at BIGINT NOT NULL,\n"
    "  partition INTEGER,\n"
    "  not_after BIGINT NOT NULL,\n"
    "  expired_listed BIGINT NOT NULL DEFAULT 0);\n"
    "CREATE INDEX revocations_partition ON revocations(partition, serial)"
    " INCLUDE (reason, revoked_at, not_after, expired_listed);\n"
    "CREATE TABLE crls (\n"
    "  number BIGINT PRIMARY KEY,\n"
    "  partition INTEGER,\n"
    "  this_update BIGINT NOT NULL,\n"
    "  next_update BIGINT NOT NULL,\n"
    "  entries BIGINT NOT NULL,\n"
    "  issued_at BIGINT NOT NULL,\n"
    "  sha256 TEXT);\n"
    "CREATE TABLE approvals (\n"
    "  rowid BIGSERIAL UNIQUE,\n"
    "  nonce TEXT PRIMARY KEY,\n"
    "  request_sha256 TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  approvers TEXT NOT NULL,\n"
    "  executed_at BIGINT NOT NULL);\n"
    "CREATE TABLE audit (\n"
    "  seq BIGINT PRIMARY KEY,\n"
    "  entry TEXT NOT NULL,\n"
    "  hash TEXT NOT NULL);\n"
    /* hsmca-audit show: the entries that name a serial (store.c). */
    PG_AUDIT_SERIAL "CREATE INDEX audit_renews ON audit"
    " ((entry::jsonb #>> '{details,renews}'));\n"
    "CREATE INDEX audit_batch ON audit(seq) WHERE"
    " jsonb_typeof(entry::jsonb #> '{details,serials}') = 'array';\n"
    "CREATE FUNCTION hsmca_refuse() RETURNS trigger LANGUAGE plpgsql AS\n"
    "  'BEGIN RAISE EXCEPTION ''%'', TG_ARGV[0]; END';\n"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit\n"
    "  FOR EACH ROW EXECUTE FUNCTION\n"
    "  hsmca_refuse('the audit log is append-only');\n"
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION\n"
    "  hsmca_refuse('the audit log is append-only');\n"
    "CREATE TRIGGER certs_no_delete BEFORE DELETE ON certs\n"
    "  FOR EACH ROW EXECUTE FUNCTION\n"
    "  hsmca_refuse('issued certificates are never deleted');\n"
    "CREATE TRIGGER certs_no_truncate BEFORE TRUNCATE ON certs\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION\n"
    "  hsmca_refuse('issued certificates are never deleted');\n"
    "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals\n"
    "  FOR EACH ROW EXECUTE FUNCTION\n"
    "  hsmca_refuse('executed approvals are never deleted');\n"
    "CREATE TRIGGER approvals_no_truncate BEFORE TRUNCATE ON approvals\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION\n"
    "  hsmca_refuse('executed approvals are never deleted');\n"
    "REVOKE ALL ON meta, certs, revocations, crls, approvals, audit"
    " FROM PUBLIC;\n";

static int pg_fail(ca_store *s, const char *what, const char *msg)
{
	size_t n;

	snprintf(s->pgerr, sizeof(s->pgerr), "%s", msg ? msg : "");
	n = strlen(s->pgerr);
	while (n > 0 && (s->pgerr[n - 1] == '\n' || s->pgerr[n - 1] == ' '))
		s->pgerr[--n] = '\0';
	return ca_err(CA_EIO, "state store %s: %s: %s", s->path, what,
		      s->pgerr);
}

/* A connection string must not carry a password: it is kept in ca.json
 * and shown in messages. The password comes from a source as a PIN does
 * (below), or libpq finds one in ~/.pgpass, PGPASSFILE or a service
 * file. */
static int refuse_password(const char *url)
{
	PQconninfoOption *o = PQconninfoParse(url, NULL), *i;
	int rc = CA_OK;

	if (o == NULL)
		return ca_err(CA_EUSAGE,
			      "not a PostgreSQL connection string: %s", url);
	for (i = o; i->keyword != NULL; i++)
		if (strcmp(i->keyword, "password") == 0 && i->val != NULL)
			rc =
			    ca_err(CA_EUSAGE,
				   "the store's connection string holds a "
				   "password: name its source (file:PATH, fd:N "
				   "or env:NAME) with --store-password-source "
				   "or keep it in ~/.pgpass, PGPASSFILE or a "
				   "service file instead");
	PQconninfoFree(o);
	return rc;
}

/* The store's password: its source from ca.json, and the password once
 * read (from the source named in pw_from), kept for the process's later
 * connections (an env: or fd: source can be read once) and wiped at
 * exit. */
static char *pw_source;
static int pw_given; /* pw_source is a command line's, not ca.json's */
static char *pw_from;
static struct ca_pin pw;
static int pw_atexit;

int ca_store_password_source(const char *source, int given)
{
	char *copy = NULL;
	int rc = CA_OK;

	if (source != NULL) {
		GUARD(ca_store_password_source_check(source));
		if ((copy = strdup(source)) == NULL)
			return ca_err(CA_EIO, "out of memory");
	}
	free(pw_source);
	pw_source = copy;
	pw_given = given && copy != NULL;
out:
	return rc;
}

int ca_store_password_source_check(const char *source)
{
	if (ca_pin_source_check(source) < 0)
		return ca_err(CA_EUSAGE, "bad store password source (not "
					 "shown): use file:PATH or env:NAME");
	if (strncmp(source, "fd:", 3) == 0)
		return ca_err(CA_EUSAGE,
			      "a store password source fd:N names a "
			      "descriptor of one run and is not recorded in "
			      "ca.json: record file:PATH or env:NAME, or give "
			      "fd:N in HSMCA_STORE_PASSWORD_SOURCE");
	return CA_OK;
}

static void pw_wipe(void)
{
	ca_pin_wipe(&pw);
	free(pw_from);
	pw_from = NULL;
}

/* The password for a connection, or NULL (*out) when no source is set. */
static int store_password(const char **out)
{
	const char *env = getenv("HSMCA_STORE_PASSWORD_SOURCE");
	char *src;
	int rc;

	*out = NULL;
	/* A command line's source, then the environment's, then
	 * ca.json's. */
	src = strdup(pw_given			   ? pw_source
		     : env != NULL && *env != '\0' ? env
		     : pw_source != NULL	   ? pw_source
						   : "");
	if (src == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (*src == '\0') {
		free(src);
		return CA_OK;
	}
	if (pw_from != NULL && strcmp(pw_from, src) == 0) {
		free(src);
		*out = pw.value;
		return CA_OK;
	}
	pw_wipe();
	rc = ca_pin_read(src, NULL, &pw);
	if (rc < 0) {
		free(src);
		pw_wipe();
		return ca_err_ctx(rc, "the state store's password");
	}
	pw_from = src;
	if (!pw_atexit && atexit(pw_wipe) == 0)
		pw_atexit = 1;
	*out = pw.value;
	return CA_OK;
}

/* A connection to url, with the password from its source if one is set. */
static int pg_connect(const char *url, PGconn **out)
{
	const char *keys[] = {"dbname", "password", NULL};
	const char *vals[] = {url, NULL, NULL};
	int rc = store_password(&vals[1]);

	*out = NULL;
	if (rc < 0)
		return rc;
	*out = PQconnectdbParams(keys, vals, 1);
	return CA_OK;
}

int ca_pg_exec(ca_store *s, const char *sql)
{
	PGresult *r = PQexec(s->pg, sql);
	int rc = CA_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pg_fail(s, "cannot run SQL", PQerrorMessage(s->pg));
	PQclear(r);
	return rc;
}

/* Is the database empty of our tables? */
static int pg_has_schema(ca_store *s, int *has)
{
	PGresult *r = PQexec(s->pg, "SELECT to_regclass('meta') IS NOT NULL");
	int rc = CA_OK;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		rc = pg_fail(s, "cannot read", PQerrorMessage(s->pg));
	else
		*has = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return rc;
}

int ca_pg_open(ca_store *s, const char *url, int create)
{
	int has = 0, rc;

	rc = ca_pq_load();
	if (rc == CA_OK)
		rc = refuse_password(url);
	if (rc == CA_OK)
		rc = pg_connect(url, &s->pg);
	if (rc < 0)
		return rc;
	if (s->pg != NULL && PQstatus(s->pg) != CONNECTION_OK &&
	    PQconnectionNeedsPassword(s->pg))
		return pg_fail(s,
			       "cannot connect (the server asks for a "
			       "password: name its source with "
			       "--store-password-source or "
			       "HSMCA_STORE_PASSWORD_SOURCE, or keep it "
			       "in ~/.pgpass)",
			       PQerrorMessage(s->pg));
	if (s->pg == NULL || PQstatus(s->pg) != CONNECTION_OK)
		return pg_fail(s, "cannot connect",
			       s->pg ? PQerrorMessage(s->pg) : "out of memory");
	/* Our messages are ours; the server's notices go nowhere. */
	PQsetNoticeProcessor(s->pg, NULL, NULL);
	rc = ca_pg_exec(s, "SET client_min_messages = warning; "
			   "SET synchronous_commit = on");
	if (rc == CA_OK)
		rc = pg_has_schema(s, &has);
	if (rc < 0)
		return rc;
	if (create && has)
		return ca_err(CA_EUSAGE,
			      "state store %s already holds a CA: give an "
			      "empty database",
			      s->path);
	if (!create && !has)
		return ca_err(CA_EUSAGE,
			      "no state store in %s: is this the CA's "
			      "database?",
			      s->path);
	return CA_OK;
}

void ca_pg_drop(const char *url)
{
	PGconn *c = NULL;

	if (ca_pq_load() != CA_OK || pg_connect(url, &c) != CA_OK)
		return;

	if (c != NULL && PQstatus(c) == CONNECTION_OK)
		PQclear(PQexec(c,
			       "DROP TABLE IF EXISTS revocations, certs, crls,"
			       " approvals, audit, meta CASCADE;"
			       " DROP FUNCTION IF EXISTS hsmca_refuse()"));
	PQfinish(c);
}

void ca_pg_close(ca_store *s)
{
	if (s->pg != NULL)
		PQfinish(s->pg);
	s->pg = NULL;
}

int ca_pg_begin(ca_store *s)
{
	return ca_pg_exec(s, "BEGIN ISOLATION LEVEL READ COMMITTED");
}

int ca_pg_lock(ca_store *s)
{
	return ca_pg_exec(s, CA_PG_LOCK);
}

/* SQLite's placeholders as PostgreSQL's: ?NNN is $NNN, a bare ? the next
 * number after the largest so far. Quoted text is copied as it is. */
static char *pg_sql(const char *sql, int *nparams)
{
	/* "?" becomes "$N" with N at most CA_STMT_PARAMS (2 digits). */
	size_t cap = strlen(sql) * 3 + 1;
	char *out = malloc(cap), *o = out;
	int max = 0, quoted = 0, w;

	if (out == NULL)
		return NULL;
	for (const char *p = sql; *p != '\0'; p++) {
		if (*p == '\'')
			quoted = !quoted;
		if (quoted || *p != '?') {
			*o++ = *p;
			continue;
		}
		if (p[1] >= '0' && p[1] <= '9') {
			char *end;
			long k = strtol(p + 1, &end, 10);

			if (k < 1 || k > CA_STMT_PARAMS) {
				max = CA_STMT_PARAMS + 1; /* refused below */
				break;
			}
			p = end - 1;
			if (k > max)
				max = (int)k;
			w = snprintf(o, (size_t)(out + cap - o), "$%ld", k);
		} else {
			w = snprintf(o, (size_t)(out + cap - o), "$%d", ++max);
		}
		if (w < 0 || w >= out + cap - o) {
			max = CA_STMT_PARAMS + 1;
			break;
		}
		o += w;
	}
	*o = '\0';
	*nparams = max;
	return out;
}

int ca_pg_prepare(ca_store *s, const char *sql, ca_stmt *st)
{
	char *text = pg_sql(sql, &st->nparams);
	PGresult *r;
	int rc = CA_OK;

	if (text == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (st->nparams > CA_STMT_PARAMS) {
		free(text);
		return ca_err(CA_EIO, "state store: too many parameters");
	}
	snprintf(st->name, sizeof(st->name), "q%u", ++s->pg_names);
	r = PQprepare(s->pg, st->name, text, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_fail(s, "cannot query", PQerrorMessage(s->pg));
	PQclear(r);
	free(text);
	return rc;
}

void ca_pg_clear_bindings(ca_stmt *st)
{
	for (int i = 0; i < CA_STMT_PARAMS; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
		st->lens[i] = st->fmts[i] = 0;
	}
}

int ca_pg_bind(ca_stmt *st, int i, const void *v, size_t len, int binary)
{
	if (i < 1 || i > CA_STMT_PARAMS)
		return SQLITE_RANGE;
	free(st->vals[i - 1]);
	st->vals[i - 1] = NULL;
	if (v == NULL)
		return SQLITE_OK;
	st->vals[i - 1] = malloc(len + 1);
	if (st->vals[i - 1] == NULL)
		return SQLITE_NOMEM;
	memcpy(st->vals[i - 1], v, len);
	st->vals[i - 1][len] = '\0';
	st->lens[i - 1] = (int)len;
	st->fmts[i - 1] = binary;
	return SQLITE_OK;
}

/* The SQLite result code of a failed statement: constraints (SQLSTATE
 * class 23) as SQLITE_CONSTRAINT, so that callers refuse them as such. */
static int pg_code(PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if (state != NULL && strncmp(state, "23", 2) == 0)
		return SQLITE_CONSTRAINT;
	if (state != NULL &&
	    (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
		return SQLITE_BUSY;
	return SQLITE_ERROR;
}

/* The end of a streamed query: its last results read and dropped. */
static void stream_drain(ca_store *s, ca_stmt *st)
{
	PGresult *r;

	while ((r = PQgetResult(s->pg)) != NULL)
		PQclear(r);
	st->sent = 0;
}

static int step_failed(ca_store *s, ca_stmt *st)
{
	int code = pg_code(st->res);

	snprintf(s->pgerr, sizeof(s->pgerr), "%s",
		 st->res != NULL ? PQresultErrorMessage(st->res)
				 : PQerrorMessage(s->pg));
	s->pgerr[strcspn(s->pgerr, "\n")] = '\0';
	PQclear(st->res);
	st->res = NULL;
	return code;
}

/* One row a step, in libpq's single-row mode. */
static int stream_step(ca_store *s, ca_stmt *st)
{
	if (!st->sent) {
		if (PQsendQueryPrepared(s->pg, st->name, st->nparams,
					(const char *const *)st->vals, st->lens,
					st->fmts, 0) != 1) {
			st->res = NULL;
			return step_failed(s, st);
		}
		(void)PQsetSingleRowMode(s->pg);
		st->sent = 1;
	}
	PQclear(st->res);
	st->res = PQgetResult(s->pg);
	switch (PQresultStatus(st->res)) {
	case PGRES_SINGLE_TUPLE:
		st->row = 0;
		st->nrows = 1;
		return SQLITE_ROW;
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		PQclear(st->res);
		st->res = NULL;
		st->nrows = 0;
		stream_drain(s, st);
		return SQLITE_DONE;
	default: {
		int code = step_failed(s, st);

		stream_drain(s, st);
		return code;
	}
	}
}

int ca_pg_step(ca_store *s, ca_stmt *st)
{
	if (st->stream)
		return stream_step(s, st);
	if (st->res == NULL) {
		ExecStatusType t;

		st->res = PQexecPrepared(s->pg, st->name, st->nparams,
					 (const char *const *)st->vals,
					 st->lens, st->fmts, 0);
		t = PQresultStatus(st->res);
		if (t == PGRES_COMMAND_OK) {
			char *end;
			long n = strtol(PQcmdTuples(st->res), &end, 10);

			s->changes = *end == '\0' && n >= 0 ? n : 0;
			st->nrows = 0;
		} else if (t == PGRES_TUPLES_OK) {
			st->nrows = PQntuples(st->res);
		} else {
			return step_failed(s, st);
		}
		st->row = -1;
	}
	if (++st->row < st->nrows)
		return SQLITE_ROW;
	return SQLITE_DONE;
}

void ca_pg_reset(ca_stmt *st)
{
	if (st->sent) {
		/* Left before its end: the rest is not wanted. */
		PGcancel *c = PQgetCancel(st->s->pg);
		char why[256];

		if (c != NULL) {
			(void)PQcancel(c, why, sizeof(why));
			PQfreeCancel(c);
		}
		PQclear(st->res);
		st->res = NULL;
		stream_drain(st->s, st);
	}
	st->stream = 0;
	PQclear(st->res);
	st->res = NULL;
	st->row = st->nrows = 0;
	free(st->blob);
	st->blob = NULL;
}

const char *ca_pg_text(ca_stmt *st, int i)
{
	if (st->res == NULL || st->row < 0 || st->row >= st->nrows ||
	    PQgetisnull(st->res, st->row, i))
		return NULL;
	return PQgetvalue(st->res, st->row, i);
}

const void *ca_pg_blob(ca_stmt *st, int i, size_t *len)
{
	const char *t = ca_pg_text(st, i);
	size_t n;

	*len = 0;
	if (t == NULL || t[0] != '\\' || t[1] != 'x')
		return NULL;
	n = strlen(t + 2);
	free(st->blob);
	st->blob = malloc(n / 2 + 1);
	if (st->blob == NULL || ca_unhex_lower(t + 2, n, st->blob) < 0)
		return NULL;
	n /= 2;
	*len = n;
	return st->blob;
}

int ca_pg_bytes(ca_store *s, long long *bytes)
{
	PGresult *r =
	    PQexec(s->pg, "SELECT pg_database_size(current_database())");
	int rc = CA_OK;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		rc = pg_fail(s, "cannot read the store's size",
			     PQerrorMessage(s->pg));
	else
		*bytes = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}
