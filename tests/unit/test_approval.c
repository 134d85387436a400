/* Unit tests for approval requests and approvals (tools/lib/quorum/,
 * tools/lib/sign/approval.c, tools/lib/base/words.c): writing and parsing
 * requests, decoding the TBS for display, signing approvals with software keys,
 * and every refusal of ca_request_check. Keys and files are made here in a
 * temporary directory; the replay case uses a temporary SQLite store. No token
 * is needed. TAP. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/hex.h"
#include "base/read.h"
#include "base/sha256.h"
#include "base/time.h"
#include "base/words.h"
#include "fixture.h"
#include "input/quorum.h"
#include "quorum/approval.h"
#include "quorum/request.h"
#include "quorum/verify.h"
#include "sign/approval.h"
#include "store/store.h"
#include "tap.h"

static char dir[256];

static const char *path(const char *name)
{
	static char bufs[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return bufs[i];
}

static int write_file(const char *p, const void *data, size_t len)
{
	FILE *f = fopen(p, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static char *read_text(const char *p, size_t *len)
{
	unsigned char *data = NULL;
	size_t n = 0;

	if (ca_read_file(p, CA_MAX_INPUT, &data, &n) < 0)
		return NULL;
	if (len != NULL)
		*len = n;
	return (char *)data;
}

/* ---------------------------------------------------------------------- */
/* Keys and quorum                                                         */

static int write_key(EVP_PKEY *k, const char *name, const char *pass)
{
	FILE *f = fopen(path(name), "w");
	int r;

	if (f == NULL)
		return -1;
	if (pass != NULL)
		r = PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), pass,
					      (int)strlen(pass), NULL, NULL);
	else
		r = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(path(name), 0600);
	return r == 1 ? 0 : -1;
}

static char *pub_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (b != NULL && PEM_write_bio_PUBKEY(b, k) == 1) {
		n = BIO_get_mem_data(b, &data);
		s = strndup(data, (size_t)n);
	}
	BIO_free(b);
	return s;
}

/* Quorum file name with threshold m over the (id, key) pairs. */
static int write_quorum(const char *name, int m, int n, const char *const *ids,
			EVP_PKEY **keys)
{
	json_t *arr = json_array(), *q;
	char *text, *pem;
	int i, rc;

	for (i = 0; i < n; i++) {
		pem = pub_pem(keys[i]);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id",
						     ids[i], "name", ids[i],
						     "public_key", pem));
		free(pem);
	}
	q = json_pack("{s:i, s:i, s:o}", "version", 1, "threshold", m,
		      "approvers", arr);
	text = json_dumps(q, JSON_INDENT(2));
	rc = text ? write_file(path(name), text, strlen(text)) : -1;
	free(text);
	json_decref(q);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* TBS material                                                            */

static X509 *make_cert(EVP_PKEY *k, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok_ = 1;

	ok_ &= x != NULL && name != NULL;
	ok_ &= X509_set_version(x, 2) == 1;
	ok_ &= ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234) == 1;
	ok_ &= X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					  (const unsigned char *)cn, -1, -1,
					  0) == 1;
	ok_ &= X509_set_subject_name(x, name) == 1 &&
	       X509_set_issuer_name(x, name) == 1;
	ok_ &= X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	       X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) != NULL;
	ok_ &= X509_set_pubkey(x, k) == 1;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
				  "critical,CA:TRUE,pathlen:1");
	ok_ &= ext != NULL && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
				  "critical,keyCertSign,cRLSign");
	ok_ &= ext != NULL && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	ok_ &= X509_sign(x, k, EVP_sha256()) > 0;
	X509_NAME_free(name);
	if (!ok_) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static X509_CRL *make_crl(EVP_PKEY *k, X509 *issuer)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	int ok_ = 1, i;

	ok_ &= crl && t && num;
	ok_ &= X509_CRL_set_version(crl, 1) == 1;
	ok_ &=
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1;
	ok_ &=
	    X509_gmtime_adj(t, 0) != NULL && X509_CRL_set1_lastUpdate(crl, t);
	ok_ &= X509_gmtime_adj(t, 86400L * 30) != NULL &&
	       X509_CRL_set1_nextUpdate(crl, t);
	for (i = 0; ok_ && i < 3; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();

		ok_ &= r && s && reason && ASN1_INTEGER_set(s, 0x100 + i) == 1;
		ok_ &= X509_REVOKED_set_serialNumber(r, s) == 1;
		ok_ &= X509_gmtime_adj(t, -3600) != NULL &&
		       X509_REVOKED_set_revocationDate(r, t) == 1;
		ok_ &= ASN1_ENUMERATED_set(reason, 1) == 1 &&
		       X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0,
						 0) == 1;
		ok_ &= X509_CRL_add0_revoked(crl, r) == 1;
		ASN1_INTEGER_free(s);
		ASN1_ENUMERATED_free(reason);
	}
	ok_ &= ASN1_INTEGER_set(num, 42) == 1 &&
	       X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	ok_ &= X509_CRL_sign(crl, k, EVP_sha256()) > 0;
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	if (!ok_) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

/* ---------------------------------------------------------------------- */
/* Requests and raw approvals                                              */

static EVP_PKEY *alice, *bob, *carol, *dave, *mallory, *weak, *root_key;
static char qhash[65], spki_hex[65];
static unsigned char *cert_tbs;
static size_t cert_tbs_len;

