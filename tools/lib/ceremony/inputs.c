/* The files a ceremony file names (quorum file, CSR, certificates), each
 * checked against what the reviewed file says about it. */
#include "ceremony/internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "base/hex.h"
#include "input/csr.h"
#include "input/csrder.h"
#include "input/name.h"
#include "input/quorum.h"
#include "lint/csr.h"
#include "x509/serial.h"

/* The file at p (relative to the ceremony file), recorded as an input;
 * its SHA-256 compared with want when given. */
static int input_file(struct ca_cer *c, const char *what, const char *p,
		      const char *want, char **path, char hex[65])
{
	int rc;

	*path = ca_spec_path(c->spec, p);
	if (*path == NULL)
		return ca_err(CA_EIO, "out of memory");
	if (access(*path, R_OK) != 0)
		return ca_err(CA_EIO,
			      "%s %s cannot be read: put it next to the "
			      "ceremony file (or give its full path)",
			      what, *path);
	GUARD(ca_record_file(c, "input", *path, hex));
	if (want != NULL)
		rc = ca_check(c, CRYPTO_memcmp(hex, want, 64) == 0, what,
			      "%s: SHA-256 %s, the ceremony file says %s",
			      *path, hex, want);
out:
	return rc;
}

static void say_quorum(struct ca_cer *c, const struct ca_quorum *q)
{
	const struct ca_approver *a;
	char fp[65];
	int i;

	ca_say(c, "Quorum: %d of %d approvers must approve each action",
	       q->threshold, q->n);
	for (i = 0; i < q->n; i++) {
		a = &q->approvers[i];
		ca_hex(a->spki_sha256, 32, fp);
		ca_say(c, "  %-12s %s, key SHA-256 %s", a->id, a->name, fp);
	}
}

int ca_quorum_show(struct ca_cer *c, const char *path)
{
	struct ca_quorum *q = NULL;
	char hex[65];
	int rc;

	GUARD(ca_record_file(c, "input", path, hex));
	GUARD(ca_quorum_load(path, &q));
	say_quorum(c, q);
out:
	ca_quorum_free(q);
	return rc;
}

static int quorum(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	struct ca_quorum *q = NULL;
	const struct ca_approver *a;
	char hex[65], *path = NULL;
	size_t i;
	int rc, n;

	GUARD(input_file(c, "the quorum file is the reviewed one",
			 s->quorum_file, s->quorum_sha256, &path, hex));
	GUARD(ca_quorum_load(path, &q));
	say_quorum(c, q);
	n = 0;
	for (i = 0; i < s->approvers.n; i++) {
		a = ca_quorum_find(q, s->approvers.v[i]);
		GUARD(ca_check(c, a != NULL,
			       "an expected approver is in the quorum",
			       "'%s' is not in %s", s->approvers.v[i], path));
		n++;
	}
	rc = ca_check(c, n >= q->threshold,
		      "the approvers expected can meet the threshold",
		      "%d expected, %d needed", n, q->threshold);
out:
	ca_quorum_free(q);
	free(path);
	return rc;
}

static int csr(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	struct ca_csr_der r;
	char hex[65], spki[65], *path = NULL, *subject = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	GUARD(input_file(c, "the CSR is the reviewed one", s->csr_file,
			 s->csr_sha256, &path, hex));
	GUARD(ca_csr_load(path, &r));
	/* What hsmca-sign-subca checks: the key policy, the signature. */
	rc = ca_csr_check(&r, path);
	GUARD(ca_check(c, rc == CA_OK,
		       "the CSR's key is accepted and its signature verifies "
		       "(proof of possession)",
		       "%s", ca_errmsg()));
	ca_spki_sha256_hex(X509_REQ_get_X509_PUBKEY(r.req), spki);
	subject = ca_name_oneline(X509_REQ_get_subject_name(r.req));
	ca_say(c, "CSR subject:         %s", subject ? subject : "?");
	ca_say(c, "CSR key SPKI SHA-256: %s", spki);
	ca_val_set(c, "csr_subject", subject);
	rc = ca_check(c, strcmp(spki, s->csr_spki) == 0,
		      "the CSR's key is the one announced (csr.spki_sha256)",
		      "the CSR holds %s", spki);
out:
	free(subject);
	free(path);
	ca_csr_der_clear(&r);
	return rc;
}

/* The certificate to cross-certify or to revoke: a CA certificate. */
static int ca_cert_input(struct ca_cer *c, const char *what, const char *file,
			 const char *sha256, int revoke)
{
	X509 *x = NULL;
	char hex[65], spki[65], serial[80], *path = NULL, *subject = NULL,
					    *issuer = NULL;
	int rc;

	GUARD(input_file(c, what, file, sha256, &path, hex));
	GUARD(ca_cert_load(path, &x));
	GUARD(ca_serial_hex(X509_get0_serialNumber(x), serial, sizeof(serial)));
	subject = ca_name_oneline(X509_get_subject_name(x));
	issuer = ca_name_oneline(X509_get_issuer_name(x));
	ca_spki_sha256_hex(X509_get_X509_PUBKEY(x), spki);
	ca_say(c, "Certificate:  %s", path);
	ca_say(c, "  subject     %s", subject ? subject : "?");
	ca_say(c, "  issuer      %s", issuer ? issuer : "?");
	ca_say(c, "  serial      %s", serial);
	ca_say(c, "  SPKI SHA-256 %s", spki);
	GUARD(ca_check(c, X509_check_ca(x) > 0, "it is a CA certificate", "%s",
		       path));
	if (revoke) {
		X509_NAME *want = NULL;

		GUARD(ca_name_parse(c->spec->ca_subject, &want));
		rc = ca_check(
		    c, X509_NAME_cmp(want, X509_get_issuer_name(x)) == 0,
		    "it was issued by the CA named in the ceremony file",
		    "issuer %s", issuer ? issuer : "?");
		X509_NAME_free(want);
		if (rc < 0)
			goto out;
		/* At a rehearsal a stand-in issued by the stand-in CA is
		 * revoked (rehearse.c). */
		if (!c->rehearse)
			ca_val_set(c, "revoke_serial", serial);
		else
			ca_say(c,
			       "  (rehearsal: the stand-in of it issued by the "
			       "stand-in CA, serial %s, is revoked)",
			       ca_val(c, "revoke_serial")
				   ? ca_val(c, "revoke_serial")
				   : "?");
		ca_val_set(c, "revoke_subject", subject);
	} else {
		ca_val_set(c, "cross_subject", subject);
		ca_val_set(c, "cross_spki", spki);
	}
out:
	free(issuer);
	free(subject);
	free(path);
	X509_free(x);
	return rc;
}

int ca_inputs_check(struct ca_cer *c)
{
	int rc = CA_OK;

	if (ca_spec_has_quorum(c->spec))
		GUARD(quorum(c));
	GUARD(ca_input_check(c));
out:
	return rc;
}

int ca_input_check(struct ca_cer *c)
{
	const struct ca_spec *s = c->spec;
	int rc = CA_OK;

	switch (s->type) {
	case CA_CER_SUBCA:
		GUARD(csr(c));
		break;
	case CA_CER_CROSS:
		GUARD(ca_cert_input(c,
				    "the certificate to cross-certify is the "
				    "reviewed one",
				    s->cross_file, s->cross_sha256, 0));
		break;
	case CA_CER_REVOKE:
		GUARD(ca_cert_input(c,
				    "the certificate to revoke is the reviewed "
				    "one",
				    s->revoke_file, s->revoke_sha256, 1));
		break;
	default:
		break;
	}
out:
	return rc;
}
