/* The statement and the two backends behind store.h: SQLite (store.c) and
 * PostgreSQL through libpq (pg.c). Only store/ sees this file. */
#ifndef HSMCA_STORE_INTERNAL_H
#define HSMCA_STORE_INTERNAL_H

#include "store/pq.h"

#include "store/store.h"

/* Parameters of one statement, at most (certs takes 13). */
#define CA_STMT_PARAMS 16

struct ca_stmt {
	ca_store *s;
	sqlite3_stmt *lite; /* SQLite */
	/* PostgreSQL: a statement prepared on the connection under name,
	 * its parameters (text, or binary for blobs) and its result, read
	 * one row a step. */
	char name[16];
	int nparams;
	char *vals[CA_STMT_PARAMS];
	int lens[CA_STMT_PARAMS];
	int fmts[CA_STMT_PARAMS];
	PGresult *res;
	int row, nrows;
	int stream;	     /* read one row at a time (ca_store_stream) */
	int sent;	     /* a streamed query is under way */
	unsigned char *blob; /* the last bytea read, decoded */
};

/* PostgreSQL's schema: the same tables as SQLite's (store.c), with
 * BIGINT times, BYTEA, rowid columns and plpgsql triggers. */
extern const char ca_pg_schema[];
/* Two of its indexes, which schema 3 changed (store.c migrate_2_3). */
#define PG_CERTS_REQUEST                                                       \
	"CREATE UNIQUE INDEX certs_request ON certs(spki_sha256, "             \
	"request_key);\n"
#define PG_AUDIT_SERIAL                                                        \
	"CREATE INDEX audit_serial ON audit"                                   \
	" ((entry::jsonb #>> '{details,serial}')) WHERE " PG_AUDIT_OTHER ";\n"
/* PostgreSQL: connect to url (create: its database must hold no CA yet;
 * else it must hold one), begin a write transaction, run SQL, prepare,
 * step and reset a statement. */
int ca_pg_open(ca_store *s, const char *url, int create) CA_WUR;
int ca_pg_begin(ca_store *s) CA_WUR;
/* The writers' advisory lock, until the transaction ends. */
int ca_pg_lock(ca_store *s) CA_WUR;
/* Drop hsmca's tables and trigger function from the database of url. */
void ca_pg_drop(const char *url);
void ca_pg_close(ca_store *s);
int ca_pg_exec(ca_store *s, const char *sql) CA_WUR;
int ca_pg_prepare(ca_store *s, const char *sql, ca_stmt *st) CA_WUR;
int ca_pg_step(ca_store *s, ca_stmt *st);
void ca_pg_reset(ca_stmt *st);
void ca_pg_clear_bindings(ca_stmt *st);
int ca_pg_bind(ca_stmt *st, int i, const void *v, size_t len, int binary);
const char *ca_pg_text(ca_stmt *st, int i);
const void *ca_pg_blob(ca_stmt *st, int i, size_t *len);
/* The database's size in bytes. */
int ca_pg_bytes(ca_store *s, long long *bytes) CA_WUR;

#endif
