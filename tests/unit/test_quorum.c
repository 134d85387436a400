/* Unit tests for quorum files (tools/lib/input/quorum.c): what is accepted,
 * what is refused and why. Keys are generated here; no token is needed. TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base/sha256.h"
#include "fixture.h"
#include "input/quorum.h"
#include "tap.h"

/* ---------------------------------------------------------------------- */
/* Keys                                                                    */

/* PEM text of k's public key, or of its private key when private is set. */
static char *pem_text(EVP_PKEY *k, int private)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (b != NULL &&
	    (private ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_bio_PUBKEY(b, k)) == 1) {
		n = BIO_get_mem_data(b, &data);
		s = strndup(data, (size_t)n);
	}
	BIO_free(b);
	return s;
}

static json_t *approver(const char *id, EVP_PKEY *k)
{
	char *pem = pem_text(k, 0);
	char name[128];
	json_t *j;

	snprintf(name, sizeof(name), "%s Example", id);
	j = json_pack("{s:s, s:s, s:s}", "id", id, "name", name, "public_key",
		      pem ? pem : "");
	free(pem);
	return j;
}

static json_t *quorum(int m, json_t *approvers)
{
	return json_pack("{s:i, s:i, s:o}", "version", 1, "threshold", m,
			 "approvers", approvers);
}

/* A 1-of-1 quorum of approver a (consumed). */
static json_t *one(json_t *a)
{
	return quorum(1, json_pack("[o]", a));
}

/* obj with key set to value (consumed), or removed when value is NULL. */
static json_t *with(json_t *obj, const char *key, json_t *value)
{
	if (value != NULL)
		json_object_set_new(obj, key, value);
	else
		json_object_del(obj, key);
	return obj;
}

/* Parse the JSON text of q (consumed); returns the code, *out on success. */
static int parse_json(json_t *q, struct ca_quorum **out)
{
	char *text = json_dumps(q, JSON_INDENT(2));
	int rc;

	json_decref(q);
	if (text == NULL)
		return CA_EIO;
	ca_err_clear();
	rc = ca_quorum_parse((const unsigned char *)text, strlen(text),
			     "q.json", out);
	free(text);
	return rc;
}

static int parse_text(const char *text, struct ca_quorum **out)
{
	ca_err_clear();
	return ca_quorum_parse((const unsigned char *)text, strlen(text),
			       "q.json", out);
}

/* Expect CA_EPOLICY (CA_EUSAGE for an unknown key, as in every JSON file)
 * with a message containing needle and naming the file. */
static void refused(int rc, struct ca_quorum *q, const char *needle,
		    const char *desc)
{
	int want = strstr(needle, "unknown key") ? CA_EUSAGE : CA_EPOLICY;

	ok(rc == want && q == NULL && strstr(ca_errmsg(), needle) &&
	       strstr(ca_errmsg(), "q.json"),
	   "refused: %s", desc);
	ca_quorum_free(q);
}

/* The JSON text of j (consumed) is refused as refused() says. */
static void refuse(json_t *j, const char *needle, const char *desc)
{
	struct ca_quorum *q = NULL;
	int rc = parse_json(j, &q);

	refused(rc, q, needle, desc);
}

/* The same for a file's text. */
static void refuse_text(const char *text, const char *needle, const char *desc)
{
	struct ca_quorum *q = NULL;
	int rc = parse_text(text, &q);

	refused(rc, q, needle, desc);
}

static EVP_PKEY *ed1, *ed2, *p256, *p384, *rsa2048, *rsa1024, *p521, *k256,
    *rsa_e3, *ed448;

static json_t *three(void)
{
	return json_pack("[o, o, o]", approver("alice", ed1),
			 approver("bob", p256), approver("carol", rsa2048));
}

/* ---------------------------------------------------------------------- */

