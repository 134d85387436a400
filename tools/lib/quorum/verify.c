#include "quorum/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/read.h"
#include "base/time.h"
#include "quorum/approval.h"
#include "quorum/fields.h"

#define CREATED_SKEW 300 /* clock skew allowed for "created" */

/* One approval file against the request and the quorum: 1 valid, 0 not;
 * why says why not. */
static int eval_file(const struct ca_request *req, const struct ca_quorum *q,
		     const char *path, char id[CA_QUORUM_MAX_ID + 1], char *why,
		     size_t whylen)
{
	unsigned char msg[CA_APPROVAL_MSG_LEN], *data = NULL;
	const struct ca_approver *who;
	const struct ca_approval_alg *alg;
	struct ca_approval *a = NULL;
	size_t len = 0;
	int ok = 0;

	id[0] = '\0';
	why[0] = '\0';
	ca_err_clear();
	if (ca_read_file(path, CA_MAX_INPUT, &data, &len) < 0 ||
	    ca_approval_parse(data, len, "approval file", &a) < 0) {
		snprintf(why, whylen, "%s", ca_errmsg());
		goto out;
	}
	snprintf(id, CA_QUORUM_MAX_ID + 1, "%s", a->approver);
	who = ca_quorum_find(q, a->approver);
	if (who == NULL) {
		snprintf(why, whylen, "\"%s\" is not an approver in the quorum",
			 a->approver);
		goto out;
	}
	if (CRYPTO_memcmp(a->request_sha256, req->sha256_hex, 64) != 0) {
		snprintf(why, whylen,
			 "approves a different request (SHA-256 %.16s...), "
			 "not this one (%.16s...)",
			 a->request_sha256, req->sha256_hex);
		goto out;
	}
	alg = ca_approval_alg_for_key(who->pub);
	if (alg == NULL || strcmp(alg->name, a->algorithm) != 0) {
		snprintf(why, whylen,
			 "algorithm %s is not the one %s's key signs with (%s)",
			 a->algorithm, who->id, alg ? alg->name : "none");
		goto out;
	}
	ca_approval_message(req->sha256_hex, msg);
	if (!ca_approval_sig_ok(who->pub, alg, msg, sizeof(msg), a->signature,
				a->signature_len)) {
		snprintf(why, whylen,
			 "the signature does not verify with %s's public key",
			 who->id);
		goto out;
	}
	ok = 1;
out:
	ca_err_clear();
	ca_approval_free(a);
	free(data);
	return ok;
}

int ca_approvals_eval(const struct ca_request *req,
		      const struct ca_quorum *quorum,
		      const char *const *approval_files, int n_files,
		      json_t **report)
{
	char id[CA_QUORUM_MAX_ID + 1], why[512];
	json_t *list = json_array(), *ids = json_array(), *rep = NULL, *e;
	int i, ok, counted, valid = 0;

	*report = NULL;
	if (list == NULL || ids == NULL)
		goto oom;
	for (i = 0; i < n_files; i++) {
		ok = eval_file(req, quorum, approval_files[i], id, why,
			       sizeof(why));
		counted = 0;
		if (ok) {
			size_t k;
			json_t *v;

			counted = 1;
			json_array_foreach(ids, k,
					   v) if (strcmp(json_string_value(v),
							 id) == 0) counted = 0;
			if (counted) {
				valid++;
				if (json_array_append_new(ids, json_string(id)))
					goto oom;
			} else {
				snprintf(
				    why, sizeof(why),
				    "duplicate approval by %s, counted once",
				    id);
			}
		}
		e = json_pack("{s:s, s:s?, s:b, s:b, s:s?}", "file",
			      approval_files[i], "approver", id[0] ? id : NULL,
			      "valid", ok, "counted", counted, "reason",
			      why[0] ? why : NULL);
		if (e == NULL || json_array_append_new(list, e) != 0)
			goto oom;
	}
	rep = json_pack(
	    "{s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:b, s:O, s:O}",
	    "request_sha256", req->sha256_hex, "quorum_sha256",
	    quorum->sha256_hex, "request_quorum_sha256", req->quorum_sha256,
	    "quorum_matches",
	    CRYPTO_memcmp(req->quorum_sha256, quorum->sha256_hex, 64) == 0,
	    "threshold", quorum->threshold, "approvers", quorum->n, "valid",
	    valid, "threshold_met", valid >= quorum->threshold, "approved_by",
	    ids, "approvals", list);
	if (rep == NULL)
		goto oom;
	json_decref(list);
	json_decref(ids);
	*report = rep;
	return CA_OK;
oom:
	json_decref(list);
	json_decref(ids);
	return ca_err(CA_EIO, "out of memory");
}

/* "a.sig: reason; b.sig: reason" for the approvals that did not count. */
static void append_reasons(json_t *rep, char *buf, size_t len)
{
	json_t *e;
	size_t i, used = strlen(buf);

	json_array_foreach(json_object_get(rep, "approvals"), i, e)
	{
		if (json_is_true(json_object_get(e, "counted")) ||
		    used + 4 >= len)
			continue;
		snprintf(buf + used, len - used, "; %s: %s",
			 json_string_value(json_object_get(e, "file")),
			 json_string_value(json_object_get(e, "reason")));
		used = strlen(buf);
	}
}

