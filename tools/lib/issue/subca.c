#include "issue/subca.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "base/hex.h"
#include "base/read.h"
#include "base/time.h"
#include "input/csr.h"
#include "input/name.h"
#include "issue/ca.h"
#include "issue/record.h"
#include "lint/copy.h"
#include "lint/csr.h"
#include "lint/lint.h"
#include "out/file.h"
#include "quorum/request.h"
#include "sign/tbs.h"
#include "store/lookup.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/pem.h"
#include "x509/serial.h"
#include "x509/spki.h"

struct job {
	const struct ca_subca_params *p;
	struct ca_dir *d;
	struct ca_tp tp;
	struct ca_csr_der csr;
	X509 *cross;
	struct ca_cert_spec spec;
	char *pinned;
	ca_token *tok;
};

/* Subject and key: from the CSR (signature and key policy checked) or
 * from the certificate being cross-signed. */
static int subject_and_key(struct job *j)
{
	const struct ca_subca_params *p = j->p;
	unsigned char md[32];
	char hex[65];
	int rc;

	if (p->cross_sign != NULL) {
		GUARD(ca_x509_load(p->cross_sign, &j->cross));
		j->spec.pub = X509_get0_pubkey(j->cross);
		j->spec.subject =
		    X509_NAME_dup(X509_get_subject_name(j->cross));
		j->spec.ski = X509_get0_subject_key_id(j->cross);
		if (j->spec.pub == NULL || j->spec.subject == NULL)
			return ca_err(CA_EUSAGE, "%s: no public key or subject",
				      p->cross_sign);
		GUARD(ca_lint_pubkey(j->spec.pub, p->cross_sign));
	} else {
		GUARD(ca_csr_load(p->csr, &j->csr));
		GUARD(ca_csr_check(&j->csr, p->csr));
		j->spec.pub = j->csr.pub;
		j->spec.spki = X509_REQ_get_X509_PUBKEY(j->csr.req);
		if (p->subject != NULL)
			GUARD(ca_name_parse(p->subject, &j->spec.subject));
		else
			j->spec.subject = X509_NAME_dup(
			    X509_REQ_get_subject_name(j->csr.req));
		if (j->spec.subject == NULL ||
		    X509_NAME_entry_count(j->spec.subject) == 0)
			return ca_err(CA_EPOLICY,
				      "the CSR %s has an empty subject: "
				      "give --subject",
				      p->csr);
	}
	GUARD(ca_spki_sha256(j->spec.pub, md));
	ca_hex(md, 32, hex);
	if (strcmp(hex, json_string_value(
			    json_object_get(j->d->config, "spki_sha256"))) == 0)
		return ca_err(CA_EPOLICY,
			      "the subordinate's key is this CA's own key: "
			      "refused");
out:
	return rc;
}

/* pathLenConstraint: inside the issuer's (RFC 5280 6.1.4 (l)-(m)). */
static int pathlen(struct job *j)
{
	long ipl = X509_get_pathlen(j->d->cert);
	int want = j->p->pathlen;

	if (want < 0 && j->cross != NULL)
		want = (int)X509_get_pathlen(j->cross);
	if (ipl == 0)
		return ca_err(CA_EPOLICY,
			      "this CA has pathlen 0: it cannot certify "
			      "another CA");
	if (ipl > 0 && want < 0)
		want = (int)ipl - 1;
	if (ipl > 0 && want > ipl - 1)
		return ca_err(CA_EPOLICY,
			      "--pathlen %d does not fit under this CA's "
			      "pathlen %ld",
			      want, ipl);
	j->spec.pathlen = want;
	return CA_OK;
}

static json_t *or_config(json_t *given, struct ca_dir *d, const char *key)
{
	return json_array_size(given) > 0 ? given
					  : json_object_get(d->config, key);
}

/* Serial and validity: fresh, or fixed by the approval request. */
static int serial_validity(struct job *j, int *clamped)
{
	int rc;

	*clamped = 0;
	if (j->tp.executing)
		return ca_tp_cert_params(&j->tp, j->p->days, &j->spec.serial,
					 &j->spec.not_before,
					 &j->spec.not_after);
	GUARD(ca_validity_clamp(j->d->cert, j->p->days, &j->spec.not_before,
				&j->spec.not_after, clamped));
	GUARD(ca_token_open(ca_dir_key_uri(j->d), &j->tok));
	GUARD(ca_serial_new(j->tok, &j->spec.serial));
out:
	return rc;
}

/* The TBSCertificate from the spec, with the CA key's algorithm. */
static int build_tbs(struct job *j, unsigned char **der, size_t *len)
{
	unsigned char *algid = NULL;
	size_t algid_len;
	X509 *draft = NULL;
	int rc;

	GUARD(ca_profile_subca(&j->spec, j->d->cert, &j->p->nc, &draft));
	GUARD(ca_algid_der(X509_get0_pubkey(j->d->cert), ca_dir_sigalg(j->d),
			   &algid, &algid_len));
	GUARD(ca_x509_tbs(draft, algid, algid_len, der, len));
out:
	OPENSSL_free(algid);
	X509_free(draft);
	return rc;
}

