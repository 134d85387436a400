/* hsmca-two-person-approve: show, sign and verify M-of-N approvals of one
 * exact quorum-protected operation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "base/time.h"
#include "cli/cli.h"
#include "common/pin.h"
#include "input/quorum.h"
#include "issue/quorum.h"
#include "out/file.h"
#include "quorum/request.h"
#include "quorum/verify.h"
#include "sign/approval.h"

static const char usage_line[] =
    "hsmca-two-person-approve show|sign|verify REQUEST [options] "
    "[SIG...] | check-key --quorum FILE --id NAME --key KEY | quorum init|add "
    "FILE [options]";

static const char usage[] =
    "usage: hsmca-two-person-approve show   REQUEST [--json]\n"
    "       hsmca-two-person-approve sign   REQUEST --id NAME --key "
    "KEYFILE|pkcs11:URI\n"
    "                                       --out NAME.sig [--pass-source SRC "
    "| --pin-source SRC]\n"
    "                                       [--force] [--json]\n"
    "                                       [--quorum quorum.json]\n"
    "       hsmca-two-person-approve verify REQUEST --quorum quorum.json "
    "SIG... [--json]\n"
    "       hsmca-two-person-approve check-key --quorum quorum.json --id NAME "
    "--key KEY\n"
    "                                       [--pass-source SRC | --pin-source "
    "SRC] [--json]\n"
    "       hsmca-two-person-approve quorum init FILE --threshold M [--force] "
    "[--json]\n"
    "       hsmca-two-person-approve quorum add  FILE --id ID --name NAME\n"
    "                                       --key PUBFILE|pkcs11:URI "
    "[--threshold M] [--json]\n"
    "\n"
    "M-of-N approval of one exact operation prepared by a CA tool's "
    "--prepare.\n"
    "\n"
    "  show     print what the operation will sign, decoded from the "
    "request's\n"
    "           own bytes, and the request digest as hex and as words to read "
    "aloud\n"
    "  sign     sign an approval of the request with your key (a PEM private "
    "key\n"
    "           file, optionally encrypted, or a key on a token as a pkcs11: "
    "URI)\n"
    "  verify   check approvals against a quorum file: one line per file, "
    "then\n"
    "           \"N of M required approvals valid\"\n"
    "  check-key  check that your key can sign and is the one the quorum file\n"
    "           lists for your id (signs a probe, never an approval)\n"
    "  quorum init  write a new quorum file with threshold M and no "
    "approvers\n"
    "  quorum add   add an approver from their public key (a PEM public "
    "key or\n"
    "           certificate file, or a key on a token by pkcs11: URI); print "
    "every\n"
    "           approver's key fingerprint (SPKI SHA-256) and the file's "
    "SHA-256\n"
    "\n"
    "  --id NAME          your approver id in the quorum file\n"
    "  --key KEY          PEM private key file (mode 0600, yours) or pkcs11: "
    "URI;\n"
    "                     Ed25519, ECDSA P-256/P-384 or RSA >= 2048\n"
    "  --out FILE         the approval file to write (refused if it exists)\n"
    "  --pass-source SRC  passphrase of an encrypted key file: file:PATH, "
    "fd:N,\n"
    "                     env:NAME (default: prompt when the key is "
    "encrypted)\n"
    "  --pin-source SRC   PIN of the token holding a pkcs11: key (default: "
    "prompt)\n"
    "  --allow-final-pin-try  log in although the token reports\n"
    "                     CKF_USER_PIN_FINAL_TRY\n"
    "  --quorum FILE      the quorum file (verify, check-key; with sign: the "
    "key must be the\n"
    "                     one the file lists for --id, and the file the "
    "request's)\n"
    "  --name NAME        quorum add: the approver's name as people know it\n"
    "  --threshold M      quorum init/add: approvals needed (1 to the number "
    "of\n"
    "                     approvers)\n"
    "  --module MODULE    PKCS#11 module: path or p11-kit name (README "
    "\"Tokens\")\n"
    "  --module-args ARGS its initialisation arguments (or "
    "$HSMCA_MODULE_ARGS)\n"
    "  --force            replace an existing --out file\n"
    "  --json             print the result as JSON\n"
    "\n"
    "Exit status: 0 done (verify: threshold met), 1 error, 2 usage,\n"
    "3 refused by policy (expired request, refused key, threshold not met).\n";

enum {
	OPT_ID = CA_OPT_FIRST_TOOL,
	OPT_KEY,
	OPT_OUT,
	OPT_PASS_SOURCE,
	OPT_QUORUM,
	OPT_NAME,
	OPT_THRESHOLD
};

struct args {
	struct ca_common c;
	const char *cmd;
	const char *qcmd;    /* quorum init|add */
	const char *request; /* or the quorum file of quorum init|add */
	const char *id, *key, *out, *pass_source, *quorum, *name;
	long threshold;
	const char *const *sigs;
	int n_sigs;
};

