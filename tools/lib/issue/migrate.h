/* hsmca-audit migrate: move a CA's state store between SQLite (DIR/ca.db)
 * and PostgreSQL. */
#ifndef HSMCA_ISSUE_MIGRATE_H
#define HSMCA_ISSUE_MIGRATE_H

#include <jansson.h>

#include "common/err.h"

/* Copy DIR's store to `to` (a postgresql:// connection string naming an
 * empty database, or "sqlite" for DIR/ca.db), verify the copy (the audit
 * chain and every table's count on both sides), record a "migrate" audit
 * entry in it and make it the CA's store in ca.json. The source is held
 * still meanwhile and kept (a SQLite one as DIR/ca.db.migrated-TIME). A
 * copy that fails is removed and the CA left as it was. password_source:
 * the PostgreSQL copy's password source (store.h), recorded in ca.json, or
 * NULL; a copy back to SQLite drops ca.json's. */
int ca_dir_migrate(const char *dir, const char *to, const char *password_source,
		   json_t **out) CA_WUR;

#endif
