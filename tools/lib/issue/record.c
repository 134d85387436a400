#include "issue/record.h"

#include <stdlib.h>
#include <string.h>

#include "input/name.h"
#include "x509/cert.h"
#include "x509/serial.h"
#include "x509/spki.h"

int ca_cert_info(X509 *x, struct ca_cert_info *ci)
{
	int rc;

	memset(ci, 0, sizeof(*ci));
	GUARD(ca_serial_hex(X509_get0_serialNumber(x), ci->serial,
			    sizeof(ci->serial)));
	GUARD(ca_spki_der_sha256_hex(X509_get_X509_PUBKEY(x), ci->spki_sha256));
	GUARD(ca_asn1_time(X509_get0_notBefore(x), &ci->not_before));
	GUARD(ca_asn1_time(X509_get0_notAfter(x), &ci->not_after));
	GUARD(ca_x509_der(x, &ci->der, &ci->der_len));
	ci->subject = ca_name_oneline(X509_get_subject_name(x));
	ci->cn = ca_name_cn(X509_get_subject_name(x));
	if (ci->subject == NULL)
		rc = ca_err(CA_EIO, "out of memory");
out:
	if (rc < 0)
		ca_cert_info_free(ci);
	return rc;
}

void ca_cert_info_free(struct ca_cert_info *ci)
{
	free(ci->subject);
	free(ci->cn);
	OPENSSL_free(ci->der);
	memset(ci, 0, sizeof(*ci));
}

int ca_issue_record(ca_store *st, X509 *cert, const struct ca_issued *how,
		    const struct ca_tp *tp, ca_audit *a, const char *detail)
{
	struct ca_cert_info ci;
	struct ca_cert_row row;
	int rc;

	rc = ca_cert_info(cert, &ci);
	if (rc < 0)
		return rc;
	memset(&row, 0, sizeof(row));
	row.serial = ci.serial;
	row.subject = ci.subject;
	row.cn = ci.cn;
	row.spki_sha256 = ci.spki_sha256;
	row.not_before = ci.not_before;
	row.not_after = ci.not_after;
	row.kind = how->kind;
	row.profile = how->profile;
	row.partition = how->partition;
	row.request_key = how->request_key;
	row.notify = how->notify;
	row.der = ci.der;
	row.der_len = ci.der_len;
	ca_audit_output_der(a, "certificate", ci.der, ci.der_len);
	ca_audit_set(a, "serial", ci.serial);
	ca_audit_set(a, "subject", ci.subject);
	GUARD(ca_store_begin(st));
	GUARD(ca_store_cert_add(st, &row));
	if (tp != NULL)
		GUARD(ca_tp_record(tp, st, a));
	GUARD(ca_audit_append(st, a, "ok", detail));
	GUARD(ca_store_commit(st));
out:
	if (rc < 0)
		ca_store_rollback(st);
	ca_cert_info_free(&ci);
	return rc;
}

int ca_refusal(ca_store *st, ca_audit *a, int rc)
{
	char msg[1024];

	if (rc >= 0 || st == NULL || a == NULL)
		return rc;
	snprintf(msg, sizeof(msg), "%s", ca_errmsg());
	if (ca_audit_record(st, a, rc == CA_EPOLICY ? "refused" : "error",
			    msg) < 0)
		return ca_err(rc,
			      "%.700s (and the audit log could not record "
			      "it: %.200s)",
			      msg, ca_errmsg());
	return ca_err(rc, "%s", msg);
}
