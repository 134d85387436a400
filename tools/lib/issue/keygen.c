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
	GUARD(ca_csr_build(s, subject, &req));
	GUARD(ca_csr_pem(req, &pem, &len));
	GUARD(ca_out_write(p->csr, pem, len, p->force, 0644));
out:
	free(pem);
	X509_REQ_free(req);
	ca_signer_free(s);
	return rc;
}

static int result(ca_key *key, const struct ca_keyspec *spec,
		  struct ca_keygen_result *res)
{
	res->uri = strdup(ca_key_uri(key));
	if (res->uri == NULL)
		return ca_err(CA_EIO, "out of memory");
	snprintf(res->type, sizeof(res->type), "%s", ca_keyspec_name(spec));
	snprintf(res->token_label, sizeof(res->token_label), "%s",
		 ca_token_label(ca_key_token(key)));
	ca_hex(ca_key_spki_sha256(key), 32, res->spki_sha256);
	return CA_OK;
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
	GUARD(ca_keyspec_parse(p->type, &spec));
	if (p->id_hex != NULL) {
		rc = ca_unhex(p->id_hex, id, sizeof(id), &id_len);
		if (rc < 0 || id_len == 0) {
			rc = ca_err(CA_EUSAGE, "--id: '%s' is not a hex id", p->id_hex);
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
	if (!ca_token_logged_in(tok)) {
		struct ca_pin pin;
		char prompt[300];

		snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
			 ca_token_label(tok));
		rc = ca_pin_read(p->pin_source, prompt, &pin);
		if (rc == CA_OK)
			rc = ca_token_login(tok, pin.value, pin.len);
		ca_pin_wipe(&pin);
		if (rc < 0)
			goto out;
	}
	GUARD(ca_token_generate(tok, &spec, p->label, p->id_hex ? id : NULL,
				id_len, &key));
	if (p->pubout)
		GUARD(write_pubkey(ca_key_public(key), p->pubout, p->force));
	if (p->csr)
		GUARD(write_csr(p, key, subject));
	GUARD(result(key, &spec, res));
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