/* Phase 1: the approval request instead of a signature. */
static int prepare(struct job *j, const struct ca_tbs *tbs, ca_audit *a)
{
	struct ca_tp_key key = ca_dir_tp_key(j->d);
	json_t *summary = ca_request_summary_cert(tbs->der, tbs->len);
	json_t *params = ca_tp_cert_params_json(
	    j->spec.serial, j->spec.not_before, j->spec.not_after, j->p->days);
	int rc = ca_tp_prepare(&j->p->tp, &j->tp, "sign-subca", &key, tbs,
			       summary, params, j->p->force, j->d->store, a);

	json_decref(summary);
	json_decref(params);
	return rc;
}

static int write_out(const struct ca_subca_params *p, X509 *cert)
{
	char *pem = NULL;
	size_t len;
	int rc;

	rc = ca_x509_pem(cert, &pem, &len);
	if (rc == CA_OK)
		rc = ca_out_write(p->out, pem, len, p->force, 0644);
	free(pem);
	return rc;
}

static void fill_result(struct ca_subca_result *res, X509 *x, int clamped)
{
	char *s = ca_name_oneline(X509_get_subject_name(x));
	time_t na;

	if (ca_serial_hex(X509_get0_serialNumber(x), res->serial,
			  sizeof(res->serial)) < 0)
		res->serial[0] = '\0';
	snprintf(res->subject, sizeof(res->subject), "%s", s ? s : "");
	if (ca_asn1_time(X509_get0_notAfter(x), &na) == CA_OK)
		ca_time_rfc3339(na, res->not_after, sizeof(res->not_after));
	ca_x509_sha256_hex(x, res->cert_sha256);
	res->clamped = clamped;
	free(s);
}

/* Options and outputs checked, the mode decided, the spec filled. */
static int begin(struct job *j, int *clamped)
{
	const struct ca_subca_params *p = j->p;
	int rc;

	GUARD(ca_store_meta_get(j->d->store, "quorum_sha256", &j->pinned));
	GUARD(ca_tp_begin(&p->tp, j->d->path, j->pinned, &j->tp));
	/* Executing: checked once it is known whether the request was
	 * executed already (resume). */
	if (!j->tp.preparing && !j->tp.executing)
		GUARD(ca_out_check(p->out, p->force));
	if (p->lint_cert != NULL)
		GUARD(ca_out_check(p->lint_cert, p->force));
	GUARD(subject_and_key(j));
	GUARD(pathlen(j));
	j->spec.policies = or_config(p->policies, j->d, "policies");
	j->spec.crl_urls = or_config(p->crl_urls, j->d, "crl_urls");
	j->spec.aia_urls = or_config(p->aia_urls, j->d, "aia_urls");
	j->spec.ekus = p->ekus;
	GUARD(serial_validity(j, clamped));
out:
	return rc;
}

/* The stored certificate of an executed request: its TBS must be the
 * approved one. */
static int stored_cert(struct job *j, const struct ca_tbs *tbs, X509 **cert)
{
	struct ca_cert_record rec;
	const unsigned char *t = NULL, *p;
	size_t tlen = 0;
	char serial[80];
	int rc, found = 0;

	GUARD(ca_serial_hex(j->spec.serial, serial, sizeof(serial)));
	GUARD(ca_store_cert_lookup(j->d->store, serial, &rec, &found));
	if (found)
		GUARD(ca_x509_der_tbs(rec.der, rec.der_len, &t, &tlen));
	if (!found || tlen != tbs->len ||
	    CRYPTO_memcmp(t, tbs->der, tlen) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "approval request %s was already executed, but "
			    "this CA's store holds no certificate with serial "
			    "%s signed over the approved data: nothing was "
			    "signed",
			    j->tp.req->nonce, serial);
		goto out;
	}
	p = rec.der;
	*cert = d2i_X509(NULL, &p, (long)rec.der_len);
	if (*cert == NULL)
		rc = ca_err(CA_EIO, "certificate %s in the store is not DER",
			    serial);
out:
	ca_cert_record_free(&rec);
	return rc;
}

/* A request already executed on this CA (a run that stopped after the
 * commit): the output from the store, nothing signed. An output file that
 * exists must hold exactly the stored certificate (or --force). */
static int from_store(struct job *j, const struct ca_tbs *tbs, ca_audit *a,
		      struct ca_subca_result *res)
{
	const struct ca_subca_params *p = j->p;
	unsigned char *have = NULL, *der = NULL;
	char *pem = NULL, detail[128];
	size_t len, have_len = 0, der_len = 0;
	struct stat sb;
	X509 *cert = NULL;
	int rc;

