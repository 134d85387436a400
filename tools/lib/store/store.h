/* The CA state store: DIR/ca.db (SQLite, WAL, synchronous=FULL), or a
 * PostgreSQL database that several signing hosts share (store/pg.c), named
 * by a connection string in ca.json ("store": "postgresql://...").
 *
 * Tables: meta (key/value: identity, pinned quorum hash, CRL counter),
 * certs (every certificate issued, with its DER, SPKI SHA-256 index, CRL
 * partition and, once renewed, the serial that superseded it),
 * revocations, crls (every CRL number used), approvals
 * (executed approval nonces) and audit (the hash-chained log, see
 * store/audit.h). A tool changes state and appends its audit entry in one
 * transaction.
 */
#ifndef HSMCA_STORE_STORE_H
#define HSMCA_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "common/err.h"

#define CA_STORE_SCHEMA 3

#define CA_STORE_STMTS 48
/* Page cache bounds (store.c size_cache). */
#define CA_STORE_CACHE_MIN_KIB 1024
#define CA_STORE_CACHE_MAX_KIB 16384

typedef struct ca_store ca_store;
/* A prepared statement on either backend. Steps return SQLite's result
 * codes on both: SQLITE_ROW, SQLITE_DONE, SQLITE_CONSTRAINT (a unique or
 * foreign key refused), others as errors. */
typedef struct ca_stmt ca_stmt;

/* Called around every commit: before() inside the transaction (a failure
 * aborts the commit: the caller rolls back), after() once it is durable.
 * The token anchor (sign/anchor.h) advances this way. */
struct ca_store_hook {
	int (*before)(void *ctx, ca_store *s);
	void (*after)(void *ctx, ca_store *s);
	void *ctx;
};

struct ca_store {
	sqlite3 *db;	    /* SQLite, or */
	struct pg_conn *pg; /* PostgreSQL */
	char pgerr[512];    /* its last error */
	unsigned pg_names;  /* statements prepared on it */
	long changes;	    /* rows the last UPDATE changed */
	int locked;	    /* this transaction holds the writers' lock */
	char *path;	    /* the file, or the connection string */
	int in_tx;
	/* Found damaged or behind its anchor: nothing more is written to it
	 * (no refusal entry, no checkpoint: the evidence stays as found). */
	int untrusted;
	struct ca_store_hook hook;
	struct ca_ckpt *ckpt; /* checkpoints behind a batch (behind.h) */
	/* Prepared statements kept for reuse, by SQL text. */
	struct {
		char *sql;
		ca_stmt *st;
	} stmts[CA_STORE_STMTS];
};

struct ca_cert_row {
	const char *serial;	 /* lowercase hex, as encoded (no sign byte) */
	const char *subject;	 /* RFC 2253 one-line */
	const char *cn;		 /* may be NULL */
	const char *spki_sha256; /* hex */
	time_t not_before, not_after;
	const char *kind;	 /* root, subca, cross, leaf */
	const char *profile;	 /* may be NULL */
	int partition;		 /* CRL partition, -1 for none */
	const char *request_key; /* the request's key (issue/renew.h), or
				  * NULL */
	const unsigned char *der;
	size_t der_len;
	const char *notify; /* JSON text or NULL */
	long audit_seq;	    /* the entry that records the issuance, 0: none */
};

/* Is where a PostgreSQL connection string (postgresql://, postgres://)? */
int ca_store_is_url(const char *where);
/* The source of the PostgreSQL store's password, as a PIN's (file:PATH,
 * env:NAME; common/pin.h): ca.json's store_password_source (given 0),
 * set by the caller that read ca.json, or a command line's (given 1);
 * NULL for none. $HSMCA_STORE_PASSWORD_SOURCE (which may also be fd:N)
 * comes after a command line's and before ca.json's. Without any, libpq
 * finds a password itself (~/.pgpass, PGPASSFILE, a service file). The
 * password is read once, when a connection first needs it, kept for the
 * process's later connections and wiped at exit. CA_EUSAGE for a
 * malformed source or fd:N (ca_store_password_source_check). */
