/* hsmca-audit: verify, print and report on a CA's audit log and state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "cli/cli.h"
#include "out/cadir.h"
#include "store/audit.h"
#include "store/report.h"
#include "store/store.h"

static const char usage_line[] =
	"hsmca-audit --ca DIR verify | log | report [--expiring DAYS]";

static const char usage[] =
	"usage: hsmca-audit --ca DIR verify\n"
	"       hsmca-audit --ca DIR log [--json]\n"
	"       hsmca-audit --ca DIR report [--expiring DAYS] [--json]\n"
	"\n"
	"verify  recompute the audit log's hash chain; print the head hash to\n"
	"        write on paper, or the first broken entry (exit 3)\n"
	"log     print every entry (--json: one JSON object per line)\n"
	"report  list issued, revoked and soon-expiring certificates\n"
	"\n"
	"  --ca DIR           the CA directory\n"
	"  --expiring DAYS    with report: certificates expiring within DAYS\n"
	"  --json             machine-readable output\n"
	"\n"
	"Exit status: 0 done, 1 error, 2 usage, 3 the audit log is broken.\n";

enum { OPT_CA = CA_OPT_FIRST_TOOL, OPT_EXPIRING };

static int verify(ca_store *st, int json)
{
	struct ca_audit_head head;
	long bad = 0;
	int rc = ca_audit_verify(st, &bad, &head);

	if (json) {
		json_t *o = json_pack("{s:b, s:I, s:s}", "ok", rc == CA_OK, "entries",
				      (json_int_t)head.seq, "head", head.hash);

		if (rc < 0) {
			json_object_set_new(o, "first_broken", json_integer(bad));
			json_object_set_new(o, "error", json_string(ca_errmsg()));
		}
		ca_print_json(o);
		return rc;
	}
	if (rc == CA_OK)
		printf("audit log OK: %ld entries\nhead: entry %ld sha256 %s\n", head.seq,
		       head.seq, head.hash);
	return rc;
}

static int run(const char *dir, const char *cmd, long expiring, int json)
{
	ca_store *st = NULL;
	char *path = ca_dir_file(dir, "ca.db");
	int rc;

	if (path == NULL)
		return ca_err(CA_EIO, "out of memory");
	rc = ca_store_open(path, &st);
	free(path);
	if (rc < 0)
		return rc;
	if (strcmp(cmd, "verify") == 0)
		rc = verify(st, json);
	else if (strcmp(cmd, "log") == 0)
		rc = ca_audit_print(st, stdout, json);
	else
		rc = ca_report(st, expiring, json, stdout);
	ca_store_close(st);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CA_COMMON_OPTIONS,
		{"ca", required_argument, NULL, OPT_CA},
		{"expiring", required_argument, NULL, OPT_EXPIRING},
		{NULL, 0, NULL, 0},
	};
	struct ca_common c;
	const char *dir = NULL, *cmd;
	long expiring = -1;
	int opt;

	memset(&c, 0, sizeof(c));
	ca_tool_start("audit");
	while ((opt = ca_cli_getopt(argc, argv, opts, NULL, &c, usage)) >= 0) {
		switch (opt) {
		case OPT_CA: dir = optarg; break;
		case OPT_EXPIRING:
			if (ca_parse_long(optarg, 0, 36500, "--expiring", &expiring) < 0)
				return ca_usage_error(usage_line, "%s", ca_errmsg());
			break;
		default: return ca_usage_error(usage_line, "unknown option");
		}
	}
	if (opt == CA_OPT_EXIT)
		return 0;
	if (opt == CA_OPT_USAGE)
		return 2;
	if (c.pin_source != NULL)
		return ca_usage_error(usage_line,
				      "this tool reads no PIN: "
				      "--pin-source does not apply");
	if (dir == NULL || optind + 1 != argc)
		return ca_usage_error(usage_line, "--ca DIR and one command are required");
	cmd = argv[optind];
	if (strcmp(cmd, "verify") != 0 && strcmp(cmd, "log") != 0 &&
	    strcmp(cmd, "report") != 0)
		return ca_usage_error(usage_line,
				      "unknown command (not shown)");
	if (expiring >= 0 && strcmp(cmd, "report") != 0)
		return ca_usage_error(usage_line, "--expiring goes with report");
	return ca_tool_finish(run(dir, cmd, expiring, c.json));
}
