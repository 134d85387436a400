/* The steps of each ceremony type. Each step may be run again after an
 * interruption: it looks at what its earlier run left (the progress
 * record, the token, the files) before doing anything irreversible. */
#include "ceremony/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/read.h"
#include "base/words.h"
#include "out/cadir.h"
#include "out/file.h"

/* ---------------------------------------------------------------------- */
/* Shared bits                                                              */

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t i;

	snprintf(buf, sizeof(buf), "%s", path);
	for (i = 1; buf[i] != '\0'; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return ca_err(CA_EIO, "cannot create %s: %s", buf,
				      strerror(errno));
		buf[i] = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return ca_err(CA_EIO, "cannot create %s: %s", buf,
			      strerror(errno));
	return CA_OK;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void say_words(struct ca_cer *c, const char *hex)
{
	char *w = ca_words_hex(hex), *line, *save = NULL;

	for (line = w ? strtok_r(w, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		ca_say(c, "      %s", line);
	free(w);
}

/* The last "KEY ... spki_sha256=HEX" line of the transcript. */
static int transcript_spki(struct ca_cer *c, char hex[65])
{
	char *path = ca_out_path(c, "transcript.txt"), line[4200], *p;
	FILE *f = path ? fopen(path, "re") : NULL;

	hex[0] = '\0';
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		p = strstr(line, " KEY ");
		if (p == NULL || p - line > 24)
			continue;
		p = strstr(line, "spki_sha256=");
		if (p != NULL && strlen(p + 12) >= 64) {
			memcpy(hex, p + 12, 64);
			hex[64] = '\0';
		}
	}
	if (f != NULL)
		fclose(f);
	free(path);
	return hex[0] != '\0'
		   ? CA_OK
		   : ca_err(CA_EPOLICY, "the transcript records no key");
}

/* ---------------------------------------------------------------------- */
/* 1. The ceremony file                                                     */

static int step_file(struct ca_cer *c, const struct ca_step *st)
{
	const struct ca_spec *s = c->spec;

	(void)st;
	ca_say(c, "Ceremony file:   %s (a %s ceremony)", s->name,
	       ca_cer_type_name(s->type));
	if (s->title != NULL)
		ca_say(c, "Title:           %s", s->title);
	if (s->description != NULL) {
		char *d = strdup(s->description), *line, *save = NULL;

		for (line = d ? strtok_r(d, "\n", &save) : NULL; line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			ca_say(c, "  %s", line);
		free(d);
	}
	ca_say(c, "SHA-256:         %s", s->sha256);
	ca_say(c, "Words, to compare with the reviewed copy:");
	say_words(c, s->sha256);
	if (c->rehearse)
		ca_say(c,
		       "REHEARSAL: SoftHSM tokens and throwaway approver keys "
		       "under %s/rehearsal; nothing here is for real use.",
		       c->out);
	return ca_confirm(c, "Confirm: these words match the ones on the "
			     "reviewed copy of the ceremony file.");
}

/* ---------------------------------------------------------------------- */
/* 2. Pre-flight                                                            */

static int step_preflight(struct ca_cer *c, const struct ca_step *st)
{
	const struct ca_spec *s = c->spec;
	int rc;

	(void)st;
	ca_say(c, "Every check that can fail later is made now, before "
		  "anything irreversible.");
	GUARD(ca_preflight(c));
	if (s->type == CA_CER_ROOT || s->type == CA_CER_KEY)
		rc = ca_confirm(c,
				"Confirm: this is the token '%s', its serial "
				"matches the device and its bag, and the "
				"seal was intact.",
				s->token_label);
	else
		rc = ca_confirm(c,
				"Confirm: this is the CA that is to sign, its "
				"token is the right one and its audit log is "
				"intact.");
out:
	return rc;
}

static int reverify_preflight(struct ca_cer *c, const struct ca_step *st)
{
	(void)st;
	ca_say(c, "Pre-flight again, on this machine and token:");
	return ca_preflight(c);
}

/* ---------------------------------------------------------------------- */
/* Key generation                                                           */

/* Keep the key's identity: progress record, transcript, screen. */
static int key_made(struct ca_cer *c, json_t *r)
{
	const struct ca_spec *s = c->spec;
	char hex[65], *pub = ca_out_path(
			  c, "%s", s->out_pub ? s->out_pub : "public-key.pem");
	char *csr = s->out_csr ? ca_out_path(c, "%s", s->out_csr) : NULL;
	int rc;

	ca_val_set(c, "key_uri", jstr(r, "uri"));
	ca_val_set(c, "key_spki", jstr(r, "spki_sha256"));
	ca_val_set(c, "key_type", jstr(r, "type"));
	ca_tr_log(c, "KEY", "uri=%s spki_sha256=%s", jstr(r, "uri"),
		  jstr(r, "spki_sha256"));
	GUARD(ca_record_file(c, "output", pub, hex));
	if (csr != NULL)
		GUARD(ca_record_file(c, "output", csr, hex));
	GUARD(ca_progress_save(c));
	ca_show(c, "\n");
	ca_say(c, "Key URI:          %s", jstr(r, "uri"));
	ca_say(c, "Key SPKI SHA-256: %s", jstr(r, "spki_sha256"));
	say_words(c, jstr(r, "spki_sha256"));
out:
	free(csr);
	free(pub);
	return rc;
}

/* A key the interrupted run may have made: on the token under the new
 * label, it is ours (the pre-flight found the label free). */
static int key_found(struct ca_cer *c, json_t **r)
{
	struct ca_argv a = {0};
	int rc;

	ca_cmd_keygen(c, &a, 2);
	rc = ca_exec_must(c, &a, 1, r);
	ca_argv_free(&a);
	if (rc == CA_OK && !json_is_true(json_object_get(*r, "exists"))) {
		json_decref(*r);
		*r = NULL;
	}
	return rc;
}

static int step_keygen(struct ca_cer *c, const struct ca_step *st)
{
	const struct ca_spec *s = c->spec;
	struct ca_argv a = {0};
	json_t *r = NULL;
	int rc, resumed = ca_val(c, "keygen_begun") != NULL;

	(void)st;
	if (!resumed) {
		ca_say(c, "The key pair is generated inside the token: private "
			  "key sensitive, never extractable, sign-only.");
		GUARD(ca_confirm(c,
				 "Confirm: generate the key '%s' (%s) on token "
				 "'%s' now.",
				 s->key_label, s->key_type, s->token_label));
		ca_val_set(c, "keygen_begun", "yes");
		GUARD(ca_progress_save(c));
	} else {
		ca_say(c, "An earlier run began this step: is its key on the "
			  "token?");
		GUARD(key_found(c, &r));
		if (r != NULL)
			ca_say(c,
			       "The key made by the interrupted run is on the "
			       "token: it is kept, none is generated.");
		/* Recorded before the stop: the very key, or a refusal. */
		if (r != NULL && ca_val(c, "key_spki") != NULL) {
			char tr[65];

			GUARD(transcript_spki(c, tr));
			GUARD(
			    ca_check(c,
				     strcmp(jstr(r, "spki_sha256"), tr) == 0 &&
					 strcmp(tr, ca_val(c, "key_spki")) == 0,
				     "the key's SPKI SHA-256 is the one in the "
				     "transcript",
				     "token %s, transcript %s",
				     jstr(r, "spki_sha256"), tr));
		}
	}
	if (r == NULL) {
		ca_cmd_keygen(c, &a, 0);
		GUARD(ca_exec_must(c, &a, 1, &r));
	}
	GUARD(key_made(c, r));
	rc = ca_confirm(c, "Confirm: the witness has written down the key's "
			   "SPKI SHA-256 (or its words).");
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

static int reverify_keygen(struct ca_cer *c, const struct ca_step *st)
{
	struct ca_argv a = {0};
	json_t *r = NULL;
	char tr[65];
	int rc;

	(void)st;
	ca_cmd_keygen(c, &a, 1);
	GUARD(ca_exec_must(c, &a, 1, &r));
	GUARD(transcript_spki(c, tr));
	GUARD(ca_check(c, json_is_true(json_object_get(r, "exists")),
		       "the key made at this ceremony is on the token", NULL));
	rc = ca_check(c,
		      strcmp(jstr(r, "spki_sha256"), tr) == 0 &&
			  strcmp(tr, ca_val(c, "key_spki")) == 0,
		      "the key's SPKI SHA-256 is the one in the transcript",
		      "token %s, transcript %s", jstr(r, "spki_sha256"), tr);
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Showing the inputs                                                       */

static int step_quorum(struct ca_cer *c, const struct ca_step *st)
{
	int rc;

	(void)st;
	GUARD(ca_quorum_show(c, c->quorum));
	if (c->rehearse)
		ca_say(c,
		       "(rehearsal: the quorum of throwaway keys that stands "
		       "in for %s)",
		       c->spec->quorum_file);
	ca_say(c, "This file is pinned into the root CA: every later root "
		  "action needs these approvals, and another quorum file is "
		  "refused.");
	rc = ca_confirm(c, "Confirm: each approver has checked their entry and "
			   "key SHA-256, and the threshold is the agreed one.");
out:
	return rc;
}

static int step_input(struct ca_cer *c, const struct ca_step *st)
{
	int rc;

	(void)st;
	GUARD(ca_input_check(c));
	rc = ca_confirm(c,
			"Confirm: this is the %s agreed for this ceremony "
			"(subject and key SPKI SHA-256 as announced).",
			c->spec->type == CA_CER_SUBCA ? "subordinate CA's CSR"
						      : "certificate");
out:
	return rc;
}

static int step_revocations(struct ca_cer *c, const struct ca_step *st)
{
	struct ca_argv a = {0};
	json_t *r = NULL, *e;
	size_t i;
	int rc;

	(void)st;
	ca_cmd_audit(c, "report", &a);
	GUARD(ca_exec_must(c, &a, 0, &r));
	ca_say(c, "Certificates this CA issued: %zu; revoked: %zu",
	       json_array_size(json_object_get(r, "issued")),
	       json_array_size(json_object_get(r, "revoked")));
	json_array_foreach(json_object_get(r, "revoked"), i, e) ca_say(
	    c, "  revoked %s  %s  %s at %s", jstr(e, "serial"),
	    jstr(e, "subject"), jstr(e, "reason"), jstr(e, "revoked_at"));
	rc = ca_confirm(c, "Confirm: the revocations listed are the ones "
			   "decided (reasons and dates as in the minutes).");
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Prepare: the exact bytes to be signed, and the request to approve        */

static void say_extensions(struct ca_cer *c, json_t *exts)
{
	json_t *e;
	size_t i;

	json_array_foreach(exts, i, e) ca_say(
	    c, "  %s%s: %s", jstr(e, "name"),
	    json_is_true(json_object_get(e, "critical")) ? " (critical)" : "",
	    jstr(e, "value"));
}

static void say_request(struct ca_cer *c, json_t *d)
{
	json_t *x;

	ca_say(c, "Action:          %s", jstr(d, "action"));
	if ((x = json_object_get(d, "certificate")) != NULL) {
		json_t *k = json_object_get(x, "public_key");

		ca_say(c, "Subject:         %s", jstr(x, "subject"));
		ca_say(c, "Issuer:          %s", jstr(x, "issuer"));
		ca_say(c, "Serial:          %s", jstr(x, "serial"));
		ca_say(c, "Validity:        %s to %s", jstr(x, "not_before"),
		       jstr(x, "not_after"));
		ca_say(c, "Key SPKI SHA-256: %s", jstr(k, "spki_sha256"));
		say_extensions(c, json_object_get(x, "extensions"));
	} else if ((x = json_object_get(d, "crl")) != NULL) {
		ca_say(c, "Issuer:          %s", jstr(x, "issuer"));
		ca_say(c, "CRL number:      %s", jstr(x, "crl_number"));
		ca_say(c, "This update:     %s", jstr(x, "this_update"));
		ca_say(c, "Next update:     %s", jstr(x, "next_update"));
		ca_say(c, "Entries:         %lld",
		       (long long)json_integer_value(
			   json_object_get(x, "entries")));
	} else {
		char *text = strdup(jstr(d, "revocation")), *line, *save = NULL;

		for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save))
			ca_say(c, "  %s", line);
		free(text);
	}
	ca_say(c, "CA SPKI SHA-256: %s",
	       jstr(json_object_get(d, "ca"), "spki_sha256"));
	ca_say(c, "TBS SHA-256:     %s", jstr(d, "tbs_sha256"));
	ca_say(c, "Quorum SHA-256:  %s", jstr(d, "quorum_sha256"));
	ca_say(c, "Expires:         %s", jstr(d, "expires"));
	ca_say(c, "Request SHA-256: %s, in words:", jstr(d, "request_sha256"));
	say_words(c, jstr(d, "request_sha256"));
}

/* two-person-approve show REQUEST --json, kept with the operation. */
static int show(struct ca_cer *c, enum ca_op op, const char *req, json_t **d)
{
	struct ca_argv a = {0};
	int rc;

	ca_cmd_show(c, req, &a);
	rc = ca_exec_must(c, &a, 0, d);
	ca_argv_free(&a);
	if (rc == CA_OK)
		ca_op_set(c, op, "request_description", json_incref(*d));
	return rc;
}

/* 1 when a request, lint copy or approvals directory of this name is
 * there already. */
static int used(struct ca_cer *c, enum ca_op op, const char *req)
{
	char *lint = ca_lint_path(c, op), *appr = ca_approvals_dir(c, op);
	int u = access(req, F_OK) == 0 || (lint && access(lint, F_OK) == 0) ||
		(appr && access(appr, F_OK) == 0);

	free(lint);
	free(appr);
	return u;
}

static int step_prepare(struct ca_cer *c, const struct ca_step *st)
{
	const enum ca_op op = st->op;
	struct ca_argv a = {0};
	json_t *r = NULL, *d = NULL, *g;
	char *req = NULL, *dir = NULL, hex[65];
	int rc;

	dir = ca_out_path(c, "requests");
	GUARD(mkdir_p(dir));
	free(dir);
	dir = ca_out_path(c, "lint");
	GUARD(mkdir_p(dir));
	/* Files left by an interrupted or expired request are never reused:
	 * the next request gets new names. */
	req = ca_request_path(c, op);
	while (req != NULL && used(c, op, req)) {
		g = json_object_get(ca_op_state(c, op), "generation");
		ca_op_set(c, op, "generation",
			  json_integer(g ? json_integer_value(g) + 1 : 2));
		free(req);
		req = ca_request_path(c, op);
	}
	if (req == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	ca_op_set(c, op, "approvals", NULL);
	ca_say(c,
	       "Phase 1: build the exact %s to be signed; no private key is "
	       "used.",
	       op == CA_OP_CRL	    ? "CRL"
	       : op == CA_OP_REVOKE ? "revocation"
				    : "certificate");
	ca_cmd_op(c, op, 0, &a);
	GUARD(ca_exec_must(c, &a, 1, &r));
	GUARD(ca_record_file(c, "output", req, hex));
	if (op != CA_OP_REVOKE) {
		char *lint = ca_lint_path(c, op), lint_hex[65];

		rc = lint ? ca_record_file(c, "output", lint, lint_hex)
			  : ca_err(CA_EIO, "out of memory");
		free(lint);
		if (rc < 0)
			goto out;
	}
	ca_op_set(c, op, "request", json_string(req));
	ca_op_set(c, op, "request_sha256", json_string(hex));
	GUARD(show(c, op, req, &d));
	ca_op_set(c, op, "tbs_sha256", json_string(jstr(d, "tbs_sha256")));
	GUARD(ca_progress_save(c));
	say_request(c, d);
	rc = ca_confirm(c, "Confirm: what is shown is what was agreed for this "
			   "ceremony.");
out:
	ca_argv_free(&a);
	json_decref(r);
	json_decref(d);
	free(dir);
	free(req);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Approvals                                                                */

static void say_checklist(struct ca_cer *c, enum ca_op op, json_t *d)
{
	const struct ca_spec *s = c->spec;
	json_t *x = json_object_get(d, "certificate");

	ca_say(c, "Every approver, in turn, runs:");
	ca_say(c, "  hsmca-two-person-approve show %s",
	       ca_q(ca_op_str(c, op, "request")));
	ca_say(c, "and checks against the ceremony file (SHA-256 %.16s...):",
	       s->sha256);
	ca_say(c, "  - the action is %s", ca_op_action(op));
	switch (op) {
	case CA_OP_ROOT:
		ca_say(c, "  - subject and issuer are both: %s", s->subject);
		ca_say(c,
		       "  - the key SPKI SHA-256 is the one written down: %s",
		       ca_val(c, "key_spki") ? ca_val(c, "key_spki") : "?");
		ca_say(c,
		       "  - %ld days of validity, basic constraints critical "
		       "CA:TRUE%s",
		       s->days,
		       s->pathlen >= 0 ? " with the agreed pathlen" : "");
		break;
	case CA_OP_SUBCA:
	case CA_OP_CROSS:
		ca_say(c, "  - the issuer is: %s", s->ca_subject);
		ca_say(c, "  - the subject is: %s", jstr(x, "subject"));
		ca_say(c, "  - the key SPKI SHA-256 is %s",
		       jstr(json_object_get(x, "public_key"), "spki_sha256"));
		ca_say(c,
		       "  - validity, pathlen, name constraints, policies and "
		       "URLs are the agreed ones");
		break;
	case CA_OP_REVOKE:
		ca_say(c, "  - the serial revoked is %s (%s), reason %s",
		       ca_val(c, "revoke_serial"),
		       ca_val(c, "revoke_subject") ? ca_val(c, "revoke_subject")
						   : "",
		       s->revoke_reason);
		break;
	case CA_OP_CRL:
		ca_say(c,
		       "  - the issuer is %s; the CRL number is one more than "
		       "the last; next update in %ld days; the entries are "
		       "the revocations agreed",
		       s->ca_subject, s->crl_days);
		break;
	case CA_OP_NONE:
		break;
	}
	ca_say(c, "  - the quorum SHA-256 is %s", jstr(d, "quorum_sha256"));
	ca_say(c,
	       "and reads the request words aloud (above); everyone compares.");
}

/* The approvers whose keys are here sign now (their passphrase or PIN
 * prompts go to the terminal). */
static int sign_here(struct ca_cer *c, enum ca_op op, int *all_here)
{
	const struct ca_spec *s = c->spec;
	char *dir = ca_approvals_dir(c, op), sig[4200];
	struct ca_argv a = {0};
	json_t *r = NULL;
	size_t i;
	int rc = CA_OK;

	*all_here = 1;
	for (i = 0; dir != NULL && i < s->approvers.n; i++) {
		const char *id = s->approvers.v[i];

		if (ca_env_approver(c->env, id) == NULL) {
			*all_here = 0;
			continue;
		}
		snprintf(sig, sizeof(sig), "%s/%s.sig", dir, id);
		if (access(sig, F_OK) == 0)
			continue; /* signed before an interruption */
		ca_say(c, "Approver %s signs:", id);
		ca_cmd_sign(c, op, id, ca_op_str(c, op, "request"), &a);
		GUARD(ca_exec_must(c, &a, 0, &r));
		ca_argv_free(&a);
		json_decref(r);
		r = NULL;
	}
out:
	ca_argv_free(&a);
	json_decref(r);
	free(dir);
	return rc;
}

/* The approval files in dir, for the verification. */
static json_t *approval_files(const char *dir)
{
	json_t *files = json_array();
	struct dirent **names = NULL;
	int n, i, lost = 0;

	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);

		if (len > 4 &&
		    strcmp(names[i]->d_name + len - 4, ".sig") == 0) {
			char *p = ca_dir_file(dir, names[i]->d_name);

			if (p == NULL ||
			    json_array_append_new(files, json_string(p)) != 0)
				lost = 1;
			free(p);
		}
		free(names[i]);
	}
	free(names);
	if (lost) {
		json_decref(files);
		return NULL;
	}
	return files;
}

/* Verify what is in the approvals directory: threshold met, by the
 * approvers the ceremony file expects, over this very request. *not_yet:
 * no files or too few valid ones (more may come); any other failure is a
 * refusal. */
static int verify_approvals(struct ca_cer *c, enum ca_op op, const char *dir,
			    int *not_yet)
{
	const struct ca_spec *s = c->spec;
	json_t *files = approval_files(dir), *r = NULL, *id;
	struct ca_argv a = {0};
	int rc, status = 0;
	size_t i, j;

	*not_yet = 0;
	if (json_array_size(files) == 0) {
		*not_yet = 1;
		rc = ca_err(CA_EPOLICY, "no approval files in %s", dir);
		goto out;
	}
	ca_op_set(c, op, "approvals", json_incref(files));
	ca_cmd_verify(c, op, ca_op_str(c, op, "request"), &a);
	GUARD(ca_exec(c, &a, 0, &r, &status));
	if (r == NULL) {
		rc = ca_err(CA_EIO,
			    "two-person-approve verify printed no "
			    "result (exit %d)",
			    status);
		goto out;
	}
	GUARD(ca_check(c,
		       strcmp(jstr(r, "request_sha256"),
			      ca_op_str(c, op, "request_sha256")) == 0,
		       "the approvals are for this ceremony's request", NULL));
	GUARD(ca_check(c, !json_is_true(json_object_get(r, "expired")),
		       "the request has not expired", NULL));
	GUARD(ca_check(c, json_is_true(json_object_get(r, "quorum_matches")),
		       "the request names the ceremony's quorum", NULL));
	json_array_foreach(json_object_get(r, "approved_by"), i, id)
	{
		for (j = 0; j < s->approvers.n; j++) {
			if (strcmp(s->approvers.v[j], json_string_value(id)) ==
			    0)
				break;
		}
		GUARD(ca_check(c, j < s->approvers.n,
			       "every approval is by an approver the ceremony "
			       "file expects",
			       "%s approved, but is not listed in approvers",
			       json_string_value(id)));
	}
	*not_yet = !json_is_true(json_object_get(r, "threshold_met"));
	GUARD(ca_check(
	    c, !*not_yet, "the approvals meet the quorum",
	    "%lld valid of %lld needed",
	    (long long)json_integer_value(json_object_get(r, "valid")),
	    (long long)json_integer_value(json_object_get(r, "threshold"))));
	ca_op_set(c, op, "approved_by",
		  json_incref(json_object_get(r, "approved_by")));
	rc = ca_progress_save(c);
out:
	ca_argv_free(&a);
	json_decref(r);
	json_decref(files);
	return rc;
}

static int step_approvals(struct ca_cer *c, const struct ca_step *st)
{
	const enum ca_op op = st->op;
	json_t *d = ca_op_state(c, op);
	char *dir = ca_approvals_dir(c, op), hex[65];
	json_t *f;
	size_t i;
	int rc, all_here, not_yet;

	if (dir == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(mkdir_p(dir));
	say_checklist(c, op, json_object_get(d, "request_description"));
	ca_say(c, "Approval files go into %s (ID.sig).", dir);
	GUARD(sign_here(c, op, &all_here));
	for (;;) {
		if (!all_here && c->interactive)
			GUARD(ca_confirm(c,
					 "When the approval files are in %s "
					 "(brought from the approvers' own "
					 "machines):",
					 dir));
		rc = verify_approvals(c, op, dir, &not_yet);
		/* Waiting is for approvals still to come, never for a
		 * refusal. */
		if (rc == CA_OK || !not_yet || !c->interactive || all_here)
			break;
		ca_say(c, "The approvals in %s do not meet the quorum yet.",
		       dir);
	}
	if (rc < 0)
		goto out;
	json_array_foreach(json_object_get(ca_op_state(c, op), "approvals"), i,
			   f)
	    GUARD(ca_record_file(c, "output", json_string_value(f), hex));
	rc = ca_confirm(c, "Confirm: the approvals are in order.");
out:
	free(dir);
	return rc;
}

/* Resumed: the approvals still hold; an expired request is prepared and
 * approved again (nothing was signed with it). */
static int reverify_approvals(struct ca_cer *c, const struct ca_step *st)
{
	char *dir = ca_approvals_dir(c, st->op);
	struct ca_argv a = {0};
	json_t *r = NULL;
	int rc, status = 0;
	char sign_step[40];

	snprintf(sign_step, sizeof(sign_step), "%s",
		 st->op == CA_OP_REVOKE		  ? "revoke"
		 : c->spec->type == CA_CER_REVOKE ? "crl-sign"
						  : "sign");
	if (strcmp(ca_progress_step_state(c, sign_step), "done") == 0) {
		free(dir);
		return CA_OK; /* spent: nothing more to check */
	}
	ca_cmd_verify(c, st->op, ca_op_str(c, st->op, "request"), &a);
	GUARD(ca_exec(c, &a, 0, &r, &status));
	if (r != NULL && json_is_true(json_object_get(r, "expired"))) {
		char prep[40];

		snprintf(prep, sizeof(prep), "%s",
			 c->spec->type == CA_CER_REVOKE
			     ? (st->op == CA_OP_REVOKE ? "revoke-prepare"
						       : "crl-prepare")
			     : "prepare");
		ca_say(c, "The request expired while the ceremony was stopped: "
			  "it is prepared and approved again.");
		GUARD(ca_progress_step_set(c, prep, "pending"));
		GUARD(ca_progress_step_set(c, st->name, "pending"));
		goto out;
	}
	rc = ca_check(c,
		      status == 0 && r != NULL &&
			  strcmp(jstr(r, "request_sha256"),
				 ca_op_str(c, st->op, "request_sha256")) == 0,
		      "the approvals still verify against the request", "%s",
		      dir);
out:
	ca_argv_free(&a);
	json_decref(r);
	free(dir);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Sign (execute the approved request)                                      */

/* What the executed operation left: 1 when it is already there. */
static int already_done(struct ca_cer *c, enum ca_op op)
{
	const char *want = ca_op_str(c, op, "tbs_sha256");
	char *p = NULL, hex[65];
	int done = 0;

	switch (op) {
	case CA_OP_ROOT:
		p = ca_dir_file(c->ca_dir, "ca.crt");
		break;
	case CA_OP_SUBCA:
	case CA_OP_CROSS:
		p = ca_out_path(c, "%s", c->spec->out_cert);
		break;
	case CA_OP_CRL:
		p = ca_out_path(c, "%s", c->spec->out_crl);
		break;
	case CA_OP_REVOKE: {
		struct ca_argv a = {0};
		json_t *r = NULL, *e;
		size_t i;

		ca_cmd_audit(c, "report", &a);
		if (ca_exec_must(c, &a, 0, &r) == CA_OK) {
			json_array_foreach(json_object_get(r, "revoked"), i, e)
			    done |= strcmp(jstr(e, "serial"),
					   ca_val(c, "revoke_serial")) == 0;
		}
		ca_argv_free(&a);
		json_decref(r);
		return done;
	}
	case CA_OP_NONE:
		break;
	}
	if (p != NULL && want != NULL && ca_tbs_sha256_of_file(p, hex) == CA_OK)
		done = strcmp(hex, want) == 0;
	free(p);
	return done;
}

static int record_op_outputs(struct ca_cer *c, enum ca_op op)
{
	const struct ca_spec *s = c->spec;
	char hex[65], *p = NULL;
	int rc = CA_OK;

	switch (op) {
	case CA_OP_ROOT: {
		static const char *const files[] = {"ca.crt", "ca.json",
						    "quorum.json", NULL};
		unsigned char *data = NULL;
		size_t len = 0, i;

		for (i = 0; files[i] != NULL; i++) {
			free(p);
			p = ca_dir_file(c->ca_dir, files[i]);
			GUARD(ca_record_file(c, "output", p, hex));
		}
		/* A copy of the root certificate among the ceremony's
		 * outputs (ca.crt is the last file above). */
		free(p);
		p = ca_dir_file(c->ca_dir, "ca.crt");
		GUARD(ca_read_file(p, CA_MAX_INPUT, &data, &len));
		free(p);
		p = ca_out_path(c, "%s", s->out_cert);
		rc = ca_out_write(p, data, len, 1, 0644);
		free(data);
		if (rc < 0)
			goto out;
		break;
	}
	case CA_OP_SUBCA:
	case CA_OP_CROSS:
		p = ca_out_path(c, "%s", s->out_cert);
		break;
	case CA_OP_CRL:
		p = ca_out_path(c, "%s", s->out_crl);
		break;
	default:
		goto out;
	}
	GUARD(ca_record_file(c, "output", p, hex));
out:
	free(p);
	return rc;
}

static int step_sign(struct ca_cer *c, const struct ca_step *st)
{
	const enum ca_op op = st->op;
	struct ca_argv a = {0};
	json_t *r = NULL;
	int rc;

	if (ca_val(c, st->name) != NULL && already_done(c, op)) {
		ca_say(c, "The interrupted run completed this operation: its "
			  "result is there and is the approved one.");
	} else {
		GUARD(ca_confirm(c, op == CA_OP_REVOKE
					? "Confirm: revoke the certificate now."
					: "Confirm: sign now."));
		ca_val_set(c, st->name, "begun");
		GUARD(ca_progress_save(c));
		ca_say(c,
		       "Phase 2: the token signs exactly the approved bytes.");
		ca_cmd_op(c, op, 1, &a);
		GUARD(ca_exec_must(c, &a, op != CA_OP_REVOKE, &r));
		ca_op_set(c, op, "result", json_incref(r));
	}
	GUARD(record_op_outputs(c, op));
	rc = ca_progress_save(c);
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The record                                                               */

static int sha256sums(struct ca_cer *c)
{
	json_t *arts = json_object_get(c->state, "artifacts"), *e;
	char *path = ca_out_path(c, "SHA256SUMS"), hex[65];
	size_t i, n = strlen(c->out);
	FILE *f;
	int rc;

	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	f = fopen(path, "we");
	if (f == NULL) {
		rc = ca_err(CA_EIO, "cannot write %s", path);
		goto out;
	}
	ca_say(c, "Artifacts of this ceremony (SHA-256):");
	json_array_foreach(arts, i, e)
	{
		const char *p = jstr(e, "path");

		if (strcmp(jstr(e, "kind"), "output") != 0)
			continue;
		GUARD(ca_record_file(c, "output", p, hex));
		fprintf(f, "%s  %s\n", hex,
			strncmp(p, c->out, n) == 0 && p[n] == '/' ? p + n + 1
								  : p);
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = ca_err(CA_EIO, "cannot write %s", path);
		goto out;
	}
	f = NULL;
	GUARD(ca_record_file(c, "output", path, hex));
	ca_say(c, "SHA256SUMS: %s (check a copy with: sha256sum -c SHA256SUMS)",
	       path);
out:
	if (f != NULL)
		fclose(f);
	free(path);
	return rc;
}

static int audit_head(struct ca_cer *c)
{
	struct ca_argv a = {0};
	json_t *r = NULL;
	const char *h;
	long long n;
	int rc, i;

	ca_cmd_audit(c, "verify", &a);
	GUARD(ca_exec_must(c, &a, 0, &r));
	GUARD(ca_check(c, json_is_true(json_object_get(r, "ok")),
		       "the audit log verifies", NULL));
	h = jstr(r, "head");
	if (strlen(h) != 64) {
		rc = ca_err(CA_EIO, "hsmca-audit verify gave no head hash");
		goto out;
	}
	n = (long long)json_integer_value(json_object_get(r, "entries"));
	ca_tr_log(c, "AUDIT-HEAD", "%s entry %lld sha256 %s", c->ca_dir, n, h);
	ca_state_put(c, c->state, "audit",
		     json_pack("{s:s, s:I, s:s}", "ca", c->ca_dir, "entries",
			       (json_int_t)n, "head", h));
	ca_show(c, "\nAudit head: %s entry %lld sha256 %s\n", c->ca_dir, n, h);
	ca_show(
	    c, "\n  "
	       "+-------------------------------------------------------------+"
	       "\n");
	ca_show(c, "  | %-59s |\n",
		"WRITE ON PAPER; witness and administrator sign and date");
	ca_show(c, "  | audit log entry %-43lld |\n", n);
	for (i = 0; i < 2; i++) {
		const char *g = h + 32 * i;
		char line[48];

		snprintf(line, sizeof(line),
			 "%.4s %.4s %.4s %.4s %.4s %.4s %.4s %.4s", g, g + 4,
			 g + 8, g + 12, g + 16, g + 20, g + 24, g + 28);
		ca_show(c, "  |   %-58s|\n", line);
	}
	ca_show(
	    c, "  "
	       "+-------------------------------------------------------------+"
	       "\n");
	rc = ca_progress_save(c);
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

static int step_record(struct ca_cer *c, const struct ca_step *st)
{
	char *pdf = ca_out_path(c, "record.pdf"), hex[65];
	int rc;

	(void)st;
	if (pdf == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(sha256sums(c));
	if (c->spec->type != CA_CER_KEY)
		GUARD(audit_head(c));
	GUARD(ca_confirm(c,
			 "Confirm: the witness and the administrator have "
			 "written %s on paper, and record.pdf is printed "
			 "for signature.",
			 c->spec->type == CA_CER_KEY ? "the key's SPKI SHA-256"
						     : "the audit head"));
	GUARD(ca_record_pdf(c, pdf));
	GUARD(ca_record_file(c, "record", pdf, hex));
	ca_say(c, "Printed record: %s", pdf);
out:
	free(pdf);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* The step lists                                                           */

#define FILE_STEP                                                              \
	{                                                                      \
		"file", "The ceremony file", CA_OP_NONE, step_file, NULL       \
	}
#define PREFLIGHT_STEP                                                         \
	{                                                                      \
		"preflight", "Pre-flight checks", CA_OP_NONE, step_preflight,  \
		    reverify_preflight                                         \
	}
#define VERIFY_STEP                                                            \
	{                                                                      \
		"verify", "Verification", CA_OP_NONE, ca_step_verify, NULL     \
	}
#define RECORD_STEP                                                            \
	{                                                                      \
		"record", "Artifacts, audit head and the printed record",      \
		    CA_OP_NONE, step_record, NULL                              \
	}
#define OP_STEPS(prep, appr, sign, op, what)                                   \
	{prep, "The " what " to be signed", op, step_prepare, NULL},           \
	    {appr, "Approvals", op, step_approvals, reverify_approvals},       \
	{                                                                      \
		sign, "Signature", op, step_sign, NULL                         \
	}

static const struct ca_step steps_root[] = {
    FILE_STEP,
    PREFLIGHT_STEP,
    {"keygen", "Root key generation", CA_OP_NONE, step_keygen, reverify_keygen},
    {"quorum", "Quorum", CA_OP_NONE, step_quorum, NULL},
    OP_STEPS("prepare", "approvals", "sign", CA_OP_ROOT, "root certificate"),
    VERIFY_STEP,
    RECORD_STEP,
};

static const struct ca_step steps_key[] = {
    FILE_STEP,
    PREFLIGHT_STEP,
    {"keygen", "Key generation", CA_OP_NONE, step_keygen, reverify_keygen},
    VERIFY_STEP,
    RECORD_STEP,
};

static const struct ca_step steps_subca[] = {
    FILE_STEP,
    PREFLIGHT_STEP,
    {"csr", "The subordinate CA's CSR", CA_OP_NONE, step_input, NULL},
    OP_STEPS("prepare", "approvals", "sign", CA_OP_SUBCA,
	     "subordinate CA certificate"),
    VERIFY_STEP,
    RECORD_STEP,
};

static const struct ca_step steps_cross[] = {
    FILE_STEP,
    PREFLIGHT_STEP,
    {"certificate", "The certificate to cross-certify", CA_OP_NONE, step_input,
     NULL},
    OP_STEPS("prepare", "approvals", "sign", CA_OP_CROSS, "cross-certificate"),
    VERIFY_STEP,
    RECORD_STEP,
};

static const struct ca_step steps_crl[] = {
    FILE_STEP,
    PREFLIGHT_STEP,
    {"revocations", "Issued and revoked certificates", CA_OP_NONE,
     step_revocations, NULL},
    OP_STEPS("prepare", "approvals", "sign", CA_OP_CRL, "CRL"),
    VERIFY_STEP,
    RECORD_STEP,
};

static const struct ca_step steps_revoke[] = {
    FILE_STEP,
    PREFLIGHT_STEP,
    {"certificate", "The subordinate CA to revoke", CA_OP_NONE, step_input,
     NULL},
    OP_STEPS("revoke-prepare", "revoke-approvals", "revoke", CA_OP_REVOKE,
	     "revocation"),
    OP_STEPS("crl-prepare", "crl-approvals", "crl-sign", CA_OP_CRL, "CRL"),
    VERIFY_STEP,
    RECORD_STEP,
};

const struct ca_step *ca_steps_for(enum ca_cer_type t, int *n)
{
#define LIST(a)                                                                \
	do {                                                                   \
		*n = (int)(sizeof(a) / sizeof(a[0]));                          \
		return a;                                                      \
	} while (0)
	switch (t) {
	case CA_CER_ROOT:
		LIST(steps_root);
	case CA_CER_KEY:
		LIST(steps_key);
	case CA_CER_SUBCA:
		LIST(steps_subca);
	case CA_CER_CROSS:
		LIST(steps_cross);
	case CA_CER_CRL:
		LIST(steps_crl);
	case CA_CER_REVOKE:
		LIST(steps_revoke);
	}
#undef LIST
	*n = 0;
	return NULL;
}
