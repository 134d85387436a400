#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/hex.h"
#include "store/behind.h"

/* "What touched this certificate" (hsmca-audit show) without reading the
 * whole log: a leaf's issuance is the entry its certs row names
 * (audit_seq); any other entry names one serial (details.serial, or
 * renews) or,
 * for a revoked.json batch, a list of them (details.serials: few entries,
 * in a partial index of their own). Stores made before these indexes get
 * them when first opened (ensure_indexes). */
#define AUDIT_INDEXES                                                          \
	"CREATE INDEX IF NOT EXISTS audit_serial ON audit(" AUDIT_SERIAL       \
	") WHERE " AUDIT_OTHER ";\n"                                           \
	"CREATE INDEX IF NOT EXISTS audit_renews ON audit(" AUDIT_RENEWS       \
	");\n"                                                                 \
	"CREATE INDEX IF NOT EXISTS audit_batch ON audit(seq) "                \
	"WHERE " AUDIT_BATCH ";\n"

static const char schema[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE certs (\n"
    "  serial TEXT PRIMARY KEY,\n"
    "  subject TEXT NOT NULL,\n"
    "  cn TEXT,\n"
    "  spki_sha256 TEXT NOT NULL,\n"
    "  not_before INTEGER NOT NULL,\n"
    "  not_after INTEGER NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  profile TEXT,\n"
    "  partition INTEGER,\n"
    "  request_key TEXT,\n"
    "  notify TEXT,\n"
    "  issued_at INTEGER NOT NULL,\n"
    "  der BLOB NOT NULL,\n"
    "  superseded_by TEXT,\n"
    "  audit_seq INTEGER);\n"
    /* Random keys: every index of one is a random page written per
     * certificate. A request key is found through its SPKI (the key is a
     * hash over it), so it has no index of its own. */
    "CREATE INDEX certs_spki ON certs(spki_sha256);\n"
    "CREATE INDEX certs_not_after ON certs(not_after);\n"
    "CREATE INDEX certs_partition ON certs(partition);\n"
    "CREATE TABLE revocations (\n"
    "  serial TEXT PRIMARY KEY REFERENCES certs(serial),\n"
    "  reason INTEGER,\n"
    "  revoked_at INTEGER NOT NULL,\n"
    "  recorded_at INTEGER NOT NULL,\n"
    "  partition INTEGER,\n"
    "  not_after INTEGER NOT NULL,\n"
    "  expired_listed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;\n"
    /* gen-crl streams entries in serial order: clustered on serial, and a
     * covering index per partition, so a million entries are read page
     * by page rather than row by row. */
    "CREATE INDEX revocations_partition ON revocations(partition, serial,"
    " reason, revoked_at, not_after, expired_listed);\n"
    "CREATE TABLE crls (\n"
    "  number INTEGER PRIMARY KEY,\n"
    "  partition INTEGER,\n"
    "  this_update INTEGER NOT NULL,\n"
    "  next_update INTEGER NOT NULL,\n"
    "  entries INTEGER NOT NULL,\n"
    "  issued_at INTEGER NOT NULL,\n"
    "  sha256 TEXT);\n"
    "CREATE TABLE approvals (\n"
    "  nonce TEXT PRIMARY KEY,\n"
    "  request_sha256 TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  approvers TEXT NOT NULL,\n"
    "  executed_at INTEGER NOT NULL);\n"
    "CREATE TABLE audit (\n"
    "  seq INTEGER PRIMARY KEY,\n"
    "  entry TEXT NOT NULL,\n"
    "  hash TEXT NOT NULL);\n"
    /* Append-only: the hash chain detects tampering, the triggers stop
     * accidents. */
    AUDIT_INDEXES
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN\n"
    "  SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN\n"
    "  SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n"
    "CREATE TRIGGER certs_no_delete BEFORE DELETE ON certs BEGIN\n"
    "  SELECT RAISE(ABORT, 'issued certificates are never deleted'); END;\n"
    "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals BEGIN\n"
    "  SELECT RAISE(ABORT, 'executed approvals are never deleted'); END;\n";

const char *ca_store_errmsg(ca_store *s)
{
	return s->pg != NULL ? s->pgerr : sqlite3_errmsg(s->db);
}

long ca_store_changes(ca_store *s)
{
	return s->pg != NULL ? s->changes : sqlite3_changes(s->db);
}

int ca_store_is_url(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 ||
	       strncmp(where, "postgres://", 11) == 0;
}

const char *ca_store_sql(const ca_store *s, const char *sqlite_sql,
			 const char *pg_sql)
{
	return s->pg != NULL ? pg_sql : sqlite_sql;
}

int ca_store_fail(ca_store *s, const char *what)
{
	return ca_err(CA_EIO, "state store %s: %s: %s", s->path, what,
		      ca_store_errmsg(s));
}

int ca_store_exec(ca_store *s, const char *sql)
{
	char *msg = NULL;
	int rc = CA_OK;

	if (s->pg != NULL)
		return ca_pg_exec(s, sql);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = ca_err(CA_EIO, "state store %s: %s", s->path,
			    msg ? msg : sqlite3_errmsg(s->db));
	}
	sqlite3_free(msg);
	return rc;
}

static int stmt_busy(const ca_stmt *st)
{
	return st->lite != NULL ? sqlite3_stmt_busy(st->lite)
				: st->res != NULL || st->sent;
}

static void stmt_clear(ca_stmt *st)
{
	if (st->lite != NULL)
		sqlite3_clear_bindings(st->lite);
	else
		ca_pg_clear_bindings(st);
}

static void stmt_reset(ca_stmt *st)
{
	if (st->lite != NULL)
		sqlite3_reset(st->lite);
	else
		ca_pg_reset(st);
}

static void stmt_free(ca_stmt *st)
{
	if (st == NULL)
		return;
	if (st->lite != NULL)
		sqlite3_finalize(st->lite);
	else if (st->s != NULL && st->s->pg != NULL && st->name[0] != '\0') {
		char sql[48];

		ca_pg_reset(st);
		ca_pg_clear_bindings(st);
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
		if (ca_pg_exec(st->s, sql) < 0)
			ca_err_clear(); /* the connection is closing */
	}
	free(st);
}

int ca_store_prepare(ca_store *s, const char *sql, ca_stmt **out)
{
	ca_stmt *st;
	int i, rc, free_slot = -1;

	for (i = 0; i < CA_STORE_STMTS; i++) {
		if (s->stmts[i].sql == NULL) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strcmp(s->stmts[i].sql, sql) == 0 &&
		    !stmt_busy(s->stmts[i].st)) {
			stmt_clear(s->stmts[i].st);
			*out = s->stmts[i].st;
			return CA_OK;
		}
	}
	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return ca_err(CA_EIO, "out of memory");
	st->s = s;
	if (s->pg != NULL)
		rc = ca_pg_prepare(s, sql, st);
	else if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    &st->lite, NULL) != SQLITE_OK)
		rc = ca_store_fail(s, "cannot query");
	else
		rc = CA_OK;
	if (rc < 0) {
		stmt_free(st);
		return rc;
	}
	if (free_slot >= 0 && (s->stmts[free_slot].sql = strdup(sql)) != NULL)
		s->stmts[free_slot].st = st;
	*out = st;
	return CA_OK;
}

