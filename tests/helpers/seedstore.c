/* seedstore: fill a CA's state store with N issued leaf certificates, M of
 * them revoked, for the large-store benchmarks (scripts/bench-leaf, part
 * large; scripts/bench-scale).
 *
 *   seedstore CA_DIR N [--revoked M]
 *
 * The store is the one ca.json names: DIR/ca.db or a PostgreSQL database.
 * The newest certificate in CA_DIR's store is the template (issue one with
 * hsmca-sign-leaf first). Each new row is a copy of its DER with another
 * serial written over the template's (same length: 0x01 + 16 bytes), a
 * common name seedNNNNNNN.example, and a SPKI SHA-256 and request key of
 * their own (SHA-256 of the row number: random-looking, like real ones),
 * in the row format hsmca-sign-leaf writes (ca_store_cert_add), each with
 * the audit entry it writes (ca_audit_append: the hash chain holds, and
 * hsmca-audit verify passes). Each row is bound to the CRL partition
 * hsmca-sign-leaf would bind it to (ca.json "crl": by serial, or filling
 * partitions in issuance order from where the store stands), through the
 * same code (ca_partition_assign). The copies' signatures do not verify
 * (their serial changed) and their CRL distribution point stays the
 * template's: the rows are for the store's size, not for use.
 *
 * --revoked M: M of the rows, spread evenly, are revoked as hsmca-revoke
 * revokes one (a revocations row with the certificate's partition and
 * notAfter, reason keyCompromise, dated an hour ago, and its "revoke"
 * audit entry), in the same transaction as the certificate.
 *
 * Committed every 20,000 rows; durability is off while seeding (a crash
 * leaves a store to throw away). SQLite: synchronous=OFF, the WAL
 * checkpointed at the end. PostgreSQL: the rows are written by the same
 * code into a scratch SQLite store (DIR/seed-scratch.db, its audit log
 * continuing the database's chain from its last entry), then each chunk
 * goes over with COPY in one transaction (synchronous_commit=off) and is
 * deleted from the scratch store; at the end the tables are vacuumed and
 * analysed, as autovacuum would after a bulk load. Prints "seeded N,
 * revoked M".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pq.h"
#include <openssl/x509.h>
#include <unistd.h>

#include "base/hex.h"
#include "base/sha256.h"
#include "base/time.h"
#include "issue/partition.h"
#include "out/cadir.h"
#include "store/audit.h"
#include "store/revocation.h"
#include "store/store.h"
#include "x509/cert.h"
#include "x509/crl.h"

#define BATCH 20000

static int fail(const char *what)
{
	fprintf(stderr, "seedstore: %s: %s\n", what, ca_errmsg());
	return 1;
}

/* The newest certificate's DER (malloc'd) and its profile. */
static int template_der(ca_store *s, unsigned char **der, int *len,
			char *profile, size_t plen)
{
	ca_stmt *st = NULL;
	const char *prof;
	const void *blob;
	size_t n;
	int rc = CA_EIO;

	if (ca_store_prepare(s,
			     "SELECT der, profile FROM certs WHERE kind = "
			     "'leaf' ORDER BY rowid DESC LIMIT 1",
			     &st) < 0)
		return CA_EIO;
	if (ca_store_step(s, st, 0) == SQLITE_ROW) {
		blob = ca_col_blob(st, 0, &n);
		*len = (int)n;
		*der = malloc(n);
		prof = ca_col_text(st, 1);
		snprintf(profile, plen, "%s", prof ? prof : "server");
		if (*der != NULL && blob != NULL) {
			memcpy(*der, blob, n);
			rc = CA_OK;
		}
	}
	ca_store_done(s, st);
	return rc;
}

/* Digest of "TAG NUMBER" as hex. */
static void tagged_hex(const char *tag, long i, char out[65])
{
	char text[64];

	snprintf(text, sizeof(text), "%s %ld", tag, i);
	ca_sha256_hex((const unsigned char *)text, strlen(text), out);
}

/* The rows to write and where they stand: s gets them, real is the CA's
 * store (the same one, or the PostgreSQL database behind the scratch
 * store s); pg is a connection of its own to that database. */
