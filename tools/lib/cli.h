/* What every tool does at start and exit, and shared option handling. */
#ifndef HSMCA_CLI_H
#define HSMCA_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "err.h"

/* Options every tool accepts (values start at 1000). */
enum {
	CA_OPT_HELP = 1000,
	CA_OPT_MODULE,
	CA_OPT_PIN_SOURCE,
	CA_OPT_JSON,
	CA_OPT_FORCE,
	CA_OPT_VERSION,
	CA_OPT_ALLOW_PIN_VALUE,
	CA_OPT_FIRST_TOOL /* first value free for a tool's own options */
};

#define CA_COMMON_OPTIONS                                                      \
	{"help", no_argument, NULL, CA_OPT_HELP},                              \
	{"version", no_argument, NULL, CA_OPT_VERSION},                        \
	{"module", required_argument, NULL, CA_OPT_MODULE},                    \
	{"pin-source", required_argument, NULL, CA_OPT_PIN_SOURCE},            \
	{"allow-pin-value", no_argument, NULL, CA_OPT_ALLOW_PIN_VALUE},        \
	{"json", no_argument, NULL, CA_OPT_JSON},                              \
	{"force", no_argument, NULL, CA_OPT_FORCE}

struct ca_common {
	const char *module;
	const char *pin_source;
	int json;
	int force;
};

/* Harden the process, name the tool for the audit log. */
void ca_tool_start(const char *name);
/* Handle a common option; returns 1 when handled, 0 when not, or -1 after
 * printing help/version (the tool then exits 0). usage is the --help text. */
int ca_common_option(int opt, const char *arg, struct ca_common *c,
		     const char *usage);
/* Unknown option or bad argument: print and return exit code 2. */
int ca_usage_error(const char *usage_line, const char *fmt, ...) CA_PRINTF(2, 3);
/* Finish: print the error for rc (one line, "hsmca-<tool>: ..."), shut the
 * PKCS#11 modules down, return the exit code. */
int ca_tool_finish(int rc);
/* Print a JSON object on stdout (and free it). */
void ca_print_json(json_t *obj);

#endif
