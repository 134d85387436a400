#include "input/quorum.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/hex.h"
#include "base/json.h"
#include "base/read.h"
#include "base/sha256.h"
#include "x509/spki.h"

#define QUORUM_MAX_APPROVERS 100
#define QUORUM_MAX_NAME	     256
#define QUORUM_MAX_RSA_BITS  16384

void ca_quorum_free(struct ca_quorum *q)
{
	int i;

	if (q == NULL)
		return;
	for (i = 0; q->approvers != NULL && i < q->n; i++) {
		free(q->approvers[i].id);
		free(q->approvers[i].name);
		EVP_PKEY_free(q->approvers[i].pub);
	}
	free(q->approvers);
	free(q);
}

const struct ca_approver *ca_quorum_find(const struct ca_quorum *q,
					 const char *id)
{
	int i;

	if (q == NULL || id == NULL)
		return NULL;
	for (i = 0; i < q->n; i++)
		if (strcmp(q->approvers[i].id, id) == 0)
			return &q->approvers[i];
	return NULL;
}

static int ec_key_ok(EVP_PKEY *pub, const char *what)
{
	char group[80];
	size_t n = 0;
	int nid;

	if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
					   group, sizeof(group), &n) != 1) {
		ERR_clear_error();
		return ca_err(CA_EPOLICY,
			      "%s: EC key with explicit curve parameters is "
			      "refused: use a named curve (P-256 or P-384)",
			      what);
	}
	nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1)
		return ca_err(CA_EPOLICY,
			      "%s: EC key on curve %s is refused: approver "
			      "keys use P-256 or P-384",
			      what, group);
	return CA_OK;
}

static int rsa_key_ok(EVP_PKEY *pub, const char *what)
{
	BIGNUM *e = NULL;
	int bits = EVP_PKEY_get_bits(pub), rc = CA_OK;

	if (bits < 2048)
		return ca_err(CA_EPOLICY,
			      "%s: RSA key of %d bits is refused: approver "
			      "keys need at least 2048 bits",
			      what, bits);
	if (bits > QUORUM_MAX_RSA_BITS)
		return ca_err(CA_EPOLICY, "%s: RSA key of %d bits is too large",
			      what, bits);
	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	    BN_is_word(e, 65537) != 1)
		rc = ca_err(CA_EPOLICY,
			    "%s: RSA key with a public exponent other than "
			    "65537 is refused",
			    what);
	BN_free(e);
	ERR_clear_error();
	return rc;
}

/* The point or modulus must be valid, not only of an accepted type. */
static int public_check(EVP_PKEY *pub, const char *what)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	int ok;

	ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return ca_err(CA_EPOLICY, "%s: the public key is not valid",
			      what);
	return CA_OK;
}

int ca_quorum_key_ok(EVP_PKEY *pub, const char *what)
{
	int rc;

	if (pub == NULL)
		return ca_err(CA_EPOLICY, "%s: no public key", what);
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_ED25519:
		rc = CA_OK;
		break;
	case EVP_PKEY_EC:
		rc = ec_key_ok(pub, what);
		break;
	case EVP_PKEY_RSA:
		rc = rsa_key_ok(pub, what);
		break;
	default:
		return ca_err(CA_EPOLICY,
			      "%s: key type %s is refused: approver keys are "
			      "Ed25519, ECDSA P-256/P-384 or RSA >= 2048",
			      what, OBJ_nid2sn(EVP_PKEY_get_base_id(pub)));
	}
	if (rc < 0)
		return rc;
	return public_check(pub, what);
}

int ca_quorum_id_ok(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > CA_QUORUM_MAX_ID)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

