#include "issue/initca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "base/hex.h"
#include "base/read.h"
#include "base/time.h"
#include "input/name.h"
#include "issue/record.h"
#include "lint/copy.h"
#include "lint/lint.h"
#include "out/cadir.h"
#include "out/file.h"
#include "sign/anchor.h"
#include "sign/signer.h"
#include "sign/tbs.h"
#include "store/audit.h"
#include "store/store.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/pem.h"
#include "x509/profile.h"
#include "x509/serial.h"
#include "x509/spki.h"

/* ca.json for a new CA. */
static json_t *make_config(const struct ca_init_params *p,
			   const struct ca_signer *s, const char *kind,
			   const char *ca_id)
{
	json_t *c = json_pack(
	    "{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "version", 1, "kind",
	    kind, "key", s->uri, "token_label", s->token_label, "token_serial",
	    s->token_serial, "spki_sha256", s->spki_sha256_hex, "ca_id", ca_id,
	    "anchor", p->unanchored ? "none" : "token");
	int failed = 0; /* a value could not be added */

	if (c == NULL)
		return NULL;
	/* The module the key was found on, as chosen (token.h): later runs
	 * find it without --module. */
	if (ca_token_module(s->tok) != NULL)
		failed |= json_object_set_new(
		    c, "module", json_string(ca_token_module(s->tok)));
	if (p->sigalg == CA_SIGALG_RSA_PSS)
		failed |= json_object_set_new(c, "signature_algorithm",
					      json_string("rsa-pss"));
	if (p->store != NULL)
		failed |=
		    json_object_set_new(c, "store", json_string(p->store));
	if (p->store_password_source != NULL)
		failed |=
		    json_object_set_new(c, "store_password_source",
					json_string(p->store_password_source));
	if (ca_token_module_args(s->tok) != NULL)
		failed |= json_object_set_new(
		    c, "module_args",
		    json_string(ca_token_module_args(s->tok)));
	failed |= json_object_set_new(
	    c, "crl_urls", p->crl_urls ? json_copy(p->crl_urls) : json_array());
	failed |= json_object_set_new(
	    c, "aia_urls", p->aia_urls ? json_copy(p->aia_urls) : json_array());
	failed |= json_object_set_new(
	    c, "policies", p->policies ? json_copy(p->policies) : json_array());
	if (failed) {
		json_decref(c);
		return NULL;
	}
	return c;
}

static int write_stage_file(const char *dir, const char *name, const void *data,
			    size_t len, mode_t mode)
{
	char *path = ca_dir_file(dir, name);
	int rc;

	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = ca_out_write(path, data, len, 0, mode);
	free(path);
	return rc;
}

static int copy_file(const char *from, const char *dir, const char *name,
		     ca_audit *a)
{
	unsigned char *data = NULL;
	size_t len;
	int rc;

	rc = ca_read_file(from, CA_MAX_INPUT, &data, &len);
	if (rc == CA_OK)
		rc = write_stage_file(dir, name, data, len, 0644);
	if (rc == CA_OK)
		ca_audit_output(a, name, data, len);
	free(data);
	return rc;
}

struct stage_ctx {
	const struct ca_init_params *p;
	struct ca_signer *s;
	X509 *cert;
	const char *kind;
	const struct ca_tp *tp;	  /* quorum and approvals, or NULL */
	char ca_id[33];		  /* the new CA directory's random id */
	struct ca_anchor *anchor; /* created with the store */
	int store_made;		  /* a PostgreSQL schema to drop on failure */
};

/* Inside a transaction: the CA's key, kind and pinned quorum. */
static int store_identity(ca_store *st, const struct stage_ctx *c)
{
	int rc;

	GUARD(ca_store_meta_set(st, "ca_spki_sha256", c->s->spki_sha256_hex));
	GUARD(ca_store_meta_set(st, "ca_kind", c->kind));
	GUARD(ca_store_meta_set(st, "ca_id", c->ca_id));
	if (c->tp != NULL && c->tp->quorum != NULL)
		GUARD(ca_store_meta_set(st, "quorum_sha256",
					c->tp->quorum->sha256_hex));
out:
	return rc;
}

/* The state store of a new CA: the certificate row (for a root, which
 * issued it), the identity, the pinned quorum, the approval nonce and the
 * first audit entry, committed in one transaction. */