int ca_store_password_source(const char *source, int given) CA_WUR;
/* A source that may be recorded in ca.json: file:PATH or env:NAME. */
int ca_store_password_source_check(const char *source) CA_WUR;
/* Create DIR/ca.db with the schema (fails if it exists), or the schema in
 * an empty PostgreSQL database. */
int ca_store_create(const char *path, ca_store **out) CA_WUR;
int ca_store_open(const char *path, ca_store **out) CA_WUR;
/* A copy being checked (a backup before a restore): opened as it is, an
 * older schema not brought up to date, nothing written. */
int ca_store_open_copy(const char *path, ca_store **out) CA_WUR;
/* Remove a store made by a creation or a copy that did not complete: the
 * file (and its WAL), or hsmca's tables in the PostgreSQL database (which
 * held no CA before). Best effort: the failure's message is kept. */
void ca_store_destroy(const char *where);
/* Closing checkpoints the WAL into ca.db (wal_checkpoint(TRUNCATE)): a
 * tool leaves ca.db self-contained when it exits. */
void ca_store_close(ca_store *s);
void ca_store_set_hook(ca_store *s, const struct ca_store_hook *hook);

/* PRAGMA quick_check and every index's entries counted against its
 * table's rows (full: integrity_check): CA_EPOLICY "state store PATH is
 * damaged: ..." naming what was found. */
int ca_store_check(ca_store *s, int full) CA_WUR;
/* The store's size in bytes (its pages, the WAL's not counted). */
int ca_store_bytes(ca_store *s, long long *bytes) CA_WUR;
/* Copy the store to dest (which must not exist) with SQLite's online
 * backup API; dest is created 0600 and synced. */
int ca_store_backup(ca_store *s, const char *dest) CA_WUR;
/* Executed approval nonces, the first limit (all: -1) in the order they
 * were executed: how many, and the SHA-256 (hex) of them, each followed by
 * a newline (the digest the token anchor keeps). */
int ca_store_nonce_digest(ca_store *s, long limit, long *count,
			  char hex[65]) CA_WUR;

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (PostgreSQL: BEGIN; writers are
 * serialised from ca_store_serialise on, store/pg.c). */
int ca_store_begin(ca_store *s) CA_WUR;
int ca_store_commit(ca_store *s) CA_WUR;
void ca_store_rollback(ca_store *s);
/* From here to the end of the transaction, no other writer of the store,
 * on any host: before reading what a commit advances (the audit chain's
 * head, the CRL number, how full partitions are). SQLite's BEGIN IMMEDIATE
 * holds that from the start; on PostgreSQL it is an advisory lock, so that
 * what a transaction does before (signing a batch) runs beside other hosts.
 * Outside a transaction: nothing to do. */
int ca_store_serialise(ca_store *s) CA_WUR;

/* Run SQL with no results. */
int ca_store_exec(ca_store *s, const char *sql) CA_WUR;
/* Prepare a statement ("cannot query the state store: ..." on failure).
 * Statements are kept and reused by SQL text (preparing costs more than
 * running most of ours); give each back with ca_store_done(). */
int ca_store_prepare(ca_store *s, const char *sql, ca_stmt **st) CA_WUR;
void ca_store_done(ca_store *s, ca_stmt *st);
/* Read st's rows one at a time rather than all at once (PostgreSQL:
 * libpq's single-row mode), for a scan of a whole table; nothing else may
 * run on the store until st is done. SQLite reads so anyway. */
void ca_store_stream(ca_stmt *st);
/* The SQL for this store's backend: most statements are the same on both
 * (SQLite's ?N placeholders become $N), a few are written for each. */
const char *ca_store_sql(const ca_store *s, const char *sqlite_sql,
			 const char *pg_sql);
/* Parameters (1-based; text NULL binds NULL): SQLITE_OK or an error code,
 * OR'ed into a step's bound argument. */