void ca_store_done(ca_store *s, ca_stmt *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < CA_STORE_STMTS; i++) {
		if (s->stmts[i].st == st) {
			stmt_reset(st);
			return;
		}
	}
	stmt_free(st);
}

void ca_store_stream(ca_stmt *st)
{
	st->stream = st->lite == NULL;
}

int ca_bind_text(ca_stmt *st, int i, const char *v)
{
	if (st->lite != NULL)
		return sqlite3_bind_text(st->lite, i, v, -1, SQLITE_STATIC);
	return ca_pg_bind(st, i, v, v != NULL ? strlen(v) : 0, 0);
}

int ca_bind_int64(ca_stmt *st, int i, long long v)
{
	char text[24];

	if (st->lite != NULL)
		return sqlite3_bind_int64(st->lite, i, v);
	snprintf(text, sizeof(text), "%lld", v);
	return ca_pg_bind(st, i, text, strlen(text), 0);
}

int ca_bind_null(ca_stmt *st, int i)
{
	if (st->lite != NULL)
		return sqlite3_bind_null(st->lite, i);
	return ca_pg_bind(st, i, NULL, 0, 0);
}

int ca_bind_blob(ca_stmt *st, int i, const void *v, size_t len)
{
	if (st->lite != NULL)
		return sqlite3_bind_blob(st->lite, i, v, (int)len,
					 SQLITE_STATIC);
	return ca_pg_bind(st, i, v, len, 1);
}

const char *ca_col_text(ca_stmt *st, int i)
{
	if (st->lite != NULL)
		return (const char *)sqlite3_column_text(st->lite, i);
	return ca_pg_text(st, i);
}

