#include "x509/crl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/hex.h"
#include "base/time.h"
#include "x509/der.h"

static const struct {
	int code;
	const char *name;
} reasons[] = {
    {CA_REASON_UNSPECIFIED, "unspecified"},
    {CA_REASON_KEY_COMPROMISE, "keyCompromise"},
    {CA_REASON_CA_COMPROMISE, "cACompromise"},
    {CA_REASON_AFFILIATION_CHANGED, "affiliationChanged"},
    {CA_REASON_SUPERSEDED, "superseded"},
    {CA_REASON_CESSATION, "cessationOfOperation"},
    {CA_REASON_CERTIFICATE_HOLD, "certificateHold"},
    {CA_REASON_REMOVE_FROM_CRL, "removeFromCRL"},
    {CA_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn"},
    {CA_REASON_AA_COMPROMISE, "aACompromise"},
};

int ca_crl_reason_parse(const char *name, int *code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (name != NULL && strcasecmp(name, reasons[i].name) == 0) {
			*code = reasons[i].code;
			return CA_OK;
		}
	}
	return ca_err(CA_EUSAGE,
		      "unknown revocation reason '%s' (RFC 5280: unspecified, "
		      "keyCompromise, cACompromise, affiliationChanged, "
		      "superseded, cessationOfOperation, certificateHold, "
		      "removeFromCRL, privilegeWithdrawn, aACompromise)",
		      name ? name : "");
}

const char *ca_crl_reason_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return "unknown";
}

int ca_crl_reason_listable(int code)
{
	return code >= 0 && code <= 10 && code != 7 &&
	       code != CA_REASON_REMOVE_FROM_CRL;
}

int ca_crl_serial_from_hex(const char *hex, struct ca_crl_entry *e)
{
	size_t n = hex ? strlen(hex) : 0;

	if (n == 0 || n % 2 != 0 || n > 2 * CA_CRL_SERIAL_MAX)
		return ca_err(CA_EPOLICY,
			      "serial '%s' in the state store is not "
			      "canonical hex of 1 to 20 octets",
			      hex ? hex : "");
	if (ca_unhex_lower(hex, n, e->serial) < 0)
		return ca_err(CA_EPOLICY,
			      "serial '%s' in the state store "
			      "is not lowercase hex",
			      hex);
	e->serial_len = n / 2;
	if (e->serial[0] == 0)
		return ca_err(CA_EPOLICY,
			      "serial '%s' in the state store has a "
			      "leading zero octet or is zero",
			      hex);
	return CA_OK;
}

static unsigned char *two(unsigned char *p, int v)
{
	*p++ = (unsigned char)('0' + v / 10);
	*p++ = (unsigned char)('0' + v % 10);
	return p;
}

