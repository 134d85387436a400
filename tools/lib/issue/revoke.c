#include "issue/revoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>

#include "base/read.h"
#include "base/time.h"
#include "input/revoked.h"
#include "issue/ca.h"
#include "issue/record.h"
#include "store/audit.h"
#include "store/lookup.h"
#include "store/revocation.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/serial.h"

/* ---- state ----------------------------------------------------------- */

enum action { ACT_NEW, ACT_ALREADY, ACT_PERMANENT, ACT_RELEASE };

static const char *action_status(enum action a)
{
	switch (a) {
	case ACT_NEW:
		return "revoked";
	case ACT_ALREADY:
		return "already revoked";
	case ACT_PERMANENT:
		return "hold made permanent";
	default:
		return "hold released";
	}
}

/* What revoking cs with reason means; reason -1: any (revoked.json). */
static int decide(const struct ca_cert_state *cs, int reason, enum action *act)
{
	if (strcmp(cs->kind, "root") == 0)
		return ca_err(CA_EPOLICY,
			      "serial %s is this CA's own root "
			      "certificate: a CA does not revoke itself",
			      cs->serial);
	if (!cs->revoked) {
		if (reason == CA_REASON_REMOVE_FROM_CRL)
			return ca_err(CA_EPOLICY,
				      "serial %s is not revoked: "
				      "removeFromCRL only releases a "
				      "certificateHold",
				      cs->serial);
		*act = ACT_NEW;
		return CA_OK;
	}
	if (reason < 0 || reason == cs->reason) {
		*act = ACT_ALREADY;
		return CA_OK;
	}
	if (cs->reason == CA_REASON_CERTIFICATE_HOLD) {
		*act = reason == CA_REASON_REMOVE_FROM_CRL ? ACT_RELEASE
							   : ACT_PERMANENT;
		return CA_OK;
	}
	return ca_err(CA_EPOLICY,
		      "serial %s is already revoked with reason %s: "
		      "a second revocation with reason %s is refused",
		      cs->serial, ca_crl_reason_name(cs->reason),
		      ca_crl_reason_name(reason));
}

static int apply(ca_store *st, const struct ca_cert_state *cs, enum action act,
		 int reason, time_t date)
{
	switch (act) {
	case ACT_NEW:
		return ca_store_revocation_add(st, cs, reason, date, ca_now());
	case ACT_PERMANENT:
		return ca_store_revocation_set_reason(st, cs->serial, reason,
						      ca_now());
	case ACT_RELEASE:
		return ca_store_revocation_delete(st, cs->serial);
	default:
		return CA_OK;
	}
}

static int entry_json(json_t *list, const struct ca_cert_state *cs,
		      enum action act, int reason, time_t date)
{
	char when[32];
	int shown =
	    act == ACT_ALREADY || act == ACT_RELEASE ? cs->reason : reason;
	time_t shown_date = act == ACT_NEW ? date : cs->revoked_at;

	ca_time_rfc3339(shown_date, when, sizeof(when));
	if (json_array_append_new(
		list,
		json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s}", "serial",
			  cs->serial, "common_name", cs->cn, "subject",
			  cs->subject, "status", action_status(act), "reason",
			  ca_crl_reason_name(shown), "date", when)) != 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

/* ---- one serial ------------------------------------------------------ */

struct job {
	const struct ca_revoke_params *p;
	struct ca_dir *d;
	struct ca_tp tp;
	char *pinned;
	char serial[48];
	time_t date;
};

/* --cert FILE: the serial of the certificate in FILE, which must be the
 * very certificate this CA issued with that serial. */
