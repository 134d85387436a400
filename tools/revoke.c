/* hsmca-revoke: record revocations for the next CRL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time.h"
#include "cli/cli.h"
#include "common/pin.h"
#include "issue/revoke.h"
#include "x509/crl.h"
#include "x509/serial.h"

static const char usage_line[] =
    "hsmca-revoke --ca DIR ((--serial HEX | --cert FILE) [--reason R] "
    "[--date TIME] | --revoked revoked.json)";

static const char usage[] =
    "usage: hsmca-revoke --ca DIR (--serial HEX | --cert FILE) [--reason R] "
    "[--date TIME]\n"
    "                    [--prepare REQ | --request REQ --approval A.sig...]\n"
    "       hsmca-revoke --ca DIR --revoked revoked.json\n"
    "\n"
    "Revoke certificates this CA issued. The revocation is committed to the\n"
    "CA's state store (with its audit entry) before success is reported; the\n"
    "next hsmca-gen-crl lists it.\n"
    "\n"
    "  --ca DIR              the issuing CA directory\n"
    "  --serial HEX          serial as `openssl x509 -serial` prints it\n"
    "                        (serial= prefix, colons and case ignored)\n"
    "  --cert FILE           the certificate itself (PEM or DER); it must be\n"
    "                        the one this CA issued with its serial\n"
    "  --reason R            RFC 5280 reason: unspecified (default),\n"
    "                        keyCompromise, cACompromise, affiliationChanged,\n"
    "                        superseded, cessationOfOperation, "
    "certificateHold,\n"
    "                        privilegeWithdrawn, aACompromise; removeFromCRL\n"
    "                        releases a certificateHold\n"
    "  --date TIME           revocation date, RFC 3339 UTC\n"
    "                        (2026-11-22T08:00:00Z; default now); not in the\n"
    "                        future, not before the certificate's notBefore\n"
    "  --revoked FILE        the serverless CA's revoked.json: a JSON array "
    "of\n"
    "                        {\"common_name\": CN, \"serial_number\": "
    "DECIMAL};\n"
    "                        applied as a whole or not at all, reason\n"
    "                        unspecified, already revoked entries reported\n"
    "  --prepare FILE        quorum CA, CA certificate: write the approval\n"
    "                        request, change nothing\n"
    "  --request FILE        quorum CA: execute an approved request\n"
    "  --approval FILE       an approval (repeatable)\n"
    "  --approval-ttl T      request lifetime: 90s, 30m, 24h (default), 2d\n"
    "  --quorum FILE         the quorum file (default: DIR/quorum.json)\n"
    "  --force               replace an existing --prepare file\n"
    "  --json                print the result as JSON\n"
    "\n"
    "The same serial with the same reason again is reported as already\n"
    "revoked; with another reason it is refused (a certificateHold may be\n"
    "made permanent or released).\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage, 3 refused by policy.\n";

enum {
	OPT_CA = CA_OPT_FIRST_TOOL,
	OPT_SERIAL,
	OPT_REASON,
	OPT_DATE,
	OPT_REVOKED,
	OPT_CERT
};

static void report(int json, const struct ca_revoke_params *p,
		   const struct ca_revoke_result *r)
{
	size_t i;
	json_t *e;

	if (json) {
		ca_print_json(json_pack("{s:O, s:i, s:i, s:b, s:s?}", "entries",
					r->entries, "changed", r->changed,
					"unchanged", r->unchanged, "prepared",
					r->prepared, "request",
					r->prepared ? p->tp.prepare : NULL));
		return;
	}
	if (r->prepared) {
		e = json_array_get(r->entries, 0);
		printf("approval request written: %s\n  revoke serial %s (%s), "
		       "reason %s, date %s\n",
		       p->tp.prepare,
		       json_string_value(json_object_get(e, "serial")),
		       json_string_value(json_object_get(e, "subject")),
		       json_string_value(json_object_get(e, "reason")),
		       json_string_value(json_object_get(e, "date")));
		return;
	}
	json_array_foreach(r->entries, i, e)
	{
		printf("%s: serial %s (%s), reason %s, date %s\n",
		       json_string_value(json_object_get(e, "status")),
		       json_string_value(json_object_get(e, "serial")),
		       json_string_value(json_object_get(e, "subject")),
		       json_string_value(json_object_get(e, "reason")),
		       json_string_value(json_object_get(e, "date")));
	}
	if (p->revoked != NULL)
		printf("%s: %d revoked, %d already revoked\n", p->revoked,
		       r->changed, r->unchanged);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CA_COMMON_OPTIONS,
	    {"ca", required_argument, NULL, OPT_CA},
	    {"serial", required_argument, NULL, OPT_SERIAL},
	    {"reason", required_argument, NULL, OPT_REASON},
	    {"date", required_argument, NULL, OPT_DATE},
	    {"revoked", required_argument, NULL, OPT_REVOKED},
	    {"cert", required_argument, NULL, OPT_CERT},
	    CA_TWOPHASE_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct ca_revoke_params p;
	struct ca_revoke_result r;
	struct ca_common c;
	ASN1_INTEGER *serial = NULL;
	const char *dir = NULL, *reason = NULL;
	time_t when;
	int opt, idx = 0, rc, code;

	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	ca_cli_start(&c, "revoke", usage_line, &p.tp);
	while ((opt = ca_cli_getopt(argc, argv, opts, &idx, &c, usage)) >= 0) {
		switch (opt) {
		case OPT_CA:
			dir = optarg;
			break;
		case OPT_SERIAL:
			p.serial = optarg;
			break;
		case OPT_REASON:
			reason = optarg;
			break;
		case OPT_DATE:
			p.date = optarg;
			break;
		case OPT_REVOKED:
			p.revoked = optarg;
			break;
		case OPT_CERT:
			p.cert = optarg;
			break;
		}
	}
	code = ca_cli_end_options(opt, argc, argv, usage_line);
	if (code >= 0)
		return code;
	if (dir == NULL)
		return ca_usage_error(usage_line, "--ca is required");
	/* Revocations are recorded in the store; a CRL is what gets signed. */
	if (c.pin_source != NULL)
		return ca_usage_error(usage_line,
				      "this tool reads no PIN: "
				      "--pin-source does not apply");
	if ((p.serial != NULL) + (p.cert != NULL) + (p.revoked != NULL) != 1)
		return ca_usage_error(
		    usage_line, "give one of --serial, --cert or --revoked");
	if (p.revoked != NULL && (reason != NULL || p.date != NULL))
		return ca_usage_error(usage_line,
				      "revoked.json carries no reason or "
				      "date: --reason and --date go "
				      "with --serial or --cert");
	/* Syntax first: nothing is opened for a malformed command line. */
	if (p.serial != NULL && ca_serial_parse(p.serial, &serial) < 0)
		return ca_usage_error(usage_line, "%s", ca_errmsg());
	ASN1_INTEGER_free(serial);
	p.reason = CA_REASON_UNSPECIFIED;
	if (reason != NULL && ca_crl_reason_parse(reason, &p.reason) < 0)
		return ca_usage_error(usage_line, "%s", ca_errmsg());
	if (p.date != NULL && ca_parse_time(p.date, &when) < 0)
		return ca_usage_error(usage_line, "--date: %s", ca_errmsg());
	p.force = c.force;
	rc = ca_revoke(dir, &p, &r);
	if (rc == CA_OK)
		report(c.json, &p, &r);
	ca_revoke_result_free(&r);
	return ca_tool_finish(rc);
}
