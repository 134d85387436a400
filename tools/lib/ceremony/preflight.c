/* Pre-flight: everything that could fail later is checked before anything
 * irreversible (a key generated, an approval spent, a CRL number used):
 * the tools, the inputs and their hashes, the certificate contents, the
 * output and CA directories, disk space, the token with its serial and a
 * PIN that works, the signing CA and its audit log, the approvers' keys. */
#include "ceremony/internal.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/sha256.h"
#include "input/name.h"
#include "out/cadir.h"
#include "x509/profile.h"

#define MIN_FREE_BYTES (64ULL * 1024 * 1024)

static int tools(struct ca_cer *c)
{
	static const char *const all[] = {"keygen",	"init-ca",
					  "sign-subca", "revoke",
					  "gen-crl",	"two-person-approve",
					  "audit",	NULL};
	char *p;
	int i, ok = 1;

	for (i = 0; all[i] != NULL && ok; i++) {
		p = ca_tool_path(c, all[i]);
		if (p == NULL)
			return ca_err(CA_EIO, "out of memory");
		ok = access(p, X_OK) == 0;
		if (!ok)
			ca_say(c, "  %s is missing", p);
		free(p);
	}
	return ca_check(c, ok, "the hsmca tools are there",
			ok ? "%s"
			   : "in %s: install hsmca (make install) or "
			     "name the tools' directory in the "
			     "environment file (tools:)",
			c->tools);
}

