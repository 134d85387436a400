/* Unit tests (TAP) for the audit chain (tools/lib/store/audit.c): what an
 * entry holds, hashes recomputed with OpenSSL, the append-only triggers,
 * and a tampered log found at the index of the first bad entry, whatever
 * the tampering. Each case works on a fresh SQLite store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "base/time.h"
#include "fixture.h"
#include "store/audit.h"
#include "store/behind.h"
#include "store/lookup.h"
#include "store/store.h"
#include "tap.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

static void sha256_hex(const char *text, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)text, strlen(text), md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A fresh store at name with n entries ("step 1" .. "step n"). */
static ca_store *log_of(const char *name, int n)
{
	ca_store *s = NULL;
	char detail[32];
	int i;

	if (ca_store_create(fx_path(name), &s) < 0)
		return NULL;
	for (i = 1; i <= n; i++) {
		ca_audit *a = ca_audit_new("sign-leaf");
		int rc;

		snprintf(detail, sizeof(detail), "step %d", i);
		ca_audit_input(a, "request.csr", "csr bytes", 9);
		rc = ca_store_begin(s);
		if (rc == CA_OK)
			rc = ca_audit_append(s, a, "ok", detail);
		if (rc == CA_OK)
			rc = ca_store_commit(s);
		ca_audit_free(a);
		if (rc < 0) {
			ca_store_close(s);
			return NULL;
		}
	}
	return s;
}

/* Column text of the row seq (malloc'd) or NULL. */
static char *column(ca_store *s, const char *col, long seq)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	snprintf(sql, sizeof(sql), "SELECT %s FROM audit WHERE seq = %ld", col,
		 seq);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* Set row seq's entry text (and its hash to match, when rehash). */
static int set_entry(ca_store *s, long seq, const char *text, int rehash)
{
	sqlite3_stmt *st = NULL;
	char hash[65];
	int good;

	sha256_hex(text, hash);
	good =
	    sqlite3_prepare_v2(s->db,
			       rehash ? "UPDATE audit SET entry = ?, hash = ? "
					"WHERE seq = ?"
				      : "UPDATE audit SET entry = ? WHERE "
					"seq = ?",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
	    (!rehash || sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT) ==
			    SQLITE_OK) &&
	    sqlite3_bind_int64(st, rehash ? 3 : 2, seq) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return good ? 0 : -1;
}

/* ---------------------------------------------------------------------- */

