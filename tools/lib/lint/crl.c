#include "lint/crl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/time.h"
#include "x509/cert.h"
#include "x509/der.h"
#include "x509/tbsmark.h"

#define LINT(...) ca_err(CA_EPOLICY, "lint: CRL " __VA_ARGS__)

/* A DER TLV with minimal length octets (X.690 10.1). */
static int der_next(const unsigned char **p, const unsigned char *end,
		    unsigned char *tag, const unsigned char **c, size_t *len)
{
	const unsigned char *q = *p;
	size_t n = 0, i, k;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if (*q < 0x80) {
		n = *q++;
	} else {
		k = *q++ & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k || *q == 0)
			return -1;
		for (i = 0; i < k; i++)
			n = n << 8 | *q++;
		if (n < 0x80)
			return -1;
	}
	if ((size_t)(end - q) < n)
		return -1;
	*c = q;
	*len = n;
	*p = q + n;
	return 0;
}

static int digits(const unsigned char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* A DER Time as RFC 5280 4.1.2.5 / 5.1.2.4 requires it: UTCTime for
 * 1950-2049, GeneralizedTime from 2050, seconds, Z. */
/* A DER Time as RFC 5280 4.1.2.5 / 5.1.2.4 requires it: UTCTime for
 * 1950-2049, GeneralizedTime from 2050, seconds, Z. */
static int time_check(unsigned char tag, const unsigned char *c, size_t len,
		      time_t *out)
{
	int y, mo, d, h, mi, s;
	const unsigned char *r = c;

	if (tag == V_ASN1_UTCTIME && len == 13) {
		if (digits(r, 2, &y) < 0)
			return -1;
		y += y < 50 ? 2000 : 1900;
		r += 2;
	} else if (tag == V_ASN1_GENERALIZEDTIME && len == 15) {
		if (digits(r, 4, &y) < 0 || y < 2050)
			return -1;
		r += 4;
	} else {
		return -1;
	}
	if (digits(r, 2, &mo) < 0 || digits(r + 2, 2, &d) < 0 ||
	    digits(r + 4, 2, &h) < 0 || digits(r + 6, 2, &mi) < 0 ||
	    digits(r + 8, 2, &s) < 0 || r[10] != 'Z')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > ca_time_days_in_month(y, mo) ||
	    h > 23 || mi > 59 || s > 59)
		return -1;
	*out = (time_t)ca_time_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	       mi * 60 + s;
	return 0;
}

void ca_crl_lint_init(struct ca_crl_lint *l, X509 *issuer,
		      const struct ca_crl_spec *spec)
{
	memset(l, 0, sizeof(*l));
	l->issuer = issuer;
	l->spec = spec;
}

int ca_crl_lint_open(struct ca_crl_lint *l, X509 *issuer,
		     const struct ca_crl_spec *spec)
{
	ca_crl_lint_init(l, issuer, spec);
	return ca_tbs_body_mac_new(&l->body);
}

void ca_crl_lint_clear(struct ca_crl_lint *l)
{
	ca_tbs_body_mac_free(l->body);
	l->body = NULL;
}