long long ca_col_int64(ca_stmt *st, int i)
{
	const char *t;

	if (st->lite != NULL)
		return sqlite3_column_int64(st->lite, i);
	t = ca_pg_text(st, i);
	/* A boolean (x IS NOT NULL) reads as SQLite's 1 or 0. */
	if (t != NULL && (t[0] == 't' || t[0] == 'f') && t[1] == '\0')
		return t[0] == 't';
	return t != NULL ? strtoll(t, NULL, 10) : 0;
}

int ca_col_null(ca_stmt *st, int i)
{
	if (st->lite != NULL)
		return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
	return ca_pg_text(st, i) == NULL;
}

const void *ca_col_blob(ca_stmt *st, int i, size_t *len)
{
	int n;

	if (st->lite == NULL)
		return ca_pg_blob(st, i, len);
	n = sqlite3_column_bytes(st->lite, i);
	*len = n > 0 ? (size_t)n : 0;
	return sqlite3_column_blob(st->lite, i);
}

/* The page cache follows the store: 1 MiB up to 64 MiB of store, then
 * 1/64 of its size up to 16 MiB (a million certificates: the inner pages
 * of every index and one chunk's written pages stay cached, and lookups
 * read one leaf page each). A tool's memory stays bounded. */
static int size_cache(ca_store *s)
{
	long long bytes = 0, kib;
	char sql[64];
	int rc;

	GUARD(ca_store_bytes(s, &bytes));
	kib = bytes / 1024 / 64;
	if (kib < CA_STORE_CACHE_MIN_KIB)
		kib = CA_STORE_CACHE_MIN_KIB;
	if (kib > CA_STORE_CACHE_MAX_KIB)
		kib = CA_STORE_CACHE_MAX_KIB;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%lld", kib);
	rc = ca_store_exec(s, sql);
out:
	return rc;
}

static int open_db(const char *path, int flags, ca_store **out)
{
	ca_store *s = NULL;
	int rc = CA_EIO;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (ca_store_is_url(path)) {
		GUARD(ca_pg_open(s, path, (flags & SQLITE_OPEN_CREATE) != 0));
		*out = s;
		return CA_OK;
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		rc = ca_err(CA_EIO, "cannot open the state store %s: %s", path,
			    s->db ? ca_store_errmsg(s) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 30000);
	sqlite3_extended_result_codes(s->db, 1);
	/* Durable commits: a certificate reported as issued survives a
	 * crash or power loss. */
	rc = ca_store_exec(s, "PRAGMA journal_mode=WAL;"
			      "PRAGMA synchronous=FULL;"
			      "PRAGMA foreign_keys=ON;");
	if (rc < 0)
		goto out;
	GUARD(size_cache(s));
	*out = s;
	s = NULL;
	rc = CA_OK;
out:
	ca_store_close(s);
	return rc;
}

int ca_store_create(const char *path, ca_store **out)
{
	char ver[16];
	ca_store *s = NULL;
	int rc;

	if (!ca_store_is_url(path) && access(path, F_OK) == 0)
		return ca_err(CA_EUSAGE, "state store %s already exists", path);
	rc = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s);
	if (rc < 0)
		return rc;
	snprintf(ver, sizeof(ver), "%d", CA_STORE_SCHEMA);
	GUARD(ca_store_begin(s));
	GUARD(ca_store_exec(s, ca_store_sql(s, schema, ca_pg_schema)));
	GUARD(ca_store_meta_set(s, "schema", ver));
	GUARD(ca_store_meta_set(s, "crl_number", "0"));
	GUARD(ca_store_commit(s));
	*out = s;
	s = NULL;
out:
	if (s != NULL) {
		ca_store_rollback(s);
		ca_store_close(s);
	}
	return rc;
}

/* One schema step, in place: sql in one transaction, the version checked
 * again under the writers' lock (another tool may have migrated first). */
static int migrate(ca_store *s, const char *from, const char *to,
		   const char *sql)
{
	char *ver = NULL;
	int rc;

	GUARD(ca_store_begin(s));
	GUARD(ca_store_serialise(s));
	GUARD(ca_store_meta_get(s, "schema", &ver));
	if (ver != NULL && strcmp(ver, from) == 0) {
		GUARD(ca_store_exec(s, sql));
		GUARD(ca_store_meta_set(s, "schema", to));
	}
	GUARD(ca_store_commit(s));
out:
	if (rc < 0)
		ca_store_rollback(s);
	free(ver);
	return rc;
}

/* Schema 1 to 2: certs.superseded_by, the serial of the certificate
 * that renewed this one (NULL: not superseded). */
