/* hsmca-keygen: generate a key pair inside a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "base/hex.h"
#include "cli/cli.h"
#include "common/pin.h"
#include "input/name.h"
#include "out/file.h"
#include "sign/csr.h"
#include "sign/signer.h"
#include "x509/pem.h"

static const char usage_line[] =
	"hsmca-keygen --token URI --label NAME --type TYPE [--id HEX] "
	"[--pubout FILE] [--csr FILE --subject DN]";

static const char usage[] =
	"usage: hsmca-keygen --token URI --label NAME --type TYPE [--id HEX]\n"
	"                    [--pubout FILE] [--csr FILE --subject DN]\n"
	"\n"
	"Generate a key pair inside a PKCS#11 token. The private key is sensitive,\n"
	"never extractable and can only sign.\n"
	"\n"
	"  --token URI        the token, as a pkcs11: URI (pkcs11:token=LABEL)\n"
	"  --label NAME       label of the new key (refused if it exists)\n"
	"  --type TYPE        rsa:2048 rsa:3072 rsa:4096 ec:p256 ec:p384 ec:p521 ed25519\n"
	"  --id HEX           CKA_ID (default: 16 random bytes from the token)\n"
	"  --pubout FILE      write the public key (PEM SubjectPublicKeyInfo)\n"
	"  --csr FILE         write a CSR signed by the new key (needs --subject)\n"
	"  --subject DN       subject of the CSR, e.g. 'CN=Example Issuing CA,O=Example'\n"
	"  --module PATH      PKCS#11 module (default: URI, $HSMCA_MODULE, p11-kit)\n"
	"  --pin-source SRC   file:PATH, fd:N or env:NAME (default: prompt)\n"
	"  --force            replace existing output files\n"
	"  --json             print the result as JSON\n"
	"\n"
	"Exit status: 0 done, 1 error, 2 usage, 3 refused by policy.\n";

enum { OPT_TOKEN = CA_OPT_FIRST_TOOL, OPT_LABEL, OPT_TYPE, OPT_ID, OPT_PUBOUT,
       OPT_CSR, OPT_SUBJECT };

struct args {
	struct ca_common c;
	const char *token, *label, *type, *id_hex, *pubout, *csr, *subject;
};

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

static int write_csr(const struct args *a, ca_key *key, X509_NAME *subject)
{
	struct ca_signer *s = NULL;
	X509_REQ *req = NULL;
	char *pem = NULL;
	size_t len;
	int rc;

	/* The token is logged in already: no second PIN prompt. */
	GUARD(ca_signer_open(ca_key_uri(key), a->c.pin_source, &s));
	GUARD(ca_csr_build(s, subject, &req));
	GUARD(ca_csr_pem(req, &pem, &len));
	GUARD(ca_out_write(a->csr, pem, len, a->c.force, 0644));
out:
	free(pem);
	X509_REQ_free(req);
	ca_signer_free(s);
	return rc;
}

static void report(const struct args *a, ca_key *key, const struct ca_keyspec *spec)
{
	char fp[65];

	ca_hex(ca_key_spki_sha256(key), 32, fp);
	if (a->c.json) {
		ca_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}",
					"uri", ca_key_uri(key), "label", a->label,
					"type", ca_keyspec_name(spec), "token",
					ca_token_label(ca_key_token(key)),
					"spki_sha256", fp, "pubout", a->pubout,
					"csr", a->csr));
		return;
	}
	printf("key:         %s\n", ca_key_uri(key));
	printf("type:        %s\n", ca_keyspec_name(spec));
	printf("spki sha256: %s\n", fp);
	if (a->pubout)
		printf("public key:  %s\n", a->pubout);
	if (a->csr)
		printf("csr:         %s\n", a->csr);
}

static int run(const struct args *a)
{
	struct ca_keyspec spec;
	unsigned char id[64];
	size_t id_len = 0;
	X509_NAME *subject = NULL;
	ca_token *tok = NULL;
	ca_key *key = NULL;
	int rc;

	GUARD(ca_keyspec_parse(a->type, &spec));
	if (a->id_hex != NULL) {
		rc = ca_unhex(a->id_hex, id, sizeof(id), &id_len);
		if (rc < 0 || id_len == 0) {
			rc = ca_err(CA_EUSAGE, "--id: '%s' is not a hex id", a->id_hex);
			goto out;
		}
	}
	if (a->subject != NULL)
		GUARD(ca_name_parse(a->subject, &subject));
	GUARD(ca_pin_source_check(a->c.pin_source));
	/* Outputs are checked before the key exists. */
	if (a->pubout)
		GUARD(ca_out_check(a->pubout, a->c.force));
	if (a->csr)
		GUARD(ca_out_check(a->csr, a->c.force));
	GUARD(ca_crypto_init());
	GUARD(ca_token_open(a->token, &tok));
	if (!ca_token_logged_in(tok)) {
		struct ca_pin pin;
		char prompt[300];

		snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
			 ca_token_label(tok));
		rc = ca_pin_read(a->c.pin_source, prompt, &pin);
		if (rc == CA_OK)
			rc = ca_token_login(tok, pin.value, pin.len);
		ca_pin_wipe(&pin);
		if (rc < 0)
			goto out;
	}
	GUARD(ca_token_generate(tok, &spec, a->label, a->id_hex ? id : NULL,
				id_len, &key));
	if (a->pubout)
		GUARD(write_pubkey(ca_key_public(key), a->pubout, a->c.force));
	if (a->csr)
		GUARD(write_csr(a, key, subject));
	report(a, key, &spec);
out:
	X509_NAME_free(subject);
	ca_key_free(key);
	ca_token_free(tok);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CA_COMMON_OPTIONS,
		{"token", required_argument, NULL, OPT_TOKEN},
		{"label", required_argument, NULL, OPT_LABEL},
		{"type", required_argument, NULL, OPT_TYPE},
		{"id", required_argument, NULL, OPT_ID},
		{"pubout", required_argument, NULL, OPT_PUBOUT},
		{"csr", required_argument, NULL, OPT_CSR},
		{"subject", required_argument, NULL, OPT_SUBJECT},
		{NULL, 0, NULL, 0},
	};
	struct args a;
	int opt, r;

	memset(&a, 0, sizeof(a));
	ca_tool_start("keygen");
	while ((opt = ca_cli_getopt(argc, argv, opts, NULL, &a.c, usage)) >=
	       0) {
		switch (opt) {
		case OPT_TOKEN: a.token = optarg; break;
		case OPT_LABEL: a.label = optarg; break;
		case OPT_TYPE: a.type = optarg; break;
		case OPT_ID: a.id_hex = optarg; break;
		case OPT_PUBOUT: a.pubout = optarg; break;
		case OPT_CSR: a.csr = optarg; break;
		case OPT_SUBJECT: a.subject = optarg; break;
		default: return ca_usage_error(usage_line, "unknown option");
		}
	}
	r = ca_cli_end_options(opt, argc, argv, usage_line);
	if (r >= 0)
		return r;
	if (a.token == NULL || a.label == NULL || a.type == NULL)
		return ca_usage_error(usage_line, "--token, --label and --type are required");
	if ((a.csr == NULL) != (a.subject == NULL))
		return ca_usage_error(usage_line, "--csr and --subject go together");
	if (a.label[0] == '\0' || strlen(a.label) > 128)
		return ca_usage_error(usage_line, "--label must be 1 to 128 characters");
	return ca_tool_finish(run(&a));
}