static void test_entries(void)
{
	ca_store *s = NULL;
	ca_audit *a = ca_audit_new("init-ca");
	char *text = NULL, *hash = NULL, *text2 = NULL, calc[65], csr[65];
	struct ca_audit_head head;
	json_t *e = NULL, *e2 = NULL;
	time_t t0, t1, when = 0;
	long bad = -1;
	char *canon = NULL;

	ca_audit_set_tool("hsmca-unit");
	fx_write(fx_path("ca.crt"), "certificate", 11, 0600);
	ca_audit_input(a, "request.csr", "csr bytes", 9);
	ca_audit_input_file(a, "missing.json", fx_path("missing.json"));
	ca_audit_output_file(a, "ca.crt", fx_path("ca.crt"));
	ca_audit_output_sha256(a, "big.crl", "ab12");
	ca_audit_approver(a, "alice");
	ca_audit_approver(a, "bob");
	ca_audit_set(a, "serial", "01a2");
	ca_audit_set_action(a, "init-ca --self-sign");
	t0 = time(NULL);
	ok(ca_store_create(fx_path("entries.db"), &s) == CA_OK &&
	       ca_store_begin(s) == CA_OK &&
	       ca_audit_append(s, a, "ok", "root created") == CA_OK &&
	       ca_store_commit(s) == CA_OK,
	   "an entry appended in a transaction");
	t1 = time(NULL);
	text = s ? column(s, "entry", 1) : NULL;
	hash = s ? column(s, "hash", 1) : NULL;
	e = text ? json_loads(text, 0, NULL) : NULL;
	canon =
	    e ? json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
	      : NULL;
	ok(fx_streq(canon, text), "the entry is compact JSON with sorted keys");
	if (text != NULL)
		sha256_hex(text, calc);
	ok(text != NULL && fx_streq(hash, calc),
	   "its hash is the SHA-256 of its exact text");
	sha256_hex("csr bytes", csr);
	ok(json_integer_value(json_object_get(e, "seq")) == 1 &&
	       fx_streq(json_string_value(json_object_get(e, "prev")), ZEROS),
	   "entry 1: seq 1, prev is 64 zeros");
	ok(fx_streq(json_string_value(json_object_get(e, "tool")),
		    "hsmca-unit") &&
	       fx_streq(json_string_value(json_object_get(e, "version")),
			HSMCA_VERSION) &&
	       fx_streq(json_string_value(json_object_get(e, "action")),
			"init-ca --self-sign") &&
	       fx_streq(json_string_value(json_object_get(e, "outcome")),
			"ok") &&
	       fx_streq(json_string_value(json_object_get(e, "detail")),
			"root created"),
	   "tool, version, action, outcome and detail");
	ok(ca_parse_time(json_string_value(json_object_get(e, "time")),
			 &when) == CA_OK &&
	       when >= t0 && when <= t1,
	   "time: RFC 3339, when it was appended");
	ok(fx_streq(json_string_value(json_object_get(
			json_object_get(e, "inputs"), "request.csr")),
		    csr) &&
	       fx_streq(json_string_value(json_object_get(
			    json_object_get(e, "inputs"), "missing.json")),
			"unreadable"),
	   "inputs: SHA-256 of the bytes; a file that cannot be read says so");
	sha256_hex("certificate", calc);
	ok(fx_streq(json_string_value(json_object_get(
			json_object_get(e, "outputs"), "ca.crt")),
		    calc) &&
	       fx_streq(json_string_value(json_object_get(
			    json_object_get(e, "outputs"), "big.crl")),
			"ab12"),
	   "outputs: SHA-256 of a file, or the one given");
	ok(json_array_size(json_object_get(e, "approvers")) == 2 &&
	       fx_streq(json_string_value(
			    json_array_get(json_object_get(e, "approvers"), 1)),
			"bob") &&
	       fx_streq(json_string_value(json_object_get(
			    json_object_get(e, "details"), "serial")),
			"01a2"),
	   "approvers in order, extra details");
	ok(s && ca_store_begin(s) == CA_OK &&
	       ca_audit_append(s, a, "refused", NULL) == CA_OK &&
	       ca_store_commit(s) == CA_OK,
	   "a second entry, without detail (null)");
	text2 = s ? column(s, "entry", 2) : NULL;
	e2 = text2 ? json_loads(text2, 0, NULL) : NULL;
	ok(fx_streq(json_string_value(json_object_get(e2, "prev")), hash) &&
	       json_is_null(json_object_get(e2, "detail")),
	   "entry 2 chains to entry 1's hash");
	ok(s && ca_audit_verify(s, &bad, &head) == CA_OK && bad == 0 &&
	       head.seq == 2,
	   "the chain verifies; the head is entry 2");
	free(text);
	free(hash);
	free(text2);
	free(canon);
	json_decref(e);
	json_decref(e2);
	ca_audit_free(a);
	ca_store_close(s);
}

static void test_record(void)
{
	ca_store *s = log_of("record.db", 1);
	ca_audit *a = ca_audit_new("revoke");
	struct ca_audit_head head;
	char *meta = NULL, *text = NULL;
	long bad = -1;

	ok(s != NULL && ca_store_begin(s) == CA_OK &&
	       ca_store_meta_set(s, "crl_counter", "99") == CA_OK,
	   "a state change in a transaction");
	ca_err(CA_EPOLICY, "serial 01 was never issued: refused");
	ok(s != NULL &&
	       ca_audit_record(s, a, "refused", "never issued") == CA_OK &&
	       fx_streq(ca_errmsg(), "serial 01 was never issued: refused"),
	   "a refusal recorded; the message that explains it is kept");
	ok(s != NULL && ca_store_meta_get(s, "crl_counter", &meta) == CA_OK &&
	       meta == NULL,
	   "the state change was rolled back");
	text = s ? column(s, "entry", 2) : NULL;
	ok(fx_has(text, "\"outcome\":\"refused\"") &&
	       fx_has(text, "\"detail\":\"never issued\""),
	   "the refusal is entry 2");
	ok(s != NULL && ca_audit_verify(s, &bad, &head) == CA_OK &&
	       head.seq == 2,
	   "the chain still verifies");
	free(meta);
	free(text);
	ca_audit_free(a);
	ca_store_close(s);
}

