/* hsmca-sign-subca: sign a subordinate CA certificate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "cli/cli.h"
#include "common/pin.h"
#include "issue/subca.h"

static const char usage_line[] =
    "hsmca-sign-subca --ca DIR (--csr sub.csr | --cross-sign CERT) --days N "
    "--out sub.crt [options]";

static const char usage[] =
    "usage: hsmca-sign-subca --ca DIR --csr sub.csr --days N --out sub.crt\n"
    "                        [--pathlen N] [--subject DN]\n"
    "                        [--permit-dns D] [--exclude-dns D] [--permit-ip "
    "CIDR]\n"
    "                        [--exclude-ip CIDR] [--permit-email E] "
    "[--exclude-email E]\n"
    "                        [--permit-uri U] [--exclude-uri U] [--policy "
    "OID]\n"
    "                        [--eku EKU] [--crl-url URL] [--aia-url URL]\n"
    "                        [--cross-sign CERT] [--lint-cert FILE]\n"
    "                        [--prepare REQ | --request REQ --approval "
    "A.sig...]\n"
    "\n"
    "Sign a subordinate CA certificate with this CA's token key. The CSR's\n"
    "signature and key are checked; validity is clamped inside this CA's.\n"
    "\n"
    "  --ca DIR              the issuing CA directory\n"
    "  --csr FILE            the subordinate's CSR (PEM or DER)\n"
    "  --cross-sign CERT     instead of a CSR: cross-certify this CA "
    "certificate\n"
    "                        (same subject, key and SKI; for root rollover)\n"
    "  --days N              validity in days (clamped to this CA's notAfter)\n"
    "  --out FILE            the certificate (PEM; never overwritten without "
    "--force)\n"
    "  --pathlen N           pathLenConstraint (default: this CA's minus one)\n"
    "  --subject DN          subject instead of the CSR's\n"
    "  --permit-dns/--exclude-dns D       name constraints (repeatable)\n"
    "  --permit-ip/--exclude-ip CIDR      e.g. 10.0.0.0/8, 2001:db8::/32\n"
    "  --permit-email/--exclude-email E   e.g. example.com\n"
    "  --permit-uri/--exclude-uri U       e.g. .example.com\n"
    "  --policy OID          certificate policy (default: the CA config's)\n"
    "  --eku EKU             extended key usage (serverAuth, clientAuth, "
    "OID...)\n"
    "  --crl-url URL         CRL distribution point (default: the CA "
    "config's)\n"
    "  --aia-url URL         caIssuers URL (default: the CA config's)\n"
    "  --lint-cert FILE      also write the TBS signed by a throwaway key\n"
    "  --prepare FILE        quorum CA: write the approval request, sign "
    "nothing\n"
    "  --request FILE        quorum CA: execute an approved request\n"
    "  --approval FILE       an approval (repeatable)\n"
    "  --approval-ttl T      request lifetime: 90s, 30m, 24h (default), 2d\n"
    "  --quorum FILE         the quorum file (default: DIR/quorum.json)\n"
    "  --module MODULE       PKCS#11 module: path or p11-kit name (README "
    "\"Tokens\")\n"
    "  --module-args ARGS    its initialisation arguments (or "
    "$HSMCA_MODULE_ARGS)\n"
    "  --pin-source SRC      file:PATH, fd:N or env:NAME (default: prompt)\n"
    "  --allow-final-pin-try  log in although the token reports\n"
    "                     CKF_USER_PIN_FINAL_TRY\n"
    "  --force               replace existing output files\n"
    "  --json                print the result as JSON\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage, 3 refused by policy.\n";

enum {
	OPT_CA = CA_OPT_FIRST_TOOL,
	OPT_CSR,
	OPT_CROSS,
	OPT_SUBJECT,
	OPT_DAYS,
	OPT_PATHLEN,
	OPT_OUT,
	OPT_LINT,
	OPT_ARRAY
};

static json_t **array_for(struct ca_subca_params *p, const char *name)
{
	struct ca_name_constraints *nc = &p->nc;

	if (strcmp(name, "permit-dns") == 0)
		return &nc->permit_dns;
	if (strcmp(name, "exclude-dns") == 0)
		return &nc->exclude_dns;
	if (strcmp(name, "permit-ip") == 0)
		return &nc->permit_ip;
	if (strcmp(name, "exclude-ip") == 0)
		return &nc->exclude_ip;
	if (strcmp(name, "permit-email") == 0)
		return &nc->permit_email;
	if (strcmp(name, "exclude-email") == 0)
		return &nc->exclude_email;
	if (strcmp(name, "permit-uri") == 0)
		return &nc->permit_uri;
	if (strcmp(name, "exclude-uri") == 0)
		return &nc->exclude_uri;
	if (strcmp(name, "policy") == 0)
		return &p->policies;
	if (strcmp(name, "eku") == 0)
		return &p->ekus;
	if (strcmp(name, "crl-url") == 0)
		return &p->crl_urls;
	return &p->aia_urls;
}

static void free_arrays(struct ca_subca_params *p)
{
	static const char *const names[] = {
	    "permit-dns",   "exclude-dns",   "permit-ip",  "exclude-ip",
	    "permit-email", "exclude-email", "permit-uri", "exclude-uri",
	    "policy",	    "eku",	     "crl-url",	   "aia-url",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_decref(*array_for(p, names[i]));
}

static void report(int json, const struct ca_subca_params *p,
		   const struct ca_subca_result *r)
{
	if (json) {
		ca_print_json(json_pack(
		    "{s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:s?}", "subject",
		    r->subject, "serial", r->serial, "not_after", r->not_after,
		    "cert_sha256", r->prepared ? "" : r->cert_sha256, "clamped",
		    r->clamped, "prepared", r->prepared, "already_executed",
		    r->resumed != 0, "out",
		    r->prepared ? p->tp.prepare : p->out));
		return;
	}
	if (r->prepared) {
		printf(
		    "approval request written: %s\n  subject %s, serial %s\n",
		    p->tp.prepare, r->subject, r->serial);
		return;
	}
	if (r->resumed)
		printf("already executed: %s\n",
		       r->resumed == 1 ? "output written from the store"
				       : "the output holds the stored "
					 "certificate");
	printf("certificate: %s\n", p->out);
	printf("subject:     %s\n", r->subject);
	printf("serial:      %s\n", r->serial);
	printf("not after:   %s%s\n", r->not_after,
	       r->clamped ? " (clamped to the issuer's notAfter)" : "");
	printf("sha256:      %s\n", r->cert_sha256);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CA_COMMON_OPTIONS,
	    {"ca", required_argument, NULL, OPT_CA},
	    {"csr", required_argument, NULL, OPT_CSR},
	    {"cross-sign", required_argument, NULL, OPT_CROSS},
	    {"subject", required_argument, NULL, OPT_SUBJECT},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"pathlen", required_argument, NULL, OPT_PATHLEN},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"lint-cert", required_argument, NULL, OPT_LINT},
	    {"permit-dns", required_argument, NULL, OPT_ARRAY},
	    {"exclude-dns", required_argument, NULL, OPT_ARRAY},
	    {"permit-ip", required_argument, NULL, OPT_ARRAY},
	    {"exclude-ip", required_argument, NULL, OPT_ARRAY},
	    {"permit-email", required_argument, NULL, OPT_ARRAY},
	    {"exclude-email", required_argument, NULL, OPT_ARRAY},
	    {"permit-uri", required_argument, NULL, OPT_ARRAY},
	    {"exclude-uri", required_argument, NULL, OPT_ARRAY},
	    {"policy", required_argument, NULL, OPT_ARRAY},
	    {"eku", required_argument, NULL, OPT_ARRAY},
	    {"crl-url", required_argument, NULL, OPT_ARRAY},
	    {"aia-url", required_argument, NULL, OPT_ARRAY},
	    CA_TWOPHASE_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct ca_subca_params p;
	struct ca_subca_result r;
	struct ca_common c;
	const char *dir = NULL, *days = NULL, *pathlen = NULL;
	int opt, idx = 0, rc, code = 0;
	long v;

	memset(&p, 0, sizeof(p));
	ca_cli_start(&c, "sign-subca", usage_line, &p.tp);
	while ((opt = ca_cli_getopt(argc, argv, opts, &idx, &c, usage)) >= 0) {
		switch (opt) {
		case OPT_CA:
			dir = optarg;
			break;
		case OPT_CSR:
			p.csr = optarg;
			break;
		case OPT_CROSS:
			p.cross_sign = optarg;
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
		case OPT_OUT:
			p.out = optarg;
			break;
		case OPT_LINT:
			p.lint_cert = optarg;
			break;
		case OPT_ARRAY:
			if (ca_cli_append(array_for(&p, opts[idx].name),
					  optarg) < 0)
				CA_USAGE(usage_line, "--%s: %s", opts[idx].name,
					 ca_errmsg());
			break;
		}
	}
	code = ca_cli_end_options(opt, argc, argv, usage_line);
	if (code >= 0)
		goto done;
	if (dir == NULL || days == NULL)
		CA_USAGE(usage_line, "--ca and --days are required");
	if ((p.csr == NULL) == (p.cross_sign == NULL))
		CA_USAGE(usage_line, "give either --csr or --cross-sign");
	if (p.cross_sign != NULL && p.subject != NULL)
		CA_USAGE(usage_line, "--cross-sign keeps the certificate's "
				     "subject: no --subject");
	if (p.out == NULL && p.tp.prepare == NULL)
		CA_USAGE(usage_line, "--out is required");
	if (ca_parse_long(days, 1, 36500, "--days", &v) < 0)
		CA_USAGE(usage_line, "%s", ca_errmsg());
	p.days = v;
	if (ca_cli_pathlen(pathlen, &p.pathlen) < 0 ||
	    ca_cli_token(&c, &p.pin_source, &p.force) < 0)
		CA_USAGE(usage_line, "%s", ca_errmsg());
	rc = ca_subca_sign(dir, &p, &r);
	if (rc == CA_OK)
		report(c.json, &p, &r);
	code = ca_tool_finish(rc);
done:
	free_arrays(&p);
	return code;
}
