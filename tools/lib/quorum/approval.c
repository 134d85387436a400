#include "quorum/approval.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/util.h"
#include "common/pin.h"
#include "common/secret.h"
#include "out/file.h"
#include "sign/signer.h"
#include "x509/cert.h"

#define TTL_MIN		 1L
#define TTL_MAX		 (30L * 24 * 3600)
#define MAX_TEXT	 2048  /* token serial, key URI */
#define MAX_SIG		 2048  /* RSA-16384 */
#define MAX_KEY_FILE	 65536 /* a PEM private key */
#define SHOW_CRL_ENTRIES 10    /* first CRL entries shown */
#define CREATED_SKEW	 300   /* clock skew allowed for "created" */
#define MSG_LEN		 (sizeof(CA_APPROVAL_PREFIX) - 1 + 64)

/* ---------------------------------------------------------------------- */
/* Small strict helpers                                                    */

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

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* Lowercase copy of a 64-digit hex string; 0 when it is not one. */
static int hex64_lower(const char *in, char out[65])
{
	size_t i;

	if (in == NULL || strlen(in) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		out[i] =
		    (in[i] >= 'A' && in[i] <= 'F') ? (char)(in[i] + 32) : in[i];
	out[64] = '\0';
	return is_hex64(out);
}

/* Printed to the operator: no control characters. */
static int text_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* RFC 3339 UTC exactly as ca_time_rfc3339 writes it. */
static int time_strict(const char *s, time_t *t)
{
	char back[32];

	if (strlen(s) != 20 || ca_parse_time(s, t) < 0)
		return 0;
	ca_time_rfc3339(*t, back, sizeof(back));
	return strcmp(back, s) == 0;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (RFC 4648 section 4): padded, no whitespace, unused bits
 * zero, so one value has exactly one encoding. *out is malloc'd. */
static int b64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(in), i, o = 0, pad = 0;
	unsigned char *buf;
	unsigned long v;
	int j, d[4];

	*out = NULL;
	*outlen = 0;
	if (n == 0 || n % 4 != 0)
		return 0;
	if (in[n - 1] == '=') {
		pad = 1;
		if (in[n - 2] == '=')
			pad = 2;
	}
	buf = malloc(n / 4 * 3);
	if (buf == NULL)
		return 0;
	for (i = 0; i < n; i += 4) {
		for (j = 0; j < 4; j++) {
			d[j] = (i + (size_t)j >= n - pad)
				   ? 0
				   : b64val((unsigned char)in[i + j]);
			if (d[j] < 0)
				goto bad;
		}
		v = (unsigned long)d[0] << 18 | (unsigned long)d[1] << 12 |
		    (unsigned long)d[2] << 6 | (unsigned long)d[3];
		buf[o++] = (unsigned char)(v >> 16);
		if (i + 4 < n || pad < 2)
			buf[o++] = (unsigned char)(v >> 8);
		if (i + 4 < n || pad < 1)
			buf[o++] = (unsigned char)v;
		if (i + 4 == n && ((pad == 2 && (d[1] & 0x0f) != 0) ||
				   (pad == 1 && (d[2] & 0x03) != 0)))
			goto bad;
	}
	*out = buf;
	*outlen = o;
	return 1;
bad:
	free(buf);
	return 0;
}

/* Base64 text of data (malloc'd, NUL-terminated), NULL on failure. */
static char *b64_encode(const unsigned char *data, size_t len)
{
	char *out;

	if (len > (size_t)INT_MAX / 2)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	if (EVP_EncodeBlock((unsigned char *)out, data, (int)len) < 0) {
		free(out);
		return NULL;
	}
	return out;
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

/* The approved message: prefix then the request file's SHA-256 in hex. */
static void approval_message(const char *request_sha256,
			     unsigned char msg[MSG_LEN])
{
	memcpy(msg, CA_APPROVAL_PREFIX, sizeof(CA_APPROVAL_PREFIX) - 1);
	memcpy(msg + sizeof(CA_APPROVAL_PREFIX) - 1, request_sha256, 64);
}

/* The one signature algorithm each accepted key type signs with. */
struct sigalg {
	const char *name;
	const char *md; /* NULL: pure Ed25519 */
};

static const struct sigalg alg_ed25519 = {"ed25519", NULL};
static const struct sigalg alg_p256 = {"ecdsa-sha256", "SHA256"};
static const struct sigalg alg_p384 = {"ecdsa-sha384", "SHA384"};
static const struct sigalg alg_rsa = {"rsa-pkcs1-sha256", "SHA256"};

static const struct sigalg *alg_for_key(const EVP_PKEY *pub)
{
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_ED25519:
		return &alg_ed25519;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_bits(pub) == 256)
			return &alg_p256;
		if (EVP_PKEY_get_bits(pub) == 384)
			return &alg_p384;
		return NULL;
	case EVP_PKEY_RSA:
		return &alg_rsa;
	default:
		return NULL;
	}
}

static int alg_known(const char *name)
{
	return strcmp(name, alg_ed25519.name) == 0 ||
	       strcmp(name, alg_p256.name) == 0 ||
	       strcmp(name, alg_p384.name) == 0 ||
	       strcmp(name, alg_rsa.name) == 0;
}