int ca_bind_text(ca_stmt *st, int i, const char *v);
int ca_bind_int64(ca_stmt *st, int i, long long v);
int ca_bind_null(ca_stmt *st, int i);
int ca_bind_blob(ca_stmt *st, int i, const void *v, size_t len);
/* Columns of the row a step is on (0-based). */
const char *ca_col_text(ca_stmt *st, int i);
long long ca_col_int64(ca_stmt *st, int i);
int ca_col_null(ca_stmt *st, int i);
const void *ca_col_blob(ca_stmt *st, int i, size_t *len);
/* The backend's last error message; rows the last UPDATE changed. */
const char *ca_store_errmsg(ca_store *s);
long ca_store_changes(ca_store *s);
/* Record a SQLite failure as a CA_EIO message. */
int ca_store_fail(ca_store *s, const char *what);
/* sqlite3_step, unless a bind failed: bound is the statement's
 * sqlite3_bind_* results OR'ed (SQLITE_OK is 0); a failed bind is returned
 * as the step's result, its message left on the connection for
 * ca_store_fail. */
int ca_store_step(ca_store *s, ca_stmt *st, int bound);

/* count(*) of sql, arg bound to ?1 and arg2 to ?2 when not NULL. */
int ca_store_count(ca_store *s, const char *sql, const char *arg,
		   const char *arg2, long long *count) CA_WUR;

/* The expressions of the audit indexes (SQLite; store.c), for queries
 * that want them: an entry that is not JSON (damage the chain reports)
 * indexes as NULL rather than failing. */
#define AUDIT_SERIAL                                                           \
	"(CASE WHEN json_valid(entry) THEN "                                   \
	"json_extract(entry, '$.details.serial') END)"
#define AUDIT_RENEWS                                                           \
	"(CASE WHEN json_valid(entry) THEN "                                   \
	"json_extract(entry, '$.details.renews') END)"
#define AUDIT_BATCH                                                            \
	"(CASE WHEN json_valid(entry) THEN "                                   \
	"json_type(entry, '$.details.serials') END) = 'array'"
/* The entries audit_serial indexes: all but a leaf's issuance, which its
 * certs row names (certs.audit_seq), so that issuing a certificate writes
 * no random page of that index. */
#define AUDIT_OTHER                                                            \
	"(CASE WHEN json_valid(entry) THEN NOT ("                              \
	"json_extract(entry, '$.action') IS 'sign-leaf' AND "                  \
	"json_extract(entry, '$.detail') IS 'certificate issued') END)"
#define PG_AUDIT_OTHER                                                         \
	"((entry::jsonb ->> 'action') IS DISTINCT FROM 'sign-leaf' OR "        \
	"(entry::jsonb ->> 'detail') IS DISTINCT FROM 'certificate issued')"

int ca_store_meta_set(ca_store *s, const char *key, const char *value) CA_WUR;
/* *value is malloc'd, NULL when absent. */
int ca_store_meta_get(ca_store *s, const char *key, char **value) CA_WUR;

int ca_store_cert_add(ca_store *s, const struct ca_cert_row *row) CA_WUR;
/* Number of certificates ever issued for this SPKI SHA-256 (hex). */
int ca_store_spki_count(ca_store *s, const char *spki_sha256,
			int *count) CA_WUR;
/* Mark serial superseded by the certificate by (a renewal). CA_EPOLICY
 * when serial is not in the store or is superseded already. */
int ca_store_cert_supersede(ca_store *s, const char *serial,
			    const char *by) CA_WUR;

/* Approval nonces: replay protection. */
int ca_store_nonce_used(ca_store *s, const char *nonce, int *used) CA_WUR;
/* *done = 1 when exactly this request (nonce and request file SHA-256)
 * was executed on this store. */
int ca_store_nonce_executed(ca_store *s, const char *nonce,
			    const char *request_sha256, int *done) CA_WUR;
int ca_store_nonce_record(ca_store *s, const char *nonce,
			  const char *request_sha256, const char *action,
			  const char *approvers_json) CA_WUR;

#endif