static void test_valid(void)
{
	struct ca_quorum *q = NULL;
	const struct ca_approver *a;
	char hex[65], *text;
	json_t *j;
	int rc;

	j = quorum(2, json_pack("[o, o, o, o]", approver("alice", ed1),
				approver("bob", p256), approver("carol", p384),
				approver("dave", rsa2048)));
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	rc = parse_text(text, &q);
	ok(rc == CA_OK && q != NULL, "a 2-of-4 quorum (Ed25519, P-256, P-384, "
				     "RSA-2048) is accepted");
	if (q == NULL) {
		free(text);
		return;
	}
	ok(q->version == 1 && q->threshold == 2 && q->n == 4,
	   "version 1, threshold 2, four approvers");
	a = ca_quorum_find(q, "carol");
	ok(a != NULL && strcmp(a->name, "carol Example") == 0 &&
	       EVP_PKEY_get_base_id(a->pub) == EVP_PKEY_EC,
	   "ca_quorum_find finds carol with her EC key");
	ok(ca_quorum_find(q, "mallory") == NULL &&
	       ca_quorum_find(q, "Carol") == NULL,
	   "ca_quorum_find: unknown ids and other cases are not found");
	ca_sha256_hex((const unsigned char *)text, strlen(text), hex);
	ok(strcmp(hex, q->sha256_hex) == 0,
	   "sha256_hex is the SHA-256 of the file's exact bytes");
	ca_quorum_free(q);
	free(text);

	rc = parse_json(one(approver("a.b_c-9", ed1)), &q);
	ok(rc == CA_OK && q->threshold == 1 && q->n == 1,
	   "1-of-1 with id a.b_c-9 is accepted");
	ca_quorum_free(q);
	q = NULL;
	rc = parse_json(quorum(3, three()), &q);
	ok(rc == CA_OK && q->threshold == 3, "M = N is accepted");
	ca_quorum_free(q);
}

static void test_threshold(void)
{
	refuse(quorum(0, three()), "threshold 0 is out of range", "M = 0");
	refuse(quorum(4, three()), "threshold 4 is out of range",
	       "M > N (4 of 3)");
	refuse(quorum(-1, three()), "out of range", "M negative");
	refuse(with(quorum(2, three()), "threshold", json_string("2")),
	       "whole number", "M as a string");
	refuse(with(quorum(2, three()), "threshold", json_real(2.0)),
	       "whole number", "M as 2.0");
	refuse(with(quorum(2, three()), "threshold", NULL), "whole number",
	       "M missing");
	refuse(quorum(1, json_array()), "non-empty list", "no approvers");
}

static void test_duplicates(void)
{
	refuse(
	    quorum(2, json_pack("[o, o, o]", approver("alice", ed1),
				approver("bob", p256), approver("alice", ed2))),
	    "\"alice\" appears twice", "duplicate ids");
	refuse(quorum(2, json_pack("[o, o]", approver("alice", ed1),
				   approver("Alice", ed2))),
	       "appears twice", "ids differing only in case");
	refuse(
	    quorum(2, json_pack("[o, o, o]", approver("alice", ed1),
				approver("bob", p256), approver("carol", ed1))),
	    "alice and carol have the same public key",
	    "duplicate keys (one person, two ids)");
	refuse_text("{\"version\": 1, \"threshold\": 1, \"threshold\": 2, "
		    "\"approvers\": []}",
		    "not valid JSON", "a JSON key given twice");
}

static void test_unknown_keys(void)
{
	refuse(with(quorum(2, three()), "comment", json_string("x")),
	       "unknown key 'comment'", "unknown top-level key");
	refuse(quorum(2, json_pack("[o, o, o]", approver("alice", ed1),
				   approver("bob", p256),
				   with(approver("carol", p384), "email",
					json_string("carol@example.com")))),
	       "unknown key 'email'", "unknown key in an approver");
	refuse(with(quorum(2, three()), "version", json_integer(2)),
	       "\"version\" must be 1", "version 2");
}