static int serial_cmp(const unsigned char *a, size_t al, const unsigned char *b,
		      size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = memcmp(a, b, n);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

static int lint_entry_reason(const unsigned char *c, size_t len)
{
	static const unsigned char head[] = {0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
					     0x15, 0x04, 0x03, 0x0a, 0x01};

	/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension: we only ever
	 * sign a single, non-critical reasonCode. */
	if (len != sizeof(head) + 1 || memcmp(c, head, sizeof(head)) != 0)
		return ca_err(CA_EPOLICY,
			      "an extension other than a non-critical "
			      "reasonCode");
	if (c[sizeof(head)] == CA_REASON_UNSPECIFIED)
		return ca_err(CA_EPOLICY,
			      "reasonCode unspecified is encoded "
			      "(RFC 5280 5.3.1: omit the extension)");
	if (!ca_crl_reason_listable(c[sizeof(head)]))
		return ca_err(CA_EPOLICY,
			      "reasonCode %d cannot appear in a CRL",
			      c[sizeof(head)]);
	return CA_OK;
}

int ca_crl_lint_entry(struct ca_crl_lint *l, const unsigned char *der,
		      size_t len)
{
	const unsigned char *p = der, *end = der + len, *c, *e, *ee, *mag;
	unsigned char tag;
	size_t n, magl;
	time_t when;
	int rc;

	l->n++;
	if (der_next(&p, end, &tag, &c, &n) < 0 || tag != 0x30 || p != end)
		return LINT("entry %zu is not one DER SEQUENCE", l->n);
	e = c;
	ee = c + n;
	if (der_next(&e, ee, &tag, &c, &n) < 0 || tag != V_ASN1_INTEGER ||
	    n == 0)
		return LINT("entry %zu has no serial number", l->n);
	if (n > CA_CRL_SERIAL_MAX)
		return LINT("entry %zu: serial longer than 20 octets", l->n);
	if (c[0] & 0x80)
		return LINT("entry %zu: negative serial", l->n);
	if (n > 1 && c[0] == 0 && !(c[1] & 0x80))
		return LINT("entry %zu: serial is not minimally encoded", l->n);
	mag = c;
	magl = n;
	if (magl > 1 && mag[0] == 0) {
		mag++;
		magl--;
	}
	if (magl == 1 && mag[0] == 0)
		return LINT("entry %zu: serial is zero", l->n);
	if (der_next(&e, ee, &tag, &c, &n) < 0 ||
	    time_check(tag, c, n, &when) < 0)
		return LINT(
		    "entry %zu: revocationDate is not a valid RFC 5280 Time",
		    l->n);
	if (l->spec != NULL && when > l->spec->this_update)
		return LINT("entry %zu: revocationDate is after thisUpdate",
			    l->n);
	if (e != ee) {
		if (der_next(&e, ee, &tag, &c, &n) < 0 || tag != 0x30 ||
		    e != ee)
			return LINT("entry %zu: trailing data after the "
				    "revocationDate",
				    l->n);
		rc = lint_entry_reason(c, n);
		if (rc < 0)
			return ca_err_ctx(rc, "lint: CRL entry %zu", l->n);
	}
	if (l->n > 1 && serial_cmp(l->prev, l->prev_len, mag, magl) >= 0)
		return LINT("entry %zu: serials are not in strictly increasing "
			    "order (a duplicate entry?)",
			    l->n);
	memcpy(l->prev, mag, magl);
	l->prev_len = magl;
	if (l->body == NULL)
		return CA_OK;
	l->body_len += len;
	return ca_tbs_body_mac_update(l->body, der, len);
}

/* The AlgorithmIdentifier inside the TBS (second element). */
static int tbs_fields(const unsigned char *tbs, size_t len,
		      const unsigned char **algid, size_t *algid_len,
		      const unsigned char **entries, size_t *entries_len)
{
	const unsigned char *p = tbs, *end = tbs + len, *c, *q, *qe, *start;
	unsigned char tag;
	size_t n;
	int i;

	*entries = NULL;
	*entries_len = 0;
	if (der_next(&p, end, &tag, &c, &n) < 0 || tag != 0x30 || p != end)
		return -1;
	q = c;
	qe = c + n;
	if (der_next(&q, qe, &tag, &c, &n) < 0 || tag != V_ASN1_INTEGER)
		return -1;
	start = q;
	if (der_next(&q, qe, &tag, &c, &n) < 0 || tag != 0x30)
		return -1;
	*algid = start;
	*algid_len = (size_t)(q - start);
	/* issuer, thisUpdate, nextUpdate */
	for (i = 0; i < 3; i++)
		if (der_next(&q, qe, &tag, &c, &n) < 0)
			return -1;
	if (q < qe && *q == 0x30) {
		if (der_next(&q, qe, &tag, &c, &n) < 0)
			return -1;
		*entries = c;
		*entries_len = n;
	}
	return 0;
}

static int lint_times(X509_CRL *crl, const struct ca_crl_spec *s, X509 *issuer)
{
	const ASN1_TIME *tu = X509_CRL_get0_lastUpdate(crl);
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
	time_t t_tu, t_nu, ca_nb, ca_na;

	if (tu == NULL || nu == NULL)
		return LINT(
		    "has no nextUpdate (RFC 5280 5.1.2.5: conforming CAs "
		    "include it)");
	if (ca_asn1_time(tu, &t_tu) < 0 || ca_asn1_time(nu, &t_nu) < 0 ||
	    ca_asn1_time(X509_get0_notBefore(issuer), &ca_nb) < 0 ||
	    ca_asn1_time(X509_get0_notAfter(issuer), &ca_na) < 0)
		return LINT("has a time that does not parse");
	if (t_tu != s->this_update || t_nu != s->next_update)
		return LINT("thisUpdate/nextUpdate are not the ones requested");
	if (t_tu >= t_nu)
		return LINT("thisUpdate is not before nextUpdate");
	if (t_tu < ca_nb)
		return LINT(
		    "thisUpdate is before the CA certificate's notBefore");
	if (t_nu > ca_na)
		return LINT("nextUpdate is past the CA certificate's notAfter");
	return CA_OK;
}

static int lint_aki(X509_EXTENSION *ext, X509 *issuer)
{
	unsigned char want[64];
	size_t want_len;
	AUTHORITY_KEYID *aki = X509V3_EXT_d2i(ext);
	int rc = CA_OK;

	if (aki == NULL || aki->keyid == NULL)
		rc = LINT("authorityKeyIdentifier has no keyIdentifier");
	else if (aki->issuer != NULL || aki->serial != NULL)
		rc = LINT("authorityKeyIdentifier names an issuer and serial "
			  "(keyIdentifier only)");
	else if (ca_crl_issuer_keyid(issuer, want, &want_len) < 0)
		rc = CA_EPOLICY;
	else if ((size_t)ASN1_STRING_length(aki->keyid) != want_len ||
		 memcmp(ASN1_STRING_get0_data(aki->keyid), want, want_len) != 0)
		rc = LINT("authorityKeyIdentifier is not the CA's subject key "
			  "identifier");
	AUTHORITY_KEYID_free(aki);
	return rc;
}

static int lint_number(X509_EXTENSION *ext, const struct ca_crl_spec *s)
{
	ASN1_INTEGER *num = X509V3_EXT_d2i(ext);
	uint64_t v = 0;
	int rc = CA_OK;

	if (num == NULL)
		rc = LINT("cRLNumber does not parse");
	else if (ASN1_STRING_length(num) > 20 ||
		 ASN1_STRING_type(num) == V_ASN1_NEG_INTEGER)
		rc = LINT("cRLNumber is negative or longer than 20 octets");
	else if (ASN1_INTEGER_get_uint64(&v, num) != 1 || v != s->number)
		rc = LINT("cRLNumber is not %llu",
			  (unsigned long long)s->number);
	ERR_clear_error();
	ASN1_INTEGER_free(num);
	return rc;
}

static int lint_idp(X509_EXTENSION *ext, const struct ca_crl_spec *s)
{
	ISSUING_DIST_POINT *idp = X509V3_EXT_d2i(ext);
	GENERAL_NAMES *names;
	size_t i;
	int rc = CA_OK;

	if (idp == NULL || idp->distpoint == NULL ||
	    idp->distpoint->type != 0) {
		rc = LINT("issuingDistributionPoint has no fullName");
		goto out;
	}
	if (idp->onlyuser || idp->onlyCA || idp->onlyattr || idp->indirectCRL ||
	    idp->onlysomereasons != NULL) {
		rc = LINT("issuingDistributionPoint restricts the scope beyond "
			  "its URL");
		goto out;
	}
	names = idp->distpoint->name.fullname;
	if ((size_t)sk_GENERAL_NAME_num(names) != s->n_idp_urls) {
		rc = LINT("issuingDistributionPoint names %d URLs, not %zu",
			  sk_GENERAL_NAME_num(names), s->n_idp_urls);
		goto out;
	}
	for (i = 0; i < s->n_idp_urls; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, (int)i);
		const ASN1_IA5STRING *u = gn->d.uniformResourceIdentifier;

		if (gn->type != GEN_URI ||
		    (size_t)ASN1_STRING_length(u) != strlen(s->idp_urls[i]) ||
		    memcmp(ASN1_STRING_get0_data(u), s->idp_urls[i],
			   strlen(s->idp_urls[i])) != 0) {
			rc = LINT("issuingDistributionPoint does not name %s",
				  s->idp_urls[i]);
			goto out;
		}
	}
out:
	ISSUING_DIST_POINT_free(idp);
	return rc;
}