/* 1 when sig is a valid signature by pub over msg with alg. */
static int sig_verifies(EVP_PKEY *pub, const struct sigalg *alg,
			const unsigned char *msg, size_t msglen,
			const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	if (md == NULL)
		goto out;
	if (EVP_DigestVerifyInit_ex(md, &pctx, alg->md, NULL, NULL, pub,
				    NULL) != 1)
		goto out;
	/* RSA: PKCS#1 v1.5 only (RFC 8017 8.2), never PSS by default. */
	if (alg == &alg_rsa &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	ok = EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1;
out:
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

/* ---------------------------------------------------------------------- */
/* TTL                                                                     */

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

/* ---------------------------------------------------------------------- */
/* Requests                                                                */

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

/* A string member; error names the member. */
static int get_str(json_t *obj, const char *key, const char *what,
		   const char **out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return ca_err(CA_EPOLICY,
			      "%s: \"%s\" is missing or not a string", what,
			      key);
	*out = json_string_value(v);
	return CA_OK;
}

static int get_hex64(json_t *obj, const char *key, const char *what,
		     char out[65])
{
	const char *s = NULL;
	int rc;

	GUARD(get_str(obj, key, what, &s));
	if (!is_hex64(s)) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"%s\" must be 64 lowercase hex digits", what,
			    key);
		goto out;
	}
	memcpy(out, s, 65);
out:
	return rc;
}

