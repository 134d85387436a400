#include "initca.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cadir.h"
#include "cert.h"
#include "lint.h"
#include "name.h"
#include "output.h"
#include "profile.h"
#include "store.h"
#include "util.h"

/* ca.json for a new CA. */
static json_t *make_config(const struct ca_init_params *p,
			   const struct ca_signer *s, const char *kind)
{
	json_t *c = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "version", 1,
			      "kind", kind, "key", s->uri, "token_label",
			      s->token_label, "token_serial", s->token_serial,
			      "spki_sha256", s->spki_sha256_hex);

	if (c == NULL)
		return NULL;
	if (p->module != NULL)
		json_object_set_new(c, "module", json_string(p->module));
	json_object_set_new(c, "crl_urls",
			    p->crl_urls ? json_copy(p->crl_urls) : json_array());
	json_object_set_new(c, "aia_urls",
			    p->aia_urls ? json_copy(p->aia_urls) : json_array());
	json_object_set_new(c, "policies",
			    p->policies ? json_copy(p->policies) : json_array());
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

/* Fill the stage: ca.crt, ca.json, ca.db with the certificate row and the
 * first audit entry, committed in one transaction. */
static int populate(const char *stage, const struct ca_init_params *p,
		    struct ca_signer *s, X509 *cert, const char *kind,
		    const char *serial_hex)
{
	struct ca_cert_row row;
	ca_store *st = NULL;
	ca_audit *a = NULL;
	json_t *config = NULL;
	char *pem = NULL, *cfg = NULL, *dbpath = NULL, *subject = NULL, *cn = NULL;
	unsigned char *der = NULL;
	size_t pem_len, der_len;
	time_t nb, na;
	int rc;

	GUARD(ca_x509_pem(cert, &pem, &pem_len));
	GUARD(ca_x509_der(cert, &der, &der_len));
	GUARD(write_stage_file(stage, "ca.crt", pem, pem_len, 0644));
	config = make_config(p, s, kind);
	cfg = config ? json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (cfg == NULL) {
		rc = ca_err(CA_EIO, "cannot encode ca.json");
		goto out;
	}
	GUARD(write_stage_file(stage, "ca.json", cfg, strlen(cfg), 0644));
	dbpath = ca_dir_file(stage, "ca.db");
	subject = ca_name_oneline(X509_get_subject_name(cert));
	cn = ca_name_cn(X509_get_subject_name(cert));
	GUARD(ca_asn1_time(X509_get0_notBefore(cert), &nb));
	GUARD(ca_asn1_time(X509_get0_notAfter(cert), &na));
	GUARD(ca_store_create(dbpath, &st));
	memset(&row, 0, sizeof(row));
	row.serial = serial_hex;
	row.subject = subject ? subject : "";
	row.cn = cn;
	row.spki_sha256 = s->spki_sha256_hex;
	row.not_before = nb;
	row.not_after = na;
	row.kind = kind;
	row.partition = -1;
	row.der = der;
	row.der_len = der_len;
	a = ca_audit_new("init-ca");
	ca_audit_output(a, "ca.crt", pem, pem_len);
	ca_audit_output(a, "ca.json", cfg, strlen(cfg));
	ca_audit_set(a, "key", s->uri);
	ca_audit_set(a, "spki_sha256", s->spki_sha256_hex);
	ca_audit_set(a, "token_serial", s->token_serial);
	ca_audit_set(a, "subject", subject);
	ca_audit_set(a, "serial", serial_hex);
	GUARD(ca_store_begin(st));
	GUARD(ca_store_cert_add(st, &row));
	GUARD(ca_store_meta_set(st, "ca_spki_sha256", s->spki_sha256_hex));
	GUARD(ca_store_meta_set(st, "ca_kind", kind));
	GUARD(ca_audit_append(st, a, "ok", "CA created"));
	GUARD(ca_store_commit(st));
out:
	if (rc < 0)
		ca_store_rollback(st);
	ca_store_close(st);
	ca_audit_free(a);
	json_decref(config);
	free(cfg);
	free(pem);
	OPENSSL_free(der);
	free(dbpath);
	free(subject);
	free(cn);
	return rc;
}

static void fill_result(struct ca_init_result *res, struct ca_signer *s, X509 *cert,
			const char *serial_hex)
{
	char *subject = ca_name_oneline(X509_get_subject_name(cert));
	time_t na = 0;

	memset(res, 0, sizeof(*res));
	snprintf(res->serial, sizeof(res->serial), "%s", serial_hex);
	ca_x509_sha256_hex(cert, res->cert_sha256);
	snprintf(res->spki_sha256, sizeof(res->spki_sha256), "%s", s->spki_sha256_hex);
	snprintf(res->key_uri, sizeof(res->key_uri), "%s", s->uri);
	snprintf(res->subject, sizeof(res->subject), "%s", subject ? subject : "");
	if (ca_asn1_time(X509_get0_notAfter(cert), &na) == CA_OK)
		ca_time_rfc3339(na, res->not_after, sizeof(res->not_after));
	free(subject);
}

int ca_init_root(const struct ca_init_params *p, struct ca_init_result *res)
{
	struct ca_stage stage = {0};
	struct ca_cert_spec spec;
	struct ca_lint lint = {CA_LINT_ROOT, NULL};
	struct ca_signer *s = NULL;
	unsigned char *algid = NULL, *tbs = NULL;
	size_t algid_len, tbs_len;
	char serial_hex[80];
	X509 *draft = NULL, *cert = NULL;
	int rc;

	memset(&spec, 0, sizeof(spec));
	spec.pathlen = p->pathlen;
	spec.policies = p->policies;
	GUARD(ca_name_parse(p->subject, &spec.subject));
	GUARD(ca_validity_days(p->days, &spec.not_before, &spec.not_after));
	if (p->lint_cert != NULL)
		GUARD(ca_out_check(p->lint_cert, p->force));
	GUARD(ca_stage_begin(p->dir, &stage));
	GUARD(ca_signer_open(p->key_uri, p->pin_source, &s));
	spec.pub = s->pub;
	GUARD(ca_serial_new(s, &spec.serial));
	GUARD(ca_serial_hex(spec.serial, serial_hex, sizeof(serial_hex)));
	GUARD(ca_profile_root(&spec, &draft));
	GUARD(ca_algid_der(s->pub, &algid, &algid_len));
	GUARD(ca_x509_tbs(draft, algid, algid_len, &tbs, &tbs_len));
	GUARD(ca_lint_cert(tbs, tbs_len, &lint));
	if (p->lint_cert != NULL)
		GUARD(ca_cert_lint_copy(s->pub, tbs, tbs_len, p->lint_cert, p->force));
	GUARD(ca_cert_sign(s, tbs, tbs_len, s->pub, &cert));
	GUARD(populate(stage.tmp, p, s, cert, "root", serial_hex));
	GUARD(ca_stage_publish(&stage));
	fill_result(res, s, cert, serial_hex);
out:
	ca_stage_discard(&stage);
	X509_NAME_free(spec.subject);
	ASN1_INTEGER_free(spec.serial);
	X509_free(draft);
	X509_free(cert);
	OPENSSL_free(algid);
	free(tbs);
	ca_signer_free(s);
	return rc;
}