	GUARD(stored_cert(j, tbs, &cert));
	GUARD(ca_x509_pem(cert, &pem, &len));
	res->resumed = 1;
	if (!p->force && stat(p->out, &sb) == 0) {
		GUARD(ca_read_file(p->out, CA_MAX_INPUT, &have, &have_len));
		if (have_len != len || memcmp(have, pem, len) != 0) {
			rc = ca_err(CA_EPOLICY,
				    "approval request %s was already executed; "
				    "%s exists and is not the stored "
				    "certificate: not overwritten (--force)",
				    j->tp.req->nonce, p->out);
			goto out;
		}
		res->resumed = 2;
	}
	/* The anchor check: this CA directory, not an older copy of it. */
	GUARD(ca_dir_signer(j->d, p->pin_source));
	if (res->resumed == 1)
		GUARD(ca_out_write(p->out, pem, len, p->force, 0644));
	snprintf(detail, sizeof(detail), "already executed: %s",
		 res->resumed == 1 ? "output written from the store"
				   : "the output holds the stored certificate");
	GUARD(ca_x509_der(cert, &der, &der_len));
	ca_audit_output_der(a, "certificate", der, der_len);
	ca_tp_audit(&j->tp, a);
	GUARD(ca_store_begin(j->d->store));
	GUARD(ca_audit_append(j->d->store, a, "ok", detail));
	GUARD(ca_store_commit(j->d->store));
	fill_result(res, cert, 0);
out:
	X509_free(cert);
	OPENSSL_free(der);
	free(pem);
	free(have);
	return rc;
}

/* Tests only: $HSMCA_TEST_CRASH=after-commit ends the process with SIGKILL
 * once the certificate is committed, before the output file is written. */
static void crash_point(const char *where)
{
	const char *v = getenv("HSMCA_TEST_CRASH");

	if (v != NULL && strcmp(v, where) == 0)
		raise(SIGKILL);
}

static int run(struct job *j, ca_audit *a, struct ca_subca_result *res)
{
	const struct ca_subca_params *p = j->p;
	struct ca_lint lint = {CA_LINT_SUBCA, j->d->cert, NULL, NULL, 0};
	struct ca_tbs tbs;
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *cert = NULL, *draft = NULL;
	struct ca_issued how = {p->cross_sign ? "cross" : "subca", NULL, -1,
				NULL, NULL};
	int rc, clamped = 0, done = 0;

	GUARD(begin(j, &clamped));
	GUARD(build_tbs(j, &der, &len));
	ca_tbs_init(&tbs, CA_TBS_CA_CERT, der, len);
	GUARD(ca_lint_tbs(&tbs, &lint));
	if (p->lint_cert != NULL)
		GUARD(ca_cert_lint_copy(X509_get0_pubkey(j->d->cert),
					ca_dir_sigalg(j->d), der, len,
					p->lint_cert, p->force));
	if (j->tp.preparing) {
		GUARD(prepare(j, &tbs, a));
		res->prepared = 1;
		GUARD(ca_tbs_parse(der, len, &draft));
		fill_result(res, draft, clamped);
		goto out;
	}
	if (j->tp.executing) {
		GUARD(ca_tp_executed(&j->tp, j->d->store, &done));
		GUARD(ca_tp_check(&p->tp, &j->tp, "sign-subca",
				  ca_dir_tp_key(j->d).spki_sha256,
				  done ? NULL : j->d->store, &tbs));
		if (done) {
			GUARD(from_store(j, &tbs, a, res));
			goto out;
		}
		GUARD(ca_out_check(p->out, p->force));
	}
	GUARD(ca_dir_signer(j->d, p->pin_source));
	GUARD(ca_cert_sign(j->d->signer, &tbs, X509_get0_pubkey(j->d->cert),
			   &cert));
	GUARD(ca_issue_record(j->d->store, cert, &how, &j->tp, a,
			      p->cross_sign
				  ? "cross-certificate issued"
				  : "subordinate CA certificate issued"));
	crash_point("after-commit");
	GUARD(write_out(p, cert));
	fill_result(res, cert, clamped);
out:
	ca_store_rollback(j->d->store);
	X509_free(cert);
	X509_free(draft);
	free(der);
	return rc;
}

int ca_subca_sign(const char *dir, const struct ca_subca_params *p,
		  struct ca_subca_result *res)
{
	struct job j = {.p = p, .spec.pathlen = -1};
	ca_audit *a = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = ca_dir_open(dir, &j.d);
	if (rc < 0)
		return rc;
	a = ca_audit_new("sign-subca");
	if (p->csr)
		ca_audit_input_file(a, "csr", p->csr);
	if (p->cross_sign)
		ca_audit_input_file(a, "cross-sign", p->cross_sign);
	rc = run(&j, a, res);
	rc = ca_refusal(j.d->store, a, rc);
	ca_audit_free(a);
	ca_tp_free(&j.tp);
	ca_csr_der_clear(&j.csr);
	X509_free(j.cross);
	X509_NAME_free(j.spec.subject);
	ASN1_INTEGER_free(j.spec.serial);
	ca_token_free(j.tok);
	free(j.pinned);
	ca_dir_free(j.d);
	return rc;
}
