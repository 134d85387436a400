#include "store/migrate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/sha256.h"

/* The columns of each table, in the order rows are copied: certificates
 * before their revocations (a foreign key), every table in the order its
 * rows were written, so that what is ordered by rowid (executed approvals:
 * the token anchor's digest; certificates issued in the same second) reads
 * the same on the other side. 't' text, 'i' integer, 'b' blob. */
static const struct table {
	const char *name;
	const char *order;
	const char *cols[16];
	const char types[16];
} tables[] = {
    {"certs",
     "rowid",
     {"serial", "subject", "cn", "spki_sha256", "not_before", "not_after",
      "kind", "profile", "partition", "request_key", "notify", "issued_at",
      "der", "superseded_by", "audit_seq"},
     "ttttiittittibti"},
    {"revocations",
     "serial",
     {"serial", "reason", "revoked_at", "recorded_at", "partition", "not_after",
      "expired_listed"},
     "tiiiiii"},
    {"crls",
     "number",
     {"number", "partition", "this_update", "next_update", "entries",
      "issued_at", "sha256"},
     "iiiiiit"},
    {"approvals",
     "rowid",
     {"nonce", "request_sha256", "action", "approvers", "executed_at"},
     "ttttt"},
    {"audit", "seq", {"seq", "entry", "hash"}, "itt"},
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static int count_rows(ca_store *s, const char *table, long long *n)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return ca_store_count(s, sql, NULL, NULL, n);
}

/* Bind column i of the row src is on to parameter i + 1 of dst. */
static int copy_value(ca_stmt *src, ca_stmt *dst, int i, char type)
{
	const void *blob;
	size_t len;

	if (ca_col_null(src, i))
		return ca_bind_null(dst, i + 1);
	switch (type) {
	case 'i':
		return ca_bind_int64(dst, i + 1, ca_col_int64(src, i));
	case 'b':
		blob = ca_col_blob(src, i, &len);
		return ca_bind_blob(dst, i + 1, blob != NULL ? blob : "", len);
	default:
		return ca_bind_text(dst, i + 1, ca_col_text(src, i));
	}
}

/* SELECT of t's columns in copy order (sql: 512 bytes hold the longest). */
static void select_sql(const struct table *t, char *sql, size_t len)
{
	size_t a = (size_t)snprintf(sql, len, "SELECT ");

	for (int i = 0; t->cols[i] != NULL; i++)
		a += (size_t)snprintf(sql + a, len - a, "%s%s", i ? ", " : "",
				      t->cols[i]);
	snprintf(sql + a, len - a, " FROM %s ORDER BY %s", t->name, t->order);
}

static int copy_table(ca_store *from, ca_store *to, const struct table *t,
		      long long *copied)
{
	char sel[512], ins[512];
	size_t b;
	ca_stmt *src = NULL, *dst = NULL;
	int rc, r, i, n = (int)strlen(t->types);

	select_sql(t, sel, sizeof(sel));
	b = (size_t)snprintf(ins, sizeof(ins), "INSERT INTO %s(", t->name);
	for (i = 0; i < n; i++)
		b += (size_t)snprintf(ins + b, sizeof(ins) - b, "%s%s",
				      i ? ", " : "", t->cols[i]);
	b += (size_t)snprintf(ins + b, sizeof(ins) - b, ") VALUES (");
	for (i = 0; i < n; i++)
		b += (size_t)snprintf(ins + b, sizeof(ins) - b, "%s?",
				      i ? ", " : "");
	snprintf(ins + b, sizeof(ins) - b, ")");
	*copied = 0;
	rc = ca_store_prepare(from, sel, &src);
	if (rc < 0)
		return rc;
	ca_store_stream(src);
	rc = ca_store_prepare(to, ins, &dst);
	if (rc < 0)
		goto out;
	while ((r = ca_store_step(from, src, 0)) == SQLITE_ROW) {
		int bound = SQLITE_OK;

		for (i = 0; i < n; i++)
			bound |= copy_value(src, dst, i, t->types[i]);
		if (ca_store_step(to, dst, bound) != SQLITE_DONE) {
			rc = ca_store_fail(to, "cannot copy a row");
			goto out;
		}
		ca_store_done(to, dst);
		rc = ca_store_prepare(to, ins, &dst);
		if (rc < 0)
			goto out;
		(*copied)++;
	}
	if (r != SQLITE_DONE)
		rc = ca_store_fail(from, "cannot read a table");
out:
	ca_store_done(to, dst);
	ca_store_done(from, src);
	return rc;
}

static int copy_meta(ca_store *from, ca_store *to, long long *copied)
{
	ca_stmt *st = NULL;
	int rc, r;

	*copied = 0;
	rc = ca_store_prepare(from, "SELECT key, value FROM meta ORDER BY key",
			      &st);
	if (rc < 0)
		return rc;
	while ((r = ca_store_step(from, st, 0)) == SQLITE_ROW) {
		rc = ca_store_meta_set(to, ca_col_text(st, 0),
				       ca_col_text(st, 1));
		if (rc < 0)
			break;
		(*copied)++;
	}
	if (rc == CA_OK && r != SQLITE_DONE)
		rc = ca_store_fail(from, "cannot read the settings");
	ca_store_done(from, st);
	return rc;
}