static const char migrate_1_2[] =
    "ALTER TABLE certs ADD COLUMN superseded_by TEXT";

/* Schema 2 to 3: certs.audit_seq, the audit entry of a leaf's issuance,
 * filled in from the log; audit_serial then leaves those entries out, and
 * on PostgreSQL the (SPKI, request key) index serves SPKI lookups too
 * (certs_spki goes, as does certs_cn, which no query used). */
static const char migrate_2_3[] =
    "ALTER TABLE certs ADD COLUMN audit_seq INTEGER;"
    "UPDATE certs SET audit_seq = a.seq FROM (SELECT seq,"
    " json_extract(entry, '$.details.serial') AS serial"
    " FROM audit WHERE NOT " AUDIT_OTHER ") AS a"
    " WHERE certs.serial = a.serial;"
    "DROP INDEX IF EXISTS audit_serial;" AUDIT_INDEXES;
static const char pg_migrate_2_3[] =
    "ALTER TABLE certs ADD COLUMN audit_seq BIGINT;"
    "UPDATE certs SET audit_seq = a.seq FROM (SELECT seq,"
    " entry::jsonb #>> '{details,serial}' AS serial"
    " FROM audit WHERE NOT " PG_AUDIT_OTHER ") AS a"
    " WHERE certs.serial = a.serial;"
    "DROP INDEX IF EXISTS audit_serial; DROP INDEX IF EXISTS certs_spki;"
    "DROP INDEX IF EXISTS certs_cn; DROP INDEX IF EXISTS "
    "certs_request;" PG_AUDIT_SERIAL PG_CERTS_REQUEST;

/* The steps from each older schema to the next, in order; the last one
 * ends at CA_STORE_SCHEMA. A PostgreSQL store begins at schema 2. */
static const struct step {
	const char *from, *to, *sql, *pg_sql;
} steps[] = {
    {"1", "2", migrate_1_2, migrate_1_2},
    {"2", "3", migrate_2_3, pg_migrate_2_3},
};

/* The audit indexes of a store made before them, created once. */
static int ensure_indexes(ca_store *s)
{
	long long n = 0;
	int rc;

	if (s->pg != NULL)
		return CA_OK;
	rc = ca_store_count(s,
			    "SELECT count(*) FROM sqlite_schema WHERE name IN "
			    "('audit_serial', 'audit_renews', 'audit_batch')",
			    NULL, NULL, &n);
	if (rc < 0 || n == 3)
		return rc;
	GUARD(ca_store_begin(s));
	GUARD(ca_store_exec(s, AUDIT_INDEXES));
	GUARD(ca_store_commit(s));
out:
	if (rc < 0)
		ca_store_rollback(s);
	return rc;
}

/* Open path; bring it to CA_STORE_SCHEMA unless as_is (a copy being
 * checked, which any known version may be and which is not changed). */
static int store_open(const char *path, int as_is, ca_store **out)
{
	char *ver = NULL, current[16];
	const char *at;
	ca_store *s = NULL;
	size_t i;
	int rc, known;

	if (!ca_store_is_url(path) && access(path, F_OK) != 0)
		return ca_err(CA_EUSAGE,
			      "no state store at %s: is this a CA directory?",
			      path);
	rc = open_db(path, SQLITE_OPEN_READWRITE, &s);
	if (rc < 0)
		return rc;
	GUARD(ca_store_meta_get(s, "schema", &ver));
	at = ver != NULL ? ver : "";
	snprintf(current, sizeof(current), "%d", CA_STORE_SCHEMA);
	known = strcmp(at, current) == 0;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && !known; i++) {
		if (strcmp(at, steps[i].from) != 0)
			continue;
		/* A copy of an older schema is known, and kept as it is. */
		known = as_is;
		if (as_is)
			break;
		GUARD(migrate(s, steps[i].from, steps[i].to,
			      ca_store_sql(s, steps[i].sql, steps[i].pg_sql)));
		at = steps[i].to;
		known = strcmp(at, current) == 0;
	}
	if (!known) {
		rc = ca_err(CA_EIO,
			    "state store %s has an unknown schema version %s",
			    path, ver ? ver : "(none)");
		goto out;
	}
	if (!as_is) {
		rc = ensure_indexes(s);
		if (rc < 0)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	free(ver);
	ca_store_close(s);
	return rc;
}

int ca_store_open(const char *path, ca_store **out)
{
	return store_open(path, 0, out);
}

int ca_store_open_copy(const char *path, ca_store **out)
{
	return store_open(path, 1, out);
}