static int write_request(const char *name, const char *action,
			 const char *tbs_type, const unsigned char *tbs,
			 size_t len, long ttl)
{
	struct ca_request_spec spec;
	json_t *params = json_pack("{s:s}", "serial", "1234");
	int rc;

	memset(&spec, 0, sizeof(spec));
	spec.action = action;
	spec.tbs_type = tbs_type;
	spec.ca_spki_sha256 = spki_hex;
	spec.ca_token_serial = "a1b2c3d4e5f60718";
	spec.ca_key = "pkcs11:token=Root;object=root-key";
	spec.tbs = tbs;
	spec.tbs_len = len;
	spec.params = params;
	spec.ttl_seconds = ttl;
	spec.quorum_sha256 = qhash;
	ca_err_clear();
	rc = ca_request_write(&spec, path(name), 0);
	json_decref(params);
	return rc;
}

static struct ca_request *load(const char *name)
{
	struct ca_request *r = NULL;

	if (ca_request_load(path(name), &r) < 0)
		return NULL;
	return r;
}

/* An approval file made by hand (no checks), as an attacker could. */
static int raw_approval(const char *name, const char *id,
			const char *request_sha256, const char *alg,
			EVP_PKEY *k, const char *md)
{
	unsigned char msg[128], sig[1024], b64[2048];
	size_t siglen = sizeof(sig), mlen;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	json_t *j;
	char *text;
	int rc = -1;

	mlen = (size_t)snprintf((char *)msg, sizeof(msg), "%s%s",
				CA_APPROVAL_PREFIX, request_sha256);
	if (ctx == NULL ||
	    EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, k, NULL) != 1)
		goto out;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestSign(ctx, sig, &siglen, msg, mlen) != 1)
		goto out;
	EVP_EncodeBlock(b64, sig, (int)siglen);
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "hsmca_approval", 1,
		      "approver", id, "request_sha256", request_sha256,
		      "algorithm", alg, "signature", (char *)b64, "signed_at",
		      "2026-01-01T00:00:00Z");
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	rc = text ? write_file(path(name), text, strlen(text)) : -1;
	free(text);
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Rewrite a request file's JSON with one member changed. */
static int edit_request(const char *from, const char *to, const char *key,
			json_t *value)
{
	char *text = read_text(path(from), NULL), *out;
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	int rc = -1;

	if (j != NULL && json_object_set_new(j, key, value) == 0) {
		out = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		rc = out ? write_file(path(to), out, strlen(out)) : -1;
		free(out);
	} else {
		json_decref(value);
	}
	json_decref(j);
	free(text);
	return rc;
}

static int sign_as(const struct ca_request *r, const char *id,
		   const char *keyfile, const char *pass, const char *out)
{
	ca_err_clear();
	return ca_approval_sign_req(r, id, path(keyfile), pass, path(out), 0);
}

/* ca_request_check with the approval files named. */
static int check(const struct ca_request *r, const struct ca_quorum *q,
		 const char *pinned, ca_store *st, json_t **ids, int n, ...)
{
	const char *files[16];
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n && i < 16; i++)
		files[i] = path(va_arg(ap, const char *));
	va_end(ap);
	ca_err_clear();
	return ca_request_check(r, "init-ca", spki_hex, q, pinned, st, files, n,
				ids);
}

static int has(const char *needle)
{
	return strstr(ca_errmsg(), needle) != NULL;
}

/* ---------------------------------------------------------------------- */

static void test_ttl(void)
{
	static const struct {
		const char *s;
		long v;
	} good[] = {{"90s", 90},     {"30m", 1800},  {"24h", 86400},
		    {"2d", 172800},  {"3600", 3600}, {"60", 60},
		    {"30d", 2592000}};
	static const char *const bad[] = {
	    "0",    "31d", "", "1x", "-5", "10 m", "h", "99999999999999999999",
	    "1.5h", "0x10"};
	size_t i;
	long v;
	int all = 1;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 0;
		if (ca_ttl_parse(good[i].s, &v) != CA_OK || v != good[i].v) {
			printf("# ttl '%s' -> %ld\n", good[i].s, v);
			all = 0;
		}
	}
	ok(all, "ca_ttl_parse: 90s 30m 24h 2d 3600 60 30d");
	all = 1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ca_ttl_parse(bad[i], &v) != CA_EUSAGE) {
			printf("# ttl '%s' accepted\n", bad[i]);
			all = 0;
		}
	ok(all, "ca_ttl_parse refuses 0, 31d, empty, 1x, -5, '10 m', h, "
		"overflow, 1.5h, 0x10");
}

