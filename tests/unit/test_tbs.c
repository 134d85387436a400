/* The typed TBS (x509/tbs.h): the signer (sign/tbs.h) signs only what the
 * lint step marked and, for a quorum-protected key, what the approval step
 * marked, and refuses bytes changed after either step. A software key
 * stands in for the token key: the checks happen before any signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "fixture.h"
#include "lint/crl.h"
#include "lint/lint.h"
#include "quorum/twophase.h"
#include "sign/tbs.h"
#include "tap.h"
#include "x509/algid.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/der.h"
#include "x509/profile.h"
#include "x509/tbsmark.h" /* the approval step's mark, set directly */

#define DAY 86400

static EVP_PKEY *key;
static struct ca_signer signer;
static X509 *root; /* signed in test_cert, the CRLs' issuer */

static void make_signer(void)
{
	key = fx_key("EC", "P-256", 0, 0);
	memset(&signer, 0, sizeof(signer));
	signer.pkey = key;
	signer.pub = key;
	signer.sigalg = CA_SIGALG_DEFAULT;
	signer.uri = (char *)"pkcs11:object=test";
	signer.type = EVP_PKEY_EC;
}

/* A root TBSCertificate for the signer's key (malloc'd). */
static unsigned char *root_tbs(long serial, size_t *len)
{
	struct ca_cert_spec spec;
	unsigned char *algid = NULL, *der = NULL;
	size_t algid_len = 0;
	X509 *draft = NULL;
	time_t now = time(NULL);

	memset(&spec, 0, sizeof(spec));
	spec.subject = X509_NAME_new();
	X509_NAME_add_entry_by_txt(spec.subject, "CN", MBSTRING_UTF8,
				   (const unsigned char *)"TBS Test Root", -1,
				   -1, 0);
	spec.pub = key;
	spec.serial = ASN1_INTEGER_new();
	ASN1_INTEGER_set(spec.serial, serial);
	spec.not_before = now - DAY;
	spec.not_after = now + 365 * DAY;
	spec.pathlen = -1;
	if (ca_profile_root(&spec, &draft) < 0 ||
	    ca_algid_der(key, CA_SIGALG_DEFAULT, &algid, &algid_len) < 0 ||
	    ca_x509_tbs(draft, algid, algid_len, &der, len) < 0)
		der = NULL;
	OPENSSL_free(algid);
	X509_free(draft);
	X509_NAME_free(spec.subject);
	ASN1_INTEGER_free(spec.serial);
	return der;
}

static const struct ca_lint root_lint = {CA_LINT_ROOT, NULL, NULL, NULL, 0};

