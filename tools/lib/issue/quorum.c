#include "issue/quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/hex.h"
#include "base/read.h"
#include "base/sha256.h"
#include "input/quorum.h"
#include "out/file.h"
#include "sign/signer.h"
#include "x509/spki.h"

#define MAX_KEY_FILE 65536

/* "Ed25519", "EC P-256", "RSA 3072". */
static void key_name(EVP_PKEY *pub, char *buf, size_t len)
{
	char group[48];
	size_t n = 0;

	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_ED25519:
		snprintf(buf, len, "Ed25519");
		break;
	case EVP_PKEY_RSA:
		snprintf(buf, len, "RSA %d", EVP_PKEY_get_bits(pub));
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(
			pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&n) != 1)
			snprintf(group, sizeof(group), "?");
		snprintf(buf, len, "EC %s",
			 strcmp(group, "prime256v1") == 0  ? "P-256"
			 : strcmp(group, "secp384r1") == 0 ? "P-384"
							   : group);
		break;
	default:
		snprintf(buf, len, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(pub)));
	}
	ERR_clear_error();
}

/* The approver's public key: a PEM public key or certificate file (never
 * a private key: the approver keeps it), or a key on a token. */
static int load_public(const char *key, EVP_PKEY **out)
{
	unsigned char *data = NULL;
	struct ca_signer *s = NULL;
	size_t len = 0;
	BIO *b = NULL;
	X509 *x = NULL;
	int rc;

	*out = NULL;
	if (strncmp(key, "pkcs11:", 7) == 0) {
		GUARD(ca_signer_open_public(key, &s));
		*out = s->pub;
		s->pub = NULL;
		goto out;
	}
	GUARD(ca_read_file(key, MAX_KEY_FILE, &data, &len));
	if (strstr((const char *)data, "PRIVATE KEY-----") != NULL) {
		rc = ca_err(CA_EUSAGE,
			    "%s holds a private key: give the approver's "
			    "public key (openssl pkey -in KEY -pubout), "
			    "which is all a quorum file holds",
			    key);
		goto out;
	}
	b = BIO_new_mem_buf(data, (int)len);
	if (b == NULL) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (strstr((const char *)data, "-----BEGIN CERTIFICATE-----") != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		*out = x ? X509_get_pubkey(x) : NULL;
	} else {
		*out = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	}
	if (*out == NULL)
		rc = ca_err(CA_EUSAGE,
			    "%s is not a PEM public key (-----BEGIN "
			    "PUBLIC KEY-----) or certificate",
			    key);
out:
	ERR_clear_error();
	BIO_free(b);
	X509_free(x);
	free(data);
	ca_signer_free(s);
	return rc;
}

static char *pem_of(EVP_PKEY *pub)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (b != NULL && PEM_write_bio_PUBKEY(b, pub) == 1) {
		n = BIO_get_mem_data(b, &data);
		s = strndup(data, (size_t)n);
	}
	BIO_free(b);
	return s;
}