/* ---------------------------------------------------------------------- */
/* Printing a described request                                            */

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "(absent)";
}

/* Text with embedded newlines, every line indented. */
static void print_indented(const char *text, const char *indent)
{
	const char *nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		if (nl == NULL)
			nl = text + strlen(text);
		printf("%s%.*s\n", indent, (int)(nl - text), text);
		text = *nl ? nl + 1 : nl;
	}
}

static void print_extensions(json_t *exts)
{
	json_t *e;
	size_t i;

	if (json_array_size(exts) == 0) {
		printf("  Extensions:        none\n");
		return;
	}
	printf("  Extensions:\n");
	json_array_foreach(exts, i, e)
	{
		printf("    %s (%s%s):\n", str(e, "name"),
		       json_is_true(json_object_get(e, "critical"))
			   ? "critical, "
			   : "not critical, ",
		       str(e, "oid"));
		print_indented(str(e, "value"), "        ");
	}
}

static void print_validity(json_t *c)
{
	time_t nb, na;

	printf("  Not before:        %s\n", str(c, "not_before"));
	printf("  Not after:         %s", str(c, "not_after"));
	if (ca_parse_time(str(c, "not_before"), &nb) == CA_OK &&
	    ca_parse_time(str(c, "not_after"), &na) == CA_OK)
		printf(" (%lld days)", (long long)((na - nb) / 86400));
	printf("\n");
	ca_err_clear();
}

static void print_cert(json_t *desc, json_t *c)
{
	json_t *k = json_object_get(c, "public_key");

	printf(
	    "Certificate to be signed (TBSCertificate, %lld bytes):\n",
	    (long long)json_integer_value(json_object_get(desc, "tbs_bytes")));
	printf("  Subject:           %s\n", str(c, "subject"));
	printf("  Issuer:            %s\n", str(c, "issuer"));
	printf("  Serial (hex):      %s\n", str(c, "serial"));
	print_validity(c);
	printf("  Version:           %lld\n",
	       (long long)json_integer_value(json_object_get(c, "version")));
	printf("  Signature alg:     %s\n", str(c, "signature_algorithm"));
	printf("  Public key:        %s", str(k, "type"));
	if (json_object_get(k, "bits") != NULL)
		printf(" %lld bits", (long long)json_integer_value(
					 json_object_get(k, "bits")));
	if (json_object_get(k, "curve") != NULL)
		printf(" (%s)", str(k, "curve"));
	printf("\n  Key SPKI SHA-256:  %s\n", str(k, "spki_sha256"));
	print_extensions(json_object_get(c, "extensions"));
}

static void print_crl(json_t *desc, json_t *c)
{
	json_t *e;
	size_t i;
	long long n = json_integer_value(json_object_get(c, "entries"));

	printf(
	    "CRL to be signed (TBSCertList, %lld bytes):\n",
	    (long long)json_integer_value(json_object_get(desc, "tbs_bytes")));
	printf("  Issuer:            %s\n", str(c, "issuer"));
	printf("  This update:       %s\n", str(c, "this_update"));
	printf("  Next update:       %s\n", str(c, "next_update"));
	printf("  CRL number:        %s\n", str(c, "crl_number"));
	printf("  Signature alg:     %s\n", str(c, "signature_algorithm"));
	printf("  Entries:           %lld\n", n);
	json_array_foreach(json_object_get(c, "first_entries"), i, e)
	{
		printf("    serial %s revoked %s%s%s\n", str(e, "serial"),
		       str(e, "revoked_at"),
		       json_object_get(e, "reason") ? " reason " : "",
		       json_object_get(e, "reason") ? str(e, "reason") : "");
	}
	if (n > (long long)json_array_size(json_object_get(c, "first_entries")))
		printf("    ... and %lld more\n",
		       n - (long long)json_array_size(
			       json_object_get(c, "first_entries")));
	print_extensions(json_object_get(c, "extensions"));
}