static long long *count_of(struct ca_migrate_counts *n, size_t i)
{
	long long *each[] = {&n->certs, &n->revocations, &n->crls,
			     &n->approvals, &n->audit};

	return each[i];
}

/* The settings, as a table for table_sum. */
static const struct table meta_table = {"meta", "key", {"key", "value"}, "tt"};

/* Add one row's SHA-256 (every value as the store gives it back as text,
 * a blob as its bytes, NULL apart from any value) to sum as four 64-bit
 * lanes. ctx: the caller's, reused from row to row. */
static int row_add(EVP_MD_CTX *ctx, ca_stmt *st, const struct table *t,
		   uint64_t sum[4])
{
	unsigned char md[32];
	int ok = EVP_DigestInit_ex(ctx, ca_sha256_md(), NULL);

	for (int i = 0; ok && t->cols[i] != NULL; i++) {
		const void *v = "";
		size_t len = 0;
		unsigned char tag = ca_col_null(st, i) ? 'N' : 'V';

		if (tag == 'V' && t->types[i] == 'b') {
			v = ca_col_blob(st, i, &len);
			if (v == NULL && len == 0)
				v = ""; /* an empty blob */
		} else if (tag == 'V' && (v = ca_col_text(st, i)) != NULL)
			len = strlen(v);
		ok = v != NULL && EVP_DigestUpdate(ctx, &tag, 1) &&
		     EVP_DigestUpdate(ctx, &len, sizeof(len)) &&
		     EVP_DigestUpdate(ctx, v, len);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, NULL);
	if (!ok)
		return ca_err(CA_EIO, "SHA-256 failed");
	for (int l = 0; l < 4; l++) {
		uint64_t w = 0;

		for (int k = 0; k < 8; k++)
			w = w << 8 | md[l * 8 + k];
		sum[l] += w;
	}
	return CA_OK;
}

/* The sum of t's row digests in s: independent of the order rows come
 * in (the backends' collations differ), so that the two sides compare
 * value for value however each orders text. */
static int table_sum(ca_store *s, const struct table *t, uint64_t sum[4])
{
	char sql[512];
	ca_stmt *st = NULL;
	EVP_MD_CTX *ctx;
	int rc, r;

	memset(sum, 0, 4 * sizeof(*sum));
	select_sql(t, sql, sizeof(sql));
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = ca_store_prepare(s, sql, &st);
	if (rc < 0) {
		EVP_MD_CTX_free(ctx);
		return rc;
	}
	ca_store_stream(st);
	while (rc == CA_OK && (r = ca_store_step(s, st, 0)) == SQLITE_ROW)
		rc = row_add(ctx, st, t, sum);
	if (rc == CA_OK && r != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot read a table");
	ca_store_done(s, st);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Both sides: the same number of rows in every table, the same values
 * (table_sum), the same chain. */
static int compare(ca_store *from, ca_store *to, struct ca_migrate_counts *n)
{
	struct ca_audit_head h1, h2;
	uint64_t s1[4], s2[4];
	long long a, b;
	long bad = 0;
	int rc;

	for (size_t i = 0; i <= NTABLES; i++) {
		const char *t = i < NTABLES ? tables[i].name : "meta";

		GUARD(count_rows(from, t, &a));
		GUARD(count_rows(to, t, &b));
		if (a != b)
			return ca_err(CA_EPOLICY,
				      "table %s: %lld rows in %s, %lld in %s",
				      t, a, from->path, b, to->path);
		*(i < NTABLES ? count_of(n, i) : &n->meta) = a;
		GUARD(table_sum(from, i < NTABLES ? &tables[i] : &meta_table,
				s1));
		GUARD(
		    table_sum(to, i < NTABLES ? &tables[i] : &meta_table, s2));
		if (memcmp(s1, s2, sizeof(s1)) != 0)
			return ca_err(CA_EPOLICY,
				      "table %s: the rows copied to %s differ "
				      "from those in %s",
				      t, to->path, from->path);
	}
	rc = ca_audit_verify(to, &bad, &h2);
	if (rc < 0)
		return ca_err(rc, "the copy's audit chain: %s", ca_errmsg());
	GUARD(ca_audit_head(from, &h1));
	if (h1.seq != h2.seq || strcmp(h1.hash, h2.hash) != 0)
		return ca_err(CA_EPOLICY,
			      "the audit heads differ: entry %ld %.16s... in "
			      "%s, entry %ld %.16s... in %s",
			      h1.seq, h1.hash, from->path, h2.seq, h2.hash,
			      to->path);
	n->head = h2;
out:
	return rc;
}

int ca_store_migrate(ca_store *from, ca_store *to, struct ca_migrate_counts *n)
{
	struct ca_audit_head head;
	long long copied;
	long bad = 0;
	int rc;

	memset(n, 0, sizeof(*n));
	rc = ca_audit_verify(from, &bad, &head);
	if (rc < 0)
		return ca_err(rc, "%s: %s", from->path, ca_errmsg());
	GUARD(ca_store_begin(to));
	GUARD(copy_meta(from, to, &copied));
	for (size_t i = 0; i < NTABLES; i++)
		GUARD(copy_table(from, to, &tables[i], &copied));
	GUARD(ca_store_commit(to));
	rc = compare(from, to, n);
out:
	ca_store_rollback(to);
	return rc;
}