struct seed {
	ca_store *s, *real;
	PGconn *pg;
	long long copied; /* the last audit seq in the database */
	unsigned char *der, *serial_at;
	int len;
	X509 *tmpl;
	const char *profile;
	struct ca_partitions pc;
	struct ca_partition_cursor cur;
};

/* Revoke row cs as hsmca-revoke does (reason keyCompromise). */
static int revoke_one(ca_store *s, const struct ca_cert_state *cs)
{
	time_t now = time(NULL), date = now - 3600;
	char when[32];
	ca_audit *a;
	int rc;

	GUARD(ca_store_revocation_add(s, cs, CA_REASON_KEY_COMPROMISE, date,
				      now));
	a = ca_audit_new("revoke");
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	ca_time_rfc3339(date, when, sizeof(when));
	ca_audit_set(a, "serial", cs->serial);
	ca_audit_set(a, "reason", ca_crl_reason_name(CA_REASON_KEY_COMPROMISE));
	ca_audit_set(a, "date", when);
	rc = ca_audit_append(s, a, "ok", "revoked");
	ca_audit_free(a);
out:
	return rc;
}

static int seed_one(struct seed *sd, long i, int revoked)
{
	ca_store *s = sd->s;
	struct ca_cert_state cs;
	int partition;
	unsigned char raw[32];
	char serial[40], spki[65], req[65], cn[40], subject[48], text[64];
	struct ca_cert_row row;
	ca_audit *a;
	int rc;

	/* 0x01 + 16 bytes: the serial format of hsmca-sign-leaf. */
	snprintf(text, sizeof(text), "serial %ld", i);
	if (ca_sha256((const unsigned char *)text, strlen(text), raw) < 0)
		return CA_EIO;
	raw[15] = 0x01;
	memcpy(sd->serial_at, raw + 15, 17);
	ca_hex(raw + 15, 17, serial);
	tagged_hex("spki", i, spki);
	tagged_hex("request", i, req);
	snprintf(cn, sizeof(cn), "seed%07ld.example", i);
	snprintf(subject, sizeof(subject), "CN=%s", cn);
	memset(&row, 0, sizeof(row));
	row.serial = serial;
	row.subject = subject;
	row.cn = cn;
	row.spki_sha256 = spki;
	GUARD(ca_asn1_time(X509_get0_notBefore(sd->tmpl), &row.not_before));
	GUARD(ca_asn1_time(X509_get0_notAfter(sd->tmpl), &row.not_after));
	GUARD(ca_partition_assign(sd->real, &sd->pc, &sd->cur, raw + 15, 17,
				  &partition));
	row.kind = "leaf";
	row.profile = sd->profile;
	row.partition = partition;
	row.request_key = req;
	row.der = sd->der;
	row.der_len = (size_t)sd->len;
	a = ca_audit_new("sign-leaf");
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	ca_audit_output_der(a, "certificate", sd->der, (size_t)sd->len);
	ca_audit_set(a, "serial", serial);
	ca_audit_set(a, "subject", subject);
	ca_audit_set(a, "profile", sd->profile);
	rc = ca_audit_append(s, a, "ok", "certificate issued");
	row.audit_seq = ca_audit_seq(a);
	ca_audit_free(a);
	if (rc == CA_OK)
		rc = ca_store_cert_add(s, &row);
	if (rc == CA_OK && revoked) {
		memset(&cs, 0, sizeof(cs));
		snprintf(cs.serial, sizeof(cs.serial), "%s", serial);
		cs.partition = partition;
		cs.not_after = row.not_after;
		rc = revoke_one(s, &cs);
	}
out:
	return rc;
}

/* ---- PostgreSQL: COPY from a scratch SQLite store ---------------------- */

/* The tables a chunk fills, in foreign-key order; blob: the column
 * index of the bytea, or -1. */
