#include "store/audit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "base/process.h"
#include "base/sha256.h"
#include "base/text.h"
#include "base/time.h"

#ifndef HSMCA_VERSION
#define HSMCA_VERSION "0"
#endif

static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";
static const char *tool_name = "hsmca";

struct ca_audit {
	char *action;
	json_t *inputs;
	json_t *outputs;
	json_t *hash_of; /* {"inputs": {name: kind}, "outputs": {...}} */
	json_t *approvers;
	json_t *extra;
	long seq;   /* of the entry last appended, 0 before */
	int failed; /* a value could not be added (out of memory) */
};

/* What a recorded SHA-256 is of. */
#define HASH_FILE "file" /* a file's exact bytes (read or written) */
#define HASH_DER  "DER"	 /* an object's DER encoding */
#define HASH_DATA "data" /* other bytes */

void ca_audit_set_tool(const char *tool)
{
	tool_name = tool;
}

ca_audit *ca_audit_new(const char *action)
{
	ca_audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->action = strdup(action);
	a->inputs = json_object();
	a->outputs = json_object();
	a->hash_of = json_pack("{s:{}, s:{}}", "inputs", "outputs");
	a->approvers = json_array();
	a->extra = json_object();
	if (a->action == NULL || a->inputs == NULL || a->outputs == NULL ||
	    a->hash_of == NULL || a->approvers == NULL || a->extra == NULL) {
		ca_audit_free(a);
		return NULL;
	}
	return a;
}

void ca_audit_free(ca_audit *a)
{
	if (a == NULL)
		return;
	free(a->action);
	json_decref(a->inputs);
	json_decref(a->outputs);
	json_decref(a->hash_of);
	json_decref(a->approvers);
	json_decref(a->extra);
	free(a);
}

void ca_audit_set_action(ca_audit *a, const char *action)
{
	char *n;

	if (a == NULL || (n = strdup(action)) == NULL)
		return;
	free(a->action);
	a->action = n;
}

static json_t *side_of(ca_audit *a, int output)
{
	return output ? a->outputs : a->inputs;
}

/* Record name's SHA-256 (hex) as an input or output, and what it is of. */
static void put_hex(ca_audit *a, int output, const char *name, const char *hex,
		    const char *kind)
{
	if (a == NULL || hex == NULL)
		return;
	a->failed |=
	    json_object_set_new(side_of(a, output), name, json_string(hex)) |
	    json_object_set_new(
		json_object_get(a->hash_of, output ? "outputs" : "inputs"),
		name, json_string(kind));
}

static void put_hash(ca_audit *a, int output, const char *name,
		     const void *data, size_t len, const char *kind)
{
	char hex[65];

	if (a == NULL)
		return;
	ca_sha256_hex(data, len, hex);
	put_hex(a, output, name, hex, kind);
}

static void put_file(ca_audit *a, int output, const char *name,
		     const char *path)
{
	char hex[65];

	if (a == NULL)
		return;
	if (ca_sha256_file(path, hex) < 0)
		snprintf(hex, sizeof(hex), "unreadable");
	put_hex(a, output, name, hex, HASH_FILE);
}

void ca_audit_input(ca_audit *a, const char *name, const void *data, size_t len)
{
	put_hash(a, 0, name, data, len, HASH_FILE);
}

void ca_audit_input_data(ca_audit *a, const char *name, const void *data,
			 size_t len)
{
	put_hash(a, 0, name, data, len, HASH_DATA);
}

void ca_audit_output(ca_audit *a, const char *name, const void *data,
		     size_t len)
{
	put_hash(a, 1, name, data, len, HASH_FILE);
}

void ca_audit_output_der(ca_audit *a, const char *name, const void *der,
			 size_t len)
{
	put_hash(a, 1, name, der, len, HASH_DER);
}

void ca_audit_input_file(ca_audit *a, const char *name, const char *path)
{
	put_file(a, 0, name, path);
}

void ca_audit_output_file(ca_audit *a, const char *name, const char *path)
{
	put_file(a, 1, name, path);
}

void ca_audit_output_sha256(ca_audit *a, const char *name, const char *hex)
{
	put_hex(a, 1, name, hex, HASH_FILE);
}