int ca_crl_time_der(time_t t, unsigned char out[17], size_t *len)
{
	long days = (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
	long secs = (long)(t - (time_t)days * 86400);
	unsigned char *p = out + 2;
	int year, mon, day;

	ca_time_civil_from_days(days, &year, &mon, &day);
	if (year < 1950 || year > 9999)
		return ca_err(CA_EUSAGE, "year %d cannot be encoded in a CRL",
			      year);
	/* RFC 5280 5.1.2.4: UTCTime through 2049, GeneralizedTime after. */
	if (year < 2050) {
		out[0] = V_ASN1_UTCTIME;
		out[1] = 13;
		p = two(p, year % 100);
	} else {
		out[0] = V_ASN1_GENERALIZEDTIME;
		out[1] = 15;
		p = two(p, year / 100);
		p = two(p, year % 100);
	}
	p = two(p, mon);
	p = two(p, day);
	p = two(p, (int)(secs / 3600));
	p = two(p, (int)(secs / 60 % 60));
	p = two(p, (int)(secs % 60));
	*p++ = 'Z';
	*len = (size_t)(p - out);
	return CA_OK;
}

/* reasonCode extension (2.5.29.21), non-critical, ENUMERATED value. */
static const unsigned char reason_ext_head[] = {
    0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55,
    0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01,
};

int ca_crl_entry_der(const struct ca_crl_entry *e,
		     unsigned char out[CA_CRL_ENTRY_MAX], size_t *len)
{
	unsigned char body[CA_CRL_ENTRY_MAX];
	size_t n = 0, tl;
	int pad;

	if (e->serial_len == 0 || e->serial_len > CA_CRL_SERIAL_MAX ||
	    e->serial[0] == 0)
		return ca_err(CA_EPOLICY, "lint: CRL entry serial is zero, not "
					  "minimal or longer than 20 octets");
	/* INTEGER: a leading zero octet keeps the value positive. */
	pad = (e->serial[0] & 0x80) != 0;
	if (e->serial_len + (size_t)pad > CA_CRL_SERIAL_MAX)
		return ca_err(CA_EPOLICY,
			      "lint: CRL entry serial needs more than "
			      "20 octets");
	body[n++] = V_ASN1_INTEGER;
	body[n++] = (unsigned char)(e->serial_len + (size_t)pad);
	if (pad)
		body[n++] = 0;
	memcpy(body + n, e->serial, e->serial_len);
	n += e->serial_len;
	if (ca_crl_time_der(e->revoked_at, body + n, &tl) < 0)
		return ca_err(CA_EPOLICY,
			      "lint: CRL entry revocation date cannot "
			      "be encoded");
	n += tl;
	if (e->reason != CA_REASON_UNSPECIFIED) {
		/* RFC 5280 5.3.1: omit the extension rather than encode 0. */
		if (!ca_crl_reason_listable(e->reason))
			return ca_err(CA_EPOLICY,
				      "lint: CRL entry reason code %d "
				      "cannot be listed",
				      e->reason);
		memcpy(body + n, reason_ext_head, sizeof(reason_ext_head));
		n += sizeof(reason_ext_head);
		body[n++] = (unsigned char)e->reason;
	}
	out[0] = 0x30;
	out[1] = (unsigned char)n; /* always < 128 */
	memcpy(out + 2, body, n);
	*len = n + 2;
	return CA_OK;
}

/* A growing DER buffer; the first allocation failure sticks. */
struct dbuf {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void put(struct dbuf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_hdr(struct dbuf *b, unsigned char tag, size_t len)
{
	unsigned char h[6];

	put(b, h, ca_der_header(tag, len, h));
}

static void put_tlv(struct dbuf *b, unsigned char tag, const void *c, size_t n)
{
	put_hdr(b, tag, n);
	put(b, c, n);
}

static void put_ext(struct dbuf *b, const unsigned char *oid, size_t oid_len,
		    int critical, const struct dbuf *value)
{
	static const unsigned char crit[] = {0x01, 0x01, 0xff};
	unsigned char h[6];
	size_t hl = ca_der_header(0x04, value->len, h);

	put_hdr(b, 0x30,
		oid_len + (critical ? sizeof(crit) : 0) + hl + value->len);
	put(b, oid, oid_len);
	if (critical)
		put(b, crit, sizeof(crit));
	put(b, h, hl);
	put(b, value->p, value->len);
}

static void put_uint(struct dbuf *b, uint64_t v)
{
	unsigned char c[9];
	size_t n = 0, i;
	int started = 0;

	for (i = 0; i < 8; i++) {
		unsigned char byte = (unsigned char)(v >> (56 - 8 * i));

		if (!started && byte == 0 && i < 7)
			continue;
		if (!started && (byte & 0x80))
			c[n++] = 0;
		started = 1;
		c[n++] = byte;
	}
	put_tlv(b, V_ASN1_INTEGER, c, n);
}

static const unsigned char oid_aki[] = {0x06, 0x03, 0x55, 0x1d, 0x23};
static const unsigned char oid_crl_number[] = {0x06, 0x03, 0x55, 0x1d, 0x14};
static const unsigned char oid_idp[] = {0x06, 0x03, 0x55, 0x1d, 0x1c};

/* crlExtensions [0] EXPLICIT Extensions: AKI, cRLNumber, IDP. */
static int encode_suffix(const struct ca_crl_spec *s, struct dbuf *out)
{
	struct dbuf aki = {0}, num = {0}, gn = {0}, idp = {0}, exts = {0};
	size_t i;
	int rc = CA_OK;

	put_hdr(&aki, 0x30, 2 + s->aki_len); /* keyid <= 64 octets */
	put_tlv(&aki, 0x80, s->aki, s->aki_len);
	put_ext(&exts, oid_aki, sizeof(oid_aki), 0, &aki);
	put_uint(&num, s->number);
	put_ext(&exts, oid_crl_number, sizeof(oid_crl_number), 0, &num);
	if (s->idp_urls != NULL && s->n_idp_urls > 0) {
		/* IssuingDistributionPoint { distributionPoint [0] {
		 * fullName [0] { uniformResourceIdentifier [6] ... } } } */
		for (i = 0; i < s->n_idp_urls; i++)
			put_tlv(&gn, 0x86, s->idp_urls[i],
				strlen(s->idp_urls[i]));
		{
			unsigned char h1[6], h2[6];
			size_t l1 = ca_der_header(0xa0, gn.len, h1);
			size_t l2 = ca_der_header(0xa0, l1 + gn.len, h2);

			put_hdr(&idp, 0x30, l2 + l1 + gn.len);
			put(&idp, h2, l2);
			put(&idp, h1, l1);
			put(&idp, gn.p, gn.len);
		}
		/* RFC 5280 5.2.5: the IDP is critical. */
		put_ext(&exts, oid_idp, sizeof(oid_idp), 1, &idp);
	}
	{
		unsigned char h[6];
		size_t hl = ca_der_header(0x30, exts.len, h);

		put_hdr(out, 0xa0, hl + exts.len);
		put(out, h, hl);
		put(out, exts.p, exts.len);
	}
	if (aki.failed || num.failed || gn.failed || idp.failed ||
	    exts.failed || out->failed)
		rc = ca_err(CA_EIO, "out of memory");
	free(aki.p);
	free(num.p);
	free(gn.p);
	free(idp.p);
	free(exts.p);
	return rc;
}

int ca_crl_frame_new(const struct ca_crl_spec *s, size_t n_entries,
		     size_t entries_len, struct ca_crl_frame *f)
{
	static const unsigned char version_v2[] = {0x02, 0x01, 0x01};
	struct dbuf head = {0}, pre = {0}, suf = {0};
	unsigned char tu[17], nu[17], eh[6];
	size_t tul, nul, ehl = 0, body;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((n_entries == 0) != (entries_len == 0))
		return ca_err(CA_EIO, "CRL entries and their length disagree");
	GUARD(ca_crl_time_der(s->this_update, tu, &tul));
	GUARD(ca_crl_time_der(s->next_update, nu, &nul));
	GUARD(encode_suffix(s, &suf));
	/* RFC 5280 5.1.2.6: no entries, no revokedCertificates field. */
	if (n_entries > 0)
		ehl = ca_der_header(0x30, entries_len, eh);
	put(&head, version_v2, sizeof(version_v2));
	put(&head, s->algid, s->algid_len);
	put(&head, s->issuer, s->issuer_len);
	put(&head, tu, tul);
	put(&head, nu, nul);
	put(&head, eh, ehl);
	body = head.len + entries_len + suf.len;
	if (body > 0xfffffff0u) {
		rc = ca_err(CA_EPOLICY, "the CRL would be larger than 4 GiB");
		goto out;
	}
	put_hdr(&pre, 0x30, body);
	put(&pre, head.p, head.len);
	if (head.failed || pre.failed) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	f->prefix = pre.p;
	f->prefix_len = pre.len;
	f->suffix = suf.p;
	f->suffix_len = suf.len;
	f->tbs_len = pre.len + entries_len + suf.len;
	pre.p = suf.p = NULL;
out:
	free(head.p);
	free(pre.p);
	free(suf.p);
	return rc;
}

void ca_crl_frame_free(struct ca_crl_frame *f)
{
	free(f->prefix);
	free(f->suffix);
	memset(f, 0, sizeof(*f));
}

int ca_crl_issuer_keyid(X509 *issuer, unsigned char out[64], size_t *len)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	unsigned int n = 0;

	if (ski != NULL) {
		if (ASN1_STRING_length(ski) < 1 || ASN1_STRING_length(ski) > 64)
			return ca_err(CA_EPOLICY,
				      "the CA certificate's subject key "
				      "identifier has a bad length");
		memcpy(out, ASN1_STRING_get0_data(ski),
		       (size_t)ASN1_STRING_length(ski));
		*len = (size_t)ASN1_STRING_length(ski);
		return CA_OK;
	}
	if (X509_pubkey_digest(issuer, EVP_sha1(), out, &n) != 1) {
		ERR_clear_error();
		return ca_err(CA_EIO, "cannot compute the CA's key identifier");
	}
	*len = n;
	return CA_OK;
}