static void test_key_types(void)
{
	struct {
		EVP_PKEY **k;
		const char *needle, *desc;
	} bad[] = {
	    {&rsa1024, "1024 bits is refused", "an RSA-1024 key"},
	    {&p521, "secp521r1 is refused", "a P-521 key"},
	    {&k256, "secp256k1 is refused", "a secp256k1 key"},
	    {&rsa_e3, "exponent other than 65537", "RSA with e = 3"},
	    {&ed448, "ED448 is refused", "an Ed448 key"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (*bad[i].k == NULL) {
			ok(0, "refused: %s (key generation failed)",
			   bad[i].desc);
			continue;
		}
		refuse(quorum(1, json_pack("[o, o]", approver("alice", ed1),
					   approver("eve", *bad[i].k))),
		       bad[i].needle, bad[i].desc);
	}
	ok(ca_quorum_key_ok(ed1, "k") == CA_OK &&
	       ca_quorum_key_ok(p256, "k") == CA_OK &&
	       ca_quorum_key_ok(p384, "k") == CA_OK &&
	       ca_quorum_key_ok(rsa2048, "k") == CA_OK,
	   "ca_quorum_key_ok accepts Ed25519, P-256, P-384, RSA-2048");
	ok(ca_quorum_key_ok(rsa1024, "KEY") == CA_EPOLICY &&
	       strstr(ca_errmsg(), "KEY: RSA key of 1024 bits") != NULL,
	   "ca_quorum_key_ok refuses RSA-1024, naming the key");
	ok(ca_quorum_key_ok(p521, "k") == CA_EPOLICY &&
	       ca_quorum_key_ok(k256, "k") == CA_EPOLICY,
	   "ca_quorum_key_ok refuses P-521 and secp256k1");
}

/* alice's approver entry with key set to value (consumed). */
static json_t *alice_with(const char *key, json_t *value)
{
	return with(approver("alice", ed1), key, value);
}

static void test_fields(void)
{
	char *priv = pem_text(ed2, 1), *pem = pem_text(ed2, 0), *junk;
	size_t n;

	refuse(one(approver("al ice", ed1)), "\"id\" must be",
	       "an id with a space");
	refuse(one(approver("", ed1)), "\"id\" must be", "an empty id");
	refuse(one(approver("a234567890123456789012345678901234"
			    "5678901234567890123456789012345",
			    ed1)),
	       "\"id\" must be", "a 65-character id");
	refuse(one(alice_with("name", json_string("Alice\033[2J"))),
	       "control characters", "a name with a terminal escape");
	refuse(one(alice_with("name", json_string(""))), "\"name\" must be",
	       "an empty name");
	refuse(one(alice_with("public_key", json_string(priv ? priv : ""))),
	       "not a PEM public key", "a private key as public_key");
	refuse(one(alice_with("public_key", json_string("MCowBQYDK2VwAyEA"))),
	       "not a PEM public key", "base64 without PEM armour");
	n = strlen(pem ? pem : "") + 32;
	junk = malloc(n);
	snprintf(junk, n, "%sgarbage\n", pem ? pem : "");
	refuse(one(alice_with("public_key", json_string(junk))),
	       "data after the PEM block", "data after the PEM block");
	refuse(one(alice_with("public_key", json_integer(5))), "public_key",
	       "public_key not a string");
	free(junk);
	free(pem);
	free(priv);
}

static void test_not_json(void)
{
	struct ca_quorum *q = NULL;
	char *text;
	json_t *j;
	int rc;

	refuse_text("version: 1\nthreshold: 2\n", "not valid JSON",
		    "YAML, not JSON");
	refuse_text("", "not valid JSON", "an empty file");
	refuse_text("[1, 2]", "JSON object", "a JSON array");
	j = quorum(2, three());
	text = json_dumps(j, 0);
	json_decref(j);
	if (text != NULL)
		text[strlen(text) / 2] = '\0';
	refuse_text(text ? text : "", "not valid JSON",
		    "a truncated quorum file");
	free(text);
	rc = ca_quorum_load("/nonexistent/quorum.json", &q);
	ok(rc == CA_EIO && q == NULL &&
	       strstr(ca_errmsg(), "/nonexistent/quorum.json") != NULL,
	   "a missing file is an I/O error naming it");
}

int main(void)
{
	ed1 = fx_key("ED25519", NULL, 0, 0);
	ed2 = fx_key("ED25519", NULL, 0, 0);
	p256 = fx_key("EC", "P-256", 0, 0);
	p384 = fx_key("EC", "P-384", 0, 0);
	p521 = fx_key("EC", "P-521", 0, 0);
	k256 = fx_key("EC", "secp256k1", 0, 0);
	rsa2048 = fx_key("RSA", NULL, 2048, 0);
	rsa1024 = fx_key("RSA", NULL, 1024, 0);
	rsa_e3 = fx_key("RSA", NULL, 2048, 3);
	ed448 = fx_key("ED448", NULL, 0, 0);
	ok(ed1 && ed2 && p256 && p384 && p521 && k256 && rsa2048 && rsa1024 &&
	       rsa_e3 && ed448,
	   "test keys generated");
	test_valid();
	test_threshold();
	test_duplicates();
	test_unknown_keys();
	test_key_types();
	test_fields();
	test_not_json();
	EVP_PKEY_free(ed1);
	EVP_PKEY_free(ed2);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(rsa_e3);
	EVP_PKEY_free(ed448);
	return tap_done();
}