static void test_cert(void)
{
	struct ca_tbs t, other;
	unsigned char *der, *der2, *out = NULL;
	size_t len = 0, len2 = 0, out_len = 0;
	X509 *x = NULL;
	int rc;

	der = root_tbs(1, &len);
	der2 = root_tbs(2, &len2);
	if (der == NULL || der2 == NULL) {
		tap_missed(11);
		free(der);
		free(der2);
		return;
	}

	/* Not linted. */
	ca_tbs_init(&t, CA_TBS_CA_CERT, der, len);
	rc = ca_cert_sign_der(&signer, &t, key, &out, &out_len);
	ok(rc == CA_EIO && out == NULL &&
	       fx_err("the CA certificate to be signed was not linted, or "
		      "changed after lint: nothing was signed"),
	   "an unlinted certificate TBS is refused");

	/* Linted: signed, verified, parsed. */
	ok(ca_lint_tbs(&t, &root_lint) == CA_OK && t.marked[CA_TBS_LINTED],
	   "the lint step marks a TBS that passes");
	rc = ca_cert_sign(&signer, &t, key, &x);
	ok(rc == CA_OK && x != NULL && X509_verify(x, key) == 1,
	   "a linted certificate TBS is signed and verifies");
	root = x;

	/* Changed after lint (one octet near the end). */
	der[len - 20] ^= 0x01;
	rc = ca_cert_sign_der(&signer, &t, key, &out, &out_len);
	ok(rc == CA_EIO && out == NULL && fx_err("changed after lint"),
	   "bytes changed after lint are refused");
	der[len - 20] ^= 0x01;

	/* Another TBS's mark does not carry over. */
	ca_tbs_init(&other, CA_TBS_CA_CERT, der2, len2);
	memcpy(other.mark, t.mark, sizeof(t.mark));
	memcpy(other.marked, t.marked, sizeof(t.marked));
	rc = ca_cert_sign_der(&signer, &other, key, &out, &out_len);
	ok(rc == CA_EIO && out == NULL && fx_err("was not linted"),
	   "a mark copied from another TBS is refused");

	/* The kind is in the mark: a CA certificate cannot pass as a leaf
	 * (which a quorum does not protect). */
	other = t;
	other.kind = CA_TBS_LEAF_CERT;
	signer.quorum = 1;
	rc = ca_cert_sign_der(&signer, &other, key, &out, &out_len);
	ok(rc == CA_EIO && out == NULL && fx_err("was not linted"),
	   "a TBS relabelled after lint is refused");

	/* Quorum-protected key: lint is not enough. */
	rc = ca_cert_sign_der(&signer, &t, key, &out, &out_len);
	ok(rc == CA_EIO && out == NULL &&
	       fx_err("the key pkcs11:object=test is protected by a quorum "
		      "and the CA certificate to be signed was not "
		      "approved, or changed after approval: nothing was "
		      "signed"),
	   "a quorum key refuses a linted TBS without approval");
	ok(ca_tbs_mark(&t, CA_TBS_APPROVED, NULL) == CA_OK,
	   "the approval step marks the TBS");
	rc = ca_cert_sign_der(&signer, &t, key, &out, &out_len);
	ok(rc == CA_OK && out != NULL, "a quorum key signs a linted, approved "
				       "TBS");
	free(out);
	out = NULL;
	signer.quorum = 0;

	/* The lint step checks the kind it is given. */
	ca_tbs_init(&other, CA_TBS_LEAF_CERT, der, len);
	ok(ca_lint_tbs(&other, &root_lint) == CA_EIO &&
	       !other.marked[CA_TBS_LINTED] &&
	       fx_err("internal error: a certificate linted as a CA "
		      "certificate"),
	   "lint refuses a TBS whose kind is not the one linted");

	/* A revocation statement is approved, never signed. */
	ca_tbs_init(&other, CA_TBS_REVOCATION, (const unsigned char *)"{}", 2);
	ok(ca_tbs_sign(&signer, &other, &out, &out_len) == CA_EIO &&
	       out == NULL &&
	       fx_err("a revocation is not signed with a CA key"),
	   "a revocation statement is not signed");
	free(der);
	free(der2);
}

/* An approval request only for a linted TBS. */
static void test_prepare(void)
{
	struct ca_twophase tp;
	struct ca_tp st;
	struct ca_tp_key k = {"00", "1", "pkcs11:object=test"};
	struct ca_tbs t;
	unsigned char *der;
	size_t len = 0;
	json_t *summary = json_object(), *params = json_object();

	memset(&tp, 0, sizeof(tp));
	memset(&st, 0, sizeof(st));
	der = root_tbs(3, &len);
	ca_tbs_init(&t, CA_TBS_CA_CERT, der, len);
	ok(der != NULL &&
	       ca_tp_prepare(&tp, &st, "init-ca", &k, &t, summary, params, 0,
			     NULL, NULL) == CA_EIO &&
	       fx_err("an approval request for a CA certificate that was "
		      "not linted"),
	   "no approval request for an unlinted TBS");
	json_decref(summary);
	json_decref(params);
	free(der);
}