static int lint_extensions(X509_CRL *crl, const struct ca_crl_spec *s,
			   X509 *issuer)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(crl);
	int i, nid, seen_aki = 0, seen_num = 0, seen_idp = 0, rc = CA_OK;

	for (i = 0; i < sk_X509_EXTENSION_num(exts) && rc == CA_OK; i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		int crit = X509_EXTENSION_get_critical(ext);

		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		if (nid == NID_authority_key_identifier) {
			if (seen_aki++)
				return LINT("has two authorityKeyIdentifier "
					    "extensions");
			if (crit)
				return LINT(
				    "authorityKeyIdentifier is critical");
			rc = lint_aki(ext, issuer);
		} else if (nid == NID_crl_number) {
			if (seen_num++)
				return LINT("has two cRLNumber extensions");
			if (crit)
				return LINT(
				    "cRLNumber is critical (RFC 5280 5.2.3)");
			rc = lint_number(ext, s);
		} else if (nid == NID_issuing_distribution_point) {
			if (seen_idp++)
				return LINT("has two issuingDistributionPoint "
					    "extensions");
			if (!crit)
				return LINT(
				    "issuingDistributionPoint is not critical "
				    "(RFC 5280 5.2.5)");
			rc = lint_idp(ext, s);
		} else {
			return LINT("has an unexpected extension %s",
				    OBJ_nid2sn(nid));
		}
	}
	if (rc < 0)
		return rc;
	if (!seen_aki)
		return LINT("has no authorityKeyIdentifier (RFC 5280 5.2.1)");
	if (!seen_num)
		return LINT("has no cRLNumber (RFC 5280 5.2.3)");
	if ((s->n_idp_urls > 0) != (seen_idp > 0))
		return LINT("%s", seen_idp ? "has an issuingDistributionPoint "
					     "it should not have"
					   : "of a partition has no "
					     "issuingDistributionPoint");
	return CA_OK;
}