void ca_store_destroy(const char *where)
{
	char side[4096];

	if (ca_store_is_url(where)) {
		ca_pg_drop(where);
		return;
	}
	unlink(where);
	snprintf(side, sizeof(side), "%s-wal", where);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", where);
	unlink(side);
}

void ca_store_close(ca_store *s)
{
	if (s == NULL)
		return;
	if (s->in_tx)
		ca_store_rollback(s);
	(void)ca_store_checkpoint_stop(s);
	for (int i = 0; i < CA_STORE_STMTS; i++) {
		stmt_free(s->stmts[i].st);
		free(s->stmts[i].sql);
	}
	if (s->pg != NULL || s->db == NULL) {
		ca_pg_close(s);
		free(s->path);
		free(s);
		return;
	}
	/* ca.db alone holds the state after every tool: a copy of it is a
	 * whole CA, and no committed transaction lives only in the WAL,
	 * where a damaged frame would silently drop it and every later one
	 * on the next open. (A reader still open elsewhere may keep part of
	 * the WAL; the last connection to close checkpoints the rest.) */
	/* Without waiting for readers: one holding an old snapshot would
	 * hold the exit for the whole busy timeout. */
	if (!s->untrusted) {
		sqlite3_busy_timeout(s->db, 0);
		(void)sqlite3_wal_checkpoint_v2(
		    s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	} else
		(void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
					1, NULL);
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

int ca_store_begin(ca_store *s)
{
	int rc = s->pg != NULL ? ca_pg_begin(s)
			       : ca_store_exec(s, "BEGIN IMMEDIATE");

	if (rc == CA_OK)
		s->in_tx = 1;
	return rc;
}

int ca_store_serialise(ca_store *s)
{
	int rc;

	if (s->pg == NULL || !s->in_tx || s->locked)
		return CA_OK;
	rc = ca_pg_lock(s);
	if (rc == CA_OK)
		s->locked = 1;
	return rc;
}

void ca_store_set_hook(ca_store *s, const struct ca_store_hook *hook)
{
	if (hook != NULL)
		s->hook = *hook;
	else
		memset(&s->hook, 0, sizeof(s->hook));
}

int ca_store_commit(ca_store *s)
{
	int rc = CA_OK;

	if (s->hook.before != NULL)
		rc = s->hook.before(s->hook.ctx, s);
	if (rc == CA_OK)
		rc = ca_store_exec(s, "COMMIT");
	if (rc == CA_OK) {
		s->in_tx = 0;
		s->locked = 0;
		if (s->hook.after != NULL)
			s->hook.after(s->hook.ctx, s);
	}
	return rc;
}

/* quick_check does not compare indexes with their tables: the entries of
 * each index (its first column, through the index alone) against the
 * table's rows (without it). A row missing from an index, or one too
 * many, is found at the cost of a scan of each. */
static int check_indexes(ca_store *s)
{
	ca_stmt *st = NULL;
	sqlite3_stmt *q = NULL;
	char sql[512];
	int rc, r;

	rc = ca_store_prepare(
	    s,
	    "SELECT m.name, m.tbl_name, i.name FROM sqlite_schema AS m, "
	    "pragma_index_info(m.name) AS i, pragma_index_list(m.tbl_name) AS l"
	    " WHERE m.type = 'index' AND i.seqno = 0 AND l.name = m.name AND"
	    " l.partial = 0 ORDER BY m.name",
	    &st);
	if (rc < 0)
		return rc;
	while ((r = ca_store_step(s, st, 0)) == SQLITE_ROW) {
		const char *idx = ca_col_text(st, 0);
		const char *tbl = ca_col_text(st, 1);
		const char *col = ca_col_text(st, 2);
		long long in_idx = -1, in_tbl = -2;

		if (idx == NULL || tbl == NULL || col == NULL)
			continue;
		snprintf(sql, sizeof(sql),
			 "SELECT (SELECT count(\"%s\") FROM \"%s\" INDEXED BY "
			 "\"%s\"), (SELECT count(\"%s\") FROM \"%s\" NOT "
			 "INDEXED)",
			 col, tbl, idx, col, tbl);
		if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK &&
		    sqlite3_step(q) == SQLITE_ROW) {
			in_idx = sqlite3_column_int64(q, 0);
			in_tbl = sqlite3_column_int64(q, 1);
		}
		sqlite3_finalize(q);
		q = NULL;
		if (in_idx != in_tbl) {
			rc = ca_err(CA_EPOLICY,
				    "state store %s is damaged: index %s holds "
				    "%lld entries, table %s %lld rows",
				    s->path, idx, (long long)in_idx, tbl,
				    (long long)in_tbl);
			break;
		}
	}
	if (rc == CA_OK && r != SQLITE_DONE)
		rc = ca_err(CA_EPOLICY, "state store %s is damaged: %s",
			    s->path, ca_store_errmsg(s));
	ca_store_done(s, st);
	return rc;
}

int ca_store_check(ca_store *s, int full)
{
	ca_stmt *st = NULL;
	char found[512] = "";
	size_t used = 0;
	int rc, r, rows = 0;

	/* The server keeps its pages and indexes whole (WAL, checksums where
	 * the cluster has them); the audit chain is checked above us. */
	if (s->pg != NULL)
		return CA_OK;
	rc = ca_store_prepare(
	    s, full ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)",
	    &st);
	if (rc < 0)
		return ca_err(CA_EPOLICY, "state store %s is damaged: %s",
			      s->path, ca_store_errmsg(s));
	while ((r = ca_store_step(s, st, 0)) == SQLITE_ROW) {
		const char *t = ca_col_text(st, 0);

		if (t == NULL || strcmp(t, "ok") == 0)
			continue;
		if (rows++ < 3 && used < sizeof(found) - 1)
			used +=
			    (size_t)snprintf(found + used, sizeof(found) - used,
					     "%s%s", used ? "; " : "", t);
		if (used >= sizeof(found))
			used = sizeof(found) - 1;
	}
	if (r != SQLITE_DONE)
		rc = ca_err(CA_EPOLICY, "state store %s is damaged: %s",
			    s->path, ca_store_errmsg(s));
	else if (rows > 0)
		rc = ca_err(CA_EPOLICY,
			    "state store %s is damaged (%s found %d "
			    "problem%s): %s",
			    s->path, full ? "integrity_check" : "quick_check",
			    rows, rows == 1 ? "" : "s", found);
	ca_store_done(s, st);
	if (rc == CA_OK && !full)
		rc = check_indexes(s);
	return rc;
}

