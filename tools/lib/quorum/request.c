#include "quorum/request.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "base/base64.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/read.h"
#include "base/sha256.h"
#include "base/text.h"
#include "base/time.h"
#include "base/words.h"
#include "out/file.h"
#include "quorum/fields.h"
#include "x509/describe.h"

#define TTL_MIN	 1L
#define TTL_MAX	 (30L * 24 * 3600)
#define MAX_TEXT 2048 /* token serial, key URI */

static const struct {
	const char *action;
	const char *tbs_type;
} actions[] = {
    {"init-ca", "certificate"},
    {"sign-subca", "certificate"},
    {"gen-crl", "crl"},
    {"revoke", "revocation"},
};

/* The TBS type an action signs, or NULL for an unknown action. */
static const char *tbs_type_for(const char *action)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(action, actions[i].action) == 0)
			return actions[i].tbs_type;
	return NULL;
}

/* A DER SEQUENCE (definite length) spanning exactly len bytes. */
static int der_sequence(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	long clen = 0;
	int tag = 0, xclass = 0, r;

	if (len == 0 || len > LONG_MAX)
		return 0;
	r = ASN1_get_object(&p, &clen, &tag, &xclass, (long)len);
	ERR_clear_error();
	if ((r & 0x80) != 0 || r != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL)
		return 0;
	return p + clen == der + len;
}

int ca_ttl_parse(const char *s, long *seconds)
{
	long unit = 1, v = 0;
	size_t i, n;

	n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > 12)
		goto bad;
	switch (s[n - 1]) {
	case 's':
		unit = 1;
		n--;
		break;
	case 'm':
		unit = 60;
		n--;
		break;
	case 'h':
		unit = 3600;
		n--;
		break;
	case 'd':
		unit = 86400;
		n--;
		break;
	default:
		break;
	}
	if (n == 0)
		goto bad;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (s[i] - '0');
		if (v > TTL_MAX)
			goto range;
	}
	v *= unit;
	if (v < TTL_MIN || v > TTL_MAX)
		goto range;
	*seconds = v;
	return CA_OK;
range:
	return ca_err(CA_EUSAGE,
		      "--approval-ttl: '%s' is out of range (1s to 30d)", s);
bad:
	return ca_err(CA_EUSAGE,
		      "--approval-ttl: '%s' is not a duration (like 90s, 30m, "
		      "24h, 2d or plain seconds)",
		      s ? s : "");
}

void ca_request_free(struct ca_request *r)
{
	if (r == NULL)
		return;
	free(r->raw);
	free(r->action);
	free(r->tbs_type);
	free(r->ca_spki_sha256);
	free(r->ca_token_serial);
	free(r->ca_key);
	free(r->tbs);
	json_decref(r->summary);
	json_decref(r->params);
	free(r);
}

static int dup_text(json_t *obj, const char *key, const char *what, size_t max,
		    char **out)
{
	const char *s = NULL;
	int rc;

	GUARD(ca_fields_get_str(obj, key, what, &s));
	if (!ca_fields_text_ok(s, max)) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"%s\" is too long or has control characters",
			    what, key);
		goto out;
	}
	*out = strdup(s);
	if (*out == NULL)
		rc = ca_err(CA_EIO, "out of memory");
out:
	return rc;
}

static int parse_ca(json_t *ca, const char *what, struct ca_request *r)
{
	static const char *const allowed[] = {"spki_sha256", "token_serial",
					      "key", NULL};
	char hex[65];
	int rc;

	if (!json_is_object(ca))
		return ca_err(CA_EPOLICY, "%s: \"ca\" must be an object", what);
	GUARD(ca_json_keys_refuse(ca, what, allowed));
	GUARD(ca_fields_get_hex64(ca, "spki_sha256", what, hex));
	r->ca_spki_sha256 = strdup(hex);
	if (r->ca_spki_sha256 == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(
	    dup_text(ca, "token_serial", what, MAX_TEXT, &r->ca_token_serial));
	GUARD(dup_text(ca, "key", what, MAX_TEXT, &r->ca_key));
out:
	return rc;
}

/* The TBS: base64 of the exact bytes, its SHA-256, and its shape. */
static int parse_tbs(json_t *root, const char *what, struct ca_request *r)
{
	const char *b64 = NULL;
	char want[65], got[65];
	unsigned char md[32];
	json_t *text = NULL;
	int rc;

	GUARD(ca_fields_get_str(root, "tbs", what, &b64));
	GUARD(ca_fields_get_hex64(root, "tbs_sha256", what, want));
	if (ca_base64_decode(b64, &r->tbs, &r->tbs_len) < 0) {
		rc =
		    ca_err(CA_EPOLICY, "%s: \"tbs\" is not valid base64", what);
		goto out;
	}
	GUARD(ca_sha256(r->tbs, r->tbs_len, md));
	ca_hex(md, 32, got);
	if (CRYPTO_memcmp(want, got, 64) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "%s: the TBS bytes do not match \"tbs_sha256\": "
			    "the request was altered",
			    what);
		goto out;
	}
	if (strcmp(r->tbs_type, "revocation") == 0) {
		text = json_loadb((const char *)r->tbs, r->tbs_len,
				  JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(text))
			rc = ca_err(
			    CA_EPOLICY,
			    "%s: the revocation TBS is not a JSON object",
			    what);
	} else if (!der_sequence(r->tbs, r->tbs_len)) {
		rc =
		    ca_err(CA_EPOLICY, "%s: the %s TBS is not one DER SEQUENCE",
			   what, r->tbs_type);
	}
out:
	json_decref(text);
	return rc;
}