static const struct copy_table {
	const char *name, *cols, *where;
	int blob;
} copy_tables[] = {
    {"certs",
     "serial, subject, cn, spki_sha256, not_before, not_after, kind, "
     "profile, partition, request_key, notify, issued_at, der, "
     "superseded_by, audit_seq",
     "", 12},
    {"revocations",
     "serial, reason, revoked_at, recorded_at, partition, not_after, "
     "expired_listed",
     "", -1},
    {"audit", "seq, entry, hash", " WHERE seq > ?1", -1},
};

struct line {
	char *p;
	size_t n, cap;
};

static int put(struct line *l, const char *d, size_t n)
{
	if (l->n + n > l->cap) {
		size_t cap = (l->n + n) * 2;
		char *p = realloc(l->p, cap);

		if (p == NULL)
			return ca_err(CA_EIO, "out of memory");
		l->p = p;
		l->cap = cap;
	}
	memcpy(l->p + l->n, d, n);
	l->n += n;
	return CA_OK;
}

/* One column in COPY's text format. */
static int put_col(struct line *l, ca_stmt *q, int col, int blob)
{
	const unsigned char *b;
	const char *t;
	size_t n, i;
	char hex[3];
	int rc = CA_OK;

	if (ca_col_null(q, col))
		return put(l, "\\N", 2);
	if (blob) {
		b = ca_col_blob(q, col, &n);
		rc = put(l, "\\\\x", 3);
		for (i = 0; rc == CA_OK && i < n; i++) {
			ca_hex(b + i, 1, hex);
			rc = put(l, hex, 2);
		}
		return rc;
	}
	t = ca_col_text(q, col);
	for (; rc == CA_OK && t != NULL && *t != '\0'; t++) {
		if (*t == '\\')
			rc = put(l, "\\\\", 2);
		else if (*t == '\t')
			rc = put(l, "\\t", 2);
		else if (*t == '\n')
			rc = put(l, "\\n", 2);
		else if (*t == '\r')
			rc = put(l, "\\r", 2);
		else
			rc = put(l, t, 1);
	}
	return rc;
}

static int pg_ok(PGconn *pg, PGresult *r, const char *what)
{
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		 PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	if (!ok)
		return ca_err(CA_EIO, "%s: %s", what, PQerrorMessage(pg));
	return CA_OK;
}

/* COPY one table's scratch rows into the database. */
static int copy_table(struct seed *sd, const struct copy_table *t)
{
	struct line l = {NULL, 0, 0};
	char sql[512];
	ca_stmt *q = NULL;
	PGresult *r;
	int ncol = 1, rc, k, step;

	for (const char *c = t->cols; *c != '\0'; c++)
		ncol += *c == ',';
	snprintf(sql, sizeof(sql), "COPY %s (%s) FROM STDIN", t->name, t->cols);
	r = PQexec(sd->pg, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		PQclear(r);
		return ca_err(CA_EIO, "COPY %s: %s", t->name,
			      PQerrorMessage(sd->pg));
	}
	PQclear(r);
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s%s", t->cols, t->name,
		 t->where);
	GUARD(ca_store_prepare(sd->s, sql, &q));
	step = *t->where ? ca_bind_int64(q, 1, sd->copied) : SQLITE_OK;
	while ((step = ca_store_step(sd->s, q, step)) == SQLITE_ROW) {
		l.n = 0;
		for (k = 0; k < ncol; k++) {
			GUARD(put(&l, k ? "\t" : "", k ? 1 : 0));
			GUARD(put_col(&l, q, k, k == t->blob));
		}
		GUARD(put(&l, "\n", 1));
		if (PQputCopyData(sd->pg, l.p, (int)l.n) != 1) {
			rc = ca_err(CA_EIO, "COPY %s: %s", t->name,
				    PQerrorMessage(sd->pg));
			goto out;
		}
		step = SQLITE_OK;
	}
	if (step != SQLITE_DONE)
		rc = ca_store_fail(sd->s, "cannot read the scratch store");