static int create_store(const char *stage, struct stage_ctx *c, ca_audit *a)
{
	struct ca_issued how = {"root", NULL, -1, NULL, NULL};
	ca_store *st = NULL;
	char *dbpath = c->p->store != NULL ? strdup(c->p->store)
					   : ca_dir_file(stage, "ca.db");
	int rc;

	if (dbpath == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_store_password_source(c->p->store_password_source, 1));
	GUARD(ca_store_create(dbpath, &st));
	c->store_made = 1;
	/* The anchor starts at the empty store; the commits below advance
	 * it. */
	if (!c->p->unanchored) {
		GUARD(ca_anchor_create(c->s->tok, c->s->spki_sha256_hex,
				       c->ca_id, c->p->dir, st, &c->anchor));
		ca_anchor_attach(c->anchor, st);
	}
	if (strcmp(c->kind, "root") == 0) {
		/* ca_issue_record commits the row, nonce and audit entry. */
		GUARD(ca_store_begin(st));
		GUARD(store_identity(st, c));
		GUARD(ca_store_commit(st));
		GUARD(
		    ca_issue_record(st, c->cert, &how, c->tp, a, "CA created"));
		goto out;
	}
	GUARD(ca_store_begin(st));
	GUARD(store_identity(st, c));
	GUARD(ca_audit_append(st, a, "ok", "CA created"));
	GUARD(ca_store_commit(st));
out:
	if (rc < 0)
		ca_store_rollback(st);
	ca_store_close(st);
	free(dbpath);
	return rc;
}

/* A key serves one CA directory: refuse a key that has a token anchor
 * before anything is signed. */
static int key_unanchored(struct ca_signer *s)
{
	struct ca_anchor *a = NULL;
	int rc;

	GUARD(ca_anchor_open(s->tok, s->spki_sha256_hex, &a));
	if (a != NULL)
		rc = ca_err(CA_EPOLICY,
			    "the key %s already serves the CA directory with "
			    "id %s (token anchor '%s' on token '%s'): a key "
			    "serves one CA directory",
			    s->uri, a->ca_id, a->label, s->token_label);
out:
	ca_anchor_free(a);
	return rc;
}

/* Fill the stage: ca.crt, chain.pem, quorum.json, ca.json, ca.db. */
static int populate(const char *stage, struct stage_ctx *c)
{
	const struct ca_init_params *p = c->p;
	ca_audit *a = ca_audit_new("init-ca");
	json_t *config = NULL;
	char *pem = NULL, *cfg = NULL;
	unsigned char id[16];
	size_t pem_len;
	int rc;

	if (a == NULL)
		return ca_err(CA_EIO, "out of memory");
	GUARD(ca_token_random(c->s->tok, id, sizeof(id)));
	ca_hex(id, sizeof(id), c->ca_id);
	GUARD(ca_x509_pem(c->cert, &pem, &pem_len));
	GUARD(write_stage_file(stage, "ca.crt", pem, pem_len, 0644));
	ca_audit_output(a, "ca.crt", pem, pem_len);
	if (p->chain != NULL)
		GUARD(copy_file(p->chain, stage, "chain.pem", a));
	if (c->tp != NULL && c->tp->quorum != NULL) {
		GUARD(copy_file(p->tp.quorum_path, stage, "quorum.json", a));
		ca_audit_set(a, "quorum_sha256", c->tp->quorum->sha256_hex);
	}
	config = make_config(p, c->s, c->kind, c->ca_id);
	cfg =
	    config ? json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (cfg == NULL) {
		rc = ca_err(CA_EIO, "cannot encode ca.json");
		goto out;
	}
	GUARD(write_stage_file(stage, "ca.json", cfg, strlen(cfg), 0644));
	ca_audit_output(a, "ca.json", cfg, strlen(cfg));
	ca_audit_set(a, "key", c->s->uri);
	ca_audit_set(a, "spki_sha256", c->s->spki_sha256_hex);
	ca_audit_set(a, "token_serial", c->s->token_serial);
	ca_audit_set(a, "ca_id", c->ca_id);
	GUARD(create_store(stage, c, a));
out:
	ca_audit_free(a);
	json_decref(config);
	free(cfg);
	free(pem);
	return rc;
}

static void fill_result(struct ca_init_result *res, struct ca_signer *s,
			X509 *cert)
{
	char *subject = ca_name_oneline(X509_get_subject_name(cert));
	time_t na = 0;

	memset(res, 0, sizeof(*res));
	if (ca_serial_hex(X509_get0_serialNumber(cert), res->serial,
			  sizeof(res->serial)) < 0)
		res->serial[0] = '\0';
	ca_x509_sha256_hex(cert, res->cert_sha256);
	snprintf(res->spki_sha256, sizeof(res->spki_sha256), "%s",
		 s->spki_sha256_hex);
	snprintf(res->key_uri, sizeof(res->key_uri), "%s", s->uri);
	snprintf(res->subject, sizeof(res->subject), "%s",
		 subject ? subject : "");
	if (ca_asn1_time(X509_get0_notAfter(cert), &na) == CA_OK)
		ca_time_rfc3339(na, res->not_after, sizeof(res->not_after));
	free(subject);
}

