/* hsmca-keygen: generate a key pair inside a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "issue/keygen.h"

static const char usage_line[] =
    "hsmca-keygen --token URI --label NAME --type TYPE [--id HEX] "
    "[--pubout FILE] [--csr FILE --subject DN [--sig-alg ALG]] | --check "
    "--token URI "
    "[--label NAME]";

static const char usage[] =
    "usage: hsmca-keygen --token URI --label NAME --type TYPE [--id HEX]\n"
    "                    [--pubout FILE] [--csr FILE --subject DN [--sig-alg "
    "ALG]]\n"
    "       hsmca-keygen --check --token URI [--label NAME] [--type TYPE]\n"
    "                    [--pubout FILE] [--csr FILE --subject DN]\n"
    "\n"
    "Generate a key pair inside a PKCS#11 token. The private key is "
    "sensitive,\n"
    "never extractable and can only sign.\n"
    "\n"
    "With --check nothing is generated: the token is found and logged in to\n"
    "(the PIN is tried), and with --label the tool says whether a key with\n"
    "that label exists; when it does, its URI, type and SPKI SHA-256 are\n"
    "printed, --type (if given) must be its type, and --pubout and --csr are\n"
    "written from it.\n"
    "\n"
    "  --token URI        the token, as a pkcs11: URI (pkcs11:token=LABEL)\n"
    "  --label NAME       label of the new key (refused if it exists)\n"
    "  --type TYPE        rsa:2048 rsa:3072 rsa:4096 ec:p256 ec:p384 ec:p521 "
    "ed25519\n"
    "  --id HEX           CKA_ID (default: 16 random bytes from the token)\n"
    "  --pubout FILE      write the public key (PEM SubjectPublicKeyInfo)\n"
    "  --csr FILE         write a CSR signed by the new key (needs --subject)\n"
    "  --subject DN       subject of the CSR, e.g. 'CN=Example Issuing "
    "CA,O=Example'\n"
    "  --sig-alg ALG      the CSR's signature, RSA keys: rsa-pkcs1 (default), "
    "rsa-pss\n"
    "  --module MODULE    PKCS#11 module: path or p11-kit name (README "
    "\"Tokens\")\n"
    "  --module-args ARGS its initialisation arguments (or "
    "$HSMCA_MODULE_ARGS)\n"
    "  --pin-source SRC   file:PATH, fd:N or env:NAME (default: prompt)\n"
    "  --allow-final-pin-try  log in although the token reports\n"
    "                     CKF_USER_PIN_FINAL_TRY\n"
    "  --check            generate nothing: check the token, the PIN and\n"
    "                     whether --label exists\n"
    "  --force            replace existing output files\n"
    "  --json             print the result as JSON\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage, 3 refused by policy.\n";

enum {
	OPT_TOKEN = CA_OPT_FIRST_TOOL,
	OPT_LABEL,
	OPT_TYPE,
	OPT_ID,
	OPT_PUBOUT,
	OPT_CSR,
	OPT_SUBJECT,
	OPT_CHECK,
	OPT_SIG_ALG
};

struct args {
	struct ca_common c;
	const char *token, *label, *type, *id_hex, *pubout, *csr, *subject;
	int check;
	enum ca_sigalg sigalg;
};

/* --check: the token, and the key labelled --label if there is one. */
static void report_check(const struct args *a,
			 const struct ca_keygen_result *res)
{
	if (a->c.json) {
		ca_print_json(json_pack(
		    "{s:s, s:s, s:b, s:s?, s:b, s:s?, s:s?, s:s?, s:s?, s:s?}",
		    "token", res->token_label, "serial", res->token_serial,
		    "logged_in", 1, "label", a->label, "exists", res->exists,
		    "uri", res->uri, "type", res->exists ? res->type : NULL,
		    "spki_sha256", res->exists ? res->spki_sha256 : NULL,
		    "pubout", res->exists ? a->pubout : NULL, "csr",
		    res->exists ? a->csr : NULL));
		return;
	}
	printf("token:       %s (serial %s), PIN accepted\n", res->token_label,
	       res->token_serial);
	if (a->label == NULL)
		return;
	if (!res->exists) {
		printf("key '%s':    none on the token\n", a->label);
		return;
	}
	printf("key:         %s\n", res->uri);
	printf("type:        %s\n", res->type);
	printf("spki sha256: %s\n", res->spki_sha256);
}

