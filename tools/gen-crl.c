/* hsmca-gen-crl: sign CRLs from the CA's state store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "cli/cli.h"
#include "common/pin.h"
#include "issue/gencrl.h"
#include "x509/cert.h"

static const char usage_line[] =
    "hsmca-gen-crl --ca DIR [--days N] [--partitions N | --partition-size "
    "BYTES] [--format pem|der] (--out FILE | --out-dir DIR)";

static const char usage[] =
    "usage: hsmca-gen-crl --ca DIR [--days N] [--format pem|der] --out FILE\n"
    "       hsmca-gen-crl --ca DIR [--days N] [--partitions N | "
    "--partition-size BYTES]\n"
    "                     [--partition-url URL] [--format pem|der] --out-dir "
    "DIR\n"
    "                     [--prepare REQ | --request REQ --approval A.sig...]\n"
    "\n"
    "Sign a version 2 CRL with this CA's token key: issuer = the CA's\n"
    "subject, authorityKeyIdentifier, a CRL number one above the last\n"
    "(recorded before the file is released), thisUpdate = now, nextUpdate =\n"
    "now + --days, and every revoked certificate (reasonCode unless\n"
    "unspecified). Entries of expired certificates appear in one more CRL,\n"
    "then are dropped. The CRL is linted before the token signs and its\n"
    "signature verified before it is written.\n"
    "\n"
    "  --ca DIR              the CA directory\n"
    "  --days N              nextUpdate in days (default 7); refused when it\n"
    "                        would pass the CA certificate's notAfter\n"
    "  --format pem|der      output encoding (default pem)\n"
    "  --out FILE            the CRL (never overwritten without --force)\n"
    "  --out-dir DIR         partitioned CRLs: DIR/crl-<n>.crl for partition "
    "n\n"
    "                        (0, 1, ...) and DIR/crl-base.crl for "
    "certificates\n"
    "                        bound to no partition (its "
    "issuingDistributionPoint\n"
    "                        names ca.json crl_urls; without crl_urls it "
    "lists\n"
    "                        every entry and has none)\n"
    "  --partitions N        N partitions (1-1024), certificate -> serial mod "
    "N\n"
    "  --partition-size B    partitions of at most B bytes of DER (8192 to\n"
    "                        1 GiB) filled in issuance order\n"
    "  --partition-url URL   partition URL template with {n} (default: the\n"
    "                        first crl_urls entry with -{n} before its\n"
    "                        extension)\n"
    "                        The partition options are stored in ca.json "
    "\"crl\"\n"
    "                        while no certificate is bound to a partition;\n"
    "                        afterwards they must match it. sign-leaf binds\n"
    "                        each certificate and puts the partition's URL in\n"
    "                        its CRL distribution point; each partition CRL "
    "has\n"
    "                        a critical issuingDistributionPoint naming it.\n"
    "  --lint-cert FILE      also write the TBSCertList signed by a throwaway\n"
    "                        key, for external linters\n"
    "  --prepare FILE        quorum CA: write the approval request with the\n"
    "                        exact TBSCertList, sign nothing\n"
    "  --request FILE        quorum CA: sign an approved request\n"
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
    "Ed25519 keys cannot sign a stream: their CRLs are signed in one piece,\n"
    "up to 64 MiB (about 1.5 million entries).\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage, 3 refused by policy.\n";

enum {
	OPT_CA = CA_OPT_FIRST_TOOL,
	OPT_DAYS,
	OPT_PARTITIONS,
	OPT_PSIZE,
	OPT_PURL,
	OPT_FORMAT,
	OPT_OUT,
	OPT_OUT_DIR,
	OPT_LINT
};

static void report(int json, const struct ca_gencrl_params *p,
		   const struct ca_gencrl_result *r)
{
	size_t i;
	json_t *e;

	if (json) {
		json_t *o = json_pack("{s:O, s:b}", "crls", r->crls, "prepared",
				      r->prepared);

		if (o != NULL && r->partitioning != NULL &&
		    json_object_set(o, "partitioning", r->partitioning) != 0) {
			json_decref(o);
			o = NULL;
		}
		ca_print_json(o);
		return;
	}
	json_array_foreach(r->crls, i, e)
	{
		if (r->prepared) {
			printf("approval request written: %s\n  CRL number "
			       "%lld, %lld "
			       "entries, thisUpdate %s, nextUpdate %s\n",
			       p->tp.prepare,
			       (long long)json_integer_value(
				   json_object_get(e, "crl_number")),
			       (long long)json_integer_value(
				   json_object_get(e, "entries")),
			       json_string_value(
				   json_object_get(e, "this_update")),
			       json_string_value(
				   json_object_get(e, "next_update")));
			continue;
		}
		printf(
		    "crl: %s  number %lld, %lld entries, %lld bytes, next "
		    "update "
		    "%s%s%s\n",
		    json_string_value(json_object_get(e, "file")),
		    (long long)json_integer_value(
			json_object_get(e, "crl_number")),
		    (long long)json_integer_value(
			json_object_get(e, "entries")),
		    (long long)json_integer_value(json_object_get(e, "bytes")),
		    json_string_value(json_object_get(e, "next_update")),
		    json_object_get(e, "url") ? ", " : "",
		    json_object_get(e, "url")
			? json_string_value(json_object_get(e, "url"))
			: "");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CA_COMMON_OPTIONS,
	    {"ca", required_argument, NULL, OPT_CA},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"partitions", required_argument, NULL, OPT_PARTITIONS},
	    {"partition-size", required_argument, NULL, OPT_PSIZE},
	    {"partition-url", required_argument, NULL, OPT_PURL},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"out-dir", required_argument, NULL, OPT_OUT_DIR},
	    {"lint-cert", required_argument, NULL, OPT_LINT},
	    CA_TWOPHASE_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct ca_gencrl_params p;
	struct ca_gencrl_result r;
	struct ca_common c;
	const char *dir = NULL, *days = NULL, *parts = NULL, *psize = NULL,
		   *format = NULL;
	int opt, idx = 0, rc, code;
	long v;

	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	ca_cli_start(&c, "gen-crl", usage_line, &p.tp);
	while ((opt = ca_cli_getopt(argc, argv, opts, &idx, &c, usage)) >= 0) {
		switch (opt) {
		case OPT_CA:
			dir = optarg;
			break;
		case OPT_DAYS:
			days = optarg;
			break;
		case OPT_PARTITIONS:
			parts = optarg;
			break;
		case OPT_PSIZE:
			psize = optarg;
			break;
		case OPT_PURL:
			p.partition_url = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_OUT:
			p.out = optarg;
			break;
		case OPT_OUT_DIR:
			p.out_dir = optarg;
			break;
		case OPT_LINT:
			p.lint_cert = optarg;
			break;
		}
	}
	code = ca_cli_end_options(opt, argc, argv, usage_line);
	if (code >= 0)
		return code;
	if (dir == NULL)
		return ca_usage_error(usage_line, "--ca is required");
	p.days = CA_CRL_DAYS_DEFAULT;
	if (days != NULL) {
		if (ca_parse_long(days, 1, CA_MAX_DAYS, "--days", &v) < 0)
			return ca_usage_error(usage_line, "%s", ca_errmsg());
		p.days = v;
	}
	if (parts != NULL && psize != NULL)
		return ca_usage_error(usage_line,
				      "--partitions and --partition-size "
				      "exclude each other");
	if (parts != NULL) {
		if (ca_parse_long(parts, 1, 1024, "--partitions", &v) < 0)
			return ca_usage_error(usage_line, "%s", ca_errmsg());
		p.partitions = (int)v;
	}
	if (psize != NULL) {
		if (ca_parse_long(psize, 8192, 1024L * 1024 * 1024,
				  "--partition-size", &v) < 0)
			return ca_usage_error(usage_line, "%s", ca_errmsg());
		p.partition_size = v;
	}
	if (format != NULL && strcmp(format, "der") != 0 &&
	    strcmp(format, "pem") != 0)
		return ca_usage_error(
		    usage_line, "--format is pem or der, not '%s'", format);
	p.der = format != NULL && strcmp(format, "der") == 0;
	if (p.out != NULL && p.out_dir != NULL)
		return ca_usage_error(usage_line,
				      "give --out or --out-dir, not both");
	if (ca_cli_token(&c, &p.pin_source, &p.force) < 0)
		return ca_usage_error(usage_line, "%s", ca_errmsg());
	rc = ca_gencrl(dir, &p, &r);
	if (rc == CA_OK)
		report(c.json, &p, &r);
	ca_gencrl_result_free(&r);
	return ca_tool_finish(rc);
}