static void test_words(void)
{
	/* The PGP word list's published example. */
	static const unsigned char ex[] = {
	    0xE5, 0x82, 0x94, 0xF2, 0xE9, 0xA2, 0x27, 0x48, 0x6E, 0x8B,
	    0x06, 0x1B, 0x31, 0xCC, 0x52, 0x8F, 0xD7, 0xFA, 0x3F, 0x19};
	static const unsigned char ends[] = {0x00, 0x00, 0xFF, 0xFF};
	char out[400], even[256][16], odd[256][16];
	unsigned char two[2];
	int b, j, sorted_even = 1, sorted_odd = 1, distinct = 1, bad_order = 0;

	ca_words(ex, sizeof(ex), out, sizeof(out));
	ok(strcmp(out, "topmost Istanbul Pluto vagabond treadmill Pacific "
		       "brackish dictator goldfish Medusa afflict bravado "
		       "chatter revolver Dupont midsummer stopwatch whimsical "
		       "cowbell bottomless") == 0,
	   "ca_words: the published example E582 94F2 ... 3F19");
	ca_words(ends, sizeof(ends), out, sizeof(out));
	ok(strcmp(out, "aardvark adroitness Zulu Yucatan") == 0,
	   "anchors: even[00]=aardvark odd[00]=adroitness even[FF]=Zulu "
	   "odd[FF]=Yucatan");
	ca_words(ex, sizeof(ex), out, 20);
	ok(strcmp(out, "topmost Istanbul") == 0,
	   "a short buffer gets whole words only");
	for (b = 0; b < 256; b++) {
		two[0] = (unsigned char)b;
		two[1] = (unsigned char)b;
		ca_words(two, 2, out, sizeof(out));
		if (sscanf(out, "%15s %15s", even[b], odd[b]) != 2)
			distinct = 0;
	}
	for (b = 0; b < 256; b++) {
		if (b > 0 && strcasecmp(even[b - 1], even[b]) >= 0)
			sorted_even = 0;
		if (b > 0 && strcasecmp(odd[b - 1], odd[b]) >= 0) {
			/* The standard list has applicant (09) before Apollo
			 * (0a); nothing else is out of order. */
			if (b == 0x0a && strcmp(odd[9], "applicant") == 0 &&
			    strcmp(odd[10], "Apollo") == 0)
				bad_order++;
			else
				sorted_odd = 0;
		}
		for (j = 0; j < 256; j++)
			if ((j < b && (strcasecmp(even[j], even[b]) == 0 ||
				       strcasecmp(odd[j], odd[b]) == 0)) ||
			    strcasecmp(even[j], odd[b]) == 0)
				distinct = 0;
	}
	ok(distinct, "512 distinct words: 256 even, 256 odd, no word in both");
	ok(sorted_even, "the even (two-syllable) list is alphabetical");
	ok(sorted_odd && bad_order == 1,
	   "the odd (three-syllable) list is alphabetical but for the "
	   "standard's applicant/Apollo");
	ok(strcmp(even[0x5a], "enlist") == 0 &&
	       strcmp(odd[0x5a], "existence") == 0 &&
	       strcmp(even[0x80], "merit") == 0 &&
	       strcmp(odd[0x80], "intention") == 0,
	   "spot checks: 5A enlist/existence, 80 merit/intention");
}

static void test_request_roundtrip(void)
{
	struct ca_request *r, *r2;
	char hex[65], *text;
	size_t len = 0;
	int rc;

	rc = write_request("req.json", "init-ca", "certificate", cert_tbs,
			   cert_tbs_len, 3600);
	ok(rc == CA_OK, "ca_request_write writes a request");
	r = load("req.json");
	ok(r != NULL, "ca_request_load reads it back");
	if (r == NULL)
		return;
	text = read_text(path("req.json"), &len);
	ca_sha256_hex((unsigned char *)text, len, hex);
	ok(strcmp(r->sha256_hex, hex) == 0 && r->raw_len == len &&
	       memcmp(r->raw, text, len) == 0,
	   "sha256_hex and raw are the file's exact bytes");
	ok(strcmp(r->action, "init-ca") == 0 &&
	       strcmp(r->tbs_type, "certificate") == 0 &&
	       r->tbs_len == cert_tbs_len &&
	       memcmp(r->tbs, cert_tbs, cert_tbs_len) == 0,
	   "action, tbs_type and the exact TBS bytes survive");
	ok(strcmp(r->quorum_sha256, qhash) == 0 &&
	       strcmp(r->ca_spki_sha256, spki_hex) == 0 &&
	       strcmp(r->ca_token_serial, "a1b2c3d4e5f60718") == 0 &&
	       strcmp(r->ca_key, "pkcs11:token=Root;object=root-key") == 0,
	   "quorum hash and CA identity survive");
	ok(r->expires - r->created == 3600 && r->created <= ca_now() &&
	       strlen(r->nonce) == 64,
	   "expires = created + TTL; a 64-digit nonce");
	ok(json_is_object(r->summary) && json_is_object(r->params) &&
	       strcmp(json_string_value(json_object_get(r->params, "serial")),
		      "1234") == 0,
	   "summary and params are objects; params survive");
	rc = write_request("req2.json", "init-ca", "certificate", cert_tbs,
			   cert_tbs_len, 3600);
	r2 = load("req2.json");
	ok(rc == CA_OK && r2 != NULL && strcmp(r->nonce, r2->nonce) != 0 &&
	       strcmp(r->sha256_hex, r2->sha256_hex) != 0,
	   "the same operation prepared twice gets a fresh nonce");
	rc = write_request("req.json", "init-ca", "certificate", cert_tbs,
			   cert_tbs_len, 3600);
	ok(rc == CA_EUSAGE && has("already exists"),
	   "ca_request_write refuses to overwrite");
	rc = write_request("x.json", "init-ca", "crl", cert_tbs, cert_tbs_len,
			   3600);
	ok(rc < 0, "ca_request_write refuses init-ca with tbs_type crl");
	rc = write_request("x.json", "init-ca", "certificate", cert_tbs,
			   cert_tbs_len, 0);
	ok(rc == CA_EUSAGE, "ca_request_write refuses a TTL of 0 s");
	free(text);
	ca_request_free(r);
	ca_request_free(r2);
}

static int parse_str(const char *text)
{
	struct ca_request *r = NULL;
	int rc;

	ca_err_clear();
	rc = ca_request_parse((const unsigned char *)text, strlen(text), "R",
			      &r);
	ca_request_free(r);
	return rc;
}

/* req.json with key set to value (consumed), written to name, parsed. */
static int parse_edited(const char *name, const char *key, json_t *value)
{
	char *text;
	int rc;

	if (edit_request("req.json", name, key, value) != 0 ||
	    (text = read_text(path(name), NULL)) == NULL)
		return CA_EIO;
	rc = parse_str(text);
	free(text);
	return rc;
}

