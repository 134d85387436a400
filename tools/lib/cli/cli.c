#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/process.h"
#include "common/pin.h"
#include "providers/hsmca/token/token.h"
#include "quorum/twophase.h"
#include "store/audit.h"

#ifndef HSMCA_VERSION
#define HSMCA_VERSION "0"
#endif

static const char *tool = "hsmca";

void ca_tool_start(const char *name)
{
	tool = name;
	ca_harden_process();
	/* The tools set up their own providers: the system openssl.cnf has
	 * no say in what a CA signs (and costs a file parse per run). */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	ca_audit_set_tool(name);
}

int ca_common_option(int opt, const char *arg, struct ca_common *c,
		     const char *usage)
{
	switch (opt) {
	case CA_OPT_HELP:
		fputs(usage, stdout);
		return -1;
	case CA_OPT_VERSION:
		printf("hsmca-%s %s\n", tool, HSMCA_VERSION);
		return -1;
	case CA_OPT_MODULE:
		c->module = arg;
		ca_p11_set_module(arg);
		return 1;
	case CA_OPT_PIN_SOURCE:
		c->pin_source = arg;
		return 1;
	case CA_OPT_ALLOW_PIN_VALUE:
		ca_p11_allow_pin_value(1);
		return 1;
	case CA_OPT_JSON:
		c->json = 1;
		return 1;
	case CA_OPT_FORCE:
		c->force = 1;
		return 1;
	default:
		return 0;
	}
}

int ca_cli_getopt(int argc, char **argv, const struct option *opts, int *idx,
		  struct ca_common *c, const char *usage)
{
	int opt, h;

	while ((opt = getopt_long(argc, argv, "", opts, idx)) != -1) {
		h = ca_common_option(opt, optarg, c, usage);
		if (h < 0)
			return CA_OPT_EXIT;
		if (h == 0)
			return opt;
	}
	return CA_OPT_END;
}

int ca_cli_end_options(int opt, int argc, char **argv, const char *usage_line)
{
	if (opt == CA_OPT_EXIT)
		return 0;
	if (optind != argc)
		return ca_usage_error(usage_line, "unexpected argument '%s'",
				      argv[optind]);
	return -1;
}

int ca_cli_tp_option(struct ca_twophase *tp, const char *name, const char *arg,
		     const char *usage_line)
{
	if (ca_tp_option(tp, name, arg) <= 0)
		return ca_usage_error(usage_line, "--%s: %s", name,
				      ca_errmsg());
	return -1;
}

int ca_cli_append(json_t **arr, const char *arg)
{
	json_t *v = json_string(arg);

	/* Never drop a value silently: an --exclude-dns lost here would
	 * widen what the CA signs. */
	if (v == NULL)
		return ca_err(CA_EUSAGE, "'%s' is not valid UTF-8", arg);
	if (*arr == NULL)
		*arr = json_array();
	if (*arr == NULL || json_array_append_new(*arr, v) != 0)
		return ca_err(CA_EIO, "out of memory");
	return CA_OK;
}

int ca_usage_error(const char *usage_line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hsmca-%s: ", tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\nTry 'hsmca-%s --help'.\n", usage_line, tool);
	ca_p11_shutdown();
	return 2;
}

int ca_tool_finish(int rc)
{
	int code = ca_exit_code(rc);

	if (rc < 0) {
		const char *msg = ca_errmsg();

		fprintf(stderr, "hsmca-%s: %s%s\n", tool,
			code == 3 ? "refused: " : "",
			msg[0] ? msg : "failed");
	}
	ca_p11_shutdown();
	return code;
}

void ca_print_json(json_t *obj)
{
	if (obj == NULL)
		return;
	json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(obj);
}