/* Hex in groups of four digits, eight groups a line. */
static void print_digest(const char *hex)
{
	size_t i, n = strlen(hex);

	for (i = 0; i < n; i += 4)
		printf("%s%.4s%s", i % 32 == 0 ? "  " : " ", hex + i,
		       (i % 32 == 28 || i + 4 >= n) ? "\n" : "");
}

/* Words eight a line, numbered by line so a reader can say where. */
static void print_words(const char *words)
{
	const char *p = words, *sp;
	int n = 0;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		printf("%s%.*s", n % 8 == 0 ? "  " : " ", (int)(sp - p), p);
		n++;
		if (n % 8 == 0 || *sp == '\0')
			printf("\n");
		p = *sp ? sp + 1 : sp;
	}
}

static void print_describe(const char *path, json_t *d)
{
	json_t *ca = json_object_get(d, "ca");
	time_t exp;

	printf("Approval request:    %s\n", path);
	printf("Action:              %s\n", str(d, "action"));
	printf("CA key:              %s\n", str(ca, "key"));
	printf("CA token serial:     %s\n", str(ca, "token_serial"));
	printf("CA SPKI SHA-256:     %s\n\n", str(ca, "spki_sha256"));
	if (json_object_get(d, "certificate") != NULL)
		print_cert(d, json_object_get(d, "certificate"));
	else if (json_object_get(d, "crl") != NULL)
		print_crl(d, json_object_get(d, "crl"));
	else {
		printf("Revocation to be signed (%lld bytes):\n",
		       (long long)json_integer_value(
			   json_object_get(d, "tbs_bytes")));
		print_indented(str(d, "revocation"), "  ");
	}
	printf("  TBS SHA-256:       %s\n\n", str(d, "tbs_sha256"));
	printf("Created:             %s\n", str(d, "created"));
	printf("Expires:             %s", str(d, "expires"));
	if (json_is_true(json_object_get(d, "expired")))
		printf(" (EXPIRED: cannot be approved or executed)\n");
	else if (ca_parse_time(str(d, "expires"), &exp) == CA_OK)
		printf(" (in %lldh %02lldm)\n",
		       (long long)((exp - ca_now()) / 3600),
		       (long long)((exp - ca_now()) % 3600 / 60));
	else
		printf("\n");
	printf("Nonce:               %s\n", str(d, "nonce"));
	printf("Quorum SHA-256:      %s\n\n", str(d, "quorum_sha256"));
	printf("Request SHA-256 (compare with the other approvers):\n");
	print_digest(str(d, "request_sha256"));
	printf("Request words (read aloud):\n");
	print_words(str(d, "request_words"));
}

/* One line for the signer's terminal. */
static void print_oneline(FILE *f, json_t *d)
{
	json_t *c;

	fprintf(f, "Approving %s: ", str(d, "action"));
	if ((c = json_object_get(d, "certificate")) != NULL)
		fprintf(f, "certificate %s, issuer %s, serial %s, until %s\n",
			str(c, "subject"), str(c, "issuer"), str(c, "serial"),
			str(c, "not_after"));
	else if ((c = json_object_get(d, "crl")) != NULL)
		fprintf(f,
			"CRL number %s of %s, %lld entries, next update %s\n",
			str(c, "crl_number"), str(c, "issuer"),
			(long long)json_integer_value(
			    json_object_get(c, "entries")),
			str(c, "next_update"));
	else
		fprintf(f, "revocation (%lld bytes; run 'show' to read it)\n",
			(long long)json_integer_value(
			    json_object_get(d, "tbs_bytes")));
	fprintf(f, "Request SHA-256: %s\n", str(d, "request_sha256"));
	fprintf(f, "Request words:   %s\n", str(d, "request_words"));
}

/* ---------------------------------------------------------------------- */
/* Subcommands                                                             */

static int cmd_show(const struct args *a)
{
	struct ca_request *req = NULL;
	json_t *d = NULL;
	int rc;

	GUARD(ca_request_load(a->request, &req));
	GUARD(ca_request_describe(req, &d));
	if (a->c.json) {
		ca_print_json(d);
		d = NULL;
	} else {
		print_describe(a->request, d);
	}
out:
	json_decref(d);
	ca_request_free(req);
	return rc;
}

/* sign --quorum: the approver named by --id in the quorum the request was
 * prepared for. */