int ca_store_bytes(ca_store *s, long long *bytes)
{
	ca_stmt *st = NULL;
	int rc;

	*bytes = 0;
	if (s->pg != NULL)
		return ca_pg_bytes(s, bytes);
	rc = ca_store_prepare(s,
			      "SELECT page_count * page_size FROM "
			      "pragma_page_count(), pragma_page_size()",
			      &st);
	if (rc < 0)
		return rc;
	if (ca_store_step(s, st, 0) == SQLITE_ROW)
		*bytes = ca_col_int64(st, 0);
	else
		rc = ca_store_fail(s, "cannot read the store's size");
	ca_store_done(s, st);
	return rc;
}

int ca_store_backup(ca_store *s, const char *dest)
{
	sqlite3 *to = NULL;
	sqlite3_backup *b = NULL;
	int fd, r, rc = CA_OK;

	if (s->pg != NULL)
		return ca_err(CA_EUSAGE,
			      "a PostgreSQL store is backed up by its server "
			      "(pg_dump, base backups), or copied to SQLite "
			      "with 'hsmca-audit migrate'");
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ca_err(errno == EEXIST ? CA_EUSAGE : CA_EIO,
			      "cannot create %s: %s%s", dest, strerror(errno),
			      errno == EEXIST ? " (never overwritten)" : "");
	close(fd);
	if (sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		rc = ca_err(CA_EIO, "cannot open %s: %s", dest,
			    to ? sqlite3_errmsg(to) : "out of memory");
		goto out;
	}
	b = sqlite3_backup_init(to, "main", s->db, "main");
	if (b == NULL) {
		rc = ca_err(CA_EIO, "cannot back up %s to %s: %s", s->path,
			    dest, sqlite3_errmsg(to));
		goto out;
	}
	while ((r = sqlite3_backup_step(b, 256)) == SQLITE_OK ||
	       r == SQLITE_BUSY || r == SQLITE_LOCKED)
		sqlite3_sleep(r == SQLITE_OK ? 0 : 50);
	if (sqlite3_backup_finish(b) != SQLITE_OK || r != SQLITE_DONE) {
		rc = ca_err(CA_EIO, "cannot back up %s to %s: %s", s->path,
			    dest, sqlite3_errmsg(to));
		goto out;
	}
	/* A backup is a file of its own: no WAL beside it. */
	if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		rc = ca_err(CA_EIO, "cannot finish %s: %s", dest,
			    sqlite3_errmsg(to));
		goto out;
	}
