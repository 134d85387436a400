#include "issue/keygen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "base/hex.h"
#include "common/pin.h"
#include "input/name.h"
#include "out/file.h"
#include "sign/csr.h"
#include "sign/signer.h"
#include "x509/pem.h"

static int write_pubkey(EVP_PKEY *pub, const char *path, int force)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc;

	if (b == NULL || PEM_write_bio_PUBKEY(b, pub) != 1) {
		BIO_free(b);
		return ca_err(CA_EIO, "cannot encode the public key");
	}
	n = BIO_get_mem_data(b, &data);
	rc = ca_out_write(path, data, (size_t)n, force, 0644);
	BIO_free(b);
	return rc;
}

static int write_csr(const struct ca_keygen_params *p, ca_key *key,
		     X509_NAME *subject)
{
	struct ca_signer *s = NULL;
	X509_REQ *req = NULL;
	char *pem = NULL;
	size_t len;
	int rc;

	/* The token is logged in already: no second PIN prompt. */
	GUARD(ca_signer_open(ca_key_uri(key), p->pin_source, &s));
	s->sigalg = p->sigalg;
	GUARD(ca_csr_build(s, subject, &req));
	GUARD(ca_csr_pem(req, &pem, &len));
	GUARD(ca_out_write(p->csr, pem, len, p->force, 0644));
out:
	free(pem);
	X509_REQ_free(req);
	ca_signer_free(s);
	return rc;
}

/* The keyspec name of a key ("ec:p384"), or NULL for another kind. */
static const char *key_type_name(const ca_key *key)
{
	struct ca_keyspec spec;

	spec.type = ca_key_type(key);
	spec.bits = ca_key_bits(key);
	spec.curve_nid = ca_key_curve_nid(key);
	return ca_keyspec_name(&spec);
}

static int result(ca_token *tok, ca_key *key, struct ca_keygen_result *res)
{
	const char *type = key ? key_type_name(key) : NULL;

	snprintf(res->token_label, sizeof(res->token_label), "%s",
		 ca_token_label(tok));
	snprintf(res->token_serial, sizeof(res->token_serial), "%s",
		 ca_token_serial(tok));
	res->exists = key != NULL;
	if (key == NULL)
		return CA_OK;
	res->uri = strdup(ca_key_uri(key));
	if (res->uri == NULL)
		return ca_err(CA_EIO, "out of memory");
	snprintf(res->type, sizeof(res->type), "%s", type ? type : "other");
	ca_hex(ca_key_spki_sha256(key), 32, res->spki_sha256);
	return CA_OK;
}

static int login(const struct ca_keygen_params *p, ca_token *tok)
{
	return ca_token_login_source(tok, p->pin_source);
}

/* check: the key labelled p->label, if any, of the type asked for. */
static int existing(const struct ca_keygen_params *p,
		    const struct ca_keyspec *spec, ca_token *tok, ca_key **key)
{
	const char *type;
	int rc = CA_OK;

	*key = NULL;
	if (p->label == NULL)
		return CA_OK;
	GUARD(ca_token_key_by_label(tok, p->label, key));
	type = *key ? key_type_name(*key) : NULL;
	if (*key != NULL && p->type != NULL &&
	    (type == NULL || strcmp(type, ca_keyspec_name(spec)) != 0))
		rc = ca_err(CA_EPOLICY,
			    "the key labelled '%s' on token '%s' is %s, not %s",
			    p->label, ca_token_label(tok),
			    type ? type : "of another type",
			    ca_keyspec_name(spec));
out:
	return rc;
}

int ca_keygen(const struct ca_keygen_params *p, struct ca_keygen_result *res)
{
	struct ca_keyspec spec;
	unsigned char id[64];
	size_t id_len = 0;
	X509_NAME *subject = NULL;
	ca_token *tok = NULL;
	ca_key *key = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if (p->type != NULL)
		GUARD(ca_keyspec_parse(p->type, &spec));
	if (p->sigalg == CA_SIGALG_RSA_PSS &&
	    (p->type == NULL || spec.type != CA_KT_RSA)) {
		rc = ca_err(CA_EUSAGE,
			    "--sig-alg rsa-pss needs an RSA key type");
		goto out;
	}
	if (p->id_hex != NULL) {
		rc = ca_unhex(p->id_hex, id, sizeof(id), &id_len);
		if (rc < 0 || id_len == 0) {
			rc = ca_err(CA_EUSAGE, "--id: '%s' is not a hex id",
				    p->id_hex);
			goto out;
		}
	}
	if (p->subject != NULL)
		GUARD(ca_name_parse(p->subject, &subject));
	GUARD(ca_pin_source_check(p->pin_source));
	/* Outputs are checked before the key exists. */
	if (p->pubout)
		GUARD(ca_out_check(p->pubout, p->force));
	if (p->csr)
		GUARD(ca_out_check(p->csr, p->force));
	GUARD(ca_crypto_init());
	GUARD(ca_token_open(p->token, &tok));
	GUARD(login(p, tok));
	if (p->check)
		GUARD(existing(p, &spec, tok, &key));
	else
		GUARD(ca_token_generate(tok, &spec, p->label,
					p->id_hex ? id : NULL, id_len, &key));
	if (key != NULL && p->pubout)
		GUARD(write_pubkey(ca_key_public(key), p->pubout, p->force));
	if (key != NULL && p->csr)
		GUARD(write_csr(p, key, subject));
	GUARD(result(tok, key, res));
out:
	X509_NAME_free(subject);
	ca_key_free(key);
	ca_token_free(tok);
	return rc;
}

void ca_keygen_result_free(struct ca_keygen_result *res)
{
	free(res->uri);
	res->uri = NULL;
}