static int approver_of(const struct args *a, const struct ca_request *req,
		       struct ca_quorum **q, const struct ca_approver **who)
{
	int rc;

	*who = NULL;
	if (a->quorum == NULL)
		return CA_OK;
	GUARD(ca_quorum_load(a->quorum, q));
	if (strcmp((*q)->sha256_hex, req->quorum_sha256) != 0) {
		rc = ca_err(CA_EPOLICY,
			    "%s is not the quorum file %s was prepared for "
			    "(SHA-256 %s, the request names %s)",
			    a->quorum, a->request, (*q)->sha256_hex,
			    req->quorum_sha256);
		goto out;
	}
	*who = ca_quorum_find(*q, a->id);
	if (*who == NULL)
		rc = ca_err(CA_EPOLICY, "%s is not an approver in %s", a->id,
			    a->quorum);
out:
	return rc;
}

static int cmd_sign(const struct args *a)
{
	struct ca_request *req = NULL;
	struct ca_quorum *q = NULL;
	const struct ca_approver *who = NULL;
	const char *source = a->pass_source ? a->pass_source : a->c.pin_source;
	json_t *d = NULL;
	int rc;

	GUARD(ca_pin_source_check(source));
	GUARD(ca_out_check(a->out, a->c.force));
	GUARD(ca_request_load(a->request, &req));
	GUARD(approver_of(a, req, &q, &who));
	GUARD(ca_request_describe(req, &d));
	print_oneline(stderr, d);
	GUARD(ca_approval_sign_as(req, a->id, who, a->key, source, a->out,
				  a->c.force));
	if (a->c.json)
		ca_print_json(json_pack("{s:s, s:s, s:s, s:s}", "approval",
					a->out, "approver", a->id, "request",
					a->request, "request_sha256",
					req->sha256_hex));
	else
		printf("%s: approval by %s of %s (SHA-256 %s)\n", a->out, a->id,
		       a->request, req->sha256_hex);
out:
	json_decref(d);
	ca_quorum_free(q);
	ca_request_free(req);
	return rc;
}

static int cmd_check_key(const struct args *a)
{
	const char *source = a->pass_source ? a->pass_source : a->c.pin_source;
	struct ca_quorum *q = NULL;
	char fp[65];
	int rc;

	GUARD(ca_pin_source_check(source));
	GUARD(ca_quorum_load(a->quorum, &q));
	GUARD(ca_approval_key_check(q, a->id, a->key, source, fp));
	if (a->c.json)
		ca_print_json(json_pack("{s:s, s:s, s:s, s:b}", "approver",
					a->id, "key", a->key, "spki_sha256", fp,
					"matches", 1));
	else
		printf("%s: the key of %s in %s (SHA-256 %s), and it signs\n",
		       a->key, a->id, a->quorum, fp);
out:
	ca_quorum_free(q);
	return rc;
}

static void print_quorum(json_t *sum)
{
	json_t *list = json_object_get(sum, "approvers"), *v;
	long long m = json_integer_value(json_object_get(sum, "threshold"));
	size_t i, n = json_array_size(list);

	printf("%s: threshold %lld, %zu approver%s", str(sum, "file"), m, n,
	       n == 1 ? "" : "s");
	if ((long long)n < m)
		printf(": add %lld more before a CA can use it\n",
		       m - (long long)n);
	else
		printf(" (%lld of %zu approvals needed)\n", m, n);
	json_array_foreach(list, i, v)
	    printf("  %-16s %-24s %-9s SPKI SHA-256 %s\n", str(v, "id"),
		   str(v, "name"), str(v, "key"), str(v, "spki_sha256"));
	printf("file SHA-256 (what a CA pins): %s\n", str(sum, "sha256"));
}

static int cmd_quorum(const struct args *a)
{
	struct ca_quorum_member m = {a->id, a->name, a->key};
	json_t *sum = NULL;
	int rc;

	if (strcmp(a->qcmd, "init") == 0)
		GUARD(ca_quorum_file_init(a->request, (int)a->threshold,
					  a->c.force, &sum));
	else
		GUARD(ca_quorum_file_add(a->request, &m, (int)a->threshold,
					 &sum));
	if (a->c.json) {
		ca_print_json(sum);
		sum = NULL;
	} else {
		print_quorum(sum);
	}
out:
	json_decref(sum);
	return rc;
}