out:
	ca_store_done(sd->s, q);
	free(l.p);
	if (PQputCopyEnd(sd->pg, rc == CA_OK ? NULL : "seedstore failed") != 1)
		return ca_err(CA_EIO, "COPY %s: %s", t->name,
			      PQerrorMessage(sd->pg));
	if (pg_ok(sd->pg, PQgetResult(sd->pg), "COPY") < 0 && rc == CA_OK)
		rc = CA_EIO;
	while ((r = PQgetResult(sd->pg)) != NULL)
		PQclear(r);
	return rc;
}

/* The scratch store's chunk into the database, one transaction; then the
 * scratch store keeps the last audit entry only (the chain's tail). */
static int copy_chunk(struct seed *sd)
{
	size_t i;
	int rc;

	GUARD(pg_ok(sd->pg, PQexec(sd->pg, "BEGIN"), "BEGIN"));
	for (i = 0; i < sizeof(copy_tables) / sizeof(copy_tables[0]); i++)
		GUARD(copy_table(sd, &copy_tables[i]));
	GUARD(pg_ok(sd->pg, PQexec(sd->pg, "COMMIT"), "COMMIT"));
	GUARD(ca_store_exec(sd->s, "DELETE FROM revocations; DELETE FROM certs;"
				   " DELETE FROM audit WHERE seq <"
				   " (SELECT max(seq) FROM audit);"));
	{
		ca_stmt *q = NULL;

		GUARD(
		    ca_store_prepare(sd->s, "SELECT max(seq) FROM audit", &q));
		if (ca_store_step(sd->s, q, SQLITE_OK) == SQLITE_ROW)
			sd->copied = ca_col_int64(q, 0);
		ca_store_done(sd->s, q);
	}
out:
	if (rc < 0 && PQtransactionStatus(sd->pg) != PQTRANS_IDLE)
		PQclear(PQexec(sd->pg, "ROLLBACK"));
	return rc;
}

/* The scratch store: the schema, no delete triggers, no durability, and
 * the database's last audit entry (the chain goes on from it). */
static int scratch_open(struct seed *sd, const char *dir, const char *url,
			char *path, size_t plen)
{
	ca_stmt *q = NULL, *ins = NULL;
	int rc, step;

	snprintf(path, plen, "%s/seed-scratch.db", dir);
	unlink(path);
	GUARD(ca_store_create(path, &sd->s));
	GUARD(ca_store_exec(sd->s, "DROP TRIGGER certs_no_delete;"
				   " DROP TRIGGER audit_no_delete;"
				   " PRAGMA foreign_keys=OFF;"
				   " PRAGMA synchronous=OFF;"));
	GUARD(ca_store_prepare(sd->real,
			       "SELECT seq, entry, hash FROM audit"
			       " ORDER BY seq DESC LIMIT 1",
			       &q));
	GUARD(ca_store_prepare(sd->s,
			       "INSERT INTO audit(seq, entry, hash)"
			       " VALUES (?, ?, ?)",
			       &ins));
	if (ca_store_step(sd->real, q, SQLITE_OK) != SQLITE_ROW) {
		rc = ca_err(CA_EIO, "the database's audit log is empty");
		goto out;
	}
	sd->copied = ca_col_int64(q, 0);
	step = ca_bind_int64(ins, 1, sd->copied) |
	       ca_bind_text(ins, 2, ca_col_text(q, 1)) |
	       ca_bind_text(ins, 3, ca_col_text(q, 2));
	if (ca_store_step(sd->s, ins, step) != SQLITE_DONE)
		rc = ca_store_fail(sd->s, "cannot start the scratch chain");
	if (rc == CA_OK)
		rc = ca_pq_load();
	sd->pg = rc == CA_OK ? PQconnectdb(url) : NULL;
	if (rc == CA_OK && PQstatus(sd->pg) != CONNECTION_OK)
		rc = ca_err(CA_EIO, "cannot connect: %s",
			    PQerrorMessage(sd->pg));
	if (rc == CA_OK)
		rc = pg_ok(sd->pg,
			   PQexec(sd->pg, "SET synchronous_commit = off"),
			   "SET");
out:
	ca_store_done(sd->real, q);
	ca_store_done(sd->s, ins);
	return rc;
}