static int dup_text(json_t *obj, const char *key, const char *what, size_t max,
		    char **out)
{
	const char *s = NULL;
	int rc;

	GUARD(get_str(obj, key, what, &s));
	if (!text_ok(s, max)) {
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
	GUARD(ca_quorum_keys_allowed(ca, what, allowed));
	GUARD(get_hex64(ca, "spki_sha256", what, hex));
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

	GUARD(get_str(root, "tbs", what, &b64));
	GUARD(get_hex64(root, "tbs_sha256", what, want));
	if (!b64_decode(b64, &r->tbs, &r->tbs_len)) {
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

	GUARD(get_str(root, "created", what, &created));
	GUARD(get_str(root, "expires", what, &expires));
	if (!time_strict(created, &r->created) ||
	    !time_strict(expires, &r->expires)) {
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
	GUARD(ca_quorum_keys_allowed(root, what, allowed));
	v = json_object_get(root, "hsmca_approval_request");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		rc = ca_err(CA_EPOLICY,
			    "%s: not an approval request "
			    "(\"hsmca_approval_request\": 1)",
			    what);
		goto out;
	}
	GUARD(get_str(root, "action", what, &action));
	GUARD(get_str(root, "tbs_type", what, &tbs_type));
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
	GUARD(get_hex64(root, "nonce", what, r->nonce));
	GUARD(get_hex64(root, "quorum_sha256", what, r->quorum_sha256));
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
	GUARD(ca_quorum_json_parse(data, len, what, "", &root));
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

int ca_request_load(const char *path, struct ca_request **out)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	GUARD(ca_read_file(path, CA_MAX_INPUT, &data, &len));
	GUARD(ca_request_parse(data, len, path, out));
out:
	free(data);
	return rc;
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
	if (!hex64_lower(spec->ca_spki_sha256, spki) ||
	    !hex64_lower(spec->quorum_sha256, quorum))
		return ca_err(CA_EIO,
			      "approval request: bad CA or quorum hash");
	if (spec->ca_token_serial == NULL || spec->ca_key == NULL ||
	    !text_ok(spec->ca_token_serial, MAX_TEXT) ||
	    !text_ok(spec->ca_key, MAX_TEXT))
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
	tbs_b64 = b64_encode(spec->tbs, spec->tbs_len);
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

/* ---------------------------------------------------------------------- */
/* Decoding the TBS for display (never from "summary")                      */

/* Printable ASCII; anything else as \xNN (and \ as \\, unless the text
 * is escaped already), newlines kept when asked, so what the operator reads
 * cannot hide bytes or drive the terminal. */
static char *clean_text(const unsigned char *s, size_t n, int newlines,
			int escaped)
{
	static const char digits[] = "0123456789abcdef";
	size_t i, o = 0;
	char *out;

	if (n > (SIZE_MAX - 1) / 4)
		return NULL;
	out = malloc(4 * n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '\\' && !escaped) {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if ((c >= 0x20 && c < 0x7f) || (newlines && c == '\n')) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static json_t *bio_text(BIO *b, int newlines, int escaped)
{
	char *data = NULL, *clean;
	long n = BIO_get_mem_data(b, &data);
	json_t *j;

	if (n < 0 || data == NULL)
		return json_string("");
	/* Drop trailing newlines. */
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' '))
		n--;
	clean = clean_text((const unsigned char *)data, (size_t)n, newlines,
			   escaped);
	if (clean == NULL)
		return NULL;
	j = json_string(clean);
	free(clean);
	return j;
}

/* RFC 2253 with every non-ASCII byte escaped (\C3\A9): look-alike
 * characters are visible to the people approving. */
static json_t *name_json(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	json_t *j = NULL;

	if (b != NULL && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
		j = bio_text(b, 0, 1);
	BIO_free(b);
	return j;
}

static json_t *time_json(const ASN1_TIME *t)
{
	char buf[32];
	struct tm tm;

	if (t == NULL)
		return json_null();
	if (ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return json_string("(invalid time)");
	}
	ca_time_rfc3339(timegm(&tm), buf, sizeof(buf));
	return json_string(buf);
}

/* Colon-separated hex of an INTEGER's magnitude, "-" when negative. */
static json_t *integer_hex_json(const ASN1_INTEGER *a)
{
	const unsigned char *p = ASN1_STRING_get0_data(a);
	int i, n = ASN1_STRING_length(a), neg;
	char *s;
	size_t o = 0;
	json_t *j;

	neg = ASN1_STRING_type(a) == V_ASN1_NEG_INTEGER;
	if (n <= 0)
		return json_string("00");
	s = malloc((size_t)n * 3 + 2);
	if (s == NULL)
		return NULL;
	if (neg)
		s[o++] = '-';
	for (i = 0; i < n; i++) {
		snprintf(s + o, 4, "%s%02x", i ? ":" : "", p[i]);
		o += i ? 3 : 2;
	}
	j = json_string(s);
	free(s);
	return j;
}

static json_t *alg_json(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *obj = NULL;
	char buf[128];

	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (obj == NULL || OBJ_obj2txt(buf, sizeof(buf), obj, 0) <= 0)
		return json_string("(unknown)");
	return json_string(buf);
}

static json_t *ext_json(X509_EXTENSION *ext)
{
	ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
	char name[128], oid[128];
	BIO *b = BIO_new(BIO_s_mem());
	json_t *j = NULL, *value = NULL;

	if (b == NULL || OBJ_obj2txt(name, sizeof(name), obj, 0) <= 0 ||
	    OBJ_obj2txt(oid, sizeof(oid), obj, 1) <= 0)
		goto out;
	if (X509V3_EXT_print(b, ext, X509V3_EXT_DUMP_UNKNOWN, 0) == 1) {
		value = bio_text(b, 1, 0);
	} else {
		/* A known extension whose value does not decode. */
		const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
		char *hex = malloc(2 * (size_t)ASN1_STRING_length(v) + 1);

		if (hex != NULL) {
			ca_hex(ASN1_STRING_get0_data(v),
			       (size_t)ASN1_STRING_length(v), hex);
			value = json_sprintf("(does not decode) DER %s", hex);
		}
		free(hex);
	}
	ERR_clear_error();
	if (value == NULL)
		goto out;
	j = json_pack("{s:s, s:s, s:b, s:o}", "name", name, "oid", oid,
		      "critical", X509_EXTENSION_get_critical(ext) > 0, "value",
		      value);
	value = NULL;
out:
	json_decref(value);
	BIO_free(b);
	return j;
}

static json_t *exts_json(const STACK_OF(X509_EXTENSION) * exts)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; arr != NULL && i < sk_X509_EXTENSION_num(exts); i++)
		if (json_array_append_new(
			arr, ext_json(sk_X509_EXTENSION_value(exts, i))) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *pubkey_json(X509_PUBKEY *xpk)
{
	unsigned char *der = NULL, md[32];
	char hex[65], group[80], type[128];
	EVP_PKEY *pkey;
	size_t gl = 0;
	json_t *j = NULL;
	int n;

	n = i2d_X509_PUBKEY(xpk, &der);
	if (n <= 0 || ca_sha256(der, (size_t)n, md) < 0)
		goto out;
	ca_hex(md, 32, hex);
	pkey = X509_PUBKEY_get0(xpk);
	if (pkey == NULL) {
		ASN1_OBJECT *obj = NULL;

		ERR_clear_error();
		if (X509_PUBKEY_get0_param(&obj, NULL, NULL, NULL, xpk) != 1 ||
		    OBJ_obj2txt(type, sizeof(type), obj, 0) <= 0)
			snprintf(type, sizeof(type), "unknown");
		j = json_pack("{s:s, s:s}", "type", type, "spki_sha256", hex);
		goto out;
	}
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		snprintf(type, sizeof(type), "RSA");
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(type, sizeof(type), "RSA-PSS");
		break;
	case EVP_PKEY_EC:
		snprintf(type, sizeof(type), "EC");
		break;
	case EVP_PKEY_ED25519:
		snprintf(type, sizeof(type), "Ed25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(type, sizeof(type), "Ed448");
		break;
	default:
		snprintf(type, sizeof(type), "%s",
			 OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
	}
	j = json_pack("{s:s, s:i, s:s}", "type", type, "bits",
		      EVP_PKEY_get_bits(pkey), "spki_sha256", hex);
	if (j != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_utf8_string_param(
			pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&gl) != 1)
			snprintf(group, sizeof(group), "explicit parameters");
		json_object_set_new(j, "curve", json_string(group));
	}
out:
	ERR_clear_error();
	OPENSSL_free(der);
	return j;
}

/* A TBS wrapped as SEQUENCE { tbs, placeholder algorithm, empty BIT
 * STRING } so OpenSSL's decoders take it; the placeholder is never shown. */
static int wrap_tbs(const unsigned char *tbs, size_t tbs_len,
		    unsigned char **der, size_t *len)
{
	/* sha256WithRSAEncryption, NULL parameters */
	static const unsigned char alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a,
					    0x86, 0x48, 0x86, 0xf7, 0x0d,
					    0x01, 0x01, 0x0b, 0x05, 0x00};
	static const unsigned char sig[] = {0x03, 0x01, 0x00};
	unsigned char hdr[6];
	size_t body = tbs_len + sizeof(alg) + sizeof(sig), hl;

	if (tbs_len > 0xffffff)
		return ca_err(CA_EPOLICY, "the data to be signed is too large");
	hl = ca_der_header(0x30, body, hdr);
	*len = hl + body;
	*der = malloc(*len);
	if (*der == NULL)
		return ca_err(CA_EIO, "out of memory");
	memcpy(*der, hdr, hl);
	memcpy(*der + hl, tbs, tbs_len);
	memcpy(*der + hl + tbs_len, alg, sizeof(alg));
	memcpy(*der + hl + tbs_len + sizeof(alg), sig, sizeof(sig));
	return CA_OK;
}

static int describe_cert(const unsigned char *tbs, size_t tbs_len, json_t **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *x = NULL;
	size_t len = 0;
	json_t *j;
	int rc;

	GUARD(wrap_tbs(tbs, tbs_len, &der, &len));
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != der + len) {
		rc =
		    ca_err(CA_EPOLICY,
			   "the certificate to be signed (TBSCertificate) does "
			   "not decode");
		goto out;
	}
	j = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		      "version", (int)X509_get_version(x) + 1, "subject",
		      name_json(X509_get_subject_name(x)), "issuer",
		      name_json(X509_get_issuer_name(x)), "serial",
		      integer_hex_json(X509_get0_serialNumber(x)), "not_before",
		      time_json(X509_get0_notBefore(x)), "not_after",
		      time_json(X509_get0_notAfter(x)), "signature_algorithm",
		      alg_json(X509_get0_tbs_sigalg(x)), "public_key",
		      pubkey_json(X509_get_X509_PUBKEY(x)), "extensions",
		      exts_json(X509_get0_extensions(x)));
	if (j == NULL) {
		rc = ca_err(CA_EIO, "cannot describe the certificate");
		goto out;
	}
	*out = j;
out:
	ERR_clear_error();
	X509_free(x);
	free(der);
	return rc;
}

static const char *reason_name(long code)
{
	static const char *const names[] = {
	    "unspecified",	  "keyCompromise", "cACompromise",
	    "affiliationChanged", "superseded",	   "cessationOfOperation",
	    "certificateHold",	  "(7)",	   "removeFromCRL",
	    "privilegeWithdrawn", "aACompromise"};

	if (code < 0 || code > 10)
		return "(unknown)";
	return names[code];
}

static json_t *revoked_json(X509_REVOKED *r)
{
	ASN1_ENUMERATED *reason;
	json_t *j;
	int crit = 0;

	j = json_pack("{s:o, s:o}", "serial",
		      integer_hex_json(X509_REVOKED_get0_serialNumber(r)),
		      "revoked_at",
		      time_json(X509_REVOKED_get0_revocationDate(r)));
	reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL);
	if (j != NULL && reason != NULL)
		json_object_set_new(
		    j, "reason",
		    json_string(reason_name(ASN1_ENUMERATED_get(reason))));
	ASN1_ENUMERATED_free(reason);
	ERR_clear_error();
	return j;
}