static int cmd_verify(const struct args *a)
{
	struct ca_request *req = NULL;
	struct ca_quorum *q = NULL;
	json_t *rep = NULL;
	int rc, expired;

	GUARD(ca_quorum_load(a->quorum, &q));
	GUARD(ca_request_load(a->request, &req));
	if (!a->c.json) {
		GUARD(ca_approvals_report(req, q, a->sigs, a->n_sigs, stdout));
		goto out;
	}
	GUARD(ca_approvals_eval(req, q, a->sigs, a->n_sigs, &rep));
	expired = ca_now() >= req->expires;
	if (json_object_set_new(rep, "expired", json_boolean(expired)) != 0) {
		rc = ca_err(CA_EIO, "out of memory");
		goto out;
	}
	if (!json_is_true(json_object_get(rep, "threshold_met")) ||
	    !json_is_true(json_object_get(rep, "quorum_matches")) || expired)
		rc = ca_err(CA_EPOLICY, "the approvals cannot be used");
	ca_print_json(rep);
	rep = NULL;
out:
	json_decref(rep);
	ca_quorum_free(q);
	ca_request_free(req);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Arguments                                                               */

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
	    CA_COMMON_OPTIONS,
	    {"id", required_argument, NULL, OPT_ID},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"pass-source", required_argument, NULL, OPT_PASS_SOURCE},
	    {"quorum", required_argument, NULL, OPT_QUORUM},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"threshold", required_argument, NULL, OPT_THRESHOLD},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = ca_cli_getopt(argc, argv, opts, NULL, &a->c, usage)) >=
	       0) {
		switch (opt) {
		case OPT_ID:
			a->id = optarg;
			break;
		case OPT_KEY:
			a->key = optarg;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_PASS_SOURCE:
			a->pass_source = optarg;
			break;
		case OPT_QUORUM:
			a->quorum = optarg;
			break;
		case OPT_NAME:
			a->name = optarg;
			break;
		case OPT_THRESHOLD:
			if (ca_parse_long(optarg, 1, 100, "--threshold",
					  &a->threshold) < 0)
				return ca_usage_error(usage_line, "%s",
						      ca_errmsg());
			break;
		}
	}
	if (ca_cli_status(opt) >= 0)
		return ca_cli_status(opt);
	/* Not echoed: a PIN typed in the wrong place would be. */
	if (strcmp(a->cmd, "check-key") == 0) {
		if (optind < argc)
			return ca_usage_error(usage_line,
					      "unexpected argument at position "
					      "%d (not shown): check-key takes "
					      "options only",
					      optind + 1);
		return -1;
	}
	if (optind >= argc)
		return ca_usage_error(usage_line, "%s needs a %s file", a->cmd,
				      a->qcmd ? "quorum" : "REQUEST");
	a->request = argv[optind++];
	a->sigs = (const char *const *)(argv + optind);
	a->n_sigs = argc - optind;
	return -1;
}

static int check_quorum_args(const struct args *a)
{
	int init = strcmp(a->qcmd, "init") == 0;

	if (a->n_sigs > 0)
		return ca_usage_error(usage_line, "quorum %s takes one file",
				      a->qcmd);
	if (a->out || a->pass_source || a->c.pin_source || a->quorum)
		return ca_usage_error(usage_line,
				      "--out, --pass-source, --pin-source and "
				      "--quorum are not for 'quorum'");
	if (init && (a->id || a->name || a->key || a->threshold == 0))
		return ca_usage_error(usage_line,
				      "quorum init takes --threshold "
				      "only (approvers come with "
				      "quorum add)");
	if (!init && (a->id == NULL || a->name == NULL || a->key == NULL))
		return ca_usage_error(
		    usage_line, "quorum add needs --id, --name and --key");
	if (!init && a->c.force)
		return ca_usage_error(usage_line,
				      "quorum add rewrites its file: "
				      "no --force");
	return -1;
}