void ca_audit_output_der_sha256(ca_audit *a, const char *name, const char *hex)
{
	put_hex(a, 1, name, hex, HASH_DER);
}

void ca_audit_set_json(ca_audit *a, const char *key, json_t *value)
{
	if (a != NULL && value != NULL)
		a->failed |= json_object_set_new(a->extra, key, value);
	else
		json_decref(value);
}

void ca_audit_set(ca_audit *a, const char *key, const char *value)
{
	if (a != NULL && value != NULL)
		a->failed |=
		    json_object_set_new(a->extra, key, json_string(value));
}

void ca_audit_approver(ca_audit *a, const char *id)
{
	if (a != NULL)
		a->failed |=
		    json_array_append_new(a->approvers, json_string(id));
}

/* The last entry's seq and hash (0 and zeros for an empty log). */
static int chain_tail(ca_store *s, long *seq, char hash[65])
{
	ca_stmt *st = NULL;
	int rc, r;

	*seq = 0;
	memcpy(hash, zero_hash, 65);
	/* The head this transaction appends to: no other writer's. */
	rc = ca_store_serialise(s);
	if (rc < 0)
		return rc;
	rc = ca_store_prepare(s,
			      "SELECT seq, hash FROM audit ORDER BY seq DESC "
			      "LIMIT 1",
			      &st);
	if (rc < 0)
		return rc;
	r = ca_store_step(s, st, 0);
	if (r == SQLITE_ROW) {
		*seq = (long)ca_col_int64(st, 0);
		snprintf(hash, 65, "%s", ca_col_text(st, 1));
	} else if (r != SQLITE_DONE) {
		rc = ca_store_fail(s, "cannot read the audit log");
	}
	ca_store_done(s, st);
	return rc;
}

/* Who runs this process where: the same for every entry it writes. */
static const struct ca_identity *identity(void)
{
	static struct ca_identity id;
	static int known;

	if (!known) {
		ca_process_identity(&id);
		known = 1;
	}
	return &id;
}

int ca_audit_append(ca_store *s, ca_audit *a, const char *outcome,
		    const char *detail)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	const struct ca_identity *who = identity();
	char prev[65], now[32], hash[65];
	ca_stmt *st = NULL;
	json_t *e = NULL;
	char *text = NULL;
	long seq;
	int rc, failed = 0;

	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = chain_tail(s, &seq, prev);
	if (rc < 0)
		return rc;
	seq++;
	ca_time_rfc3339(time(NULL), now, sizeof(now));
	e = json_pack(
	    "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:O, s:O, s:O}", "seq",
	    (json_int_t)seq, "prev", prev, "time", now, "tool", tool_name,
	    "version", HSMCA_VERSION, "action", a->action, "outcome", outcome,
	    "detail", detail, "inputs", a->inputs, "outputs", a->outputs,
	    "approvers", a->approvers);
	if (e == NULL || a->failed) {
		rc = ca_err(CA_EIO, "cannot build the audit entry");
		goto out;
	}
	if (json_object_size(a->extra) > 0)
		failed |= json_object_set(e, "details", a->extra);
	if (json_object_size(json_object_get(a->hash_of, "inputs")) > 0 ||
	    json_object_size(json_object_get(a->hash_of, "outputs")) > 0)
		failed |= json_object_set(e, "hash_of", a->hash_of);
	/* Who did it, and where. */
	failed |= json_object_set_new(e, "user", json_string(who->user)) |
		  json_object_set_new(e, "uid", json_integer(who->uid)) |
		  json_object_set_new(e, "host", json_string(who->host));
	if (failed) {
		rc = ca_err(CA_EIO, "cannot build the audit entry");
		goto out;
	}
	text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (text == NULL) {
		rc = ca_err(CA_EIO, "cannot encode the audit entry");
		goto out;
	}
	ca_sha256_hex((const unsigned char *)text, strlen(text), hash);
	rc = ca_store_prepare(s,
			      "INSERT INTO audit(seq, entry, hash) "
			      "VALUES (?, ?, ?)",
			      &st);
	if (rc < 0)
		goto out;
	bound |= ca_bind_int64(st, 1, seq);
	bound |= ca_bind_text(st, 2, text);
	bound |= ca_bind_text(st, 3, hash);
	if (ca_store_step(s, st, bound) != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot append to the audit log");
	else
		a->seq = seq;
out:
	ca_store_done(s, st);
	free(text);
	json_decref(e);
	return rc;
}