static json_t *list_json(const struct ca_list *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/* The certificate's contents go through the same builders the tools use,
 * on a scratch certificate: a bad URL, OID, EKU or constraint shows now. */
static int contents(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	struct ca_name_constraints nc;
	json_t **slots[CA_NC_COUNT] = {
	    &nc.permit_dns, &nc.exclude_dns,  &nc.permit_ip,
	    &nc.exclude_ip, &nc.permit_email, &nc.exclude_email,
	    &nc.permit_uri, &nc.exclude_uri,
	};
	json_t *pol = list_json(&s->policies), *crl = list_json(&s->crl_urls),
	       *aia = list_json(&s->aia_urls), *eku = list_json(&s->ekus);
	X509 *x = X509_new();
	time_t nb, na;
	int rc, i;

	memset(&nc, 0, sizeof(nc));
	for (i = 0; i < CA_NC_COUNT; i++)
		*slots[i] = list_json(&s->nc[i]);
	if (x == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_validity_days(s->days, &nb, &na));
	GUARD(ca_profile_add_policies(x, pol));
	GUARD(ca_profile_add_urls(x, crl, aia));
	GUARD(ca_profile_add_ekus(x, eku));
	GUARD(ca_profile_add_name_constraints(x, &nc));
out:
	if (rc < 0)
		rc = ca_check(c, 0, "the certificate contents are valid", "%s",
			      ca_errmsg());
	else
		rc = ca_check(c, 1, "the certificate contents are valid", NULL);
	for (i = 0; i < CA_NC_COUNT; i++)
		json_decref(*slots[i]);
	json_decref(pol);
	json_decref(crl);
	json_decref(aia);
	json_decref(eku);
	X509_free(x);
	return rc;
}

static int space(struct ca_cer *c, const char *what, const char *dir)
{
	struct statvfs v;
	unsigned long long avail;

	if (statvfs(dir, &v) != 0)
		return ca_check(c, 0, what, "%s: %s", dir, strerror(errno));
	avail = (unsigned long long)v.f_bavail * v.f_frsize;
	return ca_check(c, avail >= MIN_FREE_BYTES, what,
			"%llu MiB free in %s, %llu MiB needed", avail >> 20,
			dir, MIN_FREE_BYTES >> 20);
}

/* root: the CA directory is created at the self-signature: its parent
 * must exist and be writable, and it must not exist yet. */
static int new_ca_dir(struct ca_cer *c)
{
	const char *signed_state = ca_progress_step_state(c, "sign");
	char *copy = strdup(c->ca_dir), *parent;
	struct stat st;
	int rc, exists = stat(c->ca_dir, &st) == 0;

	if (copy == NULL)
		return ca_err(CA_EIO, "out of memory");
	parent = dirname(copy);
	if (signed_state != NULL && strcmp(signed_state, "pending") != 0) {
		rc = CA_OK; /* resumed after the self-signature began */
		goto out;
	}
	GUARD(ca_check(c, !exists, "the CA directory does not exist yet",
		       "%s exists: a root ceremony creates its CA directory; "
		       "move it away or name another ca.dir",
		       c->ca_dir));
	GUARD(ca_check(c, stat(parent, &st) == 0 && S_ISDIR(st.st_mode),
		       "the CA directory's parent exists",
		       "%s does not exist: create it (mkdir -p %s) and run "
		       "again; nothing has been done yet",
		       parent, parent));
	GUARD(ca_check(c, access(parent, W_OK | X_OK) == 0,
		       "the CA directory's parent is writable", "%s: %s",
		       parent, strerror(errno)));
	rc = space(c, "there is disk space for the CA directory", parent);
out:
	free(copy);
	return rc;
}

static int ca_json_str(json_t *cfg, const char *key, const char **out)
{
	*out = json_string_value(json_object_get(cfg, key));
	return *out != NULL ? CA_OK
			    : ca_err(CA_EUSAGE, "ca.json has no %s", key);
}

/* The signing CA: a CA directory with the subject, token and quorum the
 * ceremony file names, and an audit log that verifies. */
static int signing_ca(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	char *crt = NULL, *cfg_path = NULL, *q = NULL, *subject = NULL;
	char qhex[65], want_q[65];
	json_t *cfg = NULL, *audit = NULL;
	X509_NAME *want = NULL;
	struct ca_argv a = {0};
	const char *label = NULL;
	X509 *x = NULL;
	int rc;

	crt = ca_dir_file(c->ca_dir, "ca.crt");
	cfg_path = ca_dir_file(c->ca_dir, "ca.json");
	q = ca_dir_file(c->ca_dir, "quorum.json");
	if (crt == NULL || cfg_path == NULL || q == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_check(c, access(crt, R_OK) == 0 && access(cfg_path, R_OK) == 0,
		       "the signing CA directory is there",
		       "%s is not a CA "
		       "directory (ca.crt, ca.json, ca.db)",
		       c->ca_dir));
	GUARD(ca_cert_load(crt, &x));
	GUARD(ca_name_parse(s->ca_subject, &want));
	subject = ca_name_oneline(X509_get_subject_name(x));
	ca_say(c, "Signing CA:   %s", c->ca_dir);
	ca_say(c, "  subject     %s", subject ? subject : "?");
	GUARD(ca_check(c, X509_NAME_cmp(want, X509_get_subject_name(x)) == 0,
		       "the CA is the one the ceremony file names (ca.subject)",
		       "its subject is %s", subject ? subject : "?"));
	cfg = json_load_file(cfg_path, JSON_REJECT_DUPLICATES, NULL);
	if (cfg == NULL || ca_json_str(cfg, "token_label", &label) < 0) {
		rc = ca_check(c, 0, "ca.json names the CA's token", "%s",
			      cfg_path);
		goto out;
	}
	GUARD(ca_check(c, strcmp(label, s->token_label) == 0,
		       "the CA's key is on the token the ceremony file names",
		       "ca.json says token '%s'", label));
	GUARD(ca_check(c, access(q, R_OK) == 0 && ca_sha256_file(q, qhex) == 0,
		       "the CA pins a quorum", "%s", q));
	GUARD(ca_sha256_file(c->quorum, want_q));
	GUARD(ca_check(c, CRYPTO_memcmp(qhex, want_q, 64) == 0,
		       "the CA's pinned quorum is the ceremony's quorum file",
		       "pinned %s, quorum file %s", qhex, want_q));
	ca_cmd_audit(c, "verify", &a);
	GUARD(ca_exec_must(c, &a, 0, &audit));
	rc = ca_check(c, json_is_true(json_object_get(audit, "ok")),
		      "the CA's audit log verifies", NULL);
out:
	ca_argv_free(&a);
	json_decref(audit);
	json_decref(cfg);
	X509_NAME_free(want);
	X509_free(x);
	free(subject);
	free(q);
	free(cfg_path);
	free(crt);
	return rc;
}

/* revoke-subca: the CA issued the certificate and has not revoked it. */
static int revocable(struct ca_cer *c)
{
	const char *serial = ca_val(c, "revoke_serial");
	json_t *rep = NULL, *e;
	struct ca_argv a = {0};
	int issued = 0, revoked = 0, rc;
	size_t i;

	if (strcmp(ca_progress_step_state(c, "revoke"), "done") == 0)
		return CA_OK;
	ca_cmd_audit(c, "report", &a);
	GUARD(ca_exec_must(c, &a, 0, &rep));
	json_array_foreach(json_object_get(rep, "issued"), i, e) issued |=
	    strcmp(json_string_value(json_object_get(e, "serial")), serial) ==
	    0;
	json_array_foreach(json_object_get(rep, "revoked"), i, e) revoked |=
	    strcmp(json_string_value(json_object_get(e, "serial")), serial) ==
	    0;
	GUARD(ca_check(c, issued,
		       "the CA's store lists the certificate to revoke",
		       "serial %s was not issued by %s", serial, c->ca_dir));
	rc = ca_check(c,
		      !revoked || strcmp(ca_progress_step_state(c, "revoke"),
					 "pending") != 0,
		      "it is not revoked yet", "serial %s is already revoked",
		      serial);
out:
	ca_argv_free(&a);
	json_decref(rep);
	return rc;
}

/* The token: there, with its serial, the PIN accepted; for a new key, the
 * label free (or, resumed, the key already made at this ceremony). */
static int token(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	struct ca_argv a = {0};
	const char *kg;
	json_t *r = NULL;
	int rc, exists, status = 0;

	ca_cmd_keygen(c, &a, 1);
	GUARD(ca_exec(c, &a, 1, &r, &status));
	GUARD(ca_check(
	    c, status == 0 && r != NULL,
	    "the token the ceremony file names (label and serial) is "
	    "present and takes the PIN",
	    "token '%s' serial %s: hsmca-keygen says why above", s->token_label,
	    c->rehearse ? ca_val(c, "rehearsal_token_serial")
			: s->token_serial));
	ca_say(c, "Token '%s', serial %s: present, PIN accepted",
	       json_string_value(json_object_get(r, "token")),
	       json_string_value(json_object_get(r, "serial")));
	if (c->rehearse)
		ca_say(c,
		       "  (rehearsal: this SoftHSM token stands in for "
		       "serial %s of the ceremony file)",
		       s->token_serial);
	else
		GUARD(ca_check(
		    c,
		    strcmp(json_string_value(json_object_get(r, "serial")),
			   s->token_serial) == 0,
		    "the token's serial is the ceremony file's", NULL));
	if (s->type != CA_CER_ROOT && s->type != CA_CER_KEY)
		goto out;
	exists = json_is_true(json_object_get(r, "exists"));
	kg = ca_progress_step_state(c, "keygen");
	if (strcmp(kg, "pending") == 0)
		rc = ca_check(c, !exists,
			      "no key with the new key's label is on "
			      "the token",
			      "token '%s' already holds '%s': a key ceremony "
			      "makes a new key; name another key.label",
			      s->token_label, s->key_label);
	else if (strcmp(kg, "done") == 0)
		rc = ca_check(c, exists,
			      "the key made at this ceremony is on the "
			      "token",
			      "'%s' is gone from token '%s'", s->key_label,
			      s->token_label);
	else
		ca_say(c, "  (the key generation begun before is looked at in "
			  "its step)");
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

/* Approvers whose keys are at this workstation: each key works and is the
 * quorum's; a run without a witness needs enough of them. */
static int approver_keys(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	struct ca_argv a = {0};
	json_t *r = NULL;
	size_t i, here = 0;
	int rc = CA_OK;

	if (!ca_spec_has_quorum(s))
		return CA_OK;
	for (i = 0; i < s->approvers.n; i++) {
		const char *id = s->approvers.v[i];

		if (ca_env_approver(c->env, id) == NULL) {
			ca_say(c,
			       "  %s approves with a key of their own (an "
			       "approval file is brought to the workstation)",
			       id);
			continue;
		}
		ca_cmd_check_key(c, id, &a);
		GUARD(ca_exec_must(c, &a, 0, &r));
		GUARD(ca_check(c, json_is_true(json_object_get(r, "matches")),
			       "an approver's key works and is the quorum's",
			       "%s", id));
		ca_argv_free(&a);
		json_decref(r);
		r = NULL;
		here++;
	}
	ca_val_set(c, "approvers_here", here ? "yes" : NULL);
out:
	ca_argv_free(&a);
	json_decref(r);
	return rc;
}

int ca_preflight(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	int rc;

	ca_say(c, "Tools:");
	GUARD(tools(c));
	ca_say(c, "Inputs:");
	GUARD(ca_inputs_check(c));
	if (s->type == CA_CER_ROOT || s->type == CA_CER_SUBCA ||
	    s->type == CA_CER_CROSS)
		GUARD(contents(c));
	ca_say(c, "Directories:");
	GUARD(
	    space(c, "there is disk space for the ceremony's outputs", c->out));
	if (s->type == CA_CER_ROOT)
		GUARD(new_ca_dir(c));
	else if (s->type != CA_CER_KEY)
		GUARD(signing_ca(c));
	if (s->type == CA_CER_REVOKE)
		GUARD(revocable(c));
	ca_say(c, "Token:");
	GUARD(token(c));
	if (ca_spec_has_quorum(s)) {
		ca_say(c, "Approvers:");
		GUARD(approver_keys(c));
	}
out:
	return rc;
}