/* Names are printed to the operator: no control characters. */
static int name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > QUORUM_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Exactly one PEM "PUBLIC KEY" block, nothing but whitespace around it. */
static int parse_pubkey(const char *pem, const char *what, EVP_PKEY **out)
{
	BIO *b = NULL;
	char rest[64];
	int n, i, rc = CA_EPOLICY;
	size_t len = strlen(pem), lead;

	*out = NULL;
	lead = strspn(pem, " \t\r\n");
	if (strncmp(pem + lead, "-----BEGIN PUBLIC KEY-----", 26) != 0) {
		ca_err(CA_EPOLICY,
		       "%s: public_key is not a PEM public key "
		       "(-----BEGIN PUBLIC KEY-----)",
		       what);
		goto out;
	}
	if (len > INT_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	*out = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (*out == NULL) {
		ca_err(CA_EPOLICY, "%s: public_key does not decode", what);
		goto out;
	}
	while ((n = BIO_read(b, rest, sizeof(rest))) > 0)
		for (i = 0; i < n; i++)
			if (strchr(" \t\r\n", rest[i]) == NULL ||
			    rest[i] == 0) {
				ca_err(CA_EPOLICY,
				       "%s: public_key has data after the "
				       "PEM block",
				       what);
				goto out;
			}
	rc = CA_OK;
out:
	if (rc < 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	BIO_free(b);
	ERR_clear_error();
	return rc;
}

static int parse_approver(json_t *obj, const char *file, int idx,
			  struct ca_approver *a)
{
	static const char *const allowed[] = {"id", "name", "public_key", NULL};
	json_t *id, *name, *pk;
	char what[160];
	int rc;

	snprintf(what, sizeof(what), "%s: approvers[%d]", file, idx);
	if (!json_is_object(obj))
		return ca_err(CA_EPOLICY, "%s is not an object", what);
	GUARD(ca_json_keys_refuse(obj, what, allowed));
	id = json_object_get(obj, "id");
	name = json_object_get(obj, "name");
	pk = json_object_get(obj, "public_key");
	if (!json_is_string(id) || !ca_quorum_id_ok(json_string_value(id))) {
		rc = ca_err(CA_EPOLICY,
			    "%s: \"id\" must be 1 to %d characters of "
			    "A-Z a-z 0-9 . _ -",
			    what, CA_QUORUM_MAX_ID);
		goto out;
	}
	snprintf(what, sizeof(what), "%s: approver %s", file,
		 json_string_value(id));
	if (!json_is_string(name) || !name_ok(json_string_value(name))) {
		rc =
		    ca_err(CA_EPOLICY,
			   "%s: \"name\" must be a non-empty string of at most "
			   "%d bytes without control characters",
			   what, QUORUM_MAX_NAME);
		goto out;
	}
	if (!json_is_string(pk)) {
		rc = ca_err(CA_EPOLICY, "%s: \"public_key\" (PEM) is missing",
			    what);
		goto out;
	}
	a->id = strdup(json_string_value(id));
	a->name = strdup(json_string_value(name));
	if (a->id == NULL || a->name == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(parse_pubkey(json_string_value(pk), what, &a->pub));
	GUARD(ca_quorum_key_ok(a->pub, what));
	GUARD(ca_spki_sha256(a->pub, a->spki_sha256));
out:
	return rc;
}

/* Ids are compared case-insensitively: "Alice" and "alice" would confuse
 * the people reading the output. Keys are compared by SPKI SHA-256. */
static int check_unique(const struct ca_quorum *q, const char *file)
{
	int i, j;

	for (i = 0; i < q->n; i++)
		for (j = 0; j < i; j++) {
			if (strcasecmp(q->approvers[i].id,
				       q->approvers[j].id) == 0)
				return ca_err(CA_EPOLICY,
					      "%s: approver id \"%s\" appears "
					      "twice",
					      file, q->approvers[i].id);
			if (CRYPTO_memcmp(q->approvers[i].spki_sha256,
					  q->approvers[j].spki_sha256, 32) == 0)
				return ca_err(
				    CA_EPOLICY,
				    "%s: approvers %s and %s have the "
				    "same public key",
				    file, q->approvers[j].id,
				    q->approvers[i].id);
		}
	return CA_OK;
}

/* draft: a quorum file being written (quorum init/add), which may have
 * fewer approvers than its threshold, none at all included. */
static int parse_top(json_t *root, const char *what, int draft,
		     struct ca_quorum *q)
{
	static const char *const allowed[] = {"version", "threshold",
					      "approvers", NULL};
	json_t *version, *threshold, *approvers;
	json_int_t m;
	size_t i, n;
	int rc;

	if (!json_is_object(root))
		return ca_err(CA_EPOLICY, "%s: a quorum file is a JSON object",
			      what);
	GUARD(ca_json_keys_refuse(root, what, allowed));
	version = json_object_get(root, "version");
	threshold = json_object_get(root, "threshold");
	approvers = json_object_get(root, "approvers");
	if (!json_is_integer(version) || json_integer_value(version) != 1)
		return ca_err(CA_EPOLICY, "%s: \"version\" must be 1", what);
	if (!json_is_array(approvers) ||
	    (json_array_size(approvers) == 0 && !draft))
		return ca_err(CA_EPOLICY,
			      "%s: \"approvers\" must be a non-empty list",
			      what);
	n = json_array_size(approvers);
	if (n > QUORUM_MAX_APPROVERS)
		return ca_err(CA_EPOLICY, "%s: more than %d approvers", what,
			      QUORUM_MAX_APPROVERS);
	if (!json_is_integer(threshold))
		return ca_err(CA_EPOLICY,
			      "%s: \"threshold\" must be a whole number", what);
	m = json_integer_value(threshold);
	if (draft && m >= 1 && m <= QUORUM_MAX_APPROVERS)
		; /* approvers still to be added */
	else if (m < 1 || m > (json_int_t)n)
		return ca_err(CA_EPOLICY,
			      "%s: threshold %lld is out of range: it must be "
			      "between 1 and the number of approvers (%zu)",
			      what, (long long)m, n);
	q->version = 1;
	q->threshold = (int)m;
	q->approvers = calloc(n ? n : 1, sizeof(*q->approvers));
	if (q->approvers == NULL)
		return ca_err(CA_EIO, "out of memory");
	for (i = 0; i < n; i++) {
		q->n = (int)i + 1; /* what ca_quorum_free must release */
		GUARD(parse_approver(json_array_get(approvers, i), what, (int)i,
				     &q->approvers[i]));
	}
	GUARD(check_unique(q, what));
out:
	return rc;
}

static int quorum_parse(const unsigned char *data, size_t len, const char *what,
			int draft, struct ca_quorum **out)
{
	struct ca_quorum *q = NULL;
	unsigned char md[32];
	json_t *root = NULL;
	int rc;

	*out = NULL;
	if (what == NULL)
		what = "quorum file";
	GUARD(ca_json_parse_strict(data, len, what, "", &root));
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(parse_top(root, what, draft, q));
	GUARD(ca_sha256(data, len, md));
	ca_hex(md, sizeof(md), q->sha256_hex);
	*out = q;
	q = NULL;
out:
	json_decref(root);
	ca_quorum_free(q);
	return rc;
}

int ca_quorum_parse(const unsigned char *data, size_t len, const char *what,
		    struct ca_quorum **out)
{
	return quorum_parse(data, len, what, 0, out);
}

int ca_quorum_parse_draft(const unsigned char *data, size_t len,
			  const char *what, struct ca_quorum **out)
{
	return quorum_parse(data, len, what, 1, out);
}

/* ca_quorum_parse for ca_read_parse. */
static int parse_file(const unsigned char *data, size_t len, const char *path,
		      void *out)
{
	return ca_quorum_parse(data, len, path, out);
}

int ca_quorum_load(const char *path, struct ca_quorum **out)
{
	*out = NULL;
	return ca_read_parse(path, parse_file, out);
}