static void report(const struct args *a, const struct ca_keygen_result *res)
{
	if (a->c.json) {
		ca_print_json(json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "uri", res->uri,
		    "label", a->label, "type", res->type, "token",
		    res->token_label, "spki_sha256", res->spki_sha256, "pubout",
		    a->pubout, "csr", a->csr));
		return;
	}
	printf("key:         %s\n", res->uri);
	printf("type:        %s\n", res->type);
	printf("spki sha256: %s\n", res->spki_sha256);
	if (a->pubout)
		printf("public key:  %s\n", a->pubout);
	if (a->csr)
		printf("csr:         %s\n", a->csr);
}

static int run(const struct args *a)
{
	struct ca_keygen_params p = {a->token,	 a->label,	  a->type,
				     a->id_hex,	 a->pubout,	  a->csr,
				     a->subject, a->c.pin_source, a->c.force,
				     a->check,	 a->sigalg};
	struct ca_keygen_result res;
	int rc;

	rc = ca_keygen(&p, &res);
	if (rc == CA_OK && a->check)
		report_check(a, &res);
	else if (rc == CA_OK)
		report(a, &res);
	ca_keygen_result_free(&res);
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
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"sig-alg", required_argument, NULL, OPT_SIG_ALG},
	    {NULL, 0, NULL, 0},
	};
	struct args a;
	int opt, r;

	memset(&a, 0, sizeof(a));
	ca_cli_start(&a.c, "keygen", usage_line, NULL);
	while ((opt = ca_cli_getopt(argc, argv, opts, NULL, &a.c, usage)) >=
	       0) {
		switch (opt) {
		case OPT_TOKEN:
			a.token = optarg;
			break;
		case OPT_LABEL:
			a.label = optarg;
			break;
		case OPT_TYPE:
			a.type = optarg;
			break;
		case OPT_ID:
			a.id_hex = optarg;
			break;
		case OPT_PUBOUT:
			a.pubout = optarg;
			break;
		case OPT_CSR:
			a.csr = optarg;
			break;
		case OPT_SUBJECT:
			a.subject = optarg;
			break;
		case OPT_CHECK:
			a.check = 1;
			break;
		case OPT_SIG_ALG:
			if (ca_sigalg_parse(optarg, &a.sigalg) < 0)
				return ca_usage_error(
				    usage_line, "--sig-alg: %s", ca_errmsg());
			break;
		}
	}
	r = ca_cli_end_options(opt, argc, argv, usage_line);
	if (r >= 0)
		return r;
	if (a.check && a.token == NULL)
		return ca_usage_error(usage_line, "--check needs --token");
	if (!a.check && (a.token == NULL || a.label == NULL || a.type == NULL))
		return ca_usage_error(
		    usage_line, "--token, --label and --type are required");
	if (a.check && a.id_hex != NULL)
		return ca_usage_error(usage_line,
				      "--id is for generating a key");
	if (a.check && a.label == NULL && (a.pubout || a.csr || a.type))
		return ca_usage_error(usage_line,
				      "--check writes --pubout and --csr "
				      "of the key --label names");
	if ((a.csr == NULL) != (a.subject == NULL))
		return ca_usage_error(usage_line,
				      "--csr and --subject go together");
	if (a.label != NULL && (a.label[0] == '\0' || strlen(a.label) > 128))
		return ca_usage_error(usage_line,
				      "--label must be 1 to 128 characters");
	return ca_tool_finish(run(&a));
}