static int lint_entries(const unsigned char *c, size_t len,
			const struct ca_crl_spec *s, X509 *issuer,
			size_t n_entries)
{
	const unsigned char *p = c, *end = c + len, *start, *ec;
	struct ca_crl_lint l;
	unsigned char tag;
	size_t n;
	int rc;

	ca_crl_lint_init(&l, issuer, s);
	while (p < end) {
		start = p;
		if (der_next(&p, end, &tag, &ec, &n) < 0)
			return LINT("revokedCertificates does not parse");
		rc = ca_crl_lint_entry(&l, start, (size_t)(p - start));
		if (rc < 0)
			return rc;
	}
	if (l.n != n_entries)
		return LINT("has %zu entries, not %zu", l.n, n_entries);
	return CA_OK;
}

static int lint_parsed(X509_CRL *crl, const unsigned char *tbs, size_t len,
		       const struct ca_crl_spec *s, X509 *issuer,
		       size_t n_entries)
{
	const unsigned char *algid, *entries;
	size_t algid_len, entries_len;
	unsigned char *re = NULL, *issuer_der = NULL;
	int n, rc = CA_OK;

	/* DER that re-encodes to itself (no BER, no explicit defaults). */
	n = i2d_re_X509_CRL_tbs(crl, &re);
	if (n <= 0 || (size_t)n != len || memcmp(re, tbs, len) != 0) {
		rc = LINT(
		    "is not canonical DER: it does not re-encode to itself");
		goto out;
	}
	if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2) {
		rc = LINT("is not version 2");
		goto out;
	}
	if (tbs_fields(tbs, len, &algid, &algid_len, &entries, &entries_len) <
	    0) {
		rc = LINT("structure does not parse");
		goto out;
	}
	if (algid_len != s->algid_len ||
	    memcmp(algid, s->algid, algid_len) != 0) {
		rc = LINT("signature algorithm is not the CA key's");
		goto out;
	}
	n = i2d_X509_NAME(X509_get_subject_name(issuer), &issuer_der);
	if (n <= 0 ||
	    X509_NAME_cmp(X509_CRL_get_issuer(crl),
			  X509_get_subject_name(issuer)) != 0 ||
	    (size_t)n != s->issuer_len ||
	    memcmp(issuer_der, s->issuer, s->issuer_len) != 0) {
		rc = LINT("issuer is not the CA certificate's subject");
		goto out;
	}
	GUARD(lint_times(crl, s, issuer));
	GUARD(lint_extensions(crl, s, issuer));
	if (entries == NULL && n_entries > 0) {
		rc = LINT(
		    "has no revokedCertificates but %zu entries were expected",
		    n_entries);
		goto out;
	}
	if (entries != NULL && entries_len == 0) {
		rc = LINT("has an empty revokedCertificates (RFC 5280 5.1.2.6: "
			  "omit it)");
		goto out;
	}
	if (entries != NULL)
		GUARD(lint_entries(entries, entries_len, s, issuer, n_entries));
