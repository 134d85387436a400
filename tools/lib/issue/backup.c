#include "issue/backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hex.h"
#include "issue/ca.h"
#include "out/cadir.h"
#include "out/file.h"
#include "store/audit.h"
#include "store/repair.h"

static int anchored(const struct ca_dir *d)
{
	const char *mode =
	    json_string_value(json_object_get(d->config, "anchor"));

	return mode == NULL || strcmp(mode, "none") != 0;
}

/* Integrity (full: integrity_check, else quick_check) and the audit
 * chain of a store; its head into o. */
static int check_store(ca_store *s, int full, json_t *o)
{
	struct ca_audit_head head;
	long bad = 0;
	int rc;

	GUARD(ca_store_check(s, full));
	GUARD(ca_audit_verify(s, &bad, &head));
	if (json_object_set_new(o, "entries", json_integer(head.seq)) < 0 ||
	    json_object_set_new(o, "head", json_string(head.hash)) < 0)
		rc = ca_err(CA_EIO, "out of memory");
out:
	return rc;
}

static int anchor_json(const struct ca_dir *d, json_t *o)
{
	if (d->anchor == NULL)
		return json_object_set_new(o, "anchor", json_string("none")) < 0
			   ? ca_err(CA_EIO, "out of memory")
			   : CA_OK;
	return json_object_set_new(
		   o, "anchor",
		   json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "label",
			     d->anchor->label, "token",
			     ca_token_label(d->anchor->tok), "ca_id",
			     d->anchor->ca_id, "seq",
			     (json_int_t)d->anchor->committed.seq, "hash",
			     d->anchor->committed.hash, "crl",
			     (json_int_t)d->anchor->committed.crl)) < 0
		   ? ca_err(CA_EIO, "out of memory")
		   : CA_OK;
}

int ca_dir_verify_full(const char *dir, const char *pin_source, json_t **out)
{
	struct ca_dir *d = NULL;
	json_t *o = json_object();
	long long unmended = 0;
	int rc;

	*out = NULL;
	if (o == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_dir_open(dir, &d));
	GUARD(check_store(d->store, 1, o));
	if (anchored(d))
		GUARD(ca_dir_signer(d, pin_source));
	GUARD(anchor_json(d, o));
	GUARD(ca_store_spki_unmended(d->store, &unmended));
	if (json_object_set_new(o, "spki_unmended", json_integer(unmended)) < 0)
		GUARD(ca_err(CA_EIO, "out of memory"));
	*out = o;
	o = NULL;
out:
	json_decref(o);
	ca_dir_free(d);
	return rc;
}

int ca_dir_backup(const char *dir, const char *file, json_t **out)
{
	struct ca_dir *d = NULL;
	ca_store *copy = NULL;
	json_t *o = json_object(), *src = json_object();
	int rc, made = 0;

	*out = NULL;
	if (o == NULL || src == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_dir_open(dir, &d));
	/* A damaged store is not worth a backup that looks good. */
	GUARD(check_store(d->store, 0, src));
	GUARD(ca_store_backup(d->store, file));
	made = 1;
	GUARD(ca_store_open_copy(file, &copy));
	rc = check_store(copy, 1, o);
	if (rc < 0) {
		rc = ca_err(CA_EPOLICY, "the copy %s does not check: %s", file,
			    ca_errmsg());
		goto out;
	}
	if (json_object_set_new(o, "out", json_string(file)) < 0)
		GUARD(ca_err(CA_EIO, "out of memory"));
	*out = o;
	o = NULL;
out:
	ca_store_close(copy);
	if (rc < 0 && made)
		unlink(file);
	json_decref(o);
	json_decref(src);
	ca_dir_free(d);
	return rc;
}