static void test_append_only(void)
{
	ca_store *s = log_of("triggers.db", 2);

	ca_err_clear();
	ok(s != NULL &&
	       ca_store_exec(s, "UPDATE audit SET entry = 'x' WHERE seq = 1") ==
		   CA_EIO &&
	       fx_err("the audit log is append-only"),
	   "an UPDATE is refused by the store");
	ca_err_clear();
	ok(s != NULL &&
	       ca_store_exec(s, "DELETE FROM audit WHERE seq = 2") == CA_EIO &&
	       fx_err("the audit log is append-only"),
	   "a DELETE is refused by the store");
	ca_store_close(s);
}

/* ---------------------------------------------------------------------- */
/* Tampering: someone with the file drops the triggers and edits rows     */

static int t_none(ca_store *s)
{
	(void)s;
	return 0;
}
static int t_edit(ca_store *s)
{
	return ca_store_exec(s, "UPDATE audit SET entry = replace(entry, "
				"'step 3', 'step X') WHERE seq = 3");
}
static int t_edit_rehash(ca_store *s)
{
	char *text = column(s, "entry", 3), *p;
	int rc = -1;

	if (text != NULL && (p = strstr(text, "step 3")) != NULL) {
		p[5] = 'X';
		rc = set_entry(s, 3, text, 1);
	}
	free(text);
	return rc;
}
static int t_delete_middle(ca_store *s)
{
	return ca_store_exec(s, "DELETE FROM audit WHERE seq = 3");
}
static int t_delete_first(ca_store *s)
{
	return ca_store_exec(s, "DELETE FROM audit WHERE seq = 1");
}
static int t_delete_all(ca_store *s)
{
	return ca_store_exec(s, "DELETE FROM audit");
}
static int t_swap(ca_store *s)
{
	return ca_store_exec(s, "UPDATE audit SET seq = -2 WHERE seq = 2;"
				"UPDATE audit SET seq = 2 WHERE seq = 3;"
				"UPDATE audit SET seq = 3 WHERE seq = -2;");
}
static int t_short_hash(ca_store *s)
{
	return ca_store_exec(s, "UPDATE audit SET hash = 'abc' WHERE seq = 3");
}
static int t_long_hash(ca_store *s)
{
	char *hash = column(s, "hash", 3);
	char sql[256];
	int rc = -1;

	if (hash != NULL) {
		snprintf(sql, sizeof(sql),
			 "UPDATE audit SET hash = '%s00' WHERE seq = 3", hash);
		rc = ca_store_exec(s, sql);
	}
	free(hash);
	return rc;
}
static int t_not_json(ca_store *s)
{
	return set_entry(s, 3, "not json at all", 1);
}
static int t_no_prev(ca_store *s)
{
	return set_entry(s, 3, "{\"seq\":3}", 1);
}
static int t_forged_first(ca_store *s)
{
	/* A new first entry whose own hash is right: entry 2 no longer
	 * chains to it. */
	return set_entry(
	    s, 1, "{\"action\":\"nothing\",\"prev\":\"" ZEROS "\",\"seq\":1}",
	    1);
}

/* Entry 5 (the last) rewritten as FMT with entry 4's hash for each %s,
 * rehashed: the shapes the scan before a state change must read as a JSON
 * parse reads them. */
static const char *last_fmt;
static int t_last(ca_store *s)
{
	char *h4 = column(s, "hash", 4), text[1024];
	const char *f = last_fmt;
	size_t n = 0;
	int rc = -1;

	/* Each %s of the shape becomes entry 4's hash. */
	while (h4 != NULL && *f != '\0' && n + 65 < sizeof(text)) {
		if (strncmp(f, "%s", 2) == 0) {
			memcpy(text + n, h4, 64);
			n += 64;
			f += 2;
		} else {
			text[n++] = *f++;
		}
	}
	text[n] = '\0';
	if (h4 != NULL && *f == '\0')
		rc = set_entry(s, 5, text, 1);
	free(h4);
	return rc;
}

