#include "quorum/twophase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/time.h"
#include "out/cadir.h"
#include "quorum/verify.h"
#include "x509/serial.h"
#include "x509/tbsmark.h"

int ca_tp_option(struct ca_twophase *tp, const char *name, const char *arg)
{
	if (strcmp(name, "prepare") == 0) {
		tp->prepare = arg;
	} else if (strcmp(name, "request") == 0) {
		tp->request = arg;
	} else if (strcmp(name, "approval") == 0) {
		if (tp->n_approvals ==
		    (int)(sizeof(tp->approvals) / sizeof(tp->approvals[0])))
			return -1;
		tp->approvals[tp->n_approvals++] = arg;
	} else if (strcmp(name, "approval-ttl") == 0) {
		if (ca_ttl_parse(arg, &tp->ttl) < 0)
			return -1;
	} else if (strcmp(name, "quorum") == 0) {
		tp->quorum_path = arg;
	} else {
		return 0;
	}
	return 1;
}

void ca_tp_free(struct ca_tp *st)
{
	ca_request_free(st->req);
	ca_quorum_free(st->quorum);
	json_decref(st->approvers);
	memset(st, 0, sizeof(*st));
}

static int load_quorum(const struct ca_twophase *tp, const char *dir,
		       const char *pinned, struct ca_tp *st)
{
	char *path = NULL;
	int rc;

	if (tp->quorum_path != NULL)
		path = strdup(tp->quorum_path);
	else if (dir != NULL)
		path = ca_dir_file(dir, "quorum.json");
	else
		return ca_err(CA_EUSAGE, "--quorum FILE is required");
	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = ca_quorum_load(path, &st->quorum);
	if (rc == CA_OK && pinned != NULL &&
	    CRYPTO_memcmp(st->quorum->sha256_hex, pinned, 64) != 0)
		rc = ca_err(
		    CA_EPOLICY,
		    "quorum file %s (sha256 %.16s...) is not the quorum this "
		    "CA pinned (sha256 %.16s...)",
		    path, st->quorum->sha256_hex, pinned);
	free(path);
	return rc;
}

int ca_tp_begin(const struct ca_twophase *tp, const char *dir,
		const char *pinned, struct ca_tp *st)
{
	int rc = CA_OK;

	memset(st, 0, sizeof(*st));
	st->preparing = tp->prepare != NULL;
	st->executing = tp->request != NULL;
	if (st->preparing && st->executing)
		return ca_err(CA_EUSAGE,
			      "--prepare and --request are two phases: "
			      "use one at a time");
	if (!st->executing && tp->n_approvals > 0)
		return ca_err(CA_EUSAGE, "--approval goes with --request");
	if (pinned == NULL) {
		if (st->preparing || st->executing)
			return ca_err(CA_EUSAGE,
				      "this CA has no pinned quorum: "
				      "--prepare/--request do not apply");
		return CA_OK;
	}
	st->active = 1;
	if (!st->preparing && !st->executing)
		return ca_err(
		    CA_EPOLICY,
		    "this CA's key is protected by a quorum: run with "
		    "--prepare REQUEST, collect approvals with "
		    "hsmca-two-person-approve, then --request REQUEST "
		    "--approval FILE...");
	GUARD(load_quorum(tp, dir, pinned, st));
	if (st->executing)
		GUARD(ca_request_load(tp->request, &st->req));
out:
	return rc;
}

int ca_tp_param_str(const struct ca_tp *st, const char *key, const char **out)
{
	const char *v =
	    json_string_value(json_object_get(st->req->params, key));

	if (v == NULL)
		return ca_err(CA_EPOLICY, "the approval request has no '%s'",
			      key);
	*out = v;
	return CA_OK;
}

int ca_tp_param_time(const struct ca_tp *st, const char *key, time_t *out)
{
	const char *v;
	int rc = ca_tp_param_str(st, key, &v);

	if (rc < 0)
		return rc;
	rc = ca_parse_time(v, out);
	if (rc < 0)
		return ca_err(CA_EPOLICY,
			      "the approval request's '%s' is not a time", key);
	return CA_OK;
}

int ca_tp_param_days(const struct ca_tp *st, long days)
{
	json_t *v = json_object_get(st->req->params, "days");

	if (!json_is_integer(v))
		return ca_err(CA_EPOLICY, "the approval request has no 'days'");
	if (json_integer_value(v) != days)
		return ca_err(
		    CA_EPOLICY,
		    "the operation on this command line is not the one "
		    "approved: --days %ld, approved --days %lld: nothing "
		    "was signed",
		    days, (long long)json_integer_value(v));
	return CA_OK;
}

int ca_tp_cert_params(const struct ca_tp *st, long days, ASN1_INTEGER **serial,
		      time_t *not_before, time_t *not_after)
{
	const char *hex;
	int rc;

	GUARD(ca_tp_param_str(st, "serial", &hex));
	GUARD(ca_serial_parse(hex, serial));
	GUARD(ca_tp_param_time(st, "not_before", not_before));
	GUARD(ca_tp_param_time(st, "not_after", not_after));
	GUARD(ca_tp_param_days(st, days));
out:
	return rc;
}

