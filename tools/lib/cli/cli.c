#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/number.h"
#include "base/process.h"
#include "base/text.h"
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
	case CA_OPT_MODULE_ARGS:
		ca_p11_set_module_args(arg);
		return 1;
	case CA_OPT_PIN_SOURCE:
		/* Its syntax at once, before anything else is done. */
		if (ca_pin_source_check(arg) < 0)
			return -2;
		c->pin_source = arg;
		return 1;
	case CA_OPT_ALLOW_PIN_VALUE:
		ca_p11_allow_pin_value(1);
		return 1;
	case CA_OPT_ALLOW_FINAL_PIN_TRY:
		ca_p11_allow_final_pin_try(1);
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

/* "--name" as typed, for a message: only a plain option name is shown
 * (anything else may be a secret typed in the wrong place). */
static void say_option(char *buf, size_t len, const char *name, size_t n)
{
	size_t i;
	int plain = n > 0 && n <= 40 && name[0] >= 'a' && name[0] <= 'z';

	for (i = 0; plain && i < n; i++)
		plain = (name[i] >= 'a' && name[i] <= 'z') || name[i] == '-' ||
			(name[i] >= '0' && name[i] <= '9' && i > 0);
	if (plain)
		snprintf(buf, len, "'--%.*s'", (int)n, name);
	else
		snprintf(buf, len, "(not shown)");
}

static int cli_refuse(const char *fmt, ...) CA_PRINTF(1, 2);

static int cli_refuse(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hsmca-%s: ", tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'hsmca-%s --help'.\n", tool);
	return CA_OPT_USAGE;
}

/* What to do instead, for a tool with --pin-source and for one whose
 * input names its PIN source (hsmca-ceremony's environment file). */
static const char *pin_refusal(const struct option *opts)
{
	const struct option *o;

	for (o = opts; o->name != NULL; o++)
		if (strcmp(o->name, "pin-source") == 0)
			return "a PIN is never given on the command line; use "
			       "--pin-source file:PATH, fd:N or env:NAME (or "
			       "no "
			       "option: the tool asks on the terminal)";
	return "a PIN is never given on the command line; this tool asks for "
	       "it on the terminal, or reads the PIN source its input names";
}

/* One "--name[=value]" argument: 0, 1 when it takes the next argument as
 * its value, or CA_OPT_USAGE after saying what is wrong. */
static int check_long(const char *arg, int has_next, const struct option *opts)
{
	const char *name = arg + 2, *guess = NULL;
	size_t n = strcspn(name, "=");
	const struct option *o;
	char shown[64];

	for (o = opts; o->name != NULL; o++) {
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			break;
		if (n > 0 && strncmp(o->name, name, n) == 0 && guess == NULL)
			guess = o->name;
	}
	if (o->name != NULL) {
		if (o->has_arg == no_argument && name[n] == '=')
			return cli_refuse("option --%s takes no value",
					  o->name);
		if (o->has_arg != required_argument || name[n] == '=')
			return 0;
		if (!has_next)
			return cli_refuse("option --%s needs a value", o->name);
		return 1;
	}
	if ((n == 3 && strncmp(name, "pin", 3) == 0) ||
	    (n == 9 && strncmp(name, "pin-value", 9) == 0))
		return cli_refuse("--%.*s: %s", (int)n, name,
				  pin_refusal(opts));
	say_option(shown, sizeof(shown), name, n);
	if (guess != NULL)
		return cli_refuse(
		    "unknown option %s: options are never abbreviated "
		    "(did you mean --%s?)",
		    shown, guess);
	return cli_refuse("unknown option %s", shown);
}

