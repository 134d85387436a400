#include "issue/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "issue/ca.h"
#include "out/cadir.h"
#include "store/audit.h"
#include "store/migrate.h"

static json_t *counts_json(const struct ca_migrate_counts *n, const char *from,
			   const char *to)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
			 "from", from, "to", to, "certs", (json_int_t)n->certs,
			 "revocations", (json_int_t)n->revocations, "crls",
			 (json_int_t)n->crls, "approvals",
			 (json_int_t)n->approvals, "audit",
			 (json_int_t)n->audit, "meta", (json_int_t)n->meta,
			 "head", n->head.hash);
}

int ca_dir_migrate(const char *dir, const char *to, const char *password_source,
		   json_t **out)
{
	struct ca_migrate_counts n;
	struct ca_dir *d = NULL;
	ca_store *dst = NULL;
	ca_audit *a = ca_audit_new("migrate");
	char *from = NULL, *where = NULL, *text = NULL, aside[64];
	int rc, to_pg = ca_store_is_url(to), created = 0;

	*out = NULL;
	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (!to_pg && strcmp(to, "sqlite") != 0) {
		rc = ca_err(CA_EUSAGE,
			    "--to: a postgresql:// connection string or "
			    "'sqlite' (DIR/ca.db), not '%s'",
			    to);
		goto out;
	}
	GUARD(ca_dir_open(dir, &d));
	GUARD(ca_dir_store_where(dir, d->config, &from));
	where = to_pg ? strdup(to) : ca_dir_file(dir, "ca.db");
	if (where == NULL)
		GUARD(ca_err(CA_EIO, "out of memory"));
	if (strcmp(from, where) == 0 || (!to_pg && !ca_store_is_url(from))) {
		rc = ca_err(CA_EUSAGE, "the store of %s is %s already", dir,
			    from);
		goto out;
	}
	GUARD(ca_dir_check_store(d));
	/* The source stands still until ca.json names the copy. */
	GUARD(ca_store_begin(d->store));
	GUARD(ca_store_serialise(d->store));
	if (to_pg)
		GUARD(ca_store_password_source(password_source, 1));
	GUARD(ca_store_create(where, &dst));
	created = 1;
	GUARD(ca_store_migrate(d->store, dst, &n));
	ca_audit_set(a, "from", from);
	ca_audit_set(a, "to", where);
	GUARD(ca_store_begin(dst));
	GUARD(ca_audit_append(dst, a, "ok", "state store migrated"));
	GUARD(ca_store_commit(dst));
	if (to_pg)
		rc = json_object_set_new(d->config, "store", json_string(to));
	else
		rc = json_object_del(d->config, "store");
	/* No source left behind that names the old store's password. */
	(void)json_object_del(d->config, "store_password_source");
	if (rc == 0 && to_pg && password_source != NULL)
		rc = json_object_set_new(d->config, "store_password_source",
					 json_string(password_source));
	if (rc < 0)
		GUARD(ca_err(CA_EIO, "out of memory"));
	GUARD(ca_config_write(dir, d->config, &text));
	created = 0; /* the CA's store now */
	*out = counts_json(&n, from, where);
	if (*out == NULL)
		GUARD(ca_err(CA_EIO, "out of memory"));
	/* A SQLite source is kept, out of the way. */
	if (!ca_store_is_url(from)) {
		char *kept = NULL;

		snprintf(aside, sizeof(aside), ".migrated-%lld",
			 (long long)time(NULL));
		ca_store_rollback(d->store);
		ca_store_close(d->store); /* its WAL folded in first */
		d->store = NULL;
		if (asprintf(&kept, "%s%s", from, aside) < 0 ||
		    rename(from, kept) != 0) {
			fprintf(stderr,
				"warning: %s is no longer the CA's store but "
				"could not be renamed\n",
				from);
			free(kept);
			kept = NULL;
		}
		if (kept != NULL &&
		    json_object_set_new(*out, "kept", json_string(kept)) < 0)
			rc = ca_err(CA_EIO, "out of memory");
		free(kept);
	}
out:
	if (d != NULL)
		ca_store_rollback(d->store);
	ca_store_close(dst);
	if (created)
		ca_store_destroy(where);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	ca_audit_free(a);
	free(from);
	free(where);
	free(text);
	ca_dir_free(d);
	return rc;
}