static int parse_times(json_t *root, const char *what, struct ca_request *r)
{
	const char *created = NULL, *expires = NULL;
	int rc;

	GUARD(ca_fields_get_str(root, "created", what, &created));
	GUARD(ca_fields_get_str(root, "expires", what, &expires));
	if (!ca_fields_time_strict(created, &r->created) ||
	    !ca_fields_time_strict(expires, &r->expires)) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"created\" and \"expires\" must be UTC times "
			    "like 2026-01-31T12:00:00Z",
			    what);
		goto out;
	}
	if (r->expires <= r->created || r->expires - r->created > TTL_MAX) {
		rc = ca_err(
		    CA_EPOLICY,
		    "%s: the request's lifetime must be between 1 second "
		    "and 30 days",
		    what);
		goto out;
	}
out:
	return rc;
}

static int parse_request(json_t *root, const char *what, struct ca_request *r)
{
	static const char *const allowed[] = {"hsmca_approval_request",
					      "action",
					      "ca",
					      "tbs_type",
					      "tbs",
					      "tbs_sha256",
					      "summary",
					      "params",
					      "created",
					      "expires",
					      "nonce",
					      "quorum_sha256",
					      NULL};
	const char *action = NULL, *tbs_type = NULL, *want;
	json_t *v;
	int rc;

	if (!json_is_object(root))
		return ca_err(CA_EPOLICY,
			      "%s: an approval request is a JSON object", what);
	GUARD(ca_json_keys_refuse(root, what, allowed));
	v = json_object_get(root, "hsmca_approval_request");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		rc = ca_err(CA_EPOLICY,
			    "%s: not an approval request "
			    "(\"hsmca_approval_request\": 1)",
			    what);
		goto out;
	}
	GUARD(ca_fields_get_str(root, "action", what, &action));
	GUARD(ca_fields_get_str(root, "tbs_type", what, &tbs_type));
	want = tbs_type_for(action);
	if (want == NULL) {
		rc = ca_err(CA_EPOLICY, "%s: unknown action \"%.32s\"", what,
			    action);
		goto out;
	}
	/* An action signs one kind of thing: a CRL is never shown as a
	 * certificate. */
	if (strcmp(tbs_type, want) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "%s: action %s signs a %s, not \"%.32s\"", what,
			    action, want, tbs_type);
		goto out;
	}
	r->action = strdup(action);
	r->tbs_type = strdup(tbs_type);
	if (r->action == NULL || r->tbs_type == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(parse_ca(json_object_get(root, "ca"), what, r));
	GUARD(parse_tbs(root, what, r));
	r->summary = json_incref(json_object_get(root, "summary"));
	r->params = json_incref(json_object_get(root, "params"));
	if (!json_is_object(r->summary) || !json_is_object(r->params)) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"summary\" and \"params\" must be objects",
			    what);
		goto out;
	}
	GUARD(parse_times(root, what, r));
	GUARD(ca_fields_get_hex64(root, "nonce", what, r->nonce));
	GUARD(
	    ca_fields_get_hex64(root, "quorum_sha256", what, r->quorum_sha256));
out:
	return rc;
}

int ca_request_parse(const unsigned char *data, size_t len, const char *what,
		     struct ca_request **out)
{
	struct ca_request *r = NULL;
	unsigned char md[32];
	json_t *root = NULL;
	int rc;