out:
	OPENSSL_free(re);
	OPENSSL_free(issuer_der);
	return rc;
}

int ca_crl_lint_tbs(const unsigned char *tbs, size_t len,
		    const struct ca_crl_spec *s, X509 *issuer, size_t n_entries)
{
	static const unsigned char placeholder_sig[] = {0x00};
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t der_len;
	X509_CRL *crl = NULL;
	int rc;

	/* Wrap the TBS with a placeholder signature so OpenSSL parses it. */
	GUARD(ca_signed_assemble(tbs, len, s->algid, s->algid_len,
				 placeholder_sig, sizeof(placeholder_sig), &der,
				 &der_len));
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)der_len);
	if (crl == NULL || p != der + der_len) {
		rc = LINT("to be signed does not parse");
		goto out;
	}
	rc = lint_parsed(crl, tbs, len, s, issuer, n_entries);
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	free(der);
	return rc;
}

/* A streamed TBS: its head and tail are the frame the encoder makes for
 * the spec around these entries, and that frame passes lint alone. */
static int lint_frame(const struct ca_crl_lint *l, const struct ca_tbs *t,
		      size_t n_entries, size_t body_len)
{
	struct ca_crl_frame f, sk;
	unsigned char *skel = NULL;
	int rc;

	memset(&sk, 0, sizeof(sk));
	GUARD(ca_crl_frame_new(l->spec, n_entries, body_len, &f));
	if (f.prefix_len != t->head_len || f.suffix_len != t->tail_len ||
	    memcmp(f.prefix, t->head, t->head_len) != 0 ||
	    memcmp(f.suffix, t->tail, t->tail_len) != 0) {
		rc = LINT("frame is not the one encoded for its entries");
		goto out;
	}
	GUARD(ca_crl_frame_new(l->spec, 0, 0, &sk));
	skel = malloc(sk.tbs_len);
	if (skel == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	memcpy(skel, sk.prefix, sk.prefix_len);
	memcpy(skel + sk.prefix_len, sk.suffix, sk.suffix_len);
	rc = ca_crl_lint_tbs(skel, sk.tbs_len, l->spec, l->issuer, 0);
out:
	free(skel);
	ca_crl_frame_free(&sk);
	ca_crl_frame_free(&f);
	return rc;
}

int ca_crl_lint_finish(struct ca_crl_lint *l, struct ca_tbs *t,
		       size_t n_entries)
{
	unsigned char body_mac[CA_TBS_MARK_LEN];
	const unsigned char *body;
	size_t body_len = ca_tbs_body(t, &body);
	int rc;

	if (t->kind != CA_TBS_CRL || l->body == NULL)
		return ca_err(CA_EIO, "internal error: not a CRL to lint");
	if (t->der != NULL) {
		GUARD(ca_crl_lint_tbs(t->der, t->len, l->spec, l->issuer,
				      n_entries));
		return ca_tbs_mark(t, CA_TBS_LINTED, NULL);
	}
	if (l->n != n_entries || l->body_len != body_len)
		return LINT("has %zu entries (%zu bytes), %zu (%zu bytes) "
			    "were linted",
			    n_entries, body_len, l->n, l->body_len);
	GUARD(lint_frame(l, t, n_entries, body_len));
	rc = ca_tbs_body_mac_final(l->body, body_mac);
	l->body = NULL;
	if (rc == CA_OK)
		rc = ca_tbs_mark(t, CA_TBS_LINTED, body_mac);
out:
	return rc;
}
