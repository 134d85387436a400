/* hsmca-audit's checks and copies of a CA's state store: the full check,
 * an online backup verified before it is reported, a restore checked
 * against the token anchor, and the anchoring of a directory made before
 * token anchors. Each fills *out with what it found (JSON object). */
#ifndef HSMCA_ISSUE_BACKUP_H
#define HSMCA_ISSUE_BACKUP_H

#include <jansson.h>

#include "common/err.h"

/* integrity_check, the whole audit chain, and the token anchor (PIN from
 * pin_source; skipped for an unanchored directory). */
int ca_dir_verify_full(const char *dir, const char *pin_source,
		       json_t **out) CA_WUR;
/* Copy DIR/ca.db to file (never overwritten) with SQLite's online backup
 * API, then check the copy (integrity_check, audit chain); a copy that
 * fails is removed. */
int ca_dir_backup(const char *dir, const char *file, json_t **out) CA_WUR;
/* Check file (integrity, audit chain, the token anchor: a copy behind the
 * anchor is refused) and make it DIR/ca.db; the replaced store is kept as
 * DIR/ca.db.replaced-TIME. Audited and anchored. */
int ca_dir_restore(const char *dir, const char *file, const char *pin_source,
		   json_t **out) CA_WUR;
/* Give a CA directory made before token anchors its CA id and anchor. */
int ca_dir_anchor_init(const char *dir, const char *pin_source,
		       json_t **out) CA_WUR;

#endif
