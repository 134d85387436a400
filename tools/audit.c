/* hsmca-audit: verify, print and report on a CA's audit log and state;
 * look up and export what it issued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "cli/cli.h"
#include "issue/backup.h"
#include "issue/ca.h"
#include "issue/lookup.h"
#include "issue/migrate.h"
#include "out/cadir.h"
#include "out/file.h"
#include "store/audit.h"
#include "store/report.h"
#include "store/store.h"

static const char usage_line[] =
    "hsmca-audit --ca DIR verify [--full] | log | report [--expiring DAYS] | "
    "show SERIAL | show --name NAME | export SERIAL [--chain] [--out FILE] | "
    "backup --out FILE | restore FILE | anchor | migrate --to STORE";

static const char usage[] =
    "usage: hsmca-audit --ca DIR verify [--full [--pin-source SRC]]\n"
    "       hsmca-audit --ca DIR log [--json]\n"
    "       hsmca-audit --ca DIR report [--expiring DAYS] [--json]\n"
    "       hsmca-audit --ca DIR show SERIAL [--json]\n"
    "       hsmca-audit --ca DIR show --name NAME [--json]\n"
    "       hsmca-audit --ca DIR export SERIAL [--chain] [--out FILE] "
    "[--json]\n"
    "       hsmca-audit --ca DIR backup --out FILE [--json]\n"
    "       hsmca-audit --ca DIR restore FILE [--pin-source SRC] [--json]\n"
    "       hsmca-audit --ca DIR anchor [--pin-source SRC] [--json]\n"
    "       hsmca-audit --ca DIR migrate --to postgresql://...|sqlite "
    "[--json]\n"
    "                   [--store-password-source SRC]\n"
    "\n"
    "verify  recompute the audit log's hash chain; print the head hash to\n"
    "        write on paper, or the first broken entry (exit 3); --full\n"
    "        also runs SQLite's integrity_check and checks the store against\n"
    "        the token anchor (PIN needed)\n"
    "log     print every entry: who (user, host, version), what, the serial,\n"
    "        subject, reason or CRL number, and each hash with what it is of\n"
    "        (--json: one JSON object per line)\n"
    "report  list issued and revoked certificates; with --expiring, only\n"
    "        those expiring within DAYS (renewed ones marked)\n"
    "show    one certificate by serial, or every certificate with a name (CN\n"
    "        or SAN): status, validity, SANs, profile, superseded or revoked,\n"
    "        and the audit entries that touched it\n"
    "export  a certificate from the store as PEM (--chain: with this CA's\n"
    "        certificate and chain), on stdout or to --out\n"
    "backup  copy ca.db to --out FILE (never overwritten) with SQLite's\n"
    "        online backup API, then check the copy (integrity_check, audit\n"
    "        chain) before reporting success\n"
    "restore check FILE (integrity, audit chain, the token anchor: a copy\n"
    "        behind the anchor is refused) and make it ca.db; the replaced\n"
    "        store is kept as ca.db.replaced-TIME\n"
    "anchor  give a CA directory made before token anchors its CA id and\n"
    "        its anchor on the key's token (README \"Token anchor\"); with a\n"
    "        PostgreSQL store, anchor one more signing host's token\n"
    "migrate copy the store to PostgreSQL (an empty database) or back to\n"
    "        SQLite (DIR/ca.db), verify the copy (audit chain, every table\n"
    "        counted and read back value for value on both sides) and make\n"
    "        it the CA's store\n"
    "\n"
    "  --ca DIR           the CA directory\n"
    "  --expiring DAYS    with report: certificates expiring within DAYS\n"
    "  --name NAME        with show: a CN, DNS name, IP address, e-mail\n"
    "                     address or URI\n"
    "  --chain            with export: the chain after the certificate\n"
    "  --out FILE         with export: write FILE (refused if it exists);\n"
    "                     with backup: the copy to make\n"
    "  --full             with verify: integrity_check and the token anchor\n"
    "  --to STORE         with migrate: a postgresql:// connection string\n"
    "                     (no password) or sqlite\n"
    "  --store-password-source SRC  with migrate --to postgresql://...: the\n"
    "                     database password's source, file:PATH or\n"
    "                     env:NAME, recorded in ca.json (default: libpq's\n"
    "                     own, ~/.pgpass or a service file)\n"
    "  --pin-source SRC   with verify --full, restore and anchor: the CA\n"
    "                     token's PIN, file:PATH, fd:N or env:NAME (default:\n"
    "                     prompt)\n"
    "  --force            with export --out: replace FILE\n"
    "  --json             machine-readable output\n"
    "\n"
    "SERIAL is hexadecimal as `openssl x509 -serial` prints it (serial=\n"
    "prefix, colons and case ignored).\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage, 3 the audit log or the store is\n"
    "broken, the store does not match its token anchor, or the certificate\n"
    "was not issued by this CA.\n";

enum {
	OPT_CA = CA_OPT_FIRST_TOOL,
	OPT_EXPIRING,
	OPT_NAME,
	OPT_CHAIN,
	OPT_OUT,
	OPT_FULL,
	OPT_TO,
	OPT_STORE_PW
};

struct args {
	struct ca_common c;
	const char *dir, *cmd, *serial, *name, *out, *to, *store_pw;
	long expiring;
	int chain, full;
};

static int verify(ca_store *st, int json)
{
	struct ca_audit_head head;
	long bad = 0;
	int rc = ca_audit_verify(st, &bad, &head);

	if (json) {
		json_t *o =
		    json_pack("{s:b, s:I, s:s}", "ok", rc == CA_OK, "entries",
			      (json_int_t)head.seq, "head", head.hash);

		if (rc < 0 &&
		    (json_object_set_new(o, "first_broken",
					 json_integer(bad)) != 0 ||
		     json_object_set_new(o, "error",
					 json_string(ca_errmsg())) != 0)) {
			json_decref(o);
			o = NULL;
		}
		ca_print_json(o);
		return rc;
	}
	if (rc == CA_OK)
		printf("audit log OK: %ld entries\nhead: entry %ld sha256 %s\n",
		       head.seq, head.seq, head.hash);
	return rc;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void print_cert(json_t *c)
{
	json_t *rev = json_object_get(c, "revoked"), *v;
	size_t i;

	printf("serial       %s\n", str(c, "serial"));
	printf("subject      %s\n", str(c, "subject"));
	printf("kind         %s%s%s\n", str(c, "kind"),
	       json_object_get(c, "profile") ? ", profile " : "",
	       str(c, "profile"));
	printf("status       %s\n", str(c, "status"));
	printf("validity     %s to %s\n", str(c, "not_before"),
	       str(c, "not_after"));
	printf("SANs        ");
	json_array_foreach(json_object_get(c, "sans"), i, v)
	    printf("%s %s", i ? "," : "", json_string_value(v));
	printf("%s\n",
	       json_array_size(json_object_get(c, "sans")) ? "" : " none");
	if (json_is_integer(json_object_get(c, "partition")))
		printf("partition    %lld\n",
		       (long long)json_integer_value(
			   json_object_get(c, "partition")));
	printf("superseded   %s%s\n",
	       json_is_string(json_object_get(c, "superseded_by")) ? "by "
								   : "no",
	       str(c, "superseded_by"));
	if (json_is_object(rev))
		printf("revoked      %s (%s)\n", str(rev, "date"),
		       str(rev, "reason"));
	else
		printf("revoked      no\n");
	printf("issued       %s\n", str(c, "issued_at"));
	printf("sha256       %s (of the DER)\n", str(c, "sha256"));
	printf("key          SPKI SHA-256 %s\n", str(c, "spki_sha256"));
	printf("audit entries (%zu):\n",
	       json_array_size(json_object_get(c, "audit")));
	json_array_foreach(json_object_get(c, "audit"), i, v)
	    ca_audit_print_entry(stdout, v);
}

static int show(const struct args *a)
{
	json_t *o = NULL, *v;
	size_t i;
	int rc;

	if (a->name != NULL)
		rc = ca_lookup_name(a->dir, a->name, &o);
	else
		rc = ca_lookup_serial(a->dir, a->serial, &o);
	if (rc < 0)
		return rc;
	if (a->c.json) {
		ca_print_json(o);
		return CA_OK;
	}
	if (a->name == NULL) {
		print_cert(o);
	} else {
		printf("%zu certificate%s with the name %s:\n",
		       json_array_size(json_object_get(o, "certificates")),
		       json_array_size(json_object_get(o, "certificates")) == 1
			   ? ""
			   : "s",
		       a->name);
		json_array_foreach(json_object_get(o, "certificates"), i, v)
		{
			printf("\n");
			print_cert(v);
		}
	}
	json_decref(o);
	return CA_OK;
}

static int export(const struct args *a)
{
	char *pem = NULL;
	size_t len = 0;
	int rc;

	GUARD(ca_lookup_export(a->dir, a->serial, a->chain, &pem, &len));
	if (a->out != NULL)
		GUARD(ca_out_write(a->out, pem, len, a->c.force, 0644));
	if (a->c.json)
		ca_print_json(json_pack("{s:s, s:s?, s:s}", "serial", a->serial,
					"out", a->out, "pem", pem));
	else if (a->out == NULL && fwrite(pem, 1, len, stdout) != len)
		rc = ca_err(CA_EIO, "cannot write to standard output");
out:
	free(pem);
	return rc;
}

/* verify --full, backup, restore, anchor: what they found, printed. */
static int store_cmd(const struct args *a)
{
	json_t *o = NULL, *an;
	int rc;

	if (strcmp(a->cmd, "verify") == 0)
		rc = ca_dir_verify_full(a->dir, a->c.pin_source, &o);
	else if (strcmp(a->cmd, "backup") == 0)
		rc = ca_dir_backup(a->dir, a->out, &o);
	else if (strcmp(a->cmd, "restore") == 0)
		rc = ca_dir_restore(a->dir, a->serial, a->c.pin_source, &o);
	else
		rc = ca_dir_anchor_init(a->dir, a->c.pin_source, &o);
	if (rc < 0)
		return rc;
	if (a->c.json) {
		ca_print_json(o);
		return CA_OK;
	}
	if (json_object_get(o, "entries") != NULL)
		printf("%s%s OK (integrity_check): audit log of %lld entries, "
		       "head %s\n",
		       strcmp(a->cmd, "backup") == 0 ? "backup " : "store",
		       strcmp(a->cmd, "backup") == 0
			   ? json_string_value(json_object_get(o, "out"))
			   : "",
		       (long long)json_integer_value(
			   json_object_get(o, "entries")),
		       json_string_value(json_object_get(o, "head")));
	if (json_object_get(o, "restored") != NULL)
		printf("restored %s as %s/ca.db (the replaced store, if any: "
		       "ca.db%s)\n",
		       json_string_value(json_object_get(o, "restored")),
		       a->dir,
		       json_string_value(json_object_get(o, "replaced")));
	an = json_object_get(o, "anchor");
	if (json_is_object(an))
		printf(
		    "token anchor '%s' on token '%s' OK: CA id %s, audit "
		    "entry %lld, CRL number %lld\n",
		    json_string_value(json_object_get(an, "label")),
		    json_string_value(json_object_get(an, "token")),
		    json_string_value(json_object_get(an, "ca_id")),
		    (long long)json_integer_value(json_object_get(an, "seq")),
		    (long long)json_integer_value(json_object_get(an, "crl")));
	else if (an != NULL && strcmp(a->cmd, "backup") != 0)
		printf("no token anchor: the CA runs unanchored\n");
	if (json_integer_value(json_object_get(o, "spki_unmended")) > 0)
		printf("%lld certificate rows lack their SPKI hash (copied by "
		       "an earlier hsmca-audit migrate): the next "
		       "hsmca-sign-leaf mends them\n",
		       (long long)json_integer_value(
			   json_object_get(o, "spki_unmended")));
	json_decref(o);
	return CA_OK;
}