	*out = NULL;
	if (what == NULL)
		what = "approval request";
	GUARD(ca_json_parse_strict(data, len, what, "", &root));
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(parse_request(root, what, r));
	r->raw = malloc(len + 1);
	if (r->raw == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	memcpy(r->raw, data, len);
	r->raw[len] = '\0';
	r->raw_len = len;
	GUARD(ca_sha256(data, len, md));
	ca_hex(md, 32, r->sha256_hex);
	*out = r;
	r = NULL;
out:
	json_decref(root);
	ca_request_free(r);
	return rc;
}

/* ca_request_parse for ca_read_parse. */
static int parse_file(const unsigned char *data, size_t len, const char *path,
		      void *out)
{
	return ca_request_parse(data, len, path, out);
}

int ca_request_load(const char *path, struct ca_request **out)
{
	*out = NULL;
	return ca_read_parse(path, parse_file, out);
}

static int spec_check(const struct ca_request_spec *spec, char spki[65],
		      char quorum[65])
{
	const char *want;

	want = spec->action ? tbs_type_for(spec->action) : NULL;
	if (want == NULL || spec->tbs_type == NULL ||
	    strcmp(want, spec->tbs_type) != 0)
		return ca_err(CA_EIO,
			      "approval request: bad action or TBS type");
	if (spec->tbs == NULL || spec->tbs_len == 0 ||
	    spec->tbs_len > CA_MAX_INPUT / 2)
		return ca_err(CA_EPOLICY,
			      "the data to be approved is empty or larger than "
			      "%d bytes",
			      CA_MAX_INPUT / 2);
	if (!ca_fields_hex64_lower(spec->ca_spki_sha256, spki) ||
	    !ca_fields_hex64_lower(spec->quorum_sha256, quorum))
		return ca_err(CA_EIO,
			      "approval request: bad CA or quorum hash");
	if (spec->ca_token_serial == NULL || spec->ca_key == NULL ||
	    !ca_fields_text_ok(spec->ca_token_serial, MAX_TEXT) ||
	    !ca_fields_text_ok(spec->ca_key, MAX_TEXT))
		return ca_err(CA_EIO,
			      "approval request: bad token serial or key");
	if (spec->ttl_seconds < TTL_MIN || spec->ttl_seconds > TTL_MAX)
		return ca_err(CA_EUSAGE,
			      "approval TTL %ld s is out of range (1s to 30d)",
			      spec->ttl_seconds);
	if ((spec->summary != NULL && !json_is_object(spec->summary)) ||
	    (spec->params != NULL && !json_is_object(spec->params)))
		return ca_err(CA_EIO, "approval request: summary and params "
				      "must be objects");
	return CA_OK;
}

/* The request text: sorted keys, indented, newline-terminated. */
static int request_text(const struct ca_request_spec *spec, const char *spki,
			const char *quorum, char **text, size_t *len)
{
	unsigned char nonce_raw[32], md[32];
	char nonce[65], tbs_hash[65], created[32], expires[32];
	char *tbs_b64 = NULL, *dump = NULL;
	json_t *summary = NULL, *params = NULL, *root = NULL;
	time_t now = ca_now();
	int rc = CA_OK;

	*text = NULL;
	if (RAND_bytes(nonce_raw, sizeof(nonce_raw)) != 1) {
		rc = ca_err(CA_EIO, "the random number generator failed");
		goto out;
	}
	ca_hex(nonce_raw, sizeof(nonce_raw), nonce);
	GUARD(ca_sha256(spec->tbs, spec->tbs_len, md));
	ca_hex(md, 32, tbs_hash);
	ca_time_rfc3339(now, created, sizeof(created));
	ca_time_rfc3339(now + spec->ttl_seconds, expires, sizeof(expires));
	tbs_b64 = ca_base64_encode(spec->tbs, spec->tbs_len);
	summary = spec->summary ? json_incref(spec->summary) : json_object();
	params = spec->params ? json_incref(spec->params) : json_object();
	if (tbs_b64 == NULL || summary == NULL || params == NULL)
		goto oom;
	root = json_pack("{s:i, s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:O, "
			 "s:O, s:s, s:s, s:s, s:s}",
			 "hsmca_approval_request", 1, "action", spec->action,
			 "ca", "spki_sha256", spki, "token_serial",
			 spec->ca_token_serial, "key", spec->ca_key, "tbs_type",
			 spec->tbs_type, "tbs", tbs_b64, "tbs_sha256", tbs_hash,
			 "summary", summary, "params", params, "created",
			 created, "expires", expires, "nonce", nonce,
			 "quorum_sha256", quorum);
	if (root == NULL)
		goto oom;
	dump = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (dump == NULL)
		goto oom;
	*len = strlen(dump) + 1;
	*text = malloc(*len + 1);
	if (*text == NULL)
		goto oom;
	memcpy(*text, dump, *len - 1);
	(*text)[*len - 1] = '\n';
	(*text)[*len] = '\0';
	goto out;
oom:
	rc = ca_err(CA_EIO, "cannot build the approval request");
out:
	free(dump);
	free(tbs_b64);
	json_decref(summary);
	json_decref(params);
	json_decref(root);
	return rc;
}

int ca_request_write(const struct ca_request_spec *spec, const char *path,
		     int force)
{
	struct ca_request *check = NULL;
	char spki[65], quorum[65], *text = NULL;
	size_t len = 0;
	int rc;

	GUARD(spec_check(spec, spki, quorum));
	GUARD(ca_out_check(path, force));
	GUARD(request_text(spec, spki, quorum, &text, &len));
	if (len > CA_MAX_INPUT) {
		rc =
		    ca_err(CA_EPOLICY,
			   "the approval request would be larger than %d bytes",
			   CA_MAX_INPUT);
		goto out;
	}
	/* What is written must load back: never hand approvers a request
	 * the execution step would refuse. */
	rc = ca_request_parse((const unsigned char *)text, len, path, &check);
	if (rc < 0) {
		rc = ca_err_ctx(CA_EIO, "internal error writing %s", path);
		goto out;
	}
	GUARD(ca_out_write(path, text, len, force, 0644));
out:
	ca_request_free(check);
	free(text);
	return rc;
}

static int describe_tbs(const struct ca_request *req, json_t *obj)
{
	json_t *j = NULL;
	char *text;
	const char *key = req->tbs_type;
	int rc = CA_OK;

	if (strcmp(req->tbs_type, "certificate") == 0) {
		GUARD(ca_describe_cert(req->tbs, req->tbs_len, &j));
	} else if (strcmp(req->tbs_type, "crl") == 0) {
		GUARD(ca_describe_crl(req->tbs, req->tbs_len, &j));
	} else {
		key = "revocation";
		text = ca_text_clean(req->tbs, req->tbs_len, 1, 0);
		if (text == NULL)
			return ca_err(CA_EIO, "out of memory");
		j = json_string(text);
		free(text);
	}
	if (json_object_set_new(obj, key, j) != 0)
		rc = ca_err(CA_EIO, "out of memory");
out:
	return rc;
}

int ca_request_describe(const struct ca_request *req, json_t **out)
{
	unsigned char digest[32], tbs_md[32];
	char words[32 * 12 + 1], created[32], expires[32], tbs_hex[65];
	size_t dlen = 0;
	json_t *obj = NULL;
	time_t now = ca_now();
	char *key = NULL, *token = NULL;
	int rc;

	*out = NULL;
	/* The file's CA key and token serial are any text without C0
	 * controls: shown as printable ASCII like the rest, so that C1
	 * controls or bidirectional overrides cannot disguise them. */
	key = ca_text_clean((const unsigned char *)req->ca_key,
			    strlen(req->ca_key), 0, 0);
	token = ca_text_clean((const unsigned char *)req->ca_token_serial,
			      strlen(req->ca_token_serial), 0, 0);
	if (key == NULL || token == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_unhex(req->sha256_hex, digest, sizeof(digest), &dlen));
	GUARD(ca_sha256(req->tbs, req->tbs_len, tbs_md));
	ca_hex(tbs_md, 32, tbs_hex);
	ca_words(digest, dlen, words, sizeof(words));
	ca_time_rfc3339(req->created, created, sizeof(created));
	ca_time_rfc3339(req->expires, expires, sizeof(expires));
	obj =
	    json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:I, "
		      "s:s, s:s, s:b, s:s, s:s}",
		      "request_sha256", req->sha256_hex, "request_words", words,
		      "action", req->action, "tbs_type", req->tbs_type, "ca",
		      "spki_sha256", req->ca_spki_sha256, "token_serial", token,
		      "key", key, "tbs_sha256", tbs_hex, "tbs_bytes",
		      (json_int_t)req->tbs_len, "created", created, "expires",
		      expires, "expired", now >= req->expires, "nonce",
		      req->nonce, "quorum_sha256", req->quorum_sha256);
	if (obj == NULL) {
		rc = ca_err(CA_EIO, "cannot describe the approval request");
		goto out;
	}
	GUARD(describe_tbs(req, obj));
	*out = obj;
	obj = NULL;
out:
	free(token);
	free(key);
	json_decref(obj);
	return rc;
}

json_t *ca_request_summary_cert(const unsigned char *tbs, size_t tbs_len)
{
	json_t *full = NULL, *j = NULL, *key;

	if (ca_describe_cert(tbs, tbs_len, &full) < 0)
		return NULL;
	key = json_object_get(full, "public_key");
	j = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O?, s:O?}", "subject",
		      json_object_get(full, "subject"), "issuer",
		      json_object_get(full, "issuer"), "serial",
		      json_object_get(full, "serial"), "not_before",
		      json_object_get(full, "not_before"), "not_after",
		      json_object_get(full, "not_after"), "public_key",
		      json_object_get(key, "type"), "spki_sha256",
		      json_object_get(key, "spki_sha256"));
	json_decref(full);
	return j;
}
