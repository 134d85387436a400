/* What every tool does at start and exit, and shared option handling. */
#ifndef HSMCA_CLI_CLI_H
#define HSMCA_CLI_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"

struct ca_twophase;

/* Options every tool accepts (values start at 1000). */
enum {
	CA_OPT_HELP = 1000,
	CA_OPT_MODULE,
	CA_OPT_PIN_SOURCE,
	CA_OPT_JSON,
	CA_OPT_FORCE,
	CA_OPT_VERSION,
	CA_OPT_ALLOW_PIN_VALUE,
	CA_OPT_MODULE_ARGS,
	CA_OPT_ALLOW_FINAL_PIN_TRY,
	CA_OPT_TWOPHASE,  /* a CA_TWOPHASE_OPTIONS option */
	CA_OPT_FIRST_TOOL /* first value free for a tool's own options */
};

#define CA_COMMON_OPTIONS                                                      \
	{"help", no_argument, NULL, CA_OPT_HELP},                              \
	    {"version", no_argument, NULL, CA_OPT_VERSION},                    \
	    {"module", required_argument, NULL, CA_OPT_MODULE},                \
	    {"module-args", required_argument, NULL, CA_OPT_MODULE_ARGS},      \
	    {"pin-source", required_argument, NULL, CA_OPT_PIN_SOURCE},        \
	    {"allow-pin-value", no_argument, NULL, CA_OPT_ALLOW_PIN_VALUE},    \
	    {"allow-final-pin-try", no_argument, NULL,                         \
	     CA_OPT_ALLOW_FINAL_PIN_TRY},                                      \
	    {"json", no_argument, NULL, CA_OPT_JSON},                          \
	{                                                                      \
		"force", no_argument, NULL, CA_OPT_FORCE                       \
	}

/* The options of a quorum-protected action, taken by ca_cli_getopt into
 * the struct ca_twophase named in ca_cli_start (ca_tp_option). */
#define CA_TWOPHASE_OPTIONS                                                    \
	{"quorum", required_argument, NULL, CA_OPT_TWOPHASE},                  \
	    {"prepare", required_argument, NULL, CA_OPT_TWOPHASE},             \
	    {"request", required_argument, NULL, CA_OPT_TWOPHASE},             \
	    {"approval", required_argument, NULL, CA_OPT_TWOPHASE},            \
	{                                                                      \
		"approval-ttl", required_argument, NULL, CA_OPT_TWOPHASE       \
	}

/* What ca_cli_getopt returns when there is no option for the tool. */
enum {
	CA_OPT_END = -1,  /* no more options */
	CA_OPT_EXIT = -2, /* --help or --version printed: the tool exits 0 */
	CA_OPT_USAGE = -3 /* a malformed command line reported: it exits 2 */
};

/* CA_USAGE(usage_line, fmt, ...): in a main() that holds something to free,
 * report a usage error, set code (the exit code) to 2 and go to done. */
#define CA_USAGE(...)                                                          \
	do {                                                                   \
		code = ca_usage_error(__VA_ARGS__);                            \
		goto done;                                                     \
	} while (0)

struct ca_common {
	const char *module;
	const char *pin_source;
	int json;
	int force;
	/* Set by ca_cli_start: the one-line usage for usage errors, and where
	 * the CA_TWOPHASE_OPTIONS go (NULL: the tool has none). */
	const char *usage_line;
	struct ca_twophase *tp;
};

/* Harden the process, name the tool for the audit log. */
void ca_tool_start(const char *name);
/* ca_tool_start(name), and c cleared and set for ca_cli_getopt: an unknown
 * option is reported with usage_line, two-phase options go to tp. */
void ca_cli_start(struct ca_common *c, const char *name, const char *usage_line,
		  struct ca_twophase *tp);
/* Handle a common option; returns 1 when handled, 0 when not, -1 after
 * printing help/version (the tool then exits 0), or -2 for a malformed
 * value (the message in ca_errmsg(); the tool exits 2). usage is the
 * --help text. */
int ca_common_option(int opt, const char *arg, struct ca_common *c,
		     const char *usage);
/* getopt_long over opts, the common options handled with
 * ca_common_option: the next option for the tool (its value, or '?' for
 * an unknown one when c->usage_line is NULL), CA_OPT_END, CA_OPT_EXIT or
 * CA_OPT_USAGE. With c->usage_line set, an unknown option and (c->tp set)
 * a malformed two-phase option are reported here (CA_OPT_USAGE). idx as for
 * getopt_long. Before the first option the whole command line is checked
 * (CA_OPT_USAGE after saying why): an option is spelled out in full (no
 * abbreviations, which getopt_long would take), --pin is refused by name,
 * an option needing a value has one, and what is printed about an unknown
 * option never includes its value (it may be a PIN). */
int ca_cli_getopt(int argc, char **argv, const struct option *opts, int *idx,
		  struct ca_common *c, const char *usage);
/* After ca_cli_getopt's loop, for a tool that takes no operands: the
 * exit code, 0 after --help or --version and 2 after a malformed command
 * line or an operand, or -1 to go on. */
int ca_cli_end_options(int opt, int argc, char **argv, const char *usage_line);
/* After ca_cli_getopt's loop, for a tool that takes operands: 0 after
 * --help or --version, 2 after a malformed command line, else -1. */
int ca_cli_status(int opt);
/* --pathlen: *pathlen the value of arg (0 to 32), -1 when arg is NULL. */
int ca_cli_pathlen(const char *arg, int *pathlen) CA_WUR;
/* For a tool that logs in: c's --pin-source checked, then it and --force
 * copied to *pin_source and *force. */
int ca_cli_token(const struct ca_common *c, const char **pin_source,
		 int *force) CA_WUR;
/* A repeatable option: append arg to the JSON array *arr, made on first
 * use. A value that is not UTF-8 is a usage error, never dropped. */
int ca_cli_append(json_t **arr, const char *arg) CA_WUR;
/* Unknown option or bad argument: print and return exit code 2. */
int ca_usage_error(const char *usage_line, const char *fmt, ...)
    CA_PRINTF(2, 3);
/* Finish: print the error for rc (one line, "hsmca-<tool>: ..."), shut the
 * PKCS#11 modules down, return the exit code. */
int ca_tool_finish(int rc);
/* Print a JSON object on stdout (and free it). */
void ca_print_json(json_t *obj);

#endif