static void test_scan(void)
{
	static const struct {
		const char *fmt;
		int rc;
		const char *what;
	} cases[] = {
	    {"{\"details\":{\"prev\":\"x\",\"seq\":9,\"s\":\"a\\\"b}{[\"},"
	     "\"prev\":\"%s\",\"seq\":5}",
	     CA_OK,
	     "keys of a nested object and braces in strings are skipped"},
	    {" { \"seq\" : 5 ,\n \"prev\" : \"%s\" , "
	     "\"l\":[1,-2.5e3,{\"a\":[]}],"
	     " \"t\":true, \"n\":null } ",
	     CA_OK, "white space, arrays, numbers and literals"},
	    {"{\"prev\":\"%s\",\"prev\":\"%s\",\"seq\":5}", CA_EPOLICY,
	     "prev twice"},
	    {"{\"prev\":\"%s\",\"seq\":5,\"seq\":5}", CA_EPOLICY, "seq twice"},
	    {"{\"prev\":\"%s\",\"seq\":5} x", CA_EPOLICY,
	     "text after the object"},
	    {"{\"prev\":\"%s\",\"seq\":5,\"x\":\"abc}", CA_EPOLICY,
	     "an unterminated string"},
	    {"{\"prev\":\"%s\",\"seq\":\"5\"}", CA_EPOLICY, "seq as a string"},
	    {"{\"prev\":\"%s\",\"seq\":5.0}", CA_EPOLICY, "seq as a real"},
	    {"{\"prev\":\"%s\",\"seq\":5,\"x\":[}]}", CA_EPOLICY,
	     "brackets that do not nest"},
	    {"[\"prev\",\"%s\",\"seq\",5]", CA_EPOLICY, "an array"},
	};
	struct ca_audit_head head;
	char name[32];
	size_t i;
	long bad;
	int full, quick;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "scan%zu.db", i);
		ca_store *s = log_of(name, 5);

		last_fmt = cases[i].fmt;
		if (s == NULL ||
		    ca_store_exec(s, "DROP TRIGGER audit_no_update") < 0 ||
		    t_last(s) < 0) {
			ok(0, "%s (could not set it up)", cases[i].what);
			ca_store_close(s);
			continue;
		}
		ca_err_clear();
		full = ca_audit_verify(s, &bad, &head);
		ok(full == cases[i].rc &&
		       (full == CA_OK ||
			(bad == 5 &&
			 fx_err("audit entry 5: not a valid entry"))),
		   "verify (parsed): %s", cases[i].what);
		ca_err_clear();
		quick = ca_audit_verify_from(s, 1, &bad, &head);
		ok(quick == cases[i].rc &&
		       (quick == CA_OK ||
			(bad == 5 &&
			 fx_err("audit entry 5: not a valid entry"))),
		   "check before a change (scanned): %s", cases[i].what);
		ca_store_close(s);
	}
}