/* A CRL of n entries: spec, entries, frame. */
struct crl {
	struct ca_crl_spec spec;
	unsigned char *algid, *issuer;
	unsigned char keyid[64];
	size_t keyid_len;
	unsigned char *entries;
	size_t entries_len, n;
	struct ca_crl_frame frame;
};

static int crl_make(struct crl *c, size_t n)
{
	size_t algid_len = 0, i, len;
	unsigned char der[CA_CRL_ENTRY_MAX];
	struct ca_crl_entry e;
	int issuer_len;

	memset(c, 0, sizeof(*c));
	if (root == NULL ||
	    ca_algid_der(key, CA_SIGALG_DEFAULT, &c->algid, &algid_len) < 0 ||
	    (issuer_len =
		 i2d_X509_NAME(X509_get_subject_name(root), &c->issuer)) <= 0 ||
	    ca_crl_issuer_keyid(root, c->keyid, &c->keyid_len) < 0)
		return -1;
	c->spec.algid = c->algid;
	c->spec.algid_len = algid_len;
	c->spec.issuer = c->issuer;
	c->spec.issuer_len = (size_t)issuer_len;
	c->spec.aki = c->keyid;
	c->spec.aki_len = c->keyid_len;
	c->spec.this_update = time(NULL) - 60;
	c->spec.next_update = c->spec.this_update + 7 * DAY;
	c->spec.number = 7;
	c->entries = malloc(n * CA_CRL_ENTRY_MAX);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.serial[0] = 0x10;
		e.serial[1] = (unsigned char)(i >> 8);
		e.serial[2] = (unsigned char)i;
		e.serial_len = 3;
		e.revoked_at = c->spec.this_update - 3600;
		e.reason = CA_REASON_KEY_COMPROMISE;
		if (ca_crl_entry_der(&e, der, &len) < 0)
			return -1;
		memcpy(c->entries + c->entries_len, der, len);
		c->entries_len += len;
	}
	c->n = n;
	return ca_crl_frame_new(&c->spec, n, c->entries_len, &c->frame);
}

static void crl_free(struct crl *c)
{
	OPENSSL_free(c->algid);
	OPENSSL_free(c->issuer);
	free(c->entries);
	ca_crl_frame_free(&c->frame);
}

/* Lint the entries one by one as they are "encoded", then the frame. */
static int crl_lint(struct crl *c, struct ca_crl_lint *l, struct ca_tbs *t)
{
	const unsigned char *p = c->entries, *end = c->entries + c->entries_len;
	int rc = ca_crl_lint_open(l, root, &c->spec);

	while (rc == CA_OK && p < end) {
		size_t n = (size_t)p[1] + 2; /* short-form SEQUENCE */

		rc = ca_crl_lint_entry(l, p, n);
		p += n;
	}
	ca_tbs_init_framed(t, CA_TBS_CRL, NULL, c->frame.tbs_len,
			   c->frame.prefix, c->frame.prefix_len,
			   c->frame.suffix, c->frame.suffix_len);
	return rc == CA_OK ? ca_crl_lint_finish(l, t, c->n) : rc;
}

/* Stream the body in chunks of 100 bytes; body may differ from the
 * entries linted. */
static int crl_sign(struct ca_tbs *t, const unsigned char *body, size_t len,
		    unsigned char **sig, size_t *sig_len)
{
	ca_tbs_stream *st = NULL;
	size_t off, n;
	int rc = ca_tbs_stream_new(&signer, t, &st);

	for (off = 0; rc == CA_OK && off < len; off += n) {
		n = len - off < 100 ? len - off : 100;
		rc = ca_tbs_stream_update(st, body + off, n);
	}
	if (rc == CA_OK)
		return ca_tbs_stream_final(st, sig, sig_len);
	ca_tbs_stream_free(st);
	return rc;
}

