#include "store/repair.h"

#include <stdlib.h>

/* Rows mended per round: read (the statement done), then updated. */
#define REPAIR_ROUND 256

int ca_store_spki_damaged(ca_store *s, int *damaged)
{
	long long n = 0;
	int rc;

	*damaged = 0;
	rc = ca_store_count(s,
			    "SELECT count(*) FROM (SELECT spki_sha256 FROM "
			    "certs ORDER BY rowid LIMIT 1) AS f "
			    "WHERE length(spki_sha256) <> 64",
			    NULL, NULL, &n);
	*damaged = n > 0;
	return rc;
}

int ca_store_spki_unmended(ca_store *s, long long *n)
{
	int damaged, rc;

	*n = 0;
	rc = ca_store_spki_damaged(s, &damaged);
	if (rc == CA_OK && damaged)
		rc = ca_store_count(s,
				    "SELECT count(*) FROM certs "
				    "WHERE length(spki_sha256) <> 64",
				    NULL, NULL, n);
	return rc;
}

struct fix {
	long long rowid;
	char hex[65];
};

/* Up to REPAIR_ROUND damaged rows after rowid *after, their hashes
 * computed; *after advanced past them. */
static int read_round(ca_store *s, ca_spki_of_der spki, struct fix *f, int *n,
		      long long *after)
{
	const void *der;
	size_t len;
	ca_stmt *q = NULL;
	int rc, r, bound = 0;

	*n = 0;
	rc = ca_store_prepare(s,
			      "SELECT rowid, der FROM certs WHERE rowid > ?1 "
			      "AND length(spki_sha256) <> 64 ORDER BY rowid "
			      "LIMIT ?2",
			      &q);
	if (rc < 0)
		return rc;
	bound |= ca_bind_int64(q, 1, *after);
	bound |= ca_bind_int64(q, 2, REPAIR_ROUND);
	while (rc == CA_OK && (r = ca_store_step(s, q, bound)) == SQLITE_ROW) {
		f[*n].rowid = ca_col_int64(q, 0);
		der = ca_col_blob(q, 1, &len);
		rc = spki(der, len, f[*n].hex);
		*after = f[(*n)++].rowid;
	}
	if (rc == CA_OK && r != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot read certificates");
	ca_store_done(s, q);
	return rc;
}

int ca_store_spki_repair(ca_store *s, ca_spki_of_der spki, long long *fixed)
{
	struct fix *f = calloc(REPAIR_ROUND, sizeof(*f));
	long long after = 0;
	int rc = CA_OK, n, i;

	*fixed = 0;
	if (f == NULL)
		return ca_err(CA_EIO, "out of memory");
	do {
		GUARD(read_round(s, spki, f, &n, &after));
		for (i = 0; i < n; i++) {
			ca_stmt *u = NULL;
			int bound = 0;

			GUARD(ca_store_prepare(s,
					       "UPDATE certs SET spki_sha256 = "
					       "?1 WHERE rowid = ?2",
					       &u));
			bound |= ca_bind_text(u, 1, f[i].hex);
			bound |= ca_bind_int64(u, 2, f[i].rowid);
			if (ca_store_step(s, u, bound) != SQLITE_DONE)
				rc = ca_store_fail(s, "cannot mend a "
						      "certificate row");
			ca_store_done(s, u);
			if (rc < 0)
				goto out;
			(*fixed)++;
		}
	} while (n == REPAIR_ROUND);
out:
	free(f);
	return rc;
}