static void test_request_refusals(void)
{
	char *text = read_text(path("req.json"), NULL), *p, *copy;
	size_t len;
	json_t *j;
	int rc;

	if (text == NULL) {
		ok(0, "request text");
		return;
	}
	len = strlen(text);
	copy = strndup(text, len / 2);
	ok(parse_str(copy) == CA_EPOLICY && has("not valid JSON"),
	   "a truncated request is refused");
	free(copy);
	ok(parse_str("not json") == CA_EPOLICY,
	   "a non-JSON request is refused");
	ok(parse_edited("e1.json", "extra", json_true()) == CA_EUSAGE &&
	       has("unknown key 'extra'"),
	   "an unknown key is refused (exit 2, as in every JSON file)");
	ok(parse_edited("e2.json", "action", json_string("sign-leaf")) ==
		   CA_EPOLICY &&
	       has("unknown action"),
	   "an unknown action is refused");
	ok(parse_edited("e3.json", "action", json_string("gen-crl")) ==
		   CA_EPOLICY &&
	       has("signs a crl"),
	   "gen-crl with a certificate TBS is refused");
	/* One TBS byte changed, tbs_sha256 left alone. */
	j = json_loads(text, 0, NULL);
	p = strdup(json_string_value(json_object_get(j, "tbs")));
	p[10] = p[10] == 'A' ? 'B' : 'A';
	json_decref(j);
	rc = parse_edited("e4.json", "tbs", json_string(p));
	free(p);
	ok(rc == CA_EPOLICY && has("do not match"),
	   "a TBS changed without its hash is refused");
	ok(parse_edited("e5.json", "tbs", json_string("MIIB====")) ==
		   CA_EPOLICY &&
	       has("base64"),
	   "bad base64 is refused");
	ok(parse_edited("e6.json", "expires",
			json_string("2026-01-01 00:00:00")) == CA_EPOLICY &&
	       has("UTC times"),
	   "a non-RFC 3339 expiry is refused");
	ok(parse_edited("e7.json", "nonce", json_string("00")) == CA_EPOLICY &&
	       has("nonce"),
	   "a short nonce is refused");
	copy = malloc(len + 64);
	p = strchr(text, '{');
	snprintf(copy, len + 64, "{\"nonce\": \"x\", %s", p + 1);
	ok(parse_str(copy) == CA_EPOLICY && has("not valid JSON"),
	   "a key given twice is refused");
	free(copy);
	free(text);
}

static void test_describe(void)
{
	struct ca_request *r = load("req.json"), *rc_ = NULL, *rv = NULL;
	X509_CRL *crl;
	X509 *x;
	unsigned char *tbs = NULL;
	json_t *d = NULL, *c, *e;
	const char *rev = "{\"serial\":\"0102\",\"reason\":\"keyCompromise\"}";
	int n;

	if (r == NULL || ca_request_describe(r, &d) != CA_OK) {
		ok(0, "ca_request_describe of a certificate request");
		ca_request_free(r);
		return;
	}
	c = json_object_get(d, "certificate");
	ok(c != NULL &&
	       strcmp(json_string_value(json_object_get(c, "subject")),
		      "CN=Test Root\\\\X") == 0 &&
	       strcmp(json_string_value(json_object_get(c, "serial")),
		      "12:34") == 0,
	   "describe: subject (escaped) and serial decoded from the TBS");
	e = json_array_get(json_object_get(c, "extensions"), 0);
	ok(json_array_size(json_object_get(c, "extensions")) == 2 &&
	       json_is_true(json_object_get(e, "critical")) &&
	       strstr(json_string_value(json_object_get(e, "value")),
		      "CA:TRUE") != NULL &&
	       strcmp(json_string_value(json_object_get(e, "oid")),
		      "2.5.29.19") == 0,
	   "describe: every extension with its criticality and value");
	ok(strcmp(json_string_value(json_object_get(
		      json_object_get(c, "public_key"), "type")),
		  "EC") == 0 &&
	       json_integer_value(json_object_get(
		   json_object_get(c, "public_key"), "bits")) == 256,
	   "describe: the subject public key type and size");
	ok(strcmp(json_string_value(json_object_get(d, "request_sha256")),
		  r->sha256_hex) == 0 &&
	       json_is_false(json_object_get(d, "expired")) &&
	       strchr(json_string_value(json_object_get(d, "request_words")),
		      ' ') != NULL,
	   "describe: digest, words, not expired");
	json_decref(d);
	d = NULL;

	x = make_cert(root_key, "Test Root");
	crl = x ? make_crl(root_key, x) : NULL;
	n = crl ? i2d_re_X509_CRL_tbs(crl, &tbs) : -1;
	if (n > 0 && write_request("crl.json", "gen-crl", "crl", tbs, (size_t)n,
				   3600) == CA_OK)
		rc_ = load("crl.json");
	if (rc_ != NULL && ca_request_describe(rc_, &d) == CA_OK) {
		c = json_object_get(d, "crl");
		e = json_array_get(json_object_get(c, "first_entries"), 0);
		ok(c != NULL &&
		       strcmp(
			   json_string_value(json_object_get(c, "crl_number")),
			   "42") == 0 &&
		       json_integer_value(json_object_get(c, "entries")) == 3 &&
		       strcmp(json_string_value(json_object_get(e, "serial")),
			      "01:00") == 0 &&
		       strcmp(json_string_value(json_object_get(e, "reason")),
			      "keyCompromise") == 0 &&
		       strcmp(json_string_value(
				  json_object_get(c, "signature_algorithm")),
			      "sha256WithRSAEncryption") != 0,
		   "describe: CRL number, entry count, first entries and "
		   "reasons");
	} else {
		ok(0, "describe: a CRL request");
	}
	json_decref(d);
	d = NULL;
	OPENSSL_free(tbs);
	X509_CRL_free(crl);
	X509_free(x);

	if (write_request("rev.json", "revoke", "revocation",
			  (const unsigned char *)rev, strlen(rev),
			  3600) == CA_OK)
		rv = load("rev.json");
	ok(rv != NULL && ca_request_describe(rv, &d) == CA_OK &&
	       strcmp(json_string_value(json_object_get(d, "revocation")),
		      rev) == 0,
	   "describe: a revocation shows its canonical text");
	json_decref(d);
	ok(write_request("rev2.json", "revoke", "revocation",
			 (const unsigned char *)"not json", 8, 3600) < 0,
	   "a revocation TBS that is not JSON cannot be written");
	ca_request_free(r);
	ca_request_free(rc_);
	ca_request_free(rv);
}