static int serial_of_cert(struct job *j, const char *path)
{
	struct ca_cert_record rec;
	unsigned char *der = NULL;
	X509 *x = NULL;
	int rc, found = 0, n;

	memset(&rec, 0, sizeof(rec));
	GUARD(ca_x509_load(path, &x));
	GUARD(ca_serial_hex(X509_get0_serialNumber(x), j->serial,
			    sizeof(j->serial)));
	GUARD(ca_store_cert_lookup(j->d->store, j->serial, &rec, &found));
	n = i2d_X509(x, &der);
	if (!found)
		rc = ca_err(CA_EPOLICY,
			    "%s (serial %s) was not issued by this CA", path,
			    j->serial);
	else if (n <= 0 || (size_t)n != rec.der_len ||
		 memcmp(der, rec.der, rec.der_len) != 0)
		rc = ca_err(CA_EPOLICY,
			    "%s is not the certificate this CA issued "
			    "with serial %s",
			    path, j->serial);
out:
	OPENSSL_free(der);
	X509_free(x);
	ca_cert_record_free(&rec);
	return rc;
}

static int check_date(const struct ca_cert_state *cs, time_t date, int given)
{
	char a[32], b[32];

	if (!given)
		return CA_OK;
	ca_time_rfc3339(date, a, sizeof(a));
	if (date > ca_now())
		return ca_err(CA_EPOLICY, "revocation date %s is in the future",
			      a);
	if (date < cs->not_before) {
		ca_time_rfc3339(cs->not_before, b, sizeof(b));
		return ca_err(CA_EPOLICY,
			      "revocation date %s is before the "
			      "certificate's notBefore %s",
			      a, b);
	}
	return CA_OK;
}

/* The canonical revocation text approvers sign (see issue/revoke.h). */
static char *revocation_tbs(const char *serial, int reason, time_t date)
{
	char when[32];
	json_t *o;
	char *s;

	ca_time_rfc3339(date, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:s, s:s}", "action", "revoke", "date", when,
		      "reason", ca_crl_reason_name(reason), "serial", serial);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
	      : NULL;
	json_decref(o);
	return s;
}

/* Date: the request's when executing, else --date or now. */
static int revocation_date(struct job *j, int *given)
{
	const struct ca_revoke_params *p = j->p;

	*given = p->date != NULL;
	if (j->tp.executing) {
		*given = 1;
		return ca_tp_param_time(&j->tp, "date", &j->date);
	}
	if (p->date != NULL)
		return ca_parse_time(p->date, &j->date);
	j->date = ca_now();
	return CA_OK;
}

static int prepare(struct job *j, const struct ca_cert_state *cs,
		   const struct ca_tbs *tbs, ca_audit *a)
{
	const struct ca_revoke_params *p = j->p;
	struct ca_tp_key key = ca_dir_tp_key(j->d);
	char when[32], na[32];
	json_t *summary = NULL, *params = NULL;
	int rc;

	ca_time_rfc3339(j->date, when, sizeof(when));
	ca_time_rfc3339(cs->not_after, na, sizeof(na));
	summary = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "operation",
			    "revoke a CA certificate", "serial", cs->serial,
			    "subject", cs->subject, "kind", cs->kind, "reason",
			    ca_crl_reason_name(p->reason), "date", when,
			    "not_after", na);
	params = json_pack("{s:s, s:s, s:s}", "serial", cs->serial, "reason",
			   ca_crl_reason_name(p->reason), "date", when);
	rc = ca_tp_prepare(&p->tp, &j->tp, "revoke", &key, tbs, summary, params,
			   p->force, j->d->store, a);
	json_decref(summary);
	json_decref(params);
	return rc;
}

static int quorum_mode(struct job *j, const struct ca_cert_state *cs)
{
	const struct ca_twophase *tp = &j->p->tp;
	int ca_cert =
	    strcmp(cs->kind, "subca") == 0 || strcmp(cs->kind, "cross") == 0;

	if (j->pinned != NULL && ca_cert)
		return ca_tp_begin(tp, j->d->path, j->pinned, &j->tp);
	if (tp->prepare != NULL || tp->request != NULL || tp->n_approvals > 0)
		return ca_err(CA_EUSAGE,
			      "--prepare/--request apply only to revoking "
			      "a CA certificate on a CA with a pinned "
			      "quorum");
	return CA_OK;
}