/* After the seeding: SQLite's WAL into the file; PostgreSQL's statistics
 * and visibility map, as autovacuum would leave them. */
static const char *const finish_sql[2] = {
    "PRAGMA wal_checkpoint(TRUNCATE);",
    "VACUUM (ANALYZE) certs, revocations, audit"};

/* The template's serial bytes, found once in its DER. */
static int find_serial(struct seed *sd)
{
	const unsigned char *p = sd->der;
	const ASN1_INTEGER *sn;
	int k;

	sd->tmpl = d2i_X509(NULL, &p, sd->len);
	sn = sd->tmpl ? X509_get0_serialNumber(sd->tmpl) : NULL;
	for (k = 0; sn != NULL && ASN1_STRING_length(sn) == 17 &&
		    k + 17 <= sd->len && sd->serial_at == NULL;
	     k++)
		if (memcmp(sd->der + k, ASN1_STRING_get0_data(sn), 17) == 0)
			sd->serial_at = sd->der + k;
	if (sd->serial_at != NULL)
		return CA_OK;
	fprintf(stderr, "seedstore: the template's serial is not "
			"17 bytes long\n");
	return CA_EIO;
}

int main(int argc, char **argv)
{
	char *where = NULL, profile[64], scratch[4096] = "";
	struct seed sd;
	json_t *config = NULL;
	long n, m = 0, i;
	int pg;

	if ((argc != 3 && !(argc == 5 && strcmp(argv[3], "--revoked") == 0)) ||
	    (n = strtol(argv[2], NULL, 10)) <= 0 ||
	    (argc == 5 && ((m = strtol(argv[4], NULL, 10)) < 0 || m > n))) {
		fprintf(stderr, "usage: seedstore CA_DIR N [--revoked M] "
				"(M <= N)\n");
		return 2;
	}
	memset(&sd, 0, sizeof(sd));
	ca_audit_set_tool("seedstore");
	if (ca_config_load(argv[1], &config) < 0 ||
	    ca_partitions_config(config, &sd.pc) < 0 ||
	    ca_dir_store_where(argv[1], config, &where) < 0)
		return fail("cannot read the CA's configuration");
	if (ca_store_open(where, &sd.real) < 0)
		return fail("cannot open the store");
	pg = ca_store_is_url(where);
	if (template_der(sd.real, &sd.der, &sd.len, profile, sizeof(profile)) <
	    0)
		return fail("no leaf certificate to copy (issue one first)");
	sd.profile = profile;
	if (find_serial(&sd) < 0)
		return 1;
	sd.s = sd.real;
	if (pg &&
	    scratch_open(&sd, argv[1], where, scratch, sizeof(scratch)) < 0)
		return fail("cannot start the scratch store");
	if (ca_store_exec(sd.s, "PRAGMA synchronous=OFF;"
				"PRAGMA cache_size=-262144;") < 0)
		return fail("cannot set the store up");
	for (i = 0; i < n; i++) {
		/* Row i is revoked when it starts a new Mth of the rows. */
		int revoked = (i * m) / n != ((i + 1) * m) / n;

		if (i % BATCH == 0 && ca_store_begin(sd.s) < 0)
			return fail("begin");
		if (seed_one(&sd, i, revoked) < 0)
			return fail("cannot add a row");
		if ((i + 1) % BATCH == 0 || i + 1 == n) {
			if (ca_store_commit(sd.s) < 0)
				return fail("commit");
			if (pg && copy_chunk(&sd) < 0)
				return fail("cannot copy a chunk");
			/* The next chunk reads where partitions stand. */
			sd.cur.valid = 0;
		}
	}
	if (ca_store_exec(sd.real, finish_sql[pg]) < 0)
		return fail("finish");
	if (pg) {
		ca_store_close(sd.s);
		if (sd.pg != NULL)
			PQfinish(sd.pg);
		unlink(scratch);
	}
	ca_store_close(sd.real);
	X509_free(sd.tmpl);
	free(sd.der);
	free(where);
	json_decref(config);
	printf("seeded %ld, revoked %ld\n", n, m);
	return 0;
}
