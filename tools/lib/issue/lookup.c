#include "issue/lookup.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "base/sha256.h"
#include "base/time.h"
#include "issue/ca.h"
#include "store/audit.h"
#include "store/lookup.h"
#include "x509/crl.h"
#include "x509/pem.h"
#include "x509/san.h"
#include "x509/serial.h"

static const char *status_of(const struct ca_cert_record *rec, time_t now)
{
	if (rec->revoked)
		return rec->reason == CA_REASON_CERTIFICATE_HOLD ? "on hold"
								 : "revoked";
	if (now < rec->not_before)
		return "not yet valid";
	if (now > rec->not_after)
		return "expired";
	if (rec->superseded_by != NULL)
		return "superseded";
	return "valid";
}

static json_t *time_json(time_t t)
{
	char buf[32];

	ca_time_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

/* A record as JSON, with its SANs and the audit entries naming it. */
static int record_json(ca_store *st, const struct ca_cert_record *rec,
		       json_t **out)
{
	json_t *o = NULL, *audit = json_array(), *sans = NULL;
	char sha[65];
	int rc, failed = 0; /* a value could not be added */

	*out = NULL;
	if (audit == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (ca_der_sans_json(rec->der, rec->der_len, &sans) < 0) {
		rc = ca_err(CA_EIO, "the stored certificate %s does not parse",
			    rec->serial);
		goto out;
	}
	ca_sha256_fingerprint(rec->der, rec->der_len, sha);
	o = json_pack(
	    "{s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:o, s:o*, s:s?, s:s, s:s?}",
	    "serial", rec->serial, "subject", rec->subject, "kind", rec->kind,
	    "profile", rec->profile, "status", status_of(rec, ca_now()),
	    "not_before", time_json(rec->not_before), "not_after",
	    time_json(rec->not_after), "issued_at", time_json(rec->issued_at),
	    "sans", sans, "spki_sha256", rec->spki_sha256, "sha256", sha,
	    "superseded_by", rec->superseded_by);
	if (o == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	failed |= json_object_set_new(
	    o, "partition",
	    rec->partition >= 0 ? json_integer(rec->partition) : json_null());
	if (rec->superseded_by == NULL)
		failed |= json_object_set_new(o, "superseded_by", json_null());
	failed |= json_object_set_new(
	    o, "revoked",
	    rec->revoked
		? json_pack("{s:o, s:s}", "date", time_json(rec->revoked_at),
			    "reason", ca_crl_reason_name(rec->reason))
		: json_null());
	GUARD(ca_audit_entries_for_serial(st, rec->serial, audit));
	failed |= json_object_set(o, "audit", audit);
	if (failed) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(audit);
	return rc;
}

/* The CA directory and the certificate it issued with serial. */
static int open_issued(const char *dir, const char *serial, int certs,
		       struct ca_dir **d, struct ca_cert_record *rec)
{
	char canon[48];
	int rc, found = 0;

	GUARD(ca_serial_canonical(serial, canon, sizeof(canon)));
	GUARD(certs ? ca_dir_open(dir, d) : ca_dir_open_report(dir, d));
	GUARD(ca_store_cert_lookup((*d)->store, canon, rec, &found));
	if (!found)
		rc = ca_err(CA_EPOLICY, "serial %s was never issued by this CA",
			    canon);
out:
	return rc;
}

int ca_lookup_serial(const char *dir, const char *serial, json_t **out)
{
	struct ca_cert_record rec;
	struct ca_dir *d = NULL;
	int rc;

	*out = NULL;
	memset(&rec, 0, sizeof(rec));
	GUARD(open_issued(dir, serial, 0, &d, &rec));
	GUARD(record_json(d->store, &rec, out));
out:
	ca_cert_record_free(&rec);
	ca_dir_free(d);
	return rc;
}

struct named {
	ca_store *st;
	const char *name;
	json_t *list;
};

/* A candidate from the store: kept when the name is really its CN or one
 * of its SANs (the store's match is on bytes). */
static int keep_named(const struct ca_cert_record *rec, void *ctx)
{
	struct named *n = ctx;
	const unsigned char *p = rec->der;
	X509 *x = d2i_X509(NULL, &p, (long)rec->der_len);
	json_t *o = NULL;
	int rc = CA_OK, has;

	if (x == NULL)
		return ca_err(CA_EIO,
			      "the stored certificate %s does not parse",
			      rec->serial);
	has = ca_cert_has_name(x, n->name);
	X509_free(x);
	if (!has)
		return CA_OK;
	rc = record_json(n->st, rec, &o);
	if (rc == CA_OK && json_array_append_new(n->list, o) != 0)
		rc = ca_err(CA_EIO, "out of memory");
	return rc;
}

int ca_lookup_name(const char *dir, const char *name, json_t **out)
{
	struct ca_dir *d = NULL;
	struct named n = {NULL, name, json_array()};
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
	int rc;

	*out = NULL;
	if (n.list == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_dir_open(dir, &d));
	n.st = d->store;
	GUARD(ca_store_certs_named(
	    d->store, name, ip ? ASN1_STRING_get0_data(ip) : NULL,
	    ip ? (size_t)ASN1_STRING_length(ip) : 0, keep_named, &n));
	if (json_array_size(n.list) == 0) {
		rc = ca_err(CA_EPOLICY,
			    "no certificate of this CA has the name %.200s "
			    "(as its CN or a SAN)",
			    name);
		goto out;
	}
	*out = json_pack("{s:s, s:O}", "name", name, "certificates", n.list);
	if (*out == NULL)
		rc = ca_err(CA_EIO, "out of memory");
out:
	ERR_clear_error();
	ASN1_OCTET_STRING_free(ip);
	json_decref(n.list);
	ca_dir_free(d);
	return rc;
}

/* Append PEM text to the buffer *all. */
static int append(char **all, size_t *len, const char *pem, size_t n)
{
	char *next = realloc(*all, *len + n + 1);

	if (next == NULL)
		return ca_err(CA_EIO, "out of memory");
	memcpy(next + *len, pem, n);
	*len += n;
	next[*len] = '\0';
	*all = next;
	return CA_OK;
}

static int append_x509(char **all, size_t *len, X509 *x)
{
	char *pem = NULL;
	size_t n = 0;
	int rc = ca_x509_pem(x, &pem, &n);

	if (rc < 0)
		return ca_err(CA_EIO,
			      "cannot encode a certificate of the chain");
	rc = append(all, len, pem, n);
	free(pem);
	return rc;
}

int ca_lookup_export(const char *dir, const char *serial, int chain, char **pem,
		     size_t *len)
{
	struct ca_cert_record rec;
	struct ca_dir *d = NULL;
	unsigned char *ca_der = NULL;
	char *one = NULL;
	size_t one_len = 0;
	int rc, i, ca_len;

	*pem = NULL;
	*len = 0;
	memset(&rec, 0, sizeof(rec));
	GUARD(open_issued(dir, serial, 1, &d, &rec));
	GUARD(ca_der_pem("CERTIFICATE", rec.der, rec.der_len, &one, &one_len));
	GUARD(append(pem, len, one, one_len));
	if (!chain)
		goto out;
	/* This CA's certificate, unless that is the one exported (a root's
	 * own), then its issuers. */
	ca_len = i2d_X509(d->cert, &ca_der);
	if (ca_len <= 0) {
		rc = ca_err(CA_EIO, "cannot encode %s/ca.crt", dir);
		goto out;
	}
	if ((size_t)ca_len != rec.der_len ||
	    memcmp(ca_der, rec.der, rec.der_len) != 0)
		GUARD(append_x509(pem, len, d->cert));
	for (i = 0; i < sk_X509_num(d->chain); i++)
		GUARD(append_x509(pem, len, sk_X509_value(d->chain, i)));
out:
	if (rc < 0) {
		free(*pem);
		*pem = NULL;
		*len = 0;
	}
	OPENSSL_free(ca_der);
	free(one);
	ca_cert_record_free(&rec);
	ca_dir_free(d);
	return rc;
}
