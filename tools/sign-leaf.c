/* hsmca-sign-leaf: issue end-entity certificates from CSRs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/number.h"
#include "base/text.h"
#include "cli/cli.h"
#include "common/pin.h"
#include "input/requests.h"
#include "issue/leaf.h"
#include "x509/serial.h"

static const char usage_line[] =
    "hsmca-sign-leaf --ca DIR (--csr host.csr --out host.crt | --requests "
    "tls.json --csr-dir DIR --out-dir DIR) [options]";

static const char usage[] =
    "usage: hsmca-sign-leaf --ca DIR --csr host.csr [--profile P] [--cn NAME]\n"
    "                       [--san TYPE:VALUE]... [--eku EKU]... [--days N]\n"
    "                       [--force-issue | --renew SERIAL] --out host.crt\n"
    "                       [--chain-out FILE]\n"
    "       hsmca-sign-leaf --ca DIR --requests tls.json --csr-dir DIR "
    "--out-dir DIR\n"
    "                       [--profile P] [--in-flight N]\n"
    "       hsmca-sign-leaf --ca DIR --check (--csr host.csr [options] |\n"
    "                       --requests tls.json --csr-dir DIR)\n"
    "\n"
    "Issue end-entity certificates with this CA's token key.\n"
    "\n"
    "  --ca DIR            the issuing CA directory\n"
    "  --csr FILE          the CSR (PEM or DER); its signature is verified\n"
    "  --profile P         server, client, server-client (default), "
    "code-signing,\n"
    "                      email, ocsp-signing, csr-passthrough, or a profile\n"
    "                      from ca.json\n"
    "  --cn NAME           common name (default: the CSR's)\n"
    "  --san TYPE:VALUE    dns:NAME, ip:ADDRESS, email:ADDRESS, uri:URI "
    "(repeatable;\n"
    "                      default: the CSR's SANs, else the CN if a DNS "
    "name)\n"
    "  --eku EKU           extended key usage instead of the profile's "
    "(repeatable)\n"
    "  --days N            lifetime (default: the profile's; above its "
    "maximum\n"
    "                      is refused; clamped inside the CA's validity)\n"
    "  --force-issue       certify a public key this CA certified before\n"
    "  --renew SERIAL      a new certificate for the key of certificate "
    "SERIAL\n"
    "                      (its current one), which is marked superseded "
    "and\n"
    "                      stays valid until it expires or is revoked\n"
    "  --out FILE          the certificate (PEM)\n"
    "  --chain-out FILE    the CA chain (PEM)\n"
    "  --requests FILE     batch: a serverless CA tls.json\n"
    "  --csr-dir DIR       batch: where csr_file names are found\n"
    "  --out-dir DIR       batch: NAME.crt and NAME.chain.pem per request, "
    "and\n"
    "                      summary.json (NAME: the CSR file's or common name)\n"
    "  --in-flight N       batch: signatures on the token at once (default "
    "8,\n"
    "                      at most the token's sessions less one; 1-64)\n"
    "  --module MODULE     PKCS#11 module: path or p11-kit name (README "
    "\"Tokens\")\n"
    "  --module-args ARGS  its initialisation arguments (or "
    "$HSMCA_MODULE_ARGS)\n"
    "  --pin-source SRC    file:PATH, fd:N or env:NAME (default: prompt)\n"
    "  --allow-final-pin-try  log in although the token reports\n"
    "                      CKF_USER_PIN_FINAL_TRY\n"
    "  --check             validate the request(s) and CSRs (syntax, "
    "signatures,\n"
    "                      keys, lint of the certificate as it would be "
    "built)\n"
    "                      without the token: nothing signed, stored or "
    "written\n"
    "  --force             replace existing output files\n"
    "  --json              print the summary as JSON\n"
    "\n"
    "A re-run of the same request or batch issues nothing new: a request\n"
    "issued before (same key, names, profile, lifetime, EKUs) is reported as\n"
    "already issued and missing files are written again from the CA store.\n"
    "Any other request for a key this CA certified is refused (exit 3):\n"
    "renew its certificate with --renew SERIAL (in tls.json: \"renew\").\n"
    "\n"
    "An invalid tls.json issues nothing and every invalid request is "
    "reported.\n"
    "SIGINT or SIGTERM stops a batch cleanly: what is committed stays, "
    "files\n"
    "are finished, summary.json says where it stopped (exit 1); a re-run "
    "resumes.\n"
    "\n"
    "Exit status: 0 done, 1 error (or stopped by a signal), 2 usage, 3 "
    "refused\n"
    "by policy (in a batch: at least one request refused; the others are "
    "issued).\n";

enum {
	OPT_CA = CA_OPT_FIRST_TOOL,
	OPT_CSR,
	OPT_PROFILE,
	OPT_CN,
	OPT_SAN,
	OPT_EKU,
	OPT_DAYS,
	OPT_FORCE_ISSUE,
	OPT_OUT,
	OPT_CHAIN_OUT,
	OPT_REQUESTS,
	OPT_CSR_DIR,
	OPT_OUT_DIR,
	OPT_RENEW,
	OPT_IN_FLIGHT,
	OPT_CHECK
};

/* The batch's progress bar, on stderr. */
static void draw_progress(const struct ca_leaf_progress *pr, void *ctx)
{
	int width = 40;
	int fill =
	    pr->total ? (int)((pr->done * (size_t)width) / pr->total) : width;

	(void)ctx;
	fprintf(stderr,
		"\r[%.*s%*s] %zu/%zu  issued %ld  already %ld  refused %ld",
		fill, "########################################", width - fill,
		"", pr->done, pr->total, pr->issued, pr->already, pr->refused);
	if (pr->done == pr->total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* SIGINT/SIGTERM during a batch: the first asks the batch to stop at a
 * safe point (what is committed stays, files are finished, summary.json
 * says where it stopped); a second one stops at once. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	if (stop_signal != 0) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_signal = sig;
}

static void catch_stop(void)
{
	struct sigaction sa;
	struct sigaction old;
	static const int sigs[] = {SIGINT, SIGTERM};
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	/* A signal the caller ignores (a background job of a script) stays
	 * ignored. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
}

static void print_file(const char *path)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			break;
	fclose(f);
}

/* An invalid batch file: every error, with its request and key. */
static void report_invalid(json_t *summary)
{
	json_t *e;
	size_t i;
	json_int_t n = json_integer_value(json_object_get(summary, "invalid"));

	json_array_foreach(json_object_get(summary, "errors"), i, e)
	{
		ca_text_put(stdout,
			    json_string_value(json_object_get(e, "message")),
			    1);
		fputc('\n', stdout);
	}
	if (n > (json_int_t)json_array_size(json_object_get(summary, "errors")))
		printf(
		    "... and %lld more invalid requests\n",
		    (long long)(n - (json_int_t)json_array_size(
					json_object_get(summary, "errors"))));
}

/* One certificate: what was issued (committed) or refused. */
static void report_one(json_t *r)
{
	const char *cn = json_string_value(json_object_get(r, "common_name"));
	const char *serial = json_string_value(json_object_get(r, "serial"));
	json_t *v;
	size_t k;

	if (json_object_get(r, "reason") != NULL)
		return;
	printf("%s: ", json_string_value(json_object_get(r, "status")));
	ca_text_put(stdout, cn, 0);
	printf(", serial %s\n", serial ? serial : "");
	printf("  SANs:      ");
	json_array_foreach(json_object_get(r, "sans"), k, v)
	{
		fputs(k ? ", " : "", stdout);
		ca_text_put(stdout, json_string_value(v), 0);
	}
	printf("%s\n",
	       json_array_size(json_object_get(r, "sans")) ? "" : "none");
	v = json_object_get(r, "not_after");
	printf("  not after: %s\n", v ? json_string_value(v) : "?");
	v = json_object_get(r, "renews");
	if (v != NULL)
		printf(
		    "  renews:    %s (now superseded; valid until it expires "
		    "or is revoked)\n",
		    json_string_value(v));
}

static long long num(json_t *summary, const char *key)
{
	return (long long)json_integer_value(json_object_get(summary, key));
}

/* A batch: its refusals (the first ones), its counts from committed
 * state, and how far it got. */
static void report_batch(const struct ca_leaf_params *p, json_t *summary)
{
	const char *file =
	    json_string_value(json_object_get(summary, "summary_file"));
	json_t *list = json_object_get(summary, "refusals"), *r;
	size_t i;

	(void)p;
	json_array_foreach(list, i, r)
	{
		const char *cn =
		    json_string_value(json_object_get(r, "common_name"));
		const char *reason =
		    json_string_value(json_object_get(r, "reason"));

		printf(
		    "%3lld %-14s ",
		    (long long)json_integer_value(json_object_get(r, "index")),
		    json_string_value(json_object_get(r, "status")));
		ca_text_put(stdout, cn, 0);
		fputs(reason ? ": " : "", stdout);
		ca_text_put(stdout, reason, 1);
		fputc('\n', stdout);
	}
	if (num(summary, "refused") > (long long)json_array_size(list))
		printf(
		    "... and %lld more refused (all in %s)\n",
		    num(summary, "refused") - (long long)json_array_size(list),
		    file ? file : "no summary.json: it could not be written");
	printf("issued %lld, already issued %lld, refused %lld",
	       num(summary, "issued"), num(summary, "already_issued"),
	       num(summary, "refused"));
	if (!json_is_true(json_object_get(summary, "complete")))
		printf("; stopped after request %lld of %lld: re-run the same "
		       "command to continue",
		       num(summary, "processed"), num(summary, "requests"));
	if (file != NULL)
		printf(" (details: %s)", file);
	printf("\n");
}

/* --check: the requests that would be refused, and the counts. */
static void report_check(json_t *summary)
{
	json_t *list = json_object_get(summary, "refusals"), *r;
	size_t i;

	json_array_foreach(list, i, r)
	{
		printf(
		    "%3lld refused        ",
		    (long long)json_integer_value(json_object_get(r, "index")));
		ca_text_put(stdout,
			    json_string_value(json_object_get(r, "reason")), 1);
		fputc('\n', stdout);
	}
	if (num(summary, "refused") > (long long)json_array_size(list))
		printf("... and %lld more\n",
		       num(summary, "refused") -
			   (long long)json_array_size(list));
	printf("checked %lld: %lld valid, %lld would be refused (nothing "
	       "signed, nothing written)\n",
	       num(summary, "valid") + num(summary, "refused"),
	       num(summary, "valid"), num(summary, "refused"));
}

static void report(int json, const struct ca_leaf_params *p, json_t *summary)
{
	const char *file =
	    json_string_value(json_object_get(summary, "summary_file"));
	json_t *r;
	size_t i;

	if (summary == NULL)
		return;
	if (json && file != NULL) {
		/* The batch's summary.json holds every result. */
		print_file(file);
		return;
	}
	if (json) {
		ca_print_json(json_incref(summary));
		return;
	}
	if (json_object_get(summary, "invalid") != NULL) {
		report_invalid(summary);
		return;
	}
	if (json_is_true(json_object_get(summary, "check"))) {
		report_check(summary);
		return;
	}
	if (p->requests != NULL) {
		report_batch(p, summary);
		return;
	}
	json_array_foreach(json_object_get(summary, "results"), i, r)
	    report_one(r);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CA_COMMON_OPTIONS,
	    {"ca", required_argument, NULL, OPT_CA},
	    {"csr", required_argument, NULL, OPT_CSR},
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"cn", required_argument, NULL, OPT_CN},
	    {"san", required_argument, NULL, OPT_SAN},
	    {"eku", required_argument, NULL, OPT_EKU},
	    {"days", required_argument, NULL, OPT_DAYS},
	    {"force-issue", no_argument, NULL, OPT_FORCE_ISSUE},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"chain-out", required_argument, NULL, OPT_CHAIN_OUT},
	    {"requests", required_argument, NULL, OPT_REQUESTS},
	    {"csr-dir", required_argument, NULL, OPT_CSR_DIR},
	    {"out-dir", required_argument, NULL, OPT_OUT_DIR},
	    {"renew", required_argument, NULL, OPT_RENEW},
	    {"in-flight", required_argument, NULL, OPT_IN_FLIGHT},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {NULL, 0, NULL, 0},
	};
	struct ca_leaf_params p;
	struct ca_common c;
	struct ca_san sans[64];
	const char *ekus[32];
	json_t *summary = NULL;
	const char *days = NULL;
	char renew[48];
	int opt, idx = 0, rc, code = 0;
	size_t i;
	long v;

	memset(&p, 0, sizeof(p));
	ca_cli_start(&c, "sign-leaf", usage_line, NULL);
	p.sans = sans;
	p.ekus = ekus;
	while ((opt = ca_cli_getopt(argc, argv, opts, &idx, &c, usage)) >= 0) {
		switch (opt) {
		case OPT_CA:
			p.ca_dir = optarg;
			break;
		case OPT_CSR:
			p.csr = optarg;
			break;
		case OPT_PROFILE:
			p.profile = optarg;
			break;
		case OPT_CN:
			p.cn = optarg;
			break;
		case OPT_SAN:
			if (p.n_sans == sizeof(sans) / sizeof(sans[0]))
				CA_USAGE(usage_line, "too many --san");
			if (ca_san_parse(optarg, &sans[p.n_sans]) < 0)
				CA_USAGE(usage_line, "--san: %s", ca_errmsg());
			p.n_sans++;
			break;
		case OPT_EKU:
			if (p.n_ekus == sizeof(ekus) / sizeof(ekus[0]))
				CA_USAGE(usage_line, "too many --eku");
			ekus[p.n_ekus++] = optarg;
			break;
		case OPT_DAYS:
			days = optarg;
			break;
		case OPT_FORCE_ISSUE:
			p.force_issue = 1;
			break;
		case OPT_OUT:
			p.out = optarg;
			break;
		case OPT_CHAIN_OUT:
			p.chain_out = optarg;
			break;
		case OPT_REQUESTS:
			p.requests = optarg;
			break;
		case OPT_CSR_DIR:
			p.csr_dir = optarg;
			break;
		case OPT_OUT_DIR:
			p.out_dir = optarg;
			break;
		case OPT_RENEW:
			if (ca_serial_canonical(optarg, renew, sizeof(renew)) <
			    0)
				CA_USAGE(usage_line, "--renew: %s",
					 ca_errmsg());
			p.renew = renew;
			break;
		case OPT_IN_FLIGHT:
			if (ca_parse_long(optarg, 1, CA_LEAF_IN_FLIGHT_MAX,
					  "--in-flight", &v) < 0)
				CA_USAGE(usage_line, "%s", ca_errmsg());
			p.in_flight = (int)v;
			break;
		case OPT_CHECK:
			p.check = 1;
			break;
		}
	}
	code = ca_cli_end_options(opt, argc, argv, usage_line);
	if (code >= 0)
		goto done;
	code = 0;
	if (p.ca_dir == NULL)
		CA_USAGE(usage_line, "--ca is required");
	if ((p.csr == NULL) == (p.requests == NULL))
		CA_USAGE(usage_line, "give either --csr or --requests");
	if (p.csr != NULL && p.out == NULL && !p.check)
		CA_USAGE(usage_line, "--csr needs --out");
	if (p.requests != NULL &&
	    ((p.out_dir == NULL && !p.check) || p.csr_dir == NULL))
		CA_USAGE(usage_line,
			 "--requests needs --csr-dir and --out-dir");
	if (p.check && (p.out != NULL || p.out_dir != NULL ||
			p.chain_out != NULL || c.force))
		CA_USAGE(usage_line, "--check writes nothing: no --out, "
				     "--out-dir, --chain-out or --force");
	if (p.requests != NULL &&
	    (p.cn || p.n_sans || p.n_ekus || days || p.out || p.chain_out ||
	     p.force_issue || p.renew))
		CA_USAGE(usage_line, "--requests takes its values from the "
				     "JSON file: no --cn, --san, --eku, "
				     "--days, --out, --chain-out, "
				     "--force-issue or --renew (\"renew\" "
				     "in a request)");
	if (p.force_issue && p.renew)
		CA_USAGE(usage_line, "--renew and --force-issue exclude each "
				     "other");
	if (days != NULL) {
		if (ca_parse_long(days, 1, 36500, "--days", &v) < 0) {
			/* A lifetime of zero is a policy refusal like any other
			 * lifetime the profile does not allow. */
			if (strcmp(days, "0") == 0) {
				ca_err(CA_EPOLICY,
				       "lifetime of 0 days: refused");
				code = ca_tool_finish(CA_EPOLICY);
				goto done;
			}
			CA_USAGE(usage_line, "%s", ca_errmsg());
		}
		p.days = v;
	}
	if (ca_cli_token(&c, &p.pin_source, &p.force) < 0)
		CA_USAGE(usage_line, "%s", ca_errmsg());
	if (p.requests != NULL && isatty(STDERR_FILENO) && !c.json)
		p.progress = draw_progress;
	if (p.requests != NULL) {
		p.stop = &stop_signal;
		catch_stop();
	}
	rc = ca_leaf_issue(&p, &summary);
	report(c.json, &p, summary);
	json_decref(summary);
	code = ca_tool_finish(rc);
done:
	for (i = 0; i < p.n_sans; i++)
		free(sans[i].value);
	return code;
}