static void test_tampering(void)
{
	static const struct {
		int (*tamper)(ca_store *);
		int rc;
		long bad, head;
		const char *msg, *what;
	} cases[] = {
	    {t_none, CA_OK, 0, 5, NULL, "an untouched log of 5 verifies"},
	    {t_edit, CA_EPOLICY, 3, 2,
	     "audit entry 3: its hash does not match its content: the entry "
	     "was edited",
	     "an edited entry is found at its index"},
	    {t_edit_rehash, CA_EPOLICY, 4, 3,
	     "audit entry 4: it does not chain to entry 3 (previous hash "
	     "differs)",
	     "an edited entry with its hash recomputed: the next one no "
	     "longer chains"},
	    {t_forged_first, CA_EPOLICY, 2, 1,
	     "audit entry 2: it does not chain to entry 1",
	     "a forged first entry: entry 2 no longer chains"},
	    {t_delete_middle, CA_EPOLICY, 3, 2,
	     "audit entry 4: expected entry 3 here: an entry was deleted or "
	     "inserted",
	     "a deleted entry is found at its index"},
	    {t_delete_first, CA_EPOLICY, 1, 0, "expected entry 1 here",
	     "a deleted first entry is found"},
	    {t_delete_all, CA_EPOLICY, 0, 0,
	     "the audit log is empty: its first entry was deleted",
	     "an emptied log is refused"},
	    {t_swap, CA_EPOLICY, 2, 1,
	     "audit entry 2: it records position 3: entries were reordered",
	     "two entries swapped are found"},
	    {t_short_hash, CA_EPOLICY, 3, 2,
	     "audit entry 3: its hash does not "
	     "match",
	     "a shortened hash is found"},
	    {t_long_hash, CA_EPOLICY, 3, 2,
	     "audit entry 3: its hash does not "
	     "match",
	     "a lengthened hash is found"},
	    {t_not_json, CA_EPOLICY, 3, 2, "audit entry 3: not a valid entry",
	     "an entry that is not JSON is found"},
	    {t_no_prev, CA_EPOLICY, 3, 2, "audit entry 3: not a valid entry",
	     "an entry without prev is found"},
	};
	struct ca_audit_head head;
	char name[32], *last = NULL;
	ca_store *s;
	size_t i;
	long bad;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "tamper%zu.db", i);
		s = log_of(name, 5);
		if (s == NULL ||
		    ca_store_exec(s, "DROP TRIGGER audit_no_update;"
				     "DROP TRIGGER audit_no_delete") < 0 ||
		    cases[i].tamper(s) < 0) {
			ok(0, "%s (could not set it up)", cases[i].what);
			ca_store_close(s);
			continue;
		}
		for (int quick = 0; quick < 2; quick++) {
			bad = -1;
			memset(&head, 0x55, sizeof(head));
			ca_err_clear();
			rc = quick ? ca_audit_verify_from(s, 1, &bad, &head)
				   : ca_audit_verify(s, &bad, &head);
			last =
			    head.seq > 0 ? column(s, "hash", head.seq) : NULL;
			ok(rc == cases[i].rc && bad == cases[i].bad &&
			       head.seq == cases[i].head &&
			       (head.seq > 0 ? fx_streq(head.hash, last)
					     : fx_streq(head.hash, ZEROS)) &&
			       fx_err(cases[i].msg),
			   "%s%s (entry %ld, head %ld)", cases[i].what,
			   quick ? ", scanned" : "", bad, head.seq);
			free(last);
		}
		ca_store_close(s);
	}
}

/* The check before signing on a large store reads the tail only. */
static void test_tail(void)
{
	struct ca_audit_head head;
	ca_store *s = log_of("tail.db", 6);
	char *h6 = NULL;
	long bad = -1;

	ok(s != NULL && ca_audit_verify_from(s, 4, &bad, &head) == CA_OK &&
	       bad == 0 && head.seq == 6,
	   "a tail from entry 4 verifies up to the head");
	ok(s != NULL && ca_audit_verify_from(s, 7, &bad, &head) == CA_OK &&
	       head.seq == 6 && (h6 = column(s, "hash", 6)) != NULL &&
	       fx_streq(head.hash, h6),
	   "a tail past the head: the head is the last entry");
	if (s == NULL ||
	    ca_store_exec(s, "DROP TRIGGER audit_no_update;"
			     "DROP TRIGGER audit_no_delete") < 0 ||
	    t_edit(s) < 0) {
		ok(0, "an edit before the tail (could not set it up)");
		ok(0, "an edit inside the tail (could not set it up)");
		ok(0, "a deleted entry before the tail (could not set it up)");
		goto out;
	}
	ok(ca_audit_verify_from(s, 4, &bad, &head) == CA_OK,
	   "an edit of entry 3 is outside a tail from entry 4 (verify "
	   "--full finds it)");
	ca_err_clear();
	ok(ca_audit_verify_from(s, 3, &bad, &head) == CA_EPOLICY && bad == 3 &&
	       fx_err("audit entry 3: its hash does not match"),
	   "an edit inside the tail is found");
	ca_err_clear();
	ok(ca_store_exec(s, "DELETE FROM audit WHERE seq = 4") == CA_OK &&
	       ca_audit_verify_from(s, 5, &bad, &head) == CA_EPOLICY &&
	       bad == 4 && fx_err("audit entry 4: missing"),
	   "the entry before the tail deleted is found");
	ca_err_clear();
out:
	free(h6);
	ca_store_close(s);
}

/* ---------------------------------------------------------------------- */