static int migrate(const struct args *a)
{
	json_t *o = NULL;
	int rc = ca_dir_migrate(a->dir, a->to, a->store_pw, &o);

	if (rc < 0)
		return rc;
	if (a->c.json) {
		ca_print_json(o);
		return CA_OK;
	}
	printf("migrated %s to %s: %lld certificates, %lld revocations, %lld "
	       "CRLs, %lld executed approvals, %lld audit entries (head %s), "
	       "the same rows on both sides; the audit chain verifies\n",
	       json_string_value(json_object_get(o, "from")),
	       json_string_value(json_object_get(o, "to")),
	       (long long)json_integer_value(json_object_get(o, "certs")),
	       (long long)json_integer_value(json_object_get(o, "revocations")),
	       (long long)json_integer_value(json_object_get(o, "crls")),
	       (long long)json_integer_value(json_object_get(o, "approvals")),
	       (long long)json_integer_value(json_object_get(o, "audit")),
	       json_string_value(json_object_get(o, "head")));
	if (json_object_get(o, "kept") != NULL)
		printf("the SQLite store is kept as %s\n",
		       json_string_value(json_object_get(o, "kept")));
	json_decref(o);
	return CA_OK;
}

static int run(const struct args *a)
{
	ca_store *st = NULL;
	char *path;
	int rc;

	if (strcmp(a->cmd, "show") == 0)
		return show(a);
	if (strcmp(a->cmd, "export") == 0)
		return export(a);
	/* A store someone else could have written proves nothing. */
	rc = ca_dir_check_owner(a->dir);
	if (rc < 0)
		return rc;
	if ((strcmp(a->cmd, "verify") == 0 && a->full) ||
	    strcmp(a->cmd, "backup") == 0 || strcmp(a->cmd, "restore") == 0 ||
	    strcmp(a->cmd, "anchor") == 0)
		return store_cmd(a);
	if (strcmp(a->cmd, "migrate") == 0)
		return migrate(a);
	rc = ca_dir_store_find(a->dir, NULL, &path);
	if (rc < 0)
		return rc;
	rc = ca_store_open(path, &st);
	free(path);
	if (rc < 0)
		return rc;
	if (strcmp(a->cmd, "verify") == 0)
		rc = verify(st, a->c.json);
	else if (strcmp(a->cmd, "log") == 0)
		rc = ca_audit_print(st, stdout, a->c.json);
	else
		rc = ca_report(st, a->expiring, a->c.json, stdout);
	ca_store_close(st);
	return rc;
}