long ca_audit_seq(const ca_audit *a)
{
	return a->seq;
}

int ca_audit_record(ca_store *s, ca_audit *a, const char *outcome,
		    const char *detail)
{
	char saved[1024];
	int rc;

	if (s == NULL || s->untrusted)
		return CA_OK;
	/* Keep the message that explains the refusal for the tool to print. */
	snprintf(saved, sizeof(saved), "%s", ca_errmsg());
	ca_store_rollback(s);
	rc = ca_store_begin(s);
	if (rc == CA_OK)
		rc = ca_audit_append(s, a, outcome, detail);
	if (rc == CA_OK)
		rc = ca_store_commit(s);
	else
		ca_store_rollback(s);
	if (rc == CA_OK)
		ca_err(CA_OK, "%s", saved);
	return rc;
}

int ca_audit_head(ca_store *s, struct ca_audit_head *head)
{
	return chain_tail(s, &head->seq, head->hash);
}

int ca_audit_entry_hash(ca_store *s, long seq, char hash[65], int *found)
{
	ca_stmt *st = NULL;
	int rc, r;

	*found = 0;
	hash[0] = '\0';
	rc = ca_store_prepare(s, "SELECT hash FROM audit WHERE seq = ?", &st);
	if (rc < 0)
		return rc;
	r = ca_store_step(s, st, ca_bind_int64(st, 1, seq));
	if (r == SQLITE_ROW && ca_col_text(st, 0) != NULL) {
		snprintf(hash, 65, "%s", ca_col_text(st, 0));
		*found = 1;
	} else if (r != SQLITE_DONE && r != SQLITE_ROW) {
		rc = ca_store_fail(s, "cannot read the audit log");
	}
	ca_store_done(s, st);
	return rc;
}

/* The check before every state change reads each entry's "seq" and "prev"
 * with this scan rather than a JSON parse (a parse is four fifths of the
 * check's cost): the entry's text is hashed whole, so what the scan reads
 * is committed to by the chain all the same. It walks the top-level object,
 * skipping nested values (strings with their escapes, nesting counted), and
 * refuses what is not an object of key-value pairs or names either key
 * twice. hsmca-audit verify parses every entry. */