static json_t *crl_number_json(X509_CRL *crl)
{
	ASN1_INTEGER *num;
	BIGNUM *bn = NULL;
	char *dec = NULL;
	json_t *j;
	int crit = 0;

	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num != NULL)
		bn = ASN1_INTEGER_to_BN(num, NULL);
	if (bn != NULL)
		dec = BN_bn2dec(bn);
	j = dec != NULL ? json_string(dec) : json_null();
	OPENSSL_free(dec);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	ERR_clear_error();
	return j;
}

/* TBSCertList (RFC 5280 5.1): SEQUENCE { version INTEGER OPTIONAL,
 * signature AlgorithmIdentifier, ... }; OpenSSL 3.0 has no accessor for
 * the inner algorithm, so read it from the bytes. */
static json_t *crl_tbs_alg_json(const unsigned char *tbs, size_t tbs_len)
{
	const unsigned char *p = tbs, *q;
	long len = 0;
	int tag = 0, xclass = 0, r;
	X509_ALGOR *alg = NULL;
	json_t *j = NULL;

	r = ASN1_get_object(&p, &len, &tag, &xclass, (long)tbs_len);
	if ((r & 0x80) != 0 || tag != V_ASN1_SEQUENCE)
		goto out;
	q = p;
	r = ASN1_get_object(&q, &len, &tag, &xclass, (long)(tbs + tbs_len - p));
	if ((r & 0x80) == 0 && tag == V_ASN1_INTEGER &&
	    xclass == V_ASN1_UNIVERSAL)
		p = q + len;
	alg = d2i_X509_ALGOR(NULL, &p, (long)(tbs + tbs_len - p));
	if (alg != NULL)
		j = alg_json(alg);
out:
	ERR_clear_error();
	X509_ALGOR_free(alg);
	return j != NULL ? j : json_string("(unknown)");
}

static int describe_crl(const unsigned char *tbs, size_t tbs_len, json_t **out)
{
	STACK_OF(X509_REVOKED) * revoked;
	unsigned char *der = NULL;
	const unsigned char *p;
	X509_CRL *crl = NULL;
	json_t *j = NULL, *first = NULL;
	size_t len = 0;
	int rc, i, n;

	GUARD(wrap_tbs(tbs, tbs_len, &der, &len));
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl == NULL || p != der + len) {
		rc = ca_err(
		    CA_EPOLICY,
		    "the CRL to be signed (TBSCertList) does not decode");
		goto out;
	}
	revoked = X509_CRL_get_REVOKED(crl);
	n = sk_X509_REVOKED_num(revoked);
	if (n < 0)
		n = 0;
	first = json_array();
	for (i = 0; first != NULL && i < n && i < SHOW_CRL_ENTRIES; i++)
		if (json_array_append_new(
			first, revoked_json(sk_X509_REVOKED_value(revoked, i))))
			goto oom;
	j = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:i, s:O, s:o}",
		      "version", (int)X509_CRL_get_version(crl) + 1, "issuer",
		      name_json(X509_CRL_get_issuer(crl)),
		      "signature_algorithm", crl_tbs_alg_json(tbs, tbs_len),
		      "this_update", time_json(X509_CRL_get0_lastUpdate(crl)),
		      "next_update", time_json(X509_CRL_get0_nextUpdate(crl)),
		      "crl_number", crl_number_json(crl), "entries", n,
		      "first_entries", first, "extensions",
		      exts_json(X509_CRL_get0_extensions(crl)));
	if (j == NULL)
		goto oom;
	*out = j;
	goto out;
oom:
	rc = ca_err(CA_EIO, "cannot describe the CRL");
out:
	json_decref(first);
	ERR_clear_error();
	X509_CRL_free(crl);
	free(der);
	return rc;
}