/* Fill the stage with the new CA of kind "root" or "subordinate", publish
 * it as the CA directory, describe the result. */
static int publish(struct ca_stage *stage, const struct ca_init_params *p,
		   struct ca_signer *s, X509 *cert, const char *kind,
		   const struct ca_tp *tp, struct ca_init_result *res)
{
	struct stage_ctx sc = {p,  s,	 cert, kind, tp->active ? tp : NULL,
			       "", NULL, 0};
	int rc;

	GUARD(populate(stage->tmp, &sc));
	GUARD(ca_stage_publish(stage));
	fill_result(res, s, cert);
out:
	/* A CA that was not created leaves no anchor behind, and no schema
	 * in its database (a SQLite store goes with the stage). */
	if (rc < 0)
		ca_anchor_destroy(sc.anchor);
	if (rc < 0 && sc.store_made && p->store != NULL)
		ca_store_destroy(p->store);
	ca_anchor_free(sc.anchor);
	return rc;
}

/* Serial and validity: fresh from the token, or as the request fixed them. */
static int root_serial_validity(const struct ca_init_params *p,
				struct ca_tp *tp, struct ca_signer *s,
				struct ca_cert_spec *spec)
{
	int rc;

	if (tp->executing)
		return ca_tp_cert_params(tp, p->days, &spec->serial,
					 &spec->not_before, &spec->not_after);
	GUARD(ca_validity_days(p->days, &spec->not_before, &spec->not_after));
	GUARD(ca_serial_new(s->tok, &spec->serial));
out:
	return rc;
}

/* Phase 1: the approval request instead of a signature (no CA yet: no
 * audit log). */
static int root_prepare(const struct ca_init_params *p, struct ca_tp *tp,
			struct ca_signer *s, const struct ca_cert_spec *spec,
			const struct ca_tbs *tbs)
{
	struct ca_tp_key key = {s->spki_sha256_hex, s->token_serial, s->uri};
	json_t *summary = ca_request_summary_cert(tbs->der, tbs->len);
	json_t *params = ca_tp_cert_params_json(spec->serial, spec->not_before,
						spec->not_after, p->days);
	int rc = ca_tp_prepare(&p->tp, tp, "init-ca", &key, tbs, summary,
			       params, p->force, NULL, NULL);

	json_decref(summary);
	json_decref(params);
	return rc;
}

int ca_init_root(const struct ca_init_params *p, struct ca_init_result *res)
{
	struct ca_stage stage = {0};
	struct ca_cert_spec spec;
	struct ca_lint lint = {CA_LINT_ROOT, NULL, NULL, NULL, 0};
	struct ca_signer *s = NULL;
	struct ca_tp tp;
	struct ca_tbs tbs;
	unsigned char *algid = NULL, *der = NULL;
	size_t algid_len, der_len;
	char *qhash = NULL;
	X509 *draft = NULL, *cert = NULL;
	int rc;

	memset(&spec, 0, sizeof(spec));
	memset(&tp, 0, sizeof(tp));
	memset(res, 0, sizeof(*res));
	spec.pathlen = p->pathlen;
	spec.policies = p->policies;
	GUARD(ca_name_parse(p->subject, &spec.subject));
	if (p->tp.quorum_path != NULL) {
		struct ca_quorum *q = NULL;

		/* The quorum named on the command line is the one pinned. */
		GUARD(ca_quorum_load(p->tp.quorum_path, &q));
		qhash = strdup(q->sha256_hex);
		ca_quorum_free(q);
	}
	GUARD(ca_tp_begin(&p->tp, NULL, qhash, &tp));
	if (p->lint_cert != NULL)
		GUARD(ca_out_check(p->lint_cert, p->force));
	if (!tp.preparing)
		GUARD(ca_stage_begin(p->dir, &stage));
	else if (access(p->dir, F_OK) == 0)
		GUARD(ca_err(CA_EUSAGE,
			     "%s already exists: refusing to create a CA "
			     "there",
			     p->dir));
	/* Preparing an approval request needs no PIN: only the public key
	 * and the token's RNG. */
	if (tp.preparing)
		GUARD(ca_signer_open_public(p->key_uri, &s));
	else
		GUARD(ca_signer_open(p->key_uri, p->pin_source, &s));
	spec.pub = s->pub;
	GUARD(root_serial_validity(p, &tp, s, &spec));
	GUARD(ca_profile_root(&spec, &draft));
	GUARD(ca_sigalg_check(p->sigalg, s->pub));
	if (!tp.preparing)
		GUARD(key_unanchored(s));
	s->sigalg = p->sigalg;
	s->quorum = qhash != NULL;
	GUARD(ca_algid_der(s->pub, p->sigalg, &algid, &algid_len));
	GUARD(ca_x509_tbs(draft, algid, algid_len, &der, &der_len));
	ca_tbs_init(&tbs, CA_TBS_CA_CERT, der, der_len);
	GUARD(ca_lint_tbs(&tbs, &lint));
	if (p->lint_cert != NULL)
		GUARD(ca_cert_lint_copy(s->pub, p->sigalg, der, der_len,
					p->lint_cert, p->force));
	if (tp.preparing) {
		GUARD(root_prepare(p, &tp, s, &spec, &tbs));
		fill_result(res, s, draft);
		res->prepared = 1;
		goto out;
	}
	if (tp.executing)
		GUARD(ca_tp_check(&p->tp, &tp, "init-ca", s->spki_sha256_hex,
				  NULL, &tbs));
	GUARD(ca_cert_sign(s, &tbs, s->pub, &cert));
	GUARD(publish(&stage, p, s, cert, "root", &tp, res));
out:
	ca_stage_discard(&stage);
	ca_tp_free(&tp);
	free(qhash);
	X509_NAME_free(spec.subject);
	ASN1_INTEGER_free(spec.serial);
	X509_free(draft);
	X509_free(cert);
	OPENSSL_free(algid);
	free(der);
	ca_signer_free(s);
	return rc;
}