static void test_crl_stream(void)
{
	struct crl c;
	struct ca_crl_lint l;
	struct ca_tbs t;
	unsigned char *sig = NULL, *whole = NULL, *changed = NULL;
	size_t sig_len = 0;
	int rc;

	memset(&l, 0, sizeof(l));
	if (crl_make(&c, 300) < 0) {
		tap_missed(6);
		crl_free(&c);
		return;
	}
	/* Unlinted. */
	ca_tbs_init_framed(&t, CA_TBS_CRL, NULL, c.frame.tbs_len,
			   c.frame.prefix, c.frame.prefix_len, c.frame.suffix,
			   c.frame.suffix_len);
	rc = crl_sign(&t, c.entries, c.entries_len, &sig, &sig_len);
	ok(rc == CA_EIO && sig == NULL &&
	       fx_err("the CRL to be signed was not linted"),
	   "an unlinted streamed CRL is refused");

	/* Linted as streamed, signed as streamed. */
	ok(crl_lint(&c, &l, &t) == CA_OK && t.marked[CA_TBS_LINTED],
	   "a streamed CRL is marked by the lint step");
	rc = crl_sign(&t, c.entries, c.entries_len, &sig, &sig_len);
	whole = malloc(c.frame.tbs_len);
	memcpy(whole, c.frame.prefix, c.frame.prefix_len);
	memcpy(whole + c.frame.prefix_len, c.entries, c.entries_len);
	memcpy(whole + c.frame.prefix_len + c.entries_len, c.frame.suffix,
	       c.frame.suffix_len);
	ok(rc == CA_OK && sig != NULL &&
	       ca_signed_verify(key, CA_SIGALG_DEFAULT, whole, c.frame.tbs_len,
				sig, sig_len) == CA_OK,
	   "a linted streamed CRL is signed over head, entries and tail");
	free(sig);
	sig = NULL;

	/* One entry changed between lint and signature (the spool). */
	changed = malloc(c.entries_len);
	memcpy(changed, c.entries, c.entries_len);
	changed[c.entries_len / 2] ^= 0x01;
	rc = crl_sign(&t, changed, c.entries_len, &sig, &sig_len);
	ok(rc == CA_EIO && sig == NULL && fx_err("changed after lint"),
	   "an entry changed after lint is refused at the end of the stream");

	/* Fewer bytes streamed than linted. */
	rc = crl_sign(&t, c.entries, c.entries_len - 1, &sig, &sig_len);
	ok(rc == CA_EIO && sig == NULL && fx_err("not the"),
	   "a stream shorter than the CRL linted is refused");

	/* The same CRL in memory: the mark holds for its bytes. */
	t.der = whole;
	ok(ca_tbs_marked(&t, CA_TBS_LINTED, NULL) == 0 &&
	       ca_tbs_sign(&signer, &t, &sig, &sig_len) == CA_OK,
	   "the streamed CRL's mark holds for the same bytes in memory");
	free(sig);
	ca_crl_lint_clear(&l);
	free(whole);
	free(changed);
	crl_free(&c);
}

/* The bad-argument block: a malformed TBS. */
static void test_bad(void)
{
	static const unsigned char d[4] = {1, 2, 3, 4};
	struct ca_tbs t;

	ca_tbs_init_framed(&t, CA_TBS_CRL, d, 2, d, 2, d, 2);
	ok(ca_tbs_mark(&t, CA_TBS_LINTED, NULL) == CA_EIO &&
	       fx_err("a malformed TBS"),
	   "a head and tail longer than the TBS is refused");
	ca_tbs_init_framed(&t, CA_TBS_CRL, NULL, 8, d, 2, d, 2);
	ok(ca_tbs_mark(&t, CA_TBS_LINTED, NULL) == CA_EIO &&
	       fx_err("internal error: the CRL to mark is not in memory"),
	   "a streamed TBS cannot be marked without its body's MAC");
}

int main(void)
{
	make_signer();
	if (key == NULL) {
		printf("Bail out! no software key\n");
		return 1;
	}
	test_cert();
	test_prepare();
	test_crl_stream();
	test_bad();
	X509_free(root);
	EVP_PKEY_free(key);
	return tap_done();
}