/* The summary of a parsed quorum file of the given bytes. */
static json_t *summary_of(const char *path, const struct ca_quorum *q)
{
	json_t *list = json_array(), *o;
	char hex[65], kind[80];
	int i;

	o = json_pack("{s:s, s:i, s:o, s:b, s:s}", "file", path, "threshold",
		      q->threshold, "approvers", list, "complete",
		      q->n >= q->threshold, "sha256", q->sha256_hex);
	for (i = 0; o != NULL && i < q->n; i++) {
		ca_hex(q->approvers[i].spki_sha256, 32, hex);
		key_name(q->approvers[i].pub, kind, sizeof(kind));
		if (json_array_append_new(
			list, json_pack("{s:s, s:s, s:s, s:s}", "id",
					q->approvers[i].id, "name",
					q->approvers[i].name, "key", kind,
					"spki_sha256", hex)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Check text as a quorum file (draft or complete), write it, summarise. */
static int write_quorum(const char *path, json_t *root, int force,
			json_t **summary)
{
	char *dump = json_dumps(root, JSON_INDENT(2)), *text = NULL;
	struct ca_quorum *q = NULL;
	size_t len;
	int rc;

	/* The file ends with a newline, like one written by hand. */
	if (dump == NULL || asprintf(&text, "%s\n", dump) < 0) {
		free(dump);
		return ca_err(CA_EIO, "out of memory");
	}
	free(dump);
	len = strlen(text);
	GUARD(ca_quorum_parse_draft((unsigned char *)text, len, path, &q));
	GUARD(ca_out_write(path, text, len, force, 0644));
	*summary = summary_of(path, q);
	if (*summary == NULL)
		rc = ca_err(CA_EIO, "out of memory");
out:
	ca_quorum_free(q);
	free(text);
	return rc;
}

int ca_quorum_file_init(const char *path, int threshold, int force,
			json_t **summary)
{
	json_t *root;
	int rc;

	*summary = NULL;
	if (threshold < 1 || threshold > 100)
		return ca_err(CA_EUSAGE,
			      "--threshold must be between 1 and 100");
	GUARD(ca_out_check(path, force));
	root = json_pack("{s:i, s:i, s:[]}", "version", 1, "threshold",
			 threshold, "approvers");
	if (root == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = write_quorum(path, root, force, summary);
	json_decref(root);
out:
	return rc;
}

int ca_quorum_file_add(const char *path, const struct ca_quorum_member *m,
		       int threshold, json_t **summary)
{
	unsigned char *data = NULL, md[32];
	struct ca_quorum *q = NULL;
	EVP_PKEY *pub = NULL;
	json_t *root = NULL, *entry;
	char *pem = NULL, what[300];
	size_t len = 0;
	int i, rc;

	*summary = NULL;
	if (m->id == NULL || !ca_quorum_id_ok(m->id))
		return ca_err(CA_EUSAGE,
			      "--id must be 1 to %d characters of A-Z a-z "
			      "0-9 . _ -",
			      CA_QUORUM_MAX_ID);
	if (m->name == NULL || m->name[0] == '\0')
		return ca_err(CA_EUSAGE,
			      "--name (the approver's name) is required");
	GUARD(ca_read_file(path, CA_MAX_INPUT, &data, &len));
	GUARD(ca_quorum_parse_draft(data, len, path, &q));
	root = json_loadb((const char *)data, len, 0, NULL);
	if (root == NULL) {
		rc = ca_err(CA_EIO, "%s: cannot read it back", path);
		goto out;
	}
	/* Ids are unique without regard to case (input/quorum.h). */
	for (i = 0; i < q->n; i++)
		if (strcasecmp(q->approvers[i].id, m->id) == 0) {
			rc = ca_err(CA_EPOLICY,
				    "%s: approver id \"%s\" is already there",
				    path, q->approvers[i].id);
			goto out;
		}
	snprintf(what, sizeof(what), "%s (approver %s)", m->key, m->id);
	GUARD(load_public(m->key, &pub));
	GUARD(ca_quorum_key_ok(pub, what));
	GUARD(ca_spki_sha256(pub, md));
	for (i = 0; i < q->n; i++) {
		if (CRYPTO_memcmp(q->approvers[i].spki_sha256, md, 32) == 0) {
			rc = ca_err(CA_EPOLICY,
				    "%s: this key is already approver "
				    "%s's: every approver has a key "
				    "of their own",
				    path, q->approvers[i].id);
			goto out;
		}
	}
	pem = pem_of(pub);
	if (pem == NULL) {
		rc = ca_err(CA_EIO, "cannot encode the public key of %s",
			    m->key);
		goto out;
	}
	entry = json_pack("{s:s, s:s, s:s}", "id", m->id, "name", m->name,
			  "public_key", pem);
	if (entry == NULL) {
		rc = ca_err(CA_EUSAGE, "--name must be UTF-8 text");
		goto out;
	}
	if (json_array_append_new(json_object_get(root, "approvers"), entry) !=
	    0) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (threshold > 0 &&
	    json_object_set_new(root, "threshold", json_integer(threshold)) !=
		0) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	GUARD(write_quorum(path, root, 1, summary));
out:
	json_decref(root);
	ca_quorum_free(q);
	EVP_PKEY_free(pub);
	free(pem);
	free(data);
	return rc;
}