static int describe_tbs(const struct ca_request *req, json_t *obj)
{
	json_t *j = NULL;
	char *text;
	int rc = CA_OK;

	if (strcmp(req->tbs_type, "certificate") == 0) {
		GUARD(describe_cert(req->tbs, req->tbs_len, &j));
		json_object_set_new(obj, "certificate", j);
	} else if (strcmp(req->tbs_type, "crl") == 0) {
		GUARD(describe_crl(req->tbs, req->tbs_len, &j));
		json_object_set_new(obj, "crl", j);
	} else {
		text = clean_text(req->tbs, req->tbs_len, 1, 0);
		if (text == NULL)
			return ca_err(CA_EIO, "out of memory");
		json_object_set_new(obj, "revocation", json_string(text));
		free(text);
	}
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
	int rc;

	*out = NULL;
	GUARD(ca_unhex(req->sha256_hex, digest, sizeof(digest), &dlen));
	GUARD(ca_sha256(req->tbs, req->tbs_len, tbs_md));
	ca_hex(tbs_md, 32, tbs_hex);
	ca_words(digest, dlen, words, sizeof(words));
	ca_time_rfc3339(req->created, created, sizeof(created));
	ca_time_rfc3339(req->expires, expires, sizeof(expires));
	obj = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:I, "
			"s:s, s:s, s:b, s:s, s:s}",
			"request_sha256", req->sha256_hex, "request_words",
			words, "action", req->action, "tbs_type", req->tbs_type,
			"ca", "spki_sha256", req->ca_spki_sha256,
			"token_serial", req->ca_token_serial, "key",
			req->ca_key, "tbs_sha256", tbs_hex, "tbs_bytes",
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
	json_decref(obj);
	return rc;
}

json_t *ca_request_summary_cert(const unsigned char *tbs, size_t tbs_len)
{
	json_t *full = NULL, *j = NULL, *key;

	if (describe_cert(tbs, tbs_len, &full) < 0)
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

/* ---------------------------------------------------------------------- */
/* Approval files                                                          */

void ca_approval_free(struct ca_approval *a)
{
	if (a == NULL)
		return;
	free(a->signature);
	free(a);
}

static int parse_approval(json_t *root, const char *what, struct ca_approval *a)
{
	static const char *const allowed[] = {"hsmca_approval",
					      "approver",
					      "request_sha256",
					      "algorithm",
					      "signature",
					      "signed_at",
					      NULL};
	const char *s = NULL;
	json_t *v;
	int rc;

	if (!json_is_object(root))
		return ca_err(CA_EPOLICY, "%s: an approval is a JSON object",
			      what);
	GUARD(ca_quorum_keys_allowed(root, what, allowed));
	v = json_object_get(root, "hsmca_approval");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		rc =
		    ca_err(CA_EPOLICY,
			   "%s: not an approval (\"hsmca_approval\": 1)", what);
		goto out;
	}
	GUARD(get_str(root, "approver", what, &s));
	if (!ca_quorum_id_ok(s)) {
		rc = ca_err(CA_EPOLICY, "%s: \"approver\" is not a valid id",
			    what);
		goto out;
	}
	memcpy(a->approver, s, strlen(s) + 1);
	GUARD(get_hex64(root, "request_sha256", what, a->request_sha256));
	GUARD(get_str(root, "algorithm", what, &s));
	if (!alg_known(s)) {
		rc = ca_err(CA_EPOLICY, "%s: unknown algorithm \"%.32s\"", what,
			    s);
		goto out;
	}
	memcpy(a->algorithm, s, strlen(s) + 1);
	GUARD(get_str(root, "signature", what, &s));
	if (!b64_decode(s, &a->signature, &a->signature_len) ||
	    a->signature_len == 0 || a->signature_len > MAX_SIG) {
		rc =
		    ca_err(CA_EPOLICY,
			   "%s: \"signature\" is not a base64 signature", what);
		goto out;
	}
	GUARD(get_str(root, "signed_at", what, &s));
	if (!time_strict(s, &a->signed_at)) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"signed_at\" is not a UTC time like "
			    "2026-01-31T12:00:00Z",
			    what);
		goto out;
	}
out:
	return rc;
}

int ca_approval_parse(const unsigned char *data, size_t len, const char *what,
		      struct ca_approval **out)
{
	struct ca_approval *a = NULL;
	json_t *root = NULL;
	int rc;