/* Bytes that could drive a terminal reach the operator escaped. */
static void test_escapes(void)
{
	X509 *x = make_cert(root_key, "Evil\033[2J Root");
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	unsigned char *tbs = NULL;
	struct ca_request *r = NULL;
	json_t *d = NULL;
	char *text = NULL;
	int n = -1;

	if (x != NULL) {
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
					  "DNS:a\033]0;owned\007.example.com");
		if (ext != NULL && X509_add_ext(x, ext, -1) == 1)
			n = i2d_re_X509_tbs(x, &tbs);
	}
	if (n > 0 && write_request("esc.json", "sign-subca", "certificate", tbs,
				   (size_t)n, 3600) == CA_OK)
		r = load("esc.json");
	if (r != NULL && ca_request_describe(r, &d) == CA_OK)
		text = json_dumps(d, 0);
	ok(text != NULL && strchr(text, '\033') == NULL &&
	       strstr(text, "\\\\x1b]0;owned\\\\x07") != NULL &&
	       strstr(text, "Evil\\\\1B[2J") != NULL,
	   "control bytes in names and extensions are shown escaped");
	if (text == NULL || n <= 0)
		printf("# %s\n", text ? text : "(no describe)");
	free(text);
	json_decref(d);
	ca_request_free(r);
	OPENSSL_free(tbs);
	X509_EXTENSION_free(ext);
	X509_free(x);
}

/* The request's own CA key and token serial: no C0 control is accepted
 * (ca_fields_text_ok), and what else is not ASCII (a C1 CSI, a
 * right-to-left override) is shown escaped. */
static void test_escapes_ca(void)
{
	struct ca_request *r = NULL;
	json_t *d = NULL, *ca;
	char *text = NULL;
	size_t i;
	int ascii = 1;

	ca = json_pack("{s:s, s:s, s:s}", "spki_sha256", spki_hex,
		       "token_serial",
		       "a1b2\xc2\x9b"
		       "[2J",
		       "key", "pkcs11:token=R\xe2\x80\xaetoor;object=k");
	if (edit_request("req.json", "esc-ca.json", "ca", ca) == 0)
		r = load("esc-ca.json");
	if (r != NULL && ca_request_describe(r, &d) == CA_OK)
		text = json_dumps(d, 0);
	for (i = 0; text != NULL && text[i] != '\0'; i++)
		ascii &= (unsigned char)text[i] < 0x80;
	ca = json_object_get(d, "ca");
	ok(text != NULL && ascii &&
	       strcmp(json_string_value(json_object_get(ca, "key")),
		      "pkcs11:token=R\\xe2\\x80\\xaetoor;object=k") == 0 &&
	       strcmp(json_string_value(json_object_get(ca, "token_serial")),
		      "a1b2\\xc2\\x9b[2J") == 0,
	   "a request's CA key and token serial are shown as ASCII");
	if (!ascii || text == NULL)
		printf("# %s\n", text ? text : "(no describe)");
	free(text);
	json_decref(d);
	ca_request_free(r);
}

