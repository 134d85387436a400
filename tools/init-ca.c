/* hsmca-init-ca: create a CA directory bound to a token key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "cli/cli.h"
#include "common/pin.h"
#include "issue/initca.h"
#include "store/store.h"

static const char usage_line[] =
    "hsmca-init-ca --ca DIR --key URI (--self-sign --subject DN --days N | "
    "--cert CERT --chain CHAIN) [options]";

static const char usage[] =
    "usage: hsmca-init-ca --ca DIR --key URI --self-sign --subject DN --days "
    "N\n"
    "                     [--pathlen N] [--crl-url URL] [--aia-url URL]\n"
    "                     [--policy OID]... [--lint-cert FILE] [--sig-alg "
    "ALG]\n"
    "                     [--quorum quorum.json (--prepare REQ | --request "
    "REQ\n"
    "                      --approval A.sig...)]\n"
    "       hsmca-init-ca --ca DIR --key URI --cert ca.crt --chain chain.pem\n"
    "                     [--quorum quorum.json] [--crl-url URL] [--aia-url "
    "URL]\n"
    "       (either form: [--unanchored] [--store postgresql://...\n"
    "                      [--store-password-source SRC]])\n"
    "\n"
    "Create a CA directory (ca.crt, ca.json, ca.db with the audit log) bound "
    "to\n"
    "a key on a PKCS#11 token. --self-sign makes a root CA certificate; "
    "--cert\n"
    "takes a subordinate CA certificate signed elsewhere (its key must be the\n"
    "token key and it must verify with the chain).\n"
    "\n"
    "  --ca DIR           the CA directory to create (must not exist)\n"
    "  --key URI          the CA key, e.g. "
    "'pkcs11:token=Root;object=root-key'\n"
    "  --self-sign        create a self-signed root certificate\n"
    "  --subject DN       'CN=Example Root R1,O=Example,C=GB' or "
    "'/C=GB/O=.../CN=...'\n"
    "  --days N           validity in days (1 to 36500)\n"
    "  --pathlen N        basicConstraints pathLenConstraint (default: none)\n"
    "  --crl-url URL      CRL distribution point put in certificates this CA "
    "issues\n"
    "  --aia-url URL      caIssuers URL put in certificates this CA issues\n"
    "  --policy OID       certificate policy (repeatable)\n"
    "  --lint-cert FILE   also write the TBS signed by a throwaway key, for "
    "linters\n"
    "  --sig-alg ALG      what this CA signs with, for an RSA key: rsa-pkcs1\n"
    "                     (default) or rsa-pss (recorded in ca.json)\n"
    "  --cert FILE        the subordinate CA certificate (instead of "
    "--self-sign)\n"
    "  --chain FILE       its issuers up to and including the root (PEM)\n"
    "  --quorum FILE      pin this quorum file: later root actions need "
    "M-of-N\n"
    "                     approvals; with --self-sign, the self-signature too\n"
    "  --prepare FILE     write the approval request for the self-signature\n"
    "  --request FILE     execute an approved request (same command line)\n"
    "  --approval FILE    an approval from hsmca-two-person-approve "
    "(repeatable)\n"
    "  --approval-ttl T   request lifetime: 90s, 30m, 24h (default), 2d\n"
    "  --unanchored       create the CA without a token anchor (for a token\n"
    "                     that cannot hold one): its store is then not\n"
    "                     checked against the token (README \"Token "
    "anchor\")\n"
    "  --store URL        keep the state store in this PostgreSQL database\n"
    "                     (postgresql://..., no password in it), shared by\n"
    "                     several signing hosts; default: DIR/ca.db (SQLite)\n"
    "  --store-password-source SRC  with --store: the database password's\n"
    "                     source, file:PATH or env:NAME, recorded in\n"
    "                     ca.json (fd:N: in $HSMCA_STORE_PASSWORD_SOURCE);\n"
    "                     default: libpq's own (~/.pgpass, a service file)\n"
    "  --force            replace existing --lint-cert/--prepare outputs\n"
    "  --module MODULE    PKCS#11 module: path or p11-kit name (README "
    "\"Tokens\")\n"
    "  --module-args ARGS its initialisation arguments (or "
    "$HSMCA_MODULE_ARGS)\n"
    "  --pin-source SRC   file:PATH, fd:N or env:NAME (default: prompt)\n"
    "  --allow-final-pin-try  log in although the token reports\n"
    "                     CKF_USER_PIN_FINAL_TRY\n"
    "  --json             print the result as JSON\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage, 3 refused by policy.\n";

enum {
	OPT_CA = CA_OPT_FIRST_TOOL,
	OPT_KEY,
	OPT_SELF_SIGN,
	OPT_SUBJECT,
	OPT_DAYS,
	OPT_PATHLEN,
	OPT_CRL_URL,
	OPT_AIA_URL,
	OPT_POLICY,
	OPT_LINT_CERT,
	OPT_CERT,
	OPT_CHAIN,
	OPT_SIG_ALG,
	OPT_UNANCHORED,
	OPT_STORE,
	OPT_STORE_PW
};

static void report(int json, const struct ca_init_params *p,
		   const struct ca_init_result *r)
{
	if (r->prepared) {
		if (json)
			ca_print_json(json_pack(
			    "{s:s, s:s, s:s}", "request", p->tp.prepare,
			    "subject", r->subject, "serial", r->serial));
		else
			printf("approval request written: %s\n"
			       "  subject %s, serial %s\n"
			       "collect approvals with: "
			       "hsmca-two-person-approve sign %s "
			       "--id ID --key KEY --out ID.sig\n",
			       p->tp.prepare, r->subject, r->serial,
			       p->tp.prepare);
		return;
	}
	if (json) {
		ca_print_json(json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ca", p->dir,
		    "subject", r->subject, "serial", r->serial, "key",
		    r->key_uri, "spki_sha256", r->spki_sha256, "cert_sha256",
		    r->cert_sha256, "not_after", r->not_after));
		return;
	}
	printf("CA directory: %s\n", p->dir);
	printf("subject:      %s\n", r->subject);
	printf("serial:       %s\n", r->serial);
	printf("not after:    %s\n", r->not_after);
	printf("key:          %s\n", r->key_uri);
	printf("spki sha256:  %s\n", r->spki_sha256);
	printf("cert sha256:  %s\n", r->cert_sha256);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CA_COMMON_OPTIONS,
	    {"ca", required_argument, NULL, OPT_CA},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"self-sign", no_argument, NULL, OPT_SELF_SIGN},
	    {"subject", required_argument, NULL, OPT_SUBJECT},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"pathlen", required_argument, NULL, OPT_PATHLEN},
	    {"crl-url", required_argument, NULL, OPT_CRL_URL},
	    {"aia-url", required_argument, NULL, OPT_AIA_URL},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"lint-cert", required_argument, NULL, OPT_LINT_CERT},
	    {"cert", required_argument, NULL, OPT_CERT},
	    {"chain", required_argument, NULL, OPT_CHAIN},
	    {"sig-alg", required_argument, NULL, OPT_SIG_ALG},
	    {"unanchored", no_argument, NULL, OPT_UNANCHORED},
	    {"store", required_argument, NULL, OPT_STORE},
	    {"store-password-source", required_argument, NULL, OPT_STORE_PW},
	    CA_TWOPHASE_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct ca_init_params p;
	struct ca_init_result r;
	struct ca_common c;
	const char *days = NULL, *pathlen = NULL;
	json_t *crl = json_array(), *aia = json_array(), *pol = json_array();
	int opt, idx = 0, self_sign = 0, rc = CA_OK, code = 0;
	long v;

	memset(&p, 0, sizeof(p));
	ca_cli_start(&c, "init-ca", usage_line, &p.tp);
	while ((opt = ca_cli_getopt(argc, argv, opts, &idx, &c, usage)) >= 0) {
		switch (opt) {
		case OPT_CA:
			p.dir = optarg;
			break;
		case OPT_KEY:
			p.key_uri = optarg;
			break;
		case OPT_SELF_SIGN:
			self_sign = 1;
			break;
		case OPT_SUBJECT:
			p.subject = optarg;
			break;
		case OPT_DAYS:
			days = optarg;
			break;
		case OPT_PATHLEN:
			pathlen = optarg;
			break;
		case OPT_CRL_URL:
		case OPT_AIA_URL:
		case OPT_POLICY:
			if (ca_cli_append(opt == OPT_CRL_URL   ? &crl
					  : opt == OPT_AIA_URL ? &aia
							       : &pol,
					  optarg) < 0)
				CA_USAGE(usage_line, "--%s: %s", opts[idx].name,
					 ca_errmsg());
			break;
		case OPT_LINT_CERT:
			p.lint_cert = optarg;
			break;
		case OPT_CERT:
			p.cert = optarg;
			break;
		case OPT_CHAIN:
			p.chain = optarg;
			break;
		case OPT_UNANCHORED:
			p.unanchored = 1;
			break;
		case OPT_STORE:
			if (!ca_store_is_url(optarg))
				CA_USAGE(usage_line,
					 "--store: not a postgresql:// "
					 "connection string: '%s'",
					 optarg);
			p.store = optarg;
			break;
		case OPT_STORE_PW:
			if (ca_store_password_source_check(optarg) < 0)
				CA_USAGE(usage_line,
					 "--store-password-source: %s",
					 ca_errmsg());
			p.store_password_source = optarg;
			break;
		case OPT_SIG_ALG:
			if (ca_sigalg_parse(optarg, &p.sigalg) < 0)
				CA_USAGE(usage_line, "--sig-alg: %s",
					 ca_errmsg());
			break;
		}
	}
	code = ca_cli_end_options(opt, argc, argv, usage_line);
	if (code >= 0)
		goto done;
	if (p.dir == NULL || p.key_uri == NULL)
		CA_USAGE(usage_line, "--ca and --key are required");
	if (p.store_password_source != NULL && p.store == NULL)
		CA_USAGE(usage_line, "--store-password-source needs --store");
	if (self_sign == (p.cert != NULL))
		CA_USAGE(usage_line, "give either --self-sign or --cert");
	if (p.cert != NULL && p.chain == NULL)
		CA_USAGE(usage_line, "--cert needs --chain");
	if (p.cert != NULL &&
	    (p.subject || days || p.tp.prepare || p.tp.request))
		CA_USAGE(usage_line, "--cert takes no --subject, --days, "
				     "--prepare or --request");
	if (self_sign && (p.subject == NULL || days == NULL))
		CA_USAGE(usage_line, "--self-sign needs --subject and --days");
	if (days != NULL && ca_parse_long(days, 1, 36500, "--days", &v) < 0)
		CA_USAGE(usage_line, "%s", ca_errmsg());
	p.days = days ? v : 0;
	if (ca_cli_pathlen(pathlen, &p.pathlen) < 0 ||
	    ca_cli_token(&c, &p.pin_source, &p.force) < 0)
		CA_USAGE(usage_line, "%s", ca_errmsg());
	p.crl_urls = crl;
	p.aia_urls = aia;
	p.policies = pol;
	rc = self_sign ? ca_init_root(&p, &r) : ca_init_sub(&p, &r);
	if (rc == CA_OK)
		report(c.json, &p, &r);
	code = ca_tool_finish(rc);
done:
	json_decref(crl);
	json_decref(aia);
	json_decref(pol);
	return code;
}