json_t *ca_tp_cert_params_json(const ASN1_INTEGER *serial, time_t not_before,
			       time_t not_after, long days)
{
	char nb[32], na[32], hex[80];

	ca_time_rfc3339(not_before, nb, sizeof(nb));
	ca_time_rfc3339(not_after, na, sizeof(na));
	if (ca_serial_hex(serial, hex, sizeof(hex)) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:I}", "serial", hex, "not_before",
			 nb, "not_after", na, "days", (json_int_t)days);
}

static const char *tbs_type(enum ca_tbs_kind kind)
{
	return kind == CA_TBS_CRL	   ? "crl"
	       : kind == CA_TBS_REVOCATION ? "revocation"
					   : "certificate";
}

/* ACTION-prepare in the audit log. */
static int prepare_audit(const struct ca_twophase *tp, const char *action,
			 ca_store *store, ca_audit *a)
{
	char name[64];
	int own = !store->in_tx, rc;

	snprintf(name, sizeof(name), "%s-prepare", action);
	ca_audit_set_action(a, name);
	ca_audit_output_file(a, "approval-request", tp->prepare);
	if (own)
		GUARD(ca_store_begin(store));
	GUARD(ca_audit_append(store, a, "ok", "approval request written"));
	if (own)
		GUARD(ca_store_commit(store));
out:
	if (own)
		ca_store_rollback(store);
	return rc;
}

int ca_tp_prepare(const struct ca_twophase *tp, const struct ca_tp *st,
		  const char *action, const struct ca_tp_key *key,
		  const struct ca_tbs *t, json_t *summary, json_t *params,
		  int force, ca_store *store, ca_audit *a)
{
	struct ca_request_spec spec;
	int rc;

	if (t->der == NULL || (t->kind != CA_TBS_REVOCATION &&
			       ca_tbs_marked(t, CA_TBS_LINTED, NULL) != 0))
		return ca_err(CA_EIO,
			      "internal error: an approval request for a %s "
			      "that was not linted",
			      ca_tbs_kind_name(t->kind));
	if (summary == NULL || params == NULL)
		return ca_err(CA_EIO, "out of memory");
	memset(&spec, 0, sizeof(spec));
	spec.action = action;
	spec.tbs_type = tbs_type(t->kind);
	spec.ca_spki_sha256 = key->spki_sha256;
	spec.ca_token_serial = key->token_serial;
	spec.ca_key = key->uri;
	spec.tbs = t->der;
	spec.tbs_len = t->len;
	spec.summary = summary;
	spec.params = params;
	spec.ttl_seconds = tp->ttl > 0 ? tp->ttl : CA_APPROVAL_TTL_DEFAULT;
	spec.quorum_sha256 = st->quorum->sha256_hex;
	rc = ca_request_write(&spec, tp->prepare, force);
	if (rc == CA_OK && store != NULL)
		rc = prepare_audit(tp, action, store, a);
	return rc;
}

int ca_tp_executed(const struct ca_tp *st, ca_store *store, int *done)
{
	*done = 0;
	if (!st->executing || store == NULL)
		return CA_OK;
	return ca_store_nonce_executed(store, st->req->nonce,
				       st->req->sha256_hex, done);
}

int ca_tp_check(const struct ca_twophase *tp, struct ca_tp *st,
		const char *action, const char *ca_spki_sha256, ca_store *store,
		struct ca_tbs *t)
{
	int rc = ca_tbs_in_memory(t, "approve");

	if (rc < 0)
		return rc;
	if (st->req->tbs_len != t->len ||
	    CRYPTO_memcmp(st->req->tbs, t->der, t->len) != 0)
		return ca_err(
		    CA_EPOLICY,
		    "the operation on this command line is not the one "
		    "approved in %s (the data to be signed differs): "
		    "nothing was signed",
		    tp->request);
	rc = ca_request_check(st->req, action, ca_spki_sha256, st->quorum,
			      st->quorum->sha256_hex, store, tp->approvals,
			      tp->n_approvals, &st->approvers);
	if (rc < 0)
		return rc;
	/* The approvals are bound to exactly these bytes. */
	return ca_tbs_mark(t, CA_TBS_APPROVED, NULL);
}

void ca_tp_audit(const struct ca_tp *st, ca_audit *a)
{
	size_t i;
	json_t *v;

	if (!st->executing)
		return;
	json_array_foreach(st->approvers, i, v)
	    ca_audit_approver(a, json_string_value(v));
	ca_audit_input(a, "approval-request", st->req->raw, st->req->raw_len);
	ca_audit_set(a, "nonce", st->req->nonce);
}

int ca_tp_record(const struct ca_tp *st, ca_store *store, ca_audit *a)
{
	char *ids = NULL;
	int rc;

	if (!st->executing)
		return CA_OK;
	ca_tp_audit(st, a);
	ids = json_dumps(st->approvers, JSON_COMPACT);
	if (ids == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = ca_store_nonce_record(store, st->req->nonce, st->req->sha256_hex,
				   st->req->action, ids);
	free(ids);
	if (rc == CA_EPOLICY)
		rc = ca_err(CA_EPOLICY,
			    "approval request %s was already executed "
			    "(replay): nothing was signed",
			    st->req->nonce);
	return rc;
}