static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* p at '"': past the closing quote, NULL when unterminated. */
static const char *skip_string(const char *p)
{
	for (p++; *p != '\0'; p++) {
		if (*p == '\\') {
			if (*++p == '\0')
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* One value: past it, NULL when it runs off the end or nests wrongly. */
static const char *skip_value(const char *p)
{
	char stack[64];
	int depth = 0;

	do {
		p = skip_ws(p);
		if (*p == '"') {
			p = skip_string(p);
			if (p == NULL)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			if (depth == (int)sizeof(stack))
				return NULL;
			stack[depth++] = *p == '{' ? '}' : ']';
			p++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0 || stack[depth - 1] != *p)
				return NULL;
			depth--;
			p++;
		} else if (*p == ',' || *p == ':') {
			if (depth == 0)
				return NULL;
			p++;
		} else if (*p == '\0') {
			return NULL;
		} else {
			/* A number or a literal. */
			const char *q = p;

			while (*p != '\0' &&
			       strchr(",:]} \t\n\r\"{[", *p) == NULL)
				p++;
			if (p == q)
				return NULL;
		}
	} while (depth > 0);
	return p;
}

static int scan_entry(const char *text, json_int_t *seq, char prev[65])
{
	const char *p = skip_ws(text), *k, *v;
	int have_seq = 0, have_prev = 0;
	size_t klen;

	if (*p++ != '{')
		return -1;
	p = skip_ws(p);
	if (*p == '}')
		return -1;
	for (;;) {
		if (*p != '"')
			return -1;
		k = p + 1;
		p = skip_string(p);
		if (p == NULL)
			return -1;
		klen = (size_t)(p - 1 - k);
		p = skip_ws(p);
		if (*p++ != ':')
			return -1;
		v = skip_ws(p);
		p = skip_value(v);
		if (p == NULL)
			return -1;
		if (klen == 4 && memcmp(k, "prev", 4) == 0) {
			if (have_prev++ || p - v != 66 || v[0] != '"' ||
			    memchr(v + 1, '\\', 64) != NULL)
				return -1;
			memcpy(prev, v + 1, 64);
			prev[64] = '\0';
		} else if (klen == 3 && memcmp(k, "seq", 3) == 0) {
			char *end;

			if (have_seq++ || *v < '0' || *v > '9')
				return -1;
			*seq = strtoll(v, &end, 10);
			if (end != p)
				return -1;
		}
		p = skip_ws(p);
		if (*p == '}')
			break;
		if (*p++ != ',')
			return -1;
		p = skip_ws(p);
	}
	return *skip_ws(p + 1) == '\0' && have_seq && have_prev ? 0 : -1;
}

/* parse: read seq and prev with a JSON parse (else scan_entry). */
static int check_entry(long expect, const char *prev, const char *text,
		       const char *hash, long row_seq, int parse)
{
	char calc[65];
	json_error_t jerr;
	json_t *e = NULL;
	json_int_t seq = -1;
	char scanned[65];
	const char *eprev = NULL;
	int rc = CA_OK;

	if (row_seq != expect) {
		rc =
		    ca_err(CA_EPOLICY,
			   "audit entry %ld: expected entry %ld here: an entry "
			   "was deleted or inserted",
			   row_seq, expect);
		goto out;
	}
	ca_sha256_hex((const unsigned char *)text, strlen(text), calc);
	/* The length first: CRYPTO_memcmp reads 64 bytes of hash. */
	if (strlen(hash) != 64 || CRYPTO_memcmp(calc, hash, 64) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "audit entry %ld: its hash does not match its "
			    "content: the entry was edited",
			    row_seq);
		goto out;
	}
	if (parse) {
		e = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
		if (e != NULL && json_unpack(e, "{s:I, s:s}", "seq", &seq,
					     "prev", &eprev) != 0)
			eprev = NULL;
	} else if (scan_entry(text, &seq, scanned) == 0) {
		eprev = scanned;
	}
	if (eprev == NULL) {
		rc = ca_err(CA_EPOLICY, "audit entry %ld: not a valid entry",
			    row_seq);
		goto out;
	}
	if (seq != row_seq) {
		rc =
		    ca_err(CA_EPOLICY,
			   "audit entry %ld: it records position %lld: entries "
			   "were reordered",
			   row_seq, (long long)seq);
		goto out;
	}
	if (strcmp(eprev, prev) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "audit entry %ld: it does not chain to entry %ld "
			    "(previous hash differs)",
			    row_seq, row_seq - 1);
		goto out;
	}
out:
	json_decref(e);
	return rc;
}

/* parse: every entry parsed as JSON (else scan_entry). */
static int verify_from(ca_store *s, long from, int parse, long *bad,
		       struct ca_audit_head *head)
{
	char prev[65];
	ca_stmt *st = NULL;
	long expect;
	int rc, r, found;