static int run_serial(struct job *j, ca_audit *a, struct ca_revoke_result *res)
{
	const struct ca_revoke_params *p = j->p;
	struct ca_cert_state cs, now_cs;
	enum action act = ACT_ALREADY, now_act = ACT_ALREADY;
	char *statement = NULL, when[32];
	struct ca_tbs tbs;
	int found, given, rc;

	memset(&cs, 0, sizeof(cs));
	memset(&now_cs, 0, sizeof(now_cs));
	if (p->cert != NULL)
		GUARD(serial_of_cert(j, p->cert));
	else
		GUARD(ca_serial_canonical(p->serial, j->serial,
					  sizeof(j->serial)));
	ca_audit_set(a, "serial", j->serial);
	ca_audit_set(a, "reason", ca_crl_reason_name(p->reason));
	GUARD(ca_store_cert_state(j->d->store, j->serial, &cs, &found));
	if (!found) {
		rc = ca_err(CA_EPOLICY, "serial %s was never issued by this CA",
			    j->serial);
		goto out;
	}
	GUARD(decide(&cs, p->reason, &act));
	if (act == ACT_ALREADY) {
		/* Idempotent: no state change, no approval needed. */
		res->unchanged++;
		GUARD(entry_json(res->entries, &cs, act, p->reason,
				 cs.revoked_at));
		goto out;
	}
	GUARD(ca_store_meta_get(j->d->store, "quorum_sha256", &j->pinned));
	GUARD(quorum_mode(j, &cs));
	GUARD(revocation_date(j, &given));
	GUARD(check_date(&cs, j->date, given));
	ca_time_rfc3339(j->date, when, sizeof(when));
	ca_audit_set(a, "date", when);
	if (j->tp.active) {
		statement = revocation_tbs(j->serial, p->reason, j->date);
		if (statement == NULL) {
			rc = ca_err(CA_EIO, "out of memory");
			goto out;
		}
		ca_tbs_init(&tbs, CA_TBS_REVOCATION,
			    (const unsigned char *)statement,
			    strlen(statement));
		if (j->tp.preparing) {
			GUARD(prepare(j, &cs, &tbs, a));
			res->prepared = 1;
			GUARD(entry_json(res->entries, &cs, act, p->reason,
					 j->date));
			goto out;
		}
		GUARD(ca_tp_check(&p->tp, &j->tp, "revoke",
				  ca_dir_tp_key(j->d).spki_sha256, j->d->store,
				  &tbs));
	}
	/* Decide again inside the transaction: nothing may have changed. */
	GUARD(ca_store_begin(j->d->store));
	GUARD(ca_store_cert_state(j->d->store, j->serial, &now_cs, &found));
	GUARD(decide(&now_cs, p->reason, &now_act));
	if (now_act != act) {
		rc = ca_err(CA_EPOLICY,
			    "serial %s changed state while revoking: "
			    "run again",
			    j->serial);
		goto out;
	}
	GUARD(apply(j->d->store, &cs, act, p->reason, j->date));
	GUARD(ca_tp_record(&j->tp, j->d->store, a));
	GUARD(ca_audit_append(j->d->store, a, "ok", action_status(act)));
	GUARD(ca_store_commit(j->d->store));
	res->changed++;
	GUARD(entry_json(res->entries, &cs, act, p->reason, j->date));
out:
	ca_store_rollback(j->d->store);
	ca_cert_state_free(&cs);
	ca_cert_state_free(&now_cs);
	free(statement);
	return rc;
}

/* ---- revoked.json ---------------------------------------------------- */