/* Options are accepted only by the subcommand they belong to. */
static int check_args(const struct args *a)
{
	int is_sign = strcmp(a->cmd, "sign") == 0;
	int is_verify = strcmp(a->cmd, "verify") == 0;
	int is_check = strcmp(a->cmd, "check-key") == 0;

	if (a->qcmd != NULL)
		return check_quorum_args(a);
	if (is_check) {
		if (a->name || a->threshold)
			return ca_usage_error(
			    usage_line,
			    "--name and --threshold are for 'quorum'");
		if (a->quorum == NULL || a->id == NULL || a->key == NULL)
			return ca_usage_error(usage_line,
					      "check-key needs "
					      "--quorum, --id and --key");
		if (a->out || a->c.force)
			return ca_usage_error(usage_line, "--out and --force "
							  "are for 'sign'");
		if (a->pass_source && a->c.pin_source)
			return ca_usage_error(
			    usage_line, "give --pass-source (key file) or "
					"--pin-source (token), not both");
		return -1;
	}
	if (a->name || a->threshold)
		return ca_usage_error(
		    usage_line, "--name and --threshold are for 'quorum'");
	if (!is_sign && (a->id || a->key || a->out || a->pass_source ||
			 a->c.pin_source || a->c.force))
		return ca_usage_error(
		    usage_line, "--id, --key, --out, --pass-source, "
				"--pin-source and --force are for 'sign'");
	if (!is_verify && !is_sign && a->quorum)
		return ca_usage_error(usage_line, "--quorum is for 'verify', "
						  "'sign' and 'check-key'");
	/* Not echoed: a PIN typed in the wrong place would be. */
	if (!is_verify && a->n_sigs > 0)
		return ca_usage_error(usage_line,
				      "unexpected argument after %s (not "
				      "shown): only verify takes approval "
				      "files",
				      a->request);
	if (is_sign && (a->id == NULL || a->key == NULL || a->out == NULL))
		return ca_usage_error(usage_line,
				      "sign needs --id, --key and --out");
	if (is_sign && a->pass_source && a->c.pin_source)
		return ca_usage_error(usage_line,
				      "give --pass-source (key file) or "
				      "--pin-source (token), not both");
	if (is_verify && (a->quorum == NULL || a->n_sigs == 0))
		return ca_usage_error(usage_line,
				      "verify needs --quorum and at least one "
				      "approval file");
	if (is_verify && a->n_sigs > 1000)
		return ca_usage_error(usage_line, "too many approval files");
	return -1;
}

int main(int argc, char **argv)
{
	struct args a;
	int r;

	memset(&a, 0, sizeof(a));
	ca_cli_start(&a.c, "two-person-approve", usage_line, NULL);
	if (argc < 2)
		return ca_usage_error(usage_line, "missing subcommand");
	/* Only --help and --version come before a subcommand. */
	if (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		(void)ca_common_option(argv[1][2] == 'h' ? CA_OPT_HELP
							 : CA_OPT_VERSION,
				       NULL, &a.c, usage);
		return 0;
	}
	a.cmd = argv[1];
	if (a.cmd[0] == '-') {
		/* An option first: checked as options are (--pin,
		 * abbreviations, nothing echoed), then the subcommand is asked
		 * for. */
		a.cmd = "(none)";
		r = parse_args(argc, argv, &a);
		if (r >= 0)
			return r;
		return ca_usage_error(usage_line,
				      "the subcommand (show, sign, verify, "
				      "check-key or quorum) comes first");
	}
	if (strcmp(a.cmd, "show") != 0 && strcmp(a.cmd, "sign") != 0 &&
	    strcmp(a.cmd, "verify") != 0 && strcmp(a.cmd, "check-key") != 0 &&
	    strcmp(a.cmd, "quorum") != 0)
		return ca_usage_error(usage_line,
				      "unknown subcommand (not shown): show, "
				      "sign, verify, check-key or quorum");
	if (strcmp(a.cmd, "quorum") == 0) {
		a.qcmd = argc > 2 ? argv[2] : "";
		if (strcmp(a.qcmd, "init") != 0 && strcmp(a.qcmd, "add") != 0)
			return ca_usage_error(usage_line,
					      "quorum needs init or add");
		argc--;
		argv++;
	}
	/* getopt sees the subcommand as its program name. */
	r = parse_args(argc - 1, argv + 1, &a);
	if (r >= 0)
		return r;
	r = check_args(&a);
	if (r >= 0)
		return r;
	if (strcmp(a.cmd, "show") == 0)
		return ca_tool_finish(cmd_show(&a));
	if (strcmp(a.cmd, "sign") == 0)
		return ca_tool_finish(cmd_sign(&a));
	if (a.qcmd != NULL)
		return ca_tool_finish(cmd_quorum(&a));
	if (strcmp(a.cmd, "check-key") == 0)
		return ca_tool_finish(cmd_check_key(&a));
	return ca_tool_finish(cmd_verify(&a));
}