	*bad = 0;
	head->seq = 0;
	memcpy(head->hash, zero_hash, 65);
	memcpy(prev, zero_hash, 65);
	if (from < 1)
		from = 1;
	expect = from;
	/* A tail chains to the stored hash of the entry before it. */
	if (from > 1) {
		rc = ca_audit_entry_hash(s, from - 1, prev, &found);
		if (rc < 0)
			return rc;
		if (!found) {
			*bad = from - 1;
			return ca_err(CA_EPOLICY,
				      "audit entry %ld: missing: an entry "
				      "was deleted",
				      from - 1);
		}
		head->seq = from - 1;
		memcpy(head->hash, prev, 65);
	}
	rc = ca_store_prepare(s,
			      "SELECT seq, entry, hash FROM audit WHERE seq "
			      ">= ? ORDER BY seq",
			      &st);
	if (rc < 0)
		return rc;
	if (ca_bind_int64(st, 1, from) != SQLITE_OK) {
		rc = ca_store_fail(s, "cannot read the audit log");
		goto out;
	}
	ca_store_stream(st); /* a log of millions of entries */
	while ((r = ca_store_step(s, st, 0)) == SQLITE_ROW) {
		long seq = (long)ca_col_int64(st, 0);
		const char *text = ca_col_text(st, 1);
		const char *hash = ca_col_text(st, 2);

		if (text == NULL || hash == NULL) {
			rc = ca_err(CA_EPOLICY, "audit entry %ld: empty", seq);
			*bad = seq;
			goto out;
		}
		rc = check_entry(expect, prev, text, hash, seq, parse);
		if (rc < 0) {
			*bad = seq < expect ? seq : expect;
			goto out;
		}
		snprintf(prev, sizeof(prev), "%s", hash);
		head->seq = seq;
		memcpy(head->hash, prev, 65);
		expect++;
	}
	if (r != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot read the audit log");
	else if (expect == 1)
		rc = ca_err(CA_EPOLICY,
			    "the audit log is empty: its first entry "
			    "was deleted");
out:
	ca_store_done(s, st);
	return rc;
}

int ca_audit_verify_from(ca_store *s, long from, long *bad,
			 struct ca_audit_head *head)
{
	return verify_from(s, from, 0, bad, head);
}

int ca_audit_verify(ca_store *s, long *bad, struct ca_audit_head *head)
{
	return verify_from(s, 1, 1, bad, head);
}

/* "out certificate (DER) sha256 ...", "in csr (file) sha256 ...": what
 * each recorded hash is of (entries written before hash_of was recorded
 * give only the hash). */
static void print_hashes(FILE *out, const char *label, json_t *hashes,
			 json_t *kinds)
{
	const char *k, *kind;
	json_t *v;

	json_object_foreach(hashes, k, v)
	{
		kind = json_string_value(json_object_get(kinds, k));
		fprintf(out, "    %s %s%s%s%s sha256 %s\n", label, k,
			kind ? " (" : "", kind ? kind : "", kind ? ")" : "",
			json_string_value(v));
	}
}

/* The details an operator looks for first, then the others. */
static void print_details(FILE *out, json_t *details)
{
	static const char *const first[] = {"serial", "subject",    "reason",
					    "date",   "crl_number", NULL};
	const char *k;
	json_t *v;
	int i, n = 0;

	for (i = 0; first[i] != NULL; i++) {
		v = json_object_get(details, first[i]);
		if (v == NULL)
			continue;
		fprintf(out, "%s%s ", n++ ? ", " : "    ", first[i]);
		ca_text_put(out, json_is_string(v) ? json_string_value(v) : "?",
			    0);
	}
	if (n > 0)
		fputc('\n', out);
	json_object_foreach(details, k, v)
	{
		for (i = 0; first[i] != NULL && strcmp(first[i], k) != 0; i++)
			;
		if (first[i] != NULL)
			continue;
		if (json_is_string(v)) {
			fprintf(out, "    %s ", k);
			ca_text_put(out, json_string_value(v), 0);
			fputc('\n', out);
		} else {
			char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			fprintf(out, "    %s ", k);
			ca_text_put(out, t ? t : "?", 1);
			fputc('\n', out);
			free(t);
		}
	}
}

static void print_entry(FILE *out, long long seq, json_t *e, const char *hash)
{
	json_t *approvers = json_object_get(e, "approvers"), *v;
	json_t *kinds = json_object_get(e, "hash_of");
	const char *detail = json_string_value(json_object_get(e, "detail"));
	size_t i;

	fprintf(out, "#%lld %s %s %s %s%s", seq,
		json_string_value(json_object_get(e, "time")),
		json_string_value(json_object_get(e, "tool")),
		json_string_value(json_object_get(e, "action")),
		json_string_value(json_object_get(e, "outcome")),
		detail ? ": " : "");
	ca_text_put(out, detail, 1);
	fputc('\n', out);
	if (json_object_get(e, "user") != NULL)
		fprintf(
		    out, "    by %s (uid %lld) on %s, hsmca %s\n",
		    json_string_value(json_object_get(e, "user")),
		    (long long)json_integer_value(json_object_get(e, "uid")),
		    json_string_value(json_object_get(e, "host")),
		    json_string_value(json_object_get(e, "version")));
	print_details(out, json_object_get(e, "details"));
	print_hashes(out, "in ", json_object_get(e, "inputs"),
		     json_object_get(kinds, "inputs"));
	print_hashes(out, "out", json_object_get(e, "outputs"),
		     json_object_get(kinds, "outputs"));
	if (json_array_size(approvers) > 0) {
		fprintf(out, "    approvers");
		json_array_foreach(approvers, i, v)
		    fprintf(out, " %s", json_string_value(v));
		fprintf(out, "\n");
	}
	fprintf(out, "    hash %s\n", hash);
}

int ca_audit_print(ca_store *s, FILE *out, int json)
{
	ca_stmt *st = NULL;
	int rc, r;

	rc = ca_store_prepare(
	    s, "SELECT seq, entry, hash FROM audit ORDER BY seq", &st);
	if (rc < 0)
		return rc;
	ca_store_stream(st);
	while ((r = ca_store_step(s, st, 0)) == SQLITE_ROW) {
		const char *text = ca_col_text(st, 1);
		const char *hash = ca_col_text(st, 2);
		json_t *e;

		if (json) {
			fprintf(out, "{\"entry\":%s,\"hash\":\"%s\"}\n", text,
				hash);
			continue;
		}
		e = json_loads(text, 0, NULL);
		if (e == NULL) {
			fprintf(out, "#%lld (unreadable entry)\n",
				(long long)ca_col_int64(st, 0));
			continue;
		}
		print_entry(out, (long long)ca_col_int64(st, 0), e, hash);
		json_decref(e);
	}
	if (r != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot read the audit log");
	ca_store_done(s, st);
	return rc;
}

int ca_audit_entries_for_serial(ca_store *s, const char *serial, json_t *arr)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	ca_stmt *st = NULL;
	int rc, r;

	/* Through the audit indexes (store.c): no scan of the log. */
	rc = ca_store_prepare(
	    s,
	    ca_store_sql(
		s,
		"SELECT seq, entry, hash FROM audit WHERE " AUDIT_SERIAL
		" = ?1 AND " AUDIT_OTHER " UNION SELECT seq, entry, hash FROM"
		" audit WHERE seq = (SELECT audit_seq FROM certs WHERE serial"
		" = ?1) UNION SELECT seq, entry, hash FROM audit "
		"WHERE " AUDIT_RENEWS " = ?1 UNION SELECT seq, entry, hash FROM"
		" audit WHERE " AUDIT_BATCH " AND EXISTS (SELECT 1 FROM"
		" json_each(entry, '$.details.serials') WHERE value ="
		" ?1) ORDER BY 1",
		"SELECT seq, entry, hash FROM audit WHERE"
		" entry::jsonb #>> '{details,serial}' = ?1::text "
		"AND " PG_AUDIT_OTHER
		" UNION SELECT seq, entry, hash FROM audit"
		" WHERE seq = (SELECT audit_seq FROM certs WHERE serial ="
		" ?1::text) UNION SELECT seq, entry, hash FROM audit WHERE"
		" entry::jsonb #>> '{details,renews}' = ?1::text"
		" UNION SELECT seq, entry, hash FROM audit WHERE"
		" jsonb_typeof(entry::jsonb #> '{details,serials}') ="
		" 'array' AND entry::jsonb #> '{details,serials}'"
		" @> to_jsonb(?1::text) ORDER BY 1"),
	    &st);
	if (rc < 0)
		return rc;
	bound |= ca_bind_text(st, 1, serial);
	while ((r = ca_store_step(s, st, bound)) == SQLITE_ROW) {
		json_t *e = json_loads(ca_col_text(st, 1), 0, NULL);

		if (json_array_append_new(
			arr, json_pack("{s:I, s:o*, s:s}", "seq",
				       (json_int_t)ca_col_int64(st, 0), "entry",
				       e, "hash", ca_col_text(st, 2))) != 0) {
			r = SQLITE_NOMEM;
			break;
		}
	}
	if (r == SQLITE_NOMEM)
		rc = ca_err(CA_EIO, "out of memory");
	else if (r != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot read the audit log");
	ca_store_done(s, st);
	return rc;
}

void ca_audit_print_entry(FILE *out, json_t *entry)
{
	json_t *e = json_object_get(entry, "entry");

	if (e != NULL)
		print_entry(out,
			    (long long)json_integer_value(
				json_object_get(entry, "seq")),
			    e,
			    json_string_value(json_object_get(entry, "hash")));
}