	*out = NULL;
	if (what == NULL)
		what = "approval";
	GUARD(ca_quorum_json_parse(data, len, what, "truncated or damaged? ",
				   &root));
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(parse_approval(root, what, a));
	*out = a;
	a = NULL;
out:
	json_decref(root);
	ca_approval_free(a);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Signing an approval                                                     */

struct pass_cb_data {
	const char *source;
	const char *path;
	int asked;
	int rc;
};

/* OpenSSL asks only for encrypted keys; one attempt, no retry loop. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_cb_data *d = u;
	struct ca_pin pin;
	char prompt[300];
	int n = -1;

	(void)rwflag;
	if (d->asked++)
		return -1;
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", d->path);
	d->rc = ca_pin_read(d->source, prompt, &pin);
	if (d->rc == CA_OK) {
		if (size > 0 && pin.len <= (size_t)size) {
			memcpy(buf, pin.value, pin.len);
			n = (int)pin.len;
		} else {
			d->rc =
			    ca_err(CA_EUSAGE, "passphrase for %s is too long",
				   d->path);
		}
	}
	ca_pin_wipe(&pin);
	return n;
}

/* A private key file is a secret (common/secret.h), encrypted or not. */
static int read_key_file(const char *path, unsigned char **data, size_t *len)
{
	unsigned char *buf = NULL;
	size_t used = 0;
	int fd = -1, rc = CA_EIO;

	*data = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = ca_err(CA_EIO, "cannot open the key file %s: %s", path,
			    strerror(errno));
		goto out;
	}
	GUARD(ca_secret_file_check(fd, "key file", path));
	buf = malloc(MAX_KEY_FILE + 1);
	if (buf == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(ca_read_fd(fd, path, buf, MAX_KEY_FILE + 1, &used));
	if (used > MAX_KEY_FILE) {
		rc = ca_err(CA_EUSAGE, "key file %s is larger than %d bytes",
			    path, MAX_KEY_FILE);
		goto out;
	}
	*data = buf;
	*len = used;
	buf = NULL;
	rc = CA_OK;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, MAX_KEY_FILE + 1);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int load_key_file(const char *path, const char *pass_source,
			 EVP_PKEY **out)
{
	struct pass_cb_data cb = {pass_source, path, 0, CA_OK};
	unsigned char *data = NULL;
	size_t len = 0;
	BIO *b = NULL;
	int rc;

	*out = NULL;
	GUARD(read_key_file(path, &data, &len));
	b = BIO_new_mem_buf(data, (int)len);
	if (b == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	*out = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &cb);
	if (*out == NULL) {
		if (cb.rc < 0)
			rc = cb.rc;
		else if (cb.asked)
			rc = ca_err(CA_EIO,
				    "cannot decrypt the key file %s: wrong "
				    "passphrase?",
				    path);
		else
			rc = ca_err(CA_EUSAGE,
				    "%s is not a PEM private key file", path);
	}
out:
	ERR_clear_error();
	BIO_free(b);
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	return rc;
}

static int sign_soft(EVP_PKEY *pkey, const struct sigalg *alg,
		     const unsigned char *msg, size_t msglen,
		     unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 0;
	int rc = CA_EIO;

	*sig = NULL;
	if (md == NULL || EVP_DigestSignInit_ex(md, &pctx, alg->md, NULL, NULL,
						pkey, NULL) != 1)
		goto out;
	if (alg == &alg_rsa &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestSign(md, NULL, &n, msg, msglen) != 1 || n == 0)
		goto out;
	*sig = malloc(n);
	if (*sig == NULL || EVP_DigestSign(md, *sig, &n, msg, msglen) != 1)
		goto out;
	*siglen = n;
	rc = CA_OK;
out:
	if (rc < 0) {
		free(*sig);
		*sig = NULL;
		ca_err(CA_EIO, "signing the approval failed");
	}
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	return rc;
}

/* Sign msg with the key named by key (file or pkcs11: URI); *pub gets a
 * reference to the public key (owned by *keep_pkey or *keep_signer). */
static int sign_with(const char *key, const char *pass_source,
		     const unsigned char *msg, size_t msglen,
		     EVP_PKEY **keep_pkey, struct ca_signer **keep_signer,
		     EVP_PKEY **pub, const struct sigalg **alg,
		     unsigned char **sig, size_t *siglen)
{
	int rc;

	if (strncmp(key, "pkcs11:", 7) == 0) {
		GUARD(ca_signer_open(key, pass_source, keep_signer));
		*pub = (*keep_signer)->pub;
	} else {
		GUARD(load_key_file(key, pass_source, keep_pkey));
		*pub = *keep_pkey;
	}
	GUARD(ca_quorum_key_ok(*pub, key));
	*alg = alg_for_key(*pub);
	if (*alg == NULL) {
		rc = ca_err(CA_EPOLICY, "%s: key type not accepted", key);
		goto out;
	}
	if (*keep_signer != NULL)
		/* The token signs with the digest ca_digest_for_key picks:
		 * SHA-256 for RSA and P-256, SHA-384 for P-384. */
		GUARD(ca_signer_sign(*keep_signer, msg, msglen, sig, siglen));
	else
		GUARD(sign_soft(*keep_pkey, *alg, msg, msglen, sig, siglen));
out:
	return rc;
}

static int approval_text(const char *id, const char *request_sha256,
			 const struct sigalg *alg, const unsigned char *sig,
			 size_t siglen, char **text, size_t *len)
{
	char now[32], *b64 = NULL, *dump = NULL;
	json_t *root = NULL;
	int rc = CA_OK;

	*text = NULL;
	ca_time_rfc3339(ca_now(), now, sizeof(now));
	b64 = b64_encode(sig, siglen);
	if (b64 != NULL)
		root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}",
				 "hsmca_approval", 1, "approver", id,
				 "request_sha256", request_sha256, "algorithm",
				 alg->name, "signature", b64, "signed_at", now);
	if (root != NULL)
		dump = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (dump == NULL || (*text = malloc(strlen(dump) + 2)) == NULL) {
		rc = ca_err(CA_EIO, "cannot build the approval");
		goto out;
	}
	*len = strlen(dump) + 1;
	memcpy(*text, dump, *len - 1);
	(*text)[*len - 1] = '\n';
	(*text)[*len] = '\0';
out:
	free(dump);
	free(b64);
	json_decref(root);
	return rc;
}