static void test_sign_and_check(const struct ca_quorum *q)
{
	struct ca_request *r = load("req.json"), *r2 = load("req2.json");
	json_t *ids = NULL;
	int rc;

	if (r == NULL || r2 == NULL) {
		ok(0, "requests load");
		goto out;
	}
	ok(sign_as(r, "alice", "alice.key", NULL, "alice.sig") == CA_OK,
	   "alice signs with an Ed25519 key file");
	ok(sign_as(r, "bob", "bob.key", NULL, "bob.sig") == CA_OK,
	   "bob signs with a P-256 key file");
	setenv("CAROL_PASS", "correct horse", 1);
	ok(sign_as(r, "carol", "carol.key", "env:CAROL_PASS", "carol.sig") ==
	       CA_OK,
	   "carol signs with an encrypted P-384 key file (env: passphrase)");
	setenv("CAROL_PASS", "wrong", 1);
	ok(sign_as(r, "carol", "carol.key", "env:CAROL_PASS", "carol2.sig") <
		   0 &&
	       has("passphrase"),
	   "a wrong passphrase is refused");
	ok(sign_as(r, "dave", "dave.key", NULL, "dave.sig") == CA_OK,
	   "dave signs with an RSA-2048 key file");
	ok(sign_as(r, "alice", "alice.key", NULL, "alice.sig") == CA_EUSAGE &&
	       has("already exists"),
	   "an approval file is not overwritten");
	ok(sign_as(r, "eve", "weak.key", NULL, "weak.sig") == CA_EPOLICY &&
	       has("1024 bits"),
	   "signing with an RSA-1024 key is refused");
	ok(sign_as(r, "bad id", "alice.key", NULL, "x.sig") == CA_EUSAGE,
	   "a malformed --id is refused");
	chmod(path("bob.key"), 0640);
	ok(sign_as(r, "bob", "bob.key", NULL, "bob-b.sig") == CA_EPOLICY &&
	       has("chmod 600"),
	   "a key file readable by the group is refused");
	chmod(path("bob.key"), 0600);

	rc = check(r, q, q->sha256_hex, NULL, &ids, 2, "alice.sig", "bob.sig");
	ok(rc == CA_OK && json_array_size(ids) == 2,
	   "exactly M (2 of 2 needed) valid approvals pass");
	json_decref(ids);
	ids = NULL;
	rc = check(r, q, NULL, NULL, &ids, 4, "alice.sig", "bob.sig",
		   "carol.sig", "dave.sig");
	ok(rc == CA_OK && json_array_size(ids) == 4 &&
	       strcmp(json_string_value(json_array_get(ids, 3)), "dave") == 0,
	   "more than M (4) pass; approvers lists all four");
	json_decref(ids);
	ids = NULL;

	rc = check(r, q, NULL, NULL, &ids, 1, "alice.sig");
	ok(rc == CA_EPOLICY && has("only 1 of 2") && ids == NULL,
	   "one short of M is refused");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "alice.sig");
	ok(rc == CA_EPOLICY && has("only 1 of 2") && has("counted once"),
	   "the same approver twice counts once");
	sign_as(r, "alice", "alice.key", NULL, "alice-again.sig");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "alice-again.sig");
	ok(rc == CA_EPOLICY && has("only 1 of 2"),
	   "two approval files by the same approver count once");
	sign_as(r, "mallory", "mallory.key", NULL, "mallory.sig");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "mallory.sig");
	ok(rc == CA_EPOLICY && has("mallory.sig") &&
	       has("\"mallory\" is not an approver"),
	   "an approver not in the quorum is refused, naming the file");
	raw_approval("forged-bob.sig", "bob", r->sha256_hex, "ecdsa-sha256",
		     root_key, "SHA256");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "forged-bob.sig");
	ok(rc == CA_EPOLICY && has("forged-bob.sig") &&
	       has("does not verify with bob's public key"),
	   "a signature by another key under bob's id is refused");
	sign_as(r2, "bob", "bob.key", NULL, "bob-other.sig");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "bob-other.sig");
	ok(rc == CA_EPOLICY && has("bob-other.sig") &&
	       has("approves a different request"),
	   "a listed approver's signature over a different request is refused");
	raw_approval("weak-dave.sig", "dave", r->sha256_hex, "rsa-pkcs1-sha256",
		     weak, "SHA256");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "weak-dave.sig");
	ok(rc == CA_EPOLICY && has("weak-dave.sig") && has("does not verify"),
	   "an approval made with an RSA-1024 key is refused");
	raw_approval("alg.sig", "alice", r->sha256_hex, "ecdsa-sha256", alice,
		     NULL);
	rc = check(r, q, NULL, NULL, NULL, 2, "alg.sig", "bob.sig");
	ok(rc == CA_EPOLICY && has("algorithm ecdsa-sha256 is not"),
	   "an approval naming the wrong algorithm is refused");
	{
		size_t len = 0;
		char *t = read_text(path("bob.sig"), &len);

		write_file(path("bob-trunc.sig"), t, len / 2);
		write_file(path("notjson.sig"), "hello\n", 6);
		free(t);
	}
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "bob-trunc.sig");
	ok(rc == CA_EPOLICY && has("bob-trunc.sig") && has("not valid JSON"),
	   "a truncated approval file is refused, naming it");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "notjson.sig");
	ok(rc == CA_EPOLICY && has("notjson.sig") && has("not valid JSON"),
	   "an approval file that is not JSON is refused");
	rc = check(r, q, NULL, NULL, NULL, 2, "alice.sig", "missing.sig");
	ok(rc == CA_EPOLICY && has("missing.sig"),
	   "a missing approval file is reported");
	ca_err_clear();
	rc = ca_request_check(r, "sign-subca", spki_hex, q, NULL, NULL, NULL, 0,
			      NULL);
	ok(rc == CA_EPOLICY && has("approves init-ca, not sign-subca"),
	   "a request for another action is refused");
	ca_err_clear();
	rc =
	    ca_request_check(r, "init-ca", qhash, q, NULL, NULL, NULL, 0, NULL);
	ok(rc == CA_EPOLICY && has("not this CA's key"),
	   "a request for another CA key is refused");
out:
	ca_request_free(r);
	ca_request_free(r2);
}

/* req.json created and expiring at other times (edited through tmp into
 * name), loaded. */
static struct ca_request *load_retimed(const char *tmp, const char *name,
				       time_t created, time_t expires)
{
	char t1[32], t2[32];

	ca_time_rfc3339(created, t1, sizeof(t1));
	ca_time_rfc3339(expires, t2, sizeof(t2));
	edit_request("req.json", tmp, "created", json_string(t1));
	edit_request(tmp, name, "expires", json_string(t2));
	return load(name);
}

/* Valid approvals of r by alice and bob, made by hand: PREFIX-alice.sig
 * and PREFIX-bob.sig. */
static void raw_alice_bob(const struct ca_request *r, const char *prefix)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "%s-alice.sig", prefix);
	snprintf(b, sizeof(b), "%s-bob.sig", prefix);
	raw_approval(a, "alice", r->sha256_hex, "ed25519", alice, NULL);
	raw_approval(b, "bob", r->sha256_hex, "ecdsa-sha256", bob, "SHA256");
}