/* The whole command line, before getopt_long sees it. */
static int check_argv(int argc, char **argv, const struct option *opts)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue; /* an operand ("-" included) */
		if (a[1] != '-') {
			if (strncmp(a, "-pin", 4) == 0 ||
			    strncmp(a, "-p", 2) == 0)
				return cli_refuse(
				    "%s: %s",
				    strncmp(a, "-pin", 4) == 0 ? "-pin" : "-p",
				    pin_refusal(opts));
			return cli_refuse(
			    "unknown option '-%c' (options are long: "
			    "--name)",
			    a[1] >= 'a' && a[1] <= 'z' ? a[1] : '?');
		}
		r = check_long(a, i + 1 < argc, opts);
		if (r < 0)
			return r;
		i += r;
	}
	return 0;
}

int ca_cli_getopt(int argc, char **argv, const struct option *opts, int *idx,
		  struct ca_common *c, const char *usage)
{
	static char **checked;
	int opt, h, own_idx = 0;

	if (checked != argv) {
		checked = argv;
		if (check_argv(argc, argv, opts) < 0) {
			ca_p11_shutdown();
			return CA_OPT_USAGE;
		}
		/* Anything getopt_long would still object to is reported by
		 * the tool, without the argument's text. */
		opterr = 0;
	}
	if (idx == NULL)
		idx = &own_idx;
	while ((opt = getopt_long(argc, argv, "", opts, idx)) != -1) {
		h = ca_common_option(opt, optarg, c, usage);
		if (h == -2)
			return cli_refuse("%s", ca_errmsg());
		if (h < 0)
			return CA_OPT_EXIT;
		if (h > 0)
			continue;
		if (c->usage_line == NULL)
			return opt;
		if (opt == '?') {
			ca_usage_error(c->usage_line, "unknown option");
			return CA_OPT_USAGE;
		}
		if (opt != CA_OPT_TWOPHASE || c->tp == NULL)
			return opt;
		if (ca_tp_option(c->tp, opts[*idx].name, optarg) <= 0) {
			ca_usage_error(c->usage_line, "--%s: %s",
				       opts[*idx].name, ca_errmsg());
			return CA_OPT_USAGE;
		}
	}
	return CA_OPT_END;
}

void ca_cli_start(struct ca_common *c, const char *name, const char *usage_line,
		  struct ca_twophase *tp)
{
	memset(c, 0, sizeof(*c));
	c->usage_line = usage_line;
	c->tp = tp;
	ca_tool_start(name);
}

int ca_cli_status(int opt)
{
	if (opt == CA_OPT_EXIT)
		return 0;
	if (opt == CA_OPT_USAGE)
		return 2;
	return -1;
}

int ca_cli_end_options(int opt, int argc, char **argv, const char *usage_line)
{
	if (ca_cli_status(opt) >= 0)
		return ca_cli_status(opt);
	(void)argv;
	/* Not echoed: a PIN typed in the wrong place would be. */
	if (optind != argc)
		return ca_usage_error(usage_line,
				      "unexpected argument at position "
				      "%d (not shown): this command "
				      "takes options only",
				      optind);
	return -1;
}

int ca_cli_pathlen(const char *arg, int *pathlen)
{
	long v;

	*pathlen = -1;
	if (arg == NULL)
		return CA_OK;
	if (ca_parse_long(arg, 0, 32, "--pathlen", &v) < 0)
		return CA_EUSAGE;
	*pathlen = (int)v;
	return CA_OK;
}

int ca_cli_token(const struct ca_common *c, const char **pin_source, int *force)
{
	if (ca_pin_source_check(c->pin_source) < 0)
		return CA_EUSAGE;
	*pin_source = c->pin_source;
	*force = c->force;
	return CA_OK;
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
	fprintf(stderr, "\nusage: %s\nTry 'hsmca-%s --help'.\n", usage_line,
		tool);
	ca_p11_shutdown();
	return 2;
}

int ca_tool_finish(int rc)
{
	int code = ca_exit_code(rc);

	if (rc < 0) {
		const char *msg = ca_errmsg();

		fprintf(stderr, "hsmca-%s: %s", tool,
			code == 3 ? "refused: " : "");
		ca_text_put(stderr, msg[0] ? msg : "failed", 1);
		fputc('\n', stderr);
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
