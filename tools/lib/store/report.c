#include "store/report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/time.h"

static const char *const reasons[] = {
    "unspecified",	  "keyCompromise", "cACompromise",
    "affiliationChanged", "superseded",	   "cessationOfOperation",
    "certificateHold",	  "(7)",	   "removeFromCRL",
    "privilegeWithdrawn", "aACompromise",
};

static json_t *row_json(ca_stmt *st, int with_revocation)
{
	char nb[32], na[32], ra[32];
	json_t *o;
	int failed = 0; /* a value could not be added */

	ca_time_rfc3339((time_t)ca_col_int64(st, 3), nb, sizeof(nb));
	ca_time_rfc3339((time_t)ca_col_int64(st, 4), na, sizeof(na));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "serial", ca_col_text(st, 0),
		      "subject", ca_col_text(st, 1), "kind", ca_col_text(st, 2),
		      "not_before", nb, "not_after", na);
	if (o == NULL)
		return NULL;
	if (!ca_col_null(st, 5))
		failed |= json_object_set_new(o, "profile",
					      json_string(ca_col_text(st, 5)));
	if (!ca_col_null(st, 6))
		failed |= json_object_set_new(
		    o, "notify", json_loads(ca_col_text(st, 6), 0, NULL));
	/* Renewed certificates stay valid until they expire or are revoked;
	 * the report marks them. */
	failed |= json_object_set_new(
	    o, "superseded_by",
	    ca_col_null(st, 9) ? json_null() : json_string(ca_col_text(st, 9)));
	if (with_revocation && !ca_col_null(st, 7)) {
		int r = (int)ca_col_int64(st, 8);

		ca_time_rfc3339((time_t)ca_col_int64(st, 7), ra, sizeof(ra));
		failed |= json_object_set_new(o, "revoked_at", json_string(ra));
		failed |= json_object_set_new(
		    o, "reason",
		    json_string(r >= 0 && r <= 10 ? reasons[r] : "?"));
	}
	if (failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int collect(ca_store *s, const char *where, long long a, long long b,
		   int nparams, json_t *arr)
{
	int bound = SQLITE_OK; /* the binds' results, OR'ed */
	char sql[1024];
	ca_stmt *st = NULL;
	int rc, r;

	snprintf(
	    sql, sizeof(sql),
	    "SELECT c.serial, c.subject, c.kind, c.not_before, c.not_after,"
	    " c.profile, c.notify, r.revoked_at, coalesce(r.reason, 0),"
	    " c.superseded_by"
	    " FROM certs c LEFT JOIN revocations r ON r.serial = c.serial"
	    " %s ORDER BY c.not_after, c.serial",
	    where);
	rc = ca_store_prepare(s, sql, &st);
	if (rc < 0)
		return rc;
	if (nparams > 0)
		bound |= ca_bind_int64(st, 1, a);
	if (nparams > 1)
		bound |= ca_bind_int64(st, 2, b);
	while ((r = ca_store_step(s, st, bound)) == SQLITE_ROW)
		if (json_array_append_new(arr, row_json(st, 1)) != 0) {
			r = SQLITE_NOMEM;
			break;
		}
	if (r == SQLITE_NOMEM)
		rc = ca_err(CA_EIO, "out of memory");
	else if (r != SQLITE_DONE)
		rc = ca_store_fail(s, "cannot list certificates");
	ca_store_done(s, st);
	return rc;
}

static void print_section(FILE *out, const char *title, json_t *arr)
{
	size_t i;
	json_t *v;

	fprintf(out, "%s (%zu)\n", title, json_array_size(arr));
	json_array_foreach(arr, i, v)
	{
		const char *rev =
		    json_string_value(json_object_get(v, "revoked_at"));
		const char *by =
		    json_string_value(json_object_get(v, "superseded_by"));

		fprintf(out, "  %s  %-8s %s  until %s",
			json_string_value(json_object_get(v, "serial")),
			json_string_value(json_object_get(v, "kind")),
			json_string_value(json_object_get(v, "subject")),
			json_string_value(json_object_get(v, "not_after")));
		if (rev != NULL)
			fprintf(
			    out, "  revoked %s (%s)", rev,
			    json_string_value(json_object_get(v, "reason")));
		if (by != NULL)
			fprintf(out, "  renewed: superseded by %s", by);
		fputc('\n', out);
	}
}

int ca_report(ca_store *st, long expiring_days, int json, FILE *out)
{
	json_t *issued = json_array(), *revoked = json_array(),
	       *expiring = json_array();
	long long now = (long long)time(NULL);
	int rc;

	if (issued == NULL || revoked == NULL || expiring == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	/* --expiring: that list only (the question asked). */
	if (expiring_days < 0) {
		GUARD(collect(st, "", 0, 0, 0, issued));
		GUARD(collect(st, "WHERE r.serial IS NOT NULL", 0, 0, 0,
			      revoked));
	} else {
		GUARD(collect(
		    st,
		    ca_store_sql(
			st,
			"WHERE r.serial IS NULL AND c.not_after >= ?1 AND"
			" c.not_after <= ?2 AND (c.notify IS NULL OR"
			" coalesce(json_extract(c.notify, '$.notify_expiry'),"
			" 1) IS NOT 0)",
			"WHERE r.serial IS NULL AND c.not_after >= ?1 AND"
			" c.not_after <= ?2 AND (c.notify IS NULL OR"
			" coalesce(c.notify::jsonb -> 'notify_expiry',"
			" 'true') <> 'false')"),
		    now, now + (long long)expiring_days * 86400, 2, expiring));
	}
	if (json) {
		json_t *o =
		    expiring_days >= 0
			? json_pack("{s:O, s:I}", "expiring", expiring,
				    "expiring_days", (json_int_t)expiring_days)
			: json_pack("{s:O, s:O}", "issued", issued, "revoked",
				    revoked);

		json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', out);
		json_decref(o);
		goto out;
	}
	if (expiring_days < 0) {
		print_section(out, "issued", issued);
		print_section(out, "revoked", revoked);
	} else {
		char title[64];

		snprintf(title, sizeof(title), "expiring within %ld days",
			 expiring_days);
		print_section(out, title, expiring);
	}
out:
	json_decref(issued);
	json_decref(revoked);
	json_decref(expiring);
	return rc;
}