out:
	if (to != NULL)
		sqlite3_close_v2(to);
	if (rc == CA_OK) {
		fd = open(dest, O_RDONLY);
		if (fd < 0 || fsync(fd) != 0)
			rc = ca_err(CA_EIO, "cannot sync %s: %s", dest,
				    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (rc < 0)
		unlink(dest);
	return rc;
}

int ca_store_nonce_digest(ca_store *s, long limit, long *count, char hex[65])
{
	ca_stmt *st = NULL;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	unsigned char md[32];
	int rc, r, bound;

	*count = 0;
	if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h);
		return ca_err(CA_EIO, "cannot hash: out of memory");
	}
	rc = ca_store_prepare(s,
			      "SELECT nonce FROM approvals ORDER BY rowid "
			      "LIMIT ?",
			      &st);
	if (rc < 0)
		goto out;
	/* All: LIMIT -1 in SQLite, LIMIT NULL in PostgreSQL. */
	bound = limit < 0 && s->pg != NULL ? ca_bind_null(st, 1)
					   : ca_bind_int64(st, 1, limit);
	while ((r = ca_store_step(s, st, bound)) == SQLITE_ROW) {
		const char *n = ca_col_text(st, 0);

		if (n != NULL)
			EVP_DigestUpdate(h, n, strlen(n));
		EVP_DigestUpdate(h, "\n", 1);
		(*count)++;
	}
	if (r != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot read the executed approvals");
	else if (EVP_DigestFinal_ex(h, md, NULL) != 1)
		rc = ca_err(CA_EIO, "cannot hash the executed approvals");
	else
		ca_hex(md, 32, hex);
	ca_store_done(s, st);
out:
	EVP_MD_CTX_free(h);
	return rc;
}

void ca_store_rollback(ca_store *s)
{
	if (s == NULL || !s->in_tx)
		return;
	s->locked = 0;
	if (s->pg != NULL) {
		/* Keep the message of what failed, not the rollback's. */
		if (PQtransactionStatus(s->pg) != PQTRANS_IDLE)
			PQclear(PQexec(s->pg, "ROLLBACK"));
	} else
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = 0;
}

int ca_store_step(ca_store *s, ca_stmt *st, int bound)
{
	if (bound != SQLITE_OK)
		return bound;
	return st->lite != NULL ? sqlite3_step(st->lite) : ca_pg_step(s, st);
}

static int step_done(ca_store *s, ca_stmt *st, int bound, const char *what)
{
	int r = ca_store_step(s, st, bound);

	if (r != SQLITE_DONE) {
		if ((r & 0xff) == SQLITE_CONSTRAINT &&
		    strstr(ca_store_errmsg(s), "certs_request") != NULL)
			return ca_err(CA_EPOLICY,
				      "state store: %s refused: the request "
				      "was issued meanwhile by another process "
				      "or host",
				      what);
		if ((r & 0xff) == SQLITE_CONSTRAINT)
			return ca_err(CA_EPOLICY, "state store: %s refused: %s",
				      what, ca_store_errmsg(s));
		return ca_store_fail(s, what);
	}
	return CA_OK;
}

int ca_store_meta_set(ca_store *s, const char *key, const char *value)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *st = NULL;
	int rc;

	rc = ca_store_prepare(s,
			      "INSERT INTO meta(key, value) VALUES (?, ?)"
			      " ON CONFLICT(key) DO UPDATE SET"
			      " value = excluded.value",
			      &st);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(st, 1, key);
	bound |= ca_bind_text(st, 2, value);
	rc = step_done(s, st, bound, "cannot record setting");
	ca_store_done(s, st);
	return rc;
}

int ca_store_meta_get(ca_store *s, const char *key, char **value)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *st = NULL;
	int rc, r;

	*value = NULL;
	rc = ca_store_prepare(s, "SELECT value FROM meta WHERE key = ?", &st);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(st, 1, key);
	r = ca_store_step(s, st, bound);
	if (r == SQLITE_ROW) {
		*value = strdup(ca_col_text(st, 0));
		rc = *value ? CA_OK : ca_err(CA_EIO, "out of memory");
	} else if (r != SQLITE_DONE) {
		rc = ca_store_fail(s, "cannot read setting");
	}
	ca_store_done(s, st);
	return rc;
}