static void test_edited_and_expired(const struct ca_quorum *q)
{
	struct ca_request *r = load("req.json"), *ed = NULL, *ex = NULL;
	unsigned char *tbs = NULL, md[32];
	char hex[65], *b64 = NULL;
	int rc;

	if (r == NULL)
		goto out;
	/* One TBS byte changed and its hash fixed: a well-formed request
	 * whose file hash differs from the approved one. */
	tbs = malloc(r->tbs_len);
	memcpy(tbs, r->tbs, r->tbs_len);
	tbs[r->tbs_len - 1] ^= 1;
	b64 = malloc(4 * ((r->tbs_len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, tbs, (int)r->tbs_len);
	if (ca_sha256(tbs, r->tbs_len, md) < 0)
		goto out;
	ca_hex(md, 32, hex);
	edit_request("req.json", "edit-a.json", "tbs", json_string(b64));
	edit_request("edit-a.json", "edited.json", "tbs_sha256",
		     json_string(hex));
	ed = load("edited.json");
	rc = ed ? check(ed, q, NULL, NULL, NULL, 2, "alice.sig", "bob.sig")
		: CA_EIO;
	ok(ed != NULL && rc == CA_EPOLICY &&
	       has("approves a different request"),
	   "a request edited after signing (one TBS byte) is refused");

	ex = load_retimed("exp-a.json", "expired.json", ca_now() - 7200,
			  ca_now() - 60);
	ok(ex != NULL, "an expired request still parses (for show)");
	if (ex != NULL) {
		ok(sign_as(ex, "alice", "alice.key", NULL, "exp-alice.sig") ==
			   CA_EPOLICY &&
		       has("expired"),
		   "signing an expired request is refused");
		raw_alice_bob(ex, "exp");
		rc = check(ex, q, NULL, NULL, NULL, 2, "exp-alice.sig",
			   "exp-bob.sig");
		ok(rc == CA_EPOLICY && has("expired at"),
		   "an expired request is refused even with M valid approvals");
	}
	{
		struct ca_request *fu = NULL;

		fu = load_retimed("fut-a.json", "future.json", ca_now() + 3600,
				  ca_now() + 7200);
		if (fu != NULL)
			raw_alice_bob(fu, "fut");
		rc = fu ? check(fu, q, NULL, NULL, NULL, 2, "fut-alice.sig",
				"fut-bob.sig")
			: CA_EIO;
		ok(rc == CA_EPOLICY && has("created in the future"),
		   "a request created in the future is refused");
		ca_request_free(fu);
	}
out:
	free(tbs);
	free(b64);
	ca_request_free(r);
	ca_request_free(ed);
	ca_request_free(ex);
}

static void test_quorum_swap(const struct ca_quorum *q)
{
	struct ca_request *r = load("req.json");
	struct ca_quorum *q1 = NULL;
	const char *ids[] = {"alice", "bob", "carol", "dave"};
	EVP_PKEY *keys[] = {alice, bob, carol, dave};
	char pinned[65];
	int rc;

	/* Same people, threshold 1: a different file, a different hash. */
	write_quorum("quorum1.json", 1, 4, ids, keys);
	rc = ca_quorum_load(path("quorum1.json"), &q1);
	if (r == NULL || rc != CA_OK) {
		ok(0, "swapped quorum setup");
		goto out;
	}
	rc = check(r, q1, NULL, NULL, NULL, 1, "alice.sig");
	ok(rc == CA_EPOLICY && has("prepared for the quorum file"),
	   "a swapped quorum file (hash differs from the request's) is "
	   "refused");
	rc = check(r, q1, q1->sha256_hex, NULL, NULL, 1, "alice.sig");
	ok(rc == CA_EPOLICY && has("prepared for the quorum file"),
	   "... even when the caller pins the swapped file");
	memset(pinned, 'f', 64);
	pinned[64] = '\0';
	rc = check(r, q, pinned, NULL, NULL, 2, "alice.sig", "bob.sig");
	ok(rc == CA_EPOLICY && has("not the one this CA pinned"),
	   "a quorum that differs from the pinned hash is refused");
	for (rc = 0; rc < 64; rc++)
		pinned[rc] = (char)toupper((unsigned char)q->sha256_hex[rc]);
	rc = check(r, q, pinned, NULL, NULL, 2, "alice.sig", "bob.sig");
	ok(rc == CA_OK, "the pinned hash is compared case-insensitively");
out:
	ca_quorum_free(q1);
	ca_request_free(r);
}

static void test_replay(const struct ca_quorum *q)
{
	struct ca_request *r = load("req.json");
	ca_store *st = NULL;
	json_t *ids = NULL;
	char *ids_text = NULL;
	int rc;

	rc = ca_store_create(path("ca.db"), &st);
	if (r == NULL || rc != CA_OK) {
		ok(0, "store for the replay test: %s", ca_errmsg());
		goto out;
	}
	rc = check(r, q, q->sha256_hex, st, &ids, 2, "alice.sig", "bob.sig");
	ok(rc == CA_OK, "a fresh nonce passes with a store");
	rc = check(r, q, q->sha256_hex, st, NULL, 2, "alice.sig", "bob.sig");
	ok(rc == CA_OK, "ca_request_check does not record the nonce itself");
	ids_text = json_dumps(ids, JSON_COMPACT);
	rc = ca_store_nonce_record(st, r->nonce, r->sha256_hex, r->action,
				   ids_text);
	ok(rc == CA_OK, "the caller records the nonce");
	rc = check(r, q, q->sha256_hex, st, NULL, 2, "alice.sig", "bob.sig");
	ok(rc == CA_EPOLICY && has("already executed"),
	   "a replayed request (nonce in the approvals table) is refused");
out:
	free(ids_text);
	json_decref(ids);
	ca_store_close(st);
	ca_request_free(r);
}

static void test_report(const struct ca_quorum *q)
{
	struct ca_request *r = load("req.json");
	const char *files[3];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	files[0] = path("alice.sig");
	files[1] = path("mallory.sig");
	files[2] = path("bob.sig");
	f = open_memstream(&buf, &len);
	if (r == NULL || f == NULL) {
		ok(0, "report setup");
		goto out;
	}
	rc = ca_approvals_report(r, q, files, 3, f);
	fclose(f);
	ok(rc == CA_OK && strstr(buf, "alice.sig: alice: valid\n") &&
	       strstr(buf, "mallory.sig: mallory: INVALID: \"mallory\" is "
			   "not an approver") &&
	       strstr(buf, "2 of 2 required approvals valid\n"),
	   "ca_approvals_report: one line per file, then N of M");
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	rc = ca_approvals_report(r, q, files, 2, f);
	fclose(f);
	ok(rc == CA_EPOLICY && strstr(buf, "1 of 2 required approvals valid"),
	   "ca_approvals_report: short of M is CA_EPOLICY");
out:
	free(buf);
	ca_request_free(r);
}

static int parse_appr(const char *text)
{
	struct ca_approval *a = NULL;
	int rc;

	ca_err_clear();
	rc = ca_approval_parse((const unsigned char *)text, strlen(text), "A",
			       &a);
	ca_approval_free(a);
	return rc;
}

/* The approval text good with key set to value (consumed), parsed. */
static int parse_appr_with(const char *good, const char *key, json_t *value)
{
	json_t *j = json_loads(good, 0, NULL);
	char *t;
	int rc;

	json_object_set_new(j, key, value);
	t = json_dumps(j, 0);
	rc = parse_appr(t);
	free(t);
	json_decref(j);
	return rc;
}

static void test_approval_parse(void)
{
	char *good = read_text(path("alice.sig"), NULL);
	struct ca_approval *a = NULL;

	ok(good != NULL &&
	       ca_approval_parse((unsigned char *)good, strlen(good), "A",
				 &a) == CA_OK &&
	       strcmp(a->approver, "alice") == 0 &&
	       strcmp(a->algorithm, "ed25519") == 0 && a->signature_len == 64,
	   "ca_approval_parse reads alice's approval (64-byte Ed25519 sig)");
	ca_approval_free(a);
	if (good == NULL)
		return;
	ok(parse_appr_with(good, "comment", json_string("x")) == CA_EUSAGE &&
	       has("unknown key 'comment'"),
	   "approval: unknown key refused");
	ok(parse_appr_with(good, "signature", json_string("AAAA AAAA")) ==
		   CA_EPOLICY &&
	       has("base64"),
	   "approval: base64 with a space refused");
	ok(parse_appr_with(good, "signature", json_string("AB==")) ==
	       CA_EPOLICY,
	   "approval: non-canonical base64 (AB==) refused");
	ok(parse_appr_with(good, "algorithm", json_string("rsa-pss")) ==
		   CA_EPOLICY &&
	       has("unknown algorithm"),
	   "approval: unknown algorithm refused");
	ok(parse_appr_with(good, "hsmca_approval", json_integer(2)) ==
	       CA_EPOLICY,
	   "approval: version 2 refused");
	free(good);
}

int main(void)
{
	const char *ids[] = {"alice", "bob", "carol", "dave"};
	EVP_PKEY *keys[4];
	struct ca_quorum *q = NULL;
	const char *tmp = getenv("TMPDIR");
	unsigned char md[32];
	X509 *cert = NULL;
	int n;

	snprintf(dir, sizeof(dir), "%s/hsmca-test-approval.XXXXXX",
		 tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("1..0 # SKIP cannot create a temporary directory\n");
		return 1;
	}
	alice = fx_key("ED25519", NULL, 0, 0);
	bob = fx_key("EC", "P-256", 0, 0);
	carol = fx_key("EC", "P-384", 0, 0);
	dave = fx_key("RSA", NULL, 2048, 0);
	mallory = fx_key("ED25519", NULL, 0, 0);
	weak = fx_key("RSA", NULL, 1024, 0);
	root_key = fx_key("EC", "P-256", 0, 0);
	keys[0] = alice;
	keys[1] = bob;
	keys[2] = carol;
	keys[3] = dave;
	ok(alice && bob && carol && dave && mallory && weak && root_key &&
	       write_key(alice, "alice.key", NULL) == 0 &&
	       write_key(bob, "bob.key", NULL) == 0 &&
	       write_key(carol, "carol.key", "correct horse") == 0 &&
	       write_key(dave, "dave.key", NULL) == 0 &&
	       write_key(mallory, "mallory.key", NULL) == 0 &&
	       write_key(weak, "weak.key", NULL) == 0 &&
	       write_quorum("quorum.json", 2, 4, ids, keys) == 0 &&
	       ca_quorum_load(path("quorum.json"), &q) == CA_OK,
	   "keys, key files and a 2-of-4 quorum");
	if (q == NULL)
		goto out;
	memcpy(qhash, q->sha256_hex, 65);
	{
		unsigned char *der = NULL;
		int len = i2d_PUBKEY(root_key, &der);

		if (len <= 0 || ca_sha256(der, (size_t)len, md) < 0)
			goto out;
		ca_hex(md, 32, spki_hex);
		OPENSSL_free(der);
	}
	cert = make_cert(root_key, "Test Root\\X");
	n = cert ? i2d_re_X509_tbs(cert, &cert_tbs) : -1;
	ok(n > 0, "a certificate TBS to approve");
	if (n <= 0)
		goto out;
	cert_tbs_len = (size_t)n;

	test_ttl();
	test_words();
	test_request_roundtrip();
	test_request_refusals();
	test_describe();
	test_escapes();
	test_escapes_ca();
	test_sign_and_check(q);
	test_edited_and_expired(q);
	test_quorum_swap(q);
	test_replay(q);
	test_report(q);
	test_approval_parse();
out:
	ca_quorum_free(q);
	X509_free(cert);
	OPENSSL_free(cert_tbs);
	EVP_PKEY_free(alice);
	EVP_PKEY_free(bob);
	EVP_PKEY_free(carol);
	EVP_PKEY_free(dave);
	EVP_PKEY_free(mallory);
	EVP_PKEY_free(weak);
	EVP_PKEY_free(root_key);
	if (getenv("KEEP") == NULL) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