static int check_request_fields(const struct ca_request *req,
				const char *want_action,
				const char *ca_spki_sha256,
				const struct ca_quorum *quorum,
				const char *pinned)
{
	char hex[65], when[32];
	time_t now = ca_now();

	if (CRYPTO_memcmp(req->quorum_sha256, quorum->sha256_hex, 64) != 0)
		return ca_err(CA_EPOLICY,
			      "the request was prepared for the quorum file "
			      "with SHA-256 %s, but the quorum file given has "
			      "SHA-256 %s",
			      req->quorum_sha256, quorum->sha256_hex);
	if (pinned != NULL && (!ca_fields_hex64_lower(pinned, hex) ||
			       CRYPTO_memcmp(hex, quorum->sha256_hex, 64) != 0))
		return ca_err(
		    CA_EPOLICY,
		    "the quorum file (SHA-256 %s) is not the one this "
		    "CA pinned (%.64s)",
		    quorum->sha256_hex, pinned);
	if (want_action != NULL && strcmp(req->action, want_action) != 0)
		return ca_err(CA_EPOLICY, "the request approves %s, not %s",
			      req->action, want_action);
	if (ca_spki_sha256 != NULL &&
	    (!ca_fields_hex64_lower(ca_spki_sha256, hex) ||
	     CRYPTO_memcmp(hex, req->ca_spki_sha256, 64) != 0))
		return ca_err(CA_EPOLICY,
			      "the request is for the CA key with SPKI SHA-256 "
			      "%s, not this CA's key",
			      req->ca_spki_sha256);
	if (now >= req->expires) {
		ca_time_rfc3339(req->expires, when, sizeof(when));
		return ca_err(CA_EPOLICY,
			      "the approval request expired at %s: prepare a "
			      "new one",
			      when);
	}
	if (req->created > now + CREATED_SKEW)
		return ca_err(CA_EPOLICY,
			      "the approval request was created in the future: "
			      "check the clock");
	return CA_OK;
}

int ca_request_check(const struct ca_request *req, const char *want_action,
		     const char *ca_spki_sha256, const struct ca_quorum *quorum,
		     const char *pinned, ca_store *st,
		     const char *const *approval_files, int n_files,
		     json_t **approvers)
{
	char msg[1024];
	json_t *rep = NULL;
	int rc, used = 0, valid;

	if (approvers != NULL)
		*approvers = NULL;
	GUARD(check_request_fields(req, want_action, ca_spki_sha256, quorum,
				   pinned));
	if (st != NULL) {
		GUARD(ca_store_nonce_used(st, req->nonce, &used));
		if (used) {
			rc = ca_err(CA_EPOLICY,
				    "this request (nonce %.16s...) was already "
				    "executed: an approval is good for one "
				    "execution only",
				    req->nonce);
			goto out;
		}
	}
	GUARD(ca_approvals_eval(req, quorum, approval_files, n_files, &rep));
	valid = (int)json_integer_value(json_object_get(rep, "valid"));
	if (valid < quorum->threshold) {
		snprintf(msg, sizeof(msg),
			 "only %d of %d required approvals are valid", valid,
			 quorum->threshold);
		append_reasons(rep, msg, sizeof(msg));
		rc = ca_err(CA_EPOLICY, "%s", msg);
		goto out;
	}
	if (approvers != NULL)
		*approvers = json_incref(json_object_get(rep, "approved_by"));
out:
	json_decref(rep);
	return rc;
}

int ca_approvals_report(const struct ca_request *req,
			const struct ca_quorum *quorum,
			const char *const *approval_files, int n_files,
			FILE *out)
{
	char when[32];
	json_t *rep = NULL, *e;
	size_t i;
	int rc, valid, bad = 0;

	GUARD(ca_approvals_eval(req, quorum, approval_files, n_files, &rep));
	json_array_foreach(json_object_get(rep, "approvals"), i, e)
	{
		const char *id =
		    json_string_value(json_object_get(e, "approver"));
		const char *why =
		    json_string_value(json_object_get(e, "reason"));

		fprintf(out, "%s: %s: %s%s%s\n",
			json_string_value(json_object_get(e, "file")),
			id ? id : "-",
			json_is_true(json_object_get(e, "valid")) ? "valid"
								  : "INVALID",
			why ? ": " : "", why ? why : "");
	}
	if (!json_is_true(json_object_get(rep, "quorum_matches"))) {
		fprintf(out,
			"quorum: the request was prepared for quorum SHA-256 "
			"%s, the file given has %s\n",
			req->quorum_sha256, quorum->sha256_hex);
		bad = 1;
	}
	if (ca_now() >= req->expires) {
		ca_time_rfc3339(req->expires, when, sizeof(when));
		fprintf(out, "request: expired at %s\n", when);
		bad = 1;
	}
	valid = (int)json_integer_value(json_object_get(rep, "valid"));
	fprintf(out, "%d of %d required approvals valid\n", valid,
		quorum->threshold);
	if (valid < quorum->threshold)
		rc = ca_err(CA_EPOLICY,
			    "only %d of %d required approvals are valid", valid,
			    quorum->threshold);
	else if (bad)
		rc = ca_err(CA_EPOLICY,
			    "the approvals cannot be used: see above");
out:
	json_decref(rep);
	return rc;
}