/* The subordinate certificate must chain to the last certificate of the
 * chain file (the root), as openssl verify would check it. */
static int verify_chain(X509 *cert, STACK_OF(X509) * chain, const char *path)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int i, n = sk_X509_num(chain), rc = CA_EIO;

	if (store == NULL || ctx == NULL || untrusted == NULL)
		goto out;
	if (n == 0) {
		rc = ca_err(CA_EUSAGE, "%s holds no certificates", path);
		goto out;
	}
	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_check_issued(x, x) == X509_V_OK) {
			if (X509_STORE_add_cert(store, x) != 1)
				goto out;
		} else if (!sk_X509_push(untrusted, x)) {
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, store, cert, untrusted) != 1)
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	if (X509_verify_cert(ctx) != 1) {
		rc = ca_err(CA_EPOLICY,
			    "the certificate does not verify with %s: %s", path,
			    X509_verify_cert_error_string(
				X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	rc = CA_OK;
out:
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

int ca_init_sub(const struct ca_init_params *p, struct ca_init_result *res)
{
	struct ca_stage stage = {0};
	struct ca_signer *s = NULL;
	struct ca_tp tp;
	STACK_OF(X509) *chain = NULL;
	X509 *cert = NULL;
	int rc;

	memset(&tp, 0, sizeof(tp));
	memset(res, 0, sizeof(*res));
	GUARD(ca_x509_load(p->cert, &cert));
	GUARD(ca_x509_load_all(p->chain, &chain));
	if (X509_check_ca(cert) < 1 ||
	    !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN)) {
		rc = ca_err(CA_EPOLICY,
			    "%s is not a CA certificate (basicConstraints "
			    "cA and keyCertSign are required)",
			    p->cert);
		goto out;
	}
	/* A root is made with --self-sign, under its quorum: a second
	 * directory for its key would be one without it. */
	if (X509_check_issued(cert, cert) == X509_V_OK) {
		rc = ca_err(CA_EPOLICY,
			    "%s is self-signed: a root CA is created with "
			    "--self-sign (and its quorum), not from its "
			    "certificate",
			    p->cert);
		goto out;
	}
	GUARD(verify_chain(cert, chain, p->chain));
	if (p->tp.quorum_path != NULL) {
		GUARD(ca_quorum_load(p->tp.quorum_path, &tp.quorum));
		tp.active = 1;
	}
	GUARD(ca_stage_begin(p->dir, &stage));
	GUARD(ca_signer_open(p->key_uri, p->pin_source, &s));
	if (EVP_PKEY_eq(s->pub, X509_get0_pubkey(cert)) != 1) {
		ERR_clear_error();
		rc = ca_err(CA_EPOLICY,
			    "the public key of %s is not the token key %s",
			    p->cert, p->key_uri);
		goto out;
	}
	GUARD(ca_sigalg_check(p->sigalg, s->pub));
	GUARD(key_unanchored(s));
	GUARD(publish(&stage, p, s, cert, "subordinate", &tp, res));
out:
	ca_stage_discard(&stage);
	ca_tp_free(&tp);
	sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	ca_signer_free(s);
	return rc;
}