int ca_store_cert_add(ca_store *s, const struct ca_cert_row *row)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *st = NULL;
	int rc;

	rc = ca_store_prepare(
	    s,
	    "INSERT INTO certs(serial, subject, cn, spki_sha256, not_before,"
	    " not_after, kind, profile, partition, request_key, notify,"
	    " issued_at, der, audit_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    &st);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(st, 1, row->serial);
	bound |= ca_bind_text(st, 2, row->subject);
	bound |= ca_bind_text(st, 3, row->cn);
	bound |= ca_bind_text(st, 4, row->spki_sha256);
	bound |= ca_bind_int64(st, 5, (long long)row->not_before);
	bound |= ca_bind_int64(st, 6, (long long)row->not_after);
	bound |= ca_bind_text(st, 7, row->kind);
	bound |= ca_bind_text(st, 8, row->profile);
	if (row->partition >= 0)
		bound |= ca_bind_int64(st, 9, row->partition);
	else
		bound |= ca_bind_null(st, 9);
	bound |= ca_bind_text(st, 10, row->request_key);
	bound |= ca_bind_text(st, 11, row->notify);
	bound |= ca_bind_int64(st, 12, (long long)time(NULL));
	bound |= ca_bind_blob(st, 13, row->der, row->der_len);
	if (row->audit_seq > 0)
		bound |= ca_bind_int64(st, 14, row->audit_seq);
	else
		bound |= ca_bind_null(st, 14);
	rc = step_done(s, st, bound, "recording the certificate");
	ca_store_done(s, st);
	return rc;
}

int ca_store_count(ca_store *s, const char *sql, const char *arg,
		   const char *arg2, long long *count)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *st = NULL;
	int rc;

	*count = 0;
	rc = ca_store_prepare(s, sql, &st);
	if (rc < 0)
		return rc;
	if (arg != NULL)
		bound |= ca_bind_text(st, 1, arg);
	if (arg2 != NULL)
		bound |= ca_bind_text(st, 2, arg2);
	if (ca_store_step(s, st, bound) == SQLITE_ROW)
		*count = ca_col_int64(st, 0);
	else
		rc = ca_store_fail(s, "cannot query");
	ca_store_done(s, st);
	return rc;
}

static int count_query2(ca_store *s, const char *sql, const char *arg,
			const char *arg2, int *count)
{
	long long n = 0;
	int rc = ca_store_count(s, sql, arg, arg2, &n);

	*count = (int)n;
	return rc;
}

static int count_query(ca_store *s, const char *sql, const char *arg,
		       int *count)
{
	return count_query2(s, sql, arg, NULL, count);
}

int ca_store_spki_count(ca_store *s, const char *spki_sha256, int *count)
{
	return count_query(s,
			   "SELECT count(*) FROM certs WHERE spki_sha256 = ?",
			   spki_sha256, count);
}

int ca_store_cert_supersede(ca_store *s, const char *serial, const char *by)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *st = NULL;
	int rc;

	rc = ca_store_prepare(s,
			      "UPDATE certs SET superseded_by = ?2"
			      " WHERE serial = ?1 AND superseded_by IS NULL",
			      &st);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(st, 1, serial);
	bound |= ca_bind_text(st, 2, by);
	rc = step_done(s, st, bound, "marking the renewed certificate");
	if (rc == CA_OK && ca_store_changes(s) != 1)
		rc = ca_err(CA_EPOLICY,
			    "certificate %s is not in the store or was "
			    "renewed already",
			    serial);
	ca_store_done(s, st);
	return rc;
}

int ca_store_nonce_used(ca_store *s, const char *nonce, int *used)
{
	return count_query(s, "SELECT count(*) FROM approvals WHERE nonce = ?",
			   nonce, used);
}

int ca_store_nonce_executed(ca_store *s, const char *nonce,
			    const char *request_sha256, int *done)
{
	return count_query2(s,
			    "SELECT count(*) FROM approvals WHERE nonce = ?1"
			    " AND request_sha256 = ?2",
			    nonce, request_sha256, done);
}

int ca_store_nonce_record(ca_store *s, const char *nonce,
			  const char *request_sha256, const char *action,
			  const char *approvers_json)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *st = NULL;
	int rc;

	rc = ca_store_prepare(s,
			      "INSERT INTO approvals(nonce, request_sha256,"
			      " action, approvers, executed_at)"
			      " VALUES (?,?,?,?,?)",
			      &st);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(st, 1, nonce);
	bound |= ca_bind_text(st, 2, request_sha256);
	bound |= ca_bind_text(st, 3, action);
	bound |= ca_bind_text(st, 4, approvers_json);
	bound |= ca_bind_int64(st, 5, (long long)time(NULL));
	rc = step_done(s, st, bound, "recording the executed approval");
	ca_store_done(s, st);
	return rc;
}