int ca_approval_sign_req(const struct ca_request *req, const char *id,
			 const char *key, const char *pass_source,
			 const char *out, int force)
{
	unsigned char msg[MSG_LEN], *sig = NULL;
	const struct sigalg *alg = NULL;
	struct ca_signer *signer = NULL;
	EVP_PKEY *pkey = NULL, *pub = NULL;
	char when[32], *text = NULL;
	size_t siglen = 0, len = 0;
	int rc;

	if (id == NULL || !ca_quorum_id_ok(id))
		return ca_err(CA_EUSAGE,
			      "--id must be 1 to %d characters of A-Z a-z 0-9 "
			      ". _ -",
			      CA_QUORUM_MAX_ID);
	GUARD(ca_out_check(out, force));
	if (ca_now() >= req->expires) {
		ca_time_rfc3339(req->expires, when, sizeof(when));
		rc = ca_err(CA_EPOLICY,
			    "the approval request expired at %s: ask for a new "
			    "one",
			    when);
		goto out;
	}
	approval_message(req->sha256_hex, msg);
	GUARD(sign_with(key, pass_source, msg, sizeof(msg), &pkey, &signer,
			&pub, &alg, &sig, &siglen));
	/* Never hand out an approval that would not count. */
	if (!sig_verifies(pub, alg, msg, sizeof(msg), sig, siglen)) {
		rc = ca_err(CA_EIO,
			    "the signature made with %s does not verify: "
			    "nothing was written",
			    key);
		goto out;
	}
	GUARD(
	    approval_text(id, req->sha256_hex, alg, sig, siglen, &text, &len));
	GUARD(ca_out_write(out, text, len, force, 0644));
out:
	free(text);
	free(sig);
	EVP_PKEY_free(pkey);
	ca_signer_free(signer);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Verifying approvals                                                     */

/* One approval file against the request and the quorum: 1 valid, 0 not;
 * why says why not. */
static int eval_file(const struct ca_request *req, const struct ca_quorum *q,
		     const char *path, char id[CA_QUORUM_MAX_ID + 1], char *why,
		     size_t whylen)
{
	unsigned char msg[MSG_LEN], *data = NULL;
	const struct ca_approver *who;
	const struct sigalg *alg;
	struct ca_approval *a = NULL;
	size_t len = 0;
	int ok = 0;

	id[0] = '\0';
	why[0] = '\0';
	ca_err_clear();
	if (ca_read_file(path, CA_MAX_INPUT, &data, &len) < 0 ||
	    ca_approval_parse(data, len, "approval file", &a) < 0) {
		snprintf(why, whylen, "%s", ca_errmsg());
		goto out;
	}
	snprintf(id, CA_QUORUM_MAX_ID + 1, "%s", a->approver);
	who = ca_quorum_find(q, a->approver);
	if (who == NULL) {
		snprintf(why, whylen, "\"%s\" is not an approver in the quorum",
			 a->approver);
		goto out;
	}
	if (CRYPTO_memcmp(a->request_sha256, req->sha256_hex, 64) != 0) {
		snprintf(why, whylen,
			 "approves a different request (SHA-256 %.16s...), "
			 "not this one (%.16s...)",
			 a->request_sha256, req->sha256_hex);
		goto out;
	}
	alg = alg_for_key(who->pub);
	if (alg == NULL || strcmp(alg->name, a->algorithm) != 0) {
		snprintf(why, whylen,
			 "algorithm %s is not the one %s's key signs with (%s)",
			 a->algorithm, who->id, alg ? alg->name : "none");
		goto out;
	}
	approval_message(req->sha256_hex, msg);
	if (!sig_verifies(who->pub, alg, msg, sizeof(msg), a->signature,
			  a->signature_len)) {
		snprintf(why, whylen,
			 "the signature does not verify with %s's public key",
			 who->id);
		goto out;
	}
	ok = 1;
out:
	ca_err_clear();
	ca_approval_free(a);
	free(data);
	return ok;
}

int ca_approvals_eval(const struct ca_request *req,
		      const struct ca_quorum *quorum,
		      const char *const *approval_files, int n_files,
		      json_t **report)
{
	char id[CA_QUORUM_MAX_ID + 1], why[512];
	json_t *list = json_array(), *ids = json_array(), *rep = NULL, *e;
	int i, ok, counted, valid = 0;

	*report = NULL;
	if (list == NULL || ids == NULL)
		goto oom;
	for (i = 0; i < n_files; i++) {
		ok = eval_file(req, quorum, approval_files[i], id, why,
			       sizeof(why));
		counted = 0;
		if (ok) {
			size_t k;
			json_t *v;

			counted = 1;
			json_array_foreach(ids, k,
					   v) if (strcmp(json_string_value(v),
							 id) == 0) counted = 0;
			if (counted) {
				valid++;
				if (json_array_append_new(ids, json_string(id)))
					goto oom;
			} else {
				snprintf(
				    why, sizeof(why),
				    "duplicate approval by %s, counted once",
				    id);
			}
		}
		e = json_pack("{s:s, s:s?, s:b, s:b, s:s?}", "file",
			      approval_files[i], "approver", id[0] ? id : NULL,
			      "valid", ok, "counted", counted, "reason",
			      why[0] ? why : NULL);
		if (e == NULL || json_array_append_new(list, e) != 0)
			goto oom;
	}
	rep = json_pack(
	    "{s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:b, s:O, s:O}",
	    "request_sha256", req->sha256_hex, "quorum_sha256",
	    quorum->sha256_hex, "request_quorum_sha256", req->quorum_sha256,
	    "quorum_matches",
	    CRYPTO_memcmp(req->quorum_sha256, quorum->sha256_hex, 64) == 0,
	    "threshold", quorum->threshold, "approvers", quorum->n, "valid",
	    valid, "threshold_met", valid >= quorum->threshold, "approved_by",
	    ids, "approvals", list);
	if (rep == NULL)
		goto oom;
	json_decref(list);
	json_decref(ids);
	*report = rep;
	return CA_OK;
oom:
	json_decref(list);
	json_decref(ids);
	return ca_err(CA_EIO, "out of memory");
}

/* "a.sig: reason; b.sig: reason" for the approvals that did not count. */
static void append_reasons(json_t *rep, char *buf, size_t len)
{
	json_t *e;
	size_t i, used = strlen(buf);

	json_array_foreach(json_object_get(rep, "approvals"), i, e)
	{
		if (json_is_true(json_object_get(e, "counted")) ||
		    used + 4 >= len)
			continue;
		snprintf(buf + used, len - used, "; %s: %s",
			 json_string_value(json_object_get(e, "file")),
			 json_string_value(json_object_get(e, "reason")));
		used = strlen(buf);
	}
}

static int check_request_fields(const struct ca_request *req,
				const char *want_action,
				const char *ca_spki_sha256,
				const struct ca_quorum *quorum,
				const char *pinned)
{
	char hex[65], when[32];
	time_t now = ca_now();

	if (CRYPTO_memcmp(req->quorum_sha256, quorum->sha256_hex, 64) != 0)
		return ca_err(CA_EPOLICY,
			      "the request was prepared for the quorum file "
			      "with SHA-256 %s, but the quorum file given has "
			      "SHA-256 %s",
			      req->quorum_sha256, quorum->sha256_hex);
	if (pinned != NULL && (!hex64_lower(pinned, hex) ||
			       CRYPTO_memcmp(hex, quorum->sha256_hex, 64) != 0))
		return ca_err(
		    CA_EPOLICY,
		    "the quorum file (SHA-256 %s) is not the one this "
		    "CA pinned (%.64s)",
		    quorum->sha256_hex, pinned);
	if (want_action != NULL && strcmp(req->action, want_action) != 0)
		return ca_err(CA_EPOLICY, "the request approves %s, not %s",
			      req->action, want_action);
	if (ca_spki_sha256 != NULL &&
	    (!hex64_lower(ca_spki_sha256, hex) ||
	     CRYPTO_memcmp(hex, req->ca_spki_sha256, 64) != 0))
		return ca_err(CA_EPOLICY,
			      "the request is for the CA key with SPKI SHA-256 "
			      "%s, not this CA's key",
			      req->ca_spki_sha256);
	if (now >= req->expires) {
		ca_time_rfc3339(req->expires, when, sizeof(when));
		return ca_err(CA_EPOLICY,
			      "the approval request expired at %s: prepare a "
			      "new one",
			      when);
	}
	if (req->created > now + CREATED_SKEW)
		return ca_err(CA_EPOLICY,
			      "the approval request was created in the future: "
			      "check the clock");
	return CA_OK;
}

int ca_request_check(const struct ca_request *req, const char *want_action,
		     const char *ca_spki_sha256, const struct ca_quorum *quorum,
		     const char *pinned, ca_store *st,
		     const char *const *approval_files, int n_files,
		     json_t **approvers)
{
	char msg[1024];
	json_t *rep = NULL;
	int rc, used = 0, valid;

	if (approvers != NULL)
		*approvers = NULL;
	GUARD(check_request_fields(req, want_action, ca_spki_sha256, quorum,
				   pinned));
	if (st != NULL) {
		GUARD(ca_store_nonce_used(st, req->nonce, &used));
		if (used) {
			rc = ca_err(CA_EPOLICY,
				    "this request (nonce %.16s...) was already "
				    "executed: an approval is good for one "
				    "execution only",
				    req->nonce);
			goto out;
		}
	}
	GUARD(ca_approvals_eval(req, quorum, approval_files, n_files, &rep));
	valid = (int)json_integer_value(json_object_get(rep, "valid"));
	if (valid < quorum->threshold) {
		snprintf(msg, sizeof(msg),
			 "only %d of %d required approvals are valid", valid,
			 quorum->threshold);
		append_reasons(rep, msg, sizeof(msg));
		rc = ca_err(CA_EPOLICY, "%s", msg);
		goto out;
	}
	if (approvers != NULL)
		*approvers = json_incref(json_object_get(rep, "approved_by"));
out:
	json_decref(rep);
	return rc;
}

int ca_approvals_report(const struct ca_request *req,
			const struct ca_quorum *quorum,
			const char *const *approval_files, int n_files,
			FILE *out)
{
	char when[32];
	json_t *rep = NULL, *e;
	size_t i;
	int rc, valid, bad = 0;

	GUARD(ca_approvals_eval(req, quorum, approval_files, n_files, &rep));
	json_array_foreach(json_object_get(rep, "approvals"), i, e)
	{
		const char *id =
		    json_string_value(json_object_get(e, "approver"));
		const char *why =
		    json_string_value(json_object_get(e, "reason"));

		fprintf(out, "%s: %s: %s%s%s\n",
			json_string_value(json_object_get(e, "file")),
			id ? id : "-",
			json_is_true(json_object_get(e, "valid")) ? "valid"
								  : "INVALID",
			why ? ": " : "", why ? why : "");
	}
	if (!json_is_true(json_object_get(rep, "quorum_matches"))) {
		fprintf(out,
			"quorum: the request was prepared for quorum SHA-256 "
			"%s, the file given has %s\n",
			req->quorum_sha256, quorum->sha256_hex);
		bad = 1;
	}
	if (ca_now() >= req->expires) {
		ca_time_rfc3339(req->expires, when, sizeof(when));
		fprintf(out, "request: expired at %s\n", when);
		bad = 1;
	}
	valid = (int)json_integer_value(json_object_get(rep, "valid"));
	fprintf(out, "%d of %d required approvals valid\n", valid,
		quorum->threshold);
	if (valid < quorum->threshold)
		rc = ca_err(CA_EPOLICY,
			    "only %d of %d required approvals are valid", valid,
			    quorum->threshold);
	else if (bad)
		rc = ca_err(CA_EPOLICY,
			    "the approvals cannot be used: see above");
out:
	json_decref(rep);
	return rc;
}