/* Move name (if present) to name + suffix; refuses to replace. */
static int move_aside(const char *dir, const char *name, const char *suffix)
{
	char *from = ca_dir_file(dir, name), *to = NULL;
	int rc = CA_OK;

	if (from == NULL || asprintf(&to, "%s%s", from, suffix) < 0) {
		to = NULL;
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (access(from, F_OK) != 0)
		goto out;
	if (access(to, F_OK) == 0 || rename(from, to) != 0)
		rc = ca_err(CA_EIO, "cannot move %s aside to %s: %s", from, to,
			    errno ? strerror(errno) : "it exists");
out:
	free(from);
	free(to);
	return rc;
}

/* The checked copy in d->store becomes DIR/ca.db: written next to it,
 * the old store (and its WAL, which belongs to it alone) moved aside,
 * then renamed into place. */
static int install_copy(struct ca_dir *d, const char *dir, char *aside,
			size_t aside_len)
{
	char *tmp = ca_dir_file(dir, "ca.db.restoring"),
	     *db = ca_dir_file(dir, "ca.db");
	int rc;

	if (tmp == NULL || db == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	snprintf(aside, aside_len, ".replaced-%lld", (long long)time(NULL));
	GUARD(ca_store_backup(d->store, tmp));
	rc = move_aside(dir, "ca.db", aside);
	if (rc == CA_OK) {
		char wal[96];

		if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", aside) >=
		    sizeof(wal))
			rc = ca_err(CA_EIO, "name too long: %s-wal", aside);
		else
			rc = move_aside(dir, "ca.db-wal", wal);
	}
	if (rc == CA_OK) {
		char *shm = ca_dir_file(dir, "ca.db-shm");

		if (shm != NULL)
			unlink(shm);
		free(shm);
		if (rename(tmp, db) != 0)
			rc = ca_err(CA_EIO, "cannot rename %s to %s: %s", tmp,
				    db, strerror(errno));
	}
	if (rc == CA_OK)
		rc = ca_fsync_dir(db);
	if (rc < 0)
		unlink(tmp);
out:
	free(tmp);
	free(db);
	return rc;
}

int ca_dir_restore(const char *dir, const char *file, const char *pin_source,
		   json_t **out)
{
	struct ca_dir *d = NULL;
	ca_store *st = NULL;
	ca_audit *a = ca_audit_new("restore");
	json_t *o = json_object();
	char aside[64] = "", *db = NULL;
	int rc;

	*out = NULL;
	if (o == NULL || a == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_dir_store_where(dir, NULL, &db));
	if (ca_store_is_url(db)) {
		rc = ca_err(CA_EUSAGE,
			    "%s keeps its store in PostgreSQL: restore it with "
			    "the server's tools, or copy a store in with "
			    "'hsmca-audit migrate'",
			    dir);
		goto out;
	}
	free(db);
	db = NULL;
	GUARD(ca_dir_open_store(dir, file, &d));
	rc = check_store(d->store, 1, o);
	if (rc < 0) {
		rc = ca_err(CA_EPOLICY, "%s does not check: %s", file,
			    ca_errmsg());
		goto out;
	}
	/* Against the token anchor: a copy behind it is refused. */
	if (anchored(d))
		GUARD(ca_dir_signer(d, pin_source));
	GUARD(install_copy(d, dir, aside, sizeof(aside)));
	db = ca_dir_file(dir, "ca.db");
	if (db == NULL)
		GUARD(ca_err(CA_EIO, "out of memory"));
	GUARD(ca_store_open(db, &st));
	if (d->anchor != NULL)
		ca_anchor_attach(d->anchor, st);
	ca_audit_input_file(a, "backup", file);
	ca_audit_set(a, "replaced", aside);
	GUARD(ca_store_begin(st));
	GUARD(ca_audit_append(st, a, "ok", "store restored from a backup"));
	GUARD(ca_store_commit(st));
	if (json_object_set_new(o, "restored", json_string(file)) < 0 ||
	    json_object_set_new(o, "replaced", json_string(aside)) < 0)
		GUARD(ca_err(CA_EIO, "out of memory"));
	GUARD(anchor_json(d, o));
	*out = o;
	o = NULL;
out:
	if (st != NULL)
		ca_store_rollback(st);
	ca_store_close(st);
	free(db);
	ca_audit_free(a);
	json_decref(o);
	ca_dir_free(d);
	return rc;
}

int ca_dir_anchor_init(const char *dir, const char *pin_source, json_t **out)
{
	struct ca_dir *d = NULL;
	struct ca_anchor *an = NULL;
	ca_audit *a = ca_audit_new("anchor");
	unsigned char id[16];
	char ca_id[33], *text = NULL, *store_id = NULL;
	const char *have;
	int rc, shared;

	*out = NULL;
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_dir_open(dir, &d));
	/* A shared (PostgreSQL) store: this directory is one more signing
	 * host of the CA, its token one more anchor of the same CA id. */
	shared = json_object_get(d->config, "store") != NULL;
	have = json_string_value(json_object_get(d->config, "ca_id"));
	if (have != NULL && !shared) {
		rc = ca_err(CA_EUSAGE, "%s already has a CA id: nothing to do",
			    dir);
		goto out;
	}
	GUARD(ca_dir_check_store(d));
	GUARD(ca_signer_open_expect(ca_dir_key_uri(d), pin_source, d->cert,
				    &d->signer));
	if (have != NULL) {
		GUARD(ca_store_meta_get(d->store, "ca_id", &store_id));
		if (store_id == NULL || strcmp(store_id, have) != 0) {
			rc = ca_err(CA_EPOLICY,
				    "%s/ca.json (CA id %s) does not name the "
				    "CA of its store (CA id %s)",
				    dir, have, store_id ? store_id : "none");
			goto out;
		}
		snprintf(ca_id, sizeof(ca_id), "%s", have);
	} else {
		GUARD(ca_token_random(d->signer->tok, id, sizeof(id)));
		ca_hex(id, sizeof(id), ca_id);
	}
	GUARD(ca_anchor_create(d->signer->tok, d->signer->spki_sha256_hex,
			       ca_id, dir, d->store, &an));
	ca_anchor_attach(an, d->store);
	ca_audit_set(a, "ca_id", ca_id);
	ca_audit_set(a, "token_serial", d->signer->token_serial);
	GUARD(ca_store_begin(d->store));
	GUARD(ca_store_meta_set(d->store, "ca_id", ca_id));
	GUARD(ca_audit_append(d->store, a, "ok",
			      have != NULL ? "signing host joined: token "
					     "anchor created"
					   : "token anchor created"));
	rc = ca_store_commit(d->store);
	if (rc < 0) {
		ca_anchor_destroy(an);
		goto out;
	}
	if (json_object_set_new(d->config, "ca_id", json_string(ca_id)) < 0 ||
	    json_object_set_new(d->config, "anchor", json_string("token")) < 0)
		GUARD(ca_err(CA_EIO, "out of memory"));
	GUARD(ca_config_write(dir, d->config, &text));
	d->anchor = an;
	an = NULL;
	*out = json_object();
	if (*out == NULL)
		GUARD(ca_err(CA_EIO, "out of memory"));
	GUARD(anchor_json(d, *out));
out:
	if (d != NULL)
		ca_store_rollback(d->store);
	ca_anchor_free(an);
	ca_audit_free(a);
	free(text);
	free(store_id);
	ca_dir_free(d);
	return rc;
}