static char *printed(ca_store *s, int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = f != NULL ? ca_audit_print(s, f, json) : CA_EIO;

	if (f != NULL)
		fclose(f);
	if (rc < 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

static void test_print(void)
{
	ca_store *s = log_of("print.db", 2);
	ca_audit *a = ca_audit_new("gen-crl");
	char *json = NULL, *text = NULL, *line, *save = NULL, csr[65];
	int lines = 0, good = 1;

	ca_audit_approver(a, "alice");
	ca_audit_approver(a, "carol");
	if (s != NULL && ca_store_begin(s) == CA_OK &&
	    ca_audit_append(s, a, "ok", "CRL 7") == CA_OK)
		good = ca_store_commit(s) == CA_OK;
	json = s ? printed(s, 1) : NULL;
	for (line = json ? strtok_r(json, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, NULL);

		lines++;
		good &=
		    json_is_object(json_object_get(o, "entry")) &&
		    json_integer_value(json_object_get(
			json_object_get(o, "entry"), "seq")) == lines &&
		    strlen(json_string_value(json_object_get(o, "hash"))) == 64;
		json_decref(o);
	}
	ok(good && lines == 3, "printed as JSON: one object a line, each "
			       "with its entry and hash");
	text = s ? printed(s, 0) : NULL;
	sha256_hex("csr bytes", csr);
	ok(fx_has(text, "#1 ") &&
	       fx_has(text, " hsmca-unit sign-leaf ok: "
			    "step 1\n    by ") &&
	       fx_has(text, "    in  request.csr (file) sha256 ") &&
	       fx_has(text, csr) && fx_has(text, "#3 ") &&
	       fx_has(text, " gen-crl ok: CRL 7\n    by ") &&
	       fx_has(text, "\n    approvers alice carol\n"),
	   "printed for reading: each entry, who ran it, its inputs (and what "
	   "their hashes are of) and approvers");
	free(json);
	free(text);
	ca_audit_free(a);
	ca_store_close(s);
}

static void test_bad_arguments(void)
{
	ca_store *s = log_of("bad.db", 0);
	struct ca_audit_head head;
	long bad = 0;

	ca_err_clear();
	ok(s != NULL && ca_audit_append(s, NULL, "ok", NULL) == CA_EIO,
	   "appending no audit object fails");
	ok(ca_audit_record(NULL, NULL, "refused", NULL) == CA_OK,
	   "recording without a store (nothing opened yet) does nothing");
	ok(s != NULL && ca_audit_verify(s, &bad, &head) == CA_EPOLICY &&
	       bad == 0 && head.seq == 0,
	   "a store with no entries does not verify");
	ca_store_close(s);
}

static int query_int(ca_store *s, const char *sql, long long *out)
{
	ca_stmt *st = NULL;
	int rc = ca_store_prepare(s, sql, &st);

	if (rc == CA_OK && ca_store_step(s, st, 0) == SQLITE_ROW)
		*out = ca_col_int64(st, 0);
	else
		rc = CA_EIO;
	ca_store_done(s, st);
	return rc;
}

/* A new store's random-key indexes, its page cache, and the request key
 * found through the SPKI index (store/store.c). */
static void test_store_indexes(void)
{
	static const unsigned char der[] = {0x30, 0x00};
	struct ca_cert_row row;
	struct ca_cert_record rec;
	long long n = -1, cache = 0;
	int found = 0;
	ca_store *s = NULL;
	int rc;

	ok(ca_store_create(fx_path("indexes.db"), &s) == CA_OK,
	   "store: created");
	if (s == NULL)
		return;
	ok(query_int(s,
		     "SELECT count(*) FROM sqlite_master WHERE type = "
		     "'index' AND name = 'certs_request'",
		     &n) == CA_OK &&
	       n == 0,
	   "store: no index of request keys (one random page less written "
	   "per certificate)");
	ok(query_int(s, "PRAGMA cache_size", &cache) == CA_OK &&
	       cache == -CA_STORE_CACHE_MIN_KIB,
	   "store: a small store has the smallest page cache");
	memset(&row, 0, sizeof(row));
	row.serial = "01aa";
	row.subject = "CN=a";
	row.spki_sha256 = "5a";
	row.kind = "leaf";
	row.partition = -1;
	row.request_key = "rk";
	row.der = der;
	row.der_len = sizeof(der);
	rc = ca_store_begin(s);
	if (rc == CA_OK)
		rc = ca_store_cert_add(s, &row);
	if (rc == CA_OK)
		rc = ca_store_commit(s);
	ok(rc == CA_OK &&
	       ca_store_cert_by_request_key(s, "5a", "rk", &rec, &found) ==
		   CA_OK &&
	       found && strcmp(rec.serial, "01aa") == 0 &&
	       rec.der_len == sizeof(der),
	   "store: a certificate found by its SPKI and request key");
	ca_cert_record_free(&rec);
	ok(ca_store_cert_by_request_key(s, "5b", "rk", &rec, &found) == CA_OK &&
	       !found,
	   "store: another SPKI with that request key finds nothing");
	ca_cert_record_free(&rec);
	ca_store_close(s);
}

/* Transactions from .. from + n - 1, each of 300 rows of about a page. */
static int write_pages(ca_store *s, int from, int n)
{
	char sql[256];
	int rc = CA_OK;

	for (int t = from; rc == CA_OK && t < from + n; t++) {
		snprintf(
		    sql, sizeof(sql),
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + "
		    "1 FROM c WHERE x < 300) INSERT INTO meta SELECT "
		    "'page-%d-' || x, hex(randomblob(1900)) FROM c",
		    t);
		rc = ca_store_begin(s);
		if (rc == CA_OK)
			rc = ca_store_exec(s, sql);
		if (rc == CA_OK)
			rc = ca_store_commit(s);
		else
			ca_store_rollback(s);
	}
	return rc;
}

static void test_behind(void)
{
	ca_store *s = NULL, *r = NULL;
	long long n = 0, most = 0;
	int count = -1, written = 1;
	char wal[4096];
	struct stat st;

	if (ca_store_create(fx_path("behind.db"), &s) < 0) {
		ok(0, "behind: store created");
		return;
	}
	ok(ca_store_checkpoint_behind(s) == CA_OK &&
	       write_pages(s, 0, 6) == CA_OK,
	   "behind: 1,800 pages committed in 6 transactions");
	ok(ca_store_checkpoint_stop(s) >= 1,
	   "behind: the WAL past 1,000 pages was checkpointed by the thread");
	ok(ca_store_checkpoint_stop(s) == 0, "behind: stopped once");
	ok(query_int(s, "SELECT count(*) FROM meta WHERE key LIKE 'page-%'",
		     &n) == CA_OK &&
	       n == 1800,
	   "behind: every row committed is there");
	/* A long batch: the WAL stays under the committing thread's bound
	 * (and a transaction's pages) however the thread keeps up. */
	ok(ca_store_checkpoint_behind(s) == CA_OK, "behind: started again");
	snprintf(wal, sizeof(wal), "%s-wal", fx_path("behind.db"));
	for (int t = 6; t < 6 + 70 && written; t++) {
		written = write_pages(s, t, 1) == CA_OK;
		if (stat(wal, &st) == 0 && st.st_size > most)
			most = st.st_size;
	}
	ok(written && most > 0 &&
	       most <=
		   (long long)(CA_CKPT_FORCE_PAGES + 400) * (4096 + 24) + 32,
	   "behind: 21,000 pages more, the WAL at most %lld bytes "
	   "(%d pages and a transaction's)",
	   most, CA_CKPT_FORCE_PAGES);
	(void)ca_store_checkpoint_stop(s);
	ca_store_reader(s, &r);
	ok(r != NULL && ca_store_spki_count(r, "5a", &count) == CA_OK &&
	       count == 0,
	   "behind: the read-ahead connection reads the store");
	ok(r != NULL &&
	       ca_store_exec(r, "INSERT INTO meta VALUES ('x', 'y')") < 0,
	   "behind: and cannot write to it");
	ca_store_close(r);
	/* A store found damaged or behind its anchor is left as found. */
	s->untrusted = 1;
	ok(ca_store_checkpoint_behind(s) == CA_OK &&
	       ca_store_checkpoint_stop(s) == 0,
	   "behind: no thread for an untrusted store");
	ca_store_close(s);
}

int main(void)
{
	fx_mkdir("audit");
	test_behind();
	test_store_indexes();
	test_entries();
	test_record();
	test_append_only();
	test_tampering();
	test_scan();
	test_tail();
	test_print();
	test_bad_arguments();
	fx_rmdir();
	return tap_done();
}