static int batch_entry(struct job *j, const struct ca_revoked_entry *e,
		       time_t now, json_t *list, int *changed)
{
	struct ca_cert_state cs;
	enum action act = ACT_ALREADY;
	int found, rc;

	GUARD(ca_store_cert_state(j->d->store, e->serial, &cs, &found));
	if (!found) {
		rc = ca_err(CA_EPOLICY,
			    "serial %s (hex %s) was never issued by "
			    "this CA",
			    e->serial_dec, e->serial);
		goto out;
	}
	if (cs.cn == NULL || strcmp(cs.cn, e->common_name) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "common_name '%.100s' does not match the "
			    "certificate with serial %s (CN '%.100s')",
			    e->common_name, e->serial_dec, cs.cn ? cs.cn : "");
		goto out;
	}
	GUARD(decide(&cs, -1, &act));
	if (act == ACT_NEW && j->pinned != NULL &&
	    (strcmp(cs.kind, "subca") == 0 || strcmp(cs.kind, "cross") == 0)) {
		rc = ca_err(CA_EPOLICY,
			    "serial %s is a CA certificate and this CA "
			    "has a pinned quorum: revoke it with --serial "
			    "and --prepare/--request",
			    e->serial_dec);
		goto out;
	}
	GUARD(apply(j->d->store, &cs, act, CA_REASON_UNSPECIFIED, now));
	GUARD(entry_json(list, &cs, act, CA_REASON_UNSPECIFIED, now));
	*changed = act != ACT_ALREADY;
out:
	if (rc < 0)
		rc = ca_err_ctx(rc, "%s: entry %zu", j->p->revoked, e->index);
	ca_cert_state_free(&cs);
	return rc;
}

static int run_batch(struct job *j, ca_audit *a, struct ca_revoke_result *res)
{
	struct ca_revoked_entry *es = NULL;
	unsigned char *data = NULL;
	size_t len, n = 0, i;
	time_t now = ca_now();
	char detail[128];
	json_t *serials, *e;
	int changed, rc;

	if (j->p->tp.prepare || j->p->tp.request || j->p->tp.n_approvals)
		return ca_err(CA_EUSAGE,
			      "--prepare/--request go with --serial");
	GUARD(ca_read_file(j->p->revoked, CA_REVOKED_MAX_INPUT, &data, &len));
	ca_audit_input(a, "revoked.json", data, len);
	GUARD(ca_revoked_parse(data, len, j->p->revoked, &es, &n));
	GUARD(ca_store_meta_get(j->d->store, "quorum_sha256", &j->pinned));
	GUARD(ca_store_begin(j->d->store));
	for (i = 0; i < n; i++) {
		changed = 0;
		GUARD(batch_entry(j, &es[i], now, res->entries, &changed));
		if (changed)
			res->changed++;
		else
			res->unchanged++;
	}
	/* Each serial the file revoked, for lookups of its history. */
	serials = json_array();
	json_array_foreach(
	    res->entries, i,
	    e) if (strcmp(json_string_value(json_object_get(e, "status")),
			  action_status(ACT_ALREADY)) != 0)
	    json_array_append(serials, json_object_get(e, "serial"));
	ca_audit_set_json(a, "serials", serials);
	snprintf(detail, sizeof(detail), "%d revoked, %d already revoked",
		 res->changed, res->unchanged);
	GUARD(ca_audit_append(j->d->store, a, "ok", detail));
	GUARD(ca_store_commit(j->d->store));
out:
	if (rc < 0) {
		/* Nothing of the file is applied. */
		ca_store_rollback(j->d->store);
		json_array_clear(res->entries);
		res->changed = res->unchanged = 0;
	}
	ca_revoked_free(es, n);
	free(data);
	return rc;
}

int ca_revoke(const char *dir, const struct ca_revoke_params *p,
	      struct ca_revoke_result *res)
{
	struct job j = {.p = p};
	ca_audit *a = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	res->entries = json_array();
	if (res->entries == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = ca_dir_open(dir, &j.d);
	if (rc < 0)
		return rc;
	GUARD(ca_dir_check_store(j.d));
	a = ca_audit_new("revoke");
	if (a == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	rc = p->revoked ? run_batch(&j, a, res) : run_serial(&j, a, res);
	rc = ca_refusal(j.d->store, a, rc);
out:
	ca_audit_free(a);
	ca_tp_free(&j.tp);
	free(j.pinned);
	ca_dir_free(j.d);
	return rc;
}

void ca_revoke_result_free(struct ca_revoke_result *res)
{
	json_decref(res->entries);
	res->entries = NULL;
}