/* Each option only with its command; one operand, SERIAL, for show and
 * export. -1: go on, else the exit code. */
static int check_args(struct args *a, int argc, char **argv)
{
	int is_show, is_export, is_backup, is_restore, is_pin,
	    operands = argc - optind;

	if (a->dir == NULL || operands < 1)
		return ca_usage_error(usage_line,
				      "--ca DIR and one command are required");
	a->cmd = argv[optind];
	is_show = strcmp(a->cmd, "show") == 0;
	is_export = strcmp(a->cmd, "export") == 0;
	is_backup = strcmp(a->cmd, "backup") == 0;
	is_restore = strcmp(a->cmd, "restore") == 0;
	is_pin = is_restore || strcmp(a->cmd, "anchor") == 0 ||
		 (a->full && strcmp(a->cmd, "verify") == 0);
	if (!is_show && !is_export && !is_backup && !is_restore &&
	    strcmp(a->cmd, "verify") != 0 && strcmp(a->cmd, "anchor") != 0 &&
	    strcmp(a->cmd, "log") != 0 && strcmp(a->cmd, "report") != 0 &&
	    strcmp(a->cmd, "migrate") != 0)
		return ca_usage_error(usage_line,
				      "unknown command (not shown)");
	if (a->c.pin_source != NULL && !is_pin)
		return ca_usage_error(usage_line,
				      "--pin-source goes with verify --full, "
				      "restore and anchor");
	if (a->full && strcmp(a->cmd, "verify") != 0)
		return ca_usage_error(usage_line, "--full goes with verify");
	if ((a->to != NULL) != (strcmp(a->cmd, "migrate") == 0))
		return ca_usage_error(usage_line,
				      "migrate needs --to STORE "
				      "(and --to goes with migrate)");
	if (a->store_pw != NULL &&
	    (a->to == NULL || strcmp(a->to, "sqlite") == 0))
		return ca_usage_error(usage_line,
				      "--store-password-source goes with "
				      "migrate --to postgresql://...");
	if (is_backup && (a->out == NULL || a->c.force))
		return ca_usage_error(usage_line,
				      "backup needs --out FILE (never "
				      "overwritten: no --force)");
	if (a->expiring >= 0 && strcmp(a->cmd, "report") != 0)
		return ca_usage_error(usage_line,
				      "--expiring goes with report");
	if (a->name != NULL && !is_show)
		return ca_usage_error(usage_line, "--name goes with show");
	if ((a->chain || a->out) && !is_export && !(is_backup && !a->chain))
		return ca_usage_error(usage_line,
				      "--chain goes with export, --out with "
				      "export and backup");
	if (a->c.force && a->out == NULL)
		return ca_usage_error(usage_line,
				      "--force goes with export --out");
	if ((is_show && a->name == NULL) || is_export || is_restore) {
		if (operands != 2)
			return ca_usage_error(usage_line, "%s needs one %s",
					      a->cmd,
					      is_restore ? "FILE" : "SERIAL");
		a->serial = argv[optind + 1];
	} else if (operands != 1) {
		return ca_usage_error(usage_line,
				      "%s takes no other argument%s", a->cmd,
				      is_show ? " with --name" : "");
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CA_COMMON_OPTIONS,
	    {"ca", required_argument, NULL, OPT_CA},
	    {"expiring", required_argument, NULL, OPT_EXPIRING},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"chain", no_argument, NULL, OPT_CHAIN},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"full", no_argument, NULL, OPT_FULL},
	    {"to", required_argument, NULL, OPT_TO},
	    {"store-password-source", required_argument, NULL, OPT_STORE_PW},
	    {NULL, 0, NULL, 0},
	};
	struct args a;
	int opt, r;

	memset(&a, 0, sizeof(a));
	a.expiring = -1;
	ca_cli_start(&a.c, "audit", usage_line, NULL);
	while ((opt = ca_cli_getopt(argc, argv, opts, NULL, &a.c, usage)) >=
	       0) {
		switch (opt) {
		case OPT_CA:
			a.dir = optarg;
			break;
		case OPT_EXPIRING:
			if (ca_parse_long(optarg, 0, 36500, "--expiring",
					  &a.expiring) < 0)
				return ca_usage_error(usage_line, "%s",
						      ca_errmsg());
			break;
		case OPT_NAME:
			a.name = optarg;
			break;
		case OPT_CHAIN:
			a.chain = 1;
			break;
		case OPT_OUT:
			a.out = optarg;
			break;
		case OPT_FULL:
			a.full = 1;
			break;
		case OPT_TO:
			a.to = optarg;
			break;
		case OPT_STORE_PW:
			if (ca_store_password_source_check(optarg) < 0)
				return ca_usage_error(
				    usage_line, "--store-password-source: %s",
				    ca_errmsg());
			a.store_pw = optarg;
			break;
		}
	}
	if (ca_cli_status(opt) >= 0)
		return ca_cli_status(opt);
	r = check_args(&a, argc, argv);
	if (r >= 0)
		return r;
	return ca_tool_finish(run(&a));
}
